"""Measures per group: volume, outcomes, change, time, data quality."""

from __future__ import annotations

from rehab_analytics.measures.change import (
    INCOME_STATES,
    income_change_test,
    income_transitions,
    step_change_distribution,
    step_progression,
)
from rehab_analytics.measures.core import (
    AGE_GROUPS,
    ESF_AGE_BANDS,
    add_age_groups,
    add_period,
    filter_period,
)
from rehab_analytics.measures.goals import goal_attainment, misregistrations, volume
from rehab_analytics.measures.outcomes import (
    OUTCOMES,
    costs,
    esf_breakdown,
    exit_reasons,
    occupation_before_after,
    occupation_table,
    outcome_shares,
)
from rehab_analytics.measures.time import (
    SPC_MIN_POINTS,
    enrolment_over_time,
    spc_limits,
    time_in_programme,
    time_summary,
    trend,
    xmr_limits,
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
    "xmr_limits",
]
