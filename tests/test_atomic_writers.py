"""Tests for rehab_analytics.atomic: a failed write keeps the old file and leaves no temp."""

from __future__ import annotations

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
