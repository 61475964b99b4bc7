"""Tests for rehab_analytics.atomic: a failed write keeps the old file and leaves no temp."""

from __future__ import annotations

import os

import pytest

from rehab_analytics.atomic import write_atomic, write_bytes_atomic, write_text_atomic


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    """An exception inside the writer leaves the previous content and nothing else."""
    target = write_text_atomic(tmp_path / "a.toml", "old\n")

    def broken(tmp):
        tmp.write_text("half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_atomic(target, broken)
    assert target.read_text(encoding="utf-8") == "old\n"
    assert list(tmp_path.iterdir()) == [target]


def test_temporary_file_keeps_the_suffix_and_folder(tmp_path):
    """The writer gets a sibling with the target's suffix (writers may check it)."""
    seen = []
    write_atomic(tmp_path / "sub" / "book.xlsx", lambda tmp: seen.append(tmp))
    assert seen[0].parent == tmp_path / "sub" and seen[0].suffix == ".xlsx"


def test_bytes_and_text_round_trip(tmp_path):
    """Bytes are written as given, text as UTF-8."""
    assert write_bytes_atomic(tmp_path / "b", b"\x00\xff").read_bytes() == b"\x00\xff"
    assert write_text_atomic(tmp_path / "t", "Kön").read_bytes() == "Kön".encode()


def test_staged_files_replace_nothing_until_the_commit(tmp_path):
    """A set of staged files leaves every target as it was until commit renames
    them all (and removes the obsolete ones); an error before it changes nothing."""
    from rehab_analytics.atomic import StagedFiles

    write_text_atomic(tmp_path / "a.txt", "old a")
    write_text_atomic(tmp_path / "gone.txt", "old")
    with pytest.raises(RuntimeError, match="half-way"), StagedFiles() as staged:
        staged.write(tmp_path / "a.txt", lambda tmp: tmp.write_text("new a"))
        staged.remove(tmp_path / "gone.txt")
        raise RuntimeError("half-way")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "gone.txt"]
    assert (tmp_path / "a.txt").read_text() == "old a"

    with StagedFiles() as staged:
        staged.write(tmp_path / "a.txt", lambda tmp: tmp.write_text("new a"))
        other = StagedFiles()
        other.write(tmp_path / "sub" / "b.txt", lambda tmp: tmp.write_text("b"))
        other.remove(tmp_path / "gone.txt")
        staged.merge(other)
        assert (tmp_path / "a.txt").read_text() == "old a"
        done = staged.commit()
    assert done == [tmp_path / "a.txt", tmp_path / "sub" / "b.txt"]
    assert (tmp_path / "a.txt").read_text() == "new a"
    assert not (tmp_path / "gone.txt").exists() and other.files == []
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.txt", "b.txt", "sub"]


@pytest.mark.skipif(os.name != "posix", reason="file modes and liveness probe")
def test_temp_names_carry_the_pid_and_stale_ones_are_removed(tmp_path):
    """Temporary files are 0600, named .<name>.<pid>.<random>.tmp<suffix>; only
    those of processes that no longer run are removed."""
    import subprocess
    import sys

    from rehab_analytics.atomic import StagedFiles, remove_stale_temp

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    dead = StagedFiles(proc.pid).reserve(tmp_path / "t.parquet")
    alive = StagedFiles().reserve(tmp_path / "t.parquet")
    older = tmp_path / f".t.parquet.{proc.pid}.abc123.tmp"  # the clean's older naming
    older.write_text("half")
    other = tmp_path / f".other.{proc.pid}.abc123.tmp"
    other.write_text("half")
    assert alive.name.startswith(f".t.parquet.{os.getpid()}.")
    assert alive.name.endswith(".tmp.parquet")
    assert alive.stat().st_mode & 0o777 == 0o600
    removed = remove_stale_temp(tmp_path, ["t.parquet"])
    assert sorted(removed) == sorted([dead, older])
    assert sorted(tmp_path.iterdir()) == sorted([alive, other])
    assert write_text_atomic(tmp_path / "x.json", "{}").stat().st_mode & 0o777 == 0o600
