"""What every publishable table shares: outcome names, the hide-with rules and select()."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rehab_analytics.disclosure import FLAG_SUFFIX, SECONDARY_SUFFIX

__all__ = [
    "OUTCOME",
    "SUMMARY_OUTCOMES",
    "UNIT",
    "select",
]


OUTCOME = "work_or_study_after"
SUMMARY_OUTCOMES = (
    "work_or_study_after",
    "employed_after",
    "studying_after",
    "started_or_increased",
    "dropped_out",
)
# Every table is measured per subproject, then selected, so a subproject report
# hides the same cells as the comparison.
UNIT = "subproject"


def _flags(table: pd.DataFrame, column: str) -> np.ndarray:
    if column not in table.columns:
        return np.zeros(len(table), dtype=bool)
    return table[column].fillna(False).to_numpy(dtype=bool)


def _numbers(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _hide_with(
    table: pd.DataFrame,
    columns: Sequence[str],
    basis: Sequence[str],
    threshold: int,
    minimum: str | None = None,
) -> pd.DataFrame:
    """Hide derived ``columns`` wherever a ``basis`` count is hidden.

    With ``minimum``, also where that count is below the threshold (a median or
    ratio over fewer than ``threshold`` people says too much about each).
    """
    out = table.copy()
    mask = np.zeros(len(out), dtype=bool)
    for col in basis:
        mask |= _flags(out, f"{col}{FLAG_SUFFIX}")
    if minimum is not None:
        mask |= ~(_numbers(out[minimum]) >= threshold)
    for col in columns:
        if col not in out.columns:
            continue
        values = pd.array(_numbers(out[col]), dtype="Float64")
        out[col] = pd.Series(values, index=out.index).mask(mask)
        out[f"{col}{FLAG_SUFFIX}"] = _flags(out, f"{col}{FLAG_SUFFIX}") | mask
    return out


def _hide_together(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Hide all ``columns`` of a row when one is hidden (they determine each other).

    Cells hidden here protect another cell, so they are marked secondary ("..").
    """
    out = table.copy()
    present = [c for c in columns if c in out.columns]
    row = np.zeros(len(out), dtype=bool)
    for col in present:
        row |= _flags(out, f"{col}{FLAG_SUFFIX}")
    for col in present:
        before = _flags(out, f"{col}{FLAG_SUFFIX}")
        new = row & ~before
        if not new.any():
            continue
        out[col] = pd.Series(out[col], index=out.index).mask(row)
        out[f"{col}{FLAG_SUFFIX}"] = before | row
        out[f"{col}{SECONDARY_SUFFIX}"] = _flags(out, f"{col}{SECONDARY_SUFFIX}") | new
    return out


def _valid(people: pd.DataFrame) -> pd.DataFrame:
    reason = people["exit_reason"].astype("string")
    return people[(reason != "misregistration").fillna(True).to_numpy()]


def select(table: pd.DataFrame, unit: str | None, column: str = UNIT) -> pd.DataFrame:
    """Rows of one unit of a suppressed table (all rows when ``unit`` is None).

    Selecting rows keeps the suppression mark, and a unit's rows hide the same
    cells as in the comparison of all units.

    Example:
        >>> from rehab_analytics import disclosure
        >>> t = disclosure.suppress(pd.DataFrame({"subproject": ["a", "b"],
        ...     "n": [10, 20]}))
        >>> select(t, "b")["n"].tolist(), disclosure.is_publishable(select(t, "b"))
        ([20], True)
    """
    if unit is None or column not in table.columns:
        return table
    out = table[(table[column].astype("string") == unit).fillna(False).to_numpy()]
    out.attrs = table.attrs
    return out
