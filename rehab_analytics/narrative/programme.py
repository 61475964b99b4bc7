"""Sentences on the programme: time, steps, enrolment, costs, caveats and source notes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from rehab_analytics import catalogue
from rehab_analytics.narrative.text import (
    SIGNIFICANCE,
    SMALL_UNIT,
    Text,
    _hidden,
    _n,
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
    "caveats",
    "cost_sentence",
    "enrolment_sentence",
    "source_notes",
    "step_sentence",
    "time_sentence",
]


_KM = "km_median_weeks"


def time_sentence(row: Mapping | pd.Series | None, lang: str) -> str:
    """Kaplan–Meier median (censored included) and the completed-only median, in weeks.

    A median hidden (too few took part, or too few were still in) is said to
    be not shown, never "not reached".

    Example:
        >>> row = {"n": 105, "censored": 21, "km_median_weeks": 43,
        ...        "km_median_ci_low": 31, "km_median_ci_high": 50,
        ...        "completed_median_weeks": 36}
        >>> time_sentence(row, "en")
        'Half of the participants had left within 43 weeks (95% CI 31–50; Kaplan–Meier, counting the 21 still in the programme). Among those who had left, the median was 36 weeks (completed only: understates the time).'
    """
    median = _value(row, _KM)
    censored = _value(row, "censored")
    parts = []
    hidden = row is None or _hidden(row, "n") or _value(row, f"{_KM}__suppressed")
    if median is None and hidden:
        parts.append(_t("time_hidden", lang))
    elif median is None:
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
                weeks=catalogue.format_int(median, lang),
                interval=interval,
                censored=catalogue.format_int(censored, lang)
                if censored is not None
                else catalogue.text("common.not_shown", lang),
            )
        )
    completed = _value(row, "completed_median_weeks")
    if completed is not None:
        parts.append(
            _t("time_completed", lang, weeks=catalogue.format_int(completed, lang))
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
    p, coarse = _p_of(row, "wilcoxon_p")
    verdict = "Wilcoxon: " + catalogue.text("common.not_shown", lang)
    if p is not None:
        key = "wilcoxon_real" if p < SIGNIFICANCE else "wilcoxon_not_real"
        verdict = _t(key, lang, p=_p(p, lang, coarse))
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
    """The caveats every report ends with, as Markdown bullets (names escaped).

    Args:
        lang: ``"sv"`` or ``"en"``.
        threshold: Suppression threshold (counts below it are not shown).
        misregistrations: Episodes left out as registered in error; None (or a
            count below the threshold) says the number is not shown, never
            that it is small: a hidden number may be small or hidden to
            protect another.
        small_units: Subproject codes with few participants.
        level: Confidence level of the intervals.

    The first bullet explains the mark of hidden values (once per report:
    ``common.hidden_values``), the second when 0 % and 100 % are shown.

    Example:
        >>> caveats("en", threshold=5).splitlines()[0]
        '- Shown as ..: fewer than 5, or hidden so that a small number cannot be worked out.'
    """
    lines = [
        catalogue.text("common.hidden_values", lang, threshold=threshold),
        _t("caveat.group_disclosure", lang, threshold=threshold),
    ]
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
    """Speaker notes for a slide: source, n and one short line on ".." (+ a note).

    Example:
        >>> source_notes("en", source="SUS", n=442, threshold=5)
        'Source: SUS. n = 442. ..: fewer than 5, or hidden as protection.'
    """
    has_n = n is not None and not (isinstance(n, float) and math.isnan(n))
    n_text = _n(n, lang) if has_n else catalogue.text("common.not_shown", lang)
    notes = catalogue.text(
        "slides.notes", lang, source=source, n_text=n_text, threshold=threshold
    )
    return f"{notes} {note}".strip()
