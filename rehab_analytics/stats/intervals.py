"""Confidence intervals for shares and counts (Wilson, Byar) and their shared checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "byar_interval",
    "wilson_interval",
]


# Below this count Byar's approximation is poor: use the exact Poisson limits.
_BYAR_MIN = 10


def _check_level(level: float) -> float:
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise ValueError(
            f"level is {level!r}, expected a confidence level between 0 and 1 "
            "such as 0.95."
        ) from None
    if not 0 < value < 1:
        raise ValueError(
            f"level is {level!r}, expected a confidence level strictly between 0 "
            "and 1 such as 0.95 (not a percentage like 95)."
        )
    return value


def _z(level: float) -> float:
    """Two-sided standard normal quantile for confidence ``level``.

    ``scipy.special`` imports in a tenth of the time ``scipy.stats`` takes, which
    every report kernel would otherwise pay.
    """
    from scipy.special import ndtri

    return float(ndtri(level + (1 - level) / 2))


def _chi2_ppf(q: float, df: np.ndarray) -> np.ndarray:
    """Chi-square quantile, as ``scipy.stats.chi2.ppf`` (via the inverse gamma)."""
    from scipy.special import gammaincinv

    return 2 * gammaincinv(np.asarray(df, dtype=float) / 2, q)


def _as_float_array(values: object) -> np.ndarray:
    """Float array from scalars, lists, arrays or (nullable) pandas objects; NA -> NaN."""
    if isinstance(values, pd.Series | pd.Index):
        return pd.to_numeric(values, errors="raise").to_numpy(
            dtype=float, na_value=np.nan
        )
    return np.asarray(values, dtype=float)


def _check_counts(values: np.ndarray, name: str) -> None:
    finite = values[~np.isnan(values)]
    if np.any(finite < 0):
        raise ValueError(
            f"{name} has negative values (smallest {finite.min():g}); counts must "
            "be 0 or more. Check how the counts were computed."
        )
    if np.any(finite != np.round(finite)):
        bad = finite[finite != np.round(finite)][0]
        raise ValueError(
            f"{name} has a non-integer value ({bad:g}); counts must be whole "
            "numbers. Pass counts, not shares or weighted sums."
        )


def _out(low: np.ndarray, high: np.ndarray, scalar: bool):
    if scalar:
        return float(low), float(high)
    return low, high


def _wilson_bounds(x, n, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson bounds for (possibly non-integer) x of n, without input checks."""
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, x / n, np.nan)
        centre = 2 * x + z**2
        spread = z * np.sqrt(z**2 + 4 * x * (1 - p))
        denom = 2 * (n + z**2)
        low = np.clip((centre - spread) / denom, 0.0, 1.0)
        high = np.clip((centre + spread) / denom, 0.0, 1.0)
    low = np.where(n > 0, low, np.nan)
    high = np.where(n > 0, high, np.nan)
    return low, high


def wilson_interval(successes, trials, level: float = 0.95):
    """Wilson score interval for the share ``successes / trials``.

    Bounds are ``(2x + z² ∓ z·√(z² + 4x(1 − x/n))) / (2(n + z²))`` with
    ``z = Φ⁻¹(level + (1 − level)/2)``, clipped to [0, 1]. Missing counts give NaN.

    Args:
        successes: Count(s) of events x.
        trials: Count(s) of trials n (same shape as ``successes`` or broadcastable).
        level: Confidence level in (0, 1).

    Returns:
        ``(low, high)``: numpy arrays, or floats for scalar input. NaN where
        ``trials == 0``.

    Raises:
        ValueError: If counts are negative or non-integer, successes exceed
            trials, or ``level`` is not in (0, 1).

    Example:
        >>> low, high = wilson_interval(65, 100)
        >>> round(low, 6), round(high, 6)
        (0.552544, 0.736358)
        >>> wilson_interval([1, 0], [100, 0])[1].round(4)
        array([0.0545,    nan])
    """
    level = _check_level(level)
    scalar = np.ndim(successes) == 0 and np.ndim(trials) == 0
    x = _as_float_array(successes)
    n = _as_float_array(trials)
    _check_counts(x, "successes")
    _check_counts(n, "trials")
    x, n = np.broadcast_arrays(x, n)
    over = x > n
    if np.any(over):
        i = int(np.flatnonzero(over)[0])
        raise ValueError(
            f"successes ({x.flat[i]:g}) exceed trials ({n.flat[i]:g}) at position "
            f"{i}; a share cannot exceed 1. Check that numerator and denominator "
            "belong together."
        )
    low, high = _wilson_bounds(x, n, _z(level))
    return _out(low, high, scalar)


def byar_interval(count, level: float = 0.95):
    """Confidence interval for a Poisson count (observed events O).

    Exact Poisson limits ``χ²((1−c)/2; 2x)/2`` and ``χ²(c+(1−c)/2; 2x+2)/2``
    below 10; Byar's approximation ``x(1 − 1/(9x) − z/(3√x))³`` and
    ``(x+1)(1 − 1/(9(x+1)) + z/(3√(x+1)))³`` from 10 on. Divide by the expected
    count to get an interval for O/E.

    Args:
        count: Observed count(s), whole numbers >= 0.
        level: Confidence level in (0, 1).

    Returns:
        ``(low, high)``: arrays, or floats for scalar input.

    Raises:
        ValueError: If a count is negative or non-integer, or ``level`` is bad.

    Example:
        >>> low, high = byar_interval(65)
        >>> round(low, 7), round(high, 7)
        (50.1631877, 82.8491385)
        >>> byar_interval(0)[0]
        0.0
    """
    level = _check_level(level)
    scalar = np.ndim(count) == 0
    x = _as_float_array(count)
    _check_counts(x, "count")
    z = _z(level)
    alpha = 1 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        byar_low = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
        byar_high = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
        exact_low = np.where(x > 0, _chi2_ppf(alpha / 2, 2 * x) / 2, 0.0)
        exact_high = _chi2_ppf(1 - alpha / 2, 2 * x + 2) / 2
    small = x < _BYAR_MIN
    low = np.where(small, exact_low, byar_low)
    high = np.where(small, exact_high, byar_high)
    low = np.where(np.isnan(x), np.nan, low)
    high = np.where(np.isnan(x), np.nan, high)
    return _out(low, high, scalar)
