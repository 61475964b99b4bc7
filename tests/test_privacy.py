"""Privacy by construction: no ids, names, addresses, keys or small counts in any output.

The scans run over every file a full demo writes (sample → clean → reports). Key
files (0600, warning on looser modes) are pinned in ``test_identity.py`` and
committed notebooks without outputs in ``test_notebooks.py``; not repeated here.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from rehab_analytics import cli
from rehab_analytics.clean.run import run_clean
from rehab_analytics.config import settings
from rehab_analytics.identity import find_personnummer_like
from rehab_analytics.ingest import read_grid, select_sheets
from rehab_analytics.keys import DEMO_KEY_NAME
from rehab_analytics.sample.deliveries import write_sample

REPO = Path(__file__).resolve().parents[1]
SECRET = "privacy-test-key-3f9c1d5e7a2b4c6d8e0f1a2b3c4d5e6f"
# Raw columns with direct identifiers that must never reach an output.
IDENTIFIER_HEADERS = {"namn", "name", "adress", "address"}
# Integer columns that are not counts of people: plans, years, scale steps.
NOT_COUNTS = re.compile(r"plan|year|^år$|step|steg|health|hälsa|index", re.I)

# --- scanning ------------------------------------------------------------------


def _png_text(data: bytes) -> str:
    """Return the text of a PNG's tEXt, iTXt and zTXt chunks."""
    out, pos = [], 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"tEXt":
            out.append(body.decode("latin-1"))
        elif kind == b"zTXt":
            keyword, _, rest = body.partition(b"\x00")
            out.append(
                keyword.decode("latin-1")
                + " "
                + zlib.decompress(rest[1:]).decode("latin-1")
            )
        elif kind == b"iTXt":
            keyword, _, rest = body.partition(b"\x00")
            compressed = rest[0] == 1
            _lang, _, rest = rest[2:].partition(b"\x00")
            _translated, _, text = rest.partition(b"\x00")
            text = zlib.decompress(text) if compressed else text
            out.append(
                keyword.decode("latin-1") + " " + text.decode("utf-8", "replace")
            )
        pos += 12 + length
    return "\n".join(out)


def _frame_text(df: pd.DataFrame) -> str:
    return (
        " ".join(map(str, df.columns)) + "\n" + df.astype("string").to_csv(sep="\x1f")
    )


def file_texts(path: Path) -> Iterator[str]:
    """Yield the text content of one output file, by type; every cell of a table."""
    suffix = path.suffix.lower()
    data = path.read_bytes()
    if suffix == ".parquet":
        yield _frame_text(pd.read_parquet(path))
    elif suffix in (".xlsx", ".xlsm", ".pptx", ".docx"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.endswith((".xml", ".rels", ".vml")):
                    yield archive.read(name).decode("utf-8", "replace")
        if suffix != ".pptx":
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
            for ws in wb.worksheets:
                for row in ws.iter_rows(values_only=True):
                    yield "\x1f".join("" if v is None else str(v) for v in row)
            wb.close()
    elif suffix == ".png":
        yield _png_text(data)
    else:  # csv, json, ipynb, html, log, txt and anything else: the text itself
        yield data.decode("utf-8", "replace")


def scan(folder: Path, pattern: re.Pattern | None) -> dict[str, list[str]]:
    """Return file → hits of personnummer-like ids and of ``pattern`` in every file."""
    hits: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        found = []
        for text in file_texts(path):
            found += find_personnummer_like(text)
            if pattern is not None:
                found += pattern.findall(text)
        if found:
            hits[str(path.relative_to(folder))] = sorted(set(found))[:5]
    return hits


def raw_identifiers(raw: Path) -> set[str]:
    """Return every name and address in the raw files (columns Namn/Name/Adress)."""
    values: set[str] = set()
    for path in sorted(raw.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in (".xlsx", ".ods", ".csv"):
            continue
        if "_truth" in path.parts or "_sources" in path.parts:
            continue
        sheets = select_sheets(path, ["*"]) if path.suffix != ".csv" else [""]
        for sheet in sheets:
            columns, _, _ = read_grid(path, sheet)
            for col in columns:
                cells = [str(v).strip() if v is not None else "" for v in col]
                heads = [
                    i
                    for i, c in enumerate(cells[:10])
                    if c.casefold() in IDENTIFIER_HEADERS
                ]
                if heads:
                    values.update(c for c in cells[heads[0] + 1 :] if len(c) >= 4)
    return values


def count_columns(df: pd.DataFrame) -> list[str]:
    """Return the count columns of a published table.

    The columns ``suppress`` was told to protect, plus every other nullable
    integer column (counts are Int64 so they can be hidden) that is not a plan,
    year or scale step, so an undeclared count does not slip through.
    """
    declared = df.attrs.get("disclosure", {}).get("count_cols", [])
    nullable = [
        c
        for c in df.columns
        if isinstance(df[c].dtype, pd.Int64Dtype) and not NOT_COUNTS.search(str(c))
    ]
    return list(dict.fromkeys([*declared, *nullable]))


def small_counts(df: pd.DataFrame, threshold: int) -> list[tuple[str, int]]:
    """Return (column, value) of published counts in 1..threshold-1."""
    out = []
    for col in count_columns(df):
        values = df[col].dropna().astype("int64")
        small = values[(values >= 1) & (values < threshold)]
        out += [(str(col), int(v)) for v in small]
    return out


def test_scanner_finds_planted_identifiers_in_every_kind_of_file(tmp_path):
    """The scan is not vacuous: an id, a name or the key planted in any file is found."""
    from PIL import Image, PngImagePlugin
    from pptx import Presentation

    pd.DataFrame({"a": ["x", "640823-3234"]}).to_parquet(tmp_path / "t.parquet")
    wb = openpyxl.Workbook()
    wb.active["B7"] = "Anna Testsson"
    wb.save(tmp_path / "t.xlsx")
    deck = Presentation()
    deck.slides.add_slide(deck.slide_layouts[5]).shapes.title.text = "19701063-2391"
    deck.save(str(tmp_path / "t.pptx"))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Storgatan 12")
    info.add_itxt("Source", "Anna Testsson", zip=True)
    Image.new("RGB", (2, 2)).save(tmp_path / "t.png", pnginfo=info)
    (tmp_path / "t.json").write_text(json.dumps({"k": SECRET}))
    (tmp_path / "t.html").write_text("<td>640823-3234</td>")
    (tmp_path / "clean.csv").write_text("a;b\n0.4583333333;640823-3235\n")
    pattern = re.compile(
        "|".join(map(re.escape, ["Anna Testsson", "Storgatan 12", SECRET]))
    )
    hits = scan(tmp_path, pattern)
    assert sorted(hits) == [
        "t.html",
        "t.json",
        "t.parquet",
        "t.png",
        "t.pptx",
        "t.xlsx",
    ]
    assert hits["t.png"] == ["Anna Testsson", "Storgatan 12"]


def test_small_counts_ignores_codes_and_suppressed_cells():
    """Declared and Int64 counts 1..4 are hits; 0, NA, plans, years, steps are not."""
    df = pd.DataFrame(
        {
            "Antal": pd.array([0, 3, None, 12], dtype="Int64"),
            "År": pd.array([2017, 2018, 2019, 2020], dtype="Int64"),
            "Förändring (steg)": [-1, 1, 2, 3],
            "Planerade": pd.array([4, 40, 40, 40], dtype="Int64"),
            "Andel": [0.1, 0.2, 0.3, 1.0],
            "Deltagare": [2, 9, 9, 9],
        }
    )
    df.attrs["disclosure"] = {"count_cols": ["Deltagare"]}
    assert small_counts(df, 5) == [("Deltagare", 2), ("Antal", 3)]


# --- the demo run ----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One full demo (sample → clean → reports) with a distinctive key."""
    root = tmp_path_factory.mktemp("privacy")
    raw, out = root / "raw", root / "processed"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RA_PSEUDONYM_KEY", SECRET)
        mp.setenv("RA_KEY_FILE", str(root / "no-key-file" / "pseudonym.key"))
        mp.delenv("RA_SUPPRESSION_THRESHOLD", raising=False)
        mp.delenv("RA_SOURCES_DIR", raising=False)
        code = cli.main(["demo", "--raw", str(raw), "--out", str(out), "--jobs", "2"])
    assert code == 0
    run = out / "reports" / (out / "reports" / "latest.txt").read_text().strip()
    return raw, out, run


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.xdist_group("kernels")
def test_demo_outputs_cover_every_kind_of_file(demo_run):
    """The demo wrote each kind of output the scans read (so the scans see something)."""
    _, out, run = demo_run
    suffixes = {p.suffix for p in out.rglob("*") if p.is_file()}
    assert {
        ".parquet",
        ".csv",
        ".json",
        ".xlsx",
        ".ipynb",
        ".html",
        ".png",
        ".pptx",
    } <= suffixes
    assert list(run.glob("tables/*.parquet")) and (run / "tables.xlsx").is_file()


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.xdist_group("kernels")
def test_no_id_name_address_or_key_in_any_output(demo_run):
    """Every output file is free of personnummer-like ids, raw names, addresses and keys."""
    raw, out, _ = demo_run
    names = raw_identifiers(raw)
    assert len(names) > 100, "the sample's name and address columns were found"
    demo_key = (raw / DEMO_KEY_NAME).read_text().strip()
    secrets = sorted(names | {SECRET, demo_key}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(s) for s in secrets))
    assert scan(out, pattern) == {}


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.xdist_group("kernels")
def test_key_is_not_in_notebook_parameters(demo_run):
    """Papermill parameters of every executed notebook hold no key or key setting."""
    _, _, run = demo_run
    notebooks = sorted(run.glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        params = nb["metadata"].get("papermill", {}).get("parameters", {})
        assert params, path.name
        text = json.dumps(params)
        assert SECRET not in text and "PSEUDONYM_KEY" not in text, path.name
    manifest = (run / "manifest.json").read_text(encoding="utf-8")
    assert SECRET not in manifest


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.xdist_group("kernels")
def test_published_tables_have_no_small_counts(demo_run):
    """No published count is 1..threshold-1: small cells are suppressed, not shown."""
    _, _, run = demo_run
    threshold = settings().suppression_threshold
    tables = sorted(run.glob("tables/*.parquet"))
    assert len(tables) >= 3
    hits = {}
    for path in tables:
        df = pd.read_parquet(path)
        assert "disclosure" in df.attrs, f"{path.name} did not pass suppress()"
        found = small_counts(df, threshold)
        if found:
            hits[path.name] = found[:5]
    assert hits == {}


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.xdist_group("kernels")
def test_tables_xlsx_shows_suppressed_cells_as_text(demo_run):
    """tables.xlsx: count columns hold numbers ≥ threshold, 0, or the text '..'."""
    _, _, run = demo_run
    threshold = settings().suppression_threshold
    counts = {}
    for path in run.glob("tables/*.parquet"):
        df = pd.read_parquet(path)
        counts[path.stem] = set(count_columns(df))
    wb = openpyxl.load_workbook(run / "tables.xlsx", read_only=True)
    contents = list(wb.worksheets[0].iter_rows(min_row=2, values_only=True))
    seen_suppressed = False
    hits = []
    for sheet, report, table, *_ in contents:
        if sheet not in wb.sheetnames:  # notes below the list of contents
            continue
        columns = counts.get(f"{report}__{table}", set())
        rows = list(wb[sheet].iter_rows(values_only=True))
        header = list(rows[0])
        for row in rows[1:]:
            for name, value in zip(header, row, strict=False):
                if name not in columns:
                    continue
                if isinstance(value, int | float) and 1 <= value < threshold:
                    hits.append((sheet, name, value))
                assert not (isinstance(value, str) and value.startswith("<"))
                seen_suppressed |= value == ".."
    wb.close()
    assert hits == []
    assert seen_suppressed, "the sample has small cells, shown as text"


# --- keys and pseudonyms (no kernels) ---------------------------------------------------


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("keys") / "raw"
    write_sample(raw, participants=120, seed=7)
    return raw


def _clean_with(raw: Path, out: Path, key: str, monkeypatch) -> pd.DataFrame:
    monkeypatch.setenv("RA_PSEUDONYM_KEY", key)
    result = run_clean(raw, out)
    assert result.report["key"]["origin"] == "environment"
    return pd.read_parquet(out / "participants.parquet")


@pytest.mark.slow
def test_different_keys_give_unlinkable_pseudonyms(sample_raw, tmp_path, monkeypatch):
    """Two keys: no participant key or episode id in common, same rows otherwise."""
    a = _clean_with(sample_raw, tmp_path / "a", "A" * 40, monkeypatch)
    b = _clean_with(sample_raw, tmp_path / "b", "B" * 40, monkeypatch)
    keys_a = set(a["participant_key"].dropna())
    keys_b = set(b["participant_key"].dropna())
    assert len(keys_a) > 50 and len(keys_b) == len(keys_a)
    assert keys_a.isdisjoint(keys_b)
    assert set(a["episode_id"]).isdisjoint(set(b["episode_id"]))
    same = ["subproject", "start_date", "sex", "source_file", "source_row"]
    pd.testing.assert_frame_equal(a[same], b[same])


@pytest.mark.slow
def test_same_key_gives_identical_participant_bytes(sample_raw, tmp_path, monkeypatch):
    """The same key and input give byte-identical participants.parquet on every run."""
    _clean_with(sample_raw, tmp_path / "one", SECRET, monkeypatch)
    _clean_with(sample_raw, tmp_path / "two", SECRET, monkeypatch)
    for name in ("participants.parquet", "rejects.parquet", "rejects.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (
            tmp_path / "two" / name
        ).read_bytes()


@pytest.mark.slow
def test_clean_outputs_hold_no_key_or_id(sample_raw, tmp_path, monkeypatch):
    """After a clean, the processed folder holds no key, id, name or address."""
    _clean_with(sample_raw, tmp_path / "out", SECRET, monkeypatch)
    names = raw_identifiers(sample_raw)
    pattern = re.compile(
        "|".join(re.escape(s) for s in sorted(names | {SECRET}, key=len, reverse=True))
    )
    assert scan(tmp_path / "out", pattern) == {}


# --- the repository ------------------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("git") is None or not (REPO / ".git").exists(), reason="needs git"
)
@pytest.mark.parametrize(
    "path",
    [
        "data/raw/nordost/Dino deltagare 2015-2019.xlsx",
        "data/raw/vaster/Motiverande insatser 2017.csv",
        "data/raw/_truth/participants.parquet",
        "data/raw/.rehab-analytics-demo.key",
        "data/processed/participants.parquet",
        "data/processed/rejects.csv",
        "data/processed/cleaning_report.json",
        "data/processed/feedback/nordost.xlsx",
        "data/processed/reports/20190101T000000-abcdef/subproject_dino.ipynb",
        "data/processed/reports/20190101T000000-abcdef/tables.xlsx",
        "data/processed/reports/20190101T000000-abcdef/deck.pptx",
        "reports/subproject_dino.html",
        "pseudonym.key",
        "notebooks/exploration.executed.ipynb",
        "notebooks/.ipynb_checkpoints/exploration-checkpoint.ipynb",
    ],
)
def test_gitignore_covers_data_reports_keys_and_executed_notebooks(path):
    """git ignores raw and processed data, reports, key files and executed notebooks."""
    proc = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", path], cwd=REPO, check=False
    )
    assert proc.returncode == 0, f"{path} is not ignored"


@pytest.mark.skipif(
    shutil.which("git") is None or not (REPO / ".git").exists(), reason="needs git"
)
@pytest.mark.parametrize(
    "path",
    ["data/raw/README.md", "data/processed/README.md", "notebooks/exploration.ipynb"],
)
def test_gitignore_keeps_readmes_and_clean_notebooks(path):
    """The data READMEs and the source notebooks stay committable."""
    proc = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", path], cwd=REPO, check=False
    )
    assert proc.returncode == 1, f"{path} is ignored"


def test_pre_commit_strips_notebook_outputs():
    """The pre-commit config has a hook that clears outputs of every .ipynb file."""
    import yaml

    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = [h for repo in config["repos"] for h in repo["hooks"]]
    strip = [
        h
        for h in hooks
        if "clear-output" in h.get("entry", "") or "nbstripout" in h.get("id", "")
    ]
    assert strip, hooks
    assert re.search(strip[0].get("files", r"\.ipynb$"), "notebooks/exploration.ipynb")


class _ExternalResources(HTMLParser):
    """Collects every attribute and CSS url() that would make a browser fetch a URL."""

    _FETCHING = {"src", "href", "data", "poster", "srcset", "action", "formaction"}

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in self._FETCHING and value and _REMOTE.match(value):
                self.found.append(f"<{tag} {name}={value[:80]}>")
            if name == "style" and value:
                self.found += _CSS_URL.findall(value)

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.found += _CSS_URL.findall(re.sub(r"/\*.*?\*/", "", data, flags=re.S))


_REMOTE = re.compile(r"\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)
_CSS_URL = re.compile(r"(?:url\(\s*['\"]?|@import\s+['\"])((?:https?:)?//[^'\")\s]+)")


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.xdist_group("kernels")
def test_reports_are_self_contained(demo_run):
    """No HTML report loads a script, style, font or image from another server."""
    _, out, _ = demo_run
    pages = sorted(out.rglob("*.html"))
    assert len(pages) >= 8
    for page in pages:
        parser = _ExternalResources()
        parser.feed(page.read_text(encoding="utf-8"))
        assert parser.found == [], page.name


def test_external_resource_check_catches_cdn_scripts():
    """The check finds what nbconvert's stock lab template loads (require.js, MathJax)."""
    parser = _ExternalResources()
    parser.feed(
        '<script src="https://cdnjs.cloudflare.com/x.js"></script>'
        "<style>/* see https://example.org */ @import 'https://f.example/x.css';</style>"
        '<link href="//cdn.example/y.css"><img src="data:image/png;base64,AAA">'
    )
    assert len(parser.found) == 3
