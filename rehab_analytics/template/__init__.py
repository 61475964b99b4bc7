"""The Excel reporting template and the built-in profile that cleans a filled-in one."""

from __future__ import annotations

from rehab_analytics.template.write import (
    TEMPLATE_VERSION,
    MARKER_SHEET,
    MARKER_TITLE,
    TemplateMarker,
    write_template,
    read_marker,
    template_description,
    find_template_descriptions,
)

__all__ = [
    "TEMPLATE_VERSION",
    "MARKER_SHEET",
    "MARKER_TITLE",
    "TemplateMarker",
    "write_template",
    "read_marker",
    "template_description",
    "find_template_descriptions",
]
