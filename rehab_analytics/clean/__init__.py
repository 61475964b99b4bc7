"""Cleaning: raw sheets and a description into contract tables, rejects and feedback.

Cheap to import: the pandera schemas (:mod:`~rehab_analytics.clean.validate`) are
imported only when a clean validates its tables.
"""

from __future__ import annotations

from rehab_analytics.clean.column import EXCEL_ERRORS, as_text
from rehab_analytics.clean.decide import CleanTable
from rehab_analytics.clean.feedback import (
    FEEDBACK_DIR,
    feedback_rows,
    write_feedback,
    write_feedback_tables,
)
from rehab_analytics.clean.organisations import (
    clean_anonymous_counts,
    clean_subprojects,
)
from rehab_analytics.clean.participants import AGE_RANGE, clean_participants
from rehab_analytics.clean.result import CleanResult
from rehab_analytics.clean.run import AccountingError, find_files, run_clean
from rehab_analytics.clean.table import clean_table, stack_sheets
from rehab_analytics.clean.values import (
    MIN_DATE,
    episode_ids,
    income_flags,
    income_groups,
    map_vocabulary,
    parse_dates,
    parse_numbers,
)
from rehab_analytics.clean.write import FORMULA_START, neutralise, write_atomic

__all__ = [
    "CleanResult",
    "AccountingError",
    "find_files",
    "run_clean",
    "write_atomic",
    "FORMULA_START",
    "neutralise",
    "FEEDBACK_DIR",
    "feedback_rows",
    "write_feedback",
    "write_feedback_tables",
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
