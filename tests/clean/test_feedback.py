"""Tests for the feedback workbooks sent back to each förbund after a clean."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

from rehab_analytics import contract
from rehab_analytics.clean import feedback as feedback
from rehab_analytics.clean import feedback_xlsx
from rehab_analytics.clean.write import FORMULA_START, neutralise
from rehab_analytics.errors import InputFileError

DANGEROUS = ["=1+1", "+46 31 123", "-2+3", "@SUM(A1:A2)", "\t=cmd", "\r=cmd"]


def _rejects(rows: list[list]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(contract.REJECT_COLUMNS)).astype(
        {"source_row": "Int64"}
    )


def _processed(
    tmp_path, rejects: pd.DataFrame, participants: pd.DataFrame | None = None
):
    """Write a minimal processed folder: rejects, report and participants."""
    rejects.to_parquet(tmp_path / "rejects.parquet", index=False)
    files = {
        "nordost": [{"table": "participants", "file": "nordost/a.xlsx", "sheet": "Deltagare",
                     "rows_read": 5, "rows_clean": 3, "rows_rejected": 1,
                     "rows_skipped": 1}],
        "template_inbox_mall": [{"table": "participants", "file": "inbox/mall.xlsx",
                                 "sheet": "Deltagare", "rows_read": 2, "rows_clean": 2,
                                 "rows_rejected": 0, "rows_skipped": 0}],
        "projekt": [{"table": "subprojects", "file": "projekt/budget.xlsx",
                     "sheet": "Budget", "rows_read": 3, "rows_clean": 3,
                     "rows_rejected": 0, "rows_skipped": 0}],
    }  # fmt: skip
    report = {
        "organisations": [
            {"forbund": "nordost", "subproject": "dino", "source": "nordost.toml"},
            {"forbund": "vaster", "subproject": "motiverande", "source": "vaster.toml"},
        ],
        "sources": {
            **{name: {"files": f, "error": None} for name, f in files.items()},
            "vaster": {"error": "no file in the raw folder x matches ['vaster/*.csv']"},
            "centrum": {"error": "centrum/b.xlsx: password-protected: save a copy."},
        },
    }
    (tmp_path / "cleaning_report.json").write_text(json.dumps(report), encoding="utf-8")
    if participants is None:
        participants = pd.DataFrame(
            {
                "forbund": ["nordost"] * 3 + ["vaster"] * 2,
                "sex": ["woman", "man", "unknown", "man", "woman"],
                "exit_reason": ["completed", None, "unknown", "moved", "moved"],
                "source_file": ["nordost/a.xlsx"] * 3 + ["inbox/mall.xlsx"] * 2,
            }
        )
    participants.to_parquet(tmp_path / "participants.parquet", index=False)
    return tmp_path


def _sheet_rows(path, index: int) -> list[tuple]:
    wb = openpyxl.load_workbook(path)
    return [tuple(r) for r in wb.worksheets[index].iter_rows(values_only=True)]


def test_feedback_never_writes_a_formula(tmp_path):
    """Text starting with = + - @ tab or CR is saved as text, not as a formula."""
    values = [*DANGEROUS, "Kvinna"]
    rejects = _rejects(
        [["nordost", "participants", "nordost/a.xlsx", "Deltagare", r, "Kön", v,
          "warning", "unknown_label", "m"] for r, v in enumerate(values, start=3)]
    )  # fmt: skip
    _processed(tmp_path, rejects)
    feedback.write_feedback(tmp_path)
    ws = openpyxl.load_workbook(tmp_path / "feedback" / "nordost.xlsx").worksheets[1]
    cells = list(ws["E"][1:])
    assert len(cells) == len(values)
    for cell, text in zip(cells, values, strict=True):
        # A CR is stored in Excel's escaped form (_x000D_), which Excel shows as CR.
        assert cell.value.replace("_x000D_", "\r") == text
        assert cell.data_type == "s"
        assert cell.quotePrefix is (text != "Kvinna"), text


def test_feedback_rows_translate_reasons():
    """Status, reason and action come in words from the catalogue, in order."""
    rejects = _rejects(
        [
            ["nordost", "participants", "a.xlsx", "S", 9, "Slutdatum", "2015-01-01",
             "rejected", "end_before_start", "m1"],
            ["nordost", "participants", "a.xlsx", "S", 4, "Kön", "Q", "warning",
             "unknown_label", "m2"],
            ["nordost", "participants", "a.xlsx", "S", 5, "Kön", "Q", "warning",
             "some_new_reason", "m3"],
        ]
    )  # fmt: skip
    out = feedback.feedback_rows(rejects, "sv")
    assert out["row"].tolist() == [9, 4, 5]
    assert out["reason"].tolist() == [
        "Slutdatum före startdatum", "Okänt värde", "some_new_reason",
    ]  # fmt: skip
    assert out["status"].tolist() == ["Avvisad", "Varning", "Varning"]
    assert out.loc[0, "action"].startswith("Kontrollera start- och slutdatum")


def test_write_feedback_per_forbund(tmp_path):
    """One workbook per förbund; a template delivery joins its förbund's workbook."""
    rejects = _rejects(
        [
            ["nordost", "participants", "nordost/a.xlsx", "Deltagare", 7, "Personnummer",
             "=HYPERLINK(\"x\")", "warning", "invalid_id", "bad id"],
            ["nordost", "participants", "nordost/a.xlsx", "Deltagare", 12, "Personnummer",
             "Summa", "skipped", "totals_row", "totals"],
            ["nordost", "participants", "nordost/a.xlsx", "Deltagare", 9, "Startdatum",
             "2099-01-01", "rejected", "date_out_of_range", "@too late"],
        ]
    )  # fmt: skip
    processed = _processed(tmp_path, rejects)
    (processed / "feedback").mkdir()
    (processed / "feedback" / "old.xlsx").write_bytes(b"stale")
    paths = feedback.write_feedback(processed)
    assert [p.name for p in paths] == [
        "centrum.xlsx", "nordost.xlsx", "projekt.xlsx", "vaster.xlsx",
    ]  # fmt: skip
    assert not (processed / "feedback" / "old.xlsx").exists()
    problems = _sheet_rows(processed / "feedback" / "nordost.xlsx", 1)
    assert problems[0][:5] == ("Fil", "Flik", "Rad", "Kolumn", "Värde")
    assert [r[:5] for r in problems[1:]] == [
        tuple(r) for r in rejects[["source_file", "source_sheet", "source_row",
                                   "column", "value"]].itertuples(index=False)
    ]  # fmt: skip
    ws = openpyxl.load_workbook(processed / "feedback" / "nordost.xlsx").worksheets[1]
    assert ws["E2"].data_type == "s" and ws["I4"].value == "@too late"
    summary = _sheet_rows(processed / "feedback" / "nordost.xlsx", 0)
    assert (
        summary[0][0]
        == "Återkoppling från rensningen: Samordningsförbundet Göteborg Nordost"
    )
    assert ("nordost/a.xlsx", "Deltagare", "Deltagare", 5, 3, 1, 1, 1) in summary
    assert ("Kön", "2 / 3", pytest.approx(2 / 3)) in [r[:3] for r in summary]
    vaster = _sheet_rows(processed / "feedback" / "vaster.xlsx", 0)
    assert ("inbox/mall.xlsx", "Deltagare", "Deltagare", 2, 2, 0, 0, 0) in vaster
    assert _sheet_rows(processed / "feedback" / "vaster.xlsx", 1)[1][0] == (
        "Inga avvisade rader och inga varningar."
    )
    centrum = _sheet_rows(processed / "feedback" / "centrum.xlsx", 0)
    assert ("Kunde inte läsas", "centrum/b.xlsx: password-protected: save a copy.") in [
        r[:2] for r in centrum
    ]


def test_workbooks_written_by_workers_are_the_same(tmp_path, monkeypatch):
    """Workbooks written by worker processes hold the same cells as written here."""
    rejects = _rejects(
        [["nordost", "participants", "nordost/a.xlsx", "Deltagare", r, "Kön", "=Q",
          "warning", "unknown_label", "m"] for r in range(3, 40)]
    )  # fmt: skip
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
        _processed(folder, rejects)
    feedback.write_feedback(one)
    monkeypatch.setattr(feedback, "_PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr("rehab_analytics.config.worker_count", lambda jobs=None: 2)
    paths = feedback.write_feedback(two)
    assert [p.name for p in paths] == sorted(
        p.name for p in (one / "feedback").iterdir()
    )
    for path in paths:
        for sheet in (0, 1):
            assert _sheet_rows(path, sheet) == _sheet_rows(
                one / "feedback" / path.name, sheet
            )
    ws = openpyxl.load_workbook(two / "feedback" / "nordost.xlsx").worksheets[1]
    assert (ws["E2"].value, ws["E2"].quotePrefix) == ("=Q", True)


def test_write_feedback_in_english(tmp_path):
    """lang='en' gives English sheet names, headers and reasons."""
    rejects = _rejects(
        [["nordost", "participants", "nordost/a.xlsx", "Deltagare", 3, "Kön", "Q",
          "warning", "unknown_label", "m"]]
    )  # fmt: skip
    processed = _processed(tmp_path, rejects)
    feedback.write_feedback(processed, lang="en")
    wb = openpyxl.load_workbook(processed / "feedback" / "nordost.xlsx")
    assert wb.sheetnames == ["Summary", "To correct"]
    assert wb["To correct"]["G2"].value == "Unknown value"


def test_write_feedback_needs_clean_outputs(tmp_path):
    """Without the clean outputs the error says to run clean first."""
    with pytest.raises(
        InputFileError, match="rejects.parquet: not found.*run the clean"
    ):
        feedback.write_feedback(tmp_path)


@pytest.mark.slow
def test_feedback_after_clean_matches_rejects(tmp_path, monkeypatch):
    """After a clean of the sample, each workbook lists its source's rejects row for row."""
    from rehab_analytics.clean.run import run_clean
    from rehab_analytics.sample.deliveries import write_sample

    monkeypatch.setenv("RA_PSEUDONYM_KEY", "k" * 40)
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_sample(raw, participants=120, seed=1)
    run_clean(raw, out)
    rejects = pd.read_parquet(out / "rejects.parquet")
    names = sorted(p.stem for p in (out / "feedback").glob("*.xlsx"))
    assert names == sorted(
        [
            "alv_och_kust",
            "centrum",
            "hisingen",
            "insjoriket",
            "nordost",
            "projekt",
            "vaster",
        ]
    )
    for name in names:
        mine = rejects[rejects["source"] == name]
        rows = _sheet_rows(out / "feedback" / f"{name}.xlsx", 1)[1:]
        if mine.empty:
            assert len(rows) == 1
            continue
        expected = [
            (r.source_file, r.source_sheet or None, int(r.source_row), r.column,
             None if pd.isna(r.value) or r.value == "" else r.value)
            for r in mine.itertuples(index=False)
        ]  # fmt: skip
        assert [r[:5] for r in rows] == expected


def test_problem_rows_written_as_xml_read_back_like_xlsxwriter_cells(tmp_path):
    """The problems sheet's rows, written straight into the sheet XML, read back
    exactly like cells XlsxWriter writes: text, quote prefix, numbers, blanks."""
    import python_calamine
    import xlsxwriter

    values = [*DANGEROUS, "a & b <c> d", "_x000D_ literal", " lead", "trail ",
              "multi\nline", "cr\r\nlf", "ctl\x01x", "åäö “q” 'a'", "", None,
              "x" * 40000, "\u00a0nbsp"]  # fmt: skip
    frame = pd.DataFrame(
        {
            "text": values,
            "row": pd.array([*range(len(values) - 1), None], dtype="Int64"),
            "share": [0.125] * len(values),
        }
    )
    reference = tmp_path / "reference.xlsx"
    with xlsxwriter.Workbook(str(reference), {"strings_to_formulas": False}) as book:
        book.add_worksheet("summary")
        sheet = book.add_worksheet("problems")
        quoted = book.add_format({"quote_prefix": True})
        for i, rec in enumerate(frame.itertuples(index=False), start=1):
            if isinstance(rec.text, str) and rec.text:
                text = neutralise(rec.text)
                risky = text.startswith(FORMULA_START)
                sheet.write_string(i, 0, text, quoted if risky else None)
            if rec.row is not pd.NA:
                sheet.write_number(i, 1, int(rec.row))
            sheet.write_number(i, 2, rec.share)
    written = tmp_path / "written.xlsx"
    pending = {}

    def fill(book):
        book.add_worksheet("summary")
        book.add_worksheet("problems")
        quoted = book.add_format({"quote_prefix": True})
        pending["rows"] = feedback_xlsx._rows_xml(frame, 1, quoted._get_xf_index())

    feedback_xlsx._save_xlsx(
        written,
        fill,
        lambda tmp: feedback_xlsx._insert_rows(
            tmp, "xl/worksheets/sheet2.xml", pending["rows"], f"A1:C{len(frame) + 1}"
        ),
    )

    def grid(path):
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        return book.get_sheet_by_name("problems").to_python()

    def kinds(path):
        sheet = openpyxl.load_workbook(path).worksheets[1]
        return [
            [(c.data_type, c.quotePrefix) for c in row]
            for row in sheet.iter_rows(min_row=2, max_row=len(frame) + 1, max_col=3)
        ]

    assert grid(written) == grid(reference)
    assert kinds(written) == kinds(reference)
    assert grid(written)[0][:2] == ["=1+1", 0.0]  # row 1 (the header) is empty
    assert kinds(written)[0][0] == ("s", True)
