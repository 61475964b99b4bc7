"""One raw column, factorised: its cell text, empty cells and Excel errors.

A raw column is factorised once; dates, numbers and labels are then interpreted
per distinct cell value and mapped back with numpy indexing, so the cost of
cleaning grows with the number of distinct values, not rows. Rules and reason
codes: docs/source-descriptions.md; columns: docs/data-contract.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["EXCEL_ERRORS", "as_text"]

EXCEL_ERRORS = frozenset(
    {
        "#N/A",
        "#N/A!",
        "#REF!",
        "#VALUE!",
        "#DIV/0!",
        "#NAME?",
        "#NULL!",
        "#NUM!",
        "#SPILL!",
        "#CALC!",
        "#GETTING_DATA",
    }
)


def _value_text(value: object) -> str:
    """A delivered value as the text the cleaning rules parse.

    Unlike :func:`rehab_analytics.ingest.cell_text` (headers and labels as
    shown), this drops Excel's leading apostrophe (a forced-text marker), writes
    booleans as ``1``/``0`` (check boxes) and datetimes with a space, without a
    midnight time, so that numbers, dates and check marks parse one way whatever
    the file format.
    """
    if isinstance(value, str):
        return value.strip().lstrip("'’").strip()
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, float | np.floating):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ").removesuffix(" 00:00:00")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


class _Column:
    """A raw column factorised once; derived values are computed per distinct cell.

    ``codes`` index ``uniques``/``texts``; -1 marks an empty cell (None, "" or
    whitespace). Excel error values (#N/A …) count as empty and are flagged.
    """

    def __init__(self, values: pd.Series | np.ndarray | None, n: int | None = None):
        if values is None:
            self.codes = np.full(int(n or 0), -1, dtype=np.intp)
            self.uniques = np.array([], dtype=object)
        else:
            array = np.asarray(values, dtype=object)
            self.codes, self.uniques = pd.factorize(array, use_na_sentinel=True)
            self.uniques = np.asarray(self.uniques, dtype=object)
        self.texts = np.array(
            [_value_text(u) for u in self.uniques] + [""], dtype=object
        )
        blank = self.texts[:-1] == ""
        if blank.any():
            self.codes = np.where(blank[self.codes] & (self.codes >= 0), -1, self.codes)
        self._excel_u = np.array(
            [t.upper() in EXCEL_ERRORS for t in self.texts[:-1]] + [False], dtype=bool
        )

    def __len__(self) -> int:
        return len(self.codes)

    def take(
        self, per_unique: Sequence | np.ndarray, fill: object, dtype=object
    ) -> np.ndarray:
        """Spread one value per distinct cell back to rows; empty cells get ``fill``."""
        ext = np.empty(len(self.uniques) + 1, dtype=dtype)
        ext[:-1] = per_unique
        ext[-1] = fill
        return ext[self.codes]

    @property
    def excel_error(self) -> np.ndarray:
        return self._excel_u[self.codes]

    @property
    def empty(self) -> np.ndarray:
        return (self.codes < 0) | self.excel_error

    def text(self) -> pd.Series:
        """Return the trimmed text per row (NA where empty or an Excel error)."""
        texts = self.texts.copy()
        texts[-1] = None
        texts[:-1][self._excel_u[:-1]] = None
        return pd.Series(texts[self.codes], dtype="string")

    def value_at(self, pos: np.ndarray) -> np.ndarray:
        return self.texts[self.codes[pos]]


def as_text(values: pd.Series) -> pd.Series:
    """Return raw cells as trimmed text (leading apostrophe removed); empty → NA.

    Example:
        >>> as_text(pd.Series(["  K ", 3.0, None, "'0701", "", 2.5], dtype=object)).tolist()
        ['K', '3', <NA>, '0701', <NA>, '2.5']
    """
    col = _Column(values)
    texts = col.texts.copy()
    texts[-1] = None
    return pd.Series(texts[col.codes], index=values.index, dtype="string")
