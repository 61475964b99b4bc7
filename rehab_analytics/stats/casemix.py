"""Case-mix adjustment: expected outcomes by indirect standardisation, O/E with intervals."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from rehab_analytics.stats.intervals import (
    _check_level,
    byar_interval,
)

__all__ = [
    "AGE_BANDS",
    "DEFAULT_COVARIATES",
    "casemix_observed_expected",
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


# statsmodels' GLM.fit defaults: IRLS until the deviance changes by at most 1e-8.
_IRLS_TOL = 1e-8
_IRLS_MAXITER = 100
_EPS = np.finfo(float).eps


def _pinv(matrix: np.ndarray) -> np.ndarray:
    """Pseudo-inverse by SVD with statsmodels' cut-off (1e-15 × largest value)."""
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    cutoff = 1e-15 * np.maximum.reduce(s)
    inverse = np.where(s > cutoff, 1.0 / np.where(s > cutoff, s, 1.0), 0.0)
    return np.dot(vt.T, inverse[:, None] * u.T)


def _logistic_irls(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, bool, bool]:
    """Logistic regression fitted as statsmodels' ``GLM(y, x, Binomial()).fit()``.

    Same start ((y + ½)/2), clipping of probabilities to [eps, 1 − eps],
    least-squares steps, stopping rule and final pseudo-inverse solve, so the
    fitted values agree to rounding. Returns the fitted probabilities, whether
    the fit converged and whether separation was seen (every fitted value within
    1e-8 of the outcome after some step).

    Raises:
        ValueError: If the deviance or a working response is not finite (with
            statsmodels' messages, which end up in the notes).
        numpy.linalg.LinAlgError: If a least-squares step fails.
    """

    def deviance(mu: np.ndarray) -> float:
        ones = np.clip(y / (mu + 1e-20), _EPS, np.inf)
        zeros = np.clip((1.0 - y) / (1.0 - mu + 1e-20), _EPS, np.inf)
        return np.sum(2 * (y * np.log(ones) + (1 - y) * np.log(zeros)))

    mu = (y + 0.5) / 2
    clean = np.clip(mu, _EPS, 1.0 - _EPS)
    eta = np.log(clean / (1.0 - clean))
    history = [deviance(mu)]
    if np.isnan(history[0]):
        raise ValueError(
            "The first guess on the deviance function returned a nan.  This could "
            "be a boundary  problem and should be reported."
        )
    converged = separation = False
    for _ in range(_IRLS_MAXITER):
        clean = np.clip(mu, _EPS, 1.0 - _EPS)
        slope = 1.0 / (clean * (1 - clean))
        weights = 1.0 / (slope**2 * (clean * (1 - clean)))
        working = eta + slope * (y - mu)
        root = np.sqrt(weights)
        for name, values in (("weights", root), ("endog", working)):
            if not np.all(np.isfinite(values)):
                raise ValueError(
                    f"NaN, inf or invalid value detected in {name}, estimation "
                    "infeasible."
                )
        wx, wy = root[:, None] * x, root * working
        params = np.linalg.lstsq(wx, wy, rcond=-1)[0]
        eta = np.dot(x, params)
        with np.errstate(over="ignore"):
            mu = 1.0 / (1.0 + np.exp(-eta))
        history.append(deviance(mu))
        separation = separation or np.allclose(mu - y, 0)
        converged = np.allclose(history[-2], history[-1], atol=_IRLS_TOL, rtol=0)
        if converged:
            break
    with np.errstate(over="ignore"):
        fitted = 1.0 / (1.0 + np.exp(-np.dot(x, np.dot(_pinv(wx), wy))))
    return fitted, bool(converged), bool(separation)


def _fit_expected(y: np.ndarray, design: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Predicted probabilities from a logistic model and any fit problems."""
    problems: list[str] = []
    try:
        fitted, converged, separation = _logistic_irls(y, design.to_numpy(float))
    except (np.linalg.LinAlgError, ValueError) as exc:
        problems.append(f"model could not be fitted ({exc}); crude rate used")
        return np.full(y.shape, y.mean()), problems
    if not converged:
        problems.append("model did not converge")
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
