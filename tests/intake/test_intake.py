"""Tests for the reporting template, its built-in profile and `inspect`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from rehab_analytics import catalogue
from rehab_analytics.errors import InputFileError, SourceDescriptionError
from rehab_analytics.intake import inspect as intake
from rehab_analytics.sources import Band, load_vocabularies, normalise_label
from rehab_analytics.template import write as template

KEY = "k" * 40
SHEETS = {
    "sv": ("Deltagare", "Delprojektbudget", "Anonyma deltagare", "Instruktioner"),
    "en": (
        "Participants",
        "Subproject budget",
        "Anonymous participants",
        "Instructions",
    ),
}


def _columns(ws, header_row: int) -> dict[str, int]:
    """Return header → 1-based column (band columns as 'band|label')."""
    bands = {}
    for rng in ws.merged_cells.ranges:
        if rng.min_row == 1:
            for col in range(rng.min_col, rng.max_col + 1):
                bands[col] = ws.cell(row=1, column=rng.min_col).value
    out = {}
    for cell in ws[header_row]:
        if cell.value is None:
            continue
        band = bands.get(cell.column)
        out[f"{band}|{cell.value}" if band else cell.value] = cell.column
    return out


def _fill(
    path: Path, lang: str, participants: list[dict], budget=(), anonymous=()
) -> None:
    """Fill a template like a user would: labels chosen from the drop-down lists."""
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEETS[lang][0]]
    cols = _columns(ws, 2)
    income_band = {
        "income_before": template._t("income_before", lang),
        "income_after": template._t("income_after", lang),
    }
    for i, row in enumerate(participants, start=3):
        for key, value in row.items():
            if key in income_band:
                for code in value:
                    label = catalogue.label("income_source", code, lang)
                    ws.cell(
                        row=i, column=cols[f"{income_band[key]}|{label}"], value="x"
                    )
            else:
                ws.cell(row=i, column=cols[key], value=value)
    for name, rows in ((SHEETS[lang][1], budget), (SHEETS[lang][2], anonymous)):
        sheet = wb[name]
        sheet_cols = _columns(sheet, 1)
        for i, row in enumerate(rows, start=2):
            for key, value in row.items():
                sheet.cell(row=i, column=sheet_cols[key], value=value)
    wb.save(path)


def _participant_rows(lang: str, with_forbund: bool) -> list[dict]:
    """Three episodes written with the template's own headers and labels."""

    def lab(field: str, code: str) -> str:
        return template._code_labels(field, (code,), lang)[0]

    h = {c.field: c.header(lang) for c in template.PARTICIPANT_COLUMNS}
    rows = [
        {
            h["personnummer"]: "19900307-2387",
            h["sex"]: lab("sex", "woman"),
            h["municipality"]: "Göteborg",
            h["education"]: lab("education", "upper_secondary"),
            h["start_date"]: dt.date(2016, 3, 1),
            h["end_date"]: dt.date(2017, 1, 15),
            "income_before": ["social_assistance", "activity_support"],
            "income_after": ["wage"],
            h["support_years_before"]: lab("support_years", "2_5"),
            h["occupation_before"]: lab("occupation", "job_seeking"),
            h["occupation_after"]: lab("occupation", "employed"),
            h["exit_reason"]: lab("exit_reason", "completed"),
            h["step_start"]: 2,
            h["step_end"]: 5,
            h["health_start"]: 2,
            h["health_end"]: 4,
        },
        {
            h["personnummer"]: "640823-3234",
            h["sex"]: lab("sex", "man"),
            h["municipality"]: "Mölndal",
            h["education"]: lab("education", "compulsory"),
            h["start_date"]: dt.date(2017, 9, 4),
            "income_before": ["sickness_benefit"],
            h["support_years_before"]: lab("support_years", "over_5"),
            h["occupation_before"]: lab("occupation", "other"),
            h["step_start"]: 1,
            h["health_start"]: 3,
        },
        {
            h["personnummer"]: "19950101-1234",
            h["sex"]: lab("sex", "man"),
            h["start_date"]: dt.date(2018, 2, 1),
            h["end_date"]: dt.date(2017, 2, 1),
        },
    ]
    if with_forbund:
        for row in rows:
            row["Förbund"] = "Samordningsförbundet Göteborg Väster"
    return rows


# ---------------------------------------------------------------- template


def test_template_sheets_marker_and_layout(tmp_path):
    """The template has the data sheets in its language, hidden lists and a marker."""
    path = template.write_template(tmp_path / "mall.xlsx", lang="en", forbund="nordost")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "Instructions", "Participants", "Subproject budget", "Anonymous participants",
        "Lists", "_rehab_analytics",
    ]  # fmt: skip
    assert wb["Lists"].sheet_state == "hidden"
    assert wb["_rehab_analytics"].sheet_state == "hidden"
    assert (
        wb["_rehab_analytics"]["B1"].value == "rehab-analytics template v1, en, nordost"
    )
    assert "rehab_analytics_template" in wb.defined_names
    assert wb.custom_doc_props["rehab-analytics template"].value.endswith("en, nordost")
    ws = wb["Participants"]
    assert ws.freeze_panes == "A3"
    assert ws["A2"].value == "Personal identity number"
    assert ws.column_dimensions["E"].number_format == "yyyy-mm-dd"
    assert ws.column_dimensions["A"].number_format == "@"
    assert template.read_marker(path) == template.TemplateMarker(1, "en", "nordost")


def test_template_validation_lists_and_checks(tmp_path):
    """Every coded column has a drop-down list; dates and numbers have input checks."""
    path = template.write_template(tmp_path / "mall.xlsx", lang="sv")
    wb = openpyxl.load_workbook(path)
    ws = wb["Deltagare"]
    validations = ws.data_validations.dataValidation
    by_type = {}
    for dv in validations:
        by_type.setdefault(dv.type, []).append(dv)
    assert {"list", "date", "whole"} <= set(by_type)
    headers = {c.column_letter: c.value for c in ws[2] if c.value}
    list_cols = {
        str(dv.sqref).split(":")[0].rstrip("0123456789") for dv in by_type["list"]
    }
    for field in ("Förbund", "Kön", "Hemkommun", "Utbildningsnivå", "Avslutsorsak",
                  "Sysselsättning före", "Sysselsättning efter"):  # fmt: skip
        letter = next(k for k, v in headers.items() if v == field)
        assert letter in list_cols, field
    lists = wb["Listor"]
    sex_ref = next(
        dv.formula1 for dv in by_type["list"] if str(dv.sqref).startswith("C3")
    )
    assert sex_ref.startswith("'Listor'!$")
    values = [
        c.value for c in lists[sex_ref.split("!")[1].replace("$", "").split(":")[0][0]]
    ]
    assert values[1:4] == ["Kvinna", "Man", "Okänt"]
    date_dv = by_type["date"][0]
    assert (date_dv.operator, date_dv.formula1) == ("between", "36526")
    step = next(dv for dv in by_type["whole"] if dv.formula2 == "7")
    assert step.formula1 == "1"
    budget = wb["Delprojektbudget"].data_validations.dataValidation
    assert "decimal" in {dv.type for dv in budget}


def test_template_instructions_explain_ids(tmp_path):
    """The instructions sheet explains personnummer and samordningsnummer formats."""
    path = template.write_template(tmp_path / "mall.xlsx", lang="sv", forbund="centrum")
    text = " ".join(
        str(c.value) for row in openpyxl.load_workbook(path)["Instruktioner"] for c in row
        if c.value
    )  # fmt: skip
    assert "ÅÅÅÅMMDD-NNNN" in text and "ÅÅMMDD-NNNN" in text
    assert "plus 60" in text and "SUS" in text and "ESF" in text
    assert "Samordningsförbundet Göteborg Centrum" in text


def test_template_rejects_unknown_forbund(tmp_path):
    """An unregistered förbund code is refused with the list of known codes."""
    with pytest.raises(
        SourceDescriptionError, match="'nowhere' is not registered.*nordost"
    ):
        template.write_template(tmp_path / "x.xlsx", forbund="nowhere")


def test_template_municipalities_are_in_vocabulary():
    """Every municipality in the drop-down maps to a kommunkod."""
    vocab = load_vocabularies()["municipality"]
    assert template._municipality_names() == list(template._MUNICIPALITIES)
    assert all(normalise_label(n) in vocab for n in template._MUNICIPALITIES)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_profile_maps_every_template_label(lang):
    """Every drop-down label of the template maps back to its code."""
    vocab = template.profile_vocabularies()
    builtin = load_vocabularies()
    for _field, (name, codes) in template._CODED.items():
        for code in codes:
            label = normalise_label(template._code_labels(name, (code,), lang)[0])
            assert {**builtin[name], **vocab[name]}[label] == code


def test_template_description_from_marker_and_column(tmp_path):
    """The profile takes the förbund from the marker, else from the Förbund column."""
    raw = tmp_path / "raw"
    fixed = template.write_template(raw / "in" / "a.xlsx", lang="en", forbund="vaster")
    _fill(fixed, "en", _participant_rows("en", with_forbund=False)[:1])
    desc = template.template_description(fixed, raw)
    assert desc.organisation.forbund == "vaster"
    assert [t.kind for t in desc.tables] == ["participants"]
    spec = desc.tables[0]
    assert spec.files == ("in/a.xlsx",) and spec.sheets == ("Participants",)
    assert (spec.header_row, spec.band_row) == (2, 1)
    assert spec.columns["income_after"] == Band("Income after (mark with x)")
    free = template.write_template(raw / "in" / "b.xlsx", lang="sv")
    _fill(free, "sv", _participant_rows("sv", with_forbund=True))
    assert (
        template.template_description(free, raw).organisation.subproject
        == "motiverande"
    )


def test_template_description_needs_a_forbund(tmp_path):
    """Participant rows without a förbund are an error naming the column."""
    path = template.write_template(tmp_path / "a.xlsx", lang="sv")
    _fill(path, "sv", _participant_rows("sv", with_forbund=False)[:1])
    with pytest.raises(InputFileError, match="no förbund.*'Förbund'"):
        template.template_description(path, tmp_path)


def test_find_templates_skips_claimed_and_unmarked(tmp_path):
    """Only marked workbooks that no description claims get the profile."""
    from rehab_analytics.sources import load_sources

    raw = tmp_path / "raw"
    template.write_template(raw / "inbox" / "mall.xlsx", forbund="centrum")
    template.write_template(raw / "nordost" / "claimed.xlsx", forbund="nordost")
    openpyxl.Workbook().save(raw / "inbox" / "plain.xlsx")
    found = template.find_template_descriptions(raw, load_sources(raw))
    assert [d.name for d in found] == ["template_inbox_mall"]
    assert found[0].tables == ()


# ---------------------------------------------------------------- clean


def _fill_all(path: Path, lang: str, with_forbund: bool) -> None:
    h = {c.field: c.header(lang) for c in template.SUBPROJECT_COLUMNS}
    a = {c.field: c.header(lang) for c in template.ANONYMOUS_COLUMNS}
    name = "Samordningsförbundet Göteborg Väster"
    budget = [
        {
            h["forbund"]: name,
            h["year"]: 2016,
            h["planned_participants"]: 40,
            h["budget_sek"]: 1200000,
            h["cost_sek"]: 1100000,
            h["esf_sek"]: 500000,
        }
    ]
    anonymous = [{a["forbund"]: name, a["year"]: 2017, a["count_woman"]: 3,
                  a["count_man"]: 2}]  # fmt: skip
    _fill(path, lang, _participant_rows(lang, with_forbund), budget, anonymous)


@pytest.mark.parametrize(("lang", "forbund"), [("sv", None), ("en", "vaster")])
def test_filled_template_cleans_without_description(
    tmp_path, monkeypatch, lang, forbund
):
    """A filled-in template in either language is cleaned with no description at all."""
    from rehab_analytics.clean.run import run_clean
    from rehab_analytics.processed import load

    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY)
    raw = tmp_path / "raw"
    path = template.write_template(
        raw / "inbox" / "rapport.xlsx", lang=lang, forbund=forbund
    )
    _fill_all(path, lang, with_forbund=forbund is None)
    result = run_clean(raw, tmp_path / "out")
    assert result.report["sources"]["template_inbox_rapport"]["rows_read"] == 5
    tables = load(tmp_path / "out")
    p = tables.participants
    assert p["forbund"].tolist() == ["vaster", "vaster"]
    assert p["subproject"].tolist() == ["motiverande", "motiverande"]
    assert p["sex"].tolist() == ["woman", "man"]
    assert p["municipality"].tolist() == ["1480", "1481"]
    assert p["education"].tolist() == ["upper_secondary", "compulsory"]
    assert p["start_date"].tolist() == [
        pd.Timestamp("2016-03-01"),
        pd.Timestamp("2017-09-04"),
    ]
    assert p["income_before__social_assistance"].tolist() == [True, False]
    assert p["income_before__activity_support"].tolist() == [True, False]
    assert p["income_before__sickness_benefit"].tolist() == [False, True]
    assert p["income_after__wage"].tolist() == [True, False]
    assert p["income_group_before"].tolist() == ["multiple", "ill_health"]
    assert p["support_years_before"].tolist() == ["2_5", "over_5"]
    assert p["occupation_after"].tolist() == ["employed", "unknown"]
    assert p["exit_reason"].iloc[0] == "completed" and pd.isna(p["exit_reason"].iloc[1])
    assert p["step_end"].tolist()[0] == 5 and p["health_start"].tolist() == [2, 3]
    assert p["id_kind"].tolist() == ["personnummer", "personnummer"]
    sub = tables.subprojects
    assert sub[
        ["forbund", "subproject", "year", "planned_participants"]
    ].values.tolist() == [["vaster", "motiverande", 2016, 40]]
    assert float(sub["budget_sek"].iloc[0]) == 1200000
    anon = tables.anonymous_counts
    assert set(anon["subproject"]) == {"motiverande"} and set(anon["year"]) == {2017}
    assert dict(zip(anon["sex"].astype(str), anon["count"], strict=True)) == {
        "woman": 3, "man": 2,
    }  # fmt: skip
    mine = tables.rejects[tables.rejects["source"] == "template_inbox_rapport"]
    assert mine[["source_row", "status", "reason"]].values.tolist() == [
        [5, "rejected", "end_before_start"]
    ]
    assert (tmp_path / "out" / "feedback" / "vaster.xlsx").is_file()


# ---------------------------------------------------------------- inspect


def test_inspect_csv_reports_encoding_delimiter_and_labels(tmp_path):
    """Inspect finds encoding, delimiter, decimal, fields, labels and date formats."""
    path = tmp_path / "ny" / "export.csv"
    path.parent.mkdir()
    text = (
        "Rapport\n"
        "Personnr;Kön;Inskrivningsdatum;Utskrivningsdatum;Försörjning före;"
        "Stegförflyttning start;Timmar\n"
        "640823-3234;M;1/3 2017;15/9 2017;Försörjningsstöd, A-kassa;2;12,5\n"
        "19900307-2387;Kvinna;2/3 2017;;Pluggbidrag;3;7,5\n"
    )
    path.write_bytes(text.encode("cp1252"))
    report = intake.inspect_file(path, write_description=tmp_path / "draft.toml")
    assert (report.encoding, report.delimiter, report.decimal) == ("cp1252", ";", ",")
    assert report.header_row == 2 and report.kind == "participants"
    fields = {c.header: c.field for c in report.columns}
    assert fields == {
        "Personnr": "personnummer", "Kön": "sex", "Inskrivningsdatum": "start_date",
        "Utskrivningsdatum": "end_date", "Försörjning före": "income_before",
        "Stegförflyttning start": "step_start", "Timmar": None,
    }  # fmt: skip
    assert report.date_formats == ["%d/%m %Y"]
    assert report.mapped()["income_before"].labels == {
        "Försörjningsstöd": "social_assistance", "A-kassa": "unemployment_insurance",
        "Pluggbidrag": None,
    }  # fmt: skip
    assert "labels of income_before with no code: ['Pluggbidrag']" in report.undecided
    assert any("organisation" in u for u in report.undecided)
    draft = (tmp_path / "draft.toml").read_text(encoding="utf-8")
    assert 'forbund = "new_forbund"  # CHECK' in draft
    assert '# "Pluggbidrag" = "?"' in draft
    assert "Could not decide" in report.summary()


def test_inspect_workbook_band_and_hidden_sheets(tmp_path):
    """Inspect lists hidden sheets and finds a merged header band over income columns."""
    path = template.write_template(tmp_path / "centrum" / "t.xlsx", lang="sv")
    _fill(path, "sv", _participant_rows("sv", with_forbund=True))
    report = intake.inspect_file(path, sheet="Deltagare")
    assert ("Listor", False) in report.sheets and (
        "_rehab_analytics",
        False,
    ) in report.sheets
    assert (report.header_row, report.band_row) == (2, 1)
    under = [c for c in report.columns if "under band" in c.evidence]
    assert len(under) == 20
    assert report.organisation.forbund == "centrum"
    assert "income_before = { band =" in report.description_toml()


SOURCES = ("nordost", "centrum", "hisingen", "vaster", "insjoriket", "alv_och_kust")


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """The sample data and its clean with the shipped descriptions."""
    from rehab_analytics.clean.run import run_clean
    from rehab_analytics.processed import load
    from rehab_analytics.sample.deliveries import write_sample

    root = tmp_path_factory.mktemp("inspect")
    mp = pytest.MonkeyPatch()
    mp.setenv("RA_PSEUDONYM_KEY", KEY)
    write_sample(root / "raw", participants=120, seed=1)
    run_clean(root / "raw", root / "base")
    yield root, load(root / "base")
    mp.undo()


def _assert_same_clean(base, other) -> None:
    for name in ("participants", "subprojects", "anonymous_counts"):
        pd.testing.assert_frame_equal(getattr(base, name), getattr(other, name))
    # The message of an impossible date lists the formats tried; the draft may
    # declare fewer (only those seen), so only that wording may differ.
    same = base.rejects["reason"] != "invalid_date"
    pd.testing.assert_frame_equal(base.rejects.drop(columns="message"),
                                  other.rejects.drop(columns="message"))  # fmt: skip
    pd.testing.assert_series_equal(base.rejects["message"][same],
                                   other.rejects["message"][same])  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("name", SOURCES)
def test_inspect_draft_cleans_sample_like_shipped(sample_run, name, monkeypatch):
    """The draft description of each sample source cleans it like the shipped one."""
    import shutil

    from rehab_analytics.clean.run import run_clean
    from rehab_analytics.config import BUILTIN_SOURCES_DIR
    from rehab_analytics.processed import load

    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY)
    root, base = sample_run
    first = sorted((root / "raw" / name).iterdir())[0]
    sources = root / f"sources_{name}"
    shutil.copytree(BUILTIN_SOURCES_DIR, sources)
    report = intake.inspect_file(first, write_description=sources / f"{name}.toml")
    assert not [
        u for u in report.undecided if not u.startswith("labels of exit_reason")
    ]
    run_clean(root / "raw", root / f"out_{name}", source_dirs=[sources])
    _assert_same_clean(base, load(root / f"out_{name}"))


@pytest.mark.slow
def test_inspect_budget_workbook_names_the_other_sheet(sample_run):
    """For the budget workbook inspect drafts the Budget table and names the other sheet."""
    root, _ = sample_run
    report = intake.inspect_file(root / "raw" / "projekt" / "budget.xlsx")
    assert report.kind == "subprojects" and report.sheet == "Budget"
    assert report.skip_rows == ("forbund", intake._TOTALS_PATTERN)
    assert set(report.mapped()) == {
        "forbund", "subproject", "year", "planned_participants", "budget_sek",
        "cost_sek", "esf_sek",
    }  # fmt: skip
    assert report.undecided == [
        "sheet 'Anonyma deltagare' also holds a table with other columns; run inspect "
        "--sheet 'Anonyma deltagare' and add its [[tables]] entry to the draft"
    ]
    other = intake.inspect_file(root / "raw" / "projekt" / "budget.xlsx",
                                sheet="Anonyma deltagare")  # fmt: skip
    assert other.kind == "anonymous_counts"
    assert {"count_by_sex.woman", "count_by_sex.man", "forbund", "year"} <= set(
        other.mapped()
    )


@pytest.mark.slow
def test_inspect_unseen_source_says_what_it_cannot_map(sample_run):
    """Without Hisingen's own description, its home-made labels are listed as undecided."""
    root, _ = sample_run
    path = sorted((root / "raw" / "hisingen").iterdir())[0]
    report = intake.inspect_file(path, exclude_source="hisingen")
    assert report.sheet_patterns == ["Deltagare*"]
    assert report.date_formats == ["%Y%m%d"]
    assert "labels of occupation_after with no code: ['Jobbar', 'Pluggar']" in (
        report.undecided
    )
    assert report.scales["step"]["labels"]["Steg 1"] == 1
