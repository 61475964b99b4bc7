"""Table and text recipes: summary tables, comparisons and the plain-language summary."""

from __future__ import annotations

import pandas as pd

from rehab_analytics import catalogue, narrative
from rehab_analytics import tables as ft
from rehab_analytics.figures.core import (
    Context,
    Table,
    _goal,
    _goal_total,
    _row,
    _title,
)
from rehab_analytics.tables import (
    OUTCOME,
    SUMMARY_OUTCOMES,
    UNIT,
    delivery_changes,
    select,
)

__all__ = [
    "background",
    "casemix_table",
    "caveats",
    "changes_table",
    "comparison",
    "cost_table",
    "goal_attainment",
    "income_change",
    "outcome_summary",
    "outcomes_by_sex",
    "outcomes_by_unit",
    "small_units",
    "step_summary",
    "summary",
    "time_summary",
    "unit_summary",
    "volume",
]


def _outcome_label(outcome: str, lang: str) -> str:
    return catalogue.label("outcome", outcome, lang)


def goal_attainment(ctx: Context, unit: str | None = None) -> Table:
    """Enrolled participants (with anonymous) against the plan.

    Example:
        >>> goal_attainment  # doctest: +ELLIPSIS
        <function goal_attainment at ...>
    """
    table = _goal(ctx)
    table = select(table, unit)
    text = narrative.enrolment_sentence(
        _row(table) if unit else _goal_total(table), ctx.lang, unit
    )
    return Table(
        "goal_attainment", table, _title("goal_attainment", ctx), ctx.lang, text=text
    )


def volume(ctx: Context, unit: str | None = None) -> Table:
    """Episodes, persons, exits and anonymous participants in the period, by sex.

    Example:
        >>> volume  # doctest: +ELLIPSIS
        <function volume at ...>
    """
    table = ft.volume_table(
        ctx.participants, ctx.anonymous, ctx.threshold, start=ctx.start, end=ctx.end
    )
    return Table("volume_by_sex", select(table, unit), _title("volume", ctx), ctx.lang)


def background(ctx: Context, field_name: str, unit: str | None = None) -> Table:
    """Participants by education, income before, time on support before or age group.

    Example:
        >>> background  # doctest: +ELLIPSIS
        <function background at ...>
    """
    table = select(ft.background_table(ctx.episodes, field_name, ctx.threshold), unit)
    title = _title(f"background.{field_name}", ctx)
    return Table(f"background_{field_name}", table, title, ctx.lang)


def outcome_summary(
    ctx: Context, unit: str | None = None, by_sex: bool = False
) -> Table:
    """Work or studies, employed, studying, started or increased, dropped out (Wilson).

    Example:
        >>> outcome_summary  # doctest: +ELLIPSIS
        <function outcome_summary at ...>
    """
    table = ft.outcome_summary_table(
        ctx.episodes, ctx.threshold, unit=unit, by_sex=by_sex
    )
    name = "outcomes_by_sex" if by_sex else "outcomes"
    text = ""
    if not by_sex:
        text = narrative.outcome_sentence(
            _row(table, "outcome", OUTCOME), OUTCOME, ctx.lang, unit
        )
    return Table(name, table, _title(name, ctx), ctx.lang, text=text)


def comparison(ctx: Context, outcome: str = OUTCOME) -> Table:
    """Each subproject against the rest: Newcombe difference, Holm-adjusted p, funnel flag.

    Example:
        >>> comparison  # doctest: +ELLIPSIS
        <function comparison at ...>
    """
    table = ft.compare_table(ctx.episodes, outcome, ctx.threshold)
    title = _title("comparison", ctx, outcome=_outcome_label(outcome, ctx.lang))
    text = catalogue.text("narrative.multiple", ctx.lang, k=len(table))
    return Table("vs_rest", table, title, ctx.lang, text=text)


def casemix_table(ctx: Context, outcome: str = OUTCOME) -> Table:
    """Observed, expected and O/E with intervals per subproject; covariates named.

    Example:
        >>> casemix_table  # doctest: +ELLIPSIS
        <function casemix_table at ...>
    """
    table = ft.casemix_table(
        ctx.episodes, outcome, ctx.threshold, covariates=ctx.casemix_covariates
    )
    used = table.attrs.get("casemix", {}).get("covariates", [])
    names = ", ".join(
        catalogue.text(f"narrative.covariate.{c}", ctx.lang) for c in used
    )
    text = catalogue.text("narrative.casemix_used", ctx.lang, covariates=names or "–")
    return Table("casemix", table, _title("casemix", ctx), ctx.lang, text=text)


def income_change(ctx: Context, unit: str | None = None) -> Table:
    """McNemar test of "no public support" before → after, per subproject.

    Example:
        >>> income_change  # doctest: +ELLIPSIS
        <function income_change at ...>
    """
    table = select(ft.income_change_table(ctx.episodes, ctx.threshold), unit)
    text = narrative.mcnemar_sentence(_row(table), ctx.lang) if unit else ""
    return Table(
        "income_change", table, _title("income_change", ctx), ctx.lang, text=text
    )


def time_summary(ctx: Context, unit: str | None = None) -> Table:
    """Kaplan–Meier median (with ongoing participants) and completed-only quartiles.

    Example:
        >>> time_summary  # doctest: +ELLIPSIS
        <function time_summary at ...>
    """
    table = select(
        ft.time_summary_table(ctx.episodes, ctx.threshold, cutoff=ctx.end), unit
    )
    text = narrative.time_sentence(_row(table), ctx.lang) if unit else ""
    return Table(
        "time_summary", table, _title("time_summary", ctx), ctx.lang, text=text
    )


def step_summary(ctx: Context, unit: str | None = None) -> Table:
    """Steps towards work and self-rated health: share up, mean change, Wilcoxon.

    Example:
        >>> step_summary  # doctest: +ELLIPSIS
        <function step_summary at ...>
    """
    table = ft.step_summary_table(ctx.episodes, ctx.threshold, unit=unit)
    text = ""
    if unit:
        text = " ".join(
            narrative.step_sentence(_row(table, "measure", m), m, ctx.lang)
            for m in ("step", "health")
        )
    return Table("steps", table, _title("steps", ctx), ctx.lang, text=text)


def cost_table(ctx: Context, unit: str | None = None) -> Table:
    """Cost, budget and ESF money with costs per participant (all years).

    Example:
        >>> cost_table  # doctest: +ELLIPSIS
        <function cost_table at ...>
    """
    table = select(
        ft.cost_table(ctx.participants, ctx.subprojects, ctx.threshold), unit
    )
    return Table("costs", table, _title("costs", ctx), ctx.lang)


def changes_table(
    processed_dir: str | None, lang: str, threshold: int | None = None
) -> Table | narrative.Text:
    """Rows per source then and now, or a sentence saying there is no earlier delivery.

    Example:
        >>> import tempfile
        >>> changes_table(tempfile.mkdtemp(), "en").startswith("There is no")
        True
    """
    table = delivery_changes(processed_dir or None, threshold)
    if table is None:
        return narrative.Text(catalogue.text("narrative.no_previous", lang))
    title = catalogue.text("report.table.changes", lang)
    text = narrative.changes_sentence(table, lang)
    return Table("changes", table, title, lang, {"outcome": "row_outcome"}, text)


def small_units(ctx: Context, outcome: str = OUTCOME) -> list[str]:
    """Subprojects whose outcome denominator is below ``narrative.SMALL_UNIT``.

    Example:
        >>> small_units  # doctest: +ELLIPSIS
        <function small_units at ...>
    """
    table = ft.outcome_table(ctx.episodes, outcome, ctx.threshold)
    n = pd.to_numeric(table["n"], errors="coerce")
    small = table[(n.isna() | (n < narrative.SMALL_UNIT)).to_numpy()]
    return small[UNIT].astype(str).tolist()


def summary(
    ctx: Context, outcome: str = OUTCOME, casemix: bool = True
) -> narrative.Text:
    """The comparison's plain-language summary (see :func:`narrative.comparison_summary`).

    Example:
        >>> summary  # doctest: +ELLIPSIS
        <function summary at ...>
    """
    shares = ft.outcome_table(ctx.episodes, outcome, ctx.threshold)
    shares = shares[pd.to_numeric(shares["n"], errors="coerce").fillna(1) > 0]
    vs_rest = ft.compare_table(ctx.episodes, outcome, ctx.threshold)
    oe = None
    covariates: list[str] = []
    if casemix:
        oe = ft.casemix_table(
            ctx.episodes, outcome, ctx.threshold, covariates=ctx.casemix_covariates
        )
        covariates = oe.attrs.get("casemix", {}).get("covariates", [])
    return narrative.comparison_summary(
        shares,
        vs_rest,
        oe,
        outcome=outcome,
        lang=ctx.lang,
        casemix=casemix,
        covariates=covariates,
    )


def caveats(ctx: Context, unit: str | None = None) -> narrative.Text:
    """The report's caveats: suppression, intervals, misregistrations, small units.

    Example:
        >>> caveats  # doctest: +ELLIPSIS
        <function caveats at ...>
    """
    people = select(ctx.episodes, unit) if unit else ctx.episodes
    small = [u for u in small_units(ctx) if unit is None or u == unit]
    return narrative.caveats(
        ctx.lang,
        threshold=ctx.threshold,
        misregistrations=ft.misregistration_count(people, ctx.threshold),
        small_units=small,
    )


def unit_summary(ctx: Context, unit: str) -> narrative.Text:
    """The key points of one subproject's report, as Markdown bullets.

    Enrolment against plan, the main outcome with its interval and what the
    case-mix adjusted comparison says, income, time in programme and steps.

    Example:
        >>> unit_summary  # doctest: +ELLIPSIS
        <function unit_summary at ...>
    """
    goal = _goal(ctx)
    shares = ft.outcome_table(ctx.episodes, OUTCOME, ctx.threshold)
    oe = ft.casemix_table(
        ctx.episodes, OUTCOME, ctx.threshold, covariates=ctx.casemix_covariates
    )
    tests = ft.income_change_table(ctx.episodes, ctx.threshold)
    times = ft.time_summary_table(ctx.episodes, ctx.threshold, cutoff=ctx.end)
    steps = ft.step_summary_table(
        ctx.episodes, ctx.threshold, unit=unit, which=("step",)
    )
    return narrative.bullets(
        [
            narrative.enrolment_sentence(_row(goal, UNIT, unit), ctx.lang, unit) + ".",
            narrative.comparison_sentence(
                unit,
                _row(shares, UNIT, unit),
                oe=_row(oe, "unit", unit),
                lang=ctx.lang,
            ),
            narrative.mcnemar_sentence(_row(tests, UNIT, unit), ctx.lang),
            narrative.time_sentence(_row(times, UNIT, unit), ctx.lang),
            narrative.step_sentence(_row(steps), "step", ctx.lang),
        ]
    )


def outcomes_by_unit(ctx: Context) -> Table:
    """The five outcomes side by side for every subproject, with Wilson intervals.

    Example:
        >>> outcomes_by_unit  # doctest: +ELLIPSIS
        <function outcomes_by_unit at ...>
    """
    parts = [
        ft.outcome_table(ctx.episodes, o, ctx.threshold).assign(outcome=o)
        for o in SUMMARY_OUTCOMES
    ]
    table = pd.concat(parts, ignore_index=True)
    front = [UNIT, "outcome"]
    table = table[[*front, *[c for c in table.columns if c not in front]]]
    from rehab_analytics import disclosure

    table = disclosure.suppress(table, threshold=ctx.threshold, keys=front)
    return Table("outcomes_by_subproject", table, _title("outcomes", ctx), ctx.lang)


def outcomes_by_sex(ctx: Context, outcome: str = OUTCOME) -> Table:
    """The outcome per subproject and sex (both sexes hidden when one is small).

    Example:
        >>> outcomes_by_sex  # doctest: +ELLIPSIS
        <function outcomes_by_sex at ...>
    """
    table = ft.outcome_table(ctx.episodes, outcome, ctx.threshold, by=[UNIT, "sex"])
    empty = table["sex"].astype("string").eq("unknown") & table["n"].eq(0)
    table = table[~empty.fillna(False).to_numpy()].reset_index(drop=True)
    return Table("outcomes_by_sex", table, _title("outcomes_by_sex", ctx), ctx.lang)
