"""Hostile names, labels and headers through every output: HTML, Markdown, charts, xlsx, csv."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from openpyxl import load_workbook

from rehab_analytics import catalogue, clean, disclosure, escape, narrative, plots
from rehab_analytics.figures.core import Chart, Table
from rehab_analytics.report import Publisher, write_tables_xlsx
from rehab_analytics.report.deck import ChartSlide, build_deck, save_for_slides

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = "[x](javascript:alert(1))"
FORMULA = '=HYPERLINK("http://example.invalid","x")'
MATH = "$\\frac{1}{0}$"
HOSTILE = [SCRIPT, IMG, LINK, FORMULA, MATH]
# One subproject name carrying all of them, and control characters.
NAME = "".join(HOSTILE) + "\x00\x1b end"
SHOWN = escape.printable(NAME)  # how the name reads in every output
EVIL_TOML = f"""[organisation]
forbund = "evilfb"
forbund_name = {json.dumps(SCRIPT + " förbund")}
subproject = "evilsp"
subproject_name = {json.dumps(NAME)}
"""
# Attributes whose value a browser follows or runs.
_URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data"}


class _Page(HTMLParser):
    """Every start tag with its attributes, and the text as the reader sees it."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.parts: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data) -> None:
        self.parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _live_markup(html: str) -> list[str]:
    """What in ``html`` would run or load: scripts, event handlers, javascript: URLs, images."""
    found = []
    for tag, attrs in _Page(html).tags:
        if tag in ("script", "iframe", "object", "embed"):
            found.append(tag)
        for key, value in attrs:
            url = "".join((value or "").split()).lower()
            if key.startswith("on"):
                found.append(f"{tag} {key}")
            elif key in _URL_ATTRS and url.startswith(("javascript:", "vbscript:")):
                found.append(f"{tag} {key}={value}")
            elif tag == "img" and key == "src" and not url.startswith("data:"):
                found.append(f"img src={value}")
    return found


def _markdown_html(text: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(text)


@pytest.fixture
def evil_sources(tmp_path, monkeypatch) -> Path:
    """An added organisation whose names are hostile, found through RA_SOURCES_DIR."""
    folder = tmp_path / "descriptions"
    folder.mkdir()
    (folder / "evil.toml").write_text(EVIL_TOML, encoding="utf-8")
    monkeypatch.setenv("RA_SOURCES_DIR", str(folder))
    return folder


# ---- fast: each escaping point -----------------------------------------------


@pytest.mark.parametrize("text", [*HOSTILE, "1. list", "# h", "> q", "http://x.se/a"])
def test_markdown_escape_renders_as_the_text_itself(text):
    """Markdown-escaped text becomes one paragraph of exactly that text: no tags, no links."""
    page = _Page(_markdown_html(f"- {escape.markdown(text)}"))
    assert [tag for tag, _ in page.tags] == ["ul", "li"]
    assert page.text.strip() == text


def test_escape_shows_control_characters_and_keeps_one_formula_rule():
    """Control characters become \\xNN in HTML, Markdown and names; clean uses escape's rule."""
    assert escape.html("a\x00b<") == "a\\x00b&lt;"
    assert escape.printable("a\x1bb") == "a\\x1bb"
    assert "\x00" not in escape.markdown("a\x00b")
    assert clean.FORMULA_START is escape.FORMULA_START
    assert clean.neutralise is escape.neutralise
    assert [escape.formula_safe(t) for t in (FORMULA, "-1", "+a", "@b", "ok")] == [
        "'" + FORMULA,
        "'-1",
        "'+a",
        "'@b",
        "ok",
    ]


def test_registry_names_reach_outputs_without_control_characters(evil_sources):
    """A description's name comes back as written, its control characters shown as \\xNN."""
    assert catalogue.label("subproject", "evilsp", "en") == SHOWN
    assert catalogue.labels("forbund", "en")["evilfb"] == SCRIPT + " förbund"


def test_narrative_markdown_escapes_names_once(evil_sources):
    """Title, paragraph, bullets and caveats show the name as text; sentences stay plain."""
    outputs = [
        narrative.title("subproject", "en", "2016-01-01", "2017-01-01", unit=NAME),
        narrative.paragraph("intro.subproject", "en", unit=NAME),
        narrative.caveats("en", threshold=5, small_units=["evilsp"]),
        narrative.bullets(
            [narrative.enrolment_sentence({"enrolled": 9}, "en", "evilsp")]
        ),
    ]
    for text in outputs:
        html = _markdown_html(str(text))
        assert _live_markup(html) == []
        tags = _Page(html).tags
        assert {tag for tag, _ in tags} <= {"h1", "p", "em", "ul", "li", "a"}
        # the only link is the heading's own anchor
        assert all(dict(a)["href"].startswith("#") for t, a in tags if t == "a")
        assert SHOWN in _Page(html).text
    # the sentence itself is plain text: each output escapes it once
    sentence = narrative.enrolment_sentence({"enrolled": 9}, "en", "evilsp")
    assert sentence.startswith(SHOWN + ":")


def test_comparison_summary_escapes_unit_names(evil_sources):
    """The comparison's bullets name the hostile unit as visible text."""
    shares = pd.DataFrame(
        {
            "subproject": ["evilsp"],
            "n": [80],
            "share": [0.4],
            "ci_low": [0.3],
            "ci_high": [0.5],
        }
    )
    html = _markdown_html(
        narrative.comparison_summary(shares, casemix=False, lang="en")
    )
    assert _live_markup(html) == []
    assert f"{SHOWN}: 40%" in _Page(html).text


def test_table_and_chart_html_escape_title_text_and_cells():
    """Table and Chart HTML escape title, lead text, cell values and column headers."""
    data = disclosure.suppress(
        pd.DataFrame({"category": [SCRIPT, FORMULA], "n": [12, 30]}),
        threshold=5,
        count_cols=["n"],
        denominator_col=None,
    )
    table = Table("t", data.rename(columns={"category": IMG}), NAME, "en", text=LINK)
    fig, ax = plt.subplots()
    chart = Chart("c", data, fig, NAME, "notes", "en")
    for html in (table._repr_html_(), chart._repr_html_()):
        assert _live_markup(html) == []
        assert SHOWN in _Page(html).text
    text = _Page(table._repr_html_()).text
    assert all(s in text for s in (SCRIPT, FORMULA, IMG, LINK))
    styled = Publisher("", "t", "en").table(data.rename(columns={"n": IMG}), "t")
    assert _live_markup(styled.to_html()) == []
    assert IMG in _Page(styled.to_html()).text


def test_charts_draw_dollar_names_literally(tmp_path):
    """A name with $…$ (even invalid mathtext) is drawn as text in titles and tick labels."""
    broken = "$\\foo{$ " + MATH
    with plots.slide_style():
        fig, ax = plots.new_figure()
        ax.bar([broken, MATH], [1, 2])
        ax.set_title(broken)
    (png,) = save_for_slides(fig, tmp_path / "c.png")  # draws outside slide_style
    assert png.stat().st_size > 0
    assert [t.get_text() for t in ax.get_xticklabels()] == [broken, MATH]
    assert all(not t._parse_math for t in [ax.title, *ax.get_xticklabels()])
    fig2, ax2 = plt.subplots()
    ax2.set_title(broken)
    with mpl.rc_context({"text.parse_math": True}), pytest.raises(ValueError):
        fig2.savefig(io.BytesIO(), format="png")  # what slide_style prevents


def test_tables_xlsx_writes_formula_like_text_as_strings(tmp_path):
    """Cells, headers and titles starting with =, +, -, @ are quoted strings, never formulas."""
    (tmp_path / "tables").mkdir()
    frame = pd.DataFrame(
        {FORMULA: [FORMULA, "-2", "@x", "ok\x00", "+1"], "n": range(5)}
    )
    frame.to_parquet(tmp_path / "tables" / "j__t.parquet")
    entry = {"job": "j", "name": "t", "file": "tables/j__t.parquet", "title": FORMULA}
    write_tables_xlsx(
        tmp_path, [{**entry, "markers": [[0, "n", "<5"]]}], tmp_path / "t.xlsx"
    )
    cells = [
        c
        for ws in load_workbook(tmp_path / "t.xlsx")
        for row in ws.iter_rows()
        for c in row
    ]
    assert [c for c in cells if c.data_type == "f"] == []
    risky = [c for c in cells if escape.starts_formula(c.value)]
    assert len(risky) == 6 and all(c.quotePrefix for c in risky)
    assert "ok" in [c.value for c in cells]  # the NUL is dropped


def test_deck_stores_titles_with_control_characters(tmp_path):
    """Slide titles and notes lose what XML cannot hold; the name is kept as text."""
    from pptx import Presentation

    fig, ax = plt.subplots()
    (png,) = save_for_slides(fig, tmp_path / "c.png")
    deck = build_deck([ChartSlide(png, NAME, NAME)], tmp_path / "d.pptx", title=NAME)
    slide = Presentation(str(deck)).slides[1]
    assert slide.shapes.title.text == "".join(HOSTILE) + " end"


# ---- slow: a hostile organisation cleaned and reported end to end ------------


def _pnr(i: int) -> str:
    from rehab_analytics.identity import luhn_digit

    birth = f"{80 + i // 300:02d}{(i // 28) % 12 + 1:02d}{i % 28 + 1:02d}"
    serial = f"{500 + i % 400:03d}"
    return f"19{birth}-{serial}{luhn_digit(birth + serial)}"


def _hostile_raw(root: Path) -> tuple[Path, Path]:
    """The sample, with Väster's description renamed hostile and two hostile files."""
    from rehab_analytics.config import BUILTIN_SOURCES_DIR
    from rehab_analytics.sample.deliveries import write_sample

    raw, descriptions = root / "raw", root / "descriptions"
    write_sample(raw, participants=120, seed=7)
    descriptions.mkdir()
    tables = (BUILTIN_SOURCES_DIR / "vaster.toml").read_text(encoding="utf-8")
    tables = "[[tables]]" + tables.split("[[tables]]", 1)[1]
    hostile = (
        '\n[[tables]]\nkind = "participants"\nfiles = ["hostile/*.csv"]\n'
        'delimiter = ";"\n\n[tables.columns]\npersonnummer = "Personnummer"\n'
        'start_date = "Startdatum"\neducation = "Utbildning"\n'
    )
    (descriptions / "vaster.toml").write_text(
        f"{EVIL_TOML}\n{tables}{hostile}", encoding="utf-8"
    )
    rows = ["Personnummer;Startdatum;Utbildning"]
    rows += [
        f"{_pnr(k * 6 + j)};2017-03-{j + 1:02d};{label}"
        for k, label in enumerate(HOSTILE)
        for j in range(6)  # above the threshold: each label is shown
    ]
    (raw / "hostile").mkdir()
    (raw / "hostile" / "h.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    # A delivery whose headers are hostile: its error message quotes them.
    (descriptions / "broken.toml").write_text(
        '[organisation]\nforbund = "brokenfb"\nforbund_name = "Broken"\n'
        'subproject = "brokensp"\nsubproject_name = "Broken"\n\n[[tables]]\n'
        'kind = "participants"\nfiles = ["broken/*.csv"]\ndelimiter = ";"\n\n'
        '[tables.columns]\npersonnummer = "Personnummer"\nstart_date = "Startdatum"\n',
        encoding="utf-8",
    )
    (raw / "broken").mkdir()
    header = ";".join([SCRIPT, "=cmd|x", "a\x1bb", LINK])
    (raw / "broken" / "b.csv").write_text(f"{header}\n1;2;3;4\n", encoding="utf-8")
    return raw, descriptions


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """Clean the hostile delivery and run the report batch for the hostile subproject."""
    from rehab_analytics.batch import run as batch
    from rehab_analytics.clean.run import run_clean

    root = tmp_path_factory.mktemp("hostile")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RA_PSEUDONYM_KEY", "hostile-strings-test-key-" + "x" * 32)
        raw, descriptions = _hostile_raw(root)
        mp.setenv("RA_SOURCES_DIR", str(descriptions))
        processed = root / "processed"
        run_clean(raw, processed)  # not ok: the broken source is reported
        result = batch.run_batch(
            processed, lang="en", subprojects=["evilsp"], jobs=2, progress=False
        )
    assert result.ok, result.summary()
    return processed, result.run_dir


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.xdist_group("kernels")
def test_html_reports_hold_no_live_markup_and_show_the_names(hostile_run):
    """No script, handler, javascript: URL or foreign image; names and labels read as text."""
    _, run = hostile_run
    pages = {p.name: p.read_text(encoding="utf-8") for p in run.glob("*.html")}
    assert set(pages) == {
        "data_quality.html",
        "subproject_evilsp.html",
        "comparison_report.html",
    }
    for name, html in pages.items():
        assert _live_markup(html) == [], name
        assert not any(ord(ch) < 9 or 13 < ord(ch) < 32 for ch in html), name
    assert SHOWN in _Page(pages["subproject_evilsp.html"]).text
    assert SHOWN in _Page(pages["comparison_report.html"]).text
    quality = _Page(pages["data_quality.html"]).text
    assert all(label in quality for label in HOSTILE)  # unknown labels table
    assert "Found columns in row 1" in quality and "a\\x1bb" in quality


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.xdist_group("kernels")
def test_no_workbook_cell_is_a_formula(hostile_run):
    """tables.xlsx and every feedback workbook store formula-like text as quoted strings."""
    processed, run = hostile_run
    books = [run / "tables.xlsx", *sorted((processed / "feedback").glob("*.xlsx"))]
    assert len(books) > 2
    risky = 0
    for book in books:
        for ws in load_workbook(book):
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (book.name, ws.title, cell.coordinate)
                    if escape.starts_formula(cell.value):
                        assert cell.quotePrefix, (book.name, cell.coordinate)
                        risky += cell.value.startswith("=")
    assert risky >= 2  # the hostile name in tables.xlsx, the label in feedback


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.xdist_group("kernels")
def test_rejects_csv_never_starts_a_formula_unquoted(hostile_run):
    """Every rejects.csv cell starting with =, +, -, @, tab or CR carries the quote."""
    processed, _ = hostile_run
    with open(processed / "rejects.csv", encoding="utf-8-sig", newline="") as f:
        cells = [cell for row in csv.reader(f, delimiter=";") for cell in row]
    assert "'" + FORMULA in cells and SCRIPT in cells
    assert [c for c in cells if escape.starts_formula(c)] == []


def test_published_names_are_checked_whole():
    """A table or figure name with a trailing newline is refused (fullmatch, not match)."""
    import pytest

    from rehab_analytics.errors import ParameterError
    from rehab_analytics.report.publish import _check_name

    _check_name("rows_per_source", "table")
    with pytest.raises(ParameterError, match="file name"):
        _check_name("rows_per_source\n", "table")
