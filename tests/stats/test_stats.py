"""Tests for rehab_analytics.stats: intervals, funnels, comparisons, case mix, paired tests."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats import proportion as sm_proportion
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from rehab_analytics.stats import casemix as casemix
from rehab_analytics.stats import compare as stats
from rehab_analytics.stats.compare import (
    byar_interval,
    casemix_observed_expected,
    compare_with_rest,
    funnel_flags,
    funnel_limits,
    mcnemar_test,
    mean_change_interval,
    wilcoxon_signed_rank,
    wilson_interval,
)

# ---------------------------------------------------------------- wilson_interval


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        (65, 100, 0.552544432968880, 0.736357517569025),
        (1, 100, 0.001767432064141, 0.054486196178705),
        (20, 100, 0.133366933331033, 0.288829165593159),
    ],
)
def test_wilson_matches_methods_reference_values(x, n, low, high):
    """Wilson bounds equal the METHODS check values to 1e-9."""
    got = wilson_interval(x, n)
    assert isinstance(got[0], float)
    assert got == pytest.approx((low, high), abs=1e-9)


def test_wilson_agrees_with_statsmodels_on_a_grid():
    """Vectorised Wilson bounds agree with statsmodels' wilson method to 1e-9."""
    n = np.repeat(np.arange(1, 61), 61)
    x = np.tile(np.arange(0, 61), 60)
    keep = x <= n
    x, n = x[keep], n[keep]
    for level in (0.8, 0.95, 0.998):
        low, high = wilson_interval(x, n, level)
        ref_low, ref_high = proportion_confint(x, n, alpha=1 - level, method="wilson")
        np.testing.assert_allclose(low, ref_low, atol=1e-9, rtol=0)
        np.testing.assert_allclose(high, ref_high, atol=1e-9, rtol=0)


def test_wilson_edges_and_missing_values():
    """0 of n starts at 0, n of n ends at 1, n == 0 and missing give NaN."""
    low, high = wilson_interval(
        pd.Series([0, 10, 0, pd.NA], dtype="Int64"),
        pd.Series([10, 10, 0, 5], dtype="Int64"),
    )
    assert low[0] == 0.0 and high[1] == 1.0
    assert np.isnan(low[2]) and np.isnan(high[2])
    assert np.isnan(low[3]) and np.isnan(high[3])


@pytest.mark.parametrize(
    ("x", "n", "level", "message"),
    [
        (11, 10, 0.95, r"successes \(11\) exceed trials \(10\)"),
        (-1, 10, 0.95, "successes has negative values"),
        (1, -10, 0.95, "trials has negative values"),
        (1.5, 10, 0.95, "successes has a non-integer value"),
        (1, 10.5, 0.95, "trials has a non-integer value"),
        (1, 10, 95, "strictly between 0 and 1"),
        (1, 10, 0.0, "strictly between 0 and 1"),
        (1, 10, "high", "expected a confidence level"),
    ],
)
def test_wilson_rejects_bad_input_with_clear_messages(x, n, level, message):
    """Invalid counts and levels raise ValueError naming the problem."""
    with pytest.raises(ValueError, match=message):
        wilson_interval(x, n, level)


# ------------------------------------------------------------------ byar_interval


def test_byar_matches_methods_check_value():
    """Byar's interval for 65 events is [50.1631877, 82.8491385]."""
    assert byar_interval(65) == pytest.approx((50.1631877, 82.8491385), abs=1e-7)


def test_byar_uses_exact_poisson_below_ten():
    """Counts 0..9 get the exact chi-square Poisson limits; 10 and up use Byar."""
    x = np.arange(0, 12)
    low, high = byar_interval(x, 0.95)
    exact_low = np.where(x > 0, sps.chi2.ppf(0.025, 2 * x) / 2, 0.0)
    exact_high = sps.chi2.ppf(0.975, 2 * x + 2) / 2
    np.testing.assert_allclose(low[:10], exact_low[:10], rtol=0, atol=1e-12)
    np.testing.assert_allclose(high[:10], exact_high[:10], rtol=0, atol=1e-12)
    z = sps.norm.ppf(0.975)
    byar_low = 10 * (1 - 1 / 90 - z / (3 * np.sqrt(10))) ** 3
    assert low[10] == pytest.approx(byar_low, abs=1e-12)
    assert low[0] == 0.0


def test_byar_rejects_negative_and_fractional_counts():
    """Negative or fractional counts raise ValueError."""
    with pytest.raises(ValueError, match="count has negative values"):
        byar_interval([-1, 3])
    with pytest.raises(ValueError, match="count has a non-integer value"):
        byar_interval(2.5)


# ------------------------------------------------------------------------ funnels


def test_funnel_limits_satisfy_the_wilson_definition():
    """At each limit the Wilson bound (continuous x = limit·N) equals p0 to 1e-9."""
    denominators = np.array([5, 12, 40, 100, 333, 2000])
    p0 = 87 / 300
    limits = funnel_limits(87, 300, denominators)
    assert list(limits.columns) == [
        "denominator",
        "baseline",
        "lower_95",
        "upper_95",
        "lower_99_8",
        "upper_99_8",
    ]
    for level, label in ((0.95, "95"), (0.998, "99_8")):
        z = sps.norm.ppf(level + (1 - level) / 2)
        upper = limits[f"upper_{label}"].to_numpy()
        lower = limits[f"lower_{label}"].to_numpy()
        inside = (upper < 1) & (lower > 0)
        n = denominators[inside]
        wl, _ = stats._wilson_bounds(upper[inside] * n, n, z)
        _, wu = stats._wilson_bounds(lower[inside] * n, n, z)
        np.testing.assert_allclose(wl, p0, atol=1e-9, rtol=0)
        np.testing.assert_allclose(wu, p0, atol=1e-9, rtol=0)
    assert (limits["baseline"] == p0).all()


def test_funnel_limits_are_clipped_to_unit_interval():
    """Small denominators give limits clipped at 0 and 1."""
    limits = funnel_limits(1, 10, [1, 2])
    assert limits["lower_99_8"].tolist() == [0.0, 0.0]
    assert limits["upper_99_8"].iloc[0] == 1.0


def test_funnel_limits_rejects_impossible_totals():
    """A baseline from an empty or inconsistent total is an error."""
    with pytest.raises(ValueError, match="at least one observation"):
        funnel_limits(0, 0, [10])
    with pytest.raises(ValueError, match="must lie between 0 and"):
        funnel_limits(11, 10, [10])


def test_funnel_flags_on_constructed_cases():
    """Units are flagged high/low at 99.8% or 95%, else not significant."""
    events = pd.Series([50, 62, 38, 80, 20, 0], index=list("abcdef"))
    n = pd.Series([100, 100, 100, 100, 100, 0], index=list("abcdef"))
    flags = funnel_flags(events, n, baseline=0.5)
    expected = pd.DataFrame(
        {
            "flag": ["not_significant", "high", "low", "high", "low", None],
            "level": ["", "95", "95", "99.8", "99.8", ""],
        },
        index=list("abcdef"),
    )
    expected["flag"] = expected["flag"].astype(flags["flag"].dtype)
    pdt.assert_frame_equal(flags, expected)


def test_funnel_flags_agree_with_funnel_limits():
    """A unit is flagged exactly when its share lies outside the funnel limits."""
    events = np.array([3, 9, 15, 30, 44, 60])
    n = np.array([40, 40, 60, 80, 100, 120])
    base = events.sum() / n.sum()
    flags = funnel_flags(events, n)
    limits = funnel_limits(events.sum(), n.sum(), n)
    share = events / n
    outside95 = (share > limits["upper_95"]) | (share < limits["lower_95"])
    assert (
        (flags["flag"] != "not_significant").to_numpy() == outside95.to_numpy()
    ).all()
    assert base == pytest.approx(limits["baseline"].iloc[0])


# -------------------------------------------------------------- compare_with_rest


def test_compare_with_rest_matches_statsmodels_newcombe():
    """Each unit's interval equals statsmodels' Newcombe interval vs the pooled rest."""
    events = pd.Series([12, 30, 25, 8, 40, 19], index=list("abcdef"))
    n = pd.Series([40, 60, 70, 35, 80, 50], index=list("abcdef"))
    out = compare_with_rest(events, n)
    assert out.columns.tolist() == [
        "unit",
        "n",
        "events",
        "share",
        "rest_share",
        "difference",
        "ci_low",
        "ci_high",
        "p_value",
        "p_adjusted",
    ]
    assert out["unit"].tolist() == list("abcdef")
    for i, unit in enumerate("abcdef"):
        rest_x = events.sum() - events[unit]
        rest_n = n.sum() - n[unit]
        low, high = confint_proportions_2indep(
            events[unit], n[unit], rest_x, rest_n, method="newcomb"
        )
        assert out.loc[i, "ci_low"] == pytest.approx(low, abs=1e-12)
        assert out.loc[i, "ci_high"] == pytest.approx(high, abs=1e-12)
        assert out.loc[i, "rest_share"] == pytest.approx(rest_x / rest_n)


def test_compare_with_rest_holm_adjustment():
    """p_adjusted is Holm's step-down adjustment of p_value."""
    from statsmodels.stats.multitest import multipletests

    out = compare_with_rest([5, 30, 25, 8, 40, 19], [40, 60, 70, 35, 80, 50])
    expected = multipletests(out["p_value"], method="holm")[1]
    np.testing.assert_allclose(out["p_adjusted"], expected, rtol=0, atol=1e-12)
    assert (out["p_adjusted"] >= out["p_value"]).all()


def test_compare_with_rest_empty_unit_gives_nan():
    """A unit with n == 0 gets NaN share, interval and p-values, not an error."""
    out = compare_with_rest([5, 30, 0], [40, 60, 0], ["a", "b", "c"])
    assert (
        out.loc[2, ["share", "ci_low", "ci_high", "p_value", "p_adjusted"]].isna().all()
    )
    assert out.loc[:1, "p_adjusted"].notna().all()


def test_compare_with_rest_matches_statsmodels_over_a_grid():
    """Newcombe bounds and score p-values equal statsmodels' for many unit pairs."""
    pairs = [
        (x1, n1, x2, n2)
        for n1 in (1, 2, 7, 40)
        for x1 in sorted({0, 1, n1 // 2, n1 - 1, n1})
        for n2 in (1, 5, 60)
        for x2 in sorted({0, 1, n2 // 3, n2})
    ]
    for level in (0.8, 0.95, 0.998):
        for x1, n1, x2, n2 in pairs:
            out = compare_with_rest([x1, x2], [n1, n2], level=level)
            low, high = confint_proportions_2indep(
                x1, n1, x2, n2, method="newcomb", alpha=1 - level
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                ref = sm_proportion.test_proportions_2indep(
                    x1, n1, x2, n2, method="score"
                ).pvalue
            got = out.loc[0]
            assert got["ci_low"] == pytest.approx(low, rel=1e-12, abs=1e-15)
            assert got["ci_high"] == pytest.approx(high, rel=1e-12, abs=1e-15)
            assert got["p_value"] == (1.0 if np.isnan(ref) else pytest.approx(ref))
            # Both shares 0 or both 1: a 0/0 statistic, reported as p = 1.
            assert np.isnan(ref) == ((x1 + x2) in (0, n1 + n2))


# ----------------------------------------------------------------------- case mix


def _casemix_data(unit_effect: float, seed: int = 7) -> pd.DataFrame:
    """Three units with very different age mixes; outcome depends on age (and unit c)."""
    rng = np.random.default_rng(seed)
    mixes = {"a": [0.7, 0.2, 0.1], "b": [0.2, 0.3, 0.5], "c": [0.1, 0.3, 0.6]}
    ages = {"young": 20, "middle": 35, "older": 55}
    logit = {"young": 0.8, "middle": 0.0, "older": -1.2}
    frames = []
    for unit, mix in mixes.items():
        band = rng.choice(list(ages), size=1500, p=mix)
        sex = rng.choice(["woman", "man"], size=1500)
        lp = np.array([logit[b] for b in band]) + (unit_effect if unit == "c" else 0)
        work = rng.random(1500) < 1 / (1 + np.exp(-lp))
        frames.append(
            pd.DataFrame(
                {
                    "subproject": unit,
                    "age_at_start": [ages[b] for b in band],
                    "sex": sex,
                    "work": work,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_casemix_equal_units_have_oe_near_one():
    """Units that differ only in case mix get O/E ≈ 1 though crude shares differ."""
    data = _casemix_data(unit_effect=0.0)
    with pytest.warns(UserWarning, match="income_group_before"):
        out = casemix_observed_expected(data, "work")
    assert out.columns.tolist() == [
        "unit",
        "n",
        "observed",
        "expected",
        "oe",
        "ci_low",
        "ci_high",
        "crude_share",
        "expected_share",
        "warning",
    ]
    assert out["crude_share"].max() - out["crude_share"].min() > 0.15
    np.testing.assert_allclose(out["oe"], 1.0, atol=0.08)
    assert ((out["ci_low"] < 1) & (out["ci_high"] > 1)).all()
    assert out["expected"].sum() == pytest.approx(out["observed"].sum(), rel=1e-8)
    assert out["warning"].eq("").all()
    assert out.attrs["casemix"]["covariates"] == ["age_band", "sex"]


def test_casemix_detects_a_unit_that_truly_differs():
    """A unit with a real effect gets O/E above 1 with an interval excluding 1."""
    out = casemix_observed_expected(
        _casemix_data(unit_effect=1.0), "work", covariates=["age_band", "sex"]
    )
    c = out.set_index("unit").loc["c"]
    assert c["oe"] > 1.2 and c["ci_low"] > 1
    assert (out.set_index("unit").loc[["a", "b"], "oe"] < 1).all()


def test_casemix_age_bands_from_age_at_start():
    """Age bands 16-24, 25-29, 30-39, 40-49, 50+ are derived from age_at_start."""
    bands = stats._age_band(pd.Series([16, 24, 25, 29, 30, 49, 50, 64, None]))
    assert bands.tolist()[:8] == [
        "16-24",
        "16-24",
        "25-29",
        "25-29",
        "30-39",
        "40-49",
        "50+",
        "50+",
    ]
    assert pd.isna(bands.iloc[8])


def test_casemix_warns_on_small_units_and_drops_constant_covariates():
    """Small units get a warning text; single-level covariates are dropped."""
    data = _casemix_data(0.0).assign(education="upper_secondary")
    small = data[data["subproject"] == "a"].head(10).assign(subproject="tiny")
    data = pd.concat([data, small], ignore_index=True)
    out = casemix_observed_expected(
        data, "work", covariates=["age_band", "education"], min_unit_n=20
    )
    tiny = out.set_index("unit").loc["tiny"]
    assert tiny["warning"] == "fewer than 20 participants"
    assert tiny["n"] == 10
    assert out.attrs["casemix"]["covariates"] == ["age_band"]
    assert "no variation" in out.attrs["casemix"]["notes"][0]


def test_casemix_flags_separation():
    """A covariate level where everyone has the outcome is reported as separation."""
    data = pd.DataFrame(
        {
            "subproject": ["a", "b"] * 30,
            "sex": ["woman"] * 20 + ["man"] * 40,
            "work": [True] * 20 + [True, False, False] * 13 + [True],
        }
    )
    out = casemix_observed_expected(data, "work", covariates=["sex"])
    assert out["warning"].str.contains("separation").all()


def test_casemix_ignores_missing_outcomes_and_rejects_bad_columns():
    """Rows with missing outcome are left out; unknown columns raise ValueError."""
    data = pd.DataFrame(
        {
            "subproject": ["a", "a", "b", "b", "b"],
            "sex": ["woman", "man", "woman", "man", "man"],
            "work": pd.array([True, None, False, True, False], dtype="boolean"),
        }
    )
    out = casemix_observed_expected(data, "work", covariates=["sex"])
    assert out["n"].tolist() == [1, 3]
    with pytest.raises(ValueError, match="column 'outcome_x' is not in the table"):
        casemix_observed_expected(data, "outcome_x")
    with pytest.raises(ValueError, match="must be boolean or 0/1"):
        casemix_observed_expected(
            data.assign(work=[0, 1, 2, 1, 0]), "work", covariates=["sex"]
        )


def _glm_reference(y: np.ndarray, x: np.ndarray, maxiter: int = 100):
    """statsmodels' binomial GLM: fitted values, converged, separation warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = sm.GLM(y, x, family=sm.families.Binomial()).fit(maxiter=maxiter)
    separation = any("separation" in str(w.message).lower() for w in caught)
    return np.asarray(fit.fittedvalues), fit.converged, separation


def test_logistic_fit_matches_statsmodels_glm():
    """IRLS fitted values, converged flag and separation agree with statsmodels GLM."""
    rng = np.random.default_rng(11)
    separated = 0
    for trial in range(60):
        n = int(rng.integers(8, 300))
        columns = [rng.integers(0, 2, n).astype(float) for _ in range(1 + trial % 4)]
        x = np.column_stack([np.ones(n), *columns])
        if trial % 5 == 0:
            x = np.column_stack([x, x[:, 1]])  # rank-deficient design
        slope = rng.normal(0, 4.0 if trial % 3 == 0 else 1.5, x.shape[1])
        y = (rng.random(n) < 1 / (1 + np.exp(-x @ slope))).astype(float)
        if trial % 4 == 0:
            y[x[:, 1] == 1] = 1.0  # a level where everyone has the outcome
        if y.min() == y.max():
            continue
        fitted, converged, separation = casemix._logistic_irls(y, x)
        ref_fitted, ref_converged, ref_separation = _glm_reference(y, x)
        np.testing.assert_allclose(fitted, ref_fitted, rtol=1e-9, atol=1e-12)
        assert (converged, separation) == (ref_converged, ref_separation)
        separated += separation
    assert separated > 0


def test_logistic_fit_not_converged_matches_statsmodels(monkeypatch):
    """Stopped after 2 steps: same fitted values, converged False and a note."""
    rng = np.random.default_rng(5)
    x = np.column_stack([np.ones(200), rng.integers(0, 3, 200).astype(float)])
    y = (rng.random(200) < 1 / (1 + np.exp(1 - x[:, 1]))).astype(float)
    monkeypatch.setattr(casemix, "_IRLS_MAXITER", 2)
    fitted, problems = casemix._fit_expected(y, pd.DataFrame(x))
    ref_fitted, ref_converged, _ = _glm_reference(y, x, maxiter=2)
    np.testing.assert_allclose(fitted, ref_fitted, rtol=1e-12)
    assert not ref_converged
    assert problems == ["model did not converge"]


def test_casemix_complete_separation_matches_statsmodels():
    """Outcome fully determined by sex: statsmodels warns, the note says separation."""
    data = pd.DataFrame(
        {
            "subproject": ["a", "b"] * 10,
            "sex": ["woman"] * 10 + ["man"] * 10,
            "work": [True] * 10 + [False] * 10,
        }
    )
    out = casemix_observed_expected(data, "work", covariates=["sex"], min_unit_n=5)
    design = pd.get_dummies(data["sex"], drop_first=True, dtype=float)
    x = np.column_stack([np.ones(20), design.to_numpy()])
    ref_fitted, ref_converged, ref_separation = _glm_reference(
        data["work"].to_numpy(float), x
    )
    assert ref_separation and ref_converged
    expected = pd.Series(ref_fitted).groupby(data["subproject"]).sum()
    np.testing.assert_allclose(out["expected"], expected.to_numpy(), rtol=1e-9)
    assert (
        out["warning"]
        .eq("possible (quasi-)separation: some groups all 0 or all 1")
        .all()
    )


# ------------------------------------------------------------------- paired tests


def test_mcnemar_exact_and_chi2_match_statsmodels():
    """b, c and p-values agree with statsmodels (exact below 25, corrected chi2 above)."""
    for b, c in ((3, 9), (20, 35)):
        before = [True] * b + [False] * c + [True] * 10 + [False] * 7
        after = [False] * b + [True] * c + [True] * 10 + [False] * 7
        result = mcnemar_test(pd.Series(before), pd.Series(after))
        exact = b + c < 25
        ref = mcnemar([[10, b], [c, 7]], exact=exact, correction=True)
        assert (result["b"], result["c"]) == (b, c)
        assert result["method"] == ("exact" if exact else "chi2")
        assert result["p_value"] == pytest.approx(ref.pvalue, abs=1e-12)
        assert result["statistic"] == pytest.approx(ref.statistic, abs=1e-12)


def test_mcnemar_drops_incomplete_pairs_and_checks_lengths():
    """Pairs with a missing value are left out; unequal lengths raise ValueError."""
    before = pd.Series([True, False, None, True], dtype="boolean")
    after = pd.Series([False, False, True, None], dtype="boolean")
    result = mcnemar_test(before, after)
    assert result == {
        "n": 2,
        "b": 1,
        "c": 0,
        "statistic": 0.0,
        "p_value": 1.0,
        "method": "exact",
    }
    with pytest.raises(ValueError, match="one before and one after value"):
        mcnemar_test([True], [True, False])


def test_mean_change_interval_matches_scipy_t_interval():
    """Mean change and its t interval equal scipy's; too few values give NaN."""
    change = pd.Series([1.0, -2.0, 3.0, 4.5, None, 0.5])
    mean, low, high = mean_change_interval(change, 0.9)
    values = change.dropna()
    ref = sps.t.interval(0.9, len(values) - 1, loc=values.mean(), scale=sps.sem(values))
    assert (mean, low, high) == pytest.approx((values.mean(), *ref), abs=1e-12)
    assert np.isnan(mean_change_interval([2.0])[1])
    assert np.isnan(mean_change_interval([])[0])


def test_wilcoxon_signed_rank_p_value_and_degenerate_cases():
    """Wilcoxon p-value equals scipy's; all-zero or single values give NaN."""
    change = [1, 2, -3, 4, 5, 6, 0, 8, -1]
    nonzero = [v for v in change if v != 0]
    assert wilcoxon_signed_rank(change) == pytest.approx(sps.wilcoxon(nonzero).pvalue)
    assert np.isnan(wilcoxon_signed_rank([0, 0, 0, 0]))
    assert np.isnan(wilcoxon_signed_rank([3.0]))


@pytest.mark.parametrize(
    "change",
    [
        [1, 2, -3, 4, 5, 6, 8, -10, 11, 12],  # exact: no ties, no zeros
        list(range(1, 51))[::-1] * np.array([1, -1] * 25),  # exact at n = 50
        list(range(1, 52)),  # n = 51 without ties: normal approximation
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0],  # a zero, n = 13: permutation
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0],  # a zero, n = 14: normal
        [1, 1, -1, 2, 2, 2, -2, 3, 0, 0, 1, -3, 1],  # ties and zeros, n = 13
        [1, 1, -1, 2, 2, 2, -2, 3, 0, 0, 1, -3, 1, 2],  # ties and zeros, n = 14
        [0, 3],  # one non-zero value and a zero
        [2, 2],  # all tied
        [-1, -1, -1, -1, -1, -1, -1],  # all tied, all negative
        [0.5, -0.5, 1.5, 0, 2.5, -2.5, 0.5],  # half steps with ties
        [1, 2] * 25,  # n = 50 with ties: normal approximation
        [3, -1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],  # mostly zeros, n = 15
    ],
)
def test_wilcoxon_signed_rank_equals_scipy_in_each_branch(change):
    """Exact, sign-flip and normal branches give scipy.stats.wilcoxon's p-value."""
    ref = sps.wilcoxon(np.asarray(change, dtype=float), zero_method="wilcox").pvalue
    assert wilcoxon_signed_rank(change) == pytest.approx(ref, rel=1e-12, abs=0)


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(-4, 4), min_size=2, max_size=60)
    | st.lists(
        st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 1)),
        min_size=2,
        max_size=60,
    )
)
def test_wilcoxon_signed_rank_equals_scipy_for_any_changes(change):
    """For small-integer steps (many ties and zeros) and decimals, p equals scipy's."""
    if all(v == 0 for v in change):
        assert np.isnan(wilcoxon_signed_rank(change))
        return
    ref = sps.wilcoxon(np.asarray(change, dtype=float), zero_method="wilcox").pvalue
    assert wilcoxon_signed_rank(change) == pytest.approx(ref, rel=1e-12, abs=0)
