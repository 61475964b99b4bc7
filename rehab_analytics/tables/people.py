"""Publishable tables on change, time, steps, who takes part and delivery quality."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

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
    "time_curve_table",
    "time_summary_table",
]


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
    are, so none can be worked out; n and the p-value stay.

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
    return _hide_with(out, ["p_value"], ["n"], threshold, "n")


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
    )


def time_curve_table(
    people: pd.DataFrame, threshold: int, *, cutoff=None
) -> pd.DataFrame:
    """Kaplan–Meier curves of time in programme per subproject.

    Example:
        >>> time_curve_table  # doctest: +ELLIPSIS
        <function time_curve_table at ...>
    """
    return disclosure.suppress(
        measures.time_in_programme(people, by=UNIT, cutoff=cutoff),
        threshold=threshold,
        count_cols=(),
        share_cols=(),
    )


def time_summary_table(
    people: pd.DataFrame, threshold: int, *, cutoff=None
) -> pd.DataFrame:
    """Median time in programme: Kaplan–Meier (with censored) and completed-only.

    ``exited`` is left out (it is ``n − censored``).

    Returns:
        ``subproject, n, censored, km_median_days, km_median_ci_low,
        km_median_ci_high, completed_median_days, completed_q1_days,
        completed_q3_days``.

    Example:
        >>> time_summary_table  # doctest: +ELLIPSIS
        <function time_summary_table at ...>
    """
    table = measures.time_summary(people, by=UNIT, cutoff=cutoff)
    days = [c for c in table.columns if c.endswith("_days") or "median_ci" in c]
    out = disclosure.suppress(
        table[[UNIT, "n", "censored", *days]],
        threshold=threshold,
        count_cols=["n", "censored"],
        denominator_col=None,
        share_cols=(),
    )
    out[days] = out[days].round(0)
    return _hide_with(out, days, ["n"], threshold, "n")


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
    )


def step_summary_table(
    people: pd.DataFrame,
    threshold: int,
    *,
    unit: str | None = None,
    which: Sequence[str] = ("step", "health"),
) -> pd.DataFrame:
    """Share moving up, mean change (t interval) and Wilcoxon p, per measure.

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
        table = disclosure.suppress(table, threshold=threshold, margins=[[]])
        table = _hide_with(table, derived, ["n"], threshold, "n")
        parts.append(select(table, unit).assign(measure=measure))
    out = pd.concat(parts, ignore_index=True)
    front = [*([UNIT] if unit is None else []), "measure"]
    out = out[[*front, *[c for c in out.columns if c not in (*front, UNIT)]]]
    return disclosure.suppress(out, threshold=threshold, keys=front)


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
