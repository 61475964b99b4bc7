"""Reading limits: crafted files are refused before the readers allocate, with a named error."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from rehab_analytics.config import LIMIT_ENV, limits
from rehab_analytics.errors import ConfigError, LimitError, MissingColumnError
from rehab_analytics.ingest import read_grid, read_sheet, read_table_file
from rehab_analytics.ingest.extent import sheet_extent
from rehab_analytics.sources import TableSpec

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def xlsx(
    path: Path,
    sheet_xml: str,
    shared: str | Iterable[bytes] | None = None,
    level: int = 6,
) -> Path:
    """Write a minimal xlsx with one sheet "Deltagare" (and shared strings, which
    may be given as chunks that are streamed into the part)."""
    rels = f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    if shared is not None:
        rels += f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-'
            'package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/></Types>'
        ),
        "_rels/.rels": f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{_REL}"><sheets><sheet '
        'name="Deltagare" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_PKG}">{rels}</Relationships>',
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, text in parts.items():
            z.writestr(name, text)
        if isinstance(shared, str):
            z.writestr("xl/sharedStrings.xml", shared)
        elif shared is not None:
            with z.open("xl/sharedStrings.xml", "w") as part:
                for chunk in shared:
                    part.write(chunk)
    return path


def sheet(body: str, dimension: str | None = None) -> str:
    """Return worksheet XML around ``body`` (rows), with an optional dimension."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<worksheet xmlns="{MAIN}">{dim}<sheetData>{body}</sheetData></worksheet>'


def cell(ref: str, text: str = "x", tag: str = "c") -> str:
    """Return an inline-string cell."""
    return f'<{tag} r="{ref}" t="inlineStr"><is><t>{text}</t></is></{tag}>'


HEADER = f'<row r="1">{cell("A1", "Personnummer")}{cell("B1", "Startdatum")}</row>'
SPEC = TableSpec(
    "participants",
    ("x",),
    {"personnummer": "Personnummer", "start_date": "Startdatum"},
    required=("personnummer", "start_date"),
)


def _refused(path: Path, key: str, found: str) -> LimitError:
    with pytest.raises(LimitError) as info:
        read_table_file(path, SPEC, display=path.name)
    message = str(info.value)
    assert LIMIT_ENV[key] in message, message
    assert f"is {found};" in message, message
    assert f"the limit is {getattr(limits(), key):,}" in message, message
    assert message.startswith(path.name), message
    return info.value


@pytest.mark.parametrize(
    ("body", "dimension"),
    [
        (cell("XFD1048576"), "A1:XFD1048576"),  # one cell at the last row and column
        (cell("XFD1048576"), None),  # no dimension
        (cell("XFD1048576"), "A1:B2"),  # a dimension that lies
        (
            '<row r="2"><c r="B2" r="XFD1048576" t="inlineStr"><is><t>y</t></is></c></row>',
            None,
        ),
        (f'<row r="2">{cell("XFD1048576", tag="q:c")}</row>', None),  # any prefix
        (
            '<row r="2"><c  r = \'XFD1048576\' t="inlineStr"><is><t>y</t></is></c></row>',
            None,
        ),
    ],
    ids=[
        "dimension",
        "no-dimension",
        "lying-dimension",
        "duplicate-r",
        "prefix",
        "quotes",
    ],
)
def test_cell_at_the_last_column_is_refused_before_allocation(
    tmp_path, body, dimension
):
    """A cell at XFD1048576, however it is written, is refused (calamine would abort)."""
    if not body.startswith("<row"):
        body = f'<row r="1048576">{body}</row>'
    path = xlsx(tmp_path / "bomb.xlsx", sheet(HEADER + body, dimension))
    error = _refused(path, "sheet_columns", "16,384")
    assert error.sheet == "Deltagare"


def test_cells_without_references_are_placed_and_counted(tmp_path, monkeypatch):
    """Cells without r follow each other, so 1,500 of them in a row are 1,500 columns."""
    row = "<row>" + cell("A2").replace(' r="A2"', "") * 1500 + "</row>"
    path = xlsx(tmp_path / "wide.xlsx", sheet(HEADER + row))
    _refused(path, "sheet_columns", "1,500")
    monkeypatch.setenv("RA_MAX_SHEET_COLUMNS", "2000")
    columns, _, _ = read_grid(path, "Deltagare")
    assert len(columns) == 1500


def test_rows_times_columns_over_the_cell_limit(tmp_path, monkeypatch):
    """The grid counts from A1 to the last filled cell: rows × columns."""
    monkeypatch.setenv("RA_MAX_SHEET_CELLS", "1000")
    path = xlsx(
        tmp_path / "tall.xlsx", sheet(HEADER + f'<row r="600">{cell("B600")}</row>')
    )
    error = _refused(path, "sheet_cells", "1,200")
    assert "600 rows × 2 columns" in str(error)


def test_empty_formatted_cells_far_away_do_not_count(tmp_path):
    """Styled cells without a value (Excel's overshooting used range) are not refused."""
    far = '<row r="1048576"><c r="XFD1048576" s="1"/></row>'
    path = xlsx(tmp_path / "styled.xlsx", sheet(HEADER + far, "A1:XFD1048576"))
    columns, _, _ = read_grid(path, "Deltagare")
    assert [len(c) for c in columns] == [1, 1]


def test_sheet_extent_fast_bound_and_exact_count_agree():
    """The byte scan finds the last filled cell whether the sheet is canonical or not."""
    canonical = (
        f'<row r="1">{cell("A1")}{cell("C1")}</row><row r="7">{cell("B7")}</row>'
    )
    loose = canonical.replace('<c r="C1"', "<c  r='C1'")
    for part in (canonical, loose):
        data = sheet(part).encode()
        assert sheet_extent(data, "xlsx", "S", lambda r, c: r * c > 4)[1:] == (7, 3)


def test_shared_string_bomb_of_real_size_is_refused_quickly(tmp_path):
    """200 MB of one character in a ~200 KiB file is refused by its compression ratio."""
    head = f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode()
    chunks = [head, *[b"x" * 2**20] * 200, b"</t></si></sst>"]
    path = xlsx(tmp_path / "strings.xlsx", sheet(HEADER), shared=chunks)
    assert path.stat().st_size < 2**20
    started = time.perf_counter()
    with pytest.raises(LimitError, match="compression ratio .*RA_MAX_ZIP_RATIO"):
        read_table_file(path, SPEC, display="strings.xlsx")
    assert time.perf_counter() - started < 5


def test_long_shared_string_under_the_ratio_is_refused_by_its_length(
    tmp_path, monkeypatch
):
    """A text past the cell limit is refused from the raw bytes, before calamine opens it."""
    monkeypatch.setenv("RA_MAX_CELL_CHARS", "1000")
    shared = f'<sst xmlns="{MAIN}"><si><t>{"ab" * 6000}</t></si></sst>'
    body = '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
    path = xlsx(tmp_path / "long.xlsx", sheet(HEADER + body), shared=shared)
    _refused(path, "cell_chars", "1,200")


def test_cell_over_the_character_limit_names_row_and_column(tmp_path, monkeypatch):
    """A cell a little past the limit is found after reading, with its row and column."""
    monkeypatch.setenv("RA_MAX_CELL_CHARS", "100")
    body = f'<row r="3">{cell("A3", "640823-3234")}{cell("B3", "z" * 150)}</row>'
    path = xlsx(tmp_path / "cell.xlsx", sheet(HEADER + body))
    error = _refused(path, "cell_chars", "150")
    assert (error.row, error.column) == (3, "B")


def test_part_size_and_part_count_limits(tmp_path, monkeypatch):
    """A part unpacking past RA_MAX_PART_BYTES, or too many parts, refuses the file."""
    path = xlsx(tmp_path / "parts.xlsx", sheet(HEADER), level=1)
    first = zipfile.ZipFile(path).infolist()[0]
    monkeypatch.setenv("RA_MAX_PART_BYTES", "100")
    error = _refused(path, "part_bytes", str(first.file_size))
    assert f"part '{first.filename}'" in str(error)
    monkeypatch.delenv("RA_MAX_PART_BYTES")
    monkeypatch.setenv("RA_MAX_ZIP_PARTS", "3")
    _refused(path, "zip_parts", "5")


def test_file_size_limit_applies_to_every_format(tmp_path, monkeypatch):
    """A file bigger than RA_MAX_FILE_BYTES is refused whatever it contains."""
    path = tmp_path / "big.csv"
    path.write_text("Personnummer;Startdatum\n" + "640823-3234;2017-01-02\n" * 100)
    monkeypatch.setenv("RA_MAX_FILE_BYTES", "1000")
    _refused(path, "file_bytes", f"{path.stat().st_size:,}")


def test_csv_line_of_50_mb_is_refused_before_parsing(tmp_path):
    """One 50 MB line is refused from its length, quickly, naming its line."""
    path = tmp_path / "line.csv"
    path.write_bytes(
        b"Personnummer;Startdatum\n640823-3234;" + b"y" * 50_000_000 + b"\n"
    )
    started = time.perf_counter()
    error = _refused(path, "cell_chars", "25,000,006")
    assert error.row == 2
    assert time.perf_counter() - started < 5


def test_csv_field_past_the_limit_within_a_wide_line(tmp_path, monkeypatch):
    """A long field in a line that is not long for its width is found after parsing."""
    monkeypatch.setenv("RA_MAX_CELL_CHARS", "50")
    path = tmp_path / "field.csv"
    path.write_text(f"Personnummer;Startdatum;A;B;C\n640823-3234;{'q' * 60};;;\n")
    error = _refused(path, "cell_chars", "60")
    assert (error.row, error.column) == (2, "B")


def test_csv_columns_limit(tmp_path, monkeypatch):
    """A line with more delimiters than RA_MAX_SHEET_COLUMNS allows is refused."""
    monkeypatch.setenv("RA_MAX_SHEET_COLUMNS", "10")
    path = tmp_path / "wide.csv"
    path.write_text("Personnummer;Startdatum\n" + ";" * 20 + "\n")
    _refused(path, "sheet_columns", "21")


def _ods(path: Path, rows: str) -> Path:
    content = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
        'office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
        f'<office:spreadsheet><table:table table:name="Deltagare">{rows}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
        'manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest)
    return path


def _ods_cell(text: str, repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return (
        f'<table:table-cell office:value-type="string"{rep}><text:p>{text}</text:p>'
        "</table:table-cell>"
    )


ODS_HEADER = f"<table:table-row>{_ods_cell('Personnummer')}{_ods_cell('Startdatum')}</table:table-row>"


def test_ods_repeated_cells_are_counted_before_opening(tmp_path):
    """ODS repeats multiply: 10,000 rows × 3,000 filled columns is refused up front."""
    rows = f'<table:table-row table:number-rows-repeated="10000">{_ods_cell("1", 3000)}</table:table-row>'
    _refused(_ods(tmp_path / "rep.ods", ODS_HEADER + rows), "sheet_columns", "3,000")


def test_ods_trailing_empty_repeats_are_not_counted(tmp_path):
    """LibreOffice's trailing empty rows and cells (to row 1,048,576) are read normally."""
    data = f"<table:table-row>{_ods_cell('640823-3234')}{_ods_cell('2017-01-02')}"
    rows = (
        data
        + '<table:table-cell table:number-columns-repeated="1022"/></table:table-row>'
        '<table:table-row table:number-rows-repeated="1048574">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    raw = read_sheet(_ods(tmp_path / "ok.ods", ODS_HEADER + rows), SPEC, "Deltagare")
    assert raw.data.index.tolist() == [2]


def test_limits_come_from_the_environment_and_bad_values_are_named(monkeypatch):
    """Each limit has an RA_MAX_* variable; a value that is not a whole number is refused."""
    monkeypatch.setenv("RA_MAX_SHEET_CELLS", "5_000")
    assert limits().sheet_cells == 5000
    monkeypatch.setenv("RA_MAX_ZIP_RATIO", "lots")
    with pytest.raises(ConfigError, match="RA_MAX_ZIP_RATIO is 'lots'"):
        limits()


def test_missing_column_message_quotes_short_escaped_headers(tmp_path):
    """The found headers are quoted at most ten, each cut and with control characters escaped."""
    headers = ["Pnr\x1b[31m", "y" * 300, *[f"H{i}" for i in range(20)]]
    path = tmp_path / "h.csv"
    path.write_text(";".join(headers) + "\n" + ";" * (len(headers) - 1) + "1\n")
    with pytest.raises(MissingColumnError) as info:
        read_sheet(path, SPEC)
    message = str(info.value)
    assert "'Pnr\\x1b[31m'" in message and "\x1b" not in message
    assert "y" * 61 not in message and "(300 characters)" in message
    assert "and 12 more" in message


def _zip_with(tmp_path, name: str, patch) -> object:
    import io
    import zipfile as zf

    buffer = io.BytesIO()
    with zf.ZipFile(buffer, "w", zf.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>" * 200)
        archive.writestr("xl/workbook.xml", "<workbook/>" * 200)
    path = tmp_path / name
    path.write_bytes(patch(buffer.getvalue()))
    return path


def test_a_zip_of_an_unsupported_version_is_a_named_input_error(tmp_path) -> None:
    """zipfile raises NotImplementedError for version 6.4: it must not escape."""
    from rehab_analytics.errors import InputFileError
    from rehab_analytics.ingest.formats import sniff_format

    def version_64(data: bytes) -> bytes:
        out = bytearray(data)
        start = out.find(b"PK\x01\x02")
        out[start + 6] = 64  # version needed to extract
        return bytes(out)

    path = _zip_with(tmp_path, "odd.xlsx", version_64)
    with pytest.raises(InputFileError, match="corrupt or truncated"):
        sniff_format(path, display="odd.xlsx")


def test_a_damaged_deflate_stream_is_a_named_input_error(tmp_path) -> None:
    """A corrupt compressed part raises zlib.error inside zipfile: it must not escape."""
    import zipfile as zf

    from rehab_analytics.errors import InputFileError
    from rehab_analytics.ingest.limits import _read_part

    def scramble(data: bytes) -> bytes:
        out = bytearray(data)
        start = out.find(b"xl/workbook.xml") + len("xl/workbook.xml")
        for i in range(start + 2, start + 12):
            out[i] ^= 0xFF
        return bytes(out)

    path = _zip_with(tmp_path, "broken.xlsx", scramble)
    with zf.ZipFile(path) as archive, pytest.raises(InputFileError, match="damaged"):
        _read_part(archive, "xl/workbook.xml", "broken.xlsx")
