"""Tests for rehab_analytics.clean.run: run_clean end to end, outputs, report, load."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from rehab_analytics import contract
from rehab_analytics.clean.run import run_clean
from rehab_analytics.clean.write import write_atomic
from rehab_analytics.errors import (
    InputFileError,
    KeyMissingError,
    SourceDescriptionError,
)
from rehab_analytics.identity import find_personnummer_like, pseudonymise
from rehab_analytics.keys import key_fingerprint, resolve_key
from rehab_analytics.processed import OUTPUT_FILES, load

KEY = "pipeline-test-key-" + "k" * 32
SEVENTH = """
[organisation]
forbund = "almhult"
forbund_name = "Älmhults kommun"
subproject = "dagverksamhet"
subproject_name = "Daglig verksamhet"
target_group = "Personer med psykisk funktionsnedsättning"

[[tables]]
kind = "participants"
files = ["almhult/*.csv"]
header_row = "auto"
skip_rows = { column = "personnummer", pattern = "(?i)^summa" }

[tables.columns]
personnummer = "Personnummer"
sex = "Kön"
start_date = "Start"
end_date = "Slut"
occupation_after = "Sysselsättning efter"
exit_reason = "Avslutsorsak"
"""
ROWS = (
    "Deltagare i daglig verksamhet;;;;;;Namn\n"
    "Personnummer;Kön;Start;Slut;Sysselsättning efter;Avslutsorsak;Namn\n"
    "640823-3234;M;2017-01-02;2017-06-01;Arbete;Avslutad enligt plan;Anna Andersson\n"
    ";;;;;;\n"
    "701063-2391;M;2017-03-01;;;;Bo Berg\n"
    "640823-3234;M;2017-01-02;;;;Anna Andersson\n"
    "811228-9874;M;2017-02-30;;;;Carl Cederlund\n"
    "Summa;;;;;;\n"
)


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("RA_KEY_FILE", str(tmp_path / "no-such.key"))
    monkeypatch.delenv("RA_SOURCES_DIR", raising=False)


def _raw(tmp_path: Path, rows: str = ROWS) -> tuple[Path, Path]:
    raw, sources = tmp_path / "raw", tmp_path / "sources"
    (raw / "almhult").mkdir(parents=True)
    sources.mkdir()
    (sources / "almhult.toml").write_text(SEVENTH, encoding="utf-8")
    (raw / "almhult" / "deltagare.csv").write_text(rows, encoding="utf-8")
    return raw, sources


def test_seventh_organisation_end_to_end(tmp_path):
    """A source added by one TOML file is cleaned, counted and written, no code change."""
    raw, sources = _raw(tmp_path)
    result = run_clean(raw, tmp_path / "out", source_dirs=[sources])
    assert result.ok
    s = result.report["sources"]["almhult"]
    assert (
        s["rows_read"],
        s["rows_clean"],
        s["rows_rejected"],
        s["rows_skipped"],
        s["blank_rows"],
    ) == (5, 2, 2, 1, 1)
    assert s["rejected_by_reason"] == {"duplicate_episode": 1, "invalid_date": 1}
    assert s["files"][0]["header_row"] == 2
    tables = load(tmp_path / "out")
    assert list(tables.participants["subproject"].cat.categories) == ["dagverksamhet"]
    assert tables.participants["source_row"].tolist() == [3, 5]
    assert set(OUTPUT_FILES.values()) <= {p.name for p in (tmp_path / "out").iterdir()}
    line = next(x for x in result.summary().splitlines() if "almhult" in x)
    assert (
        "5 rows read" in line
        and "2 clean" in line
        and "2 rejected" in line
        and "1 skipped" in line
    )


def test_outputs_hold_no_personal_data(tmp_path):
    """No personnummer, name or raw id reaches any output file; the key is not in the report."""
    raw, sources = _raw(tmp_path)
    run_clean(raw, tmp_path / "out", source_dirs=[sources])
    for path in (tmp_path / "out").iterdir():
        if path.suffix == ".parquet":
            text = pd.read_parquet(path).astype(str).to_csv()
        elif path.is_file():
            text = path.read_text(encoding="utf-8-sig")
        else:
            continue
        assert find_personnummer_like(text) == [], path.name
        assert "Andersson" not in text and "6408233234" not in text, path.name
        assert KEY not in text


def test_report_counts_and_key_origin(tmp_path):
    """The report has per-source counts, warnings by reason, the key's origin and
    fingerprint (never the key)."""
    raw, sources = _raw(tmp_path)
    run_clean(raw, tmp_path / "out", source_dirs=[sources])
    report = json.loads(
        (tmp_path / "out" / "cleaning_report.json").read_text(encoding="utf-8")
    )
    assert report["key"] == {
        "origin": "environment",
        "path": None,
        "fingerprint": key_fingerprint(KEY.encode()),
        "rekeyed": False,
        "previous_fingerprint": None,
    }
    assert report["sources"]["almhult"]["warnings"] == {}
    assert report["totals"]["participants"] == 2
    assert report["validation"] == []


def test_rejects_csv_for_people(tmp_path):
    """rejects.csv is Swedish-Excel friendly: BOM, ';' and one row per problem."""
    raw, sources = _raw(tmp_path)
    run_clean(raw, tmp_path / "out", source_dirs=[sources])
    text = (tmp_path / "out" / "rejects.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(
        tmp_path / "out" / "rejects.csv",
        sep=";",
        encoding="utf-8-sig",
        keep_default_na=False,
    )
    assert list(frame.columns) == list(contract.REJECT_COLUMNS)
    assert frame["reason"].tolist() == [
        "duplicate_episode",
        "invalid_date",
        "totals_row",
    ]


def test_same_input_same_bytes(tmp_path):
    """Two runs on the same input with the same key write identical files."""
    raw, sources = _raw(tmp_path)
    run_clean(raw, tmp_path / "a", source_dirs=[sources])
    run_clean(raw, tmp_path / "b", source_dirs=[sources])
    for name in OUTPUT_FILES.values():
        assert (tmp_path / "a" / name).read_bytes() == (
            tmp_path / "b" / name
        ).read_bytes(), name


def test_worker_processes_write_the_same_bytes(tmp_path, monkeypatch):
    """Sources cleaned in worker processes (and the feedback written by a forked
    process) give the same outputs and the same per-source errors as doing it all
    one step after the other in this process."""
    from rehab_analytics.clean import run as pipeline

    raw, sources = _raw(tmp_path)
    broken = SEVENTH.replace('"almhult"', '"tranemo"').replace(
        '"dagverksamhet"', '"mote"'
    )
    (sources / "tranemo.toml").write_text(
        broken.replace("almhult/*.csv", "tranemo/*.xlsx")
    )
    (raw / "tranemo").mkdir()
    (raw / "tranemo" / "data.xlsx").write_bytes(b"")
    monkeypatch.setattr(pipeline, "_PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(pipeline, "_FEEDBACK_FORK_MIN_ROWS", 0)
    one = run_clean(raw, tmp_path / "a", source_dirs=[sources], jobs=1)
    two = run_clean(raw, tmp_path / "b", source_dirs=[sources], jobs=2)
    assert one.report["sources"] == two.report["sources"]
    assert "0 bytes" in two.report["sources"]["tranemo"]["error"]
    for name in OUTPUT_FILES.values():
        assert (tmp_path / "a" / name).read_bytes() == (
            tmp_path / "b" / name
        ).read_bytes(), name
    # The feedback workbooks, written by a forked process from the tables in
    # memory, hold the cells `write_feedback` writes from the files on disk.
    from rehab_analytics.clean.feedback import write_feedback

    forked = sorted((tmp_path / "b" / "feedback").glob("*.xlsx"))
    assert [p.name for p in forked] == ["almhult.xlsx", "tranemo.xlsx"]
    from_disk = write_feedback(tmp_path / "b")
    assert [p.name for p in from_disk] == [p.name for p in forked]
    for path in forked:
        assert _cells(path) == _cells(tmp_path / "a" / "feedback" / path.name)
    write_feedback(tmp_path / "a")
    for path in forked:
        assert _cells(path) == _cells(tmp_path / "a" / "feedback" / path.name)


def _cells(path):
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [[list(r) for r in ws.iter_rows(values_only=True)] for ws in book]
    finally:
        book.close()


def test_a_broken_source_does_not_stop_the_others(tmp_path):
    """An unreadable source is reported with ok=False; the other sources are cleaned."""
    raw, sources = _raw(tmp_path)
    broken = SEVENTH.replace('"almhult"', '"tranemo"').replace(
        '"dagverksamhet"', '"mote"'
    )
    (sources / "tranemo.toml").write_text(
        broken.replace("almhult/*.csv", "tranemo/*.xlsx")
    )
    (raw / "tranemo").mkdir()
    (raw / "tranemo" / "data.xlsx").write_bytes(b"")
    result = run_clean(raw, tmp_path / "out", source_dirs=[sources])
    assert not result.ok
    assert "0 bytes" in result.report["sources"]["tranemo"]["error"]
    assert result.report["sources"]["almhult"]["rows_clean"] == 2
    assert "tranemo  ERROR: tranemo/data.xlsx: the file is empty" in result.summary()
    assert len(load(tmp_path / "out").participants) == 2


def test_missing_files_are_reported_per_source(tmp_path):
    """A source without files is reported as not delivered; only when no source
    delivered anything is the run a failure."""
    raw, sources = _raw(tmp_path)
    (raw / "almhult" / "deltagare.csv").unlink()
    result = run_clean(raw, tmp_path / "out", source_dirs=[sources])
    entry = result.report["sources"]["almhult"]
    assert entry["error"] is None
    assert "no file in the raw folder" in entry["not_delivered"]
    assert "Not delivered: almhult" in result.summary()
    delivered = [
        s for s in result.report["sources"].values() if not s.get("not_delivered")
    ]
    assert result.ok == bool(delivered)


def test_missing_raw_folder(tmp_path):
    """A raw folder that does not exist is a clear error."""
    with pytest.raises(InputFileError, match="raw folder does not exist"):
        run_clean(tmp_path / "nothing", tmp_path / "out")


def test_real_data_needs_a_key(tmp_path, monkeypatch):
    """Without a key (and without the sample marker) cleaning refuses to run."""
    monkeypatch.delenv("RA_PSEUDONYM_KEY")
    raw, sources = _raw(tmp_path)
    with pytest.raises(
        KeyMissingError, match="Real data is never pseudonymised without a key"
    ):
        run_clean(raw, tmp_path / "out", source_dirs=[sources])


def test_invalid_description_in_raw_folder(tmp_path):
    """A broken description delivered in <raw>/_sources stops the run with its name."""
    raw, sources = _raw(tmp_path)
    (raw / "_sources").mkdir()
    (raw / "_sources" / "x.toml").write_text("[[tables]]\nkind = 'budget'\n")
    with pytest.raises(SourceDescriptionError, match=r"x\.toml.*kind"):
        run_clean(raw, tmp_path / "out")


def test_write_atomic_keeps_old_file_on_failure(tmp_path):
    """A failing write leaves the previous file intact and no temp file behind."""
    target = tmp_path / "t.json"
    write_atomic(target, lambda p: p.write_text("old"))

    def broken(p: Path) -> None:
        p.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_load_missing_folder(tmp_path):
    """load() on a folder without outputs says to run clean first."""
    with pytest.raises(InputFileError, match="run it first"):
        load(tmp_path)


def test_load_returns_contract_dtypes(tmp_path):
    """Loaded tables keep categoricals, nullable ints and dates."""
    raw, sources = _raw(tmp_path)
    run_clean(raw, tmp_path / "out", source_dirs=[sources])
    tables = load(tmp_path / "out", lang="en")
    p = tables.participants
    assert str(p["start_date"].dtype) == "datetime64[ns]"
    assert list(p["sex"].cat.categories) == list(contract.SEX)
    assert str(p["age_at_start"].dtype) == "Int64"
    assert str(tables.rejects["source_row"].dtype) == "Int64"
    assert tables.lang == "en" and tables.report["ok"] is True


def _compare_with_truth(raw: Path, out: Path) -> None:
    truth = {
        k: pd.read_parquet(raw / "_truth" / f"{k}.parquet")
        for k in ("participants", "subprojects", "anonymous_counts", "rejects")
    }
    tables = load(out)
    key = resolve_key(raw).key
    lineage = ["source_file", "source_sheet", "source_row"]
    got = tables.participants.sort_values(lineage).reset_index(drop=True)
    want = truth["participants"].sort_values(lineage).reset_index(drop=True)
    expected_key = pseudonymise(want["personnummer_norm"], key)
    pd.testing.assert_series_equal(
        got["participant_key"], expected_key, check_names=False
    )
    columns = [c for c in want.columns if c != "personnummer_norm"]
    pd.testing.assert_frame_equal(got[columns], want[columns], check_categorical=False)
    assert got["episode_id"].is_unique
    for kind in ("subprojects", "anonymous_counts"):
        pd.testing.assert_frame_equal(
            getattr(tables, kind), truth[kind], check_categorical=False
        )
    cols = ["source_file", "source_sheet", "source_row", "status", "reason", "column"]
    got_r = (
        tables.rejects[cols].astype("string").sort_values(cols).reset_index(drop=True)
    )
    want_r = (
        truth["rejects"][cols].astype("string").sort_values(cols).reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(got_r, want_r)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2015, 7, 31])
def test_sample_round_trip(tmp_path, monkeypatch, seed):
    """sample → clean reproduces the generator's truth: every column, every reject."""
    from rehab_analytics.sample.deliveries import write_sample

    monkeypatch.delenv("RA_PSEUDONYM_KEY")
    raw = tmp_path / "raw"
    write_sample(raw, participants=400, seed=seed)
    result = run_clean(raw, tmp_path / "out")
    assert result.ok, result.summary()
    assert result.report["key"]["origin"] == "demo"
    _compare_with_truth(raw, tmp_path / "out")


def test_a_failing_feedback_writer_replaces_nothing(tmp_path, monkeypatch):
    """An error in the (forked or not) feedback writer reaches the caller and no
    output of the failed run replaces the previous run's: tables, report, feedback."""
    from rehab_analytics.clean import feedback as feedback
    from rehab_analytics.clean import run as pipeline

    raw, sources = _raw(tmp_path)
    original = feedback._write_all

    def broken(*args, **kwargs):
        original(*args, **kwargs)  # the workbooks are written, then it fails
        raise OSError("disk full while writing feedback")

    monkeypatch.setattr(pipeline, "_FEEDBACK_FORK_MIN_ROWS", 0)
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        run_clean(raw, out, source_dirs=[sources], jobs=jobs)
        (out / "feedback" / "gone.xlsx").write_bytes(b"earlier run")
        before = {
            p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()
        }
        monkeypatch.setattr(feedback, "_write_all", broken)
        with pytest.raises(OSError, match="disk full"):
            run_clean(raw, out, source_dirs=[sources], jobs=jobs)
        monkeypatch.setattr(feedback, "_write_all", original)
        after = {
            p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()
        }
        assert after == before
        assert len(load(out).participants) == 2


def test_a_validation_failure_is_reported_whatever_the_jobs(tmp_path, monkeypatch):
    """A validation failure makes ok False and is in the report, with 1 or 2 jobs."""
    from rehab_analytics.clean import run as pipeline
    from rehab_analytics.clean import validate as validate

    raw, sources = _raw(tmp_path)
    original = validate.validate_table

    def strict(df, kind, registry):
        found = original(df, kind, registry)
        if kind == "participants":
            extra = pd.DataFrame(
                [["participants", "x", "planted", "", "", "planted failure"]],
                columns=list(validate.FAILURE_COLUMNS),
            ).astype("string")
            found = pd.concat([found, extra], ignore_index=True)
        return found

    monkeypatch.setattr(validate, "validate_table", strict)
    monkeypatch.setattr(pipeline, "_FEEDBACK_FORK_MIN_ROWS", 0)
    results = [
        run_clean(raw, tmp_path / f"out{jobs}", source_dirs=[sources], jobs=jobs)
        for jobs in (1, 2)
    ]
    for result in results:
        assert not result.ok
        assert [f["message"] for f in result.report["validation"]] == [
            "planted failure"
        ]
    saved = json.loads((tmp_path / "out2" / "cleaning_report.json").read_text())
    assert (
        saved["ok"] is False and saved["validation"] == results[0].report["validation"]
    )
