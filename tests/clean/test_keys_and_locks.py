"""Tests for the clean's guards: the key fingerprint, re-keying, the lock, file modes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from rehab_analytics import cli, demo, figures
from rehab_analytics.clean import guard
from rehab_analytics.clean.run import run_clean
from rehab_analytics.errors import KeyChangedError, OutputInUseError
from rehab_analytics.keys import key_fingerprint
from rehab_analytics.processed import OUTPUT_FILES, load
from rehab_analytics.sample.deliveries import write_sample

KEY_A = "first-key-" + "a" * 32
KEY_B = "second-key-" + "b" * 32


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY_A)
    monkeypatch.setenv("RA_KEY_FILE", str(tmp_path / "no-such.key"))
    monkeypatch.delenv("RA_SOURCES_DIR", raising=False)


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    """A small sample delivery (with rejects and warnings, so feedback has rows)."""
    folder = tmp_path_factory.mktemp("keys") / "raw"
    write_sample(folder, participants=60, seed=3)
    return folder


def _files(out: Path) -> dict[str, bytes]:
    """Every file under ``out`` (hidden ones too) → its bytes."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def _report(out: Path) -> dict:
    return json.loads((out / OUTPUT_FILES["report"]).read_text(encoding="utf-8"))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_report_records_the_fingerprint_and_origin_never_the_key(raw, tmp_path):
    """cleaning_report.json holds the key's fingerprint and origin, not the key."""
    out = tmp_path / "out"
    run_clean(raw, out, jobs=1)
    text = (out / OUTPUT_FILES["report"]).read_text(encoding="utf-8")
    assert json.loads(text)["key"] == {
        "origin": "environment",
        "path": None,
        "fingerprint": key_fingerprint(KEY_A.encode()),
        "rekeyed": False,
        "previous_fingerprint": None,
    }
    assert KEY_A not in text and KEY_A[-32:] not in text


def test_another_key_stops_before_writing_anything(raw, tmp_path, monkeypatch):
    """A clean with another key into the same folder raises KeyChangedError and
    leaves every file as it was (no temporary files, no lock)."""
    out = tmp_path / "out"
    run_clean(raw, out, jobs=1)
    before = _files(out)
    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY_B)
    with pytest.raises(KeyChangedError) as info:
        run_clean(raw, out, jobs=1)
    message = str(info.value)
    for part in (
        str(out),
        key_fingerprint(KEY_A.encode()),
        key_fingerprint(KEY_B.encode()),
        "no longer link",
        "same key",
        "--out",
        "--new-key",
    ):
        assert part in message, part
    assert KEY_B not in message
    assert _files(out) == before


def test_new_key_rekeys_and_the_report_says_so_in_both_languages(
    raw, tmp_path, monkeypatch
):
    """With new_key the clean goes on; the report records rekeyed and the previous
    fingerprint; the summary and the data-quality text say the pseudonyms changed."""
    out = tmp_path / "out"
    run_clean(raw, out, jobs=1)
    old_ids = set(load(out).participants["participant_key"].dropna())
    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY_B)
    result = run_clean(raw, out, jobs=1, new_key=True)
    key = _report(out)["key"]
    assert key["rekeyed"] is True
    assert key["fingerprint"] == key_fingerprint(KEY_B.encode())
    assert key["previous_fingerprint"] == key_fingerprint(KEY_A.encode())
    new_ids = set(load(out).participants["participant_key"].dropna())
    assert len(new_ids) == len(old_ids) > 0 and not old_ids & new_ids
    assert "Re-keyed" in result.summary()
    texts = {}
    for lang in ("sv", "en"):
        ctx = figures.context(load(out, lang=lang), lang=lang)
        texts[lang] = str(figures.source_errors(ctx))
    assert texts["en"].startswith("The pseudonyms were re-keyed in this clean")
    assert "cannot be linked to earlier runs" in texts["en"]
    assert texts["sv"].startswith("Pseudonymerna har fått en ny nyckel")
    assert "tidigare körningar" in texts["sv"]
    # The next clean with the same new key is an ordinary one again.
    run_clean(raw, out, jobs=1)
    assert _report(out)["key"]["rekeyed"] is False
    ctx = figures.context(load(out, lang="en"), lang="en")
    assert "re-keyed" not in str(figures.source_errors(ctx))


def test_a_report_without_a_fingerprint_is_no_error(raw, tmp_path, monkeypatch):
    """A folder cleaned before fingerprints were recorded is cleaned into as before."""
    out = tmp_path / "out"
    run_clean(raw, out, jobs=1)
    report = _report(out)
    report["key"] = {"origin": "environment", "path": None}
    (out / OUTPUT_FILES["report"]).write_text(json.dumps(report), encoding="utf-8")
    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY_B)
    assert run_clean(raw, out, jobs=1).ok
    assert _report(out)["key"]["rekeyed"] is False


def test_cli_names_the_key_change_without_a_traceback(
    raw, tmp_path, monkeypatch, capsys
):
    """`clean` with another key exits 2 with the message; `--new-key` goes on."""
    out = str(tmp_path / "out")
    assert cli.main(["clean", "--raw", str(raw), "--out", out, "--jobs", "1"]) == 0
    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY_B)
    capsys.readouterr()
    assert cli.main(["clean", "--raw", str(raw), "--out", out, "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The processed folder") and "--new-key" in err
    assert "Traceback" not in err
    args = ["clean", "--raw", str(raw), "--out", out, "--jobs", "1", "--new-key"]
    assert cli.main(args) == 0
    assert "Re-keyed" in capsys.readouterr().out


def test_a_second_clean_into_a_locked_folder_is_refused(raw, tmp_path):
    """While a clean holds the folder's lock, another gets OutputInUseError naming
    its pid and start time; the lock is removed when the first ends."""
    out = tmp_path / "out"
    with guard.output_lock(out) as holder:
        lock = json.loads((out / guard.LOCK_NAME).read_text(encoding="utf-8"))
        assert lock == holder and lock["host"] == socket.gethostname()
        if os.name == "posix":
            assert (out / guard.LOCK_NAME).stat().st_mode & 0o777 == 0o600
        with pytest.raises(OutputInUseError) as info:
            run_clean(raw, out, jobs=1)
    message = str(info.value)
    assert f"pid {os.getpid()}" in message and holder["started"] in message
    assert "--out" in message and guard.LOCK_NAME in message
    assert not (out / guard.LOCK_NAME).exists()
    assert not (out / OUTPUT_FILES["report"]).exists()


def test_the_lock_is_removed_on_errors_and_ctrl_c(raw, tmp_path, monkeypatch):
    """A clean that stops with a key error or a KeyboardInterrupt leaves no lock."""
    from rehab_analytics.clean import run as pipeline

    out = tmp_path / "out"
    run_clean(raw, out, jobs=1)
    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY_B)
    with pytest.raises(KeyChangedError):
        run_clean(raw, out, jobs=1)
    assert not (out / guard.LOCK_NAME).exists()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "write_outputs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_clean(raw, out, jobs=1, new_key=True)
    assert not (out / guard.LOCK_NAME).exists()
    assert _report(out)["key"]["fingerprint"] == key_fingerprint(KEY_A.encode())


@pytest.mark.skipif(os.name != "posix", reason="liveness probe is POSIX only")
def test_a_stale_lock_is_taken_over_with_a_warning(raw, tmp_path, capsys):
    """A lock whose pid no longer runs on this host is taken over; the CLI prints
    one warning line and the clean succeeds."""
    out = tmp_path / "out"
    out.mkdir()
    pid = _dead_pid()
    stale = {"pid": pid, "host": socket.gethostname(), "started": "2020-01-01T00:00:00"}
    (out / guard.LOCK_NAME).write_text(json.dumps(stale), encoding="utf-8")
    assert cli.main(["clean", "--raw", str(raw), "--out", str(out), "--jobs", "1"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"warning: Took over the lock of a clean that no longer runs (pid {pid}, "
        f"started at 2020-01-01T00:00:00); its half-written files in {out} are removed."
    ]
    assert not (out / guard.LOCK_NAME).exists()


def test_locks_that_cannot_be_judged_stale_are_respected(tmp_path):
    """A lock of another host, or a fresh unreadable one, is in use; an old
    unreadable lock (a clean killed while writing it) is taken over."""
    out = tmp_path / "out"
    out.mkdir()
    lock = out / guard.LOCK_NAME
    other = {"pid": _dead_pid(), "host": "another-host", "started": "2020-01-01"}
    lock.write_text(json.dumps(other), encoding="utf-8")
    with pytest.raises(OutputInUseError, match="on another-host"):
        guard.output_lock(out).__enter__()
    lock.write_text("", encoding="utf-8")
    with pytest.raises(OutputInUseError, match="cannot be read"):
        guard.output_lock(out).__enter__()
    os.utime(lock, (0, 0))
    with (
        pytest.warns(guard.StaleLockWarning, match="unreadable lock"),
        guard.output_lock(out) as mine,
    ):
        assert json.loads(lock.read_text(encoding="utf-8")) == mine
    assert not lock.exists()


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_every_output_is_readable_by_its_owner_only(raw, tmp_path):
    """Tables, rejects, report and feedback workbooks are mode 0600, as before."""
    out = tmp_path / "out"
    run_clean(raw, out, jobs=1)
    run_clean(raw, out, jobs=1)  # replaced files stay 0600 too
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len([p for p in files if p.suffix == ".xlsx"]) >= 6
    modes = {p.relative_to(out).as_posix(): p.stat().st_mode & 0o777 for p in files}
    assert set(modes.values()) == {0o600}, modes


def test_demo_rekeys_its_own_folder_but_never_a_real_keys(
    tmp_path, monkeypatch, capsys
):
    """The demo's new sample (new demo key) re-keys a folder the demo made; a folder
    made with a real key stops the demo with KeyChangedError and is left as it was."""
    from rehab_analytics.batch import run as batch

    monkeypatch.delenv("RA_PSEUDONYM_KEY")
    monkeypatch.setattr(batch, "NOTEBOOKS_DIR", tmp_path / "no-notebooks")
    raw, out = tmp_path / "raw", tmp_path / "processed"
    assert demo.run_demo(raw, out, participants=40) == 0
    first = _report(out)["key"]
    assert first["origin"] == "demo" and first["rekeyed"] is False
    assert demo.run_demo(raw, out, participants=40) == 0
    second = _report(out)["key"]
    assert second["rekeyed"] is True
    assert second["previous_fingerprint"] == first["fingerprint"]

    real = tmp_path / "real-processed"
    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY_A)
    run_clean(raw, real, jobs=1)
    before = _files(real)
    monkeypatch.delenv("RA_PSEUDONYM_KEY")
    with pytest.raises(KeyChangedError):
        demo.run_demo(raw, real, participants=40)
    assert _files(real) == before
    capsys.readouterr()
