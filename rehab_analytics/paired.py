"""Paired before/after tests: McNemar, mean change interval and Wilcoxon signed rank."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehab_analytics.intervals import (
    _as_float_array,
    _check_level,
)

__all__ = [
    "mcnemar_test",
    "mean_change_interval",
    "wilcoxon_signed_rank",
]


# With fewer discordant pairs the chi-square approximation is poor: exact test.
_MCNEMAR_EXACT_BELOW = 25


def mcnemar_test(before, after) -> dict:
    """McNemar test for a change in a yes/no state measured twice on the same people.

    ``b`` counts yes→no and ``c`` no→yes; pairs with a missing value are left
    out. With fewer than 25 discordant pairs the exact binomial test is used
    (statistic = min(b, c)), otherwise the chi-square statistic with continuity
    correction ``(|b − c| − 1)² / (b + c)``.

    Args:
        before: Boolean state at start (Series or array).
        after: Boolean state at exit, same people in the same order.

    Returns:
        Dict with ``n`` (complete pairs), ``b``, ``c``, ``statistic``,
        ``p_value`` and ``method`` ("exact" or "chi2").

    Example:
        >>> r = mcnemar_test([True, False, False, False], [True, True, True, False])
        >>> r["b"], r["c"], r["p_value"]
        (0, 2, 0.5)
    """
    from scipy.special import bdtr, chdtrc

    b_series = pd.Series(np.asarray(before, dtype=object))
    a_series = pd.Series(np.asarray(after, dtype=object))
    if len(b_series) != len(a_series):
        raise ValueError(
            f"before has {len(b_series)} values and after {len(a_series)}; paired "
            "data need one before and one after value per person."
        )
    keep = b_series.notna() & a_series.notna()
    was = b_series[keep].astype(bool).to_numpy()
    now = a_series[keep].astype(bool).to_numpy()
    b = int(np.sum(was & ~now))
    c = int(np.sum(~was & now))
    discordant = b + c
    if discordant < _MCNEMAR_EXACT_BELOW:
        statistic = float(min(b, c))
        p_value = (
            # Exact two-sided binomial test at p = 0.5 (as scipy.stats.binomtest).
            1.0
            if discordant == 0
            else min(1.0, 2 * float(bdtr(min(b, c), discordant, 0.5)))
        )
        method = "exact"
    else:
        statistic = (abs(b - c) - 1) ** 2 / discordant
        p_value = float(chdtrc(1, statistic))
        method = "chi2"
    return {
        "n": int(keep.sum()),
        "b": b,
        "c": c,
        "statistic": float(statistic),
        "p_value": p_value,
        "method": method,
    }


def _clean_changes(change) -> np.ndarray:
    values = _as_float_array(change).ravel()
    return values[~np.isnan(values)]


def mean_change_interval(change, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of paired changes (after − before) with a t confidence interval.

    Args:
        change: Per-person change; missing values are left out.
        level: Confidence level.

    Returns:
        ``(mean, low, high)``; the bounds are NaN with fewer than 2 values and
        the mean is NaN with none.

    Example:
        >>> mean, low, high = mean_change_interval([1, 2, 3, 4])
        >>> mean, round(low, 4), round(high, 4)
        (2.5, 0.4457, 4.5543)
    """
    from scipy.special import stdtrit

    level = _check_level(level)
    values = _clean_changes(change)
    if values.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    if values.size < 2:
        return mean, float("nan"), float("nan")
    sem = values.std(ddof=1) / np.sqrt(values.size)
    half = stdtrit(values.size - 1, level + (1 - level) / 2) * sem
    return mean, float(mean - half), float(mean + half)


def wilcoxon_signed_rank(change) -> float:
    """Two-sided Wilcoxon signed-rank p-value for paired changes.

    Zero changes are dropped (Wilcoxon's method); missing values are left out.

    Args:
        change: Per-person change (after − before).

    Returns:
        The p-value, or NaN when fewer than 2 values remain or all are zero.

    Example:
        >>> round(wilcoxon_signed_rank([1, 2, 3, 4, 5, 6, 7, -1]), 4)
        0.0234
        >>> wilcoxon_signed_rank([0, 0, 0])
        nan
    """
    from scipy import stats as _sps

    values = _clean_changes(change)
    if values.size < 2 or np.all(values == 0):
        return float("nan")
    return float(_sps.wilcoxon(values, zero_method="wilcox").pvalue)
