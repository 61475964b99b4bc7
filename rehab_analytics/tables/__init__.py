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

This module is the one to import: the shared rules live in
:mod:`~rehab_analytics.tables.core`, the volume and outcome tables in
:mod:`~rehab_analytics.tables.outcomes`, and the tables on change, time, steps,
people and deliveries in :mod:`~rehab_analytics.tables.people`.
"""

from __future__ import annotations

from rehab_analytics.tables.core import (
    OUTCOME,
    SUMMARY_OUTCOMES,
    UNIT,
    select,
)
from rehab_analytics.tables.outcomes import (
    background_table,
    casemix_table,
    compare_table,
    cost_table,
    enrolment_table,
    goal_table,
    outcome_summary_table,
    outcome_table,
    trend_table,
    volume_table,
)
from rehab_analytics.tables.people import (
    AT_RISK_WEEKS,
    age_sex_table,
    delivery_changes,
    esf_table,
    exit_reason_table,
    income_change_table,
    income_transition_table,
    misregistration_count,
    occupation_table,
    step_distribution_table,
    step_summary_table,
    time_at_risk_table,
    time_curve_table,
    time_summary_table,
)

__all__ = [
    "OUTCOME",
    "SUMMARY_OUTCOMES",
    "UNIT",
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
    "AT_RISK_WEEKS",
    "time_at_risk_table",
    "time_curve_table",
    "time_summary_table",
    "step_distribution_table",
    "step_summary_table",
    "age_sex_table",
    "esf_table",
    "misregistration_count",
    "delivery_changes",
]
