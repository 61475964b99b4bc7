"""Publishable tables for the report recipes: measure, then suppress, in one place.

Each function takes clean tables (contract columns) and the suppression
threshold and returns a table that passed
:func:`rehab_analytics.disclosure.suppress`, with code values (``dino``,
``woman``), ready for a chart or, after :func:`rehab_analytics.figures.labelled`,
for a published table. The suppression recipe of each table (which counts, which
margins) lives here only, so the gallery, the report notebooks and the analysts'
notebook hide the same cells. Everything is measured per subproject and then
selected (:func:`select`), so a subproject report hides exactly the cells the
comparison report hides.

Derived numbers that are not shares (costs per participant, O/E ratios,
p-values, medians) are hidden with the counts they rest on (flag column
``<col>__suppressed``, shown as ".."), so they never give a hidden count back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rehab_analytics import disclosure, measures, stats
from rehab_analytics.config import settings

__all__ = [
    "OUTCOME",
    "SUMMARY_OUTCOMES",
    "select",
    "enrolment_table",
    "goal_table",
    "volume_table",
    "background_table",
    "outcome_table",
    "outcome_summary_table",
    "compare_table",
    "casemix_table",
    "trend_table",
    "cost_table",
    "income_transition_table",
    "income_change_table",
    "occupation_table",
    "exit_reason_table",
    "time_curve_table",
    "time_summary_table",
    "step_distribution_table",
    "step_summary_table",
    "age_sex_table",
    "esf_table",
    "misregistration_count",
    "delivery_changes",
]

OUTCOME = "work_or_study_after"
SUMMARY_OUTCOMES = (
    "work_or_study_after",
    "employed_after",
    "studying_after",
    "started_or_increased",
    "dropped_out",
)
_FLAG = "__suppressed"
_SECONDARY = "__secondary" + _FLAG
_UNIT = "subproject"


# --------------------------------------------------------------------- helpers


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
        mask |= _flags(out, f"{col}{_FLAG}")
    if minimum is not None:
        mask |= ~(_numbers(out[minimum]) >= threshold)
    for col in columns:
        if col not in out.columns:
            continue
        values = pd.array(_numbers(out[col]), dtype="Float64")
        out[col] = pd.Series(values, index=out.index).mask(mask)
        out[f"{col}{_FLAG}"] = _flags(out, f"{col}{_FLAG}") | mask
    return out


def _hide_together(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Hide all ``columns`` of a row when one is hidden (they determine each other).

    Cells hidden here protect another cell, so they are marked secondary ("..").
    """
    out = table.copy()
    present = [c for c in columns if c in out.columns]
    row = np.zeros(len(out), dtype=bool)
    for col in present:
        row |= _flags(out, f"{col}{_FLAG}")
    for col in present:
        before = _flags(out, f"{col}{_FLAG}")
        new = row & ~before
        if not new.any():
            continue
        out[col] = pd.Series(out[col], index=out.index).mask(row)
        out[f"{col}{_FLAG}"] = before | row
        out[f"{col}{_SECONDARY}"] = _flags(out, f"{col}{_SECONDARY}") | new
    return out


def _valid(people: pd.DataFrame) -> pd.DataFrame:
    reason = people["exit_reason"].astype("string")
    return people[(reason != "misregistration").fillna(True).to_numpy()]


def select(table: pd.DataFrame, unit: str | None, column: str = _UNIT) -> pd.DataFrame:
    """Rows of one unit of a suppressed table (all rows when ``unit`` is None).

    Selecting rows keeps the suppression mark, and a unit's rows hide the same
    cells as in the comparison of all units.

    Example:
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


# ----------------------------------------------------------------- volume


def enrolment_table(
    people: pd.DataFrame,
    plan: pd.DataFrame,
    threshold: int,
    *,
    units: Sequence[str] | None = None,
    total: bool = False,
) -> pd.DataFrame:
    """Cumulative enrolment per month against the plan (for the enrolment chart).

    Args:
        people: Clean participants (all periods: the curve is cumulative).
        plan: Clean subprojects table.
        threshold: Suppression threshold.
        units: Subprojects to keep (default all).
        total: Keep the project line (``subproject == "total"``) too.

    Example:
        >>> enrolment_table  # doctest: +ELLIPSIS
        <function enrolment_table at ...>
    """
    table = measures.enrolment_over_time(people, plan, freq="M")
    keep = table["subproject"] != "total" if not total else table["subproject"].notna()
    if units is not None:
        keep &= table["subproject"].isin([*units, *(["total"] if total else [])])
    columns = ["subproject", "date", "cumulative_enrolled", "cumulative_planned"]
    return disclosure.suppress(
        table.loc[keep, columns].reset_index(drop=True),
        threshold=threshold,
        count_cols=["cumulative_enrolled"],
        denominator_col=None,
    )


def goal_table(
    people: pd.DataFrame,
    plan: pd.DataFrame,
    anonymous: pd.DataFrame | None,
    threshold: int,
) -> pd.DataFrame:
    """Enrolled (identified + anonymous) against the plan, per subproject.

    ``enrolled = identified + anonymous``, so a hidden anonymous count hides the
    enrolled count (and share) too.

    Returns:
        ``subproject, planned, identified, anonymous, enrolled, share``.

    Example:
        >>> goal_table  # doctest: +ELLIPSIS
        <function goal_table at ...>
    """
    table = measures.goal_attainment(people, plan, anonymous)
    columns = ["subproject", "planned", "identified", "anonymous", "enrolled", "share"]
    counts = ["identified", "anonymous", "enrolled"]
    kwargs = dict(
        threshold=threshold,
        count_cols=counts,
        denominator_col=None,
        share_cols=["share"],
    )
    out = disclosure.suppress(table[columns], **kwargs)
    return disclosure.suppress(_hide_together(out, counts), **kwargs)


def volume_table(
    people: pd.DataFrame,
    anonymous: pd.DataFrame | None,
    threshold: int,
    *,
    start=None,
    end=None,
) -> pd.DataFrame:
    """Participation in the period per subproject and sex (episodes, persons, exits).

    Example:
        >>> volume_table  # doctest: +ELLIPSIS
        <function volume_table at ...>
    """
    table = measures.volume(
        people, by=[_UNIT, "sex"], start=start, end=end, anonymous=anonymous
    )
    # enrolled_with_anonymous is left out: with the episodes it gives anonymous back
    counts = ["enrolled_episodes", "enrolled_persons", "exited", "anonymous"]
    return disclosure.suppress(
        table[[_UNIT, "sex", *counts]],
        threshold=threshold,
        count_cols=counts,
        denominator_col=None,
        sex_col="sex",
        keys=[_UNIT, "sex"],
        margins=[[_UNIT], ["sex"]],
    )


def background_table(people: pd.DataFrame, field: str, threshold: int) -> pd.DataFrame:
    """Participants (episodes in ``people``) per subproject and category of ``field``.

    Args:
        people: Clean participants of the period.
        field: ``education``, ``income_group_before``, ``support_years_before``,
            ``age_group`` or ``occupation_before``.
        threshold: Suppression threshold.

    Returns:
        ``subproject, <field>, count, total, share`` (share of the subproject).

    Example:
        >>> background_table  # doctest: +ELLIPSIS
        <function background_table at ...>
    """
    table = measures.volume(people, by=[_UNIT, field])
    table = table[[_UNIT, field, "enrolled_episodes"]].rename(
        columns={"enrolled_episodes": "count"}
    )
    table["total"] = table.groupby(_UNIT, observed=False)["count"].transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        table["share"] = np.where(
            table["total"] > 0, table["count"] / table["total"], np.nan
        )
    return disclosure.suppress(
        table,
        threshold=threshold,
        count_cols=["count", "total"],
        denominator_col="total",
        share_cols=["share"],
        margins=[[_UNIT], [field]],
    )


# ---------------------------------------------------------------- outcomes


def outcome_table(
    people: pd.DataFrame,
    outcome: str = OUTCOME,
    threshold: int = 5,
    *,
    by: str | Sequence[str] | None = (_UNIT,),
) -> pd.DataFrame:
    """Outcome share with its Wilson interval per subproject (or per subproject × sex).

    The units add up to the published project total, so one hidden unit takes
    a second one with it; by sex, both sexes are hidden when one is small.

    Example:
        >>> outcome_table  # doctest: +ELLIPSIS
        <function outcome_table at ...>
    """
    keys = [by] if isinstance(by, str) else list(by or [])
    table = measures.outcome_shares(people, outcome, by=keys or None)
    if "sex" in keys:
        others = [k for k in keys if k != "sex"]
        return disclosure.suppress(
            table,
            threshold=threshold,
            sex_col="sex",
            keys=keys,
            margins=[others, ["sex"]] if others else [[]],
        )
    return disclosure.suppress(table, threshold=threshold, margins=[[]] if keys else ())


def outcome_summary_table(
    people: pd.DataFrame,
    threshold: int,
    *,
    unit: str | None = None,
    outcomes: Sequence[str] = SUMMARY_OUTCOMES,
    by_sex: bool = False,
) -> pd.DataFrame:
    """Several outcomes for one subproject (or the project), one row per outcome.

    Returns:
        ``outcome, [sex], n, events, share, ci_low, ci_high``.

    Example:
        >>> outcome_summary_table  # doctest: +ELLIPSIS
        <function outcome_summary_table at ...>
    """
    parts = []
    for outcome in outcomes:
        by = [_UNIT] if unit is not None else []
        by += ["sex"] if by_sex else []
        part = select(outcome_table(people, outcome, threshold, by=by), unit)
        parts.append(
            part.drop(columns=[_UNIT], errors="ignore").assign(outcome=outcome)
        )
    table = pd.concat(parts, ignore_index=True)
    if by_sex:
        # nobody of unknown sex: the row says nothing
        empty = table["sex"].astype("string").eq("unknown") & table["n"].eq(0)
        table = table[~empty.fillna(False).to_numpy()]
    front = ["outcome", *(["sex"] if by_sex else [])]
    table = table[[*front, *[c for c in table.columns if c not in front]]]
    # every part was suppressed; suppressing again keeps their flags
    return disclosure.suppress(
        table, threshold=threshold, keys=front, margins=(), sex_col=None
    )


def compare_table(
    people: pd.DataFrame, outcome: str = OUTCOME, threshold: int = 5
) -> pd.DataFrame:
    """Each subproject against the rest pooled: Newcombe difference, Holm p, funnel flag.

    Returns:
        ``unit, n, events, share, rest_share, difference, ci_low, ci_high,
        p_value, p_adjusted, flag`` (``flag``: high/low/not_significant at the
        funnel's 95 % limits; hidden with the share).

    Example:
        >>> compare_table  # doctest: +ELLIPSIS
        <function compare_table at ...>
    """
    shares = measures.outcome_shares(people, outcome, by=_UNIT)
    shares = shares[shares["n"] > 0].reset_index(drop=True)
    units = shares[_UNIT].astype(str).to_numpy()
    table = stats.compare_with_rest(shares["events"], shares["n"], units)
    flags = stats.funnel_flags(shares["events"], shares["n"])
    out = disclosure.suppress(
        table,
        threshold=threshold,
        share_cols=("share", "rest_share", "difference", "ci_low", "ci_high"),
        margins=[[]],
    )
    out = _hide_with(out, ["p_value", "p_adjusted"], ["share"], threshold)
    hidden = _flags(out, f"share{_FLAG}")
    out["flag"] = pd.array(flags["flag"].to_numpy(), dtype="string")
    out["flag"] = out["flag"].mask(hidden)
    return out


def casemix_table(
    people: pd.DataFrame,
    outcome: str = OUTCOME,
    threshold: int = 5,
    *,
    covariates: Sequence[str] = stats.DEFAULT_COVARIATES,
) -> pd.DataFrame:
    """Case-mix adjusted observed/expected ratio per subproject (indirect standardisation).

    Ended, non-misregistered episodes with a known outcome. ``attrs["casemix"]``
    keeps the covariates used and the model notes.

    Returns:
        ``unit, n, observed, expected, oe, ci_low, ci_high, crude_share,
        expected_share``.

    Example:
        >>> casemix_table  # doctest: +ELLIPSIS
        <function casemix_table at ...>
    """
    ended = _valid(people)
    ended = ended[ended["end_date"].notna() & ended[outcome].notna()]
    if outcome != OUTCOME:
        raise ValueError(
            f"casemix_table() supports outcome '{OUTCOME}', got {outcome!r}."
        )
    table = stats.casemix_observed_expected(
        ended.assign(**{outcome: ended[outcome].astype(bool)}),
        outcome,
        covariates=covariates,
    )
    columns = [
        "unit",
        "n",
        "observed",
        "expected",
        "oe",
        "ci_low",
        "ci_high",
        "crude_share",
        "expected_share",
    ]
    from rehab_analytics.plots_style import _unit_order

    rank = {code: i for i, code in enumerate(_unit_order(table["unit"].astype(str)))}
    table = table.sort_values("unit", key=lambda s: s.astype(str).map(rank))
    out = disclosure.suppress(
        table[columns].reset_index(drop=True),
        threshold=threshold,
        count_cols=["n", "observed"],
        share_cols=["crude_share", "expected_share"],
        margins=[[]],
    )
    out = _hide_with(
        out, ["expected", "oe", "ci_low", "ci_high"], ["n", "observed"], threshold, "n"
    )
    out.attrs["casemix"] = table.attrs.get("casemix", {})
    return out


def trend_table(
    people: pd.DataFrame, outcome: str = OUTCOME, threshold: int = 5
) -> pd.DataFrame:
    """Outcome share per exit tertial for the project (trend and SPC charts).

    Example:
        >>> trend_table  # doctest: +ELLIPSIS
        <function trend_table at ...>
    """
    table = measures.trend(people, outcome, by=None)
    return disclosure.suppress(table, threshold=threshold, margins=[[]])


def cost_table(
    people: pd.DataFrame,
    plan: pd.DataFrame,
    threshold: int,
    *,
    by: str | Sequence[str] | None = (_UNIT,),
) -> pd.DataFrame:
    """Cost, budget, ESF money, participants and cost per (successful) participant.

    Ratios are rounded to whole kronor and hidden with the count they divide by.

    Example:
        >>> cost_table  # doctest: +ELLIPSIS
        <function cost_table at ...>
    """
    table = measures.costs(people, plan, by=by)
    ratios = {
        "cost_per_participant": "participants",
        "cost_per_work_or_study": "work_or_study",
    }
    money = ["cost_sek", "budget_sek", "esf_sek", *ratios]
    table[money] = table[money].round(0)
    out = disclosure.suppress(
        table,
        threshold=threshold,
        count_cols=["participants", "work_or_study"],
        denominator_col=None,
        share_cols=(),
    )
    for ratio, count in ratios.items():
        out = _hide_with(out, [ratio], [count], threshold, count)
    return out


# ----------------------------------------------------------- before / after


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
    table = measures.income_change_test(people, state=state, by=_UNIT)
    counts = ["before", "after", "b", "c"]
    kwargs = dict(
        threshold=threshold,
        count_cols=["n", *counts],
        denominator_col=None,
        share_cols=(),
    )
    out = disclosure.suppress(table[[_UNIT, "n", *counts, "p_value"]], **kwargs)
    out = disclosure.suppress(_hide_together(out, counts), **kwargs)
    return _hide_with(out, ["p_value"], ["n"], threshold, "n")


def occupation_table(people: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Occupation before and after per subproject (same exited episodes).

    Example:
        >>> occupation_table  # doctest: +ELLIPSIS
        <function occupation_table at ...>
    """
    return disclosure.suppress(
        measures.occupation_before_after(people, by=_UNIT),
        threshold=threshold,
        count_cols=["count_before", "count_after", "total"],
        denominator_col="total",
        share_cols=["share_before", "share_after"],
        margins=[[_UNIT], ["occupation"]],
    )


def exit_reason_table(people: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Reasons for leaving per subproject, with shares of the subproject's exits.

    Example:
        >>> exit_reason_table  # doctest: +ELLIPSIS
        <function exit_reason_table at ...>
    """
    table = measures.exit_reasons(people, by=_UNIT)
    return disclosure.suppress(
        table[[_UNIT, "exit_reason", "count", "total", "share"]],
        threshold=threshold,
        count_cols=["count", "total"],
        denominator_col="total",
        share_cols=["share"],
        margins=[[_UNIT], ["exit_reason"]],
    )


# ---------------------------------------------------------------- time, steps


def time_curve_table(
    people: pd.DataFrame, threshold: int, *, cutoff=None
) -> pd.DataFrame:
    """Kaplan–Meier curves of time in programme per subproject.

    Example:
        >>> time_curve_table  # doctest: +ELLIPSIS
        <function time_curve_table at ...>
    """
    return disclosure.suppress(
        measures.time_in_programme(people, by=_UNIT, cutoff=cutoff),
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
    table = measures.time_summary(people, by=_UNIT, cutoff=cutoff)
    days = [c for c in table.columns if c.endswith("_days") or "median_ci" in c]
    out = disclosure.suppress(
        table[[_UNIT, "n", "censored", *days]],
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
    by: str | None = _UNIT,
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
        table = measures.step_progression(people, measure, by=_UNIT)
        table = disclosure.suppress(table, threshold=threshold, margins=[[]])
        table = _hide_with(table, derived, ["n"], threshold, "n")
        parts.append(select(table, unit).assign(measure=measure))
    out = pd.concat(parts, ignore_index=True)
    front = [*([_UNIT] if unit is None else []), "measure"]
    out = out[[*front, *[c for c in out.columns if c not in (*front, _UNIT)]]]
    return disclosure.suppress(out, threshold=threshold, keys=front)


# ----------------------------------------------------------------- people


def age_sex_table(people: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Participants per subproject, age group and sex (population pyramid).

    Example:
        >>> age_sex_table  # doctest: +ELLIPSIS
        <function age_sex_table at ...>
    """
    valid = measures.add_age_groups(_valid(people))
    keys = [_UNIT, "age_group", "sex"]
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
        margins=[[_UNIT, "age_group"], [_UNIT, "sex"], ["age_group", "sex"]],
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


# ------------------------------------------------------------- data quality


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
    by :func:`rehab_analytics.pipeline.run_clean`). Rows read per source are not
    shown (as in the row accounting), so a hidden count cannot be worked out.

    Returns:
        ``source, outcome, previous, current, change_rows`` (hidden when
        either count is).

    Example:
        >>> import tempfile
        >>> delivery_changes(tempfile.mkdtemp(), 5) is None
        True
    """
    from rehab_analytics.pipeline import OUTPUT_FILES, PREVIOUS_REPORT

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
