"""Slide theme, fixed colours and the shared chart furniture (titles, footers, "<5").

Charts are drawn at their final size in inches: full width 12.3 × 5.6 in, half
width 6.0 × 5.6 in (the content area of a 16:9 slide). Every chart carries a
title, a subtitle with period and n, and a source line with the suppression note;
suppressed values are marked, never drawn as zero.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from rehab_analytics import catalogue, contract, disclosure

__all__ = [
    "FIGSIZES",
    "OKABE_ITO",
    "TOTAL",
    "slide_style",
    "new_figure",
    "subproject_colours",
    "forbund_colours",
    "unit_markers",
    "share_formatter",
    "number_formatter",
    "format_period",
]

FIGSIZES = {"full": (12.3, 5.6), "half": (6.0, 5.6)}
OKABE_ITO = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#000000",
)
# Yellow is weak on white, so the six defaults skip it.
_UNIT_PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7")
_EXTRA_PALETTE = ("#000000", "#555555", "#7F7F7F", "#A6A6A6", "#C8C8C8")
_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*", "h", "p")
# Categories within one chart (exit reasons, occupations, income groups).
CATEGORY_PALETTE = (
    "#0072B2",
    "#56B4E9",
    "#009E73",
    "#E69F00",
    "#D55E00",
    "#CC79A7",
    "#F0E442",
    "#999999",
)
SEX_COLOURS = {"woman": "#CC79A7", "man": "#0072B2", "unknown": "#999999"}
TOTAL = "total"
TOTAL_COLOUR = "#333333"
SUPPRESSED_COLOUR = "#7F7F7F"
# Official-statistics symbol for a value hidden to protect another cell.
SECONDARY_MARK = ".."
TITLE_SIZE = 20
SUBTITLE_SIZE = 15
TEXT_SIZE = 14
FOOTER_SIZE = 11
_HEADER_IN = 0.95
_FOOTER_IN = 0.55

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": TEXT_SIZE,
    "axes.titlesize": TITLE_SIZE,
    "axes.titleweight": "bold",
    "axes.labelsize": TEXT_SIZE,
    "xtick.labelsize": TEXT_SIZE,
    "ytick.labelsize": TEXT_SIZE,
    "legend.fontsize": 13,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#444444",
    "axes.linewidth": 1.0,
    "axes.grid": False,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.8,
    "lines.linewidth": 2.2,
    "axes.unicode_minus": True,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "hatch.linewidth": 1.2,
}


@contextlib.contextmanager
def slide_style() -> Iterator[None]:
    """Apply the slide theme (≥ 14 pt text, clean spines) inside a ``with`` block.

    Example:
        >>> with slide_style():
        ...     plt.rcParams["xtick.labelsize"] >= 14
        True
    """
    with mpl.rc_context(_RC):
        yield


def new_figure(width: str = "full"):
    """Return ``(fig, ax)`` at final slide size, with room for header and footer.

    Args:
        width: ``"full"`` (12.3 × 5.6 in) or ``"half"`` (6.0 × 5.6 in).

    Example:
        >>> fig, ax = new_figure("half")
        >>> fig.get_size_inches().tolist()
        [6.0, 5.6]
        >>> plt.close(fig)
    """
    if width not in FIGSIZES:
        raise ValueError(f"width is {width!r}, expected 'full' or 'half'.")
    w, h = FIGSIZES[width]
    fig = plt.figure(figsize=(w, h))
    bottom = _FOOTER_IN / h
    top = _HEADER_IN / h
    fig.set_layout_engine("constrained", rect=(0.0, bottom, 1.0, 1.0 - bottom - top))
    ax = fig.add_subplot()
    fig._rehab_own = True  # header and footer go to the reserved figure margins
    return fig, ax


def _axes(ax: Axes | None, width: str = "full") -> Axes:
    if ax is None:
        _, ax = new_figure(width)
    return ax


def _colours(
    codes: Iterable[str], defaults: Sequence[str], registry: object | None
) -> dict[str, str]:
    codes = list(dict.fromkeys(str(c) for c in codes))
    registered: dict[str, str] = {}
    for org in getattr(registry, "organisations", ()) or ():
        for attr in ("subproject", "forbund"):
            if getattr(org, "colour", None):
                registered.setdefault(getattr(org, attr), org.colour)
    fixed = dict(zip(defaults, _UNIT_PALETTE, strict=True))
    out: dict[str, str] = {}
    extra = iter(_EXTRA_PALETTE)
    for code in codes:
        if code in registered:
            out[code] = registered[code]
        elif code in fixed:
            out[code] = fixed[code]
        elif code == TOTAL:
            out[code] = TOTAL_COLOUR
        else:
            out[code] = next(extra, _EXTRA_PALETTE[-1])
    return out


def subproject_colours(codes: Iterable[str], registry: object = None) -> dict[str, str]:
    """Return one fixed colour per subproject code (registry colour first).

    The six default subprojects keep their Okabe–Ito colour whatever else is
    shown; further ones get black, then greys, in the order given.

    Example:
        >>> subproject_colours(["aktiv", "dino", "new_one"])
        {'aktiv': '#CC79A7', 'dino': '#E69F00', 'new_one': '#000000'}
    """
    return _colours(codes, contract.DEFAULT_SUBPROJECTS, registry)


def forbund_colours(codes: Iterable[str], registry: object = None) -> dict[str, str]:
    """Return one fixed colour per förbund code (same colour as its subproject).

    Example:
        >>> forbund_colours(["vaster"])
        {'vaster': '#56B4E9'}
    """
    return _colours(codes, contract.DEFAULT_FORBUND, registry)


def unit_markers(codes: Iterable[str]) -> dict[str, str]:
    """Return one fixed marker per unit, the second cue next to colour.

    Example:
        >>> unit_markers(["dino", "aktiv"])
        {'dino': 'o', 'aktiv': 'P'}
    """
    order = {c: i for i, c in enumerate(contract.DEFAULT_SUBPROJECTS)}
    order.update({c: i for i, c in enumerate(contract.DEFAULT_FORBUND)})
    out: dict[str, str] = {}
    n_extra = len(contract.DEFAULT_SUBPROJECTS)
    for code in dict.fromkeys(str(c) for c in codes):
        if code in order:
            out[code] = _MARKERS[order[code]]
        else:
            out[code] = _MARKERS[min(n_extra, len(_MARKERS) - 1)]
            n_extra += 1
    return out


def share_formatter(lang: str = "sv", decimals: int = 0) -> FuncFormatter:
    """Axis formatter for shares in [0, 1] ("40 %" / "40%").

    Example:
        >>> share_formatter("en")(0.4, 0)
        '40%'
    """
    return FuncFormatter(lambda v, _pos: catalogue.format_share(v, lang, decimals))


def number_formatter(lang: str = "sv", decimals: int = 0) -> FuncFormatter:
    """Axis formatter with the language's decimal and thousands separators.

    Example:
        >>> number_formatter("sv", 1)(1.5, 0)
        '1,5'
    """
    return FuncFormatter(lambda v, _pos: catalogue.format_number(v, lang, decimals))


def format_period(start: object, end: object, lang: str = "sv") -> str:
    """Format a reporting period as "okt 2015–jun 2019" / "Oct 2015–Jun 2019".

    Example:
        >>> format_period("2015-10-01", "2019-06-30", "en")
        'Oct 2015–Jun 2019'
    """
    months = catalogue.text("common.months", lang).split()

    def one(value: object) -> str:
        stamp = pd.Timestamp(value)
        return f"{months[stamp.month - 1]} {stamp.year}"

    return catalogue.text("common.period", lang, start=one(start), end=one(end))


# ---------------------------------------------------------------- shared helpers


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
    flag = f"{col}__suppressed"
    if flag in df.columns:
        return df[flag].fillna(False).astype(bool).to_numpy()
    return df[col].isna().to_numpy()


def _secondary(df: pd.DataFrame, col: str) -> np.ndarray:
    """True where ``col`` was hidden only to protect another cell (may be large)."""
    flag = f"{col}{disclosure._SECONDARY}"
    if flag in df.columns:
        return df[flag].fillna(False).astype(bool).to_numpy()
    return np.zeros(len(df), dtype=bool)


def _marks(df: pd.DataFrame, col: str, threshold: int, lang: str) -> np.ndarray:
    """The mark of each hidden cell: "<5" (small), ".." (hidden to protect another)."""
    marks = np.where(_secondary(df, col), SECONDARY_MARK, "")
    small = _suppressed(df, col) & ~_secondary(df, col)
    return np.where(small, _suppressed_text(threshold, lang), marks).astype(object)


def _swatches(marks, less_than: str) -> dict[str, bool]:
    """Which "not shown" legend swatches (``_Chart.legend`` flags) marks need."""
    marks = np.asarray(marks, dtype=object)
    return {
        "hidden": bool((marks == less_than).any()),
        "secondary": bool((marks == SECONDARY_MARK).any()),
    }


def _values(df: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(df[col], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )


def _unit_label(code: object, lang: str, registry: object = None, field="subproject"):
    if pd.isna(code) or str(code) == TOTAL:
        return catalogue.text("common.project_total", lang)
    return catalogue.label(field, str(code), lang, registry)


def _unit_order(codes: Iterable[object], registry: object = None) -> list[str]:
    """Registry order (six defaults first), then unknown codes, total last."""
    known = list(getattr(registry, "subproject_codes", ()) or ())
    known += [c for c in contract.DEFAULT_SUBPROJECTS if c not in known]
    known += [c for c in contract.DEFAULT_FORBUND if c not in known]
    present = [str(c) for c in dict.fromkeys(codes) if not pd.isna(c)]
    rank = {c: i for i, c in enumerate(known)}
    ordered = sorted(present, key=lambda c: (c == TOTAL, rank.get(c, len(rank)), c))
    return ordered


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
        span = format_period(start, end, lang)
        return f"{span}, {catalogue.text('common.n', lang, n=n_text)}"
    if period is not None:
        return format_period(*period, lang)
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


def _suppressed_text(threshold: int, lang: str) -> str:
    return catalogue.text("common.suppressed_marker", lang, threshold=threshold)


def _suppressed_patch(threshold: int, lang: str, secondary: bool = False):
    from matplotlib.patches import Patch

    key = (
        "common.suppressed_legend_secondary"
        if secondary
        else "common.suppressed_legend"
    )
    return Patch(
        facecolor="white",
        edgecolor=SUPPRESSED_COLOUR,
        hatch="///",
        label=catalogue.text(key, lang, threshold=threshold),
    )


def _hatched_barh(
    ax: Axes, y, left, width, height, threshold: int, lang: str, label=None
) -> None:
    """A hatched bar standing for a hidden value, labelled "<5" (or ``label``).

    ``label`` (one text or one per bar) is ".." for cells hidden only to protect
    another cell: those may be large, so "<5" would be false.
    """
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
        return [_suppressed_text(threshold, lang)] * count
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

    @property
    def less_than(self) -> str:
        return _suppressed_text(self.threshold, self.lang)

    def marks(self, df: pd.DataFrame, col: str) -> np.ndarray:
        """Per row: "<5" if hidden as small, ".." if hidden to protect another."""
        return _marks(df, col, self.threshold, self.lang)

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
        secondary: bool = False,
        **kw,
    ):
        """Legend right of the axes, with the "not shown" swatch when needed.

        ``secondary`` adds the ".." swatch (hidden to protect another cell).
        """
        if handles is None:
            handles, labels = self.ax.get_legend_handles_labels()
        handles, labels = (
            list(handles),
            list(labels or [h.get_label() for h in handles]),
        )
        for wanted, second in ((hidden, False), (secondary, True)):
            if wanted:
                patch = _suppressed_patch(self.threshold, self.lang, second)
                handles.append(patch)
                labels.append(patch.get_label())
        place = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0)}
        place.update(kw)
        return self.ax.legend(handles, labels, fontsize=TEXT_SIZE - 2, **place)


def _start(
    df: pd.DataFrame,
    what: str,
    *,
    ax: Axes | None,
    lang: str,
    period: tuple | None = None,
    n: object = None,
    source: str | None = None,
    registry: object = None,
) -> _Chart:
    """Check language and disclosure, then set up the axes."""
    if lang not in catalogue.LANGUAGES:
        raise ValueError(f"lang is {lang!r}; expected 'sv' or 'en'.")
    _publishable(df, what)
    return _Chart(_axes(ax), lang, _threshold(df), period, n, source, registry)
