"""Paired before/after tests: McNemar, mean change interval and Wilcoxon signed rank."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehab_analytics.stats.intervals import (
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


# scipy.stats.wilcoxon(method="auto") switches on the sample size *including* zeros.
_WILCOXON_EXACT_MAX = 50
_WILCOXON_PERMUTATION_MAX = 13


def _signed_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-zero values, their average ranks by absolute size, and the tie sizes."""
    nonzero = values[values != 0]
    _, group, sizes = np.unique(
        np.abs(nonzero), return_inverse=True, return_counts=True
    )
    first = np.cumsum(sizes) - sizes + 1
    ranks = (first + (sizes - 1) / 2)[group].astype(float)
    return nonzero, ranks, sizes


def _signed_rank_exact_p(r_plus: float, n: int) -> float:
    """Exact two-sided p-value without ties or zeros (Wilcoxon's null distribution)."""
    pmf = np.ones(1)
    for k in range(1, n + 1):
        previous = pmf
        pmf = np.zeros(k * (k + 1) // 2 + 1)
        pmf[: len(previous)] = previous * 0.5
        pmf[-len(previous) :] += previous * 0.5
    k = int(r_plus)
    centre = n * (n + 1) / 4
    # Below the centre both tails are summed directly, above it each is one minus
    # its complement: the same floating-point sums as scipy's WilcoxonDistribution.
    lower = pmf[: k + 1].sum() if k <= centre else 1 - pmf[k + 1 :].sum()
    upper = pmf[k:].sum() if k <= centre else 1 - pmf[:k].sum()
    return float(np.clip(2 * min(upper, lower), 0, 1))


def _signed_rank_permutation_p(r_plus: float, ranks: np.ndarray, n: int) -> float:
    """Two-sided p-value over all 2**n sign flips (zeros flip too but add no rank)."""
    doubled = np.rint(2 * ranks).astype(np.int64)
    counts = np.zeros(int(doubled.sum()) + 1, dtype=np.int64)
    counts[0] = 1
    for step in doubled:
        shifted = np.zeros_like(counts)
        shifted[step:] = counts[: len(counts) - step]
        counts = counts + shifted
    observed = int(round(2 * r_plus))
    zero_flips = 2 ** (n - len(ranks))
    at_most = int(counts[: observed + 1].sum()) * zero_flips
    at_least = int(counts[observed:].sum()) * zero_flips
    return float(np.clip(min(at_most / 2**n, at_least / 2**n) * 2, 0, 1))


def _signed_rank_normal_p(r_plus: float, ranks: np.ndarray, sizes: np.ndarray) -> float:
    """Normal approximation with the tie correction, no continuity correction."""
    from scipy.special import ndtr

    count = float(len(ranks))
    mean = count * (count + 1.0) * 0.25
    variance = count * (count + 1.0) * (2.0 * count + 1.0)
    ties = float(np.sum(sizes.astype(float) ** 3 - sizes))
    se = np.sqrt((variance - ties / 2) / 24)
    return float(2 * ndtr(-abs((r_plus - mean) / se)))


def wilcoxon_signed_rank(change) -> float:
    """Two-sided Wilcoxon signed-rank p-value for paired changes.

    Zero changes are dropped (Wilcoxon's method); missing values are left out.
    The p-value equals ``scipy.stats.wilcoxon(change, zero_method="wilcox")``
    (scipy 1.17, ``method="auto"``) without importing ``scipy.stats``: with n
    values (zeros included) the exact null distribution when n ≤ 50 and there
    are neither ties nor zeros, otherwise all 2ⁿ sign flips when n ≤ 13, and
    otherwise the normal approximation with a tie correction and no continuity
    correction.

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
    values = _clean_changes(change)
    if values.size < 2 or np.all(values == 0):
        return float("nan")
    nonzero, ranks, sizes = _signed_ranks(values)
    r_plus = float(ranks[nonzero > 0].sum())
    n = values.size
    if n <= _WILCOXON_EXACT_MAX and nonzero.size == n and np.all(sizes == 1):
        return _signed_rank_exact_p(r_plus, n)
    if n <= _WILCOXON_PERMUTATION_MAX:
        return _signed_rank_permutation_p(r_plus, ranks, n)
    return _signed_rank_normal_p(r_plus, ranks, sizes)
