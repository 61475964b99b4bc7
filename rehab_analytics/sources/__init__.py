"""Source descriptions: the description model, parsing, finding them, the registry."""

from __future__ import annotations

from rehab_analytics.sources.find import (
    build_registry,
    find_descriptions,
    load_sources,
    load_vocabularies,
    source_dirs,
    source_vocabularies,
)
from rehab_analytics.sources.parse import glob_problem, parse_description, quote
from rehab_analytics.sources.spec import (
    FIELDS,
    TABLE_KINDS,
    Band,
    Organisation,
    Registry,
    Scale,
    SkipRule,
    SourceDescription,
    TableSpec,
    normalise_label,
    normalise_labels,
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
    "glob_problem",
    "quote",
    "load_sources",
    "build_registry",
    "load_vocabularies",
    "source_vocabularies",
]
