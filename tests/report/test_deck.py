"""Tests for slide export: exact PNG sizes, atomic writes, decks and the gallery."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Emu

from rehab_analytics import plots
from rehab_analytics.errors import InputFileError, ParameterError
from rehab_analytics.report.deck import ChartSlide, build_deck, save_for_slides


def _figure(width: str = "full"):
    fig, ax = plots.new_figure(width)
    ax.plot([0, 1, 2], [2, 0, 1])
    return fig


@pytest.mark.parametrize(
    ("width", "size"), [("full", (2460, 1120)), ("half", (1200, 1120))]
)
def test_png_has_exact_pixel_size(width, size, tmp_path):
    """PNGs are 200 dpi at the content size: 12.3 or 6.0 × 5.6 in."""
    (png,) = save_for_slides(_figure(width), tmp_path / "c.png")
    with Image.open(png) as image:
        assert image.size == size


def test_width_resizes_a_figure_of_another_size(tmp_path):
    """A figure of any size is saved at the requested slide width."""
    fig = plt.figure(figsize=(4, 3))
    (png,) = save_for_slides(fig, tmp_path / "c.png", width="half")
    with Image.open(png) as image:
        assert image.size == (1200, 1120)


def test_all_formats_without_suffix_and_no_temp_files_left(tmp_path):
    """A bare name gives PNG, SVG and PDF; no temporary files remain."""
    paths = save_for_slides(_figure(), tmp_path / "chart")
    assert [p.name for p in paths] == ["chart.png", "chart.svg", "chart.pdf"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "chart.pdf",
        "chart.png",
        "chart.svg",
    ]
    assert paths[1].read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert paths[2].read_bytes().startswith(b"%PDF")


def test_png_metadata_keeps_only_the_software_name(tmp_path):
    """The PNG's text chunks hold the software name and nothing else."""
    (png,) = save_for_slides(_figure(), tmp_path / "c.png")
    with Image.open(png) as image:
        text = {k: v for k, v in image.info.items() if isinstance(v, str)}
    assert text == {"Software": "rehab-analytics"}


def test_same_chart_gives_same_svg(tmp_path):
    """No dates in the SVG: saving twice gives identical bytes."""
    fig = _figure()
    (a,) = save_for_slides(fig, tmp_path / "a.svg")
    (b,) = save_for_slides(fig, tmp_path / "b.svg")
    assert a.read_bytes() == b.read_bytes()


def test_unknown_format_or_width_is_refused(tmp_path):
    """Only png/svg/pdf and full/half are accepted."""
    with pytest.raises(ParameterError, match="not supported"):
        save_for_slides(_figure(), tmp_path / "c", formats=("gif",))
    with pytest.raises(ParameterError, match="'full' or 'half'"):
        save_for_slides(_figure(), tmp_path / "c.png", width="wide")


def _chart_pngs(tmp_path, n: int = 2):
    items = []
    for i, width in zip(range(n), ["full", "half", "full"], strict=False):
        (png,) = save_for_slides(_figure(width), tmp_path / f"c{i}.png")
        items.append(ChartSlide(png, f"Takeaway {i}", f"Källa: test, n = {10 + i}"))
    return items


def test_deck_is_16_9_with_one_picture_and_notes_per_chart(tmp_path):
    """Title slide, then one slide per chart with its title, picture and notes."""
    items = _chart_pngs(tmp_path, 3)
    path = build_deck(
        items, tmp_path / "deck.pptx", title="Resultat", subtitle="2015–2019"
    )
    prs = Presentation(str(path))
    assert (prs.slide_width, prs.slide_height) == (Emu(12192000), Emu(6858000))
    assert len(prs.slides) == 4
    first = prs.slides[0]
    assert first.shapes.title.text == "Resultat"
    assert "2015–2019" in [
        s.text for s in first.placeholders if s.placeholder_format.idx == 1
    ]
    for i, slide in enumerate(list(prs.slides)[1:]):
        pictures = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pictures) == 1
        pic = pictures[0]
        assert slide.shapes.title.text == f"Takeaway {i}"
        assert slide.notes_slide.notes_text_frame.text == f"Källa: test, n = {10 + i}"
        assert pic.left >= 0 and pic.left + pic.width <= prs.slide_width
        assert pic.top >= slide.shapes.title.top + slide.shapes.title.height
        assert pic.top + pic.height <= prs.slide_height
        px_w, px_h = (2460, 1120) if i != 1 else (1200, 1120)
        assert pic.width / pic.height == pytest.approx(px_w / px_h, rel=1e-3)


def test_deck_default_subtitle_and_template(tmp_path):
    """Without subtitle the project is named; a template's size is kept."""
    items = _chart_pngs(tmp_path, 1)
    first = build_deck(items, tmp_path / "a.pptx", title="T", lang="en")
    subtitle = [s.text for s in Presentation(str(first)).slides[0].placeholders][1]
    assert subtitle == "Inclusive Rehabilitation · ESF project 2015/00242"
    template = Presentation()
    template.save(str(tmp_path / "org.pptx"))
    second = build_deck(
        items, tmp_path / "b.pptx", title="T", template=tmp_path / "org.pptx"
    )
    prs = Presentation(str(second))
    assert (prs.slide_width, prs.slide_height) == (Emu(9144000), Emu(6858000))
    assert len(prs.slides) == 2


def test_deck_from_a_potx_template(tmp_path):
    """A .potx (which python-pptx refuses on its own) works as a deck template."""
    import zipfile

    pptx = tmp_path / "org.pptx"
    Presentation().save(str(pptx))
    potx = tmp_path / "org.potx"
    with zipfile.ZipFile(pptx) as src, zipfile.ZipFile(potx, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"presentation.main+xml", b"template.main+xml")
            out.writestr(info, data)
    with pytest.raises(ValueError):
        Presentation(str(potx))
    deck = build_deck(
        _chart_pngs(tmp_path, 2), tmp_path / "d.pptx", title="T", template=potx
    )
    prs = Presentation(str(deck))
    assert len(prs.slides) == 3
    assert (prs.slide_width, prs.slide_height) == (Emu(9144000), Emu(6858000))
    with pytest.raises(InputFileError, match="cannot be opened"):
        (tmp_path / "bad.potx").write_bytes(b"not a zip")
        build_deck([], tmp_path / "e.pptx", title="T", template=tmp_path / "bad.potx")


def test_deck_refuses_missing_or_svg_images(tmp_path):
    """Decks need existing PNGs: missing files and SVGs are explained."""
    with pytest.raises(InputFileError, match="missing"):
        build_deck(
            [ChartSlide(tmp_path / "no.png", "t")], tmp_path / "d.pptx", title="T"
        )
    (svg,) = save_for_slides(_figure(), tmp_path / "c.svg")
    with pytest.raises(InputFileError, match="expected PNG"):
        build_deck([ChartSlide(svg, "t")], tmp_path / "d.pptx", title="T")
    with pytest.raises(ParameterError, match="'sv' or 'en'"):
        build_deck([], tmp_path / "d.pptx", title="T", lang="de")
    assert not (tmp_path / "d.pptx").exists()


@pytest.mark.slow
def test_gallery_from_sample_draws_every_chart(tmp_path, monkeypatch):
    """Without processed tables the gallery draws every chart from the sample."""
    from rehab_analytics.report import gallery as gallery

    monkeypatch.setattr(gallery, "_SAMPLE_SIZE", 150)
    monkeypatch.setenv("RA_PROCESSED_DIR", str(tmp_path / "nothing"))
    paths = gallery.write_gallery(tmp_path / "out", langs=("en",))
    names = {p.name for p in paths}
    for chart in (
        "enrolment",
        "funnel",
        "casemix",
        "income_transition",
        "spc",
        "costs",
    ):
        assert f"{chart}_en.png" in names
    assert "age_sex_dino_en.png" in names
    deck = Presentation(str(tmp_path / "out" / "gallery_en.pptx"))
    assert len(deck.slides) == len(paths)  # title slide + every PNG
    assert all(s.notes_slide.notes_text_frame.text for s in list(deck.slides)[1:])
    with Image.open(tmp_path / "out" / "funnel_en.png") as image:
        assert image.size == (2460, 1120)


def test_gallery_with_missing_processed_folder_is_an_error(tmp_path):
    """An explicit processed folder without tables is reported, not replaced by sample."""
    from rehab_analytics.report import gallery

    with pytest.raises(InputFileError, match="clean"):
        gallery.write_gallery(tmp_path / "out", tmp_path / "empty")
