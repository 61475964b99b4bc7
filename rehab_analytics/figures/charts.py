"""Chart recipes: each chart measured, suppressed, drawn and given a takeaway title."""

from __future__ import annotations

from rehab_analytics import catalogue, narrative
from rehab_analytics import tables as ft
from rehab_analytics.figures.core import (
    Chart,
    Context,
    _draw,
    _goal,
    _goal_total,
    _row,
    _visible_sum,
)
from rehab_analytics.tables import (
    OUTCOME,
    UNIT,
    select,
)

__all__ = [
    "age_sex",
    "casemix",
    "costs",
    "enrolment",
    "esf_by_sex",
    "exit_reasons",
    "funnel",
    "income_transition",
    "occupation",
    "outcome_shares",
    "spc",
    "step_change",
    "time_in_programme",
    "trend",
]


def enrolment(ctx: Context, unit: str | None = None) -> Chart:
    """Cumulative enrolment against the plan (one subproject with the project line).

    Example:
        >>> enrolment  # doctest: +ELLIPSIS
        <function enrolment at ...>
    """
    from rehab_analytics import plots

    units = [unit] if unit else None
    table = ft.enrolment_table(
        ctx.participants, ctx.subprojects, ctx.threshold, units=units, total=bool(unit)
    )
    goal = _goal(ctx)
    row = _row(goal, UNIT, unit) if unit else _goal_total(goal)
    title = narrative.enrolment_sentence(row, ctx.lang, unit)
    figure = _draw(ctx, plots.enrolment_chart, table)
    n = None if row is None else row.get("enrolled")
    return Chart(
        "enrolment",
        table,
        figure,
        title,
        _enrolment_notes(ctx, n),
        ctx.lang,
    )


def _enrolment_notes(ctx: Context, n: object) -> str:
    """Slide notes of the enrolment chart; with a period, how it counts the plan."""
    if ctx.start is None or ctx.end is None:
        return ctx.notes(n, "report.note.enrolment")
    first, last = int(ctx.start[:4]), int(ctx.end[:4])
    return ctx.notes(
        n,
        "report.note.enrolment_period",
        period=catalogue.format_period(ctx.start, ctx.end, ctx.lang),
        years=str(first) if first == last else f"{first}–{last}",
    )


def outcome_shares(
    ctx: Context, outcome: str = OUTCOME, unit: str | None = None
) -> Chart:
    """Outcome share per subproject with Wilson intervals and the project average.

    With ``unit``, that subproject alone against the project average; the
    title is its share sentence. Without, every subproject in registry order
    (never ranked) and a title that says the shares are crude.

    Example:
        >>> outcome_shares  # doctest: +ELLIPSIS
        <function outcome_shares at ...>
    """
    from rehab_analytics import plots

    table = ft.outcome_table(ctx.episodes, outcome, ctx.threshold)
    total = ft.outcome_table(ctx.episodes, outcome, ctx.threshold, by=None)
    average = None if total["share"].isna().all() else float(total["share"].iloc[0])
    shown = select(table, unit)
    figure = _draw(
        ctx, plots.outcome_shares_chart, shown, outcome=outcome, average=average
    )
    if unit:
        title = narrative.outcome_sentence(_row(shown), outcome, ctx.lang, unit)
        n = _row(shown)["n"] if len(shown) else None
    else:
        title = narrative.shares_sentence(table, ctx.lang, outcome=outcome)
        n = total["n"].iloc[0]
    name = f"{outcome}" if unit else f"{outcome}_by_subproject"
    return Chart(
        name, shown, figure, title, ctx.notes(n, "report.note.crude"), ctx.lang
    )


def funnel(ctx: Context, outcome: str = OUTCOME) -> Chart:
    """Exploratory funnel plot of the outcome share against n (95 % and 99.8 % limits).

    Example:
        >>> funnel  # doctest: +ELLIPSIS
        <function funnel at ...>
    """
    from rehab_analytics import plots

    table = ft.outcome_table(ctx.episodes, outcome, ctx.threshold)
    flags = ft.compare_table(ctx.episodes, outcome, ctx.threshold)
    figure = _draw(ctx, plots.funnel_chart, table, outcome=outcome)
    title = narrative.funnel_sentence(flags, ctx.lang, outcome=outcome)
    n = _visible_sum(table, "n")
    k = len(ctx.units)
    return Chart(
        "funnel",
        table,
        figure,
        title,
        ctx.notes(n, "narrative.funnel_exploratory", k=k),
        ctx.lang,
    )


def casemix(ctx: Context, outcome: str = OUTCOME) -> Chart:
    """Case-mix adjusted O/E per subproject with intervals (indirect standardisation).

    Example:
        >>> casemix  # doctest: +ELLIPSIS
        <function casemix at ...>
    """
    from rehab_analytics import plots

    table = ft.casemix_table(
        ctx.episodes, outcome, ctx.threshold, covariates=ctx.casemix_covariates
    )
    figure = _draw(ctx, plots.casemix_chart, table, outcome=outcome)
    title = narrative.casemix_sentence(table, ctx.lang, outcome=outcome)
    used = table.attrs.get("casemix", {}).get("covariates", [])
    names = ", ".join(
        catalogue.text(f"narrative.covariate.{c}", ctx.lang) for c in used
    )
    notes = ctx.notes(
        _visible_sum(table, "n"), "narrative.casemix_used", covariates=names
    )
    return Chart("casemix", table, figure, title, notes, ctx.lang)


def trend(ctx: Context, outcome: str = OUTCOME) -> Chart:
    """Outcome share per exit tertial for the project, with its Wilson band.

    Example:
        >>> trend  # doctest: +ELLIPSIS
        <function trend at ...>
    """
    from rehab_analytics import plots

    table = ft.trend_table(ctx.episodes, outcome, ctx.threshold)
    figure = _draw(ctx, plots.trend_chart, table, outcome=outcome)
    title = narrative.trend_sentence(table, ctx.lang, outcome=outcome)
    n = _visible_sum(table, "n")
    return Chart(
        "trend", table, figure, title, ctx.notes(n, "report.note.trend"), ctx.lang
    )


def spc(ctx: Context, outcome: str = OUTCOME) -> Chart:
    """XmR control chart of the tertial shares, drawn only with at least 12 points.

    Example:
        >>> spc  # doctest: +ELLIPSIS
        <function spc at ...>
    """
    from rehab_analytics import plots

    table = ft.trend_table(ctx.episodes, outcome, ctx.threshold)
    figure = _draw(ctx, plots.spc_chart, table, outcome=outcome)
    title = narrative.spc_sentence(table, ctx.lang, outcome=outcome)
    n = _visible_sum(table, "n")
    return Chart("spc", table, figure, title, ctx.notes(n), ctx.lang)


def costs(ctx: Context, unit: str | None = None) -> Chart:
    """Cost per participant and per participant in work or studies (summed years).

    Example:
        >>> costs  # doctest: +ELLIPSIS
        <function costs at ...>
    """
    from rehab_analytics import plots

    table = select(
        ft.cost_table(ctx.participants, ctx.subprojects, ctx.threshold), unit
    )
    figure = _draw(ctx, plots.cost_chart, table)
    title = (
        narrative.cost_sentence(_row(table), ctx.lang, unit)
        if unit
        else narrative.cost_range_sentence(table, ctx.lang)
    )
    n = _visible_sum(table, "participants")
    return Chart(
        "costs", table, figure, title, ctx.notes(n, "report.note.costs"), ctx.lang
    )


def income_transition(ctx: Context, unit: str | None = None) -> Chart:
    """Income group before → after as a heat map (row shares), with the McNemar verdict.

    Example:
        >>> income_transition  # doctest: +ELLIPSIS
        <function income_transition at ...>
    """
    from rehab_analytics import plots

    by = UNIT if unit else None
    table = select(ft.income_transition_table(ctx.episodes, ctx.threshold, by=by), unit)
    figure = _draw(ctx, plots.income_transition_chart, table, unit=unit)
    tests = ft.income_change_table(ctx.episodes, ctx.threshold)
    if unit:
        title = narrative.mcnemar_sentence(_row(tests, UNIT, unit), ctx.lang)
    else:
        title = narrative.mcnemar_overview(tests, ctx.lang)
    # the heat map's row totals may be hidden; the McNemar pairs are the same people
    n = _visible_sum(select(tests, unit), "n")
    fields = {"before": "income_group", "after": "income_group"}
    return Chart(
        "income_transition",
        table,
        figure,
        title,
        ctx.notes(n, "chart.income_transition.note"),
        ctx.lang,
        fields,
    )


def occupation(ctx: Context, unit: str | None = None) -> Chart:
    """Occupation before and after (100 % stacked bars) for the same exited people.

    Example:
        >>> occupation  # doctest: +ELLIPSIS
        <function occupation at ...>
    """
    from rehab_analytics import plots

    table = select(ft.occupation_table(ctx.episodes, ctx.threshold), unit)
    figure = _draw(ctx, plots.occupation_chart, table)
    title = narrative.occupation_sentence(table, ctx.lang, unit)
    if title == catalogue.text("chart.occupation.title", ctx.lang):
        # the cells are hidden: say who started work or studies instead
        outcome = "started_or_increased"
        by = UNIT if unit else None
        shares = select(
            ft.outcome_table(ctx.episodes, outcome, ctx.threshold, by=by), unit
        )
        title = narrative.outcome_sentence(_row(shares), outcome, ctx.lang, unit)
    n = _visible_sum(table.drop_duplicates(UNIT), "total")
    return Chart("occupation", table, figure, title, ctx.notes(n), ctx.lang)


def exit_reasons(ctx: Context, unit: str | None = None) -> Chart:
    """Reasons for leaving (100 % stacked bars); misregistrations left out.

    Example:
        >>> exit_reasons  # doctest: +ELLIPSIS
        <function exit_reasons at ...>
    """
    from rehab_analytics import plots

    table = select(ft.exit_reason_table(ctx.episodes, ctx.threshold), unit)
    figure = _draw(ctx, plots.exit_reasons_chart, table)
    title = narrative.exit_sentence(table, ctx.lang, unit)
    n = _visible_sum(table.drop_duplicates(UNIT), "total")
    return Chart(
        "exit_reasons",
        table,
        figure,
        title,
        ctx.notes(n, "report.note.exits"),
        ctx.lang,
    )


def time_in_programme(ctx: Context, unit: str | None = None) -> Chart:
    """Kaplan–Meier curves of time in programme in weeks, with the number at risk.

    Ongoing participants are censored; each curve ends where fewer than the
    threshold remain at risk, and a subproject with too few participants gets
    no curve (the notes name it). The number still in at fixed weeks
    (:func:`rehab_analytics.tables.time_at_risk_table`) is drawn under the axis.

    Example:
        >>> time_in_programme  # doctest: +ELLIPSIS
        <function time_in_programme at ...>
    """
    from rehab_analytics import plots

    cutoff = ctx.end
    table = select(
        ft.time_curve_table(ctx.episodes, ctx.threshold, cutoff=cutoff), unit
    )
    at_risk = select(
        ft.time_at_risk_table(ctx.episodes, ctx.threshold, cutoff=cutoff), unit
    )
    summary_ = select(
        ft.time_summary_table(ctx.episodes, ctx.threshold, cutoff=cutoff), unit
    )
    figure = _draw(ctx, plots.time_in_programme_chart, table, at_risk=at_risk)
    if unit:
        title = narrative.time_title(_row(summary_), ctx.lang, unit)
    else:
        title = narrative.time_range_sentence(summary_, ctx.lang)
    n = _visible_sum(summary_, "n")
    threshold = int(ctx.threshold)
    notes = ctx.notes(n, "chart.time_in_programme.note", threshold=threshold)
    few = [
        catalogue.label(UNIT, code, ctx.lang)
        for code, hidden in zip(
            table[UNIT].astype("string"), table["survival__suppressed"], strict=True
        )
        if hidden
    ]
    if few:
        units = ", ".join(dict.fromkeys(few))
        too_few = catalogue.text(
            "chart.time_in_programme.too_few", ctx.lang, units=units
        )
        notes = f"{notes.rstrip('.')}. {too_few}."
    return Chart("time_in_programme", table, figure, title, notes, ctx.lang)


def step_change(ctx: Context, unit: str | None = None, measure: str = "step") -> Chart:
    """Change in steps towards work (or self-rated health), start to end.

    Example:
        >>> step_change  # doctest: +ELLIPSIS
        <function step_change at ...>
    """
    from rehab_analytics import plots

    by = UNIT if unit else None
    table = ft.step_distribution_table(
        ctx.episodes, ctx.threshold, measure=measure, by=by
    )
    table = select(table, unit)
    summary_ = ft.step_summary_table(
        ctx.episodes, ctx.threshold, unit=unit, which=(measure,)
    )
    figure = _draw(ctx, plots.step_change_chart, table, unit=unit)
    row = _row(summary_) if unit else None
    title = (
        narrative.step_title(row, measure, ctx.lang)
        if unit
        else narrative.step_range_sentence(summary_, measure, ctx.lang)
    )
    n = _visible_sum(summary_, "n")
    return Chart(
        f"{measure}_change",
        table,
        figure,
        title,
        ctx.notes(n, "chart.step_change.note"),
        ctx.lang,
    )


def age_sex(ctx: Context, unit: str | None = None) -> Chart:
    """Population pyramid of the participants by age group and sex.

    Example:
        >>> age_sex  # doctest: +ELLIPSIS
        <function age_sex at ...>
    """
    from rehab_analytics import plots

    if unit:
        table = select(ft.age_sex_table(ctx.episodes, ctx.threshold), unit)
    else:
        people = ctx.episodes.assign(subproject="total")
        table = ft.age_sex_table(people, ctx.threshold)
    figure = _draw(ctx, plots.age_sex_chart, table, unit=unit or "total")
    # the pyramid's cells may be hidden; the volume table has the sexes' totals
    people = ft.volume_table(
        ctx.participants, ctx.anonymous, ctx.threshold, start=ctx.start, end=ctx.end
    )
    if not unit:
        people = ft.volume_table(
            ctx.participants.assign(subproject="total"),
            None,
            ctx.threshold,
            start=ctx.start,
            end=ctx.end,
        )
    people = select(people, unit)
    title = narrative.sex_sentence(people, ctx.lang, unit, count="enrolled_episodes")
    n = _visible_sum(people, "enrolled_episodes")
    return Chart("age_sex", table, figure, title, ctx.notes(n), ctx.lang)


def esf_by_sex(
    ctx: Context, dimension: str = "age_band_esf", unit: str | None = None
) -> Chart:
    """ESF participant indicator at entry (age, education, occupation) by sex.

    Example:
        >>> esf_by_sex  # doctest: +ELLIPSIS
        <function esf_by_sex at ...>
    """
    from rehab_analytics import plots

    by = UNIT if unit else None
    table = select(ft.esf_table(ctx.episodes, dimension, ctx.threshold, by=by), unit)
    figure = _draw(ctx, plots.esf_by_sex_chart, table, dimension=dimension, unit=unit)
    title = narrative.esf_sentence(table, ctx.lang, dimension=dimension)
    firsts = table.drop_duplicates("sex")
    n = _visible_sum(firsts, "total")
    field_name = "occupation" if dimension == "occupation_before" else dimension
    return Chart(
        f"esf_{dimension}",
        table,
        figure,
        title,
        ctx.notes(n, "chart.esf_by_sex.note"),
        ctx.lang,
        {"category": field_name},
    )
