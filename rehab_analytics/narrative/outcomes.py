"""Sentences on outcomes: shares, comparisons with the other units, funnel, case mix, McNemar."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from rehab_analytics import catalogue
from rehab_analytics.narrative.text import (
    SIGNIFICANCE,
    SMALL_UNIT,
    Text,
    _hidden,
    _n,
    _outcome,
    _p,
    _p_of,
    _pct,
    _t,
    _unit,
    _value,
    bullets,
    share_with_interval,
)

__all__ = [
    "casemix_sentence",
    "comparison_sentence",
    "comparison_summary",
    "funnel_sentence",
    "mcnemar_sentence",
    "outcome_sentence",
]


def outcome_sentence(
    row: Mapping | pd.Series | None, outcome: str, lang: str, unit: str | None = None
) -> str:
    """One outcome share with its Wilson interval and n, or why it is not shown.

    Args:
        row: A row of a suppressed :func:`rehab_analytics.measures.outcome_shares`
            table (``n, events, share, ci_low, ci_high``).
        outcome: The outcome code (``narrative.outcome.<code>`` in the catalogue).
        lang: ``"sv"`` or ``"en"``.
        unit: Subproject code to name, or None for the whole project.

    Example:
        >>> row = {"n": 83, "share": 0.4337, "ci_low": 0.331, "ci_high": 0.544}
        >>> outcome_sentence(row, "work_or_study_after", "en", "unga_vuxna")
        'Young adults: 43% (95% CI 33–54%) in work or studies after the programme (n = 83).'
    """
    who = _unit(unit, lang) if unit else catalogue.text("common.project_total", lang)
    n = _value(row, "n")
    if n is not None and n == 0:
        return _t("no_exits", lang, unit=who)
    if _hidden(row, "share"):
        return _t("share_hidden", lang, unit=who, outcome=_outcome(outcome, lang))
    share = share_with_interval(
        _value(row, "share"), _value(row, "ci_low"), _value(row, "ci_high"), lang
    )
    return _t(
        "share_sentence",
        lang,
        unit=who,
        share=share,
        outcome=_outcome(outcome, lang),
        n=_n(n, lang),
    )


def _verdict(
    vs_rest: Mapping | pd.Series | None,
    oe: Mapping | pd.Series | None,
    lang: str,
    casemix: bool,
) -> str:
    if casemix:
        ratio, low, high = (_value(oe, k) for k in ("oe", "ci_low", "ci_high"))
        if ratio is None or low is None or high is None:
            return _t("verdict.adjusted_hidden", lang)
        numbers = _t(
            "oe_ci",
            lang,
            oe=catalogue.format_number(ratio, lang, 2),
            low=catalogue.format_number(low, lang, 2),
            high=catalogue.format_number(high, lang, 2),
        )
        if low > 1:
            return _t("verdict.adjusted_high", lang, numbers=numbers)
        if high < 1:
            return _t("verdict.adjusted_low", lang, numbers=numbers)
        return _t("verdict.adjusted_none", lang, numbers=numbers)
    diff = _value(vs_rest, "difference")
    p_adj, coarse = _p_of(vs_rest, "p_adjusted")
    if diff is None or p_adj is None:
        return _t("verdict.crude_hidden", lang)
    points = catalogue.format_number(diff * 100, lang, 0)
    if diff > 0 and not points.startswith(("-", "\u2212")):
        points = f"+{points}"
    low, high = _value(vs_rest, "ci_low"), _value(vs_rest, "ci_high")
    numbers = _t(
        "difference_ci",
        lang,
        points=points,
        low=catalogue.format_number((low or 0) * 100, lang, 0),
        high=catalogue.format_number((high or 0) * 100, lang, 0),
        p=_p(p_adj, lang, coarse),
    )
    if p_adj < SIGNIFICANCE:
        key = "verdict.crude_high" if diff > 0 else "verdict.crude_low"
        return _t(key, lang, numbers=numbers)
    return _t("verdict.crude_none", lang, numbers=numbers)


def comparison_sentence(
    unit: str,
    share: Mapping | pd.Series | None,
    vs_rest: Mapping | pd.Series | None = None,
    oe: Mapping | pd.Series | None = None,
    *,
    outcome: str = "work_or_study_after",
    lang: str = "sv",
    casemix: bool = True,
    min_n: int = SMALL_UNIT,
) -> str:
    """What is and is not a real difference for one unit, in one sentence.

    With ``casemix`` the verdict rests on the O/E interval (real when it
    excludes 1); without it, on the Holm-adjusted p-value of the unit against
    the rest (real below 0.05), and the sentence says it is not adjusted for
    the participants' background. Units below ``min_n`` get a warning.

    Args:
        unit: Subproject code.
        share: Row of the suppressed outcome-shares table.
        vs_rest: Row of the suppressed :func:`rehab_analytics.stats.compare_with_rest`
            table (``difference, ci_low, ci_high, p_adjusted``).
        oe: Row of the suppressed case-mix table (``oe, ci_low, ci_high``).
        outcome: Outcome code.
        lang: ``"sv"`` or ``"en"``.
        casemix: Whether the case-mix adjustment is used.
        min_n: Smallest n without a small-numbers warning.

    Example:
        >>> share = {"n": 83, "share": 0.4337, "ci_low": 0.331, "ci_high": 0.544}
        >>> oe = {"oe": 1.1, "ci_low": 0.8, "ci_high": 1.5}
        >>> comparison_sentence("unga_vuxna", share, oe=oe, lang="en")
        'Young adults: 43% (95% CI 33–54%) in work or studies; the difference from the others is not established after adjusting for the participants’ background (O/E 1.10, 95% CI 0.80–1.50).'
    """
    name = _unit(unit, lang)
    n = _value(share, "n")
    if n is not None and n == 0:
        return _t("no_exits", lang, unit=name)
    if _hidden(share, "share"):
        return _t("share_hidden", lang, unit=name, outcome=_outcome(outcome, lang))
    shown = share_with_interval(
        _value(share, "share"), _value(share, "ci_low"), _value(share, "ci_high"), lang
    )
    sentence = _t(
        "comparison",
        lang,
        unit=name,
        share=shown,
        outcome=_t(f"outcome_short.{outcome}", lang),
        verdict=_verdict(vs_rest, oe, lang, casemix),
    )
    if n is not None and n < min_n:
        sentence += " " + _t("small_unit", lang, n=catalogue.format_int(n, lang))
    return sentence


def _by_unit(table: pd.DataFrame | None, column: str) -> dict[str, pd.Series]:
    if table is None or column not in table.columns:
        return {}
    return {str(row[column]): row for _, row in table.iterrows()}


def comparison_summary(
    shares: pd.DataFrame,
    vs_rest: pd.DataFrame | None = None,
    oe: pd.DataFrame | None = None,
    *,
    outcome: str = "work_or_study_after",
    lang: str = "sv",
    casemix: bool = True,
    covariates: Sequence[str] = (),
    unit: str = "subproject",
    min_n: int = SMALL_UNIT,
) -> Text:
    """The plain-language summary of a comparison: one bullet per unit, then caveats.

    Units come in the order of ``shares`` (registry order), never sorted by share.

    Args:
        shares: Suppressed outcome shares per unit (column ``unit``).
        vs_rest: Suppressed :func:`~rehab_analytics.stats.compare_with_rest` table
            (column ``unit``).
        oe: Suppressed case-mix table (column ``unit``), used when ``casemix``.
        outcome: Outcome code.
        lang: ``"sv"`` or ``"en"``.
        casemix: Whether the verdicts use the case-mix adjustment.
        covariates: Case-mix covariates used (named in the caveats).
        unit: Unit column of ``shares``.
        min_n: Smallest n without a small-numbers warning.

    Example:
        >>> shares = pd.DataFrame({"subproject": ["dino"], "n": [80],
        ...     "share": [0.4], "ci_low": [0.3], "ci_high": [0.5]})
        >>> comparison_summary(shares, casemix=False, lang="en").splitlines()[0]
        '- Dino: 40% (95% CI 30–50%) in work or studies; the difference from the others cannot be assessed here.'
    """
    rest = _by_unit(vs_rest, "unit")
    ratios = _by_unit(oe, "unit")
    lines = [
        comparison_sentence(
            str(row[unit]),
            row,
            rest.get(str(row[unit])),
            ratios.get(str(row[unit])),
            outcome=outcome,
            lang=lang,
            casemix=casemix,
            min_n=min_n,
        )
        for _, row in shares.iterrows()
        if str(row[unit]) != "total"
    ]
    k = len(lines)
    notes = [_t("not_ranked", lang), _t("multiple", lang, k=k)]
    if casemix:
        names = ", ".join(
            catalogue.text(f"narrative.covariate.{c}", lang) for c in covariates
        )
        notes.append(_t("casemix_used", lang, covariates=names or "–"))
    else:
        notes.append(_t("casemix_off", lang))
    notes.append(_t("funnel_exploratory", lang, k=k))
    return bullets([*lines, *notes])


def funnel_sentence(
    flags: pd.DataFrame, lang: str, *, outcome: str, unit: str = "unit"
) -> str:
    """Takeaway for the funnel plot: who lies outside the 95 % limits, if anyone.

    Args:
        flags: Table with ``unit`` and ``flag`` (high/low/not_significant, missing
            when hidden), e.g. from :func:`rehab_analytics.stats.funnel_flags`.
        lang: ``"sv"`` or ``"en"``.
        outcome: Outcome code.
        unit: Unit column.

    Example:
        >>> f = pd.DataFrame({"unit": ["dino", "aktiv"],
        ...                   "flag": ["not_significant", "not_significant"]})
        >>> funnel_sentence(f, "en", outcome="work_or_study_after")
        'In work or studies after the programme: every subproject lies within the 95% limits (exploratory)'
    """
    flag = flags["flag"].astype("string")
    outside = flags.loc[flag.isin(["high", "low"]).fillna(False).to_numpy()]
    name = catalogue.label("outcome", outcome, lang)
    if outside.empty:
        return _t("funnel_none", lang, outcome=name)
    units = ", ".join(_unit(u, lang) for u in outside[unit])
    return _t("funnel_some", lang, outcome=name, units=units)


def casemix_sentence(oe: pd.DataFrame, lang: str, *, outcome: str) -> str:
    """Takeaway for the O/E chart: which units differ from expected, if any.

    Example:
        >>> t = pd.DataFrame({"unit": ["dino"], "oe": [1.0], "ci_low": [0.7],
        ...                   "ci_high": [1.4]})
        >>> casemix_sentence(t, "en", outcome="work_or_study_after")
        'After adjusting for background, no subproject differs clearly from expected'
    """
    low = pd.to_numeric(oe["ci_low"], errors="coerce").astype(float)
    high = pd.to_numeric(oe["ci_high"], errors="coerce").astype(float)
    units = oe.loc[((low > 1) | (high < 1)).to_numpy(), "unit"]
    if units.empty:
        return _t("casemix_none", lang)
    names = ", ".join(_unit(u, lang) for u in units)
    return _t("casemix_some", lang, units=names)


def mcnemar_sentence(row: Mapping | pd.Series | None, lang: str) -> str:
    """Sentence on the change in "no public support", before → after (McNemar).

    Example:
        >>> row = {"n": 84, "before": 9, "after": 39, "p_value": 1e-7}
        >>> mcnemar_sentence(row, "en")
        'Without public support: 11% before and 46% after the programme, among 84 participants with known income (McNemar p < 0.001: a real change).'
    """
    n, before, after = (_value(row, k) for k in ("n", "before", "after"))
    p, coarse = _p_of(row, "p_value")
    if not n:
        return _t("mcnemar_none", lang)
    verdict = "McNemar: " + catalogue.text("common.not_shown", lang)
    if p is not None:
        key = "mcnemar_real" if p < SIGNIFICANCE else "mcnemar_not_real"
        verdict = _t(key, lang, p=_p(p, lang, coarse))
    if before is None or after is None:
        return _t(
            "mcnemar_hidden", lang, n=catalogue.format_int(n, lang), verdict=verdict
        )
    return _t(
        "mcnemar",
        lang,
        before=_pct(before / n, lang),
        after=_pct(after / n, lang),
        n=catalogue.format_int(n, lang),
        verdict=verdict,
    )
