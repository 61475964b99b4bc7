"""Publishable tables on volume and outcomes: enrolment, goals, shares, comparisons, costs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rehab_analytics import catalogue, disclosure, measures, stats
from rehab_analytics.disclosure import FLAG_SUFFIX
from rehab_analytics.tables.core import (
    OUTCOME,
    SUMMARY_OUTCOMES,
    UNIT,
    _flags,
    _hide_together,
    _hide_with,
    _valid,
    select,
)

# The counts of every outcome table are the same cells wherever they appear.
_OUTCOME_CELLS = {"cells": {"n": "outcome.n", "events": "outcome.events"}}

__all__ = [
    "background_table",
    "casemix_table",
    "compare_table",
    "cost_table",
    "enrolment_table",
    "goal_table",
    "outcome_summary_table",
    "outcome_table",
    "trend_table",
    "volume_table",
]


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
        cells={"cumulative_enrolled": "enrolment.cumulative"},
        dims={UNIT: UNIT, "date": "month"},
    )


def goal_table(
    people: pd.DataFrame,
    plan: pd.DataFrame,
    anonymous: pd.DataFrame | None,
    threshold: int,
    *,
    start=None,
    end=None,
) -> pd.DataFrame:
    """Enrolled (identified + anonymous) against the plan, per subproject.

    ``enrolled = identified + anonymous``, so a hidden anonymous count hides the
    enrolled count (and share) too. With ``start`` and ``end``: episodes started
    in the period against the plan of the years it covers, pro rata
    (:func:`rehab_analytics.measures.goal_attainment`).

    Returns:
        ``subproject, planned, identified, anonymous, enrolled, share``.

    Example:
        >>> goal_table  # doctest: +ELLIPSIS
        <function goal_table at ...>
    """
    table = measures.goal_attainment(people, plan, anonymous, start=start, end=end)
    columns = ["subproject", "planned", "identified", "anonymous", "enrolled", "share"]
    counts = ["identified", "anonymous", "enrolled"]
    kwargs = dict(
        threshold=threshold,
        count_cols=counts,
        denominator_col=None,
        share_cols=["share"],
        cells={"identified": "valid", "anonymous": "anonymous", "enrolled": "enrolled"},
        dims={UNIT: UNIT},
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
        people, by=[UNIT, "sex"], start=start, end=end, anonymous=anonymous
    )
    # enrolled_with_anonymous is left out: with the episodes it gives anonymous back
    counts = ["enrolled_episodes", "enrolled_persons", "exited", "anonymous"]
    return disclosure.suppress(
        table[[UNIT, "sex", *counts]],
        threshold=threshold,
        count_cols=counts,
        denominator_col=None,
        sex_col="sex",
        keys=[UNIT, "sex"],
        margins=[[UNIT], ["sex"]],
        cells={
            "enrolled_episodes": "episodes",
            "enrolled_persons": "persons",
            "exited": "exits",
            "anonymous": "anonymous",
        },
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
    table = measures.volume(people, by=[UNIT, field])
    table = table[[UNIT, field, "enrolled_episodes"]].rename(
        columns={"enrolled_episodes": "count"}
    )
    table["total"] = table.groupby(UNIT, observed=False)["count"].transform("sum")
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
        margins=[[UNIT], [field]],
        cells={"count": "episodes", "total": ("episodes", [field])},
        dims={UNIT: UNIT, field: field},
    )


def outcome_table(
    people: pd.DataFrame,
    outcome: str = OUTCOME,
    threshold: int = 5,
    *,
    by: str | Sequence[str] | None = (UNIT,),
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
    cells = dict(_OUTCOME_CELLS, fixed={"outcome": outcome}, dims={k: k for k in keys})
    if "sex" in keys:
        others = [k for k in keys if k != "sex"]
        return disclosure.suppress(
            table,
            threshold=threshold,
            sex_col="sex",
            keys=keys,
            margins=[others, ["sex"]] if others else [[]],
            **cells,
        )
    return disclosure.suppress(
        table, threshold=threshold, margins=[[]] if keys else (), **cells
    )


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
        by = [UNIT] if unit is not None else []
        by += ["sex"] if by_sex else []
        part = select(outcome_table(people, outcome, threshold, by=by), unit)
        parts.append(part.drop(columns=[UNIT], errors="ignore").assign(outcome=outcome))
    table = pd.concat(parts, ignore_index=True)
    if by_sex:
        # nobody of unknown sex: the row says nothing
        empty = table["sex"].astype("string").eq("unknown") & table["n"].eq(0)
        table = table[~empty.fillna(False).to_numpy()]
    front = ["outcome", *(["sex"] if by_sex else [])]
    table = table[[*front, *[c for c in table.columns if c not in front]]]
    # every part was suppressed; suppressing again keeps their flags
    return disclosure.suppress(
        table,
        threshold=threshold,
        keys=front,
        margins=(),
        sex_col=None,
        **_OUTCOME_CELLS,
        dims={k: k for k in front},
        fixed={UNIT: unit} if unit is not None else {},
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
    shares = measures.outcome_shares(people, outcome, by=UNIT)
    shares = shares[shares["n"] > 0].reset_index(drop=True)
    units = shares[UNIT].astype(str).to_numpy()
    table = stats.compare_with_rest(shares["events"], shares["n"], units)
    flags = stats.funnel_flags(shares["events"], shares["n"])
    out = disclosure.suppress(
        table,
        threshold=threshold,
        share_cols=("share", "rest_share", "difference", "ci_low", "ci_high"),
        margins=[[]],
        **_OUTCOME_CELLS,
        dims={"unit": UNIT},
        fixed={"outcome": outcome},
    )
    out = _hide_with(out, ["p_value", "p_adjusted"], ["share"], threshold)
    hidden = _flags(out, f"share{FLAG_SUFFIX}")
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
    order = catalogue.unit_order(table["unit"].astype(str), display=True)
    rank = {code: i for i, code in enumerate(order)}
    table = table.sort_values("unit", key=lambda s: s.astype(str).map(rank))
    out = disclosure.suppress(
        table[columns].reset_index(drop=True),
        threshold=threshold,
        count_cols=["n", "observed"],
        share_cols=["crude_share", "expected_share"],
        margins=[[]],
        cells={"n": "outcome.n", "observed": "outcome.events"},
        dims={"unit": UNIT},
        fixed={"outcome": outcome},
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
    return disclosure.suppress(
        table,
        threshold=threshold,
        margins=[[]],
        **_OUTCOME_CELLS,
        dims={"period": "exit_tertial"},
        fixed={"outcome": outcome},
    )


def cost_table(
    people: pd.DataFrame,
    plan: pd.DataFrame,
    threshold: int,
    *,
    by: str | Sequence[str] | None = (UNIT,),
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
        cells={"participants": "valid", "work_or_study": "outcome.events"},
        dims={UNIT: UNIT},
        fixed={"outcome": OUTCOME},
    )
    for ratio, count in ratios.items():
        out = _hide_with(out, [ratio], [count], threshold, count)
    return out
