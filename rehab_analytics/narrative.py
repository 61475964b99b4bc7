"""Plain-language sentences from the statistics, in Swedish or English.

Every sentence is built from catalogue text (``config/catalogue.toml``, keys under
``narrative.*`` and ``report.*``) and from *published* numbers only: the inputs
are rows of tables that passed :func:`rehab_analytics.disclosure.suppress`, and
a hidden value (``<NA>``) gives a sentence saying it is not shown, never a
number. Differences are called real only on the adjusted evidence: the case-mix
O/E interval (when case mix is on) or the Holm-adjusted p-value of the
comparison with the other units; units are never ranked on crude shares.

The functions return :class:`Text` (a ``str`` that Jupyter shows as Markdown),
so a report notebook can display a heading or a summary in one short line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from rehab_analytics import catalogue

__all__ = [
    "Text",
    "SIGNIFICANCE",
    "SMALL_UNIT",
    "heading",
    "title",
    "paragraph",
    "bullets",
    "share_with_interval",
    "outcome_sentence",
    "comparison_sentence",
    "comparison_summary",
    "funnel_sentence",
    "casemix_sentence",
    "mcnemar_sentence",
    "time_sentence",
    "step_sentence",
    "enrolment_sentence",
    "cost_sentence",
    "caveats",
    "source_notes",
    "shares_sentence",
    "trend_sentence",
    "spc_sentence",
    "cost_range_sentence",
    "mcnemar_overview",
    "occupation_sentence",
    "exit_sentence",
    "time_title",
    "time_range_sentence",
    "step_title",
    "step_range_sentence",
    "sex_sentence",
    "esf_sentence",
    "changes_sentence",
]

SIGNIFICANCE = 0.05
# Units with fewer participants than this get a "interpret with care" warning
# (the same limit as stats.casemix_observed_expected's min_unit_n).
SMALL_UNIT = 20


class Text(str):
    """A string that Jupyter displays as Markdown.

    Example:
        >>> Text("**hej**")._repr_markdown_()
        '**hej**'
    """

    def _repr_markdown_(self) -> str:
        return str(self)


# --------------------------------------------------------------------- helpers


def _t(key: str, lang: str, **fmt: object) -> str:
    return catalogue.text(f"narrative.{key}", lang, **fmt)


def _value(row: Mapping | pd.Series | None, key: str) -> float | None:
    """A published number from a row, or None when absent, hidden or missing."""
    if row is None:
        return None
    try:
        value = row[key]
    except (KeyError, IndexError):
        return None
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _hidden(row: Mapping | pd.Series | None, key: str) -> bool:
    flag = _value(row, f"{key}__suppressed")
    return bool(flag) or _value(row, key) is None


def _pct(x: float, lang: str) -> str:
    return catalogue.format_share(x, lang)


def _p(p: float, lang: str) -> str:
    """``p = 0,012`` / ``p < 0,001`` in the language's number format."""
    if p < 0.001:
        return _t("p_below", lang, p=catalogue.format_number(0.001, lang, 3))
    return _t("p_equals", lang, p=catalogue.format_number(p, lang, 3))


def _outcome(outcome: str, lang: str) -> str:
    return _t(f"outcome.{outcome}", lang)


def _unit(code: object, lang: str) -> str:
    return catalogue.label("subproject", str(code), lang)


def _n(n: float | None, lang: str) -> str:
    return catalogue.text("common.n", lang, n=catalogue.format_int(n, lang))


# -------------------------------------------------------------------- headings


def heading(section: str, lang: str, number: int | None = None, level: int = 2) -> Text:
    """A Markdown heading from ``report.section.<section>``, optionally numbered.

    Example:
        >>> heading("outcomes", "en", 3)
        '## 3. Outcomes'
    """
    text = catalogue.text(f"report.section.{section}", lang)
    prefix = f"{number}. " if number is not None else ""
    return Text(f"{'#' * level} {prefix}{text}")


def title(
    kind: str, lang: str, start: object = None, end: object = None, **fmt: object
) -> Text:
    """The report title (``report.title.<kind>``) and a subtitle: project and period.

    Example:
        >>> print(title("comparison", "en", "2015-10-01", "2019-06-30"))
        # Comparison of the subprojects
        <BLANKLINE>
        *Inclusive Rehabilitation, Oct 2015–Jun 2019*
    """
    head = catalogue.text(f"report.title.{kind}", lang, **fmt)
    project = catalogue.text("project.name", lang)
    if start is not None and end is not None:
        from rehab_analytics.plots_style import format_period

        project = f"{project}, {format_period(start, end, lang)}"
    return Text(f"# {head}\n\n*{project}*")


def paragraph(key: str, lang: str, **fmt: object) -> Text:
    """One catalogue paragraph (``report.<key>``) as Markdown.

    Example:
        >>> paragraph("intro.comparison", "en").startswith("Outcomes")
        True
    """
    return Text(catalogue.text(f"report.{key}", lang, **fmt))


def bullets(lines: Iterable[str]) -> Text:
    """Markdown bullet list of the non-empty lines.

    Example:
        >>> bullets(["one", "", "two"])
        '- one\\n- two'
    """
    return Text("\n".join(f"- {line}" for line in lines if line))


# ------------------------------------------------------------------- sentences


def share_with_interval(
    share: float | None, low: float | None, high: float | None, lang: str
) -> str:
    """``43 % (95 % KI 33–54 %)`` / ``43% (95% CI 33–54%)``; "" when hidden.

    Example:
        >>> share_with_interval(0.4337, 0.331, 0.544, "en")
        '43% (95% CI 33–54%)'
    """
    if share is None:
        return ""
    if low is None or high is None:
        return _pct(share, lang)
    low_text = catalogue.format_number(low * 100, lang, 0)
    return _t(
        "share_ci", lang, share=_pct(share, lang), low=low_text, high=_pct(high, lang)
    )


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
    diff, p_adj = _value(vs_rest, "difference"), _value(vs_rest, "p_adjusted")
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
        p=_p(p_adj, lang),
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
    n, before, after, p = (_value(row, k) for k in ("n", "before", "after", "p_value"))
    if not n:
        return _t("mcnemar_none", lang)
    verdict = "McNemar: " + catalogue.text("common.not_shown", lang)
    if p is not None:
        key = "mcnemar_real" if p < SIGNIFICANCE else "mcnemar_not_real"
        verdict = _t(key, lang, p=_p(p, lang))
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


def time_sentence(row: Mapping | pd.Series | None, lang: str) -> str:
    """Kaplan–Meier median (censored included) and the completed-only median.

    Example:
        >>> row = {"n": 105, "censored": 21, "km_median_days": 300,
        ...        "km_median_ci_low": 216, "km_median_ci_high": 345,
        ...        "completed_median_days": 252.5}
        >>> time_sentence(row, "en")
        'Half of the participants had left after 300 days (95% CI 216–345; Kaplan–Meier, counting the 21 still in the programme). Among those who had left, the median was 253 days (completed only: understates the time).'
    """
    median = _value(row, "km_median_days")
    censored = _value(row, "censored")
    parts = []
    if median is None:
        parts.append(_t("time_not_reached", lang))
    else:
        low, high = _value(row, "km_median_ci_low"), _value(row, "km_median_ci_high")
        interval = (
            _t(
                "days_ci",
                lang,
                low=catalogue.format_int(low, lang),
                high=catalogue.format_int(high, lang),
            )
            if low is not None and high is not None
            else ""
        )
        parts.append(
            _t(
                "time_km",
                lang,
                days=catalogue.format_int(median, lang),
                interval=interval,
                censored=catalogue.format_int(censored, lang)
                if censored is not None
                else catalogue.text("common.not_shown", lang),
            )
        )
    completed = _value(row, "completed_median_days")
    if completed is not None:
        parts.append(
            _t("time_completed", lang, days=catalogue.format_int(completed, lang))
        )
    return " ".join(parts)


def step_sentence(row: Mapping | pd.Series | None, measure: str, lang: str) -> str:
    """Share moving up, mean change with its interval, and the Wilcoxon verdict.

    Example:
        >>> row = {"n": 84, "share": 0.83, "ci_low": 0.74, "ci_high": 0.9,
        ...        "mean_change": 1.52, "mean_ci_low": 1.31, "mean_ci_high": 1.73,
        ...        "wilcoxon_p": 0.0}
        >>> step_sentence(row, "step", "en")
        'Steps towards work: 83% (95% CI 74–90%) moved up at least one step; mean change +1.5 (95% CI 1.3 to 1.7), n = 84 (Wilcoxon p < 0.001: a real change).'
    """
    what = _t(f"measure.{measure}", lang)
    n = _value(row, "n")
    if not n or _hidden(row, "share"):
        return _t("steps_hidden", lang, measure=what)
    share = share_with_interval(
        _value(row, "share"), _value(row, "ci_low"), _value(row, "ci_high"), lang
    )
    mean = _value(row, "mean_change")
    low, high = _value(row, "mean_ci_low"), _value(row, "mean_ci_high")
    p = _value(row, "wilcoxon_p")
    verdict = "Wilcoxon: " + catalogue.text("common.not_shown", lang)
    if p is not None:
        key = "wilcoxon_real" if p < SIGNIFICANCE else "wilcoxon_not_real"
        verdict = _t(key, lang, p=_p(p, lang))
    sign = "+" if mean is not None and mean > 0 else ""
    return _t(
        "steps",
        lang,
        measure=what,
        share=share,
        mean=sign + catalogue.format_number(mean, lang, 1),
        low=catalogue.format_number(low, lang, 1),
        high=catalogue.format_number(high, lang, 1),
        n=_n(n, lang),
        verdict=verdict,
    )


def enrolment_sentence(
    row: Mapping | pd.Series | None, lang: str, unit: str | None = None
) -> str:
    """Enrolled participants against the plan (a goal-attainment row).

    Example:
        >>> enrolment_sentence({"enrolled": 115, "planned": 107}, "en", "dino")
        'Dino: 115 participants enrolled against a plan of 107 (107%)'
    """
    who = _unit(unit, lang) if unit else catalogue.text("common.project_total", lang)
    enrolled, planned = _value(row, "enrolled"), _value(row, "planned")
    if enrolled is None:
        return _t("enrolment_hidden", lang, unit=who)
    if not planned:
        return _t(
            "enrolment_no_plan", lang, unit=who, n=catalogue.format_int(enrolled, lang)
        )
    return _t(
        "enrolment",
        lang,
        unit=who,
        n=catalogue.format_int(enrolled, lang),
        planned=catalogue.format_int(planned, lang),
        share=_pct(enrolled / planned, lang),
    )


def cost_sentence(
    row: Mapping | pd.Series | None, lang: str, unit: str | None = None
) -> str:
    """Cost per participant and per participant in work or studies.

    Example:
        >>> cost_sentence({"cost_per_participant": 84174.3,
        ...                "cost_per_work_or_study": 267827.3}, "en", "dino")
        'Dino: SEK 84,174 per participant and SEK 267,827 per participant in work or studies'
    """
    who = _unit(unit, lang) if unit else catalogue.text("common.project_total", lang)
    each = _value(row, "cost_per_participant")
    success = _value(row, "cost_per_work_or_study")
    if each is None:
        return _t("cost_hidden", lang, unit=who)
    if success is None:
        return _t("cost_one", lang, unit=who, each=catalogue.format_sek(each, lang))
    return _t(
        "cost",
        lang,
        unit=who,
        each=catalogue.format_sek(each, lang),
        success=catalogue.format_sek(success, lang),
    )


def caveats(
    lang: str,
    *,
    threshold: int,
    misregistrations: int | None = None,
    small_units: Sequence[str] = (),
    level: float = 0.95,
) -> Text:
    """The caveats every report ends with, as Markdown bullets.

    Args:
        lang: ``"sv"`` or ``"en"``.
        threshold: Suppression threshold (counts below it are not shown).
        misregistrations: Episodes left out as registered in error; None (or a
            count below the threshold) says "fewer than the threshold".
        small_units: Subproject codes with few participants.
        level: Confidence level of the intervals.

    Example:
        >>> caveats("en", threshold=5).splitlines()[0]
        '- Counts below 5 are not shown (<5); a value hidden to protect another one is shown as "..".'
    """
    lines = [_t("caveat.suppression", lang, threshold=threshold)]
    lines.append(_t("caveat.interval", lang, level=catalogue.format_share(level, lang)))
    if misregistrations is not None and (
        misregistrations == 0 or misregistrations >= threshold
    ):
        lines.append(
            _t(
                "caveat.misregistrations",
                lang,
                n=catalogue.format_int(misregistrations, lang),
            )
        )
    else:
        lines.append(_t("caveat.misregistrations_few", lang, threshold=threshold))
    if small_units:
        names = ", ".join(_unit(u, lang) for u in small_units)
        lines.append(_t("caveat.small_units", lang, units=names, n=SMALL_UNIT))
    lines += [_t("caveat.data_quality", lang), _t("caveat.anonymous", lang)]
    return bullets(lines)


def source_notes(
    lang: str, *, source: str, n: object, threshold: int, note: str = ""
) -> str:
    """Speaker notes for a slide: source, n and the suppression rule (+ a note).

    Example:
        >>> source_notes("en", source="SUS", n=442, threshold=5)
        'Source: SUS. n = 442. Values below 5 are not shown.'
    """
    has_n = n is not None and not (isinstance(n, float) and math.isnan(n))
    n_text = _n(n, lang) if has_n else catalogue.text("common.not_shown", lang)
    notes = catalogue.text(
        "slides.notes", lang, source=source, n_text=n_text, threshold=threshold
    )
    return f"{notes} {note}".strip()


# ------------------------------------------------------- chart takeaways


def _shown(table: pd.DataFrame, column: str) -> pd.Series:
    """Values of ``column`` that are published (not hidden, not missing)."""
    if column not in table.columns:
        return pd.Series(dtype=float)
    values = pd.to_numeric(table[column], errors="coerce").astype(float)
    flag = f"{column}__suppressed"
    if flag in table.columns:
        values = values.where(~table[flag].fillna(False).astype(bool))
    return values.dropna()


def _total(table: pd.DataFrame, column: str, mask=None) -> float | None:
    """Sum of ``column`` (rows in ``mask``) when every cell is shown, else None."""
    rows = table if mask is None else table[mask]
    if column not in rows.columns or not len(rows):
        return None
    flag = f"{column}__suppressed"
    if flag in rows.columns and rows[flag].fillna(False).astype(bool).any():
        return None
    return float(pd.to_numeric(rows[column], errors="coerce").fillna(0).sum())


def _range(values: pd.Series, fmt) -> tuple[str, str] | None:
    if values.empty:
        return None
    return fmt(values.min()), fmt(values.max())


def _no_values(lang: str) -> str:
    return catalogue.text("common.no_values", lang)


def shares_sentence(table: pd.DataFrame, lang: str, *, outcome: str) -> str:
    """Takeaway for crude shares per unit: their range, said to be crude (no ranking).

    Example:
        >>> t = pd.DataFrame({"share": [0.25, 0.48]})
        >>> shares_sentence(t, "en", outcome="work_or_study_after")
        'In work or studies after the programme: 25%–48% in the subprojects; crude shares, not adjusted for background'
    """
    found = _range(_shown(table, "share"), lambda v: _pct(v, lang))
    if found is None:
        return _no_values(lang)
    name = catalogue.label("outcome", outcome, lang)
    return _t("shares_range", lang, outcome=name, low=found[0], high=found[1])


def trend_sentence(table: pd.DataFrame, lang: str, *, outcome: str) -> str:
    """Takeaway for the tertial trend: range of the shares and a word on chance.

    Example:
        >>> t = pd.DataFrame({"share": [0.2, 0.48]})
        >>> trend_sentence(t, "en", outcome="work_or_study_after")
        'In work or studies after the programme: 20%–48% by four-month period; few exits per period, so part of the swings is chance'
    """
    found = _range(_shown(table, "share"), lambda v: _pct(v, lang))
    if found is None:
        return _no_values(lang)
    name = catalogue.label("outcome", outcome, lang)
    return _t("trend", lang, outcome=name, low=found[0], high=found[1])


def spc_sentence(
    table: pd.DataFrame, lang: str, *, outcome: str, minimum: int = 12
) -> str:
    """Takeaway for the control chart: too few points, no signals or k signals.

    Example:
        >>> spc_sentence(pd.DataFrame({"share": [0.2] * 5}), "en",
        ...              outcome="work_or_study_after")
        'A control chart needs at least 12 points, there are 5: see the trend chart'
    """
    values = _shown(table, "share")
    if len(values) < minimum:
        return catalogue.text(
            "chart.spc.too_few", lang, minimum=minimum, points=len(values)
        )
    from rehab_analytics.plots_trends import xmr_limits

    signals = int(xmr_limits(values.to_numpy())["signal"].sum())
    name = catalogue.label("outcome", outcome, lang)
    if not signals:
        return _t("spc_none", lang, outcome=name)
    return _t("spc_some", lang, outcome=name, k=signals)


def cost_range_sentence(table: pd.DataFrame, lang: str) -> str:
    """Takeaway for costs per unit: the range of the cost per participant.

    Example:
        >>> t = pd.DataFrame({"cost_per_participant": [70000.0, 95000.0]})
        >>> cost_range_sentence(t, "en")
        'Cost per participant: SEK 70,000 to SEK 95,000 in the subprojects; it also reflects whom they take in'
    """
    found = _range(
        _shown(table, "cost_per_participant"), lambda v: catalogue.format_sek(v, lang)
    )
    if found is None:
        return _no_values(lang)
    return _t("cost_range", lang, low=found[0], high=found[1])


def mcnemar_overview(tests: pd.DataFrame, lang: str) -> str:
    """Takeaway over units: in how many the "no public support" state changed for real.

    Example:
        >>> t = pd.DataFrame({"n": [80, 60], "p_value": [0.001, 0.3]})
        >>> mcnemar_overview(t, "en")
        'The share without public support changed significantly in 1 of 2 subprojects (McNemar)'
    """
    p = _shown(tests, "p_value")
    real = int((p < SIGNIFICANCE).sum())
    return _t("mcnemar_overview", lang, k=real, m=len(tests))


def occupation_sentence(table: pd.DataFrame, lang: str, unit: str | None = None) -> str:
    """Takeaway for occupation before/after: share in work or studies, before → after.

    Example:
        >>> t = pd.DataFrame({"occupation": ["employed", "studying", "other"],
        ...     "total": [50] * 3, "count_before": [2.0, 3, 45],
        ...     "count_after": [10.0, 10, 30]})
        >>> occupation_sentence(t, "en")
        'In work or studies: 10% before and 40% after the programme'
    """
    working = table["occupation"].astype("string").isin(["employed", "studying"])
    working = working.fillna(False).to_numpy()
    before = _total(table, "count_before", working)
    after = _total(table, "count_after", working)
    firsts = table.drop_duplicates("subproject") if "subproject" in table else table[:1]
    total = _total(firsts, "total")
    if before is None or after is None or not total:
        return catalogue.text("chart.occupation.title", lang)
    return _t(
        "occupation",
        lang,
        before=_pct(before / total, lang),
        after=_pct(after / total, lang),
    )


def exit_sentence(table: pd.DataFrame, lang: str, unit: str | None = None) -> str:
    """Takeaway for exit reasons: the share who completed as planned.

    Example:
        >>> t = pd.DataFrame({"exit_reason": ["completed", "dropped_out"],
        ...     "count": [30, 10], "total": [40, 40]})
        >>> exit_sentence(t, "en")
        'Completed as planned: 75% of those who left'
    """
    done = (
        table["exit_reason"].astype("string").eq("completed").fillna(False).to_numpy()
    )
    completed = _total(table, "count", done)
    firsts = table.drop_duplicates("subproject") if "subproject" in table else table[:1]
    total = _total(firsts, "total")
    if completed is None or not total:
        return catalogue.text("chart.exit_reasons.title", lang)
    return _t("exits", lang, share=_pct(completed / total, lang))


def time_title(row, lang: str, unit: str | None = None) -> str:
    """Takeaway for the Kaplan–Meier chart of one unit: the median time.

    Example:
        >>> time_title({"km_median_days": 219.0}, "en", "aktiv")
        'Extended AKTIV: half had left after 219 days (Kaplan–Meier)'
    """
    who = _unit(unit, lang) if unit else catalogue.text("common.project_total", lang)
    days = _value(row, "km_median_days")
    if days is None:
        return _t("time_title_none", lang, unit=who)
    return _t("time_title", lang, unit=who, days=catalogue.format_int(days, lang))


def time_range_sentence(table: pd.DataFrame, lang: str) -> str:
    """Takeaway for the Kaplan–Meier chart of all units: range of the medians.

    Example:
        >>> time_range_sentence(pd.DataFrame({"km_median_days": [112.0, 300.0]}), "en")
        'Half had left after 112 to 300 days, depending on the subproject (Kaplan–Meier)'
    """
    found = _range(
        _shown(table, "km_median_days"), lambda v: catalogue.format_int(v, lang)
    )
    if found is None:
        return catalogue.text("chart.time_in_programme.title", lang)
    return _t("time_range", lang, low=found[0], high=found[1])


def step_title(row, measure: str, lang: str) -> str:
    """Takeaway for the step chart of one unit: the share moving up.

    Example:
        >>> step_title({"n": 84, "share": 0.83}, "step", "en")
        'Steps towards work: 83% moved up at least one step'
    """
    what = _t(f"measure.{measure}", lang)
    if not _value(row, "n") or _hidden(row, "share"):
        return _t("steps_hidden", lang, measure=what)
    return _t("step_title", lang, measure=what, share=_pct(_value(row, "share"), lang))


def step_range_sentence(table: pd.DataFrame, measure: str, lang: str) -> str:
    """Takeaway for the step chart over units: range of the share moving up.

    Example:
        >>> step_range_sentence(pd.DataFrame({"share": [0.75, 0.83]}), "step", "en")
        'Steps towards work: 75%–83% moved up at least one step, by subproject'
    """
    what = _t(f"measure.{measure}", lang)
    found = _range(_shown(table, "share"), lambda v: _pct(v, lang))
    if found is None:
        return _t("steps_hidden", lang, measure=what)
    return _t("step_range", lang, measure=what, low=found[0], high=found[1])


def sex_sentence(
    table: pd.DataFrame, lang: str, unit: str | None = None, *, count: str = "count"
) -> str:
    """Takeaway for a table by sex: how many women and men (if both are shown).

    Example:
        >>> t = pd.DataFrame({"sex": ["woman", "man"], "count": [40, 35]})
        >>> sex_sentence(t, "en", "dino")
        'Dino: 40 women and 35 men'
    """
    who = _unit(unit, lang) if unit else catalogue.text("common.project_total", lang)
    sex = table["sex"].astype("string")
    women = _total(table, count, sex.eq("woman").fillna(False).to_numpy())
    men = _total(table, count, sex.eq("man").fillna(False).to_numpy())
    if women is None or men is None:
        return catalogue.text("chart.age_sex.title_unit", lang, unit=who)
    return _t(
        "sexes",
        lang,
        unit=who,
        women=catalogue.format_int(women, lang),
        men=catalogue.format_int(men, lang),
    )


def esf_sentence(table: pd.DataFrame, lang: str, *, dimension: str) -> str:
    """Takeaway for an ESF breakdown: the indicator and how many women and men.

    Example:
        >>> t = pd.DataFrame({"sex": ["woman", "man"], "category": ["a", "a"],
        ...                   "count": [10, 12], "total": [10, 12]})
        >>> esf_sentence(t, "en", dimension="education")
        'ESF indicators by sex: education – 10 women and 12 men at entry'
    """
    firsts = table.drop_duplicates("sex")
    sex = firsts["sex"].astype("string")
    women = _total(firsts, "total", sex.eq("woman").fillna(False).to_numpy())
    men = _total(firsts, "total", sex.eq("man").fillna(False).to_numpy())
    name = catalogue.text(
        "chart.esf_by_sex.title",
        lang,
        dimension=catalogue.text(f"chart.esf_by_sex.{dimension}", lang),
    )
    if women is None or men is None:
        return name
    return _t(
        "esf",
        lang,
        title=name,
        women=catalogue.format_int(women, lang),
        men=catalogue.format_int(men, lang),
    )


def changes_sentence(table: pd.DataFrame, lang: str) -> str:
    """What changed since the previous delivery, in clean and rejected rows.

    Example:
        >>> t = pd.DataFrame({"outcome": ["clean", "rejected"],
        ...                   "change_rows": [12.0, -3.0]})
        >>> changes_sentence(t, "en")
        'Since the previous delivery: clean rows +12, rejected rows -3.'
    """
    parts = []
    for outcome in ("clean", "rejected", "skipped"):
        rows = table["outcome"].astype("string").eq(outcome).fillna(False).to_numpy()
        if not rows.any():
            continue
        change = _total(table, "change_rows", rows)
        text = (
            catalogue.text("common.not_shown", lang)
            if change is None
            else ("+" if change > 0 else "") + catalogue.format_int(change, lang)
        )
        if outcome != "skipped" or change:
            parts.append(_t(f"changes.{outcome}", lang, change=text))
    return _t("changes_since", lang, parts=", ".join(parts))
