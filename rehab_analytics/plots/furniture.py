"""Chart furniture: set-up, titles, footers and the mark of hidden values ("..").

Every chart carries a title, a subtitle with period and n, and a source line with
the suppression note; suppressed values are marked "..", never drawn as zero:
the same mark for a small cell and for a cell hidden to protect it, so the mark
does not tell which is small. Private
to :mod:`rehab_analytics.plots`: the chart modules share these helpers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from rehab_analytics import catalogue, disclosure
from rehab_analytics.plots.style import (
    FOOTER_SIZE,
    SUBTITLE_SIZE,
    SUPPRESSED_COLOUR,
    TEXT_SIZE,
    TITLE_SIZE,
    TOTAL,
    new_figure,
)

# Only private helpers: the chart modules import them by name.
__all__: list[str] = []


def _axes(ax: Axes | None, width: str = "full") -> Axes:
    if ax is None:
        _, ax = new_figure(width)
    return ax


def _publishable(df: pd.DataFrame, what: str) -> pd.DataFrame:
    disclosure.require_publishable(df, what=what)
    return df


def _threshold(df: pd.DataFrame) -> int:
    info = df.attrs.get("disclosure")
    if isinstance(info, dict) and info.get("threshold") is not None:
        return int(info["threshold"])
    value = getattr(info, "threshold", None)
    if value is not None:
        return int(value)
    from rehab_analytics.config import settings

    return settings().suppression_threshold


def _suppressed(df: pd.DataFrame, col: str) -> np.ndarray:
    """True where ``col`` was hidden by disclosure control (flag column, else NA)."""
    flag = f"{col}{disclosure.FLAG_SUFFIX}"
    if flag in df.columns:
        return df[flag].fillna(False).astype(bool).to_numpy()
    return df[col].isna().to_numpy()


def _marks(df: pd.DataFrame, col: str, lang: str) -> np.ndarray:
    """The mark of each row: ".." where ``col`` is hidden (for any reason), else ""."""
    return np.where(_suppressed(df, col), _suppressed_text(lang), "").astype(object)


def _swatches(marks) -> dict[str, bool]:
    """The ``_Chart.legend`` flag: the "not shown" swatch when any row is marked."""
    return {"hidden": bool((np.asarray(marks, dtype=object) != "").any())}


def _values(df: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(df[col], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )


def _unit_label(code: object, lang: str, registry: object = None, field="subproject"):
    if pd.isna(code) or str(code) == TOTAL:
        return catalogue.text("common.project_total", lang)
    return catalogue.label(field, str(code), lang, registry)


def _codes(df: pd.DataFrame, unit_col: str) -> pd.Series:
    if unit_col not in df.columns:
        return pd.Series(TOTAL, index=df.index, dtype="string")
    return df[unit_col].astype("string").fillna(TOTAL)


def _select_unit(df: pd.DataFrame, unit: str | None, unit_col: str) -> pd.DataFrame:
    """Rows of one unit; ``None`` needs a table with at most one unit."""
    if unit_col not in df.columns:
        return df
    codes = _codes(df, unit_col)
    if unit is None:
        if codes.nunique() > 1:
            raise ValueError(
                f"the table has several {unit_col} values "
                f"({', '.join(codes.unique()[:6])}); pass unit='<code>' to draw one, "
                "or measure with by=None for the whole project."
            )
        return df
    return df[(codes == unit).to_numpy()]


def _ordered_categories(values: pd.Series) -> list[str]:
    """Categories present, in categorical order, else in order of appearance."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.astype("string").dropna())
        return [str(k) for k in values.cat.categories if str(k) in present]
    return [str(k) for k in pd.unique(values.astype("string").dropna())]


def _subtitle(lang: str, period: tuple | None, n: object) -> str:
    has_n = n is not None and not pd.isna(n)
    n_text = catalogue.format_int(n, lang) if has_n else None
    if period is not None and has_n:
        start, end = period
        span = catalogue.format_period(start, end, lang)
        return f"{span}, {catalogue.text('common.n', lang, n=n_text)}"
    if period is not None:
        return catalogue.format_period(*period, lang)
    if has_n:
        return catalogue.text("common.n", lang, n=n_text)
    return ""


def _decorate(
    ax: Axes,
    *,
    title: str,
    lang: str,
    threshold: int,
    period: tuple | None = None,
    n: object = None,
    source: str | None = None,
    note: str | None = None,
) -> Axes:
    """Title, subtitle (period and n), note and source line; fixed text sizes."""
    subtitle = _subtitle(lang, period, n)
    src = (
        source if source is not None else catalogue.text("common.source_default", lang)
    )
    source_line = catalogue.text(
        "common.source_line", lang, source=src, threshold=threshold
    )
    fig = ax.figure
    if getattr(fig, "_rehab_own", False):
        h = fig.get_size_inches()[1]
        for y_in, txt, size, weight in (
            (0.18, title, TITLE_SIZE, "bold"),
            (0.62, subtitle, SUBTITLE_SIZE, "normal"),
        ):
            ann = ax.annotate(
                txt,
                xy=(0.012, 1 - y_in / h),
                xycoords="figure fraction",
                va="top",
                ha="left",
                fontsize=size,
                fontweight=weight,
                gid="rehab-title" if weight == "bold" else "rehab-subtitle",
            )
            ann.set_in_layout(False)
        footer = [t for t in (note, source_line) if t]
        for i, txt in enumerate(reversed(footer)):
            ann = ax.annotate(
                txt,
                xy=(0.012, (0.08 + 0.2 * i) / h),
                xycoords="figure fraction",
                va="bottom",
                ha="left",
                fontsize=FOOTER_SIZE,
                color="#444444",
                gid="rehab-footer",
            )
            ann.set_in_layout(False)
    else:
        ax.set_title(title, loc="left", fontsize=TITLE_SIZE, fontweight="bold", pad=30)
        ax.annotate(
            subtitle,
            xy=(0, 1),
            xycoords="axes fraction",
            xytext=(0, 8),
            textcoords="offset points",
            fontsize=SUBTITLE_SIZE,
            va="bottom",
            gid="rehab-subtitle",
        )
        footer = " · ".join(t for t in (note, source_line) if t)
        ax.annotate(
            footer,
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(0, -48),
            textcoords="offset points",
            fontsize=FOOTER_SIZE,
            color="#444444",
            va="top",
            gid="rehab-footer",
        )
    ax.tick_params(labelsize=TEXT_SIZE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def _empty(ax: Axes, message: str) -> Axes:
    """Blank the axes and say why nothing is drawn."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.text(
        0.5,
        0.5,
        message,
        transform=ax.transAxes,
        ha="center",
        va="center",
        wrap=True,
        fontsize=TEXT_SIZE + 2,
        color="#444444",
        gid="rehab-empty",
    )
    return ax


def _suppressed_text(lang: str) -> str:
    """The one mark of a hidden value, whatever the reason it is hidden."""
    return catalogue.text("common.suppressed_marker", lang)


def _suppressed_patch(threshold: int, lang: str):
    from matplotlib.patches import Patch

    return Patch(
        facecolor="white",
        edgecolor=SUPPRESSED_COLOUR,
        hatch="///",
        label=catalogue.text("common.suppressed_legend", lang, threshold=threshold),
    )


def _hatched_barh(
    ax: Axes, y, left, width, height, threshold: int, lang: str, label=None
) -> None:
    """A hatched bar standing for a hidden value, labelled ".." (or ``label``)."""
    ax.barh(
        y,
        width,
        left=left,
        height=height,
        facecolor="white",
        edgecolor=SUPPRESSED_COLOUR,
        hatch="///",
        linewidth=1.0,
    )
    y_arr = np.atleast_1d(y)
    x_arr = np.atleast_1d(np.asarray(left) + np.asarray(width) / 2) * np.ones(
        len(y_arr)
    )
    texts = _labels(label, len(y_arr), threshold, lang)
    for yy, xx, text in zip(y_arr, x_arr, texts, strict=True):
        ax.text(
            xx,
            yy,
            text,
            ha="center",
            va="center",
            fontsize=TEXT_SIZE - 2,
            color="#222222",
            gid="rehab-suppressed",
        )


def _labels(label, count: int, threshold: int, lang: str) -> list[str]:
    if label is None:
        return [_suppressed_text(lang)] * count
    if isinstance(label, str):
        return [label] * count
    return [str(t) for t in label]


def _hatched_bar(
    ax: Axes, x, height, width: float, threshold: int, lang: str, label=None
) -> None:
    """Vertical twin of :func:`_hatched_barh`: a hidden count drawn up to the threshold."""
    ax.bar(
        x,
        height,
        width=width,
        facecolor="white",
        edgecolor=SUPPRESSED_COLOUR,
        hatch="///",
    )
    xs = np.atleast_1d(x)
    for xx, text in zip(xs, _labels(label, len(xs), threshold, lang), strict=True):
        ax.text(
            xx,
            height,
            text,
            ha="center",
            va="bottom",
            fontsize=TEXT_SIZE - 2,
            gid="rehab-suppressed",
        )


@dataclass
class _Chart:
    """What every chart needs: the axes, language, threshold and header facts."""

    ax: Axes
    lang: str
    threshold: int
    period: tuple | None
    n: object
    source: str | None
    registry: object

    def text(self, key: str, **fmt: object) -> str:
        return catalogue.text(key, self.lang, **fmt)

    def unit(self, code: object) -> str:
        return _unit_label(code, self.lang, self.registry)

    def units(self, codes) -> list[str]:
        """The unit codes present: registry order, then the rest, the total last."""
        return catalogue.unit_order(codes, registry=self.registry, display=True)

    def title(self, key: str, unit: str | None = None) -> str:
        """The title ``<key>.title``, or ``<key>.title_unit`` naming the unit drawn."""
        if unit is None:
            return self.text(f"{key}.title")
        return self.text(f"{key}.title_unit", unit=self.unit(unit))

    @property
    def mark(self) -> str:
        """The mark of a hidden value: ".."."""
        return _suppressed_text(self.lang)

    def marks(self, df: pd.DataFrame, col: str) -> np.ndarray:
        """Per row: ".." where ``col`` is hidden, "" where it is shown."""
        return _marks(df, col, self.lang)

    def finish(self, title: str, note: str | None = None) -> Axes:
        return _decorate(
            self.ax,
            title=title,
            lang=self.lang,
            threshold=self.threshold,
            period=self.period,
            n=self.n,
            source=self.source,
            note=note,
        )

    def nothing(self, title: str, message: str | None = None) -> Axes:
        """An empty chart that says why (all hidden, no exits, too few points)."""
        _empty(self.ax, message or self.text("common.no_values"))
        return self.finish(title)

    def legend(
        self,
        handles=None,
        labels=None,
        *,
        hidden: bool = False,
        **kw,
    ):
        """Legend right of the axes, with the "not shown" swatch when ``hidden``."""
        if handles is None:
            handles, labels = self.ax.get_legend_handles_labels()
        handles, labels = (
            list(handles),
            list(labels or [h.get_label() for h in handles]),
        )
        if hidden:
            patch = _suppressed_patch(self.threshold, self.lang)
            handles.append(patch)
            labels.append(patch.get_label())
        place = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0)}
        place.update(kw)
        return self.ax.legend(handles, labels, fontsize=TEXT_SIZE - 2, **place)


def _start(
    df: pd.DataFrame,
    what: str,
    lang: str,
    period: tuple | None = None,
    n: object = None,
    source: str | None = None,
    registry: object = None,
    ax: Axes | None = None,
) -> _Chart:
    """Check language and disclosure, then set up the axes.

    The header arguments follow the order of every chart's own keywords, so a
    chart hands them on in one line: ``_start(df, what, lang, period, n, source,
    registry, ax)``.
    """
    if lang not in catalogue.LANGUAGES:
        raise ValueError(f"lang is {lang!r}; expected 'sv' or 'en'.")
    _publishable(df, what)
    return _Chart(_axes(ax), lang, _threshold(df), period, n, source, registry)
