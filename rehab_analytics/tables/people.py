"""Publishable tables on change, time, steps, who takes part and delivery quality."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rehab_analytics import disclosure, measures
from rehab_analytics.config import settings
from rehab_analytics.tables.core import (
    UNIT,
    _hide_together,
    _hide_with,
    _valid,
    select,
)

__all__ = [
    "age_sex_table",
    "delivery_changes",
    "esf_table",
    "exit_reason_table",
    "income_change_table",
    "income_transition_table",
    "misregistration_count",
    "occupation_table",
    "step_distribution_table",
    "step_summary_table",
    "AT_RISK_WEEKS",
    "time_at_risk_table",
    "time_curve_table",
    "time_summary_table",
]


# Steps moved (events) of the pairs measured (n), per measure.
_STEP_CELLS = {"n": "steps.n", "events": "steps.up"}


def income_transition_table(
    people: pd.DataFrame, threshold: int, *, by: str | None = None
) -> pd.DataFrame:
    """Income group before → after (counts and row shares) for the heat map.

    Example:
        >>> income_transition_table  # doctest: +ELLIPSIS
        <function income_transition_table at ...>
    """
    keys = [by] if by else []
    return disclosure.suppress(
        measures.income_transitions(people, by=by),
        threshold=threshold,
        count_cols=["count", "row_total"],
        denominator_col="row_total",
        share_cols=["row_share"],
        cells={
            "count": "income.transition",
            "row_total": ("income.transition", ["income_after"]),
        },
        dims={
            **({by: UNIT} if by else {}),
            "before": "income_before",
            "after": "income_after",
        },
        # with units, the project's heat map (all units) is published too
        margins=[
            [*keys, "before"],
            [*keys, "after"],
            *([["before", "after"]] if keys else []),
        ],
    )


def income_change_table(
    people: pd.DataFrame, threshold: int, *, state: str = "no_public_support"
) -> pd.DataFrame:
    """McNemar test of "no public support" (or ``state``) before vs after, per subproject.

    ``after = before − b + c``: when one of the four counts is hidden all four
    are, so none can be worked out; n stays. The p-value is hidden with n, and
    is only "p < 0.05"/"p ≥ 0.05" (``p_value__coarse__suppressed``) when b or c
    is hidden or small: an exact p inverts to them
    (:func:`rehab_analytics.disclosure.coarse_p_value`).

    Returns:
        ``subproject, n, before, after, b, c, p_value``.

    Example:
        >>> income_change_table  # doctest: +ELLIPSIS
        <function income_change_table at ...>
    """
    table = measures.income_change_test(people, state=state, by=UNIT)
    counts = ["before", "after", "b", "c"]
    kwargs = dict(
        threshold=threshold,
        count_cols=["n", *counts],
        denominator_col=None,
        share_cols=(),
    )
    out = disclosure.suppress(table[[UNIT, "n", *counts, "p_value"]], **kwargs)
    out = disclosure.suppress(_hide_together(out, counts), **kwargs)
    out = _hide_with(out, ["p_value"], ["n"], threshold, "n")
    # the exact p inverts to b and c: only "p < 0.05" when a count is hidden or small
    basis = pd.concat([out[counts], table[["b", "c"]].add_suffix("_raw")], axis=1)
    return disclosure.coarsen_p(out, "p_value", basis, threshold)


def occupation_table(people: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Occupation before and after per subproject (same exited episodes).

    Example:
        >>> occupation_table  # doctest: +ELLIPSIS
        <function occupation_table at ...>
    """
    return disclosure.suppress(
        measures.occupation_before_after(people, by=UNIT),
        threshold=threshold,
        count_cols=["count_before", "count_after", "total"],
        denominator_col="total",
        share_cols=["share_before", "share_after"],
        margins=[[UNIT], ["occupation"]],
        cells={
            "count_before": "occupation.before",
            "count_after": "occupation.after",
            "total": ("exits", ["occupation"]),
        },
        dims={UNIT: UNIT, "occupation": "occupation"},
    )


def exit_reason_table(people: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Reasons for leaving per subproject, with shares of the subproject's exits.

    Example:
        >>> exit_reason_table  # doctest: +ELLIPSIS
        <function exit_reason_table at ...>
    """
    table = measures.exit_reasons(people, by=UNIT)
    return disclosure.suppress(
        table[[UNIT, "exit_reason", "count", "total", "share"]],
        threshold=threshold,
        count_cols=["count", "total"],
        denominator_col="total",
        share_cols=["share"],
        margins=[[UNIT], ["exit_reason"]],
        cells={"count": "exits", "total": ("exits", ["exit_reason"])},
        dims={UNIT: UNIT, "exit_reason": "exit_reason"},
    )


def time_curve_table(
    people: pd.DataFrame, threshold: int, *, cutoff=None
) -> pd.DataFrame:
    """Kaplan–Meier curves of time in programme per subproject, in whole weeks.

    A curve is published as far as it rests on enough people: in whole weeks
    (an exit after 10 days shows at week 2, so no step is one person's exit
    day), only where the survival changes, and ending at the last week with at
    least ``threshold`` still at risk (a tail stepping through 4, 3, 2, 1 would
    show single people). A subproject with fewer than ``threshold`` episodes
    gets only its week-0 row, with ``n`` and the curve hidden: draw no curve.

    Returns:
        ``subproject, weeks, n, survival, ci_low, ci_high`` (``n``: the
        subproject's episodes, as in :func:`time_summary_table`).

    Example:
        >>> people = pd.DataFrame({"subproject": ["dino"] * 3,
        ...     "exit_reason": ["completed"] * 3,
        ...     "start_date": pd.to_datetime(["2017-01-01"] * 3),
        ...     "end_date": pd.to_datetime(["2017-01-11", "2017-03-01", None])})
        >>> time_curve_table(people, 5)[["subproject", "weeks", "n", "survival"]]
          subproject  weeks     n  survival
        0       dino      0  <NA>      <NA>
    """
    limit = int(threshold)
    weekly = measures.time_in_programme(people, by=UNIT, cutoff=cutoff, weeks=True)
    keys = weekly[UNIT].astype("string")
    n = weekly.groupby(keys, sort=False)["at_risk"].transform("first")
    first = ~keys.duplicated()
    changed = weekly.groupby(keys, sort=False)["survival"].diff().fillna(0).ne(0)
    shown = weekly["at_risk"].ge(limit) & n.ge(limit)
    last = shown & ~shown.groupby(keys, sort=False).shift(-1, fill_value=False)
    keep = first | (shown & (changed | last))
    table = weekly.assign(n=n)[keep.to_numpy()].reset_index(drop=True)
    return disclosure.suppress(
        table[[UNIT, "weeks", "n", "survival", "ci_low", "ci_high"]],
        threshold=threshold,
        count_cols=["n"],
        denominator_col="n",
        share_cols=["survival", "ci_low", "ci_high"],
        cells={"n": ("time.n", ["weeks"])},
        dims={UNIT: UNIT, "weeks": "weeks"},
    )


# Weeks of the number-at-risk row under the curves: a quarter, half a year, then
# every half year to two years, and three years.
AT_RISK_WEEKS = (0, 13, 26, 52, 78, 104, 156)


def time_at_risk_table(
    people: pd.DataFrame,
    threshold: int,
    *,
    cutoff=None,
    weeks: Sequence[int] = AT_RISK_WEEKS,
) -> pd.DataFrame:
    """Number still in the programme (at risk) per subproject at fixed weeks.

    The row under the Kaplan–Meier curves. Counts 1 to ``threshold − 1`` are
    hidden. Only weeks that some subproject's published curve reaches (at
    least ``threshold`` still at risk) are given, so the row spans the curves.

    Returns:
        ``subproject, weeks, at_risk``.

    Example:
        >>> people = pd.DataFrame({"subproject": ["dino"] * 6 + ["aktiv"] * 6,
        ...     "exit_reason": ["completed"] * 12,
        ...     "start_date": pd.to_datetime(["2017-01-01"] * 12),
        ...     "end_date": pd.to_datetime(["2017-08-01"] * 6
        ...         + ["2017-02-01"] * 2 + ["2017-05-01"] * 4)})
        >>> time_at_risk_table(people, 5)[["subproject", "weeks", "at_risk"]]
          subproject  weeks  at_risk
        0       dino      0        6
        1       dino     13        6
        2       dino     26        6
        3      aktiv      0        6
        4      aktiv     13     <NA>
        5      aktiv     26        0
    """
    weekly = measures.time_in_programme(people, by=UNIT, cutoff=cutoff, weeks=True)
    reached = weekly.loc[weekly["at_risk"].ge(int(threshold)), "weeks"]
    last = reached.max() if len(reached) else 0
    wanted = [w for w in dict.fromkeys(int(w) for w in weeks) if w <= last]
    units = weekly[UNIT].drop_duplicates()
    grid = pd.DataFrame(
        {
            UNIT: units.repeat(len(wanted)).to_numpy(),
            "weeks": np.tile(np.asarray(wanted, dtype="int64"), len(units)),
        }
    ).astype({UNIT: weekly[UNIT].dtype})
    # a unit followed for a shorter time has no one left at the later weeks
    table = grid.merge(
        weekly[[UNIT, "weeks", "at_risk"]], on=[UNIT, "weeks"], how="left"
    )
    return disclosure.suppress(
        table.fillna({"at_risk": 0}).astype({"at_risk": "int64"}),
        threshold=threshold,
        count_cols=["at_risk"],
        denominator_col=None,
        share_cols=(),
        keys=[UNIT, "weeks"],
        cells={"at_risk": "time.at_risk"},
    )


def time_summary_table(
    people: pd.DataFrame, threshold: int, *, cutoff=None
) -> pd.DataFrame:
    """Median time in programme in whole weeks: Kaplan–Meier (with censored) and completed-only.

    ``exited`` is left out (it is ``n − censored``). Times are whole weeks,
    rounded up, as the curves of :func:`time_curve_table` show them, and are
    hidden where fewer than ``threshold`` people make them: all of them when n
    is below the threshold; a Kaplan–Meier time where fewer than ``threshold``
    are still at risk (beyond the published curve); a completed-only quartile
    with fewer than ``threshold`` ended episodes at or below it, or at or above.

    Returns:
        ``subproject, n, censored, km_median_weeks, km_median_ci_low,
        km_median_ci_high, completed_median_weeks, completed_q1_weeks,
        completed_q3_weeks``.

    Example:
        >>> time_summary_table  # doctest: +ELLIPSIS
        <function time_summary_table at ...>
    """
    table = measures.time_summary(people, by=UNIT, cutoff=cutoff, weeks=True)
    support = [c for c in table.columns if c.endswith("_support")]
    stems = [c.removesuffix("_support") for c in support]
    times = [s if s in table.columns else f"{s}_weeks" for s in stems]
    out = disclosure.suppress(
        table[[UNIT, "n", "censored", *times]],
        threshold=threshold,
        count_cols=["n", "censored"],
        # n − censored (those who left) is checked as a complement
        denominator_col="n",
        share_cols=(),
        cells={"n": "time.n", "censored": "time.censored"},
        dims={UNIT: UNIT},
    )
    for col, basis in zip(times, support, strict=True):
        few = (out[col].notna() & ~table[basis].ge(int(threshold))).to_numpy()
        out[col] = pd.array(out[col], dtype="Float64")
        out.loc[few, col] = pd.NA
        out[f"{col}{disclosure.FLAG_SUFFIX}"] = few
    return _hide_with(out, times, ["n"], threshold, "n")


def step_distribution_table(
    people: pd.DataFrame,
    threshold: int,
    *,
    measure: str = "step",
    by: str | None = UNIT,
) -> pd.DataFrame:
    """Pairs per change in steps (or health), per subproject or for the project.

    Example:
        >>> step_distribution_table  # doctest: +ELLIPSIS
        <function step_distribution_table at ...>
    """
    keys = [by] if by else []
    return disclosure.suppress(
        measures.step_change_distribution(people, measure, by=by),
        threshold=threshold,
        count_cols=["count"],
        denominator_col=None,
        margins=[keys, ["change"]] if keys else [[]],
        cells={"count": "steps.change"},
        dims={**({by: UNIT} if by else {}), "change": "change"},
        fixed={"measure": measure},
    )


def step_summary_table(
    people: pd.DataFrame,
    threshold: int,
    *,
    unit: str | None = None,
    which: Sequence[str] = ("step", "health"),
) -> pd.DataFrame:
    """Share moving up, mean change (t interval) and Wilcoxon p, per measure.

    The Wilcoxon p is hidden with n, and only "p < 0.05"/"p ≥ 0.05"
    (``wilcoxon_p__coarse__suppressed``) when a count of the unit's change
    distribution (as :func:`step_distribution_table` publishes it) or of pairs
    moving up is hidden or small: an exact p inverts to them.

    Returns:
        ``[subproject], measure, n, events, share, ci_low, ci_high, mean_change,
        mean_ci_low, mean_ci_high, wilcoxon_p``.

    Example:
        >>> step_summary_table  # doctest: +ELLIPSIS
        <function step_summary_table at ...>
    """
    parts = []
    derived = ["mean_change", "mean_ci_low", "mean_ci_high", "wilcoxon_p"]
    for measure in which:
        table = measures.step_progression(people, measure, by=UNIT)
        table = disclosure.suppress(
            table,
            threshold=threshold,
            margins=[[]],
            cells=_STEP_CELLS,
            dims={UNIT: UNIT},
            fixed={"measure": measure},
        )
        table = _hide_with(table, derived, ["n"], threshold, "n")
        basis = _wilcoxon_basis(people, threshold, measure, table)
        table = disclosure.coarsen_p(table, "wilcoxon_p", basis, threshold)
        parts.append(select(table, unit).assign(measure=measure))
    out = pd.concat(parts, ignore_index=True)
    front = [*([UNIT] if unit is None else []), "measure"]
    out = out[[*front, *[c for c in out.columns if c not in (*front, UNIT)]]]
    return disclosure.suppress(
        out,
        threshold=threshold,
        keys=front,
        cells=_STEP_CELLS,
        dims={k: k for k in front},
        fixed={UNIT: unit} if unit is not None else {},
    )


def _wilcoxon_basis(
    people: pd.DataFrame, threshold: int, measure: str, table: pd.DataFrame
) -> pd.DataFrame:
    """The counts behind each unit's Wilcoxon p, aligned to ``table``'s rows.

    Per change value the count as published (missing where hidden) and as
    counted, plus the pairs moving up as published.
    """
    shown = step_distribution_table(people, threshold, measure=measure, by=UNIT)
    raw = measures.step_change_distribution(people, measure, by=UNIT)
    wide = [
        frame.assign(**{UNIT: frame[UNIT].astype("string")})
        .pivot(index=UNIT, columns="change", values="count")
        .add_prefix(name)
        for name, frame in (("shown_", shown), ("raw_", raw))
    ]
    keys = table[UNIT].astype("string").to_numpy()
    basis = pd.concat(wide, axis=1).reindex(keys).reset_index(drop=True)
    return basis.assign(events=table["events"].to_numpy())


def age_sex_table(people: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Participants per subproject, age group and sex (population pyramid).

    Example:
        >>> age_sex_table  # doctest: +ELLIPSIS
        <function age_sex_table at ...>
    """
    valid = measures.add_age_groups(_valid(people))
    keys = [UNIT, "age_group", "sex"]
    frame = valid.assign(
        age_group=pd.Categorical(valid["age_group"], measures.AGE_GROUPS),
        sex=pd.Categorical(valid["sex"], ["woman", "man", "unknown"]),
    )
    table = frame.groupby(keys, observed=False).size().rename("count").reset_index()
    return disclosure.suppress(
        table,
        threshold=threshold,
        count_cols=["count"],
        denominator_col=None,
        sex_col="sex",
        keys=keys,
        # the project pyramid (all units) is published too
        margins=[[UNIT, "age_group"], [UNIT, "sex"], ["age_group", "sex"]],
        cells={"count": "valid"},
    )


def esf_table(
    people: pd.DataFrame,
    dimension: str,
    threshold: int,
    *,
    by: str | None = None,
) -> pd.DataFrame:
    """ESF indicator at entry by sex (``age_band_esf``, ``education``, ``occupation_before``).

    Example:
        >>> esf_table  # doctest: +ELLIPSIS
        <function esf_table at ...>
    """
    keys = [by] if by else []
    esf = measures.esf_breakdown(people, dimension, by=by)
    return disclosure.suppress(
        esf[[*keys, "sex", "category", "count", "total"]],
        threshold=threshold,
        count_cols=["count", "total"],
        denominator_col=None,
        sex_col="sex",
        keys=[*keys, "sex", "category"],
        margins=[[*keys, "sex"], *([["sex", "category"]] if keys else [])],
        cells={"count": "valid", "total": ("valid", [dimension])},
        dims={**({by: UNIT} if by else {}), "sex": "sex", "category": dimension},
    )


def misregistration_count(people: pd.DataFrame, threshold: int) -> int | None:
    """Episodes closed as registered in error, or None when too few to show.

    Example:
        >>> df = pd.DataFrame({"exit_reason": ["misregistration"] * 6 + [None]})
        >>> misregistration_count(df, 5), misregistration_count(df.iloc[4:], 5)
        (6, None)
    """
    table = disclosure.suppress(
        measures.misregistrations(people, by=None),
        threshold=threshold,
        count_cols=["misregistrations"],
        denominator_col=None,
        cells={"misregistrations": "misregistrations"},
    )
    value = table["misregistrations"].iloc[0]
    return None if pd.isna(value) else int(value)


def _report_rows(report: dict) -> pd.DataFrame:
    rows = [
        {
            "source": name,
            "clean": s.get("rows_clean"),
            "rejected": s.get("rows_rejected"),
            "skipped": s.get("rows_skipped"),
        }
        for name, s in report.get("sources", {}).items()
        if not s.get("error") and not s.get("not_delivered")
    ]
    table = pd.DataFrame(rows, columns=["source", "clean", "rejected", "skipped"])
    return table.melt(id_vars="source", var_name="outcome", value_name="n")


def delivery_changes(
    processed_dir: str | Path | None = None, threshold: int | None = None
) -> pd.DataFrame | None:
    """Rows per source and outcome in the previous clean and now, or None if no previous.

    Reads ``cleaning_report.json`` and ``cleaning_report.previous.json`` (kept
    by :func:`rehab_analytics.clean.run.run_clean`). Rows read per source are not
    shown (as in the row accounting), so a hidden count cannot be worked out.

    Returns:
        ``source, outcome, previous, current, change_rows`` (hidden when
        either count is).

    Example:
        >>> import tempfile
        >>> delivery_changes(tempfile.mkdtemp(), 5) is None
        True
    """
    from rehab_analytics.processed import OUTPUT_FILES, PREVIOUS_REPORT

    conf = settings(processed_dir=processed_dir)
    folder = conf.processed_dir
    threshold = conf.suppression_threshold if threshold is None else threshold
    paths = [folder / PREVIOUS_REPORT, folder / OUTPUT_FILES["report"]]
    if not all(p.is_file() for p in paths):
        return None
    before, now = (
        _report_rows(json.loads(p.read_text(encoding="utf-8"))) for p in paths
    )
    table = before.merge(
        now, on=["source", "outcome"], how="outer", suffixes=("_previous", "_current")
    ).rename(columns={"n_previous": "previous", "n_current": "current"})
    table[["previous", "current"]] = table[["previous", "current"]].fillna(0)
    table["change_rows"] = table["current"] - table["previous"]
    order = {"clean": 0, "rejected": 1, "skipped": 2}
    table = table.sort_values(
        ["source", "outcome"], key=lambda s: s.map(order) if s.name == "outcome" else s
    ).reset_index(drop=True)
    out = disclosure.suppress(
        table.astype({"previous": "int64", "current": "int64"}),
        threshold=threshold,
        count_cols=["previous", "current"],
        denominator_col=None,
        share_cols=(),
    )
    return _hide_with(out, ["change_rows"], ["previous", "current"], threshold)
