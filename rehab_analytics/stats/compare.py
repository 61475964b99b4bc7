"""Statistical methods for fair comparisons: intervals, funnels, case mix, paired tests.

Formulas follow the project methods notes (Wilson, Byar, Spiegelhalter funnels, Newcombe,
indirect standardisation, McNemar). Every function is vectorised over numpy
arrays and pandas Series and accepts scalars.

Funnels and the comparison with the other units live here; the intervals in
:mod:`~rehab_analytics.stats.intervals`, case mix in :mod:`~rehab_analytics.stats.casemix`
and the paired tests in :mod:`~rehab_analytics.stats.paired`. All are re-exported.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rehab_analytics.stats.casemix import (  # noqa: F401  (re-exported)
    AGE_BANDS,
    DEFAULT_COVARIATES,
    _age_band,
    casemix_observed_expected,
)
from rehab_analytics.stats.intervals import (  # noqa: F401  (re-exported)
    _as_float_array,
    _check_counts,
    _check_level,
    _wilson_bounds,
    _z,
    byar_interval,
    wilson_interval,
)
from rehab_analytics.stats.paired import (
    mcnemar_test,
    mean_change_interval,
    wilcoxon_signed_rank,
)

__all__ = [
    "wilson_interval",
    "byar_interval",
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


# --------------------------------------------------------------------------- helpers


def _level_label(level: float) -> str:
    """'95' for 0.95, '99_8' for 0.998 (safe as part of a column name)."""
    return f"{level * 100:.10g}".replace(".", "_")


def _holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm step-down adjustment; NaN p-values stay NaN and do not count."""
    out = np.full(pvalues.shape, np.nan)
    ok = ~np.isnan(pvalues)
    p = pvalues[ok]
    m = p.size
    if m == 0:
        return out
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    out[ok] = adjusted
    return out


# ------------------------------------------------------------------------ funnels


def funnel_limits(
    numerator_total,
    denominator_total,
    denominators,
    levels: Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """Control limits of a proportion funnel plot around the pooled share.

    For a denominator N the upper limit is the share u whose Wilson *lower*
    bound at N equals p₀ = numerator_total / denominator_total, the lower limit
    the share whose Wilson *upper* bound equals p₀. Solving the Wilson equation
    ``(u − p₀)² = z²·p₀(1 − p₀)/N`` for u gives the closed form
    ``p₀ ± z·√(p₀(1 − p₀)/N)``; limits are clipped to [0, 1].

    Args:
        numerator_total: Σ events over all units.
        denominator_total: Σ n over all units (> 0).
        denominators: The N values to compute limits at (e.g. a grid for the
            curve, or the units' own n).
        levels: Confidence levels; each gives ``lower_<L>``/``upper_<L>`` columns
            with L = level in percent, '.' replaced by '_' (0.998 → ``99_8``).

    Returns:
        DataFrame with ``denominator``, ``baseline`` and the limit columns, one
        row per denominator (NaN limits for N <= 0).

    Example:
        >>> funnel_limits(30, 100, [25, 100]).round(3)
           denominator  baseline  lower_95  upper_95  lower_99_8  upper_99_8
        0           25       0.3      0.12      0.48       0.017       0.583
        1          100       0.3      0.21      0.39       0.158       0.442
    """
    num = float(numerator_total)
    den = float(denominator_total)
    if not den > 0:
        raise ValueError(
            f"denominator_total is {denominator_total!r}; the pooled baseline needs "
            "at least one observation."
        )
    if not 0 <= num <= den:
        raise ValueError(
            f"numerator_total ({numerator_total!r}) must lie between 0 and "
            f"denominator_total ({denominator_total!r})."
        )
    p0 = num / den
    size = _as_float_array(denominators).ravel()
    if np.any(size[~np.isnan(size)] < 0):
        raise ValueError("denominators must be 0 or more.")
    out = pd.DataFrame({"denominator": np.asarray(denominators).ravel()})
    out["baseline"] = p0
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.where(size > 0, np.sqrt(p0 * (1 - p0) / size), np.nan)
    for level in levels:
        z = _z(_check_level(level))
        label = _level_label(level)
        out[f"lower_{label}"] = np.clip(p0 - z * se, 0.0, 1.0)
        out[f"upper_{label}"] = np.clip(p0 + z * se, 0.0, 1.0)
    return out


def funnel_flags(events, n, baseline=None) -> pd.DataFrame:
    """Flag units above or below the funnel (PHE convention).

    A unit is "high" at 99.8% when its Wilson lower bound at 99.8% exceeds the
    baseline (one-sided 0.001), else "high" at 95% when its 95% lower bound does
    (one-sided 0.025); "low" likewise with the upper bounds. This is the same as
    lying outside :func:`funnel_limits`. With six units, over-dispersion (φ, τ²)
    cannot be estimated reliably, so none is applied: the funnel is exploratory
    and a flag is a prompt to look closer, not a verdict.

    Args:
        events: Events per unit.
        n: Denominator per unit.
        baseline: Reference share; default the pooled share Σevents / Σn.

    Returns:
        DataFrame (index of ``events`` when it is a Series) with ``flag`` in
        {"high", "low", "not_significant"} (missing when n == 0) and ``level`` in
        {"99.8", "95", ""}.

    Example:
        >>> flags = funnel_flags([10, 50, 90], [100, 100, 100])
        >>> flags["flag"].tolist(), flags["level"].tolist()
        (['low', 'not_significant', 'high'], ['99.8', '', '99.8'])
    """
    x = _as_float_array(events).ravel()
    size = _as_float_array(n).ravel()
    if baseline is None:
        ok = ~(np.isnan(x) | np.isnan(size))
        baseline = x[ok].sum() / size[ok].sum()
    index = events.index if isinstance(events, pd.Series) else None
    low95, high95 = wilson_interval(x, size, 0.95)
    low998, high998 = wilson_interval(x, size, 0.998)
    base = np.asarray(baseline, dtype=float)
    conditions = [
        low998 > base,
        high998 < base,
        low95 > base,
        high95 < base,
        np.isnan(low95),
    ]
    flag = np.select(conditions, ["high", "low", "high", "low", ""], "not_significant")
    level = np.select(conditions, ["99.8", "99.8", "95", "95", ""], "")
    out = pd.DataFrame({"flag": flag, "level": level}, index=index)
    out["flag"] = out["flag"].mask(out["flag"] == "")
    return out


def _newcombe_interval(x1, n1, x2, n2, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for p1 − p2 from the two Wilson intervals.

    As ``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb")``;
    here so report kernels need not import statsmodels (and scipy.stats).
    """
    z = _z(level)
    p1, p2 = x1 / n1, x2 / n2
    low1, high1 = _wilson_bounds(x1, n1, z)
    low2, high2 = _wilson_bounds(x2, n2, z)
    below = np.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2)
    above = np.sqrt((p2 - low2) ** 2 + (high1 - p1) ** 2)
    return p1 - p2 - below, p1 - p2 + above


def _score_test_pvalue(x1, n1, x2, n2) -> np.ndarray:
    """Two-sided score test of p1 = p2 with the N/(N − 1) variance correction.

    As ``statsmodels.stats.proportion.test_proportions_2indep(method="score")``
    (the pooled share under the null; NaN when it is 0 or 1).
    """
    from scipy.special import ndtr

    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) / n1 + pooled * (1 - pooled) / n2
    variance *= (n1 + n2) / (n1 + n2 - 1)
    return ndtr(-np.abs((x1 / n1 - x2 / n2) / np.sqrt(variance))) * 2


def compare_with_rest(events, n, labels=None, level: float = 0.95) -> pd.DataFrame:
    """Compare each unit's share with all other units pooled.

    The difference ``share − rest_share`` gets Newcombe's hybrid score interval
    (``confint_proportions_2indep(method="newcomb")``) and a score-test p-value
    (``test_proportions_2indep(method="score")``). Testing every unit at once is
    a family of tests: ``p_adjusted`` applies Holm's step-down correction, use it
    (not ``p_value``) to call a difference significant.

    Args:
        events: Events per unit.
        n: Denominator per unit.
        labels: Unit names; default the index of ``events`` (Series) or 0..k−1.
        level: Confidence level of the difference interval.

    Returns:
        DataFrame with ``unit, n, events, share, rest_share, difference,
        ci_low, ci_high, p_value, p_adjusted`` (``n``/``events`` as ``Int64``).
        Before publishing, suppress with
        ``share_cols=("share", "rest_share", "difference", "ci_low", "ci_high")``:
        the rest's share and the known total would give a hidden count back.

    Example:
        >>> out = compare_with_rest([20, 40, 30], [100, 100, 100], ["a", "b", "c"])
        >>> out[["unit", "share", "rest_share", "difference"]]
          unit  share  rest_share  difference
        0    a    0.2        0.35       -0.15
        1    b    0.4        0.25        0.15
        2    c    0.3        0.30        0.00
    """
    level = _check_level(level)
    x = _as_float_array(events).ravel()
    size = _as_float_array(n).ravel()
    _check_counts(x, "events")
    _check_counts(size, "n")
    if np.any(x > size):
        raise ValueError("events exceed n for at least one unit; check the inputs.")
    if labels is None:
        labels = events.index if isinstance(events, pd.Series) else range(len(x))
    rest_x = np.nansum(x) - x
    rest_n = np.nansum(size) - size
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(size > 0, x / size, np.nan)
        rest_share = np.where(rest_n > 0, rest_x / rest_n, np.nan)
    ok = (size > 0) & (rest_n > 0)
    ci_low = np.full(x.shape, np.nan)
    ci_high = np.full(x.shape, np.nan)
    p_value = np.full(x.shape, np.nan)
    if ok.any():
        ci_low[ok], ci_high[ok] = _newcombe_interval(
            x[ok], size[ok], rest_x[ok], rest_n[ok], level
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            pvalue = _score_test_pvalue(x[ok], size[ok], rest_x[ok], rest_n[ok])
        # A score statistic of 0/0 (both shares 0 or 1) means no evidence at all.
        p_value[ok] = np.where(np.isnan(pvalue), 1.0, pvalue)
    return pd.DataFrame(
        {
            "unit": list(labels),
            "n": pd.array(size, dtype="Float64").astype("Int64"),
            "events": pd.array(x, dtype="Float64").astype("Int64"),
            "share": share,
            "rest_share": rest_share,
            "difference": share - rest_share,
            "ci_low": ci_low,
            "ci_high": ci_high,
            "p_value": p_value,
            "p_adjusted": _holm(p_value),
        }
    )
