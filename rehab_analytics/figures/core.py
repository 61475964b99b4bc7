"""What every report recipe shares: the Context, the Chart and Table results, labels, publish."""

from __future__ import annotations

import base64
import copy
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rehab_analytics import catalogue, disclosure, escape, measures, narrative, stats
from rehab_analytics.disclosure import FLAG_SUFFIX, SECONDARY_SUFFIX
from rehab_analytics.tables import UNIT

__all__ = [
    "Chart",
    "Context",
    "Table",
    "context",
    "labelled",
    "publish",
]

# Column → catalogue label table for the values of published tables.
_VALUE_FIELDS = {
    "subproject": "subproject",
    "unit": "subproject",
    "forbund": "forbund",
    "sex": "sex",
    "education": "education",
    "occupation": "occupation",
    "occupation_before": "occupation",
    "exit_reason": "exit_reason",
    "income_group_before": "income_group",
    "income_group_after": "income_group",
    "support_years_before": "support_years",
    "age_group": "age_group",
    "age_band_esf": "age_band_esf",
    "outcome": "outcome",
    "flag": "funnel_flag",
    "measure": "measure",
    "outcome_row": "row_outcome",
    "status": "reject_status",
    "reason": "reject_reason",
    "field": "contract_field",
}
# p-values are published as text ("0,012", "<0,001"): two decimals would say 0,00
_P_VALUES = ("p_value", "p_adjusted", "wilcoxon_p")


@dataclass(frozen=True)
class Context:
    """What every recipe needs: clean tables, period, language and threshold.

    Attributes:
        participants: Clean participants (all periods; recipes filter).
        subprojects: Clean subprojects (plan and money).
        anonymous: Anonymous counts, or None.
        start: First day of the report period (ISO), or None for open.
        end: Last day of the report period, or None.
        lang: ``"sv"`` or ``"en"``.
        threshold: Suppression threshold.
        source: Source text for chart footers and slide notes.
        casemix_covariates: Covariates of the case-mix model.
        rejects: Rejected rows and warnings (data-quality recipes).
        cleaning_report: The cleaning report (data-quality recipes).
        draw: Draw the charts (False: tables and titles only, for the
            protection model).
    """

    participants: pd.DataFrame
    subprojects: pd.DataFrame
    anonymous: pd.DataFrame | None = None
    start: str | None = None
    end: str | None = None
    lang: str = "sv"
    threshold: int = 5
    source: str | None = None
    casemix_covariates: tuple[str, ...] = stats.DEFAULT_COVARIATES
    rejects: pd.DataFrame | None = None
    cleaning_report: dict = field(default_factory=dict)
    draw: bool = True

    @cached_property
    def episodes(self) -> pd.DataFrame:
        """Episodes active at some time in the period (see ``measures.filter_period``)."""
        return measures.filter_period(self.participants, self.start, self.end)

    @property
    def period(self) -> tuple[object, object]:
        """(start, end) for chart subtitles; open ends take the data's dates."""
        people = self.participants
        first = self.start or people["start_date"].min()
        last = self.end or pd.concat([people["start_date"], people["end_date"]]).max()
        return first, last

    @property
    def source_text(self) -> str:
        return self.source or catalogue.text("common.source_default", self.lang)

    @cached_property
    def units(self) -> list[str]:
        """Subproject codes with episodes in the period, in registry order."""
        codes = self.episodes[UNIT].dropna().astype(str).unique()
        return catalogue.unit_order(codes, display=True)

    def notes(self, n: object, key: str | None = None, **fmt: object) -> str:
        """Slide notes: source, n, suppression rule, plus an optional catalogue note."""
        note = catalogue.text(key, self.lang, **fmt) if key else ""
        return narrative.source_notes(
            self.lang, source=self.source_text, n=n, threshold=self.threshold, note=note
        )


def context(
    tables: Any,
    *,
    start: str | None = None,
    end: str | None = None,
    lang: str = "sv",
    units: Sequence[str] | None = None,
    threshold: int | None = None,
    source: str | None = None,
) -> Context:
    """Build a :class:`Context` from :func:`rehab_analytics.load`'s tables.

    Args:
        tables: A :class:`rehab_analytics.processed.Tables` (or anything with
            ``participants``, ``subprojects`` and ``anonymous_counts``).
        start: First day of the report period, YYYY-MM-DD (None: open).
        end: Last day of the report period (None: open).
        lang: ``"sv"`` or ``"en"``.
        units: Subproject codes to keep (None or empty: all).
        threshold: Suppression threshold (default: the settings').
        source: Source text (default: the catalogue's SUS follow-up line).

    Example:
        >>> people = pd.DataFrame({"subproject": ["dino", "aktiv"]})
        >>> class T:
        ...     participants, subprojects, anonymous_counts = people, people, None
        >>> context(T(), units=["aktiv"], threshold=3).participants["subproject"].tolist()
        ['aktiv']
    """
    if lang not in catalogue.LANGUAGES:
        raise ValueError(f"lang is {lang!r}; expected 'sv' or 'en'.")
    if threshold is None:
        from rehab_analytics.config import settings

        threshold = settings().suppression_threshold
    people, plan = tables.participants, tables.subprojects
    anonymous = getattr(tables, "anonymous_counts", None)
    if units:
        wanted = [str(u) for u in units]
        people = people[people[UNIT].astype("string").isin(wanted).fillna(False)]
        plan = plan[plan[UNIT].astype("string").isin(wanted).fillna(False)]
        if anonymous is not None:
            keep = anonymous[UNIT].astype("string").isin(wanted).fillna(False)
            anonymous = anonymous[keep]
    if "participant_key" not in people:
        # the sample's truth table has no pseudonyms: one person per episode
        people = people.assign(participant_key=people.index.astype("string"))
    return Context(
        people,
        plan,
        anonymous,
        start,
        end,
        lang,
        int(threshold),
        source,
        rejects=getattr(tables, "rejects", None),
        cleaning_report=getattr(tables, "report", None) or {},
    )


def _html_table(table: pd.DataFrame, lang: str, fields: Mapping[str, str]) -> str:
    from rehab_analytics import disclosure

    shown = disclosure.display_values(labelled(table, lang, fields), lang=lang)
    return escape.html_table(shown).to_html()


@dataclass
class Table:
    """A publishable table with its title (what a report shows and tables.xlsx holds).

    Attributes:
        name: Machine name (file and sheet name part).
        table: The suppressed table with code values.
        title: The table's title in the report language.
        lang: Language of the title.
        fields: Extra column → label-table mapping for :func:`labelled`.
        text: A sentence shown above the table (optional).
    """

    name: str
    table: pd.DataFrame
    title: str
    lang: str = "sv"
    fields: dict[str, str] = field(default_factory=dict)
    text: str = ""

    def _repr_html_(self) -> str:
        lead = f"<p>{escape.html(self.text)}</p>" if self.text else ""
        return (
            f"<p><strong>{escape.html(self.title)}</strong></p>{lead}"
            f"{_html_table(self.table, self.lang, self.fields)}"
        )


@dataclass
class Chart:
    """A publishable chart: suppressed table, figure, takeaway title, notes.

    Attributes:
        name: Machine name (file name part).
        table: The suppressed table drawn.
        figure: The matplotlib figure (slide size).
        title: The takeaway: the slide title, one sentence.
        notes: Speaker notes: source, n, the suppression rule and caveats.
        lang: Report language.
        fields: Extra column → label-table mapping for :func:`labelled`.
    """

    name: str
    table: pd.DataFrame
    figure: Any
    title: str
    notes: str
    lang: str = "sv"
    fields: dict[str, str] = field(default_factory=dict)
    _png: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # a slide title is a sentence without a closing full stop
        self.title = self.title.rstrip(".")

    def png(self) -> bytes:
        """The chart as PNG bytes at screen resolution (for HTML)."""
        if self._png is None:
            import matplotlib as mpl

            buffer = io.BytesIO()
            # names are drawn as they are, never as mathtext (as in slide_style)
            with mpl.rc_context({"text.parse_math": False}):
                self.figure.savefig(buffer, format="png", dpi=100)
            self._png = buffer.getvalue()
        return self._png

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png()).decode("ascii")
        return (
            f"<p><strong>{escape.html(self.title)}</strong></p>"
            f'<img src="data:image/png;base64,{data}" style="max-width:100%" '
            f'alt="{escape.html(self.title)}"/>'
        )


def labelled(
    table: pd.DataFrame, lang: str, fields: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Translate a suppressed table for publishing: labels for codes, headers from the catalogue.

    Code columns (``subproject``, ``sex``, ``exit_reason``, …) get their
    catalogue labels; column headers come from ``table.column.<name>``. The
    suppression flags and mark follow the renamed columns, so the result is
    still publishable.

    Args:
        table: A table returned by :func:`rehab_analytics.disclosure.suppress`.
        lang: ``"sv"`` or ``"en"``.
        fields: Extra column → label table (e.g. ``{"before": "income_group"}``).

    Example:
        >>> from rehab_analytics import disclosure
        >>> t = disclosure.suppress(pd.DataFrame({"sex": ["woman"], "n": [12]}))
        >>> labelled(t, "en").columns.tolist()[:2]
        ['Sex', 'Number']
    """
    mapping = {**_VALUE_FIELDS, **(fields or {})}
    out = table.copy()
    data = [c for c in out.columns if not str(c).endswith(FLAG_SUFFIX)]
    for col in data:
        name = mapping.get(str(col))
        if name is None or pd.api.types.is_numeric_dtype(out[col]):
            continue
        out[col] = pd.array(
            [_label(name, v, lang) for v in out[col].astype(object)], dtype="string"
        )
    for col in [c for c in data if c in _P_VALUES]:
        no = pd.Series(False, index=out.index)
        hidden = out.get(f"{col}{FLAG_SUFFIX}", no).fillna(False)
        coarse = out.get(f"{col}{disclosure.COARSE_SUFFIX}", no).fillna(False)
        text = [
            _p_text(v, lang, bool(h), bool(c))
            for v, h, c in zip(out[col].astype(object), hidden, coarse, strict=True)
        ]
        out[col] = pd.array(text, dtype="string")
        flags = [f"{col}{FLAG_SUFFIX}", f"{col}{disclosure.COARSE_SUFFIX}"]
        out = out.drop(columns=flags, errors="ignore")
    headers = {}
    for col in data:
        key = f"table.column.{col}"
        headers[col] = (
            catalogue.text(key, lang) if catalogue.has_text(key) else str(col)
        )
    rename = dict(headers)
    for col, header in headers.items():
        rename[f"{col}{FLAG_SUFFIX}"] = f"{header}{FLAG_SUFFIX}"
        rename[f"{col}{SECONDARY_SUFFIX}"] = f"{header}{SECONDARY_SUFFIX}"
    out = out.rename(columns=rename)
    mark = copy.deepcopy(table.attrs.get("disclosure", {}))
    for key in ("count_cols", "share_cols"):
        mark[key] = [headers.get(c, c) for c in mark.get(key, ())]
    if mark.get("denominator_col") is not None:
        mark["denominator_col"] = headers.get(
            mark["denominator_col"], mark["denominator_col"]
        )
    out.attrs = {**copy.deepcopy(table.attrs), "disclosure": mark}
    return out


def _p_text(value: object, lang: str, hidden: bool, coarse: bool = False) -> str:
    """A p-value cell: "..", "", "p < 0,05"/"p ≥ 0,05" (coarse), "<0,001" or exact."""
    if hidden:
        return ".."
    if value is None or value is pd.NA or pd.isna(value):
        return ""
    if coarse:
        return narrative.coarse_p(float(value), lang)
    if float(value) < 0.001:
        return "<" + catalogue.format_number(0.001, lang, 3)
    return catalogue.format_number(float(value), lang, 3)


def _label(field_name: str, value: object, lang: str) -> str | None:
    if (
        value is None
        or value is pd.NA
        or (isinstance(value, float) and np.isnan(value))
    ):
        return None
    code = str(value)
    if code == "total":
        return catalogue.text("common.project_total", lang)
    try:
        return catalogue.label(field_name, code, lang)
    except KeyError:
        return code


def publish(out: Any, item: Chart | Table | str, *, show_table: bool = False) -> Any:
    """Publish a recipe's result through a :class:`rehab_analytics.report.Publisher`.

    A :class:`Chart` publishes its (labelled) table to ``tables.xlsx`` and its
    figure to the deck with the takeaway title and notes; a :class:`Table` its
    table. Returns what the notebook should show: the chart (title and image)
    or the table; the figure is closed so Jupyter does not show it twice.

    Example:
        >>> publish  # doctest: +ELLIPSIS
        <function publish at ...>
    """
    import matplotlib.pyplot as plt

    if isinstance(item, str):
        return item
    lang = getattr(out, "lang", item.lang)
    out.table(labelled(item.table, lang, item.fields), item.name, title=item.title)
    if isinstance(item, Chart):
        saved = out.figure(item.figure, item.name, title=item.title, notes=item.notes)
        # The report shows the slide's own PNG (sharp on high-resolution screens):
        # the chart is rendered once, not again at screen resolution.
        if isinstance(saved, Path) and saved.suffix == ".png" and saved.is_file():
            item._png = saved.read_bytes()
        item.png()
        plt.close(item.figure)
        if show_table:
            return Table(item.name, item.table, item.title, item.lang, item.fields)
    return item


def _draw(ctx: Context, plot, table: pd.DataFrame, **kwargs: object):
    if not ctx.draw:
        return None
    from rehab_analytics import plots

    with plots.slide_style():
        ax = plot(
            table, lang=ctx.lang, period=ctx.period, source=ctx.source_text, **kwargs
        )
    return ax.figure


def _row(table: pd.DataFrame, column: str | None = None, value: object = None):
    """The first row (optionally where ``column == value``) as a Series, or None."""
    if column is not None and column in table.columns:
        table = table[(table[column].astype("string") == str(value)).fillna(False)]
    return table.iloc[0] if len(table) else None


def _goal(ctx: Context) -> pd.DataFrame:
    """Enrolled against the plan for the context's period (goal table, all units)."""
    from rehab_analytics import tables as ft

    return ft.goal_table(
        ctx.participants,
        ctx.subprojects,
        ctx.anonymous,
        ctx.threshold,
        start=ctx.start,
        end=ctx.end,
    )


def _visible_sum(table: pd.DataFrame, column: str) -> float | None:
    if column not in table.columns:
        return None
    hidden = table.get(f"{column}{FLAG_SUFFIX}", pd.Series(False, index=table.index))
    values = pd.to_numeric(table[column], errors="coerce")
    if hidden.fillna(False).astype(bool).any():
        return None
    return float(values.fillna(0).sum())


def _goal_total(goal: pd.DataFrame) -> dict[str, float | None]:
    return {
        "enrolled": _visible_sum(goal, "enrolled"),
        "planned": _visible_sum(goal, "planned"),
    }


def _title(key: str, ctx: Context, **fmt: object) -> str:
    return catalogue.text(f"report.table.{key}", ctx.lang, **fmt)
