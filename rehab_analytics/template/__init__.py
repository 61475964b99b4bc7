"""The Excel reporting template and the built-in profile that cleans a filled-in one."""

from __future__ import annotations

from rehab_analytics.template.columns import (
    ANONYMOUS_COLUMNS,
    PARTICIPANT_COLUMNS,
    SUBPROJECT_COLUMNS,
    TEXT,
)
from rehab_analytics.template.profile import profile_vocabularies
from rehab_analytics.template.write import (
    MARKER_SHEET,
    MARKER_TITLE,
    TEMPLATE_VERSION,
    TemplateMarker,
    find_template_descriptions,
    read_marker,
    template_description,
    write_template,
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
    "TEXT",
    "PARTICIPANT_COLUMNS",
    "SUBPROJECT_COLUMNS",
    "ANONYMOUS_COLUMNS",
    "profile_vocabularies",
]
