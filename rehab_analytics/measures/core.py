"""The rules every measure shares: grouping, periods, age groups, counts and shares.

Every function takes clean tables (contract columns) and returns a new tidy
DataFrame: one row per group, or per group and category for long tables. Numbers
are raw, for internal use: publish only through
:func:`rehab_analytics.disclosure.suppress`. Volume and goal attainment live in
:mod:`~rehab_analytics.measures.goals`, outcome shares, occupation, exit reasons,
ESF tables and costs in :mod:`~rehab_analytics.measures.outcomes`, before/after
measures in :mod:`~rehab_analytics.measures.change` and time measures in
:mod:`~rehab_analytics.measures.time`; every one of them is exported by the
package (``measures.trend``). The rules below hold for all of them.

- ``by`` is a column name or a list/tuple of names; ``()`` or ``None`` gives one
  overall row. ``age_group`` and ``age_band_esf`` (from ``age_at_start``) and
  ``period`` (tertial of the measure's date: the start date for volume and
  background tables, the exit date for outcomes) are added when named and absent;
  call :func:`add_period` first to choose another frequency.
- Groups: ``forbund`` and ``subproject`` keep only codes present in the input
  (in the dtype's, else the contract's order); other categorical and coded
  columns (sex, education, …) keep all their contract categories, so an empty
  group shows ``n = 0``. A missing key value is grouped as ``"unknown"``.
- A share carries ``n`` (denominator), ``events`` (numerator), ``share`` and the
  95% Wilson interval ``ci_low``/``ci_high`` (NaN when the denominator is 0);
  long tables name them ``count`` and ``total``.
- Misregistrations (``exit_reason == "misregistration"``) are left out of every
  measure, volume included (they are registrations that should not exist; see
  :func:`~rehab_analytics.measures.goals.misregistrations`). Anonymous participants count in volume and goal
  attainment only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from rehab_analytics import stats
from rehab_analytics.catalogue import unit_order
from rehab_analytics.contract import (
    DEFAULT_FORBUND,
    DEFAULT_SUBPROJECTS,
    EDUCATION,
    EXIT_REASONS,
    INCOME_GROUPS,
    OCCUPATIONS,
    SEX,
    SUPPORT_YEARS,
)
from rehab_analytics.errors import AnalysisInputError

__all__ = [
    "AGE_GROUPS",
    "ESF_AGE_BANDS",
    "add_period",
    "filter_period",
    "add_age_groups",
]

AGE_GROUPS = (*stats.AGE_BANDS, "unknown")
ESF_AGE_BANDS = ("under_25", "25_54", "over_54", "unknown")
_UNITS = {"forbund": DEFAULT_FORBUND, "subproject": DEFAULT_SUBPROJECTS}
# Coded columns keep the contract's categories even when read as plain strings.
_CODED = {
    "sex": SEX,
    "education": EDUCATION,
    "support_years_before": SUPPORT_YEARS,
    "income_group_before": INCOME_GROUPS,
    "income_group_after": INCOME_GROUPS,
    "occupation_before": OCCUPATIONS,
    "occupation_after": OCCUPATIONS,
    "exit_reason": EXIT_REASONS,
}
_FREQS = {
    "tertial": "tertial",
    "t": "tertial",
    "year": "year",
    "y": "year",
    "ye": "year",
    "a": "year",
    "month": "month",
    "m": "month",
    "me": "month",
}
_LEVEL = 0.95


# --------------------------------------------------------------------- helpers


def _require(df: pd.DataFrame, columns: Iterable[str], func: str, table: str) -> None:
    """Raise AnalysisInputError naming the first column ``func`` needs but lacks."""
    missing = [c for c in dict.fromkeys(columns) if c not in df.columns]
    if missing:
        more = f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""
        raise AnalysisInputError(
            f"{func}() needs column '{missing[0]}' in the {table} table, but it is "
            f"not there{more}. Pass the clean {table} table (columns listed in "
            "rehab_analytics.contract) or add the column first."
        )


def _choice(value: str, allowed: Iterable[str], name: str, func: str) -> str:
    options = list(allowed)
    if value not in options:
        raise AnalysisInputError(
            f"{func}() got {name}={value!r}; expected one of {', '.join(options)}."
        )
    return value


def _as_by(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _flag(values: pd.Series) -> pd.Series:
    """Boolean Series with missing values as False (works for any dtype)."""
    return values.astype("boolean").fillna(False).astype(bool)


def _is(values: pd.Series, *codes: str) -> pd.Series:
    return _flag(values.isin(codes))


def _valid(df: pd.DataFrame) -> pd.Series:
    """Episodes that are not misregistrations."""
    return ~_is(df["exit_reason"], "misregistration")


def _exited(df: pd.DataFrame) -> pd.Series:
    """Ended, non-misregistered episodes: the population of outcome measures."""
    return df["end_date"].notna() & _valid(df)


def _key(
    values: pd.Series, name: str, full: pd.Series, extra: Iterable
) -> pd.Categorical:
    """Group key with the categories of ``full`` (the unfiltered column)."""
    dtype = full.dtype
    if name in _UNITS:
        cats = list(dtype.categories) if isinstance(dtype, pd.CategoricalDtype) else []
        categories = unit_order([*full.dropna().unique(), *extra], name, cats)
    elif isinstance(dtype, pd.CategoricalDtype):
        categories = list(dtype.categories)
    elif name in _CODED:
        found = set(full.dropna().unique()) - set(_CODED[name])
        categories = [*_CODED[name], *sorted(found, key=str)]
    else:
        categories = sorted(full.dropna().unique())
    ordered = isinstance(dtype, pd.CategoricalDtype) and dtype.ordered
    values = values.astype(object)
    if values.isna().any():
        categories = (
            [*categories, "unknown"] if "unknown" not in categories else categories
        )
        values = values.where(values.notna(), "unknown")
    return pd.Categorical(values, categories=categories, ordered=ordered)


def _prepare(
    df: pd.DataFrame,
    by: str | Sequence[str] | None,
    func: str,
    required: Iterable[str],
    select: Callable[[pd.DataFrame], pd.Series] | None = None,
    *,
    period_date: str = "start_date",
    extra: dict[str, Iterable] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Check columns, add derived group columns, select rows, build group keys."""
    by = _as_by(by)
    needs = list(required)
    for column in by:
        if column in df.columns:
            continue
        if column in ("age_group", "age_band_esf"):
            needs.append("age_at_start")
        elif column == "period":
            needs.append(period_date)
        else:
            needs.append(column)
    _require(df, needs, func, "participants")
    full = df
    if any(c in by and c not in df.columns for c in ("age_group", "age_band_esf")):
        full = add_age_groups(full)
    if "period" in by and "period" not in df.columns:
        full = add_period(full, date_col=period_date)
    rows = full if select is None else full.loc[select(full)]
    extra = extra or {}
    keys = {c: _key(rows[c], c, full[c], extra.get(c, ())) for c in by}
    return rows.assign(**keys), by


def _counts(
    frame: pd.DataFrame, by: list[str], values: dict[str, object]
) -> pd.DataFrame:
    """Sum boolean/integer ``values`` per group (all category combinations)."""
    data = pd.DataFrame(
        {k: np.broadcast_to(np.asarray(v), len(frame)) for k, v in values.items()},
        index=frame.index,
    )
    if not by:
        return pd.DataFrame({k: [int(data[k].sum())] for k in data.columns})
    out = data.groupby([frame[c] for c in by], observed=False).sum().reset_index()
    return out.astype({k: "int64" for k in data.columns})


def _add_share(out: pd.DataFrame, events: str = "events", n: str = "n") -> pd.DataFrame:
    """Add ``share``, ``ci_low`` and ``ci_high`` (Wilson; NaN when n is 0)."""
    x = out[events].to_numpy(dtype=float, na_value=np.nan)
    size = out[n].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(size > 0, x / size, np.nan)
    low, high = stats.wilson_interval(x, size, _LEVEL)
    return out.assign(share=share, ci_low=low, ci_high=high)


def _by_units(tables: dict[str, pd.Series], by: list[str]) -> pd.DataFrame:
    """Outer-join per-unit Series (indexed by unit codes) into one ordered frame."""
    joined = pd.concat(tables, axis=1)
    if not by:
        return joined.reset_index(drop=True)
    joined = joined.reset_index()
    joined.columns = [*by, *tables]
    for column in by:
        order = unit_order(joined[column].dropna(), column)
        joined[column] = pd.Categorical(joined[column], categories=order)
    return joined.sort_values(by, ignore_index=True)


def _sum_by_units(df: pd.DataFrame, by: list[str], column: str | None) -> pd.Series:
    """Sum ``column`` (or count rows) per unit, index of unit codes as strings."""
    values = df[column] if column else pd.Series(1, index=df.index)
    if not by:
        total = values.sum(min_count=1) if column else len(df)
        return pd.Series([total], index=pd.Index(["all"]))
    keys = [df[c].astype(str) for c in by]
    return (
        values.groupby(keys).sum(min_count=1) if column else values.groupby(keys).sum()
    )


def _per_group(
    frame: pd.DataFrame,
    by: list[str],
    func: Callable[[pd.DataFrame], dict],
    empty: dict,
) -> pd.DataFrame:
    """Apply ``func`` to each non-empty group; one row per group combination.

    Empty groups get the values of ``empty`` (whose keys are ``func``'s keys).
    """
    if not by:
        return pd.DataFrame([func(frame) if len(frame) else empty])
    grid = _counts(frame, by, {"_rows": 1}).drop(columns="_rows")
    rows = [
        {**dict(zip(by, key, strict=True)), **func(part)}
        for key, part in frame.groupby(by, observed=True, sort=True)
    ]
    found = pd.DataFrame(rows, columns=[*by, *empty])
    found = found.astype({c: grid[c].dtype for c in by})
    return grid.merge(found, on=by, how="left").fillna(empty)


# ---------------------------------------------------------------------- periods


def _freq(freq: str, func: str) -> str:
    kind = _FREQS.get(str(freq).lower())
    if kind is None:
        raise AnalysisInputError(
            f"{func}() got freq={freq!r}; expected 'tertial', 'year' or 'month' "
            "(or 'T', 'Y', 'M')."
        )
    return kind


def _period_labels(dates: pd.Series, kind: str) -> pd.Series:
    year = dates.dt.year.astype("Int64").astype("string")
    if kind == "year":
        return year
    if kind == "month":
        return dates.dt.strftime("%Y-%m").astype("string")
    tertial = ((dates.dt.month - 1) // 4 + 1).astype("Int64").astype("string")
    return year + "T" + tertial


def _period_grid(first: pd.Timestamp, last: pd.Timestamp, kind: str) -> pd.DataFrame:
    """Every period from the one holding ``first`` to the one holding ``last``.

    Returns ``period`` (label), ``start`` and ``end`` (last day) per period.
    """
    months = pd.period_range(f"{first.year}-01", f"{last.year}-12", freq="M")
    grid = pd.DataFrame(
        {
            "start": months.to_timestamp(),
            "end": months.to_timestamp(how="end").normalize(),
        }
    )
    grid["period"] = _period_labels(grid["start"], kind)
    grid = grid.groupby("period", sort=True).agg(
        start=("start", "min"), end=("end", "max")
    )
    low, high = _period_labels(pd.Series([first, last]), kind)
    return grid.loc[low:high].reset_index()


def add_period(
    df: pd.DataFrame, freq: str = "tertial", date_col: str = "start_date"
) -> pd.DataFrame:
    """Add an ordered categorical ``period`` label taken from ``date_col``.

    Labels: ``"2017T1"`` for SUS tertials (T1 Jan–Apr, T2 May–Aug, T3 Sep–Dec),
    ``"2017"`` for years, ``"2017-03"`` for months. The categories run without
    gaps from the first to the last period in the data, so a period with no
    episodes still shows up (with n = 0) in measures grouped by ``period``. A
    missing date gives a missing label.

    Args:
        df: Any table with the date column.
        freq: ``"tertial"`` (``"T"``), ``"year"`` (``"Y"``) or ``"month"`` (``"M"``).
        date_col: The date to label by (e.g. ``"end_date"`` for exit periods).

    Returns:
        A copy of ``df`` with the ``period`` column.

    Example:
        >>> df = pd.DataFrame({"start_date": pd.to_datetime(
        ...     ["2017-04-30", "2017-05-01", "2018-01-15"])})
        >>> add_period(df)["period"].tolist()
        ['2017T1', '2017T2', '2018T1']
        >>> list(add_period(df)["period"].cat.categories)
        ['2017T1', '2017T2', '2017T3', '2018T1']
        >>> add_period(df, "M")["period"].tolist()
        ['2017-04', '2017-05', '2018-01']
    """
    kind = _freq(freq, "add_period")
    _require(df, [date_col], "add_period", "input")
    dates = pd.to_datetime(df[date_col])
    labels = _period_labels(dates, kind)
    if dates.notna().any():
        categories = _period_grid(dates.min(), dates.max(), kind)["period"].tolist()
    else:
        categories = []
    values = labels.astype(object).where(labels.notna(), None)
    return df.assign(period=pd.Categorical(values, categories=categories, ordered=True))


def filter_period(df: pd.DataFrame, start=None, end=None) -> pd.DataFrame:
    """Keep episodes active at some time in the period from ``start`` to ``end``.

    Rule: an episode is active in the period when it started on or before
    ``end`` and had not ended before ``start`` (no end date = still active).
    Both bounds are inclusive days; ``None`` leaves that side open.

    Args:
        df: Participants table with ``start_date`` and ``end_date``.
        start: First day of the period (date, Timestamp or ISO string).
        end: Last day of the period.

    Returns:
        The selected rows (a new frame).

    Example:
        >>> df = pd.DataFrame({
        ...     "start_date": pd.to_datetime(
        ...         ["2016-03-01", "2017-02-01", "2018-01-01"]),
        ...     "end_date": pd.to_datetime(["2016-12-31", None, None]),
        ... })
        >>> len(filter_period(df, "2017-01-01", "2017-12-31"))
        1
    """
    _require(df, ["start_date", "end_date"], "filter_period", "participants")
    low = pd.Timestamp(start) if start is not None else None
    high = pd.Timestamp(end) if end is not None else None
    if low is not None and high is not None and low > high:
        raise AnalysisInputError(
            f"filter_period() got start {low.date()} after end {high.date()}; "
            "give the earlier date as start."
        )
    return df.loc[_active(df, low, high)]


def _active(df: pd.DataFrame, low: pd.Timestamp | None, high: pd.Timestamp | None):
    """Rows active at some time from ``low`` to ``high`` (inclusive; None = open)."""
    keep = pd.Series(True, index=df.index)
    if high is not None:
        keep &= df["start_date"] <= high
    if low is not None:
        keep &= df["end_date"].isna() | (df["end_date"] >= low)
    return keep


def add_age_groups(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``age_group`` and ``age_band_esf`` from ``age_at_start``.

    ``age_group``: ``16-24`` (all ages under 25), ``25-29``, ``30-39``,
    ``40-49``, ``50+``, the bands of :data:`rehab_analytics.stats.AGE_BANDS`.
    ``age_band_esf`` (ESF indicators): ``under_25``, ``25_54``, ``over_54``.
    A missing age gives ``unknown`` in both.

    Example:
        >>> df = pd.DataFrame({"age_at_start": pd.array([19, 29, 55, None], "Int64")})
        >>> out = add_age_groups(df)
        >>> out["age_group"].tolist()
        ['16-24', '25-29', '50+', 'unknown']
        >>> out["age_band_esf"].tolist()
        ['under_25', '25_54', 'over_54', 'unknown']
    """
    _require(df, ["age_at_start"], "add_age_groups", "participants")
    age = pd.to_numeric(df["age_at_start"], errors="coerce").astype(float)
    edges = [-np.inf, *list(stats.AGE_BANDS.values())[1:], np.inf]
    group = pd.cut(age, edges, right=False, labels=list(stats.AGE_BANDS))
    esf = pd.cut(age, [-np.inf, 25, 55, np.inf], right=False, labels=ESF_AGE_BANDS[:3])
    return df.assign(
        age_group=pd.Categorical(
            group.astype(object).where(age.notna(), "unknown"), AGE_GROUPS
        ),
        age_band_esf=pd.Categorical(
            esf.astype(object).where(age.notna(), "unknown"), ESF_AGE_BANDS
        ),
    )


# ----------------------------------------------------------------------- volume
