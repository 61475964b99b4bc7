"""Tests for cleaning one table (clean.table and the modules it uses): raw cells →
contract rows, rejects and warnings."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rehab_analytics import contract
from rehab_analytics.clean.column import as_text
from rehab_analytics.clean.table import clean_table
from rehab_analytics.clean.values import (
    episode_ids,
    income_flags,
    income_groups,
    map_vocabulary,
    parse_dates,
    parse_numbers,
)
from rehab_analytics.identity import find_personnummer_like, parse_ids, pseudonymise
from rehab_analytics.ingest import read_table_file
from rehab_analytics.sources import (
    Band,
    Organisation,
    Registry,
    Scale,
    SkipRule,
    SourceDescription,
    TableSpec,
    load_vocabularies,
)

KEY = b"test-key-" + b"x" * 32
ORG = Organisation(
    "nordost", "SF Nordost", "dino", "Dino", ("Nordost",), ("Dino coachning",), "Unga"
)
REGISTRY = Registry(
    (ORG, Organisation("vaster", "SF Väster", "motiverande", "Motiverande"))
)
VOCAB = load_vocabularies()
HEADER = "Personnummer;Kön;Startdatum;Slutdatum;Försörjning före;Sysselsättning efter;Avslutsorsak;Steg"
COLUMNS = {
    "personnummer": "Personnummer",
    "sex": "Kön",
    "start_date": "Startdatum",
    "end_date": "Slutdatum",
    "income_before": "Försörjning före",
    "occupation_after": "Sysselsättning efter",
    "exit_reason": "Avslutsorsak",
    "step_start": "Steg",
}
# Valid ids: 640823-3234 (man), 701063-2391 (samordningsnummer, man), 811228-9874 (man).
MAN, SAMORDNING, OTHER_MAN = "640823-3234", "701063-2391", "811228-9874"


def _spec(**kwargs) -> TableSpec:
    options = {
        "files": ("*.csv",),
        "columns": COLUMNS,
        "required": ("personnummer", "start_date"),
        "date_formats": ("%Y-%m-%d", "%d/%m %Y"),
        "excel_serial_dates": True,
    } | kwargs
    return TableSpec("participants", **options)


def _source(spec: TableSpec, **kwargs) -> SourceDescription:
    scales = {"step": Scale(1, 7)}
    return SourceDescription(
        "nordost", Path("nordost.toml"), ORG, (spec,), scales, **kwargs
    )


def _clean(tmp_path: Path, *files: tuple[str, str], spec: TableSpec | None = None):
    spec = spec or _spec()
    sheets = []
    for name, body in files:
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        sheets += read_table_file(path, spec, display=name)
    table, _ = clean_table(
        sheets, _source(spec), spec, REGISTRY, VOCAB, KEY, max_year=2020
    )
    return table


def _reasons(table) -> list[tuple[int, str, str, str]]:
    p = table.problems
    return list(
        zip(p["source_row"], p["column"], p["status"], p["reason"], strict=True)
    )


def test_as_text_trims_and_drops_apostrophes():
    """Cells become trimmed text; a leading apostrophe (Excel's text marker) goes."""
    out = as_text(
        pd.Series(
            ["  K ", 3.0, None, "'0701", "", 2.5, dt.date(2017, 1, 2)], dtype=object
        )
    )
    assert out.tolist() == ["K", "3", pd.NA, "0701", pd.NA, "2.5", "2017-01-02"]


def test_parse_numbers_swedish_formats_and_excel_errors():
    """Decimal comma, NBSP/space thousands, text numbers; Excel errors count as empty."""
    raw = pd.Series(
        ["1 234,5", "2\u00a0500", 7, "x", None, "'12", "#N/A", "−3"], dtype=object
    )
    numbers, invalid = parse_numbers(raw)
    assert numbers.tolist() == [1234.5, 2500.0, 7.0, pd.NA, pd.NA, 12.0, pd.NA, -3.0]
    assert invalid.tolist() == [False, False, False, True, False, False, False, False]


def test_parse_dates_serials_formats_and_impossible_dates():
    """Serials only where declared and in range; formats in order; 31 Feb is invalid."""
    raw = pd.Series(
        [
            42736,
            42736.75,
            "42736",
            "1/3 2017",
            "2017-02-31",
            dt.datetime(2017, 5, 6, 13),
            500,
            None,
            "#REF!",
        ],
        dtype=object,
    )
    dates, status = parse_dates(raw, ["%Y-%m-%d", "%d/%m %Y"], excel_serial=True)
    assert [str(d.date()) if pd.notna(d) else None for d in dates] == [
        "2017-01-01", "2017-01-01", "2017-01-01", "2017-03-01", None, "2017-05-06", None, None, None,
    ]  # fmt: skip
    assert status.tolist() == [
        "ok",
        "ok",
        "ok",
        "ok",
        "invalid",
        "ok",
        "invalid",
        "empty",
        "empty",
    ]
    _, status = parse_dates(pd.Series([42736], dtype=object), ["%Y%m%d"])
    assert status.tolist() == ["invalid"]


def test_parse_dates_range_and_yyyymmdd_numbers():
    """Dates before 2000 or after max_year are out of range; 20170102 reads as %Y%m%d."""
    raw = pd.Series([20170102, "1999-12-31", "2099-01-01", "2021-12-31"], dtype=object)
    dates, status = parse_dates(raw, ["%Y%m%d", "%Y-%m-%d"], max_year=2021)
    assert status.tolist() == ["ok", "out_of_range", "out_of_range", "ok"]
    assert dates.iloc[0] == pd.Timestamp("2017-01-02")


def test_map_vocabulary_normalises_labels():
    """Labels match whatever their case, diacritics and punctuation."""
    codes, unknown = map_vocabulary(
        pd.Series(["FÖRVÄRVSARBETE", "Aktivt  ARBETSSÖKANDE.", "Praktik", None]),
        VOCAB["occupation"],
    )
    assert codes.fillna("-").tolist() == ["employed", "job_seeking", "-", "-"]
    assert unknown.tolist() == [False, False, True, False]


def test_income_flags_split_list_cells():
    """Multi-select cells become one flag per income source; unknown labels are listed."""
    flags, unknown = income_flags(
        pd.Series(["A-kassa, Ek. bistånd", "Lön,Praktik", None]),
        VOCAB["income_source"],
        ",",
    )
    assert flags.loc[0, "unemployment_insurance"] and flags.loc[0, "social_assistance"]
    assert flags.loc[1, "wage"] and not flags.loc[2].any()
    assert unknown.to_dict("records") == [{"pos": 1, "value": "Praktik"}]


def test_income_groups_match_the_contract_rule():
    """The vectorised group equals contract.income_group for every pair of sources."""
    combos = [set()] + [{a} for a in contract.INCOME_SOURCES]
    combos += [set(c) for c in itertools.combinations(contract.INCOME_SOURCES, 2)]
    flags = pd.DataFrame([{s: s in c for s in contract.INCOME_SOURCES} for c in combos])
    assert income_groups(flags).tolist() == [contract.income_group(c) for c in combos]


def test_episode_ids_are_deterministic_and_keyed():
    """Same inputs and key give the same id; another key gives another id."""
    args = (
        pd.Series(["dino", "dino"]),
        pd.Series(["abc", None], dtype="string"),
        pd.Series(["a.csv::2", "a.csv::3"]),
        pd.Series(pd.to_datetime(["2017-01-02", "2017-01-02"])),
    )
    first, again = episode_ids(*args, KEY), episode_ids(*args, KEY)
    pd.testing.assert_series_equal(first, again)
    assert first.str.fullmatch(r"E[0-9a-f]{16}").all() and first[0] != first[1]
    assert episode_ids(*args, b"y" * 40)[0] != first[0]


def test_clean_row_values(tmp_path):
    """A clean row gets codes, derived age/sex/birth year, days and a keyed pseudonym."""
    body = f"{HEADER}\n{MAN};M;2017-01-02;2017-06-01;A-kassa, Lön;Arbete;Avslutad enligt plan;3\n"
    table = _clean(tmp_path, ("a.csv", body))
    row = table.rows.iloc[0]
    expected_key = pseudonymise(parse_ids(pd.Series([MAN]))["id12"], KEY)[0]
    assert row["participant_key"] == expected_key
    assert (row["id_kind"], row["sex"], row["birth_year"], row["age_at_start"]) == (
        "personnummer",
        "man",
        1964,
        52,
    )
    assert (row["days_in_programme"], row["step_start"]) == (150, 3)
    assert row["income_before__unemployment_insurance"] and row["income_before__wage"]
    assert row["income_group_before"] == "labour_market"
    assert (
        row["occupation_after"],
        row["exit_reason"],
        row["work_or_study_after"],
    ) == ("employed", "completed", True)
    assert (row["source_file"], row["source_sheet"], row["source_row"]) == (
        "a.csv",
        "",
        2,
    )
    assert list(table.rows.columns) == list(contract.PARTICIPANT_COLUMNS)
    assert table.problems.empty


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        (f"{MAN};M;;;;;;", "Startdatum", "missing_required"),
        (f"{MAN};M;#N/A;;;;;", "Startdatum", "missing_required"),
        (f"{MAN};M;2017-02-30;;;;;", "Startdatum", "invalid_date"),
        (f"{MAN};M;snart;;;;;", "Startdatum", "invalid_date"),
        (f"{MAN};M;2017-01-02;31/4 2017;;;;", "Slutdatum", "invalid_date"),
        (f"{MAN};M;1999-12-31;;;;;", "Startdatum", "date_out_of_range"),
        (f"{MAN};M;2017-01-02;2099-01-01;;;;", "Slutdatum", "date_out_of_range"),
        (f"{MAN};M;2017-03-01;2017-02-01;;;;", "Slutdatum", "end_before_start"),
        ("20100101-0008;K;2017-03-01;;;;;", "Personnummer", "age_out_of_range"),
        ("19400101-0004;K;2017-03-01;;;;;", "Personnummer", "age_out_of_range"),
    ],
)
def test_each_reject_reason(tmp_path, line, column, reason):
    """Each reject rule removes the row and records one problem naming the column."""
    from rehab_analytics.identity import luhn_digit

    if line.startswith(("2010", "1940")):
        digits = line[2:8] + line[9:12]
        line = line[:12] + luhn_digit(digits) + line[13:]
    table = _clean(tmp_path, ("a.csv", f"{HEADER}\n{line}\n"))
    assert table.rows.empty
    assert _reasons(table) == [(2, column, "rejected", reason)]
    assert table.status["status"].tolist() == ["rejected"]


def test_totals_row_is_skipped(tmp_path):
    """A row matching skip_rows is skipped, not rejected, with the matched text."""
    spec = _spec(skip_rows=SkipRule("personnummer", r"(?i)^\s*summa"))
    body = f"{HEADER}\n{MAN};M;2017-01-02;;;;;\nSumma;;;;;;;\n"
    table = _clean(tmp_path, ("a.csv", body), spec=spec)
    assert _reasons(table) == [(3, "Personnummer", "skipped", "totals_row")]
    assert table.problems["value"].tolist() == ["Summa"]
    assert table.status["status"].tolist() == ["clean", "skipped"]


def test_duplicates_across_files_keep_the_first(tmp_path):
    """The same person and start date in a later file (sorted order) is a duplicate."""
    row = f"{MAN};M;2017-01-02;;;;;"
    table = _clean(
        tmp_path,
        ("a.csv", f"{HEADER}\n{row}\n"),
        ("b.csv", f"{HEADER}\n{row}\n{SAMORDNING};;2017-01-02;;;;;\n"),
    )
    assert _reasons(table) == [(2, "Personnummer", "rejected", "duplicate_episode")]
    assert table.problems["source_file"].tolist() == ["b.csv"]
    assert table.rows["source_file"].tolist() == ["a.csv", "b.csv"]
    assert table.rows["episode_id"].is_unique


def test_unkeyed_rows_are_never_duplicates(tmp_path):
    """Rows without a valid id are kept even with the same start date."""
    body = f"{HEADER}\n;K;2017-01-02;;;;;\n;K;2017-01-02;;;;;\n"
    table = _clean(tmp_path, ("a.csv", body))
    assert len(table.rows) == 2 and table.rows["episode_id"].is_unique
    assert table.rows["id_kind"].tolist() == ["missing", "missing"]


@pytest.mark.parametrize(
    ("line", "column", "reason", "check"),
    [
        (
            "640823-3235;M;2017-01-02;;;;;",
            "Personnummer",
            "invalid_id",
            ("id_kind", "invalid"),
        ),
        (
            "R-12345;M;2017-01-02;;;;;",
            "Personnummer",
            "unrecognised_id",
            ("id_kind", "other"),
        ),
        (";K;2017-01-02;;;;;", "Personnummer", "missing_id", ("sex", "woman")),
        (f"{MAN};Q;2017-01-02;;;;;", "Kön", "unknown_label", ("sex", "man")),
        (f"{MAN};K;2017-01-02;;;;;", "Kön", "sex_conflicts_with_id", ("sex", "woman")),
        (
            f"{MAN};M;2017-01-02;;;;;9",
            "Steg",
            "value_out_of_scale",
            ("step_start", pd.NA),
        ),
        (
            f"{MAN};M;2017-01-02;;;;;tre",
            "Steg",
            "invalid_number",
            ("step_start", pd.NA),
        ),
        (
            f"{MAN};M;2017-01-02;;;;;#VALUE!",
            "Steg",
            "invalid_number",
            ("step_start", pd.NA),
        ),
        (
            f"{MAN};M;2017-01-02;2017-05-01;;Praktik;;",
            "Sysselsättning efter",
            "unknown_label",
            ("occupation_after", "unknown"),
        ),
        (
            f"{MAN};M;2017-01-02;;A-kassa, Praktik;;;",
            "Försörjning före",
            "unknown_label",
            ("income_before__unemployment_insurance", True),
        ),
    ],
)
def test_each_warning_keeps_the_row(tmp_path, line, column, reason, check):
    """Warnings keep the row with the value set to unknown/empty (or the sheet's value)."""
    table = _clean(tmp_path, ("a.csv", f"{HEADER}\n{line}\n"))
    assert _reasons(table) == [(2, column, "warning", reason)]
    field, value = check
    got = table.rows.iloc[0][field]
    assert (pd.isna(got) and pd.isna(value)) or got == value


def test_ids_never_reach_the_problems(tmp_path):
    """Problem values and messages never contain a personnummer."""
    body = f"{HEADER}\n640823-3235;M;2017-01-02;;;;;\n{MAN};M;2017-01-02;;;;;\n{MAN};M;2017-01-02;;;;;\n"
    table = _clean(tmp_path, ("a.csv", body))
    text = table.problems.to_csv()
    assert find_personnummer_like(text) == [] and "640823" not in text


def test_misregistration_and_active_have_no_outcome(tmp_path):
    """Misregistrations and active episodes keep no after-values; active exit is NA."""
    body = (
        f"{HEADER}\n"
        f"{MAN};M;2017-01-02;2017-03-01;;Arbete;Felregistrering;\n"
        f"{SAMORDNING};M;2017-01-02;;;Studier;;\n"
        f"{OTHER_MAN};M;2017-01-02;2017-03-01;;;;\n"
    )
    rows = _clean(tmp_path, ("a.csv", body)).rows
    assert rows["occupation_after"].tolist() == ["unknown", "unknown", "unknown"]
    assert rows["work_or_study_after"].isna().all()
    assert rows["exit_reason"].astype(object).fillna("NA").tolist() == [
        "misregistration",
        "NA",
        "unknown",
    ]
    assert rows["days_in_programme"].tolist() == [58, pd.NA, 58]


def test_band_income_columns(tmp_path):
    """Income given as X marks under Före/Efter bands becomes the flag columns."""
    columns = {
        "personnummer": "Personnummer",
        "start_date": "Startdatum",
        "end_date": "Slutdatum",
        "income_before": Band("Före"),
        "income_after": Band("Efter"),
    }
    spec = _spec(columns=columns, header_row=2, band_row=1)
    body = (
        ";;;Före;;Efter;\n"
        "Personnummer;Startdatum;Slutdatum;Sjukpenning;Ek. bistånd;Sjukpenning;Lön\n"
        f"{MAN};2017-01-02;2017-05-01;X;ja;;x\n"
    )
    row = _clean(tmp_path, ("a.csv", body), spec=spec).rows.iloc[0]
    assert (
        row["income_before__sickness_benefit"]
        and row["income_before__social_assistance"]
    )
    assert row["income_group_before"] == "multiple"
    assert row["income_after__wage"] and not row["income_after__sickness_benefit"]
    assert row["income_group_after"] == "none_public"


def test_municipality_and_support_years(tmp_path):
    """Municipality names map to kommunkod; support years as numbers are banded."""
    columns = {**COLUMNS, "municipality": "Kommun", "support_years_before": "År"}
    spec = _spec(columns=columns)
    body = (
        f"{HEADER};Kommun;År\n"
        f"{MAN};M;2017-01-02;;;;;;Kungälv;0,5\n"
        f"{SAMORDNING};M;2017-01-02;;;;;;1480;2\n"
        f"{OTHER_MAN};M;2017-01-02;;;;;;Atlantis;Mer än 5 år\n"
    )
    table = _clean(tmp_path, ("a.csv", body), spec=spec)
    assert table.rows["municipality"].tolist() == ["1482", "1480", pd.NA]
    assert table.rows["support_years_before"].tolist() == ["under_1", "1_2", "over_5"]
    assert _reasons(table) == [(4, "Kommun", "warning", "unknown_label")]


def test_source_vocabulary_and_scale_labels(tmp_path):
    """A source's own labels and scale labels are used."""
    spec = _spec()
    vocab = {k: dict(v) for k, v in VOCAB.items()}
    vocab["occupation"]["jobbar"] = "employed"
    source = _source(spec)
    source = SourceDescription(
        source.name, source.path, ORG, (spec,), {"step": Scale(1, 7, {"steg 4": 4})}
    )
    path = tmp_path / "a.csv"
    path.write_text(f"{HEADER}\n{MAN};M;2017-01-02;2017-02-01;;Jobbar;;Steg 4\n")
    sheets = read_table_file(path, spec, display="a.csv")
    table, _ = clean_table(sheets, source, spec, REGISTRY, vocab, KEY, max_year=2020)
    assert table.rows.iloc[0][["occupation_after", "step_start"]].tolist() == [
        "employed",
        4,
    ]


def test_row_accounting_and_blank_rows(tmp_path):
    """Every non-blank row is clean, rejected or skipped exactly once."""
    spec = _spec(skip_rows=SkipRule("personnummer", "(?i)^summa"))
    body = (
        f"{HEADER}\n{MAN};M;2017-01-02;;;;;\n;;;;;;;\n{MAN};M;2017-01-02;;;;;\n"
        f"{SAMORDNING};M;2017-02-30;;;;;\nSumma;;;;;;;\n"
    )
    table = _clean(tmp_path, ("a.csv", body), spec=spec)
    assert table.status["status"].tolist() == [
        "clean",
        "rejected",
        "rejected",
        "skipped",
    ]
    assert table.status["source_row"].tolist() == [2, 4, 5, 6]


def test_subprojects_resolve_aliases_and_skip_totals(tmp_path):
    """Budget rows name förbund/subproject by alias; unknown names and totals are not rows."""
    spec = TableSpec(
        "subprojects",
        ("b.csv",),
        {
            "forbund": "Förbund",
            "subproject": "Delprojekt",
            "year": "År",
            "esf_sek": "ESF",
        },
        required=("forbund", "subproject", "year"),
        skip_rows=SkipRule("forbund", "(?i)^totalt"),
    )
    body = (
        "Förbund;Delprojekt;År;ESF\nNordost;Dino coachning;2017;1\u00a0234\u00a0567\n"
        "Nordost;Okänt;2017;5\nTotalt;;;9\nNordost;dino;2017;3\n"
    )
    path = tmp_path / "b.csv"
    path.write_text(body)
    source = SourceDescription("projekt", Path("projekt.toml"), None, (spec,))
    table, _ = clean_table(
        read_table_file(path, spec, display="b.csv"),
        source,
        spec,
        REGISTRY,
        VOCAB,
        KEY,
        max_year=2020,
    )
    assert table.rows[
        ["forbund", "subproject", "name", "target_group", "year", "esf_sek"]
    ].values.tolist() == [["nordost", "dino", "Dino", "Unga", 2017, 1234567]]
    assert [r[3] for r in _reasons(table)] == [
        "unknown_organisation",
        "totals_row",
        "duplicate_row",
    ]


def test_anonymous_counts_wide_by_forbund(tmp_path):
    """Wide counts by sex become long rows; the förbund's only subproject is used."""
    spec = TableSpec(
        "anonymous_counts",
        ("a.csv",),
        {
            "forbund": "Förbund",
            "year": "År",
            "count_by_sex": {"woman": "Kvinnor", "man": "Män"},
        },
        required=("forbund", "year"),
    )
    path = tmp_path / "a.csv"
    path.write_text(
        "Förbund;År;Kvinnor;Män\nNordost;2016;2;0\nSF Väster;2017;;1\nNordost;2018;-1;1\n"
    )
    source = SourceDescription("projekt", Path("projekt.toml"), None, (spec,))
    table, _ = clean_table(
        read_table_file(path, spec, display="a.csv"),
        source,
        spec,
        REGISTRY,
        VOCAB,
        KEY,
        max_year=2020,
    )
    assert table.rows.values.tolist() == [
        ["nordost", "dino", 2016, "woman", 2],
        ["nordost", "dino", 2016, "man", 0],
        ["vaster", "motiverande", 2017, "man", 1],
    ]
    assert _reasons(table) == [(4, "Kvinnor", "rejected", "invalid_number")]


def test_clean_does_not_mutate_input(tmp_path):
    """Cleaning leaves the raw frames untouched."""
    path = tmp_path / "a.csv"
    path.write_text(f"{HEADER}\n{MAN};M;2017-01-02;;;;;\n")
    spec = _spec()
    sheets = read_table_file(path, spec, display="a.csv")
    before = sheets[0].data.copy()
    clean_table(sheets, _source(spec), spec, REGISTRY, VOCAB, KEY, max_year=2020)
    pd.testing.assert_frame_equal(sheets[0].data, before)


def test_distinct_values_are_parsed_once(tmp_path, monkeypatch):
    """Dates are parsed per distinct value, not per row (the performance contract)."""
    import rehab_analytics.clean.values as clean_module

    calls = []
    original = clean_module._date_of

    def counting(*args):
        calls.append(args[1])
        return original(*args)

    monkeypatch.setattr(clean_module, "_date_of", counting)
    values = pd.Series(np.array(["2017-01-02", "2017-01-03"] * 500, dtype=object))
    parse_dates(values)
    assert sorted(calls) == ["2017-01-02", "2017-01-03"]
