"""Measures over time: enrolment against plan, time in programme, trends and SPC.

Follows the conventions of :mod:`rehab_analytics.measures` (``by``, group keys,
misregistrations left out, raw numbers to pass through disclosure control).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rehab_analytics.catalogue import unit_order
from rehab_analytics.measures.core import (
    _LEVEL,
    _as_by,
    _counts,
    _freq,
    _per_group,
    _period_grid,
    _period_labels,
    _prepare,
    _require,
    _valid,
    add_period,
)
from rehab_analytics.measures.outcomes import outcome_shares

__all__ = [
    "SPC_MIN_POINTS",
    "enrolment_over_time",
    "time_in_programme",
    "time_summary",
    "trend",
    "spc_limits",
    "xmr_limits",
]

# METHODS: XmR needs 12–13 points per unit (tertials 2015–2019 give ~11); the
# rule and the factor serve both the report's numbers and the chart.
SPC_MIN_POINTS = 12
_XMR_FACTOR = 2.66


def enrolment_over_time(
    participants: pd.DataFrame, subprojects: pd.DataFrame, freq: str = "M"
) -> pd.DataFrame:
    """Enrolments per period and cumulatively, against the cumulative plan.

    ``date`` is the last day of each period (cumulative values are "by the end
    of"). ``enrolled`` counts non-misregistered episodes that started in the
    period (anonymous participants are not dated, so not included).
    ``cumulative_planned`` spreads each year's ``planned_participants`` evenly
    over the days of that calendar year. Periods run from the first period with
    a start date or a plan year to the last. Rows with ``subproject="total"``
    add up all subprojects.

    Returns:
        ``subproject, date, enrolled, cumulative_enrolled, cumulative_planned``.

    Example:
        >>> people = pd.DataFrame({"subproject": ["dino", "dino"],
        ...     "start_date": pd.to_datetime(["2017-02-10", "2017-11-01"]),
        ...     "exit_reason": [None, None]})
        >>> plan = pd.DataFrame({"subproject": ["dino"], "year": [2017],
        ...     "planned_participants": [365]})
        >>> enrolment_over_time(people, plan, freq="tertial").head(3)
          subproject       date  enrolled  cumulative_enrolled  cumulative_planned
        0       dino 2017-04-30         1                    1               120.0
        1       dino 2017-08-31         0                    1               243.0
        2       dino 2017-12-31         1                    2               365.0
    """
    func = "enrolment_over_time"
    kind = _freq(freq, func)
    _require(
        participants, ["subproject", "start_date", "exit_reason"], func, "participants"
    )
    _require(
        subprojects, ["subproject", "year", "planned_participants"], func, "subprojects"
    )
    people = participants.loc[_valid(participants)]
    years = pd.to_numeric(subprojects["year"]).dropna().astype(int)
    bounds = [people["start_date"].min(), people["start_date"].max()]
    if len(years):
        bounds += [pd.Timestamp(years.min(), 1, 1), pd.Timestamp(years.max(), 12, 31)]
    bounds = [b for b in bounds if pd.notna(b)]
    columns = [
        "subproject",
        "date",
        "enrolled",
        "cumulative_enrolled",
        "cumulative_planned",
    ]
    if not bounds:
        return pd.DataFrame(columns=columns)
    grid = _period_grid(min(bounds), max(bounds), kind)
    ends = grid["end"].to_numpy()
    units = unit_order(
        [
            *people["subproject"].dropna().astype(str),
            *subprojects["subproject"].astype(str),
        ],
        "subproject",
    )
    started = pd.crosstab(
        people["subproject"].astype(str), _period_labels(people["start_date"], kind)
    )
    enrolled = started.reindex(index=units, columns=grid["period"], fill_value=0)

    plan = subprojects.assign(
        subproject=subprojects["subproject"].astype(str),
        year=pd.to_numeric(subprojects["year"]),
    ).dropna(subset=["year"])
    first = pd.to_datetime(plan["year"].astype(int).astype(str) + "-01-01")
    year_days = np.where(first.dt.is_leap_year, 366.0, 365.0)[:, None]
    elapsed = (ends[None, :] - first.to_numpy()[:, None]) / np.timedelta64(1, "D") + 1
    planned = plan["planned_participants"].to_numpy(dtype=float, na_value=0.0)[:, None]
    spread = pd.DataFrame(
        planned * np.clip(elapsed / year_days, 0, 1), index=plan["subproject"]
    )
    cum_plan = spread.groupby(level=0).sum().reindex(units, fill_value=0.0)
    enrolled.loc["total"] = enrolled.sum(axis=0)
    cum_plan.loc["total"] = cum_plan.sum(axis=0)
    return pd.DataFrame(
        {
            "subproject": np.repeat(enrolled.index.to_numpy(dtype=object), len(ends)),
            "date": np.tile(ends, len(enrolled)),
            "enrolled": enrolled.to_numpy().ravel().astype("int64"),
            "cumulative_enrolled": enrolled.cumsum(axis=1)
            .to_numpy()
            .ravel()
            .astype("int64"),
            "cumulative_planned": cum_plan.to_numpy(dtype=float).ravel(),
        }
    ).astype({"subproject": "str", "date": "datetime64[ns]"})


def _durations(
    participants: pd.DataFrame, by, func: str, cutoff
) -> tuple[pd.DataFrame, list[str]]:
    """Non-misregistered episodes started by the cut-off, with ``days``/``ended``."""
    _require(participants, ["start_date", "end_date"], func, "participants")
    if cutoff is None:
        cutoff = max(participants["start_date"].max(), participants["end_date"].max())
    cutoff = pd.Timestamp(cutoff)

    def started(d: pd.DataFrame) -> pd.Series:
        return _valid(d) & (d["start_date"] <= cutoff)

    required = ["start_date", "end_date", "exit_reason"]
    frame, by = _prepare(participants, by, func, required, started)
    ended = frame["end_date"].notna() & (frame["end_date"] <= cutoff)
    stop = frame["end_date"].where(ended, cutoff)
    days = (stop - frame["start_date"]).dt.days.astype(float)
    return frame.assign(days=days, ended=ended), by


@dataclass(frozen=True)
class _KaplanMeier:
    """Kaplan–Meier curve at the days with an exit, as statsmodels' SurvfuncRight.

    Same arrays and quantile rules as ``statsmodels.duration.survfunc`` (0.15)
    without importing it: each report kernel would pay for ``scipy.stats``.
    """

    surv_times: np.ndarray
    surv_prob: np.ndarray
    surv_prob_se: np.ndarray

    def quantile(self, p: float) -> float:
        """First exit day where survival drops strictly below ``1 − p``."""
        below = np.flatnonzero(self.surv_prob < 1 - p)
        return self.surv_times[below[0]] if len(below) else np.nan

    def quantile_ci(self, p: float, alpha: float = 0.05) -> tuple[float, float]:
        """Interval for a quantile by inverting cloglog z-tests (as SAS LIFETEST)."""
        from scipy.special import ndtri

        prob = self.surv_prob
        with np.errstate(all="ignore"):
            r = np.log(-np.log(prob)) - np.log(-np.log(1 - p))
            r /= -1 / (prob * np.log(prob)) * self.surv_prob_se
            inside = np.flatnonzero(np.abs(r) <= ndtri(1 - alpha / 2))
        if len(inside) == 0:
            return np.nan, np.nan
        last = inside[-1]
        high = np.inf if last == len(prob) - 1 else self.surv_times[last + 1]
        return self.surv_times[inside[0]], high


def _km(part: pd.DataFrame) -> _KaplanMeier:
    """Kaplan–Meier estimate with Greenwood standard errors for one group."""
    times, at = np.unique(part["days"].to_numpy(), return_inverse=True)
    events = np.bincount(
        at, weights=part["ended"].to_numpy(dtype=float), minlength=len(times)
    )
    at_risk = np.cumsum(np.bincount(at, minlength=len(times))[::-1])[::-1]
    keep = np.flatnonzero(events > 0)
    times, events, at_risk = times[keep], events[keep], at_risk[keep]
    step = 1 - events / at_risk.astype(np.float64)
    # A product over log-steps; a step to 0 is floored so the log stays finite.
    gone = step < 1e-16
    step[gone] = 1e-16
    survival = np.exp(np.cumsum(np.log(step)))
    survival[gone] = 0
    terms = events / np.clip(at_risk * (at_risk - events), 1e-12, np.inf)
    terms[(at_risk == events) | (at_risk == 0)] = np.nan
    se = np.sqrt(np.cumsum(terms))
    usable = np.isfinite(se) | (survival != 0)
    se[usable] *= survival[usable]
    se[~usable] = np.nan
    return _KaplanMeier(times, survival, se)


def _weeks(days) -> np.ndarray:
    """Whole weeks, rounded up: days 1–7 are week 1, day 0 is week 0."""
    return np.ceil(np.asarray(days, dtype=float) / 7)


def _at_risk(days: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Episodes still in and observed at each time (``days >= t``)."""
    ordered = np.sort(days)
    return len(ordered) - np.searchsorted(ordered, times, side="left")


def _curve(part: pd.DataFrame, z: float, weeks: bool) -> pd.DataFrame:
    """One group's curve at its exit days, or at every whole week."""
    fit = _km(part)
    exits = np.asarray(fit.surv_times, dtype=float)
    if weeks:
        last = int(_weeks(part["days"].max())) if len(part) else 0
        times = np.arange(last + 1) * 7.0
        # the step function at each week's end: the last exit day on or before it
        at = np.searchsorted(exits, times, side="right")
        survival = np.r_[1.0, fit.surv_prob][at]
        se = np.r_[0.0, fit.surv_prob_se][at]
    else:
        times = np.r_[0.0, exits]
        survival = np.r_[1.0, fit.surv_prob]
        se = np.r_[0.0, fit.surv_prob_se]
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = z * se / (survival * np.abs(np.log(survival)))
        low, high = survival ** np.exp(spread), survival ** np.exp(-spread)
    inner = (survival > 0) & (survival < 1)
    whole = survival == 1
    time_col = {"weeks": (times / 7).astype("int64")} if weeks else {"days": times}
    return pd.DataFrame(
        {
            **time_col,
            "at_risk": _at_risk(part["days"].to_numpy(dtype=float), times),
            "survival": survival,
            "ci_low": np.where(inner, low, np.where(whole, 1.0, np.nan)),
            "ci_high": np.where(inner, high, np.where(whole, 1.0, np.nan)),
        }
    )


def time_in_programme(
    participants: pd.DataFrame,
    by: str | Sequence[str] | None = ("subproject",),
    cutoff=None,
    *,
    weeks: bool = False,
) -> pd.DataFrame:
    """Kaplan–Meier curve of time in programme (share still enrolled after x days).

    Episodes still active are censored at the data cut-off: ``cutoff`` if given,
    else the latest start or end date in ``participants``. Episodes starting
    after the cut-off are left out; those ending after it count as active.
    The curve equals :class:`statsmodels.duration.survfunc.SurvfuncRight`; the
    pointwise 95% interval uses the log-log transform (NaN where survival is
    0, 1–1 where it is 1). Each group's curve starts at time 0 with
    ``survival=1`` (below 1 only after exits on the first day); empty groups
    have no rows. With ``period`` in ``by``, episodes are grouped by start
    period (cohorts). ``at_risk`` counts the episodes still in (and observed)
    at that time, those leaving on that day included.

    Args:
        participants: Episodes with ``start_date``, ``end_date``, ``exit_reason``.
        by: Group columns.
        cutoff: Data cut-off (default: the latest date in ``participants``).
        weeks: Give the curve at whole weeks instead of exit days: one row per
            week from 0 to the longest time observed, the curve's value at the
            end of day ``7 × weeks`` (an exit after 10 days shows at week 2).

    Returns:
        Long ``by..., days, at_risk, survival, ci_low, ci_high`` (one row per
        day with an exit), or ``by..., weeks, ...`` with ``weeks=True``.

    Example:
        >>> df = pd.DataFrame({"exit_reason": ["completed", None, "completed"],
        ...     "start_date": pd.to_datetime(["2017-01-01"] * 3),
        ...     "end_date": pd.to_datetime(["2017-01-11", None, "2017-01-31"])})
        >>> got = time_in_programme(df, by=None, cutoff="2017-01-21")
        >>> got[["days", "at_risk", "survival"]]
           days  at_risk  survival
        0   0.0        3  1.000000
        1  10.0        3  0.666667
        >>> time_in_programme(df, by=None, cutoff="2017-01-21", weeks=True)[
        ...     ["weeks", "at_risk", "survival"]]
           weeks  at_risk  survival
        0      0        3  1.000000
        1      1        3  1.000000
        2      2        2  0.666667
        3      3        0  0.666667
    """
    from scipy.special import ndtri

    func = "time_in_programme"
    frame, by = _durations(participants, by, func, cutoff)
    z = ndtri(0.5 + _LEVEL / 2)
    parts = []
    groups = frame.groupby(by, observed=True, sort=True) if by else [((), frame)]
    for key, part in groups:
        curve = _curve(part, z, weeks)
        for column, value in zip(by, key, strict=True):
            curve[column] = value
        parts.append(curve)
    time_col = "weeks" if weeks else "days"
    columns = [*by, time_col, "at_risk", "survival", "ci_low", "ci_high"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)[columns]
    return out.astype({c: frame[c].dtype for c in by})


_TIMES = (
    "km_median",
    "km_median_ci_low",
    "km_median_ci_high",
    "completed_median",
    "completed_q1",
    "completed_q3",
)


def time_summary(
    participants: pd.DataFrame,
    by: str | Sequence[str] | None = ("subproject",),
    cutoff=None,
    *,
    weeks: bool = False,
) -> pd.DataFrame:
    """Time in programme per group: Kaplan–Meier median and completed-only quartiles.

    Same episodes and censoring as :func:`time_in_programme`. Each time comes
    with its ``_support``: how many episodes it rests on, so a publisher can
    hide a time that stands for a few people (a quantile is one person's exit
    day). For a Kaplan–Meier time it is the number still at risk then; for a
    completed-only quartile the smaller of the ended episodes at or below it
    and at or above it.

    Args:
        participants: Episodes with ``start_date``, ``end_date``, ``exit_reason``.
        by: Group columns.
        cutoff: Data cut-off (default: the latest date in ``participants``).
        weeks: Times in whole weeks, rounded up (``_weeks`` columns instead of
            ``_days``; a median of 10 days is 2 weeks), as the weekly curve of
            :func:`time_in_programme` shows them; supports counted at the
            week's end.

    Returns:
        ``by..., n, exited, censored`` (still active at the cut-off),
        ``km_median_days`` (Kaplan–Meier median including the censored; NaN
        when fewer than half have ended), ``km_median_ci_low``/``_high`` (95%,
        cloglog; NaN when not reached), and ``completed_median_days``,
        ``completed_q1_days``, ``completed_q3_days``: quartiles over **ended
        episodes only** (any exit reason), which understate time in programme
        while many are still active; label them so. Then ``<time>_support``
        per time (``km_median_support``, ``km_median_ci_low_support``, …).

    Example:
        >>> df = pd.DataFrame({"exit_reason": ["completed", None, "completed"],
        ...     "start_date": pd.to_datetime(["2017-01-01"] * 3),
        ...     "end_date": pd.to_datetime(["2017-01-11", None, "2017-01-31"])})
        >>> got = time_summary(df, by=None)
        >>> got[["n", "exited", "censored", "km_median_days", "completed_median_days"]]
           n  exited  censored  km_median_days  completed_median_days
        0  3       2         1            30.0                   20.0
        >>> got[["km_median_support", "completed_median_support"]]
           km_median_support  completed_median_support
        0                2.0                       1.0
        >>> time_summary(df, by=None, weeks=True)[["km_median_weeks",
        ...     "completed_median_weeks"]]
           km_median_weeks  completed_median_weeks
        0              5.0                     3.0
    """
    func = "time_summary"
    frame, by = _durations(participants, by, func, cutoff)
    suffix = "_weeks" if weeks else "_days"

    def summary(part: pd.DataFrame) -> dict:
        fit = _km(part)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            median = fit.quantile(0.5)
            low, high = fit.quantile_ci(0.5, alpha=1 - _LEVEL)
        days = part["days"].to_numpy(dtype=float)
        done = part.loc[part["ended"], "days"].to_numpy(dtype=float)
        quartiles = np.quantile(done, [0.5, 0.25, 0.75]) if len(done) else [np.nan] * 3
        km = np.array([median, low, high], dtype=float)
        km[np.isinf(km)] = np.nan
        completed = np.asarray(quartiles, dtype=float)
        if weeks:
            km, completed, done = _weeks(km), _weeks(completed), _weeks(done)
            # supports at the week's end, as the weekly curve counts at risk
            km_support = _at_risk(days, km * 7)
        else:
            km_support = _at_risk(days, km)
        below = (done[None, :] <= completed[:, None]).sum(axis=1)
        above = (done[None, :] >= completed[:, None]).sum(axis=1)
        support = np.r_[km_support, np.minimum(below, above)].astype(float)
        values = np.r_[km, completed]
        support[np.isnan(values)] = np.nan
        return {
            **{
                f"{t}{_time_suffix(t, suffix)}": v
                for t, v in zip(_TIMES, values, strict=True)
            },
            **{f"{t}_support": s for t, s in zip(_TIMES, support, strict=True)},
        }

    names = [
        *(f"{t}{_time_suffix(t, suffix)}" for t in _TIMES),
        *(f"{t}_support" for t in _TIMES),
    ]
    counts = _counts(
        frame, by, {"n": 1, "exited": frame["ended"], "censored": ~frame["ended"]}
    )
    values = _per_group(frame, by, summary, dict.fromkeys(names, np.nan))
    out = counts.merge(values, on=by) if by else pd.concat([counts, values], axis=1)
    return out.replace([np.inf, -np.inf], np.nan).astype({c: float for c in names})


def _time_suffix(name: str, suffix: str) -> str:
    """``km_median_ci_low`` keeps its name; the other times get ``_days``/``_weeks``."""
    return "" if "_ci_" in name else suffix


def trend(
    participants: pd.DataFrame,
    outcome: str = "work_or_study_after",
    by: str | Sequence[str] | None = ("subproject",),
    freq: str = "tertial",
) -> pd.DataFrame:
    """An outcome share per exit period (see :func:`measures.outcome_shares`).

    Episodes are placed in the period of their **exit date**; periods run
    without gaps from the first to the last exit (a period without exits has
    n = 0 and NaN share).

    Returns:
        ``by..., period, n, events, share, ci_low, ci_high``.

    Example:
        >>> df = pd.DataFrame({"exit_reason": ["completed"] * 3,
        ...     "end_date": pd.to_datetime(["2017-02-01", "2017-03-01", "2017-10-01"]),
        ...     "work_or_study_after": pd.array([True, False, True], "boolean")})
        >>> trend(df, by=None)[["period", "n", "events", "share"]]
           period  n  events  share
        0  2017T1  2       1    0.5
        1  2017T2  0       0    NaN
        2  2017T3  1       1    1.0
    """
    _require(participants, ["end_date", "exit_reason"], "trend", "participants")
    exits = participants["end_date"].where(_valid(participants))
    dated = add_period(participants.assign(_exit=exits), freq, date_col="_exit")
    by = [c for c in _as_by(by) if c != "period"]
    out = outcome_shares(dated.drop(columns="_exit"), outcome, by=[*by, "period"])
    return out


def spc_limits(trend_df: pd.DataFrame, value: str = "share") -> pd.DataFrame:
    """XmR (individuals) control limits per group of a :func:`trend` table.

    Groups are the columns before ``period``. Over the periods with a value
    (n > 0), ``centre`` is the mean, ``moving_range`` the absolute difference
    from the previous such period, and the limits ``centre ± 2.66 × mean
    moving range``, clipped to [0, 1] for shares. ``enough_points`` is True when
    the group has at least 12 points (METHODS.md: show SPC only then);
    ``outside`` marks points beyond the limits.

    Returns:
        The input columns plus ``moving_range, centre, lcl, ucl, points,
        enough_points, outside``.

    Example:
        >>> df = pd.DataFrame({"period": ["2017T1", "2017T2", "2017T3"],
        ...     "share": [0.2, 0.4, 0.3]})
        >>> spc_limits(df)[["moving_range", "centre", "lcl", "ucl"]].round(3)
           moving_range  centre  lcl    ucl
        0           NaN     0.3  0.0  0.699
        1           0.2     0.3  0.0  0.699
        2           0.1     0.3  0.0  0.699
    """
    _require(trend_df, ["period", value], "spc_limits", "trend")
    by = list(trend_df.columns[: list(trend_df.columns).index("period")])

    def keys(frame: pd.DataFrame) -> list:
        return [frame[c] for c in by] if by else [pd.Series(0, index=frame.index)]

    points = trend_df.loc[trend_df[value].notna()]
    steps = points[value].groupby(keys(points), observed=True, sort=False).diff().abs()
    out = trend_df.assign(moving_range=steps.reindex(trend_df.index))
    grouped = out.groupby(keys(out), observed=True, sort=False)
    centre = grouped[value].transform("mean")
    mean_range = grouped["moving_range"].transform("mean")
    count = grouped[value].transform("count")
    low, high = centre - _XMR_FACTOR * mean_range, centre + _XMR_FACTOR * mean_range
    if value == "share":
        low, high = low.clip(lower=0.0), high.clip(upper=1.0)
    return out.assign(
        centre=centre,
        lcl=low,
        ucl=high,
        points=count.astype("int64"),
        enough_points=count >= SPC_MIN_POINTS,
        outside=(out[value] < low) | (out[value] > high),
    )


def xmr_limits(values) -> pd.DataFrame:
    """XmR (individuals) chart: centre line, limits and signals for a series.

    Limits are mean ± 2.66 × mean moving range, as in :func:`spc_limits` (which
    gives them per group of a trend table); this one takes the shown points of
    one series and adds the signals: a point outside the limits; 7 points in a
    row on one side of the mean; 7 points in a row rising or falling; 2 of 3
    points beyond two thirds of the way to a limit (same side).

    Example:
        >>> out = xmr_limits([5, 6, 5, 7, 5, 6, 5, 7, 6, 5, 6, 20])
        >>> round(float(out["ucl"].iloc[0]), 2), out.index[out["signal"]].tolist()
        (13.45, [11])
    """
    x = np.asarray(values, dtype=float)
    mean = float(np.nanmean(x)) if len(x) else np.nan
    mr_bar = float(np.nanmean(np.abs(np.diff(x)))) if len(x) > 1 else np.nan
    ucl, lcl = mean + _XMR_FACTOR * mr_bar, mean - _XMR_FACTOR * mr_bar
    outside = (x > ucl) | (x < lcl)
    run_side = _runs(np.sign(x - mean), 7)
    # 7 points rising (or falling) are 6 equal steps; flag the point before them too
    run_trend = _runs(np.sign(np.diff(x, prepend=np.nan)), 6)
    run_trend |= np.r_[run_trend[1:], False]
    two_of_three = np.zeros(len(x), dtype=bool)
    for beyond in (x > mean + 2 / 3 * (ucl - mean), x < mean - 2 / 3 * (mean - lcl)):
        hits = beyond.astype(int)
        window = np.convolve(hits, np.ones(3, dtype=int))[: len(x)]
        two_of_three |= (window >= 2) & beyond
    signal = outside | run_side | run_trend | two_of_three
    return pd.DataFrame(
        {"value": x, "mean": mean, "ucl": ucl, "lcl": lcl, "signal": signal}
    )


def _runs(sign: np.ndarray, length: int) -> np.ndarray:
    """True for points in a run of at least ``length`` equal non-zero signs."""
    out = np.zeros(len(sign), dtype=bool)
    valid = ~np.isnan(sign) & (sign != 0)
    start = 0
    for i in range(1, len(sign) + 1):
        if i == len(sign) or not valid[i] or sign[i] != sign[start]:
            if valid[start] and i - start >= length:
                out[start:i] = True
            start = i
    return out
