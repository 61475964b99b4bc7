"""Volume and goal attainment: who was enrolled, against the plan, and misregistrations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rehab_analytics.measures.core import (
    _UNITS,
    _active,
    _add_share,
    _as_by,
    _by_units,
    _counts,
    _is,
    _prepare,
    _require,
    _sum_by_units,
    _valid,
)

__all__ = ["volume", "goal_attainment", "year_weights", "misregistrations"]


def volume(
    participants: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = ("subproject",),
    start=None,
    end=None,
    anonymous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Count participation in a period (misregistrations left out).

    Columns: ``by...``, ``enrolled_episodes`` (episodes active in the period, see
    :func:`filter_period`), ``started_episodes`` (of these, started in the
    period), ``enrolled_persons`` (unique ``participant_key``; episodes without a
    key count one each), ``active_at_end`` (still active on ``end``, or with no
    end date when ``end`` is None), ``exited`` (ended in the period),
    ``anonymous`` (anonymous counts of the calendar years overlapping the
    period) and ``enrolled_with_anonymous`` (episodes plus anonymous).

    ``anonymous`` is missing (<NA>) when no table is given or when ``by`` names
    a column the anonymous table lacks (it has only forbund, subproject, sex and
    year). With ``period`` in ``by``, episodes are grouped by start period.

    Example:
        >>> df = pd.DataFrame({
        ...     "subproject": ["dino", "dino", "aktiv"],
        ...     "participant_key": ["a", "a", None],
        ...     "start_date": pd.to_datetime(
        ...         ["2017-01-10", "2017-06-01", "2017-03-01"]),
        ...     "end_date": pd.to_datetime(["2017-05-01", None, "2017-04-01"]),
        ...     "exit_reason": [None, None, "completed"],
        ... })
        >>> out = volume(df)
        >>> out[["subproject", "enrolled_episodes", "enrolled_persons", "exited"]]
          subproject  enrolled_episodes  enrolled_persons  exited
        0       dino                  2                 1       1
        1      aktiv                  1                 1       1
    """
    func = "volume"
    by = _as_by(by)
    low = pd.Timestamp(start) if start is not None else pd.Timestamp.min
    high = pd.Timestamp(end) if end is not None else pd.Timestamp.max
    anon = None
    if anonymous is not None:
        _require(anonymous, ["year", "count"], func, "anonymous_counts")
        years = anonymous["year"].astype(float)
        anon = anonymous.loc[(years >= low.year) & (years <= high.year)]
    split = anon is not None and all(c in anon.columns for c in by)
    extra = {c: anon[c].dropna().unique() for c in by if c in _UNITS} if split else {}

    def active(d: pd.DataFrame) -> pd.Series:
        return _valid(d) & _active(d, low, high)

    required = ["start_date", "end_date", "exit_reason", "participant_key"]
    frame, by = _prepare(participants, by, func, required, active, extra=extra)
    first = (
        ~frame.duplicated([*by, "participant_key"]) | frame["participant_key"].isna()
    )
    ends = frame["end_date"]
    out = _counts(
        frame,
        by,
        {
            "enrolled_episodes": 1,
            "started_episodes": frame["start_date"] >= low,
            "enrolled_persons": first,
            "active_at_end": ends.isna() | (ends > high),
            "exited": ends.notna() & (ends <= high),
        },
    )
    out["anonymous"] = pd.array([pd.NA] * len(out), dtype="Int64")
    if split:
        sums = _sum_by_units(anon, by, "count")
        if len(by) > 1:
            keys = pd.MultiIndex.from_frame(out[by].astype(str))
        else:
            keys = out[by[0]].astype(str) if by else ["all"]
        found = sums.reindex(keys).fillna(0).to_numpy() if len(sums) else 0
        out["anonymous"] = pd.array(np.broadcast_to(found, len(out)), dtype="Int64")
    out["enrolled_with_anonymous"] = out["enrolled_episodes"] + out["anonymous"]
    return out


def year_weights(start, end) -> dict[int, float]:
    """Return the share of each calendar year that the period ``start``–``end`` covers.

    Whole years weigh 1; a part year weighs its days in the period over its
    days (the plan of a part year counts pro rata).

    Example:
        >>> year_weights("2015-10-01", "2016-12-31")
        {2015: 0.25205479452054796, 2016: 1.0}
    """
    low, high = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    out = {}
    for year in range(low.year, high.year + 1):
        first, last = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
        days = (min(high, last) - max(low, first)).days + 1
        out[year] = days / ((last - first).days + 1)
    return out


def _weighted(
    table: pd.DataFrame, column: str, weights: dict[int, float]
) -> pd.DataFrame:
    """Return ``table`` with ``column`` times its year's weight (other years dropped)."""
    years = table["year"].astype("Int64")
    weight = years.map(weights).astype("Float64")
    kept = table.loc[weight.notna().to_numpy(dtype=bool)].copy()
    kept[column] = kept[column].astype("Float64") * weight[weight.notna()]
    return kept


def _half_up(values: pd.Series) -> pd.Series:
    return np.floor(values.astype("Float64") + 0.5).astype("Int64")


def goal_attainment(
    participants: pd.DataFrame,
    subprojects: pd.DataFrame,
    anonymous: pd.DataFrame | None = None,
    *,
    start=None,
    end=None,
) -> pd.DataFrame:
    """Enrolled participants against the plan, per förbund and subproject.

    Columns: ``forbund``, ``subproject``, ``planned`` (sum of
    ``planned_participants`` over the years), ``identified`` (episodes, not
    misregistered), ``anonymous`` (anonymous counts, 0 without a table),
    ``enrolled`` (identified + anonymous), and the share columns ``n`` (=
    planned), ``events`` (= enrolled), ``share`` (enrolled / planned).
    The share can exceed 1 (more enrolled than planned); a Wilson interval is
    then meaningless and ``ci_low``/``ci_high`` are NaN, as they are when no plan
    exists. Units come from both tables.

    With a period (``start`` and ``end``), ``identified`` counts the episodes
    started in it, and the plan and the anonymous counts are those of the years
    it covers, a part year pro rata (:func:`year_weights`), rounded half up to
    whole participants.

    Example:
        >>> people = pd.DataFrame({
        ...     "forbund": ["nordost"] * 3, "subproject": ["dino"] * 3,
        ...     "exit_reason": [None, "completed", "misregistration"],
        ...     "start_date": pd.to_datetime(["2016-02-01", "2017-03-01", "2016-05-01"])})
        >>> plan = pd.DataFrame({"forbund": ["nordost"] * 2, "subproject": ["dino"] * 2,
        ...     "year": [2016, 2017], "planned_participants": [2, 2]})
        >>> out = goal_attainment(people, plan)
        >>> out[["subproject", "planned", "enrolled", "share"]]
          subproject  planned  enrolled  share
        0       dino        4         2    0.5
        >>> goal_attainment(people, plan, start="2016-01-01", end="2016-06-30")[
        ...     ["planned", "enrolled"]].iloc[0].tolist()
        [1, 1]
    """
    func = "goal_attainment"
    units = ["forbund", "subproject"]
    _require(participants, [*units, "exit_reason"], func, "participants")
    _require(subprojects, [*units, "planned_participants"], func, "subprojects")
    counted = participants.loc[_valid(participants)]
    period = start is not None and end is not None
    if period:
        _require(participants, ["start_date"], func, "participants")
        _require(subprojects, ["year"], func, "subprojects")
        starts = pd.to_datetime(counted["start_date"])
        counted = counted.loc[
            (starts >= pd.Timestamp(start)) & (starts <= pd.Timestamp(end))
        ]
        weights = year_weights(start, end)
        subprojects = _weighted(subprojects, "planned_participants", weights)
        if anonymous is not None:
            _require(anonymous, ["year", "count"], func, "anonymous_counts")
            anonymous = _weighted(anonymous, "count", weights)
    tables = {
        "planned": _sum_by_units(subprojects, units, "planned_participants"),
        "identified": _sum_by_units(counted, units, None),
    }
    if anonymous is not None:
        _require(anonymous, [*units, "count"], func, "anonymous_counts")
        tables["anonymous"] = _sum_by_units(anonymous, units, "count")
    out = _by_units(tables, units)
    if "anonymous" not in out:
        out["anonymous"] = 0
    out["planned"] = (
        _half_up(out["planned"]) if period else out["planned"].astype("Int64")
    )
    for column in ("identified", "anonymous"):
        values = out[column].fillna(0)
        out[column] = (_half_up(values) if period else values).astype("int64")
    out["enrolled"] = out["identified"] + out["anonymous"]
    out["n"] = out["planned"]
    out["events"] = out["enrolled"]
    fits = (out["enrolled"] <= out["planned"]).fillna(False)
    shares = _add_share(
        out.assign(n=out["n"].where(fits, 0), events=out["events"].where(fits, 0))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        planned = out["planned"].to_numpy(dtype=float, na_value=np.nan)
        out["share"] = np.where(planned > 0, out["enrolled"] / planned, np.nan)
    return out.assign(ci_low=shares["ci_low"], ci_high=shares["ci_high"])


def misregistrations(
    participants: pd.DataFrame, by: str | Sequence[str] | None = ("subproject",)
) -> pd.DataFrame:
    """Count misregistered episodes, which every other measure leaves out.

    Columns: ``by...``, ``episodes`` (all delivered episodes) and
    ``misregistrations`` (``exit_reason == "misregistration"``).

    Example:
        >>> df = pd.DataFrame({"subproject": ["dino", "dino", "aktiv"],
        ...     "exit_reason": ["misregistration", None, "completed"]})
        >>> misregistrations(df)
          subproject  episodes  misregistrations
        0       dino         2                 1
        1      aktiv         1                 0
    """
    frame, by = _prepare(participants, by, "misregistrations", ["exit_reason"])
    wrong = _is(frame["exit_reason"], "misregistration")
    return _counts(frame, by, {"episodes": 1, "misregistrations": wrong})
