"""Intake of new deliveries: inspect an unfamiliar file and draft its description."""

from __future__ import annotations

from rehab_analytics.intake.inspect import (
    ColumnProposal,
    InspectReport,
    inspect_file,
    write_template,
)

__all__ = [
    "ColumnProposal",
    "InspectReport",
    "inspect_file",
    "write_template",
]
