"""Report recipes: each chart and table measured, suppressed, drawn and given a takeaway.

A recipe takes a :class:`Context` (the clean tables, the period, the language and
the suppression threshold) and returns a :class:`Chart` (publishable table,
figure, takeaway title, notes with source and n) or a :class:`Table`. The
measuring and suppression live in :mod:`rehab_analytics.figures_tables`, the
sentences in :mod:`rehab_analytics.narrative`, the drawing in
:mod:`rehab_analytics.plots`; a report notebook only calls a recipe and
:func:`publish`::

    ctx = figures.context(tables, start="2016-01-01", end="2018-12-31", lang="en")
    figures.publish(out, figures.outcome_shares(ctx, unit="dino"))
"""

from __future__ import annotations

import base64
import copy
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from rehab_analytics import catalogue, measures, narrative, stats
from rehab_analytics import figures_tables as ft
from rehab_analytics.figures_tables import (  # noqa: F401  (re-exported)
    OUTCOME,
    SUMMARY_OUTCOMES,
    delivery_changes,
    select,
)

__all__ = [
    "OUTCOME",
    "SUMMARY_OUTCOMES",
    "Context",
    "Chart",
    "Table",
    "context",
    "labelled",
    "publish",
    "select",
    "delivery_changes",
    # charts
    "enrolment",
    "outcome_shares",
    "funnel",
    "casemix",
    "trend",
    "spc",
    "costs",
    "income_transition",
    "occupation",
    "exit_reasons",
    "time_in_programme",
    "step_change",
    "age_sex",
    "esf_by_sex",
    # tables
    "goal_attainment",
    "volume",
    "background",
    "outcome_summary",
    "comparison",
    "casemix_table",
    "income_change",
    "time_summary",
    "step_summary",
    "cost_table",
    "changes_table",
    "outcomes_by_unit",
    "outcomes_by_sex",
    "row_accounting",
    "source_errors",
    "completeness",
    "rejects_by_reason",
    "unknown_labels",
    # text
    "summary",
    "unit_summary",
    "caveats",
    "small_units",
]

_UNIT = "subproject"
# Column → catalogue label table for the values of published tables.
_VALUE_FIELDS = {
    "subproject": "subproject",
    "unit": "subproject",
    "forbund": "forbund",
    "sex": "sex",
    "education": "education",
    "occupation": "occupation",
    "occupation_before": "occupation",
    "exit_reason": "exit_reason",
    "income_group_before": "income_group",
    "income_group_after": "income_group",
    "support_years_before": "support_years",
    "age_group": "age_group",
    "age_band_esf": "age_band_esf",
    "outcome": "outcome",
    "flag": "funnel_flag",
    "measure": "measure",
    "outcome_row": "row_outcome",
    "status": "reject_status",
    "reason": "reject_reason",
    "field": "contract_field",
}
_FLAG = "__suppressed"
_SECONDARY = "__secondary" + _FLAG
# p-values are published as text ("0,012", "<0,001"): two decimals would say 0,00
_P_VALUES = ("p_value", "p_adjusted", "wilcoxon_p")


# --------------------------------------------------------------------- context


@dataclass(frozen=True)
class Context:
    """What every recipe needs: clean tables, period, language and threshold.

    Attributes:
        participants: Clean participants (all periods; recipes filter).
        subprojects: Clean subprojects (plan and money).
        anonymous: Anonymous counts, or None.
        start: First day of the report period (ISO), or None for open.
        end: Last day of the report period, or None.
        lang: ``"sv"`` or ``"en"``.
        threshold: Suppression threshold.
        source: Source text for chart footers and slide notes.
        casemix_covariates: Covariates of the case-mix model.
        rejects: Rejected rows and warnings (data-quality recipes).
        cleaning_report: The cleaning report (data-quality recipes).
    """

    participants: pd.DataFrame
    subprojects: pd.DataFrame
    anonymous: pd.DataFrame | None = None
    start: str | None = None
    end: str | None = None
    lang: str = "sv"
    threshold: int = 5
    source: str | None = None
    casemix_covariates: tuple[str, ...] = stats.DEFAULT_COVARIATES
    rejects: pd.DataFrame | None = None
    cleaning_report: dict = field(default_factory=dict)

    @cached_property
    def episodes(self) -> pd.DataFrame:
        """Episodes active at some time in the period (see ``measures.filter_period``)."""
        return measures.filter_period(self.participants, self.start, self.end)

    @property
    def period(self) -> tuple[object, object]:
        """(start, end) for chart subtitles; open ends take the data's dates."""
        people = self.participants
        first = self.start or people["start_date"].min()
        last = self.end or pd.concat([people["start_date"], people["end_date"]]).max()
        return first, last

    @property
    def source_text(self) -> str:
        return self.source or catalogue.text("common.source_default", self.lang)

    @cached_property
    def units(self) -> list[str]:
        """Subproject codes with episodes in the period, in registry order."""
        codes = self.episodes[_UNIT].dropna().astype(str).unique()
        from rehab_analytics.plots_style import _unit_order

        return _unit_order(codes)

    def notes(self, n: object, key: str | None = None, **fmt: object) -> str:
        """Slide notes: source, n, suppression rule, plus an optional catalogue note."""
        note = catalogue.text(key, self.lang, **fmt) if key else ""
        return narrative.source_notes(
            self.lang, source=self.source_text, n=n, threshold=self.threshold, note=note
        )


def context(
    tables: Any,
    *,
    start: str | None = None,
    end: str | None = None,
    lang: str = "sv",
    units: Sequence[str] | None = None,
    threshold: int | None = None,
    source: str | None = None,
) -> Context:
    """Build a :class:`Context` from :func:`rehab_analytics.load`'s tables.

    Args:
        tables: A :class:`rehab_analytics.pipeline.Tables` (or anything with
            ``participants``, ``subprojects`` and ``anonymous_counts``).
        start: First day of the report period, YYYY-MM-DD (None: open).
        end: Last day of the report period (None: open).
        lang: ``"sv"`` or ``"en"``.
        units: Subproject codes to keep (None or empty: all).
        threshold: Suppression threshold (default: the settings').
        source: Source text (default: the catalogue's SUS follow-up line).

    Example:
        >>> people = pd.DataFrame({"subproject": ["dino", "aktiv"]})
        >>> class T:
        ...     participants, subprojects, anonymous_counts = people, people, None
        >>> context(T(), units=["aktiv"], threshold=3).participants["subproject"].tolist()
        ['aktiv']
    """
    if lang not in catalogue.LANGUAGES:
        raise ValueError(f"lang is {lang!r}; expected 'sv' or 'en'.")
    if threshold is None:
        from rehab_analytics.config import settings

        threshold = settings().suppression_threshold
    people, plan = tables.participants, tables.subprojects
    anonymous = getattr(tables, "anonymous_counts", None)
    if units:
        wanted = [str(u) for u in units]
        people = people[people[_UNIT].astype("string").isin(wanted).fillna(False)]
        plan = plan[plan[_UNIT].astype("string").isin(wanted).fillna(False)]
        if anonymous is not None:
            keep = anonymous[_UNIT].astype("string").isin(wanted).fillna(False)
            anonymous = anonymous[keep]
    if "participant_key" not in people:
        # the sample's truth table has no pseudonyms: one person per episode
        people = people.assign(participant_key=people.index.astype("string"))
    return Context(
        people,
        plan,
        anonymous,
        start,
        end,
        lang,
        int(threshold),
        source,
        rejects=getattr(tables, "rejects", None),
        cleaning_report=getattr(tables, "report", None) or {},
    )


# ---------------------------------------------------------------------- results


def _html_table(table: pd.DataFrame, lang: str, fields: Mapping[str, str]) -> str:
    from rehab_analytics import disclosure

    shown = disclosure.display_values(labelled(table, lang, fields), lang=lang)
    return shown.style.hide(axis="index").format(escape="html").to_html()


@dataclass
class Table:
    """A publishable table with its title (what a report shows and tables.xlsx holds).

    Attributes:
        name: Machine name (file and sheet name part).
        table: The suppressed table with code values.
        title: The table's title in the report language.
        lang: Language of the title.
        fields: Extra column → label-table mapping for :func:`labelled`.
        text: A sentence shown above the table (optional).
    """

    name: str
    table: pd.DataFrame
    title: str
    lang: str = "sv"
    fields: dict[str, str] = field(default_factory=dict)
    text: str = ""

    def _repr_html_(self) -> str:
        lead = f"<p>{html.escape(self.text)}</p>" if self.text else ""
        return (
            f"<p><strong>{html.escape(self.title)}</strong></p>{lead}"
            f"{_html_table(self.table, self.lang, self.fields)}"
        )


@dataclass
class Chart:
    """A publishable chart: suppressed table, figure, takeaway title, notes.

    Attributes:
        name: Machine name (file name part).
        table: The suppressed table drawn.
        figure: The matplotlib figure (slide size).
        title: The takeaway: the slide title, one sentence.
        notes: Speaker notes: source, n, the suppression rule and caveats.
        lang: Report language.
        fields: Extra column → label-table mapping for :func:`labelled`.
    """

    name: str
    table: pd.DataFrame
    figure: Any
    title: str
    notes: str
    lang: str = "sv"
    fields: dict[str, str] = field(default_factory=dict)
    _png: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # a slide title is a sentence without a closing full stop
        self.title = self.title.rstrip(".")

    def png(self) -> bytes:
        """The chart as PNG bytes at screen resolution (for HTML)."""
        if self._png is None:
            buffer = io.BytesIO()
            self.figure.savefig(buffer, format="png", dpi=100)
            self._png = buffer.getvalue()
        return self._png

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png()).decode("ascii")
        return (
            f"<p><strong>{html.escape(self.title)}</strong></p>"
            f'<img src="data:image/png;base64,{data}" style="max-width:100%" '
            f'alt="{html.escape(self.title)}"/>'
        )


def labelled(
    table: pd.DataFrame, lang: str, fields: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Translate a suppressed table for publishing: labels for codes, headers from the catalogue.

    Code columns (``subproject``, ``sex``, ``exit_reason``, …) get their
    catalogue labels; column headers come from ``table.column.<name>``. The
    suppression flags and mark follow the renamed columns, so the result is
    still publishable.

    Args:
        table: A table returned by :func:`rehab_analytics.disclosure.suppress`.
        lang: ``"sv"`` or ``"en"``.
        fields: Extra column → label table (e.g. ``{"before": "income_group"}``).

    Example:
        >>> from rehab_analytics import disclosure
        >>> t = disclosure.suppress(pd.DataFrame({"sex": ["woman"], "n": [12]}))
        >>> labelled(t, "en").columns.tolist()[:2]
        ['Sex', 'Number']
    """
    mapping = {**_VALUE_FIELDS, **(fields or {})}
    out = table.copy()
    data = [c for c in out.columns if not str(c).endswith(_FLAG)]
    for col in data:
        name = mapping.get(str(col))
        if name is None or pd.api.types.is_numeric_dtype(out[col]):
            continue
        out[col] = pd.array(
            [_label(name, v, lang) for v in out[col].astype(object)], dtype="string"
        )
    for col in [c for c in data if c in _P_VALUES]:
        hidden = out.get(f"{col}{_FLAG}", pd.Series(False, index=out.index))
        text = [
            _p_text(v, lang, bool(h))
            for v, h in zip(out[col].astype(object), hidden.fillna(False), strict=True)
        ]
        out[col] = pd.array(text, dtype="string")
        out = out.drop(columns=[f"{col}{_FLAG}"], errors="ignore")
    headers = {}
    for col in data:
        key = f"table.column.{col}"
        headers[col] = (
            catalogue.text(key, lang) if catalogue.has_text(key) else str(col)
        )
    rename = dict(headers)
    for col, header in headers.items():
        rename[f"{col}{_FLAG}"] = f"{header}{_FLAG}"
        rename[f"{col}{_SECONDARY}"] = f"{header}{_SECONDARY}"
    out = out.rename(columns=rename)
    mark = copy.deepcopy(table.attrs.get("disclosure", {}))
    for key in ("count_cols", "share_cols"):
        mark[key] = [headers.get(c, c) for c in mark.get(key, ())]
    if mark.get("denominator_col") is not None:
        mark["denominator_col"] = headers.get(
            mark["denominator_col"], mark["denominator_col"]
        )
    out.attrs = {**copy.deepcopy(table.attrs), "disclosure": mark}
    return out


def _p_text(value: object, lang: str, hidden: bool) -> str:
    if hidden:
        return ".."
    if value is None or value is pd.NA or pd.isna(value):
        return ""
    if float(value) < 0.001:
        return "<" + catalogue.format_number(0.001, lang, 3)
    return catalogue.format_number(float(value), lang, 3)


def _label(field_name: str, value: object, lang: str) -> str | None:
    if (
        value is None
        or value is pd.NA
        or (isinstance(value, float) and np.isnan(value))
    ):
        return None
    code = str(value)
    if code == "total":
        return catalogue.text("common.project_total", lang)
    try:
        return catalogue.label(field_name, code, lang)
    except KeyError:
        return code


def publish(out: Any, item: Chart | Table | str, *, show_table: bool = False) -> Any:
    """Publish a recipe's result through a :class:`rehab_analytics.report.Publisher`.

    A :class:`Chart` publishes its (labelled) table to ``tables.xlsx`` and its
    figure to the deck with the takeaway title and notes; a :class:`Table` its
    table. Returns what the notebook should show: the chart (title and image)
    or the table; the figure is closed so Jupyter does not show it twice.

    Example:
        >>> publish  # doctest: +ELLIPSIS
        <function publish at ...>
    """
    import matplotlib.pyplot as plt

    if isinstance(item, str):
        return item
    lang = getattr(out, "lang", item.lang)
    out.table(labelled(item.table, lang, item.fields), item.name, title=item.title)
    if isinstance(item, Chart):
        out.figure(item.figure, item.name, title=item.title, notes=item.notes)
        item.png()
        plt.close(item.figure)
        if show_table:
            return Table(item.name, item.table, item.title, item.lang, item.fields)
    return item


# ------------------------------------------------------------------ helpers


def _draw(ctx: Context, plot, table: pd.DataFrame, **kwargs: object):
    from rehab_analytics import plots

    with plots.slide_style():
        ax = plot(
            table, lang=ctx.lang, period=ctx.period, source=ctx.source_text, **kwargs
        )
    return ax.figure


def _row(table: pd.DataFrame, column: str | None = None, value: object = None):
    """The first row (optionally where ``column == value``) as a Series, or None."""
    if column is not None and column in table.columns:
        table = table[(table[column].astype("string") == str(value)).fillna(False)]
    return table.iloc[0] if len(table) else None


def _visible_sum(table: pd.DataFrame, column: str) -> float | None:
    if column not in table.columns:
        return None
    hidden = table.get(f"{column}{_FLAG}", pd.Series(False, index=table.index))
    values = pd.to_numeric(table[column], errors="coerce")
    if hidden.fillna(False).astype(bool).any():
        return None
    return float(values.fillna(0).sum())


def _outcome_label(outcome: str, lang: str) -> str:
    return catalogue.label("outcome", outcome, lang)


# ------------------------------------------------------------------- charts


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
    goal = ft.goal_table(
        ctx.participants, ctx.subprojects, ctx.anonymous, ctx.threshold
    )
    row = _row(goal, _UNIT, unit) if unit else _goal_total(goal)
    title = narrative.enrolment_sentence(row, ctx.lang, unit)
    figure = _draw(ctx, plots.enrolment_chart, table)
    n = None if row is None else row.get("enrolled")
    return Chart(
        "enrolment",
        table,
        figure,
        title,
        ctx.notes(n, "report.note.enrolment"),
        ctx.lang,
    )


def _goal_total(goal: pd.DataFrame) -> dict[str, float | None]:
    return {
        "enrolled": _visible_sum(goal, "enrolled"),
        "planned": _visible_sum(goal, "planned"),
    }


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

    by = _UNIT if unit else None
    table = select(ft.income_transition_table(ctx.episodes, ctx.threshold, by=by), unit)
    figure = _draw(ctx, plots.income_transition_chart, table, unit=unit)
    tests = ft.income_change_table(ctx.episodes, ctx.threshold)
    if unit:
        title = narrative.mcnemar_sentence(_row(tests, _UNIT, unit), ctx.lang)
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
        by = _UNIT if unit else None
        shares = select(
            ft.outcome_table(ctx.episodes, outcome, ctx.threshold, by=by), unit
        )
        title = narrative.outcome_sentence(_row(shares), outcome, ctx.lang, unit)
    n = _visible_sum(table.drop_duplicates(_UNIT), "total")
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
    n = _visible_sum(table.drop_duplicates(_UNIT), "total")
    return Chart(
        "exit_reasons",
        table,
        figure,
        title,
        ctx.notes(n, "report.note.exits"),
        ctx.lang,
    )


def time_in_programme(ctx: Context, unit: str | None = None) -> Chart:
    """Kaplan–Meier curves of time in programme (ongoing participants censored).

    Example:
        >>> time_in_programme  # doctest: +ELLIPSIS
        <function time_in_programme at ...>
    """
    from rehab_analytics import plots

    cutoff = ctx.end
    table = select(
        ft.time_curve_table(ctx.episodes, ctx.threshold, cutoff=cutoff), unit
    )
    summary_ = select(
        ft.time_summary_table(ctx.episodes, ctx.threshold, cutoff=cutoff), unit
    )
    figure = _draw(ctx, plots.time_in_programme_chart, table)
    if unit:
        title = narrative.time_title(_row(summary_), ctx.lang, unit)
    else:
        title = narrative.time_range_sentence(summary_, ctx.lang)
    n = _visible_sum(summary_, "n")
    return Chart(
        "time_in_programme",
        table,
        figure,
        title,
        ctx.notes(n, "chart.time_in_programme.note"),
        ctx.lang,
    )


def step_change(ctx: Context, unit: str | None = None, measure: str = "step") -> Chart:
    """Change in steps towards work (or self-rated health), start to end.

    Example:
        >>> step_change  # doctest: +ELLIPSIS
        <function step_change at ...>
    """
    from rehab_analytics import plots

    by = _UNIT if unit else None
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

    by = _UNIT if unit else None
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


# ------------------------------------------------------------------- tables


def _title(key: str, ctx: Context, **fmt: object) -> str:
    return catalogue.text(f"report.table.{key}", ctx.lang, **fmt)


def goal_attainment(ctx: Context, unit: str | None = None) -> Table:
    """Enrolled participants (with anonymous) against the plan.

    Example:
        >>> goal_attainment  # doctest: +ELLIPSIS
        <function goal_attainment at ...>
    """
    table = ft.goal_table(
        ctx.participants, ctx.subprojects, ctx.anonymous, ctx.threshold
    )
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


# --------------------------------------------------------------------- text


def small_units(ctx: Context, outcome: str = OUTCOME) -> list[str]:
    """Subprojects whose outcome denominator is below ``narrative.SMALL_UNIT``.

    Example:
        >>> small_units  # doctest: +ELLIPSIS
        <function small_units at ...>
    """
    table = ft.outcome_table(ctx.episodes, outcome, ctx.threshold)
    n = pd.to_numeric(table["n"], errors="coerce")
    small = table[(n.isna() | (n < narrative.SMALL_UNIT)).to_numpy()]
    return small[_UNIT].astype(str).tolist()


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
    goal = ft.goal_table(
        ctx.participants, ctx.subprojects, ctx.anonymous, ctx.threshold
    )
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
            narrative.enrolment_sentence(_row(goal, _UNIT, unit), ctx.lang, unit) + ".",
            narrative.comparison_sentence(
                unit,
                _row(shares, _UNIT, unit),
                oe=_row(oe, "unit", unit),
                lang=ctx.lang,
            ),
            narrative.mcnemar_sentence(_row(tests, _UNIT, unit), ctx.lang),
            narrative.time_sentence(_row(times, _UNIT, unit), ctx.lang),
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
    front = [_UNIT, "outcome"]
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
    table = ft.outcome_table(ctx.episodes, outcome, ctx.threshold, by=[_UNIT, "sex"])
    empty = table["sex"].astype("string").eq("unknown") & table["n"].eq(0)
    table = table[~empty.fillna(False).to_numpy()]
    return Table("outcomes_by_sex", table, _title("outcomes_by_sex", ctx), ctx.lang)


# ------------------------------------------------------------ data quality


def row_accounting(ctx: Context) -> Table:
    """Rows per source: clean, rejected, skipped (rows read are not shown).

    Example:
        >>> row_accounting  # doctest: +ELLIPSIS
        <function row_accounting at ...>
    """
    from rehab_analytics import disclosure, quality

    table = disclosure.suppress(
        quality.row_accounting(ctx.cleaning_report),
        threshold=ctx.threshold,
        count_cols=["n"],
        denominator_col=None,
    )
    title = _title("row_accounting", ctx)
    return Table("row_accounting", table, title, ctx.lang, {"outcome": "row_outcome"})


def source_errors(ctx: Context) -> narrative.Text:
    """Sources that could not be read, as bullets (empty text when all were read).

    Example:
        >>> source_errors  # doctest: +ELLIPSIS
        <function source_errors at ...>
    """
    from rehab_analytics import quality

    errors = quality.source_errors(ctx.cleaning_report)
    if errors.empty:
        return narrative.Text("")
    lines = [f"{r.source}: {r.error}" for r in errors.itertuples(index=False)]
    head = catalogue.text("report.intro.source_errors", ctx.lang)
    return narrative.Text(f"{head}\n\n{narrative.bullets(lines)}")


def completeness(ctx: Context) -> Table:
    """Share of episodes per subproject with each field filled in.

    Example:
        >>> completeness  # doctest: +ELLIPSIS
        <function completeness at ...>
    """
    from rehab_analytics import disclosure, quality

    table = disclosure.suppress(
        quality.completeness(ctx.participants, by=_UNIT),
        threshold=ctx.threshold,
        count_cols=["n", "filled"],
        share_cols=["share"],
    )
    return Table("completeness", table, _title("completeness", ctx), ctx.lang)


def rejects_by_reason(ctx: Context) -> Table:
    """Problems per source, status and reason (small counts hidden within a source).

    Example:
        >>> rejects_by_reason  # doctest: +ELLIPSIS
        <function rejects_by_reason at ...>
    """
    from rehab_analytics import disclosure, quality

    table = disclosure.suppress(
        quality.rejects_by_reason(ctx.rejects),
        threshold=ctx.threshold,
        count_cols=["n"],
        denominator_col=None,
        margins=[["source", "status"]],
    )
    return Table("rejects_by_reason", table, _title("rejects", ctx), ctx.lang)


def unknown_labels(ctx: Context) -> Table:
    """Labels not in the vocabularies, per column and value.

    Example:
        >>> unknown_labels  # doctest: +ELLIPSIS
        <function unknown_labels at ...>
    """
    from rehab_analytics import disclosure, quality

    table = disclosure.suppress(
        quality.unknown_labels(ctx.rejects),
        threshold=ctx.threshold,
        count_cols=["n"],
        denominator_col=None,
        margins=[["column"]],
    )
    return Table("unknown_labels", table, _title("unknown_labels", ctx), ctx.lang)
