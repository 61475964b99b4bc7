"""Primary and secondary suppression of one table, the publishable check, display strings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from rehab_analytics.disclosure.cells import (
    FLAG_SUFFIX,
    SECONDARY_SUFFIX,
    Rule,
    active_recording,
    row_keys,
)
from rehab_analytics.disclosure.pvalues import COARSE_SUFFIX, coarse_p_text
from rehab_analytics.errors import DisclosureError

__all__ = [
    "FLAG_SUFFIX",
    "SECONDARY_SUFFIX",
    "suppress",
    "is_publishable",
    "require_publishable",
    "display_values",
]

# Safety net for pathological margin layouts; real tables settle in a few rounds.
_MAX_ROUNDS = 10_000


# --------------------------------------------------------------------------- helpers


def _margin_lists(margins: Iterable[Sequence[str] | str]) -> list[list[str]]:
    return [[m] if isinstance(m, str) else list(m) for m in margins]


def _numeric(series: pd.Series, name: str) -> np.ndarray:
    try:
        return pd.to_numeric(series, errors="raise").to_numpy(
            dtype=float, na_value=np.nan
        )
    except (TypeError, ValueError):
        raise ValueError(
            f"column '{name}' should hold numbers (counts or shares) but has "
            f"dtype {series.dtype}; convert it before calling suppress()."
        ) from None


def _group_ids(table: pd.DataFrame, columns: list[str]) -> np.ndarray:
    if not columns:
        return np.zeros(len(table), dtype=np.int64)
    return table.groupby(columns, dropna=False, sort=False).ngroup().to_numpy()


def _fix_one_lone_cell(
    values: np.ndarray,
    hidden: np.ndarray,
    present: np.ndarray,
    margin_ids: list[np.ndarray],
) -> bool:
    """Give one group with exactly one hidden cell a hidden partner.

    The partner is, in order of preference: a cell whose group in another margin
    also has a lone hidden cell (one cell fixes two groups), a non-zero cell, the
    smallest cell. A hidden zero still protects: the reader only learns the
    hidden cells' sum. A one-cell group is its own total and is left alone.
    Returns whether a cell was hidden.
    """
    lone = []
    for gid in margin_ids:
        groups = int(gid.max()) + 1 if gid.size else 0
        n_hidden = np.bincount(gid, weights=hidden & present, minlength=groups)
        size = np.bincount(gid, weights=present, minlength=groups)
        lone.append(((n_hidden == 1) & (size >= 2))[gid])
    for m, gid in enumerate(margin_ids):
        if not lone[m].any():
            continue
        target = gid[np.flatnonzero(lone[m])[0]]
        cand = np.flatnonzero(present & ~hidden & (gid == target))
        others = sum(
            (lone[k][cand].astype(int) for k in range(len(lone)) if k != m),
            np.zeros(cand.size, dtype=int),
        )
        order = np.lexsort((values[cand], values[cand] == 0, -others))
        hidden[cand[order[0]]] = True
        return True
    return False


def _determined_cells(
    hidden: np.ndarray, present: np.ndarray, gids: list[np.ndarray]
) -> np.ndarray:
    """Hidden cells whose value follows from the group totals by linear algebra.

    Cell i is determined iff the unit vector e_i lies in the row space of the
    group-incidence matrix over hidden cells, i.e. iff row i of its null-space
    basis is zero. This catches chains of subtractions that the
    one-hidden-per-group rule misses (e.g. a hidden cell bridging two blocks).
    """
    from scipy.linalg import null_space

    cells = np.flatnonzero(hidden & present)
    if cells.size == 0:
        return cells
    rows = []
    for gid in gids:
        sizes = np.bincount(gid[present])
        for g in np.unique(gid[cells]):
            if sizes[g] >= 2:
                rows.append(gid[cells] == g)
    if not rows:
        return cells[:0]
    basis = null_space(np.asarray(rows, dtype=float))
    if basis.shape[1] == 0:
        return cells
    return cells[np.all(np.abs(basis) < 1e-9, axis=1)]


def _secondary(
    values: np.ndarray,
    hidden: np.ndarray,
    present: np.ndarray,
    margin_ids: list[np.ndarray],
    sex_ids: np.ndarray | None,
) -> int:
    """Grow ``hidden`` in place until no hidden cell can be recovered.

    Returns the number of hidden cells still recoverable (no cell left to hide).
    """
    for _ in range(_MAX_ROUNDS):
        if sex_ids is not None:
            any_hidden = np.bincount(sex_ids, weights=hidden & present) > 0
            grow = present & any_hidden[sex_ids] & ~hidden
            if grow.any():
                hidden |= grow
                continue
        if _fix_one_lone_cell(values, hidden, present, margin_ids):
            continue
        if not margin_ids:
            return 0
        determined = _determined_cells(hidden, present, margin_ids)
        if determined.size == 0:
            return 0
        # Fix one recoverable cell per round: the cheapest cell in any of its groups.
        changed = False
        for cell in determined:
            best = None
            for gid in margin_ids:
                mates = np.flatnonzero(present & ~hidden & (gid == gid[cell]))
                for m in mates:
                    key = (values[m] == 0, values[m])
                    if best is None or key < best[0]:
                        best = (key, m)
            if best is not None:
                hidden[best[1]] = True
                changed = True
                break
        if not changed:
            return int(determined.size)
    return int(hidden.sum())


def _flags(table: pd.DataFrame, column: str) -> np.ndarray:
    """A boolean flag column as an array (all False when the column is absent)."""
    if column not in table.columns:
        return np.zeros(len(table), dtype=bool)
    return table[column].fillna(False).to_numpy(dtype=bool)


def _default_keys(table: pd.DataFrame, exclude: set[str]) -> list[str]:
    return [
        c
        for c in table.columns
        if c not in exclude
        and not str(c).endswith(FLAG_SUFFIX)
        and not pd.api.types.is_float_dtype(table[c])
    ]


def _as_nullable(
    values: np.ndarray, hidden: np.ndarray, integral: bool, index: pd.Index
) -> pd.Series:
    series = pd.Series(values, dtype="Float64", index=index).mask(hidden)
    return series.astype("Int64") if integral else series


# ---------------------------------------------------------------------- public API


def suppress(
    table: pd.DataFrame,
    *,
    threshold: int = 5,
    count_cols: Sequence[str] = ("n", "events"),
    denominator_col: str | None = "n",
    share_cols: Sequence[str] = ("share", "ci_low", "ci_high"),
    margins: Iterable[Sequence[str] | str] = (),
    sex_col: str | None = None,
    keys: Sequence[str] | None = None,
    cells: Mapping[str, str] | None = None,
    dims: Mapping[str, str] | None = None,
    fixed: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Hide small counts and every cell that could reveal them; mark as publishable.

    Rules, applied per count column until nothing changes:

    * **Primary**: a count in 1..threshold−1 is hidden (0 is not sensitive),
      and so is a count whose complement (``denominator_col`` − count) is
      1..threshold−1: "48 of 50 in work" says that 2 are not.
    * **Sex split** (``sex_col``): within each group of the ``keys`` columns
      other than ``sex_col``, if any sex is hidden, every sex is hidden.
    * **Secondary** (``margins``): each entry is a list of columns whose groups
      add up to a published total (long table of subproject × exit reason:
      ``margins=[["subproject"], ["exit_reason"]]``). A group with exactly one
      hidden cell gets its smallest visible non-zero cell hidden too (a zero if
      nothing else is left); then any hidden cell still recoverable by chains
      of subtractions (checked by linear algebra) gets a partner hidden. A group
      with a single cell *is* its total: never publish that total separately.

    Shares (``share_cols``, including their interval bounds) are hidden when the
    denominator is below the threshold or hidden, or when any count in the row
    is hidden (otherwise share × n would give the count back). Columns that are
    not in ``table`` are ignored.

    Args:
        table: Tidy table, one row per cell.
        threshold: Smallest count that may be shown (default 5: 1–4 hidden).
        count_cols: Count columns to protect.
        denominator_col: Count column the shares are computed on.
        share_cols: Share columns hidden with their counts.
        margins: Column lists defining groups with published totals.
        sex_col: Column holding sex, for the sex-split rule.
        keys: Columns identifying a cell (default: every column that is not a
            count, share, flag or float column); used by the sex rule.
        cells: Count column → cell family (``{"n": "outcome.n"}``): names
            every count as a cell of the run's protection model
            (:mod:`rehab_analytics.disclosure.cells`), so the same number in
            another table is the same cell. With a
            :class:`~rehab_analytics.disclosure.cells.Rule` as ``threshold``,
            cells the run hides are hidden here too.
        dims: Key column → dimension name of the cell keys (default: the
            ``keys`` columns under their own names).
        fixed: Dimensions with one value for the whole table
            (``{"outcome": "employed_after"}``).

    Returns:
        A new DataFrame: hidden counts are ``<NA>`` in nullable ``Int64`` (or
        ``Float64``) columns, never 0; a boolean ``<col>__suppressed`` column is
        added per count and share column, and a boolean
        ``<col>__secondary__suppressed`` column per count column where some
        cells were hidden only to protect others (secondary or sex-split
        suppression; internal only, every hidden cell is shown alike as
        ".."); ``attrs["disclosure"]`` holds
        ``threshold``, ``suppressed_cells`` (hidden cells over all columns),
        ``count_cols``, ``denominator_col``, ``share_cols`` and
        ``unprotected_cells`` (hidden cells still derivable: 0 unless a layout
        left nothing to hide), and the cell declaration (``cells``, ``dims``,
        ``fixed``, ``scope``).

    Raises:
        ValueError: If none of ``count_cols`` is in a non-empty table (fail
            closed: a table whose counts have other names would otherwise be
            returned unprotected), or a margin or ``cells`` column is missing.

    Example:
        >>> t = pd.DataFrame({"unit": ["a", "b", "c"], "n": [3, 40, 12],
        ...                   "share": [0.33, 0.5, 0.25]})
        >>> out = suppress(t, margins=[[]])
        >>> out[["unit", "n", "share", "n__suppressed"]]
          unit     n  share  n__suppressed
        0    a  <NA>   <NA>           True
        1    b    40    0.5          False
        2    c  <NA>   <NA>           True
        >>> out.attrs["disclosure"]["suppressed_cells"]
        4
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"suppress() needs a DataFrame, got {type(table).__name__}.")
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer):
        raise ValueError(f"threshold is {threshold!r}; expected a whole number >= 1.")
    if threshold < 1:
        raise ValueError(f"threshold is {threshold}; expected a whole number >= 1.")
    rule = threshold if isinstance(threshold, Rule) else None
    threshold = int(threshold)
    margin_cols = _margin_lists(margins)
    for cols in margin_cols:
        absent = [c for c in cols if c not in table.columns]
        if absent:
            raise ValueError(
                f"margin columns {absent} are not in the table; margins must name "
                f"key columns such as {list(table.columns)[:4]}."
            )
    if sex_col is not None and sex_col not in table.columns:
        raise ValueError(
            f"sex_col '{sex_col}' is not in the table; pass the column that holds "
            "sex or leave sex_col=None."
        )
    counts = [c for c in dict.fromkeys(count_cols) if c in table.columns]
    shares = [c for c in dict.fromkeys(share_cols) if c in table.columns]
    if not counts and len(table):
        raise ValueError(
            f"none of the count columns {list(count_cols)} is in the table "
            f"(it has {list(table.columns)[:8]}); pass count_cols= naming the "
            "columns that hold counts of people, so they can be protected."
        )
    cells = dict(cells or {})
    absent = [c for c in cells if c not in counts]
    if absent:
        raise ValueError(
            f"cells names {absent}, which are not count columns of the table "
            f"({counts}); declare cells only for protected counts."
        )
    if keys is None:
        keys = _default_keys(table, set(counts) | set(shares))
    sex_keys = [c for c in keys if c != sex_col]
    dims = dict(dims) if dims is not None else {k: k for k in keys}
    mark_cells = {
        "cells": cells,
        "dims": dims,
        "fixed": dict(fixed or {}),
        "scope": rule.scope if rule is not None else "",
    }
    recorder = active_recording()
    # cell keys cost a string per row: only for a run's rule or its recording
    needed = recorder is not None or (rule is not None and bool(rule.hidden))
    key_of = {c: row_keys(table, c, mark_cells) for c in cells} if needed else {}

    out = table.copy()
    margin_ids = [_group_ids(out, cols) for cols in margin_cols]
    sex_ids = _group_ids(out, sex_keys) if sex_col is not None else None

    hidden: dict[str, np.ndarray] = {}
    secondary: dict[str, np.ndarray] = {}
    true: dict[str, np.ndarray] = {}
    primaries: dict[str, np.ndarray] = {}
    unprotected = 0
    base = (
        _numeric(out[denominator_col], denominator_col)
        if denominator_col in counts
        else None
    )
    for col in counts:
        values = _numeric(out[col], col)
        prior = _flags(out, f"{col}{FLAG_SUFFIX}")
        present = ~np.isnan(values) | prior
        small = present & (values > 0) & (values < threshold)
        if base is not None and col != denominator_col:
            # the complement is a count too: 48 of 50 says 2 are not
            rest = base - values
            small |= present & ~np.isnan(values) & (rest > 0) & (rest < threshold)
        primary = (prior & ~_flags(out, f"{col}{SECONDARY_SUFFIX}")) | small
        mask = prior | small
        if rule is not None and rule.hidden and col in key_of:
            mask |= present & np.array([rule.hides(k) for k in key_of[col]], bool)
        unprotected += _secondary(values, mask, present, margin_ids, sex_ids)
        hidden[col] = mask
        secondary[col] = mask & ~primary
        true[col], primaries[col] = values, primary
        finite = values[~np.isnan(values)]
        integral = bool(np.all(finite == np.round(finite)))
        out[col] = _as_nullable(values, mask, integral, out.index)

    row_hidden = np.zeros(len(out), dtype=bool)
    for mask in hidden.values():
        row_hidden |= mask
    if denominator_col is not None and denominator_col in out.columns:
        denominator = _numeric(out[denominator_col], denominator_col)
        row_hidden |= ~(denominator >= threshold)
    for col in shares:
        values = _numeric(out[col], col)
        prior = (
            out[f"{col}{FLAG_SUFFIX}"].fillna(False).to_numpy(dtype=bool)
            if f"{col}{FLAG_SUFFIX}" in out.columns
            else np.zeros(len(out), dtype=bool)
        )
        hidden[col] = prior | row_hidden
        out[col] = _as_nullable(values, hidden[col], False, out.index)

    for col, mask in hidden.items():
        out[f"{col}{FLAG_SUFFIX}"] = mask
    for col, mask in secondary.items():
        if mask.any():
            out[f"{col}{SECONDARY_SUFFIX}"] = mask
    if recorder is not None and key_of:
        recorder.add(
            key_of,
            {c: true[c] for c in key_of},
            {c: hidden[c] for c in key_of},
            {c: primaries[c] for c in key_of},
            margin_ids,
            denominator_col if denominator_col in key_of else None,
        )
    out.attrs["disclosure"] = {
        **mark_cells,
        "threshold": threshold,
        "suppressed_cells": int(sum(int(m.sum()) for m in hidden.values())),
        "count_cols": counts,
        "denominator_col": denominator_col,
        "share_cols": shares,
        "unprotected_cells": int(unprotected),
    }
    return out


def _problems(df: pd.DataFrame) -> list[str]:
    mark = df.attrs.get("disclosure")
    if not isinstance(mark, dict) or "threshold" not in mark:
        return ["it has not been through disclosure control (no suppress() mark)"]
    threshold = mark["threshold"]
    found = []
    for col in mark.get("count_cols", ()):
        if col not in df.columns:
            continue
        values = _numeric(df[col], col)
        small = (values > 0) & (values < threshold)
        if small.any():
            found.append(
                f"column '{col}' shows {int(small.sum())} count(s) between 1 and "
                f"{threshold - 1} (e.g. {values[small][0]:g})"
            )
    denominator = mark.get("denominator_col")
    if denominator in df.columns:
        small_base = ~(_numeric(df[denominator], denominator) >= threshold)
        for col in mark.get("share_cols", ()):
            if col in df.columns and (small_base & df[col].notna().to_numpy()).any():
                found.append(
                    f"column '{col}' shows a share whose denominator "
                    f"'{denominator}' is below {threshold} or hidden"
                )
    if int(mark.get("unprotected_cells", 0)):
        found.append(
            f"{mark['unprotected_cells']} hidden cell(s) can still be derived from "
            "the group totals"
        )
    return found


def is_publishable(df: pd.DataFrame) -> bool:
    """Tell whether ``df`` passed :func:`suppress` and shows no small count.

    Example:
        >>> t = pd.DataFrame({"n": [2, 10]})
        >>> is_publishable(t), is_publishable(suppress(t))
        (False, True)
    """
    return not _problems(df)


def require_publishable(df: pd.DataFrame, what: str = "table") -> None:
    """Raise :class:`~rehab_analytics.errors.DisclosureError` unless publishable.

    Args:
        df: The table about to be published.
        what: Name of the output, for the message (e.g. "xlsx sheet 'exit'").

    Raises:
        DisclosureError: If the suppress() mark is missing or a visible count
            lies in 1..threshold−1.

    Example:
        >>> require_publishable(pd.DataFrame({"n": [3]}), "demo table")
        Traceback (most recent call last):
        ...
        rehab_analytics.errors.DisclosureError: demo table cannot be published: ...
    """
    problems = _problems(df)
    if problems:
        raise DisclosureError(
            f"{what} cannot be published: {'; '.join(problems)}. Expected a table "
            "returned by rehab_analytics.disclosure.suppress() with no count "
            "below the threshold. Call suppress() on the final table (after any "
            "filtering or aggregation) and publish its result."
        )


def _format_numbers(
    values: np.ndarray, decimals: int, lang: str, suffix: str = ""
) -> list[str]:
    """Format floats with grouping; Swedish: decimal comma, no-break space groups."""
    texts = [f"{v:,.{decimals}f}" for v in values]
    if lang == "sv":
        table = str.maketrans({",": "\u00a0", ".": ","})
        texts = [t.translate(table) for t in texts]
    return [t + suffix for t in texts]


def display_values(
    df: pd.DataFrame,
    *,
    lang: str = "sv",
    mark: str = "..",
    percent: bool = True,
    decimals: int = 1,
) -> pd.DataFrame:
    """Turn a suppressed table into display strings for tables, HTML and xlsx.

    Every hidden cell, count or share, shows the same ``mark`` (default ``..``,
    the Swedish official-statistics symbol for "not available or too uncertain
    to show"; a dash would mean "nothing/zero" there). Cells hidden because
    they are small and cells hidden to protect them look alike: a ``<5`` for
    the one and ``..`` for the other would tell the reader which cell is
    small, and a published total would then often give it away. The
    ``__secondary__suppressed`` flags stay internal and change nothing here.
    Counts get thousands grouping (sv: no-break space, en: comma); shares are
    shown in percent with ``decimals`` decimals (sv ``65,3 %`` with a no-break
    space, en ``65.3%``); other floats get 2 decimals. Missing values that were
    not suppressed are empty strings; ``__suppressed`` columns are dropped.

    Args:
        df: A table returned by :func:`suppress`.
        lang: "sv" or "en".
        mark: Text for every hidden cell.
        percent: Show shares as percent (else as proportions).
        decimals: Decimals for shares.

    Returns:
        A DataFrame of strings with the same index and the data columns.

    Raises:
        DisclosureError: If ``df`` is not publishable.
        ValueError: If ``lang`` is not "sv" or "en".

    Example:
        >>> t = suppress(pd.DataFrame({"unit": ["a", "b", "c"], "n": [3, 1200, 40],
        ...                            "share": [0.5, 0.255, 0.1]}), margins=[[]])
        >>> display_values(t, lang="en").to_dict("list")
        {'unit': ['a', 'b', 'c'], 'n': ['..', '1,200', '..'], 'share': ['..', '25.5%', '..']}
    """
    if lang not in ("sv", "en"):
        raise ValueError(f"lang is {lang!r}; expected 'sv' or 'en'.")
    require_publishable(df, "the table passed to display_values()")
    shares = set(df.attrs["disclosure"].get("share_cols", ()))
    pct_suffix = "\u00a0%" if lang == "sv" else "%"
    columns = [c for c in df.columns if not str(c).endswith(FLAG_SUFFIX)]
    out = pd.DataFrame(index=df.index)
    for col in columns:
        series = df[col]
        suppressed = _flags(df, f"{col}{FLAG_SUFFIX}")
        is_number = pd.api.types.is_numeric_dtype(series) and not (
            pd.api.types.is_bool_dtype(series)
        )
        if not is_number:
            text = series.astype("string").fillna("").to_numpy(dtype=object)
            out[col] = pd.Series(text, index=df.index, dtype="string")
            continue
        values = series.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(values)
        if col in shares:
            scale, digits, suffix = (
                (100.0, decimals, pct_suffix) if percent else (1.0, decimals + 2, "")
            )
            shown = _format_numbers(values * scale, digits, lang, suffix)
        else:
            integral = pd.api.types.is_integer_dtype(series) or bool(
                np.all(values[~missing] == np.round(values[~missing]))
            )
            shown = _format_numbers(values, 0 if integral else 2, lang)
        text = np.where(suppressed, mark, np.where(missing, "", shown))
        # a p-value of few people: only its side of 0.05 (disclosure.pvalues)
        coarse = _flags(df, f"{col}{COARSE_SUFFIX}") & ~suppressed & ~missing
        if coarse.any():
            texts = [
                coarse_p_text(v, lang) if c else ""
                for v, c in zip(values, coarse, strict=True)
            ]
            text = np.where(coarse, texts, text)
        out[col] = pd.Series(text, index=df.index, dtype="string")
    return out
