"""Report recipes: each chart and table measured, suppressed, drawn and given a takeaway.

A recipe takes a :class:`Context` (the clean tables, the period, the language and
the suppression threshold) and returns a :class:`Chart` (publishable table,
figure, takeaway title, notes with source and n) or a :class:`Table`. The
measuring and suppression live in :mod:`rehab_analytics.tables`, the
sentences in :mod:`rehab_analytics.narrative`, the drawing in
:mod:`rehab_analytics.plots`; a report notebook only calls a recipe and
:func:`publish`::

    ctx = figures.context(tables, start="2016-01-01", end="2018-12-31", lang="en")
    figures.publish(out, figures.outcome_shares(ctx, unit="dino"))

This module is the one to import: the shared types live in
:mod:`~rehab_analytics.figures.core`, the chart recipes in
:mod:`~rehab_analytics.figures.charts`, the table and text recipes in
:mod:`~rehab_analytics.figures.summaries` and the data-quality recipes in
:mod:`~rehab_analytics.figures.quality`; all are re-exported here.
"""

from __future__ import annotations

from rehab_analytics import narrative  # noqa: F401  (re-exported: figures.narrative)
from rehab_analytics.figures.charts import (
    age_sex,
    casemix,
    costs,
    enrolment,
    esf_by_sex,
    exit_reasons,
    funnel,
    income_transition,
    occupation,
    outcome_shares,
    spc,
    step_change,
    time_in_programme,
    trend,
)
from rehab_analytics.figures.core import (
    Chart,
    Context,
    Table,
    context,
    labelled,
    publish,
)
from rehab_analytics.figures.quality import (
    completeness,
    rejects_by_reason,
    row_accounting,
    source_errors,
    unknown_labels,
)
from rehab_analytics.figures.summaries import (
    background,
    casemix_table,
    caveats,
    changes_table,
    comparison,
    cost_table,
    goal_attainment,
    income_change,
    outcome_summary,
    outcomes_by_sex,
    outcomes_by_unit,
    small_units,
    step_summary,
    summary,
    time_summary,
    unit_summary,
    volume,
)
from rehab_analytics.tables import (  # noqa: F401  (re-exported)
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
