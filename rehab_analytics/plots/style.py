"""Slide theme (a seaborn theme), sizes, fixed colours and markers, axis formatters.

The theme is defined once, as arguments for :func:`seaborn.set_theme`
(:func:`theme_kwargs`): the house charts draw inside :func:`slide_style` (the
same :func:`theme`), and an analyst's own seaborn chart looks like theirs with
``with plots.theme():`` or ``sns.set_theme(**plots.theme_kwargs())``. Charts are drawn at their final size in inches: full width 12.3 × 5.6 in, half
width 6.0 × 5.6 in (the content area of a 16:9 slide). What every chart carries
(title, subtitle, source line, ".." marks) is in :mod:`~rehab_analytics.plots.furniture`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from rehab_analytics import catalogue, contract

__all__ = [
    "FIGSIZES",
    "OKABE_ITO",
    "TOTAL",
    "theme",
    "theme_kwargs",
    "slide_style",
    "new_figure",
    "subproject_colours",
    "forbund_colours",
    "unit_markers",
    "share_formatter",
    "number_formatter",
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
    # Names and labels come from deliveries: "$…$" in one is text, not mathtext.
    "text.parse_math": False,
}


# seaborn's "ticks" style and "notebook" context also set these; the house keeps
# matplotlib's values (black text, thin short ticks, bars without edges), so the
# charts draw exactly as with the rc above alone.
_MPL_KEPT = (
    "axes.axisbelow",
    "axes.labelcolor",
    "text.color",
    "xtick.color",
    "ytick.color",
    "xtick.major.size",
    "ytick.major.size",
    "xtick.minor.size",
    "ytick.minor.size",
    "xtick.major.width",
    "ytick.major.width",
    "xtick.minor.width",
    "ytick.minor.width",
    "legend.title_fontsize",
    "lines.solid_capstyle",
    "patch.edgecolor",
    "patch.force_edgecolor",
    "image.cmap",
    "font.sans-serif",
)


def theme_kwargs() -> dict:
    """Return the house theme as keyword arguments for :func:`seaborn.set_theme`.

    White "ticks" style, "notebook" context scaled to 14 pt text, the house
    Okabe–Ito category palette (the colours of the house category charts) and
    the slide rc, which wins over seaborn's own values. A fresh dict each call.

    Example:
        >>> kw = theme_kwargs()
        >>> kw["style"], kw["palette"][0], kw["rc"]["xtick.labelsize"]
        ('ticks', '#0072B2', 14)
    """
    kept = {key: mpl.rcParamsDefault[key] for key in _MPL_KEPT}
    return {
        "style": "ticks",
        "context": "notebook",
        "font_scale": TEXT_SIZE / 12,  # seaborn's notebook text is 12 pt
        "palette": list(CATEGORY_PALETTE),
        "font": _RC["font.family"],
        "color_codes": False,  # leave matplotlib's "b", "g", … colours alone
        "rc": {**kept, **_RC},
    }


@contextlib.contextmanager
def theme() -> Iterator[None]:
    """Apply the house seaborn theme inside a ``with`` block; restore rc after.

    seaborn is imported here, on first use, not when the package is imported.

    Example:
        >>> import seaborn as sns
        >>> with theme():
        ...     sns.color_palette()[0] == mpl.colors.to_rgb(CATEGORY_PALETTE[0])
        True
    """
    import seaborn as sns

    with mpl.rc_context():
        sns.set_theme(**theme_kwargs())
        yield


@contextlib.contextmanager
def slide_style() -> Iterator[None]:
    """Apply the slide theme (≥ 14 pt text, clean spines) inside a ``with`` block.

    The same theme as :func:`theme`, under the name the charts have always used.
    Text is drawn literally (no mathtext), so a name with ``$`` in it is safe.

    Example:
        >>> with slide_style():
        ...     plt.rcParams["xtick.labelsize"] >= 14
        True
    """
    with theme():
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
