"""Tests for the demo: what it does with the raw folder, and the whole chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehab_analytics import demo
from rehab_analytics.clean import run as pipeline
from rehab_analytics.keys import SAMPLE_MARKER


def test_raw_state_tells_empty_sample_and_real(tmp_path):
    """README/.gitkeep only is empty; the marker means sample; other files are real."""
    assert demo.raw_state(tmp_path / "nothing") == "empty"
    (tmp_path / "README.md").write_text("data log")
    (tmp_path / ".gitkeep").write_text("")
    assert demo.raw_state(tmp_path) == "empty"
    (tmp_path / "nordost").mkdir()
    assert demo.raw_state(tmp_path) == "real"
    (tmp_path / SAMPLE_MARKER).write_text("{}")
    assert demo.raw_state(tmp_path) == "sample"


def test_real_delivery_is_left_alone_and_failed_clean_stops(
    tmp_path, monkeypatch, capsys
):
    """A real delivery is not overwritten; a failed clean gives exit 1 and no reports."""
    raw = tmp_path / "raw"
    (raw / "nordost").mkdir(parents=True)
    delivery = raw / "nordost" / "deltagare.xlsx"
    delivery.write_bytes(b"real data")
    calls = []

    def fake_clean(raw_dir, out_dir, new_key):
        calls.append((Path(raw_dir), Path(out_dir), new_key))
        return pipeline.CleanResult(False, {"sources": {}, "totals": {}}, Path(out_dir))

    monkeypatch.setattr(pipeline, "run_clean", fake_clean)
    assert demo.run_demo(raw, tmp_path / "processed") == 1
    assert delivery.read_bytes() == b"real data"
    assert calls == [(raw, tmp_path / "processed", False)]
    out = capsys.readouterr().out
    assert "holds a real delivery" in out and "reports were not run" in out


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.xdist_group("kernels")
def test_demo_runs_sample_clean_and_reports(tmp_path, capsys):
    """Sample → clean → batch succeeds and prints the HTML, xlsx and deck to open."""
    code = demo.run_demo(
        tmp_path / "raw", tmp_path / "processed", jobs=2, participants=120
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert (tmp_path / "raw" / SAMPLE_MARKER).is_file()
    latest = (tmp_path / "processed" / "reports" / "latest.txt").read_text().strip()
    run = tmp_path / "processed" / "reports" / latest
    for name in (
        "data_quality.html",
        "comparison_report.html",
        "tables.xlsx",
        "deck.pptx",
    ):
        assert (run / name).is_file() and str(run / name) in out
    assert "cleaning_report.json" in out
