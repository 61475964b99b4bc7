"""Fuzzing the readers and value normalisation: only package errors, rows never lost."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from badinput import HEADER, P1, P2, write_xlsx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rehab_analytics.clean.column import EXCEL_ERRORS, as_text
from rehab_analytics.clean.table import clean_table
from rehab_analytics.clean.validate import coerce_table, validate_table
from rehab_analytics.clean.values import map_vocabulary, parse_dates, parse_numbers
from rehab_analytics.errors import RehabAnalyticsError
from rehab_analytics.identity import parse_ids
from rehab_analytics.ingest import read_table_file
from rehab_analytics.sources import (
    build_registry,
    load_vocabularies,
    parse_description,
    source_vocabularies,
)

KEY = b"fuzz-key-" + b"x" * 32
# RA_FUZZ_EXAMPLES=1000 for a deeper search by hand; the suite stays fast.
FUZZ = settings(
    max_examples=int(os.environ.get("RA_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
SUFFIXES = [".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt", ".tsv"]
# Every kind of field: ids, vocabularies, dates, numbers, list cells, scales.
FUZZ_HEADER = [
    "Personnummer",
    "Kön",
    "Startdatum",
    "Slutdatum",
    "Utbildning",
    "Kommun",
    "Försörjning före",
    "Steg start",
    "Avslutsorsak",
    "Födelseår",
]
FUZZ_TOML = """\
[organisation]
forbund = "fuzzfb"
forbund_name = "Fuzzförbundet"
subproject = "fuzzsp"
subproject_name = "Fuzz"

[[tables]]
kind = "participants"
files = ["bad/*"]
excel_serial_dates = true
skip_rows = { column = "personnummer", pattern = "(?i)^summa" }

[tables.columns]
personnummer = "Personnummer"
sex = "Kön"
start_date = "Startdatum"
end_date = "Slutdatum"
education = "Utbildning"
municipality = "Kommun"
income_before = "Försörjning före"
step_start = "Steg start"
exit_reason = "Avslutsorsak"
birth_year = "Födelseår"

[scales.step]
min = 1
max = 7
"""


@pytest.fixture(scope="module")
def described():
    """The bad-input test source (participants under bad/) with its registry."""
    folder = Path(tempfile.mkdtemp())
    path = folder / "bad.toml"
    path.write_text(FUZZ_TOML, encoding="utf-8")
    source = parse_description(path)
    registry = build_registry([source])
    vocab = source_vocabularies(load_vocabularies(), source)
    return source, registry, vocab


def _valid_xlsx() -> bytes:
    buf = io.BytesIO()
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [HEADER, [P1, "M", "2017-01-02", "", "Gymnasial", ""]]:
        ws.append(row)
    wb.save(buf)
    return buf.getvalue()


VALID_XLSX = _valid_xlsx()


def _read_and_clean(path: Path, described) -> None:
    """Read and clean one file; accounting must hold and the rows must validate."""
    source, registry, vocab = described
    spec = source.tables[0]
    try:
        sheets = read_table_file(path, spec, display=f"bad/{path.name}")
    except RehabAnalyticsError as exc:
        assert str(exc).startswith(f"bad/{path.name}"), str(exc)
        return
    table, _ = clean_table(sheets, source, spec, registry, vocab, KEY, max_year=2030)
    rows_read = sum(len(s.data) for s in sheets)
    assert len(table.status) == rows_read
    counts = table.status["status"].value_counts()
    assert counts.sum() == rows_read
    assert len(table.rows) == counts.get("clean", 0)
    rejected = table.problems[table.problems["status"] == "rejected"]
    assert (
        rejected[["source_file", "source_sheet", "source_row"]].duplicated().sum() == 0
    )
    assert len(rejected) == counts.get("rejected", 0)
    failures = validate_table(
        coerce_table(table.rows, "participants", registry), "participants", registry
    )
    assert failures.empty, failures.to_dict("records")[:3]
    problems = validate_table(
        coerce_table(table.problems, "rejects", registry), "rejects", registry
    )
    assert problems.empty, problems.to_dict("records")[:3]


def _mutate(data: bytes, cuts: list[tuple[int, int]]) -> bytes:
    buf = bytearray(data)
    for pos, value in cuts:
        buf[pos % len(buf)] = value
    return bytes(buf)


binary_files = st.one_of(
    st.binary(max_size=4000),
    st.binary(max_size=2000).map(lambda b: b"PK\x03\x04" + b),
    st.binary(max_size=2000).map(lambda b: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b),
    st.integers(1, len(VALID_XLSX)).map(lambda n: VALID_XLSX[:n]),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8).map(
        lambda cuts: _mutate(VALID_XLSX, cuts)
    ),
)


@FUZZ
@given(data=binary_files, suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_give_only_package_errors(data, suffix, described):
    """Any bytes under any extension: a located RehabAnalyticsError or clean rows."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        _read_and_clean(path, described)


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
_cells = st.one_of(
    st.none(),
    _text,
    st.integers(-(10**12), 10**13),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.dates(dt.date(1890, 1, 1), dt.date(2200, 1, 1)),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2100, 1, 1)),
    st.sampled_from(sorted(EXCEL_ERRORS)),
    st.sampled_from([P1, P2, "640823-3234", "701063-2391", "19900101-R123", "'" + P1]),
    st.sampled_from(["2017-02-31", "2099-01-01", "42737", "1/2/2017", "\u00a0", " "]),
    st.sampled_from(["Kvinna", "M", "Gymnasial", "=1+1", "-3", "#N/A", "x", "Summa"]),
    st.sampled_from(["1480", "14", "Göteborg", "A-kassa, Lön", ",,", "3,5", "1 234"]),
    st.sampled_from(["¹", "٣٤", "１２", "\u2212" + "2", "1e400", "NaN", "inf"]),
)
_rows = st.lists(st.lists(_cells, min_size=8, max_size=11), min_size=0, max_size=8)


def _xlsx_value(value):
    if isinstance(value, str) and value.startswith("="):
        return value  # a formula without a cached value; also a case worth fuzzing
    return value


@FUZZ
@given(rows=_rows, header=st.booleans())
def test_random_cells_in_xlsx_keep_every_row(rows, header, described):
    """Random cell values in a small workbook: rows read = clean + rejected + skipped."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cells.xlsx"
        body = [[_xlsx_value(v) for v in r] for r in rows]
        write_xlsx(path, [FUZZ_HEADER, *body] if header else body)
        _read_and_clean(path, described)


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


@FUZZ
@given(rows=_rows, encoding=st.sampled_from(["utf-8", "cp1252", "utf-8-sig"]))
def test_random_cells_in_csv_keep_every_row(rows, encoding, described):
    """Random cell texts in a small CSV in any encoding: accounting holds, no crash."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\n").writerows(
        [FUZZ_HEADER, *[[_csv_text(v) for v in r] for r in rows]]
    )
    data = buf.getvalue().encode(encoding, errors="replace")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cells.csv"
        path.write_bytes(data)
        _read_and_clean(path, described)


_objects = st.lists(_cells, max_size=30).map(lambda v: pd.Series(v, dtype=object))


@FUZZ
@given(values=_objects)
def test_value_normalisation_is_total(values):
    """as_text, parse_numbers, parse_dates, map_vocabulary and parse_ids accept any cell."""
    text = as_text(values)
    assert text.index.equals(values.index)
    assert not text.dropna().str.len().eq(0).any()
    numbers, invalid = parse_numbers(values)
    assert numbers.dtype == "Float64" and invalid.dtype == bool
    assert not (invalid & numbers.notna()).any()
    assert np.isfinite(numbers.dropna().to_numpy(dtype=float)).all()
    dates, status = parse_dates(
        values, ["%Y-%m-%d", "%d/%m/%Y"], excel_serial=True, max_year=2030
    )
    assert set(status) <= {"ok", "empty", "invalid", "out_of_range"}
    ok = dates.dropna()
    assert (
        (ok >= pd.Timestamp("2000-01-01")) & (ok <= pd.Timestamp("2030-12-31"))
    ).all()
    assert (dates.notna() == (status == "ok")).all()
    codes, unknown = map_vocabulary(values, {"kvinna": "woman", "m": "man"})
    assert not (unknown & codes.notna()).any()
    ids = parse_ids(values)
    assert ids.index.equals(values.index)
    assert set(ids["id_kind"]) <= {
        "personnummer",
        "samordningsnummer",
        "other",
        "missing",
        "invalid",
    }
    valid = ids["id_kind"].isin(["personnummer", "samordningsnummer"])
    assert ids.loc[valid, "id12"].str.fullmatch(r"\d{12}").all()
    assert ids.loc[~valid, "id12"].isna().all()
