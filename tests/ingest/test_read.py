"""Tests for rehab_analytics.ingest: one file (and sheet) into raw cells with row numbers."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from rehab_analytics.errors import InputFileError, MissingColumnError
from rehab_analytics.ingest import (
    read_sheet,
    read_table_file,
    select_sheets,
    sniff_format,
)
from rehab_analytics.sources import Band, TableSpec

COLUMNS = {"personnummer": "Personnummer", "start_date": "Startdatum", "sex": "Kön"}


def _spec(**kwargs) -> TableSpec:
    options = {"files": ("x",), "columns": COLUMNS} | kwargs
    return TableSpec("participants", **options)


def _xlsx(
    path: Path, sheets: dict[str, list[list[object]]], *, hidden=(), merges=()
) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        if name in hidden:
            ws.sheet_state = "hidden"
        for rng in merges if name == next(iter(sheets)) else ():
            ws.merge_cells(rng)
    wb.save(path)
    return path


def test_xlsx_title_rows_auto_header_and_blank_rows(tmp_path):
    """'auto' finds the header below title rows; blank rows are counted, not rows."""
    path = _xlsx(
        tmp_path / "a.xlsx",
        {
            "Deltagare": [
                ["Deltagarlista Dino"],
                ["Uttag 2019-07-05"],
                ["personnummer", "STARTDATUM", "kon", "Namn"],
                ["640823-3234", 42736, "K", "Anna"],
                [None, None, None, None],
                ["701063-2391", dt.datetime(2017, 3, 1), "M", "Bo"],
                [None, None],
            ]
        },
    )
    raw = read_sheet(path, _spec(header_row="auto"), "Deltagare")
    assert raw.header_row == 3
    assert raw.blank_rows == 1
    assert raw.data.index.tolist() == [4, 6]
    assert raw.columns == {
        "personnummer": "personnummer",
        "start_date": "STARTDATUM",
        "sex": "kon",
    }
    assert raw.data["STARTDATUM"].tolist() == [42736.0, dt.date(2017, 3, 1)]


def test_whitespace_only_cells_are_blank(tmp_path):
    """A row of spaces and non-breaking spaces is a blank row, not a data row."""
    path = tmp_path / "a.csv"
    path.write_text(
        "Personnummer;Startdatum;Kön\n \u00a0; ;\n640823-3234;2017-01-02;K\n"
    )
    raw = read_sheet(path, _spec())
    assert (raw.blank_rows, raw.data.index.tolist()) == (1, [3])


def test_merged_band_row_carries_label_across_band(tmp_path):
    """Band labels fill the merged range; columns under a band map to an income field."""
    rows = [
        [None, None, "Före", None, "Efter", None, None],
        [
            "Personnummer",
            "Startdatum",
            "A-kassa",
            "Lön",
            "A-kassa",
            "Lön",
            "Avslutsorsak",
        ],
        ["640823-3234", "2017-01-02", "x", None, None, "X", "Avbrott"],
    ]
    path = _xlsx(tmp_path / "b.xlsx", {"S": rows}, merges=("C1:D1", "E1:F1"))
    columns = {
        "personnummer": "Personnummer",
        "start_date": "Startdatum",
        "income_before": Band("Före"),
        "income_after": Band("Efter"),
        "exit_reason": "Avslutsorsak",
    }
    raw = read_sheet(path, _spec(columns=columns, header_row=2, band_row=1), "S")
    assert raw.bands == ("", "", "Före", "Före", "Efter", "Efter", "")
    assert raw.band_columns == {
        "income_before": ["A-kassa", "Lön"],
        "income_after": ["A-kassa_2", "Lön_2"],
    }
    assert raw.headers["A-kassa_2"] == "A-kassa"


def test_band_without_merge_is_carried_right(tmp_path):
    """Without merged cells a band label carries right across empty band cells."""
    path = tmp_path / "c.csv"
    path.write_text(";;Efter;\nPersonnummer;Startdatum;A-kassa;Lön\n1;2017-01-02;x;\n")
    columns = {
        "personnummer": "Personnummer",
        "start_date": "Startdatum",
        "income_after": Band("efter"),
    }
    raw = read_sheet(path, _spec(columns=columns, header_row=2, band_row=1))
    assert raw.band_columns == {"income_after": ["A-kassa", "Lön"]}


def test_duplicate_headers_are_made_unique(tmp_path):
    """Repeated unmapped header names get _2, _3 suffixes and are not read."""
    path = tmp_path / "d.csv"
    path.write_text("Personnummer;Startdatum;Kön;Namn;Namn\n1;2017-01-02;K;A;B\n")
    raw = read_sheet(path, _spec())
    assert list(raw.data.columns) == [
        "Personnummer",
        "Startdatum",
        "Kön",
        "Namn",
        "Namn_2",
    ]


def test_duplicate_mapped_header_is_an_error(tmp_path):
    """A mapped header that appears twice is ambiguous and names the columns."""
    path = tmp_path / "d.csv"
    path.write_text("Personnummer;Startdatum;Kön;Kön\n1;2017-01-02;K;M\n")
    with pytest.raises(
        InputFileError, match=r"'Kön' appears 2 times in row 1 \(columns C, D\)"
    ):
        read_sheet(path, _spec())


def test_hidden_sheets_and_default_first_visible(tmp_path):
    """Default is the first visible sheet; globs skip hidden sheets; exact names do not."""
    path = _xlsx(
        tmp_path / "e.xlsx",
        {
            "Listor": [["a"]],
            "Instruktioner": [["b"]],
            "Deltagare 2017": [["c"]],
            "Deltagare 2018": [["d"]],
        },
        hidden=("Listor", "Deltagare 2018"),
    )
    assert select_sheets(path) == ["Instruktioner"]
    assert select_sheets(path, ["deltagare*"]) == ["Deltagare 2017"]
    assert select_sheets(path, ["Deltagare 2018"]) == ["Deltagare 2018"]
    with pytest.raises(
        InputFileError,
        match=r"no sheet matches \['Budget'\].*'Instruktioner'.*hidden: Listor",
    ):
        select_sheets(path, ["Budget"])


def test_ods_is_read_with_calamine(tmp_path):
    """OpenDocument spreadsheets are read like xlsx, dates as dates."""
    path = tmp_path / "f.ods"
    frame = pd.DataFrame(
        {
            "Personnummer": ["640823-3234"],
            "Startdatum": [pd.Timestamp("2017-01-02")],
            "Kön": ["K"],
        }
    )
    frame.to_excel(path, engine="odf", index=False, sheet_name="Participants")
    raw = read_table_file(path, _spec(sheets=("Participants",)))[0]
    assert raw.sheet == "Participants"
    assert raw.data.index.tolist() == [2]
    assert pd.Timestamp(raw.data["Startdatum"].iloc[0]) == pd.Timestamp("2017-01-02")


def test_cp1252_csv_is_decoded(tmp_path):
    """A Windows-1252 CSV from Swedish Excel decodes with the declared fallback."""
    path = tmp_path / "g.csv"
    path.write_bytes(
        "Personnummer;Startdatum;Kön\n640823-3234;1/3 2017;Kvinna\n".encode("cp1252")
    )
    raw = read_sheet(path, _spec())
    assert raw.columns["sex"] == "Kön"
    assert raw.data["Startdatum"].tolist() == ["1/3 2017"]


def test_bom_csv_strips_the_bom(tmp_path):
    """A UTF-8 BOM does not become part of the first header."""
    path = tmp_path / "h.csv"
    path.write_bytes("\ufeffPersonnummer;Startdatum;Kön\n1;2;K\n".encode())
    raw = read_sheet(path, _spec())
    assert list(raw.data.columns)[0] == "Personnummer"


def test_csv_line_numbers_and_trailing_empties(tmp_path):
    """Text rows keep their line number; trailing empty lines and columns are dropped."""
    path = tmp_path / "i.csv"
    path.write_text(
        "Titel;;;\nPersonnummer;Startdatum;Kön;\n\n1;2017-01-02;K;\n;;;\n;;;\n"
    )
    raw = read_sheet(path, _spec(header_row=2))
    assert raw.data.index.tolist() == [4]
    assert raw.blank_rows == 1
    assert list(raw.data.columns) == ["Personnummer", "Startdatum", "Kön"]


def test_csv_named_xlsx_is_read_by_content_with_a_note(tmp_path):
    """A CSV saved as .xlsx is read as CSV, and the report note says so."""
    path = tmp_path / "j.xlsx"
    path.write_text("Personnummer;Startdatum;Kön\n1;2017-01-02;K\n")
    assert sniff_format(path) == "csv"
    raw = read_table_file(path, _spec())[0]
    assert len(raw.data) == 1
    assert "named .xlsx but contains csv data" in raw.notes[0]


def test_xlsx_named_csv_is_read_by_content(tmp_path):
    """An xlsx saved as .csv is read as a workbook, with a note."""
    path = _xlsx(
        tmp_path / "k.xlsx", {"S": [["Personnummer", "Startdatum", "Kön"], [1, 2, "K"]]}
    )
    renamed = path.rename(tmp_path / "k.csv")
    raw = read_table_file(renamed, _spec())[0]
    assert raw.sheet == "S"
    assert "contains xlsx data" in raw.notes[0]


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda p: None, r"missing\.xlsx: file not found"),
        (lambda p: p.write_bytes(b""), r"empty \(0 bytes\)"),
        (
            lambda p: p.write_bytes(b"PK\x03\x04" + b"\x14\x00" * 20),
            "corrupt or truncated",
        ),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0"), "not a spreadsheet"),
    ],
)
def test_unreadable_files_raise_clear_errors(tmp_path, make, pattern):
    """Missing, empty, encrypted, corrupt and non-spreadsheet files say what to do."""
    path = tmp_path / "missing.xlsx"
    make(path)
    with pytest.raises(InputFileError, match=pattern):
        read_table_file(path, _spec())


def test_password_protected_xlsx(tmp_path):
    """An encrypted workbook (OLE2 container named .xlsx) asks for an unprotected copy."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = _xlsx(
        tmp_path / "plain.xlsx", {"S": [["Personnummer", "Startdatum", "Kön"]]}
    )
    locked = tmp_path / "locked.xlsx"
    with plain.open("rb") as src, locked.open("wb") as dst:
        OOXMLFile(src).encrypt("hemligt", dst)
    with pytest.raises(
        InputFileError, match="password-protected: save an unprotected copy"
    ):
        read_table_file(locked, _spec())


def test_truncated_xlsx_is_corrupt(tmp_path):
    """A workbook cut off in transfer is reported as corrupt or truncated."""
    full = _xlsx(
        tmp_path / "full.xlsx", {"S": [["Personnummer", "Startdatum", "Kön"]] * 50}
    )
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(InputFileError, match="corrupt or truncated"):
        read_table_file(cut, _spec())


def test_empty_sheet_and_header_only(tmp_path):
    """An empty sheet and a sheet with only a header are errors naming file and sheet."""
    path = _xlsx(
        tmp_path / "l.xlsx",
        {"Tom": [], "Rubrik": [["Personnummer", "Startdatum", "Kön"]]},
    )
    with pytest.raises(
        InputFileError, match=r"l\.xlsx, sheet 'Tom': the sheet is empty"
    ):
        read_sheet(path, _spec(), "Tom")
    with pytest.raises(
        InputFileError, match=r"sheet 'Rubrik': has a header \(row 1\) but no data rows"
    ):
        read_sheet(path, _spec(), "Rubrik")


def test_missing_required_column_lists_found_columns(tmp_path):
    """A missing required column names the expected header and lists those found."""
    path = tmp_path / "m.csv"
    path.write_text("Pnr;Startdatum;Kön\n1;2;K\n")
    required = ("personnummer", "start_date")
    with pytest.raises(
        MissingColumnError,
        match=r"missing column\(s\) 'Personnummer'.*Found columns in row 1: \['Pnr', 'Startdatum', 'Kön'\]",
    ):
        read_sheet(path, _spec(required=required))


def test_missing_optional_column_is_a_note(tmp_path):
    """An optional mapped column that is absent leaves the field empty with a note."""
    path = tmp_path / "n.csv"
    path.write_text("Personnummer;Startdatum\n1;2\n")
    raw = read_sheet(path, _spec())
    assert "sex" not in raw.columns
    assert "optional column 'Kön'" in raw.notes[0]


def test_auto_header_not_found(tmp_path):
    """'auto' without a matching row raises MissingColumnError showing what was found."""
    path = tmp_path / "o.csv"
    path.write_text("a;b\nc;d\n")
    with pytest.raises(
        MissingColumnError, match=r"no header row found.*found in row 1: \['a', 'b'\]"
    ):
        read_sheet(path, _spec(header_row="auto"))


def test_header_beyond_end_of_sheet(tmp_path):
    """A header_row below the last row is reported with the row count."""
    path = tmp_path / "p.csv"
    path.write_text("Personnummer;Startdatum\n")
    with pytest.raises(
        InputFileError, match="has 1 rows but the header is expected in row 5"
    ):
        read_sheet(path, _spec(header_row=5))


def test_numbers_and_text_keep_their_cell_types(tmp_path):
    """Workbook cells stay raw: numbers as floats, text as text, empty as None."""
    path = _xlsx(
        tmp_path / "q.xlsx",
        {
            "S": [
                ["Personnummer", "Startdatum", "Kön"],
                [6408233234, "2017-01-02", None],
            ]
        },
    )
    raw = read_sheet(path, _spec(), "S")
    row = raw.data.iloc[0].tolist()
    assert row[0] == 6408233234.0 and row[1] == "2017-01-02" and row[2] is None
    assert isinstance(raw.data.index, pd.Index) and raw.data.index.dtype == np.int64


def test_zip_without_workbook_parts_is_corrupt(tmp_path):
    """A zip that is not a workbook is reported as unreadable, not as a crash."""
    path = tmp_path / "r.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(InputFileError, match="could not be read"):
        read_table_file(path, _spec())
