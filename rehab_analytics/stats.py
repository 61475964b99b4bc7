"""Statistical methods for fair comparisons: intervals, funnels, case mix, paired tests.

Formulas follow the project methods notes (Wilson, Byar, Spiegelhalter funnels, Newcombe,
indirect standardisation, McNemar). Every function is vectorised over numpy
arrays and pandas Series and accepts scalars.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _sps

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

DEFAULT_COVARIATES = (
    "age_band",
    "sex",
    "income_group_before",
    "education",
    "support_years_before",
)
# Lower edges of the age bands derived from age_at_start; the last is open.
AGE_BANDS = {"16-24": 0, "25-29": 25, "30-39": 30, "40-49": 40, "50+": 50}

# Below this count Byar's approximation is poor: use the exact Poisson limits.
_BYAR_MIN = 10
# With fewer discordant pairs the chi-square approximation is poor: exact test.
_MCNEMAR_EXACT_BELOW = 25


# --------------------------------------------------------------------------- helpers


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
    """Two-sided standard normal quantile for confidence ``level``."""
    return float(_sps.norm.ppf(level + (1 - level) / 2))


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


# --------------------------------------------------------------------- intervals


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
        exact_low = np.where(x > 0, _sps.chi2.ppf(alpha / 2, 2 * x) / 2, 0.0)
        exact_high = _sps.chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2
    small = x < _BYAR_MIN
    low = np.where(small, exact_low, byar_low)
    high = np.where(small, exact_high, byar_high)
    low = np.where(np.isnan(x), np.nan, low)
    high = np.where(np.isnan(x), np.nan, high)
    return _out(low, high, scalar)


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
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        test_proportions_2indep,
    )

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
        low, high = confint_proportions_2indep(
            x[ok], size[ok], rest_x[ok], rest_n[ok], method="newcomb", alpha=1 - level
        )
        ci_low[ok], ci_high[ok] = low, high
        with np.errstate(divide="ignore", invalid="ignore"):
            test = test_proportions_2indep(
                x[ok], size[ok], rest_x[ok], rest_n[ok], method="score"
            )
        # A score statistic of 0/0 (both shares 0 or 1) means no evidence at all.
        p_value[ok] = np.where(np.isnan(test.pvalue), 1.0, test.pvalue)
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


# ----------------------------------------------------------------------- case mix


def _age_band(age: pd.Series) -> pd.Series:
    edges = [*AGE_BANDS.values(), np.inf]
    edges[0] = -np.inf
    bands = pd.cut(
        pd.to_numeric(age, errors="coerce"),
        bins=edges,
        right=False,
        labels=list(AGE_BANDS),
    )
    return bands.astype("str").where(bands.notna())


def _casemix_design(
    data: pd.DataFrame, covariates: Sequence[str]
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One-hot design (with intercept) plus the covariates used and the notes."""
    used: list[str] = []
    notes: list[str] = []
    parts = [pd.DataFrame({"const": np.ones(len(data))}, index=data.index)]
    for name in covariates:
        values = data[name].astype("string").fillna("missing")
        if values.nunique() < 2:
            notes.append(f"covariate '{name}' has no variation and was dropped")
            continue
        dummies = pd.get_dummies(values, prefix=name, drop_first=True, dtype=float)
        parts.append(dummies)
        used.append(name)
    return pd.concat(parts, axis=1), used, notes


def _fit_expected(y: np.ndarray, design: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Predicted probabilities from a binomial GLM and any fit problems."""
    import statsmodels.api as sm

    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = sm.GLM(y, design.to_numpy(), family=sm.families.Binomial()).fit()
        except (np.linalg.LinAlgError, ValueError) as exc:
            problems.append(f"model could not be fitted ({exc}); crude rate used")
            return np.full(y.shape, y.mean()), problems
    fitted = np.asarray(result.fittedvalues)
    if not result.converged:
        problems.append("model did not converge")
    separation = any("separation" in str(w.message).lower() for w in caught)
    if separation or np.any((fitted < 1e-6) | (fitted > 1 - 1e-6)):
        problems.append("possible (quasi-)separation: some groups all 0 or all 1")
    return fitted, problems


def casemix_observed_expected(
    df: pd.DataFrame,
    outcome: str,
    unit: str = "subproject",
    covariates: Sequence[str] = DEFAULT_COVARIATES,
    level: float = 0.95,
    min_unit_n: int = 20,
) -> pd.DataFrame:
    """Indirectly standardised observed/expected ratio (O/E) per unit.

    A logistic model (binomial GLM, covariates one-hot coded, a missing value
    being its own level) of ``outcome`` on the case-mix covariates is fitted on
    the pooled rows with a known outcome. Each unit's expected count E is the
    sum of its rows' predicted probabilities; O/E above 1 means more events than
    the unit's participants would have had at the pooled average. The interval
    is ``byar_interval(O) / E`` and treats E as fixed.

    Assumptions: the covariates capture the case-mix differences that matter;
    their effects are the same in every unit (no interaction with unit); rows
    with a missing outcome are missing at random given the covariates; units are
    compared with the pooled population, not with each other. Covariates absent
    from ``df`` are dropped with a warning, and so are covariates with a single
    level. If ``age_band`` is requested but absent and ``age_at_start`` is
    present, bands 16–24, 25–29, 30–39, 40–49 and 50+ are derived.

    Args:
        df: One row per episode.
        outcome: Boolean (or 0/1) outcome column; missing values are left out.
        unit: Column naming the unit compared (default ``subproject``).
        covariates: Case-mix columns (categorical).
        level: Confidence level of the O/E interval.
        min_unit_n: Units with fewer rows get a warning.

    Returns:
        DataFrame with ``unit, n, observed, expected, oe, ci_low, ci_high,
        crude_share, expected_share, warning`` (``warning`` is "" when all is
        well). ``attrs["casemix"]`` records the covariates used and the notes.
        Before publishing, suppress with ``count_cols=("n", "observed")`` and
        ``share_cols=("expected", "oe", "ci_low", "ci_high", "crude_share",
        "expected_share")``.

    Example:
        >>> data = pd.DataFrame({
        ...     "subproject": ["a"] * 4 + ["b"] * 4,
        ...     "sex": ["woman", "man"] * 4,
        ...     "work": [True, False, True, False, True, True, False, False],
        ... })
        >>> out = casemix_observed_expected(data, "work", covariates=["sex"])
        >>> out[["unit", "n", "observed", "expected", "oe"]]
          unit  n  observed  expected   oe
        0    a  4         2       2.0  1.0
        1    b  4         2       2.0  1.0
    """
    level = _check_level(level)
    for name in (outcome, unit):
        if name not in df.columns:
            raise ValueError(
                f"column '{name}' is not in the table; available columns: "
                f"{', '.join(map(str, df.columns))}."
            )
    data = df.loc[df[outcome].notna() & df[unit].notna()].copy()
    notes: list[str] = []
    wanted = list(covariates)
    if (
        "age_band" in wanted
        and "age_band" not in data.columns
        and "age_at_start" in data.columns
    ):
        data["age_band"] = _age_band(data["age_at_start"])
    missing = [c for c in wanted if c not in data.columns]
    if missing:
        message = f"case-mix covariates not in the table were dropped: {missing}"
        warnings.warn(message, UserWarning, stacklevel=2)
        notes.append(message)
    present = [c for c in wanted if c in data.columns]

    y_raw = data[outcome]
    if y_raw.dtype == bool or str(y_raw.dtype) == "boolean":
        y = y_raw.astype(float).to_numpy()
    else:
        y = pd.to_numeric(y_raw, errors="raise").to_numpy(dtype=float)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(
            f"outcome '{outcome}' must be boolean or 0/1; found other values. "
            "Build the outcome as a yes/no column first."
        )

    problems: list[str] = []
    design, used, design_notes = _casemix_design(data, present)
    notes.extend(design_notes)
    if len(y) == 0:
        fitted = y
    elif y.min() == y.max():
        problems.append("outcome has no variation; expected equals observed")
        fitted = y.copy()
    else:
        fitted, problems = _fit_expected(y, design)

    grouped = (
        pd.DataFrame({"unit": data[unit].to_numpy(), "y": y, "p": fitted})
        .groupby("unit", sort=True, observed=True)
        .agg(n=("y", "size"), observed=("y", "sum"), expected=("p", "sum"))
        .reset_index()
    )
    grouped["n"] = grouped["n"].astype("int64")
    grouped["observed"] = grouped["observed"].round().astype("int64")
    low, high = byar_interval(grouped["observed"].to_numpy(), level)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = grouped["expected"].to_numpy()
        grouped["oe"] = np.where(expected > 0, grouped["observed"] / expected, np.nan)
        grouped["ci_low"] = np.where(expected > 0, low / expected, np.nan)
        grouped["ci_high"] = np.where(expected > 0, high / expected, np.nan)
    grouped["crude_share"] = grouped["observed"] / grouped["n"]
    grouped["expected_share"] = grouped["expected"] / grouped["n"]
    small = np.where(
        grouped["n"] < min_unit_n, f"fewer than {min_unit_n} participants", ""
    )
    model_text = "; ".join(problems)
    grouped["warning"] = [
        "; ".join(part for part in (s, model_text) if part) for s in small
    ]
    grouped.attrs["casemix"] = {
        "outcome": outcome,
        "covariates": used,
        "rows": int(len(data)),
        "notes": notes + problems,
    }
    return grouped


# ------------------------------------------------------------------- paired data


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
            1.0 if discordant == 0 else float(_sps.binomtest(b, discordant, 0.5).pvalue)
        )
        method = "exact"
    else:
        statistic = (abs(b - c) - 1) ** 2 / discordant
        p_value = float(_sps.chi2.sf(statistic, 1))
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
    level = _check_level(level)
    values = _clean_changes(change)
    if values.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    if values.size < 2:
        return mean, float("nan"), float("nan")
    half = _sps.t.ppf(level + (1 - level) / 2, values.size - 1) * _sps.sem(values)
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
    values = _clean_changes(change)
    if values.size < 2 or np.all(values == 0):
        return float("nan")
    return float(_sps.wilcoxon(values, zero_method="wilcox").pvalue)
