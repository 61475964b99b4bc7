"""Ingest: one delivered file (xlsx, xls, ods, csv) and sheet into raw cell values."""

from __future__ import annotations

from rehab_analytics.ingest.read import (
    RawSheet,
    WORKBOOK_SUFFIXES,
    sniff_format,
    select_sheets,
    read_grid,
    read_sheet,
    read_table_file,
)

__all__ = [
    "RawSheet",
    "WORKBOOK_SUFFIXES",
    "sniff_format",
    "select_sheets",
    "read_grid",
    "read_sheet",
    "read_table_file",
]
