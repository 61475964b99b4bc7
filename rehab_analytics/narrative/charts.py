"""Chart takeaways: one-sentence titles and summaries for each report chart."""

from __future__ import annotations

import pandas as pd

from rehab_analytics import catalogue
from rehab_analytics.measures.time import xmr_limits
from rehab_analytics.narrative.text import (
    SIGNIFICANCE,
    _hidden,
    _pct,
    _t,
    _unit,
    _value,
)

__all__ = [
    "changes_sentence",
    "cost_range_sentence",
    "esf_sentence",
    "exit_sentence",
    "mcnemar_overview",
    "occupation_sentence",
    "sex_sentence",
    "shares_sentence",
    "spc_sentence",
    "step_range_sentence",
    "step_title",
    "time_range_sentence",
    "time_title",
    "trend_sentence",
]


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
    """Takeaway for the Kaplan–Meier chart of one unit: the median time in weeks.

    A hidden median is not "fewer than half left": too few took part (no
    curve), or too few were still in when half had left (past the curve's end).

    Example:
        >>> time_title({"km_median_weeks": 32.0}, "en", "aktiv")
        'Extended AKTIV: half had left within 32 weeks (Kaplan–Meier)'
    """
    who = _unit(unit, lang) if unit else catalogue.text("common.project_total", lang)
    weeks = _value(row, "km_median_weeks")
    if weeks is None and (row is None or _hidden(row, "n")):
        return _t("time_title_hidden", lang, unit=who)
    if weeks is None and _value(row, "km_median_weeks__suppressed"):
        return _t("time_title_plain", lang, unit=who)
    if weeks is None:
        return _t("time_title_none", lang, unit=who)
    return _t("time_title", lang, unit=who, weeks=catalogue.format_int(weeks, lang))


def time_range_sentence(table: pd.DataFrame, lang: str) -> str:
    """Takeaway for the Kaplan–Meier chart of all units: range of the medians.

    Example:
        >>> time_range_sentence(pd.DataFrame({"km_median_weeks": [16.0, 43.0]}), "en")
        'Half had left within 16 to 43 weeks, depending on the subproject (Kaplan–Meier)'
    """
    found = _range(
        _shown(table, "km_median_weeks"), lambda v: catalogue.format_int(v, lang)
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
