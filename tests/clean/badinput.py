"""Hostile-input corpus: builders of bad raw deliveries and the outcome each must have.

Every case writes its file(s) into a raw folder that also holds one tiny valid CSV
source ("good"), so a test can check that one bad delivery never stops the others.
All values are synthetic: ids are generated here with a valid (or deliberately
broken) Luhn check digit and no names or addresses appear.

The raw folder of a case (see :func:`make_raw`):

- ``_sources/<built-in>.toml``: empty, so the built-in förbund descriptions are
  switched off (they would only report their missing files);
- ``_sources/good.toml`` + ``good/good.csv``: three valid episodes;
- ``_sources/bad.toml``: a participants source reading every file under ``bad/``
  (:data:`BAD_TOML`; a case may overwrite it);
- ``bad/…``: the hostile file(s).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
from openpyxl.styles import PatternFill

from rehab_analytics.config import BUILTIN_SOURCES_DIR
from rehab_analytics.identity import luhn_digit

__all__ = [
    "BAD_TOML",
    "GOOD_TOML",
    "GOOD_ROWS",
    "HEADER",
    "Problem",
    "Expect",
    "Case",
    "CASES",
    "pnr",
    "make_raw",
    "write_xlsx",
    "write_csv",
    "write_big_xlsx",
]

HEADER = ["Personnummer", "Kön", "Startdatum", "Slutdatum", "Utbildning", "Namn"]

GOOD_TOML = """\
[organisation]
forbund = "goodfb"
forbund_name = "Testförbundet Gott"
subproject = "goodsp"
subproject_name = "Gott delprojekt"

[[tables]]
kind = "participants"
files = ["good/*.csv"]

[tables.columns]
personnummer = "Personnummer"
start_date = "Startdatum"
end_date = "Slutdatum"
"""

BAD_TOML = """\
[organisation]
forbund = "badfb"
forbund_name = "Testförbundet Ont"
subproject = "badsp"
subproject_name = "Ont delprojekt"

[[tables]]
kind = "participants"
files = ["bad/*"]
excel_serial_dates = true
{extra}
[tables.columns]
personnummer = "Personnummer"
sex = "Kön"
start_date = "Startdatum"
end_date = "Slutdatum"
education = "Utbildning"
municipality = "Kommun"
"""


def pnr(birth: str, serial: str = "238", *, sep: str = "", century: bool = True) -> str:
    """Return a Luhn-valid id for ``birth`` (YYYYMMDD) and a 3-digit serial.

    Example:
        >>> pnr("19640823", "323", sep="-", century=False)
        '640823-3234'
    """
    check = luhn_digit(birth[2:] + serial)
    head = birth if century else birth[2:]
    return f"{head}{sep}{serial}{check}"


def _bad_luhn(birth: str, serial: str = "238") -> str:
    good = pnr(birth, serial)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


# Three valid episodes of the good source (ages 27–37 at start).
GOOD_ROWS = [
    ["Personnummer", "Startdatum", "Slutdatum"],
    [pnr("19900101", "238"), "2017-01-10", "2017-06-30"],
    [pnr("19851212", "246"), "2017-03-01", ""],
    [pnr("19800505", "252"), "2016-11-15", "2017-11-14"],
]
# Person of the good source also delivered by the bad source (another subproject).
SHARED_ID = GOOD_ROWS[1][0]

P1 = pnr("19920315", "385")  # a man (odd 9th digit)
P2 = pnr("19950620", "122")  # a woman
P3 = pnr("19881130", "573")


@dataclass(frozen=True)
class Problem:
    """One expected row of the rejects table of the bad source."""

    row: int
    column: str
    status: str
    reason: str
    file: str | None = None  # relative to the raw folder; None: any file


@dataclass(frozen=True)
class Expect:
    """The outcome of one case for the bad source.

    Attributes:
        error: Substrings the source's error must contain (empty: no error).
        rows_read: Rows read over all files (None: not checked).
        rows_clean: Clean rows (None: not checked).
        problems: Rejects-table rows that must be present.
        only_problems: When true, no other problems may be listed.
        notes: Substrings that must appear in the source's notes.
        blank_rows: Blank rows reported (None: not checked).
        check: Extra check, called with (raw folder, out folder, report).
    """

    error: tuple[str, ...] = ()
    rows_read: int | None = None
    rows_clean: int | None = None
    problems: tuple[Problem, ...] = ()
    only_problems: bool = False
    notes: tuple[str, ...] = ()
    blank_rows: int | None = None
    check: Callable[[Path, Path, dict], None] | None = None


@dataclass(frozen=True)
class Case:
    """One hostile input: an id, what it is, how to build it, what must happen."""

    id: str
    description: str
    build: Callable[[Path], None]
    expect: Expect
    slow: bool = False


# --- writers -----------------------------------------------------------------


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[object]],
    sheet: str = "Deltagare",
    *,
    extra_sheets: Sequence[tuple[str, Sequence[Sequence[object]]]] = (),
    text_cells: Sequence[tuple[int, int, str]] = (),
    merge: Sequence[str] = (),
) -> Path:
    """Write rows to an xlsx with openpyxl (strings starting '=' become formulas).

    ``text_cells`` are (row, column, text) written as text even if they start
    with '='.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(list(row))
    for r, c, text in text_cells:
        cell = ws.cell(row=r, column=c)
        cell.value = text
        cell.data_type = "s"
    for ref in merge:
        ws.merge_cells(ref)
    for name, more in extra_sheets:
        other = wb.create_sheet(name)
        for row in more:
            other.append(list(row))
    wb.save(path)
    return path


def write_csv(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ";",
    bom: bool = False,
) -> Path:
    """Write rows as delimited text in ``encoding`` (optionally with a UTF-8 BOM)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    data = buf.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def _col(j: int) -> str:
    name = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        name = chr(65 + rem) + name
    return name


def write_big_xlsx(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]
) -> Path:
    """Write a minimal but valid xlsx quickly (inline strings, numbers as numbers).

    openpyxl needs about a minute for 10^6 cells; building the sheet XML directly
    takes a second or two.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    letters = [_col(j) for j in range(len(header))]

    def cell(ref: str, value: object) -> str:
        if isinstance(value, int | float):
            return f'<c r="{ref}"><v>{value}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'

    parts = []
    for i, row in enumerate([header, *rows], start=1):
        cells = "".join(
            cell(f"{letters[j]}{i}", v) for j, v in enumerate(row) if v is not None
        )
        parts.append(f'<row r="{i}">{cells}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<worksheet xmlns="{main}"><sheetData>{"".join(parts)}</sheetData></worksheet>'
    )
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-'
            'package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
            '.org/officeDocument/2006/relationships/officeDocument" Target='
            '"xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="Deltagare" '
            f'sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
            '.org/officeDocument/2006/relationships/worksheet" Target='
            '"worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def make_raw(root: Path, case: Case) -> Path:
    """Build the raw folder of ``case`` under ``root`` and return it."""
    raw = root / "raw"
    sources = raw / "_sources"
    sources.mkdir(parents=True)
    for builtin in sorted(BUILTIN_SOURCES_DIR.glob("*.toml")):
        (sources / builtin.name).write_text("# switched off for this test\n")
    (sources / "good.toml").write_text(GOOD_TOML, encoding="utf-8")
    (sources / "bad.toml").write_text(BAD_TOML.format(extra=""), encoding="utf-8")
    write_csv(raw / "good" / "good.csv", GOOD_ROWS)
    (raw / "bad").mkdir()
    case.build(raw)
    return raw


def _bad_toml(raw: Path, extra: str) -> None:
    (raw / "_sources" / "bad.toml").write_text(
        BAD_TOML.format(extra=extra), encoding="utf-8"
    )


def _valid_xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Deltagare"
    for row in _rows([P1, "Man", "2017-01-02", "", "Gymnasial", "x"]):
        ws.append(row)
    wb.save(buf)
    return buf.getvalue()


def _rows(*data: Sequence[object]) -> list[list[object]]:
    return [list(HEADER), *[list(r) for r in data]]


# --- builders ----------------------------------------------------------------
# Each returns a builder writing into the raw folder; names say what they write.


def _xlsx(*data: Sequence[object], name: str = "bad/data.xlsx", **kw) -> Callable:
    return lambda raw: write_xlsx(raw / name, _rows(*data), **kw)


def _csv(*data: Sequence[object], name: str = "bad/data.csv", **kw) -> Callable:
    return lambda raw: write_csv(raw / name, _rows(*data), **kw)


def _bytes(data: bytes, name: str) -> Callable:
    def build(raw: Path) -> None:
        (raw / name).write_bytes(data)

    return build


def _both(*builders: Callable) -> Callable:
    def build(raw: Path) -> None:
        for b in builders:
            b(raw)

    return build


def _encrypted_xlsx(raw: Path) -> None:
    import msoffcrypto
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO(_valid_xlsx_bytes())
    out = io.BytesIO()
    OOXMLFile(plain).encrypt("hemligt", out)
    (raw / "bad" / "locked.xlsx").write_bytes(out.getvalue())
    assert msoffcrypto.OfficeFile(io.BytesIO(out.getvalue())).is_encrypted()


def _truncated_xlsx(raw: Path) -> None:
    data = _valid_xlsx_bytes()
    (raw / "bad" / "cut.xlsx").write_bytes(data[: len(data) // 2])


def _real_xls_named_xlsx(raw: Path) -> None:
    # An OLE2 workbook that is not encrypted: a genuine .xls saved as .xlsx.
    # No xls writer is installed, so use a public xls shipped with statsmodels
    # (macro-economic series, no personal data).
    import statsmodels

    found = sorted(Path(statsmodels.__file__).parent.rglob("macrodata.xls"))
    found = [p for p in found if p.is_file()]
    if not found:  # pragma: no cover - depends on the installed package
        import pytest

        pytest.skip("no .xls fixture available")
    (raw / "bad" / "old.xlsx").write_bytes(found[0].read_bytes())


def _empty_first_sheet(raw: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Deltagare"
    wb.create_sheet("Anteckningar").append(["nothing here"])
    wb.save(raw / "bad" / "empty_sheet.xlsx")


def _trailing_empty_rows(raw: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Deltagare"
    for row in _rows(
        [P1, "Man", "2017-01-02", "", "Gymnasial", "a"],
        [P2, "Kvinna", "2017-02-03", "", "", "b"],
    ):
        ws.append(row)
    fill = PatternFill("solid", fgColor="FFFF00")
    # Formatted but empty rows, then cells holding only spaces: Excel's used
    # range then reaches row 5003.
    for r in range(4, 5004):
        ws.cell(row=r, column=3).fill = fill
    for r in range(4, 5004, 50):
        ws.cell(row=r, column=5).value = "  "
    wb.save(raw / "bad" / "trailing.xlsx")


def _merged_data_cells(raw: Path) -> None:
    write_xlsx(
        raw / "bad" / "merged.xlsx",
        _rows(
            [P1, "Man", "2017-01-02", "", "Gymnasial", "a"],
            [P2, "Kvinna", "", "", "Gymnasial", "b"],
            [P3, "Man", "", "", "Gymnasial", "c"],
        ),
        merge=["C2:C4"],
    )


def _duplicate_two_files(raw: Path) -> None:
    write_csv(raw / "bad" / "a_first.csv", _rows([P1, "M", "2017-01-02", "", "", ""]))
    write_csv(
        raw / "bad" / "b_again.csv",
        _rows([P1, "M", "2017-01-02", "", "", ""], [P2, "K", "2017-01-02", "", "", ""]),
    )


def _same_person_two_subprojects(raw: Path) -> None:
    write_csv(
        raw / "bad" / "data.csv", _rows([SHARED_ID, "", "2017-05-01", "", "", ""])
    )


def _random_binary(raw: Path) -> None:
    rng = random.Random(7)
    data = bytes(rng.randrange(256) for _ in range(3000))
    (raw / "bad" / "noise.csv").write_bytes(b"\x00\x01" + data)


def _big_sheet(raw: Path) -> None:
    # Unique ids (birth date x serial); every 1000th episode ends before it starts.
    edu = ("Förgymnasial", "Gymnasial", "Eftergymnasial", "")
    first = dt.date(1970, 1, 1)
    rows = []
    for i in range(200_000):
        birth = (first + dt.timedelta(days=(i // 1000) * 37)).strftime("%Y%m%d")
        begin = dt.date(2016, 1, 1) + dt.timedelta(days=i % 900)
        end = begin + dt.timedelta(days=-5 if i % 1000 == 999 else 120)
        rows.append(
            [
                pnr(birth, f"{i % 1000:03d}"),
                "",
                begin.isoformat(),
                "" if i % 3 else end.isoformat(),
                edu[i % 4],
            ]
        )
    write_big_xlsx(raw / "bad" / "big.xlsx", HEADER[:5], rows)


# --- expectations helpers -------------------------------------------------------


def _rej(row: int, column: str, reason: str, file: str | None = None) -> Problem:
    return Problem(row, column, "rejected", reason, file)


def _warn(row: int, column: str, reason: str, file: str | None = None) -> Problem:
    return Problem(row, column, "warning", reason, file)


def _participants(out: Path):
    import pandas as pd

    df = pd.read_parquet(out / "participants.parquet")
    return df[df["subproject"] == "badsp"].reset_index(drop=True)


def _check_dates(expected: list[str]) -> Callable:
    def check(raw: Path, out: Path, report: dict) -> None:
        got = [d.date().isoformat() for d in _participants(out)["start_date"]]
        assert got == expected

    return check


def _check_column(column: str, expected: list) -> Callable:
    def check(raw: Path, out: Path, report: dict) -> None:
        got = _participants(out)[column].astype(object).where(lambda s: s.notna(), None)
        assert got.tolist() == expected

    return check


def _check_shared_person(raw: Path, out: Path, report: dict) -> None:
    import pandas as pd

    df = pd.read_parquet(out / "participants.parquet")
    bad = df[df["subproject"] == "badsp"]
    good = df[df["subproject"] == "goodsp"]
    assert len(bad) == 1
    key = bad["participant_key"].iloc[0]
    assert key in set(good["participant_key"])
    assert df["episode_id"].is_unique


def _check_rejects_csv_safe(raw: Path, out: Path, report: dict) -> None:
    text = (out / "rejects.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    cells = [c for r in rows[1:] for c in r]
    assert any("1+1" in c for c in cells), "the '=' text is listed as a problem"
    assert not [c for c in cells if c.startswith(("=", "+", "@"))], cells


def _assert_equal(got: object, expected: object) -> None:
    assert got == expected, (got, expected)


CASES: list[Case] = [
    # --- files that cannot be read at all ---------------------------------------
    Case(
        "zero_byte_xlsx",
        "an .xlsx of 0 bytes (cut off when copied)",
        _bytes(b"", "bad/empty.xlsx"),
        Expect(error=("bad/empty.xlsx", "0 bytes")),
    ),
    Case(
        "zero_byte_csv",
        "a .csv of 0 bytes",
        _bytes(b"", "bad/empty.csv"),
        Expect(error=("bad/empty.csv", "0 bytes")),
    ),
    Case(
        "empty_text_file",
        "a .csv holding only blank lines and separators",
        _bytes(b"\n\n;;;\n  \n", "bad/blank.csv"),
        Expect(error=("bad/blank.csv", "empty")),
    ),
    Case(
        "truncated_xlsx",
        "the first half of a valid xlsx",
        _truncated_xlsx,
        Expect(error=("bad/cut.xlsx", "corrupt or truncated")),
    ),
    Case(
        "zip_garbage_xlsx",
        "a zip signature followed by noise, named .xlsx",
        _bytes(b"PK\x03\x04" + bytes(range(256)) * 4, "bad/broken.xlsx"),
        Expect(error=("bad/broken.xlsx", "corrupt")),
    ),
    Case(
        "encrypted_xlsx",
        "an xlsx encrypted with a password (msoffcrypto-tool)",
        _encrypted_xlsx,
        Expect(error=("bad/locked.xlsx", "password-protected")),
    ),
    Case(
        "ole2_garbage_xls",
        "an OLE2 signature followed by noise, named .xls",
        _bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00\xff" * 600, "bad/old.xls"),
        Expect(error=("bad/old.xls", "could not be read")),
    ),
    Case(
        "random_binary_csv",
        "random bytes named .csv",
        _random_binary,
        Expect(error=("bad/noise.csv", "not a spreadsheet")),
    ),
    Case(
        "xls_named_xlsx",
        "a genuine (unencrypted) .xls workbook renamed to .xlsx",
        _real_xls_named_xlsx,
        Expect(error=("bad/old.xlsx", "missing column", "Found columns")),
    ),
    Case(
        "csv_named_xlsx",
        "semicolon text saved with an .xlsx extension",
        _csv([P1, "M", "2017-01-02", "", "Gymnasial", ""], name="bad/text.xlsx"),
        Expect(rows_read=1, rows_clean=1, notes=("named .xlsx but contains csv",)),
    ),
    Case(
        "xlsx_named_csv",
        "an xlsx workbook saved with a .csv extension",
        _xlsx([P1, "M", "2017-01-02", "", "Gymnasial", ""], name="bad/book.csv"),
        Expect(rows_read=1, rows_clean=1, notes=("named .csv but contains xlsx",)),
    ),
    # --- sheets without a table -------------------------------------------------
    Case(
        "empty_sheet",
        "the first (selected) sheet of the workbook is empty",
        _empty_first_sheet,
        Expect(error=("bad/empty_sheet.xlsx", "sheet 'Deltagare'", "empty")),
    ),
    Case(
        "no_matching_sheet",
        "the description asks for sheet 'Deltagare' but the workbook has 'Blad1'",
        _both(
            lambda raw: _bad_toml(raw, 'sheets = ["Deltagare"]'),
            _xlsx([P1, "M", "2017-01-02", "", "", ""], sheet="Blad1"),
        ),
        Expect(error=("bad/data.xlsx", "no sheet matches", "'Blad1'")),
    ),
    Case(
        "header_only_xlsx",
        "a workbook with the header row and nothing below",
        _xlsx(),
        Expect(error=("bad/data.xlsx", "sheet 'Deltagare'", "no data rows")),
    ),
    Case(
        "header_only_csv",
        "a text file with the header line only",
        _csv(),
        Expect(error=("bad/data.csv", "no data rows")),
    ),
    Case(
        "header_row_beyond_end",
        "header_row = 40 in a file with two rows",
        _both(
            lambda raw: _bad_toml(raw, "header_row = 40"),
            _csv([P1, "M", "2017-01-02", "", "", ""]),
        ),
        Expect(error=("bad/data.csv", "header is expected in row 40")),
    ),
    # --- columns -------------------------------------------------------------------
    Case(
        "required_column_missing",
        "no 'Startdatum' column; the message lists the columns found",
        lambda raw: write_csv(
            raw / "bad" / "data.csv",
            [["Personnummer", "Kön", "Start"], [P1, "M", "2017-01-02"]],
        ),
        Expect(
            error=(
                "bad/data.csv",
                "'Startdatum'",
                "Found columns in row 1: ['Personnummer', 'Kön', 'Start']",
            )
        ),
    ),
    Case(
        "duplicate_column_names",
        "two columns headed 'Startdatum' with different dates",
        lambda raw: write_xlsx(
            raw / "bad" / "dup.xlsx",
            [
                ["Personnummer", "Startdatum", "Kön", "Startdatum"],
                [P1, "2017-01-02", "M", "2018-05-05"],
            ],
        ),
        Expect(
            error=(
                "bad/dup.xlsx",
                "sheet 'Deltagare'",
                "'Startdatum'",
                "(columns B, D)",
            )
        ),
    ),
    Case(
        "duplicate_unmapped_columns",
        "two unmapped columns with the same header ('Namn') are harmless",
        lambda raw: write_xlsx(
            raw / "bad" / "dup.xlsx",
            [
                ["Personnummer", "Namn", "Startdatum", "Namn"],
                [P1, "a", "2017-01-02", "b"],
            ],
        ),
        Expect(rows_read=1, rows_clean=1),
    ),
    # --- cell contents ------------------------------------------------------------
    Case(
        "formula_without_cached_value",
        "start dates written as formulas with no cached result (openpyxl)",
        _xlsx(
            [P1, "M", "=DATE(2017,1,2)", "", "", ""],
            [P2, "K", "2017-01-02", "=TODAY()", "", ""],
        ),
        Expect(
            rows_read=2,
            rows_clean=1,
            problems=(_rej(2, "Startdatum", "missing_required"),),
            only_problems=True,
        ),
    ),
    Case(
        "merged_cells_in_data",
        "one start date merged over three rows (C2:C4)",
        _merged_data_cells,
        Expect(
            rows_read=3,
            rows_clean=1,
            problems=(
                _rej(3, "Startdatum", "missing_required"),
                _rej(4, "Startdatum", "missing_required"),
            ),
            only_problems=True,
        ),
    ),
    Case(
        "excel_error_values_xlsx",
        "#N/A in a start date and #REF! in education (error cells)",
        _xlsx(
            [P1, "M", "#N/A", "", "", ""],
            [P2, "K", "2017-01-02", "", "#REF!", ""],
        ),
        Expect(
            rows_read=2,
            rows_clean=1,
            problems=(_rej(2, "Startdatum", "missing_required"),),
            check=_check_column("education", ["unknown"]),
        ),
    ),
    Case(
        "excel_error_values_csv",
        "#N/A, #VALUE! and #DIV/0! exported as text",
        _csv(
            [P1, "M", "#N/A", "", "", ""],
            [P2, "K", "2017-01-02", "#VALUE!", "#DIV/0!", ""],
        ),
        Expect(
            rows_read=2,
            rows_clean=1,
            problems=(
                _rej(2, "Startdatum", "missing_required"),
                _warn(3, "Utbildning", "invalid_number"),
            ),
            check=_check_column("end_date", [None]),
        ),
    ),
    Case(
        "numbers_stored_as_text",
        "ids and Excel serial dates stored as text, ids as numbers",
        _xlsx(
            [P1, "M", "42737", "42800", "", ""],
            [int(P2), "K", 42737, "", "", ""],
        ),
        Expect(
            rows_read=2,
            rows_clean=2,
            only_problems=True,
            check=_check_dates(["2017-01-02", "2017-01-02"]),
        ),
    ),
    Case(
        "leading_apostrophes",
        "cells typed with a leading apostrophe ('1992…, '2017-01-02)",
        _csv([f"'{P1}", "'M", "'2017-01-02", "'2017-03-01", "'Gymnasial", ""]),
        Expect(
            rows_read=1,
            rows_clean=1,
            only_problems=True,
            check=_check_column("education", ["upper_secondary"]),
        ),
    ),
    Case(
        "non_breaking_spaces",
        "labels, ids and dates padded with non-breaking spaces",
        _xlsx(
            [
                f"\u00a0{P1}\u00a0",
                "\u00a0Man\u00a0",
                "2017-01-02\u00a0",
                "",
                "Gymnasial\u00a0",
                "",
            ]
        ),
        Expect(
            rows_read=1,
            rows_clean=1,
            only_problems=True,
            check=_check_column("sex", ["man"]),
        ),
    ),
    Case(
        "mixed_date_formats",
        "ISO text, dd/mm/yyyy, yyyymmdd, a native date and an Excel serial",
        _xlsx(
            [P1, "M", "2017-01-02", "", "", ""],
            [P2, "K", "02/01/2017", "", "", ""],
            [P3, "M", "20170102", "", "", ""],
            [pnr("19900202", "123"), "", dt.datetime(2017, 1, 2), "", "", ""],
            [pnr("19900303", "123"), "", 42737, "", "", ""],
        ),
        Expect(
            rows_read=5,
            rows_clean=5,
            only_problems=True,
            check=_check_dates(["2017-01-02"] * 5),
        ),
    ),
    Case(
        "impossible_date",
        "31 February as a start date",
        _csv([P1, "M", "2017-02-31", "", "", ""], [P2, "K", "2017-02-28", "", "", ""]),
        Expect(
            rows_read=2,
            rows_clean=1,
            problems=(_rej(2, "Startdatum", "invalid_date"),),
            only_problems=True,
        ),
    ),
    Case(
        "date_year_2099",
        "an end date in 2099",
        _csv([P1, "M", "2017-01-02", "2099-01-01", "", ""]),
        Expect(
            rows_read=1,
            rows_clean=0,
            problems=(_rej(2, "Slutdatum", "date_out_of_range"),),
            only_problems=True,
        ),
    ),
    Case(
        "date_before_2000",
        "a start date in 1899 (Excel's zero day)",
        _csv([P1, "M", "1899-12-31", "", "", ""]),
        Expect(
            rows_read=1,
            rows_clean=0,
            problems=(_rej(2, "Startdatum", "date_out_of_range"),),
        ),
    ),
    Case(
        "end_before_start",
        "the end date is a year before the start date",
        _csv([P1, "M", "2017-01-02", "2016-01-02", "", ""]),
        Expect(
            rows_read=1,
            rows_clean=0,
            problems=(_rej(2, "Slutdatum", "end_before_start"),),
            only_problems=True,
        ),
    ),
    Case(
        "age_too_young",
        "a participant aged 11 at start",
        _csv([pnr("20051010", "238"), "", "2017-01-02", "", "", ""]),
        Expect(
            rows_read=1,
            rows_clean=0,
            problems=(_rej(2, "Personnummer", "age_out_of_range"),),
            only_problems=True,
        ),
    ),
    Case(
        "age_too_old",
        "a participant aged 70 at start",
        _csv([pnr("19461010", "238"), "", "2017-01-02", "", "", ""]),
        Expect(
            rows_read=1,
            rows_clean=0,
            problems=(_rej(2, "Personnummer", "age_out_of_range"),),
            only_problems=True,
        ),
    ),
    Case(
        "age_bounds_kept",
        "ages exactly 15 and 67 at start are kept",
        _csv(
            [pnr("20020102", "238"), "", "2017-01-02", "", "", ""],
            [pnr("19500102", "246"), "", "2017-01-02", "", "", ""],
        ),
        Expect(
            rows_read=2,
            rows_clean=2,
            only_problems=True,
            check=_check_column("age_at_start", [15, 67]),
        ),
    ),
    Case(
        "century_plus_id",
        "a 10-digit id with '+' (aged 100 or more): born 1916, so out of range",
        _csv(
            [
                pnr("19160303", "238", sep="+", century=False),
                "",
                "2017-01-02",
                "",
                "",
                "",
            ]
        ),
        Expect(
            rows_read=1,
            rows_clean=0,
            problems=(_rej(2, "Personnummer", "age_out_of_range"),),
            only_problems=True,
        ),
    ),
    Case(
        "invalid_luhn",
        "an id with a wrong check digit: kept, flagged, value not repeated",
        _csv([_bad_luhn("19920315", "385"), "M", "2017-01-02", "", "", ""]),
        Expect(
            rows_read=1,
            rows_clean=1,
            problems=(_warn(2, "Personnummer", "invalid_id"),),
            only_problems=True,
            check=_check_column("id_kind", ["invalid"]),
        ),
    ),
    Case(
        "samordningsnummer",
        "a samordningsnummer (day + 60) is a valid id",
        _csv(
            [
                pnr("19900171", "238", sep="-", century=False),
                "",
                "2017-01-02",
                "",
                "",
                "",
            ]
        ),
        Expect(
            rows_read=1,
            rows_clean=1,
            only_problems=True,
            check=_check_column("id_kind", ["samordningsnummer"]),
        ),
    ),
    Case(
        "reservnummer_like",
        "reserve numbers with letters (regional reservnummer) are not personnummer",
        _csv(
            ["19900101-R123", "M", "2017-01-02", "", "", ""],
            ["990101XX1234", "K", "2017-01-02", "", "", ""],
        ),
        Expect(
            rows_read=2,
            rows_clean=2,
            problems=(
                _warn(2, "Personnummer", "unrecognised_id"),
                _warn(3, "Personnummer", "unrecognised_id"),
            ),
            only_problems=True,
            check=_check_column("id_kind", ["other", "other"]),
        ),
    ),
    Case(
        "missing_id",
        "an empty id cell: kept without a pseudonym",
        _csv(["", "K", "2017-01-02", "", "", ""]),
        Expect(
            rows_read=1,
            rows_clean=1,
            problems=(_warn(2, "Personnummer", "missing_id"),),
            only_problems=True,
        ),
    ),
    Case(
        "duplicate_episode_same_file",
        "the same person and start date twice in one file",
        _csv(
            [P1, "M", "2017-01-02", "", "", ""],
            [P2, "K", "2017-01-02", "", "", ""],
            [P1, "M", "2017-01-02", "2017-05-05", "", ""],
        ),
        Expect(
            rows_read=3,
            rows_clean=2,
            problems=(_rej(4, "Personnummer", "duplicate_episode"),),
            only_problems=True,
        ),
    ),
    Case(
        "duplicate_episode_two_files",
        "the same episode delivered again in a second file",
        _duplicate_two_files,
        Expect(
            rows_read=3,
            rows_clean=2,
            problems=(_rej(2, "Personnummer", "duplicate_episode", "bad/b_again.csv"),),
            only_problems=True,
        ),
    ),
    Case(
        "same_person_two_subprojects",
        "one person in the good and the bad subproject: two episodes, one key",
        _same_person_two_subprojects,
        Expect(
            rows_read=1, rows_clean=1, only_problems=True, check=_check_shared_person
        ),
    ),
    Case(
        "unknown_labels",
        "education and sex labels that are not in the vocabularies",
        _csv([P1, "Okänt kön?", "2017-01-02", "", "Doktorsexamen i rymden", ""]),
        Expect(
            rows_read=1,
            rows_clean=1,
            problems=(
                _warn(2, "Kön", "unknown_label"),
                _warn(2, "Utbildning", "unknown_label"),
            ),
            only_problems=True,
            check=_check_column("sex", ["man"]),
        ),
    ),
    Case(
        "unicode_digits",
        "fullwidth digits in an id, superscripts as a municipality code",
        lambda raw: write_csv(
            raw / "bad" / "data.csv",
            [
                ["Personnummer", "Startdatum", "Kommun"],
                ["１９９２０３１５３８５６", "2017-01-02", "¹²"],
                [P2, "2017-01-02", "1480"],
            ],
        ),
        Expect(
            rows_read=2,
            rows_clean=2,
            problems=(
                _warn(2, "Personnummer", "unrecognised_id"),
                _warn(2, "Kommun", "unknown_label"),
            ),
            only_problems=True,
            check=_check_column("municipality", [None, "1480"]),
        ),
    ),
    Case(
        "cp1252_default_encodings",
        "a Windows-1252 file read with the default encodings",
        _csv(
            [P2, "Kvinna", "2017-01-02", "", "Förgymnasial", "Åsa Öberg"],
            encoding="cp1252",
        ),
        Expect(
            rows_read=1,
            rows_clean=1,
            only_problems=True,
            check=_check_column("education", ["compulsory"]),
        ),
    ),
    Case(
        "cp1252_declared_utf8",
        "a Windows-1252 file whose description says encoding = ['utf-8']",
        _both(
            lambda raw: _bad_toml(raw, 'encoding = ["utf-8"]'),
            _csv(
                [P2, "Kvinna", "2017-01-02", "", "Förgymnasial", ""], encoding="cp1252"
            ),
        ),
        Expect(error=("bad/data.csv", "could not be decoded", "utf-8")),
    ),
    Case(
        "utf8_declared_cp1252",
        "a UTF-8 file whose description says encoding = ['cp1252']",
        _both(
            lambda raw: _bad_toml(raw, 'encoding = ["cp1252"]'),
            _csv([P2, "Kvinna", "2017-01-02", "", "Förgymnasial", ""]),
        ),
        Expect(
            rows_read=1,
            rows_clean=1,
            only_problems=True,
            check=_check_column("education", ["compulsory"]),
        ),
    ),
    Case(
        "utf8_bom",
        "a UTF-8 file with a byte-order mark before the first header",
        _csv([P2, "Kvinna", "2017-01-02", "", "Gymnasial", ""], bom=True),
        Expect(
            rows_read=1,
            rows_clean=1,
            only_problems=True,
            check=_check_column("sex", ["woman"]),
        ),
    ),
    Case(
        "trailing_empty_rows",
        "5 000 formatted or space-only rows below the data",
        _trailing_empty_rows,
        Expect(rows_read=2, rows_clean=2, blank_rows=0, only_problems=True),
    ),
    Case(
        "blank_rows_inside",
        "blank lines between data rows are counted, not read",
        _csv(
            [P1, "M", "2017-01-02", "", "", ""],
            ["", "", "", "", "", ""],
            [" ", "\u00a0", "", "", "", ""],
            [P2, "K", "2017-01-02", "", "", ""],
        ),
        Expect(rows_read=2, rows_clean=2, blank_rows=2, only_problems=True),
    ),
    Case(
        "text_starting_with_equals",
        "text cells starting with '=' never become formulas in outputs",
        lambda raw: write_xlsx(
            raw / "bad" / "eq.xlsx",
            _rows([P1, "M", "2017-01-02", "", "", ""]),
            text_cells=[(2, 5, "=1+1"), (2, 6, '=HYPERLINK("http://x","y")')],
        ),
        Expect(
            rows_read=1,
            rows_clean=1,
            problems=(_warn(2, "Utbildning", "unknown_label"),),
            only_problems=True,
            check=_check_rejects_csv_safe,
        ),
    ),
    Case(
        "totals_row_skipped",
        "a 'Summa' row below the data is skipped, not rejected",
        _both(
            lambda raw: _bad_toml(
                raw,
                'skip_rows = { column = "personnummer", pattern = "(?i)^summa" }',
            ),
            _csv(
                [P1, "M", "2017-01-02", "", "", ""],
                ["Summa", "", "", "", "", ""],
            ),
        ),
        Expect(
            rows_read=2,
            rows_clean=1,
            problems=(Problem(3, "Personnummer", "skipped", "totals_row"),),
            only_problems=True,
            check=lambda raw, out, report: _assert_equal(
                report["sources"]["bad"]["rows_skipped"], 1
            ),
        ),
    ),
    Case(
        "office_lock_file_ignored",
        "an Excel lock file (~$data.xlsx) beside the delivery is not read",
        _both(
            _csv([P1, "M", "2017-01-02", "", "", ""]),
            _bytes(b"\x0bjane \x00\x00", "bad/~$data.xlsx"),
        ),
        Expect(rows_read=1, rows_clean=1, only_problems=True),
    ),
    Case(
        "big_sheet_200k",
        "200 000 rows in one sheet clean in reasonable time",
        _big_sheet,
        Expect(rows_read=200_000, rows_clean=199_933, blank_rows=0),
        slow=True,
    ),
]
