"""Statistics for fair comparisons: intervals, funnels, case mix, paired tests."""

from __future__ import annotations

from rehab_analytics.stats.compare import (
    AGE_BANDS,
    DEFAULT_COVARIATES,
    casemix_observed_expected,
    compare_with_rest,
    funnel_flags,
    funnel_limits,
    mcnemar_test,
    mean_change_interval,
    wilcoxon_signed_rank,
)
from rehab_analytics.stats.intervals import (
    byar_interval,
    wilson_interval,
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
