"""Ingest: one delivered file (xlsx, xls, ods, csv) and sheet into raw cell values."""

from __future__ import annotations

from rehab_analytics.ingest.formats import (
    WORKBOOK_SUFFIXES,
    select_sheets,
    sniff_format,
)
from rehab_analytics.ingest.grid import band_labels, cell_text, read_grid
from rehab_analytics.ingest.sheet import RawSheet, read_sheet, read_table_file

__all__ = [
    "RawSheet",
    "WORKBOOK_SUFFIXES",
    "sniff_format",
    "select_sheets",
    "read_grid",
    "read_sheet",
    "read_table_file",
    "cell_text",
    "band_labels",
]
