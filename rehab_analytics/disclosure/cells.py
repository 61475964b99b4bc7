"""Cells: every published count named by what it counts, and the run's rule.

A published count is a *cell*: ``family|dim=value|…``, e.g.
``outcome.events|outcome=work_or_study_after|scope=2015-10-01..2019-06-30|subproject=dino``.
The same number in two tables (a subproject report and the comparison) is the
same cell, so it is hidden in both or in neither; relations between cells
(sums, unions, complements) are stated over these keys.

A :class:`Rule` is the suppression threshold of a run together with the cells
the run's protection model hides: table builders take it wherever they take a
threshold, so every table of a run hides the same cells.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "Recording",
    "Rule",
    "recording",
    "cell_frame",
    "make_key",
    "parse_key",
]


# Flag columns travel with the table to every writer: ``<col>__suppressed`` is True
# where ``col`` is hidden.
FLAG_SUFFIX = "__suppressed"
# ``<col>__secondary__suppressed`` marks cells hidden only to protect another cell:
# kept for the protection model, never shown (every hidden cell is ".."). It ends with
# FLAG_SUFFIX, so every writer that drops flag columns drops it too.
SECONDARY_SUFFIX = "__secondary" + FLAG_SUFFIX


class Rule(int):
    """The threshold of a run plus the cells its protection model hides.

    Behaves as the integer threshold everywhere (comparisons, formatting), so a
    table builder passes it on to :func:`~rehab_analytics.disclosure.suppress`
    unchanged; ``suppress`` hides every cell whose key is in ``hidden``.

    Attributes:
        hidden: Keys of cells hidden by the run's joint protection.
        scope: The population the cells belong to (e.g. the report period),
            added to every key so cells of different periods never meet.

    Example:
        >>> rule = Rule(5, hidden={"outcome.n|subproject=dino"}, scope="all")
        >>> rule < 6, int(rule), rule.hides("outcome.n|subproject=dino")
        (True, 5, True)
    """

    hidden: frozenset[str]
    scope: str

    def __new__(
        cls, threshold: int, hidden: Iterable[str] = (), scope: str = ""
    ) -> Rule:
        rule = super().__new__(cls, int(threshold))
        rule.hidden = frozenset(hidden)
        rule.scope = str(scope)
        return rule

    def __reduce__(self):  # pickles (to worker processes) keep the plan
        return (Rule, (int(self), tuple(sorted(self.hidden)), self.scope))

    def hides(self, key: str) -> bool:
        """Whether the run's protection hides the cell ``key``."""
        return key in self.hidden

    def with_hidden(self, hidden: Iterable[str]) -> Rule:
        """The same rule hiding ``hidden`` as well."""
        return Rule(int(self), self.hidden | frozenset(hidden), self.scope)


def _text(value: object) -> str:
    if (
        value is None
        or value is pd.NA
        or (isinstance(value, float) and np.isnan(value))
    ):
        return "NA"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("|", "/").replace("=", "-")


def make_key(family: str, dims: Mapping[str, object]) -> str:
    """The key of one cell: family and its dimensions in a fixed order.

    Example:
        >>> make_key("outcome.n", {"subproject": "dino", "outcome": "employed_after"})
        'outcome.n|outcome=employed_after|subproject=dino'
    """
    parts = [family, *(f"{d}={_text(v)}" for d, v in sorted(dims.items()))]
    return "|".join(parts)


def parse_key(key: str) -> tuple[str, dict[str, str]]:
    """Family and dimensions of a cell key (the inverse of :func:`make_key`).

    Example:
        >>> parse_key("outcome.n|outcome=employed_after|subproject=dino")
        ('outcome.n', {'outcome': 'employed_after', 'subproject': 'dino'})
    """
    family, *parts = key.split("|")
    return family, dict(p.split("=", 1) for p in parts)


def _spec(table: pd.DataFrame) -> dict | None:
    mark = table.attrs.get("disclosure")
    if not isinstance(mark, dict) or not mark.get("cells"):
        return None
    return mark


def row_keys(
    table: pd.DataFrame, column: str, mark: Mapping | None = None
) -> list[str]:
    """The cell key of every row of ``column`` in a table that declared its cells.

    A cell family is a name, or (name, dimensions to leave out) for a total
    column: ``("episodes", ["education"])`` names the subproject's total.
    """
    mark = mark or _spec(table) or {}
    family = mark["cells"][column]
    drop: tuple = ()
    if not isinstance(family, str):  # (family, dimensions a total sums over)
        family, drop = family[0], tuple(family[1])
    dims = {c: d for c, d in (mark.get("dims") or {}).items() if d not in drop}
    fixed = {**(mark.get("fixed") or {})}
    if mark.get("scope"):
        fixed["scope"] = mark["scope"]
    columns = [c for c in dims if c in table.columns]
    values = [table[c].astype(object).to_numpy() for c in columns]
    keys = []
    for i in range(len(table)):
        row = dict(fixed)
        for c, v in zip(columns, values, strict=True):
            row[dims[c]] = v[i]
        keys.append(make_key(family, row))
    return keys


def cell_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Every declared count cell of a suppressed table, one row per cell.

    Returns:
        ``key, column, row, value, hidden, primary``: ``value`` is the count
        (``<NA>`` where hidden), ``primary`` marks cells hidden because they
        are small (not to protect another). Empty when the table declared no
        cells (``suppress(…, cells=…)``).

    Example:
        >>> from rehab_analytics.disclosure import suppress
        >>> t = suppress(pd.DataFrame({"subproject": ["a", "b"], "n": [3, 9]}),
        ...              cells={"n": "volume.n"}, margins=[[]])
        >>> cell_frame(t)[["key", "hidden", "primary"]].to_dict("list")
        {'key': ['volume.n|subproject=a', 'volume.n|subproject=b'], 'hidden': [True, True], 'primary': [True, False]}
    """
    mark = _spec(table)
    columns = ["key", "column", "row", "value", "hidden", "primary"]
    if mark is None:
        return pd.DataFrame(columns=columns)
    parts = []
    for column in mark["cells"]:
        if column not in table.columns:
            continue
        flag = f"{column}{FLAG_SUFFIX}"
        second = f"{column}{SECONDARY_SUFFIX}"
        hidden = (
            table[flag].fillna(False).to_numpy(dtype=bool)
            if flag in table.columns
            else np.zeros(len(table), dtype=bool)
        )
        secondary = (
            table[second].fillna(False).to_numpy(dtype=bool)
            if second in table.columns
            else np.zeros(len(table), dtype=bool)
        )
        values = pd.to_numeric(table[column], errors="coerce").astype("Float64")
        parts.append(
            pd.DataFrame(
                {
                    "key": row_keys(table, column, mark),
                    "column": column,
                    "row": np.arange(len(table)),
                    "value": values.array,
                    "hidden": hidden,
                    "primary": hidden & ~secondary,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)


@dataclass
class Recording:
    """True values, hidden flags and margins of every declared cell suppressed.

    Filled by :func:`~rehab_analytics.disclosure.suppress` while
    :func:`recording` is active (the run's protection model builds every table
    once that way). Lives in memory only: it holds the true small counts.

    Attributes:
        values: key → true count.
        hidden: Keys hidden by some table.
        primary: Keys hidden because they are small.
        tables: key → how many suppress calls published it.
        margins: Groups of keys whose total the intruder is assumed to know,
            with their true total.
        pairs: (count key, denominator key) pairs of one row (events of n).
        conflicts: Keys given two different values by two tables (a cell
            family named for two different counts: a bug in a declaration).
    """

    values: dict[str, float] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)
    primary: set[str] = field(default_factory=set)
    tables: dict[str, int] = field(default_factory=dict)
    margins: dict[frozenset[str], float] = field(default_factory=dict)
    pairs: set[tuple[str, str]] = field(default_factory=set)
    conflicts: dict[str, tuple[float, float]] = field(default_factory=dict)

    def add(
        self,
        keys: dict[str, list[str]],
        true: dict[str, np.ndarray],
        hidden: dict[str, np.ndarray],
        primary: dict[str, np.ndarray],
        groups: list[np.ndarray],
        denominator: str | None,
    ) -> None:
        """Record one suppress call's cells (see ``suppress``)."""
        for col, col_keys in keys.items():
            for i, key in enumerate(col_keys):
                value = true[col][i]
                if not np.isnan(value):
                    known = self.values.setdefault(key, float(value))
                    if known != float(value):
                        self.conflicts[key] = (known, float(value))
                if hidden[col][i]:
                    self.hidden.add(key)
                if primary[col][i]:
                    self.primary.add(key)
                self.tables[key] = self.tables.get(key, 0) + 1
            for gid in groups:
                for g in np.unique(gid):
                    members = [col_keys[i] for i in np.flatnonzero(gid == g)]
                    if len(set(members)) < 2 or len(set(members)) < len(members):
                        continue  # a repeated total is not a sum of cells
                    vals = [true[col][i] for i in np.flatnonzero(gid == g)]
                    if any(np.isnan(v) for v in vals):
                        continue
                    self.margins.setdefault(frozenset(members), float(np.sum(vals)))
            if denominator and denominator in keys and col != denominator:
                for k, d in zip(col_keys, keys[denominator], strict=True):
                    self.pairs.add((k, d))


_RECORDER: contextvars.ContextVar[Recording | None] = contextvars.ContextVar(
    "rehab_analytics_disclosure_recorder", default=None
)


@contextlib.contextmanager
def recording() -> Iterator[Recording]:
    """Record every declared cell that ``suppress`` sees inside the block.

    Example:
        >>> from rehab_analytics.disclosure import suppress
        >>> with recording() as rec:
        ...     _ = suppress(pd.DataFrame({"u": ["a", "b"], "n": [3, 9]}),
        ...                  cells={"n": "volume.n"}, margins=[[]])
        >>> rec.values, sorted(rec.primary)
        ({'volume.n|u=a': 3.0, 'volume.n|u=b': 9.0}, ['volume.n|u=a'])
    """
    rec = Recording()
    token = _RECORDER.set(rec)
    try:
        yield rec
    finally:
        _RECORDER.reset(token)


def active_recording() -> Recording | None:
    """The :class:`Recording` of the enclosing :func:`recording` block, if any."""
    return _RECORDER.get()
