"""Slide export: charts saved at exact slide size and PowerPoint decks.

PNG is what goes into decks (python-pptx cannot place SVG); SVG and PDF are for
print and web. Every file is written to a temporary sibling and renamed into
place, so a crash never leaves half a chart or deck behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

from rehab_analytics import catalogue
from rehab_analytics.errors import InputFileError, ParameterError
from rehab_analytics.escape import neutralise
from rehab_analytics.plots.style import FIGSIZES

__all__ = [
    "DPI",
    "SLIDE_SIZE_IN",
    "ChartSlide",
    "save_for_slides",
    "build_deck",
]

DPI = 200
SLIDE_SIZE_IN = (13.333, 7.5)
_FORMATS = ("png", "svg", "pdf")
# Only the software name survives in the files' metadata; dates go too, so the
# same chart gives the same bytes.
_METADATA = {
    "png": {"Software": "rehab-analytics"},
    "svg": {"Creator": "rehab-analytics", "Date": None, "Format": None, "Type": None},
    "pdf": {"Creator": "rehab-analytics", "Producer": None, "CreationDate": None},
}
_SLIDE_W_EMU, _SLIDE_H_EMU = 12192000, 6858000  # 13.333 × 7.5 in
_EMU_PER_IN = 914400
_MARGIN_IN = 0.5
_TITLE_H_IN = 1.0


@dataclass(frozen=True)
class ChartSlide:
    """One chart slide.

    Attributes:
        image: The chart PNG (from :func:`save_for_slides`).
        title: The takeaway, one sentence (what the chart shows, not its name).
        notes: Speaker notes: the source, n and caveats.

    Example:
        >>> ChartSlide("a.png", "Fler i arbete").image
        PosixPath('a.png')
    """

    image: Path
    title: str
    notes: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "image", Path(self.image))


def _tmp_sibling(path: Path) -> Path:
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


def _write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_sibling(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _width_of(fig: Figure, width: str | None) -> str:
    if width is not None:
        if width not in FIGSIZES:
            raise ParameterError(f"width is {width!r}; expected 'full' or 'half'.")
        return width
    w, h = fig.get_size_inches()
    for name, (fw, fh) in FIGSIZES.items():
        if abs(w - fw) < 0.05 and abs(h - fh) < 0.05:
            return name
    return "full"


def save_for_slides(
    fig: Figure,
    path: str | Path,
    *,
    width: str | None = None,
    formats: Sequence[str] | None = None,
) -> list[Path]:
    """Save ``fig`` at exact slide size: PNG at 200 dpi, plus SVG and PDF.

    The figure is set to 12.3 × 5.6 in (``"full"``, PNG 2460 × 1120 px) or
    6.0 × 5.6 in (``"half"``, 1200 × 1120 px); ``bbox_inches="tight"`` is never
    used, so every PNG of a width has the same pixel size. Metadata keeps only
    the software name.

    Args:
        fig: The figure (drawn with :mod:`rehab_analytics.plots`).
        path: Target file. With a suffix (``chart.png``) and ``formats=None``
            only that format is written; without one (``chart``) all three.
        width: ``"full"`` or ``"half"``; ``None`` takes it from the figure size
            (full width when it matches neither).
        formats: Any of ``"png"``, ``"svg"``, ``"pdf"``; written next to each
            other with the matching suffix.

    Returns:
        The written paths, in ``formats`` order.

    Example:
        >>> import matplotlib.pyplot as plt, tempfile
        >>> fig = plt.figure()
        >>> out = save_for_slides(fig, Path(tempfile.mkdtemp()) / "c.png")
        >>> [p.suffix for p in out], fig.get_size_inches().tolist()
        (['.png'], [12.3, 5.6])
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if formats is None:
        formats = (suffix,) if suffix in _FORMATS else _FORMATS
    unknown = [f for f in formats if f not in _FORMATS]
    if unknown or not formats:
        raise ParameterError(
            f"formats {list(formats)} are not supported; use any of {', '.join(_FORMATS)}."
        )
    base = path.with_suffix("") if suffix in _FORMATS else path
    size = FIGSIZES[_width_of(fig, width)]
    if tuple(fig.get_size_inches()) != size:
        fig.set_size_inches(*size)
    written = []
    # Tick labels are made when the figure is drawn: literal text there too.
    with mpl.rc_context(
        {
            "savefig.bbox": "standard",
            "svg.hashsalt": "rehab-analytics",
            "text.parse_math": False,
        }
    ):
        for fmt in formats:
            target = base.with_name(f"{base.name}.{fmt}")

            def write(tmp: Path, fmt: str = fmt) -> None:
                fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_METADATA[fmt])

            written.append(_write_atomic(target, write))
    return written


# ---------------------------------------------------------------- decks


def _layout(prs, names: Iterable[str], fallback: int):
    wanted = [n.lower() for n in names]
    for layout in prs.slide_layouts:
        if layout.name.lower() in wanted:
            return layout
    return prs.slide_layouts[min(fallback, len(prs.slide_layouts) - 1)]


def _image_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        return image.size


def _check_image(path: Path) -> None:
    if not path.is_file():
        raise InputFileError(
            "the chart image is missing. Save it first with save_for_slides().",
            file=str(path),
        )
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise InputFileError(
            f"the chart image is '{path.suffix}', expected PNG (PowerPoint decks "
            "cannot hold SVG or PDF). Save it with save_for_slides(fig, 'name.png').",
            file=str(path),
        )


def _add_chart_slide(prs, layout, item: ChartSlide, own_template: bool) -> None:
    from pptx.util import Emu, Pt

    slide = prs.slides.add_slide(layout)
    width, height = int(prs.slide_width), int(prs.slide_height)
    margin = int(_MARGIN_IN * _EMU_PER_IN)
    title = slide.shapes.title
    top = margin + int(_TITLE_H_IN * _EMU_PER_IN)
    if title is not None:
        title.text = _storable(item.title)
        if not own_template:
            title.left, title.top = margin, int(0.3 * _EMU_PER_IN)
            title.width, title.height = (
                width - 2 * margin,
                int(_TITLE_H_IN * _EMU_PER_IN),
            )
            for paragraph in title.text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(28)
        top = max(top, int(title.top) + int(title.height))
    box_w, box_h = width - 2 * margin, height - top - margin
    px_w, px_h = _image_size(item.image)
    scale = min(box_w / px_w, box_h / px_h)
    pic_w, pic_h = int(px_w * scale), int(px_h * scale)
    left = (width - pic_w) // 2
    slide.shapes.add_picture(
        str(item.image), Emu(left), Emu(top), Emu(pic_w), Emu(pic_h)
    )
    slide.notes_slide.notes_text_frame.text = _storable(item.notes)


_POTX_MAIN = (
    "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml"
)
_PPTX_MAIN = (
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
)


def _open_template(template: str | Path):
    """Open a ``.pptx`` or ``.potx`` as a presentation to add slides to.

    python-pptx refuses a ``.potx`` only for its main part's content type; the
    parts are the same as a ``.pptx``'s, so the content type is switched in memory
    (the template file is not changed).
    """
    import io
    import zipfile

    from pptx import Presentation

    path = Path(template)
    try:
        with zipfile.ZipFile(path) as src:
            types = src.read("[Content_Types].xml")
            if _POTX_MAIN.encode() not in types:
                return Presentation(str(path))
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
                for info in src.infolist():
                    data = src.read(info.filename)
                    if info.filename == "[Content_Types].xml":
                        data = data.replace(_POTX_MAIN.encode(), _PPTX_MAIN.encode())
                    out.writestr(info, data)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise InputFileError(
            f"the slide template cannot be opened as a PowerPoint file ({exc}). "
            "Expected a .pptx or .potx saved by PowerPoint or LibreOffice.",
            file=str(path),
        ) from None
    buffer.seek(0)
    return Presentation(buffer)


def _storable(text: str) -> str:
    """Slide text without the control characters XML cannot hold (nothing is run)."""
    return str(neutralise(str(text)))


def build_deck(
    slides: Iterable[ChartSlide],
    path: str | Path,
    *,
    title: str,
    subtitle: str = "",
    lang: str = "sv",
    template: str | Path | None = None,
) -> Path:
    """Build a PowerPoint deck: a title slide, then one slide per chart.

    Without ``template`` the deck is 16:9 (13.333 × 7.5 in); with one, its size
    and layouts ("Title Slide", "Title Only") are used. Each picture is scaled to
    the content area below the title, keeping its aspect ratio, and centred.

    Args:
        slides: The chart slides, in order.
        path: The ``.pptx`` to write (atomically).
        title: Deck title.
        subtitle: Subtitle (default: project name and ESF number in ``lang``).
        lang: ``"sv"`` or ``"en"``.
        template: An organisation's ``.pptx``/``.potx`` to start from.

    Returns:
        ``path``.

    Example:
        >>> import tempfile
        >>> out = build_deck([], Path(tempfile.mkdtemp()) / "d.pptx", title="T")
        >>> out.suffix
        '.pptx'
    """
    from pptx import Presentation

    if lang not in catalogue.LANGUAGES:
        raise ParameterError(f"lang is {lang!r}; expected 'sv' or 'en'.")
    items = list(slides)
    for item in items:
        _check_image(item.image)
    if template is not None and not Path(template).is_file():
        raise InputFileError("the slide template does not exist.", file=str(template))
    prs = _open_template(template) if template is not None else Presentation()
    if template is None:
        prs.slide_width, prs.slide_height = _SLIDE_W_EMU, _SLIDE_H_EMU
    first = prs.slides.add_slide(_layout(prs, ["Title Slide", "Rubrikbild"], 0))
    if first.shapes.title is not None:
        first.shapes.title.text = _storable(title)
    if not subtitle:
        subtitle = f"{catalogue.text('project.name', lang)} · {catalogue.text('project.esf', lang)}"
    for shape in first.placeholders:
        if shape.placeholder_format.idx == 1:
            shape.text = subtitle
    if template is None:
        _fit_title_slide(first)
    layout = _layout(prs, ["Title Only", "Endast rubrik"], 5)
    for item in items:
        _add_chart_slide(prs, layout, item, own_template=template is not None)
    return _write_atomic(Path(path), lambda tmp: prs.save(str(tmp)))


def _fit_title_slide(slide) -> None:
    """The default template's layouts are 4:3; stretch the title slide to 16:9."""
    margin = int(_MARGIN_IN * _EMU_PER_IN)
    width = _SLIDE_W_EMU - 2 * margin
    for shape in slide.placeholders:
        shape.left, shape.width = margin, width
