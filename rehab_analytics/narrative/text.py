"""Building blocks of the narrative: Text, headings, bullets and number wording.

Sentences are plain text (names as they are); each output escapes them once.
The functions returning :class:`Text` are where text enters Markdown: they
escape every value from outside (``**fmt``, bullet lines) with
:func:`rehab_analytics.escape.markdown`, never the catalogue's own text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

from rehab_analytics import catalogue, disclosure, escape

__all__ = [
    "SIGNIFICANCE",
    "SMALL_UNIT",
    "Text",
    "bullets",
    "coarse_p",
    "heading",
    "paragraph",
    "share_with_interval",
    "title",
]


SIGNIFICANCE = 0.05
# Units with fewer participants than this get a "interpret with care" warning
# (the same limit as stats.casemix_observed_expected's min_unit_n).
SMALL_UNIT = 20


class Text(str):
    """A string that Jupyter displays as Markdown (data in it is already escaped).

    Example:
        >>> Text("**hej**")._repr_markdown_()
        '**hej**'
    """

    def _repr_markdown_(self) -> str:
        return str(self)


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


def coarse_p(value: float, lang: str) -> str:
    """A coarse p-value: ``p < 0,05`` or ``p ≥ 0,05`` (see ``disclosure.coarsen_p``).

    Example:
        >>> coarse_p(0.0, "sv"), coarse_p(0.05, "en")
        ('p < 0,05', 'p ≥ 0.05')
    """
    key = "p_below" if value < SIGNIFICANCE else "p_at_least"
    return _t(key, lang, p=catalogue.format_number(SIGNIFICANCE, lang, 2))


def _p_of(row: Mapping | pd.Series | None, key: str) -> tuple[float | None, bool]:
    """A published p-value and whether it is coarse (only its side of 0.05)."""
    return _value(row, key), bool(_value(row, f"{key}{disclosure.COARSE_SUFFIX}"))


def _p(p: float, lang: str, coarse: bool = False) -> str:
    """``p = 0,012`` / ``p < 0,001`` in the language's number format (or coarse)."""
    if coarse:
        return coarse_p(p, lang)
    if p < 0.001:
        return _t("p_below", lang, p=catalogue.format_number(0.001, lang, 3))
    return _t("p_equals", lang, p=catalogue.format_number(p, lang, 3))


def _outcome(outcome: str, lang: str) -> str:
    return _t(f"outcome.{outcome}", lang)


def _unit(code: object, lang: str) -> str:
    return catalogue.label("subproject", str(code), lang)


def _n(n: float | None, lang: str) -> str:
    return catalogue.text("common.n", lang, n=catalogue.format_int(n, lang))


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

    The ``fmt`` values (a subproject's name) are escaped for Markdown.

    Example:
        >>> print(title("comparison", "en", "2015-10-01", "2019-06-30"))
        # Comparison of the subprojects
        <BLANKLINE>
        *Inclusive Rehabilitation, Oct 2015–Jun 2019*
    """
    head = catalogue.text(f"report.title.{kind}", lang, **_escaped(fmt))
    project = catalogue.text("project.name", lang)
    if start is not None and end is not None:
        project = f"{project}, {catalogue.format_period(start, end, lang)}"
    return Text(f"# {head}\n\n*{project}*")


def paragraph(key: str, lang: str, **fmt: object) -> Text:
    """One catalogue paragraph (``report.<key>``) as Markdown; ``fmt`` values escaped.

    Example:
        >>> paragraph("intro.comparison", "en").startswith("Outcomes")
        True
        >>> "&lt;b&gt;" in paragraph("intro.subproject", "en", unit="<b>")
        True
    """
    return Text(catalogue.text(f"report.{key}", lang, **_escaped(fmt)))


def bullets(lines: Iterable[str]) -> Text:
    """Markdown bullet list of the non-empty lines (plain text, escaped here).

    Example:
        >>> bullets(["one", "", "two <i>"])
        '- one\\n- two &lt;i&gt;'
    """
    return Text("\n".join(f"- {escape.markdown(line)}" for line in lines if line))


def _escaped(fmt: Mapping[str, object]) -> dict[str, str]:
    """Placeholder values from outside, escaped for Markdown."""
    return {key: escape.markdown(value) for key, value in fmt.items()}


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
