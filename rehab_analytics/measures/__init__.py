"""Measures per group: volume, outcomes, change, time, data quality."""

from __future__ import annotations

from rehab_analytics.measures.core import (
    AGE_GROUPS,
    ESF_AGE_BANDS,
    add_period,
    filter_period,
    add_age_groups,
    volume,
    goal_attainment,
    misregistrations,
)
from rehab_analytics.measures.outcomes import (
    OUTCOMES,
    outcome_shares,
    occupation_table,
    occupation_before_after,
    exit_reasons,
    esf_breakdown,
    costs,
)
from rehab_analytics.measures.change import (
    INCOME_STATES,
    income_transitions,
    income_change_test,
    step_progression,
    step_change_distribution,
)
from rehab_analytics.measures.time import (
    SPC_MIN_POINTS,
    enrolment_over_time,
    time_in_programme,
    time_summary,
    trend,
    spc_limits,
)

__all__ = [
    "AGE_GROUPS",
    "ESF_AGE_BANDS",
    "add_period",
    "filter_period",
    "add_age_groups",
    "volume",
    "goal_attainment",
    "misregistrations",
    "OUTCOMES",
    "outcome_shares",
    "occupation_table",
    "occupation_before_after",
    "exit_reasons",
    "esf_breakdown",
    "costs",
    "INCOME_STATES",
    "income_transitions",
    "income_change_test",
    "step_progression",
    "step_change_distribution",
    "SPC_MIN_POINTS",
    "enrolment_over_time",
    "time_in_programme",
    "time_summary",
    "trend",
    "spc_limits",
]
