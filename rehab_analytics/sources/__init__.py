"""Source descriptions: the description model, parsing, finding them, the registry."""

from __future__ import annotations

from rehab_analytics.sources.model import (
    TABLE_KINDS,
    FIELDS,
    Organisation,
    Band,
    SkipRule,
    Scale,
    TableSpec,
    SourceDescription,
    Registry,
    normalise_label,
    normalise_labels,
    source_dirs,
    find_descriptions,
    parse_description,
    load_sources,
    build_registry,
    load_vocabularies,
    source_vocabularies,
)

__all__ = [
    "TABLE_KINDS",
    "FIELDS",
    "Organisation",
    "Band",
    "SkipRule",
    "Scale",
    "TableSpec",
    "SourceDescription",
    "Registry",
    "normalise_label",
    "normalise_labels",
    "source_dirs",
    "find_descriptions",
    "parse_description",
    "load_sources",
    "build_registry",
    "load_vocabularies",
    "source_vocabularies",
]
