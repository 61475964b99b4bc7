"""Cleaning: raw sheets and a description into contract tables, rejects and feedback."""

from __future__ import annotations

from rehab_analytics.clean.run import (
    CleanResult,
    AccountingError,
    find_files,
    run_clean,
    write_atomic,
)
from rehab_analytics.clean.table import (
    CleanTable,
    EXCEL_ERRORS,
    MIN_DATE,
    AGE_RANGE,
    stack_sheets,
    as_text,
    parse_numbers,
    parse_dates,
    map_vocabulary,
    income_flags,
    income_groups,
    episode_ids,
    clean_participants,
    clean_subprojects,
    clean_anonymous_counts,
    clean_table,
)

__all__ = [
    "CleanResult",
    "AccountingError",
    "find_files",
    "run_clean",
    "write_atomic",
    "CleanTable",
    "EXCEL_ERRORS",
    "MIN_DATE",
    "AGE_RANGE",
    "stack_sheets",
    "as_text",
    "parse_numbers",
    "parse_dates",
    "map_vocabulary",
    "income_flags",
    "income_groups",
    "episode_ids",
    "clean_participants",
    "clean_subprojects",
    "clean_anonymous_counts",
    "clean_table",
]
