"""Statistics for fair comparisons: intervals, funnels, case mix, paired tests."""

from __future__ import annotations

from rehab_analytics.stats.intervals import (
    byar_interval,
    wilson_interval,
)
from rehab_analytics.stats.compare import (
    funnel_limits,
    funnel_flags,
    compare_with_rest,
    casemix_observed_expected,
    mcnemar_test,
    mean_change_interval,
    wilcoxon_signed_rank,
    DEFAULT_COVARIATES,
    AGE_BANDS,
)

__all__ = [
    "byar_interval",
    "wilson_interval",
    "funnel_limits",
    "funnel_flags",
    "compare_with_rest",
    "casemix_observed_expected",
    "mcnemar_test",
    "mean_change_interval",
    "wilcoxon_signed_rank",
    "DEFAULT_COVARIATES",
    "AGE_BANDS",
]
