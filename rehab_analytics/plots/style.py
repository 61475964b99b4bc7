"""Slide theme: rc settings, sizes, fixed colours and markers, axis formatters.

Charts are drawn at their final size in inches: full width 12.3 × 5.6 in, half
width 6.0 × 5.6 in (the content area of a 16:9 slide). What every chart carries
(title, subtitle, source line, "<5" marks) is in :mod:`~rehab_analytics.plots.furniture`.
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
    # Names and labels come from deliveries: "$…$" in one is text, not mathtext.
    "text.parse_math": False,
}


@contextlib.contextmanager
def slide_style() -> Iterator[None]:
    """Apply the slide theme (≥ 14 pt text, clean spines) inside a ``with`` block.

    Text is drawn literally (no mathtext), so a name with ``$`` in it is safe.

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
