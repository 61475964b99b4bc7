"""Hostile input through the CLI: clear messages, exact row accounting, nothing else lost."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from badinput import CASES, Case, make_raw

from rehab_analytics import cli
from rehab_analytics.identity import find_personnummer_like

KEY = "bad-input-test-key-" + "x" * 32


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("RA_SOURCES_DIR", raising=False)


def _params() -> list:
    return [
        pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else [])
        for c in CASES
    ]


def _clean(raw: Path, out: Path, capsys) -> tuple[int, str]:
    code = cli.main(["clean", "--raw", str(raw), "--out", str(out)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _check_accounting(report: dict) -> None:
    for name, source in report["sources"].items():
        if source.get("error"):
            continue
        assert source["rows_read"] == (
            source["rows_clean"] + source["rows_rejected"] + source["rows_skipped"]
        ), name
        for f in source["files"]:
            assert (
                f["rows_read"]
                == f["rows_clean"] + f["rows_rejected"] + f["rows_skipped"]
            )


def _check_good_source(report: dict, out: Path) -> None:
    good = report["sources"]["good"]
    assert good["error"] is None
    assert (good["rows_read"], good["rows_clean"]) == (3, 3)
    participants = pd.read_parquet(out / "participants.parquet")
    assert (participants["subproject"] == "goodsp").sum() == 3


def _check_no_ids_in_outputs(out: Path) -> None:
    for name in ("rejects.csv", "cleaning_report.json"):
        text = (out / name).read_text(encoding="utf-8-sig")
        assert find_personnummer_like(text) == [], name
    for name in ("participants.parquet", "rejects.parquet"):
        df = pd.read_parquet(out / name)
        text = df.astype("string").to_csv(sep="|")
        assert find_personnummer_like(text) == [], name


def _check_expectation(
    case: Case, raw: Path, out: Path, report: dict, output: str
) -> None:
    expect = case.expect
    bad = report["sources"]["bad"]
    if expect.error:
        assert bad.get("error"), f"expected an error, got {bad}"
        for part in expect.error:
            assert part in bad["error"], (part, bad["error"])
        assert bad["error"] in output, "the summary shows the error"
        assert report["ok"] is False
        return
    assert bad["error"] is None, bad["error"]
    if expect.rows_read is not None:
        assert bad["rows_read"] == expect.rows_read
    if expect.rows_clean is not None:
        assert bad["rows_clean"] == expect.rows_clean
    if expect.blank_rows is not None:
        assert bad["blank_rows"] == expect.blank_rows
    for note in expect.notes:
        assert any(note in n for n in bad["notes"]), (note, bad["notes"])
    rejects = pd.read_parquet(out / "rejects.parquet")
    mine = rejects[rejects["source"] == "bad"]
    found = {
        (
            int(r.source_row),
            str(r.column),
            str(r.status),
            str(r.reason),
            str(r.source_file),
        )
        for r in mine.itertuples()
    }
    for p in expect.problems:
        hits = [
            f
            for f in found
            if f[:4] == (p.row, p.column, p.status, p.reason)
            and (p.file is None or f[4] == p.file)
        ]
        assert hits, f"{p} not in {sorted(found)}"
    if expect.only_problems:
        assert len(found) == len(expect.problems), sorted(found)
    # Every problem names its file and row and reads as a sentence.
    assert mine["source_file"].str.startswith("bad/").all()
    assert mine["source_row"].notna().all()
    assert mine["column"].str.len().gt(0).all()
    assert mine["message"].str.len().gt(20).all()
    if expect.check is not None:
        expect.check(raw, out, report)


@pytest.mark.parametrize("case", _params())
def test_bad_input_case(case: Case, tmp_path, capsys):
    """Each hostile input gives its expected error or rejects; the good source is intact."""
    raw = make_raw(tmp_path, case)
    out = tmp_path / "processed"
    started = time.perf_counter()
    code, output = _clean(raw, out, capsys)
    seconds = time.perf_counter() - started
    assert "Traceback" not in output
    assert code == (1 if case.expect.error else 0), output
    report = json.loads((out / "cleaning_report.json").read_text(encoding="utf-8"))
    _check_accounting(report)
    _check_good_source(report, out)
    _check_expectation(case, raw, out, report, output)
    _check_no_ids_in_outputs(out)
    if case.id == "big_sheet_200k":
        assert seconds < 120, f"200 000 rows took {seconds:.0f} s"


def test_corpus_has_at_least_40_distinct_cases():
    """The corpus is big enough and every case has a unique id and a description."""
    ids = [c.id for c in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)
    assert all(len(c.description) > 10 for c in CASES)


@pytest.mark.slow
@pytest.mark.parametrize("case_id", ["encrypted_xlsx", "required_column_missing"])
def test_cli_subprocess_prints_message_without_traceback(case_id, tmp_path):
    """As a real process the CLI prints the located message and no traceback."""
    case = next(c for c in CASES if c.id == case_id)
    raw = make_raw(tmp_path, case)
    out = tmp_path / "processed"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rehab_analytics.cli",
            "clean",
            "--raw",
            str(raw),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={"RA_PSEUDONYM_KEY": KEY, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=120,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "Traceback" not in output
    for part in case.expect.error:
        assert part in output
    assert "good" in output and "3 clean" in output


def test_missing_raw_folder_is_a_message(tmp_path, capsys):
    """A raw folder that does not exist gives exit code 2 and a message, no traceback."""
    code, output = _clean(tmp_path / "nope", tmp_path / "out", capsys)
    assert code == 2
    assert "error:" in output and "raw folder does not exist" in output
    assert "Traceback" not in output


def test_broken_description_is_a_message_naming_file_and_key(tmp_path, capsys):
    """A malformed source description stops the clean with a message naming the file."""
    raw = tmp_path / "raw"
    (raw / "_sources").mkdir(parents=True)
    (raw / "_sources" / "bad.toml").write_text(
        '[[tables]]\nkind = "people"\nfiles = []\n'
    )
    code, output = _clean(raw, tmp_path / "out", capsys)
    assert code == 2
    assert "bad.toml" in output and "kind" in output
    assert "Traceback" not in output
