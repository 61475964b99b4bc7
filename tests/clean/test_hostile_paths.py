"""Hostile paths and crafted files end to end: refused by name, bounded in time and memory."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from badinput import Case, Expect, make_raw, write_csv

from rehab_analytics.clean.run import find_files, run_clean
from rehab_analytics.errors import UnsafePathError
from rehab_analytics.sources import TableSpec

KEY = "hostile-paths-test-key-" + "x" * 32
SECRET = "SECRET-OUTSIDE-THE-RAW-FOLDER"
# The clean runs as a real process under an address-space bound: a file that made
# a reader allocate its whole grid would kill it instead of being refused.
_BOUNDED = (
    "import resource, sys\n"
    "limit = 3 * 2**29\n"  # 1.5 GiB
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    "from rehab_analytics import cli\n"
    "sys.exit(cli.main(sys.argv[1:]))\n"
)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _clean(raw: Path, out: Path, **env: str) -> subprocess.CompletedProcess:
    home = str(raw.parent)
    return subprocess.run(
        [sys.executable, "-c", _BOUNDED, "clean", "--raw", str(raw), "--out", str(out)]
        + ["--jobs", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"RA_PSEUDONYM_KEY": KEY, "PATH": "/usr/bin:/bin", "HOME": home, **env},
    )


def _raw(root: Path, build: Callable[[Path], None]) -> Path:
    return make_raw(root, Case("hostile", "a hostile delivery", build, Expect()))


def _secret_file(root: Path) -> Path:
    """A CSV beside the raw folder that a source must never read."""
    return write_csv(
        root / "outside" / "secret.csv",
        [["Personnummer", "Startdatum"], [SECRET, "2017-01-02"]],
    )


def _outputs_text(out: Path) -> str:
    """Every output file's text, workbooks unpacked."""
    texts = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                texts += [
                    archive.read(n).decode("utf-8", "replace")
                    for n in archive.namelist()
                ]
        else:
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


def _good_rows(out: Path) -> pd.DataFrame:
    participants = pd.read_parquet(out / "participants.parquet")
    good = participants[participants["subproject"] == "goodsp"]
    return good.reset_index(drop=True)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> pd.DataFrame:
    """The good source cleaned on its own (the bad source delivers nothing)."""
    root = tmp_path_factory.mktemp("baseline")
    raw = _raw(root, lambda raw: None)
    proc = _clean(raw, root / "out")
    assert "Traceback" not in proc.stdout + proc.stderr
    rows = _good_rows(root / "out")
    assert len(rows) == 3
    return rows


def _check_refused(proc, out: Path, baseline: pd.DataFrame, *parts: str) -> str:
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "Traceback" not in output and "panicked" not in output
    report = json.loads((out / "cleaning_report.json").read_text(encoding="utf-8"))
    error = report["sources"]["bad"]["error"]
    for part in parts:
        assert part in error, error
    assert report["sources"]["good"]["error"] is None
    pd.testing.assert_frame_equal(_good_rows(out), baseline)
    return error


def test_link_to_a_file_outside_the_raw_folder_is_refused(tmp_path, baseline):
    """A symlink in the delivery to a file beside the raw folder is refused, never read."""
    secret = _secret_file(tmp_path)
    raw = _raw(tmp_path, lambda raw: (raw / "bad" / "data.csv").symlink_to(secret))
    proc = _clean(raw, tmp_path / "out")
    error = _check_refused(
        proc, tmp_path / "out", baseline, "bad/data.csv", "outside the raw folder"
    )
    assert "UnsafePath" not in error
    assert SECRET not in _outputs_text(tmp_path / "out")
    assert SECRET not in proc.stdout + proc.stderr


def test_link_to_a_folder_outside_the_raw_folder_is_refused(tmp_path, baseline):
    """A symlinked folder leading out of the raw folder is refused as well."""
    secret = _secret_file(tmp_path)
    raw = _raw(tmp_path, lambda raw: (raw / "bad" / "sub").symlink_to(secret.parent))
    (raw / "_sources" / "bad.toml").write_text(
        (raw / "_sources" / "bad.toml").read_text().replace('"bad/*"', '"bad/*/*.csv"')
    )
    proc = _clean(raw, tmp_path / "out")
    _check_refused(proc, tmp_path / "out", baseline, "bad/sub/secret.csv", "outside")
    assert SECRET not in _outputs_text(tmp_path / "out")


def test_weighing_sources_for_workers_survives_a_refused_link(tmp_path, monkeypatch):
    """With several workers the sources are weighed first; a refused link stays that
    source's error instead of ending the clean."""
    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("RA_SOURCES_DIR", raising=False)
    secret = _secret_file(tmp_path)
    raw = _raw(tmp_path, lambda raw: (raw / "bad" / "data.csv").symlink_to(secret))
    result = run_clean(raw, tmp_path / "out", jobs=2)
    assert result.ok is False
    assert "outside the raw folder" in result.report["sources"]["bad"]["error"]
    assert result.report["sources"]["good"]["rows_clean"] == 3


@pytest.mark.parametrize(
    "glob", ["../outside/*.csv", "bad/../../outside/*.csv", "/etc/passwd", "/etc/*"]
)
def test_description_globs_out_of_the_raw_folder_fail_only_that_source(
    tmp_path, baseline, glob
):
    """'..' and absolute globs are refused for their source; the others are cleaned."""
    _secret_file(tmp_path)
    raw = _raw(tmp_path, lambda raw: None)
    toml = raw / "_sources" / "bad.toml"
    toml.write_text(toml.read_text().replace('"bad/*"', f'"{glob}"'))
    proc = _clean(raw, tmp_path / "out")
    error = _check_refused(proc, tmp_path / "out", baseline, "inside the raw folder")
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output and "files' pattern" in error
    assert SECRET not in output and "root:" not in output
    assert SECRET not in _outputs_text(tmp_path / "out")


@pytest.mark.parametrize("glob", ["../outside/*.csv", "/etc/passwd", ""])
def test_find_files_refuses_globs_out_of_the_folder_itself(tmp_path, glob):
    """Defence in depth: a table spec made without the parser is refused too."""
    (tmp_path / "raw").mkdir()
    spec = TableSpec("subprojects", (glob,), {"year": "År"})
    with pytest.raises(UnsafePathError, match="inside the raw folder"):
        find_files(tmp_path / "raw", spec)


def _xlsx(path: Path, sheet_xml: str, shared_chunks=None) -> None:
    rels = f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    rels += f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{_REL}"><sheets><sheet name="Deltagare" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{pkg}">{rels}</Relationships>',
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        with z.open("xl/sharedStrings.xml", "w") as part:
            for chunk in shared_chunks or [f'<sst xmlns="{MAIN}"/>'.encode()]:
                part.write(chunk)


_HEADER_ROW = "".join(
    f'<c r="{c}1" t="inlineStr"><is><t>{h}</t></is></c>'
    for c, h in zip("ABC", ("Personnummer", "Startdatum", "Slutdatum"), strict=True)
)


def _last_cell_workbook(raw: Path) -> None:
    sheet = (
        f'<worksheet xmlns="{MAIN}"><dimension ref="A1:XFD1048576"/><sheetData>'
        f'<row r="1">{_HEADER_ROW}</row><row r="1048576"><c r="XFD1048576" '
        't="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>'
    )
    _xlsx(raw / "bad" / "bomb.xlsx", sheet)


def _shared_string_bomb(raw: Path) -> None:
    sheet = (
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{_HEADER_ROW}</row>'
        '<row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData></worksheet>'
    )
    head = f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode()
    chunks = [head, *[b"x" * 2**20] * 200, b"</t></si></sst>"]
    _xlsx(raw / "bad" / "strings.xlsx", sheet, chunks)
    assert (raw / "bad" / "strings.xlsx").stat().st_size < 2**20


def _long_csv_line(raw: Path) -> None:
    data = (
        b"Personnummer;Startdatum;Slutdatum\n19900101-2384;"
        + b"y" * 50_000_000
        + b";\n"
    )
    (raw / "bad" / "line.csv").write_bytes(data)


def _ods_repeats(raw: Path) -> None:
    filled = (
        '<table:table-cell office:value-type="float" office:value="1" '
        'table:number-columns-repeated="3000"/>'
    )
    content = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
        'office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
        '<office:spreadsheet><table:table table:name="Deltagare">'
        f'<table:table-row table:number-rows-repeated="10000">{filled}</table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(raw / "bad" / "repeats.ods", "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)


@pytest.mark.parametrize(
    ("build", "parts"),
    [
        (
            _last_cell_workbook,
            ("bomb.xlsx", "columns", "16,384", "RA_MAX_SHEET_COLUMNS"),
        ),
        (
            _shared_string_bomb,
            ("strings.xlsx", "compression ratio", "RA_MAX_ZIP_RATIO"),
        ),
        (_long_csv_line, ("line.csv", "row 2", "characters", "RA_MAX_CELL_CHARS")),
        (_ods_repeats, ("repeats.ods", "columns", "3,000", "RA_MAX_SHEET_COLUMNS")),
    ],
    ids=["cell-XFD1048576", "shared-string-200MB", "csv-line-50MB", "ods-repeats"],
)
def test_crafted_file_is_refused_within_memory_bound(tmp_path, baseline, build, parts):
    """Under a 1.5 GiB address-space bound the crafted file gets its named limit error,
    and the good source beside it is cleaned exactly as on its own."""
    raw = _raw(tmp_path, build)
    proc = _clean(raw, tmp_path / "out")
    error = _check_refused(proc, tmp_path / "out", baseline, *parts, "too big to read")
    assert len(error) < 1000
    assert "yyyyyyyyyy" not in _outputs_text(tmp_path / "out")
