"""Tests for the benchmark harness: medians, interleaving, ratios, the JSON record."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from rehab_analytics import bench
from rehab_analytics.bench import (
    TARGETS,
    Target,
    bench_record,
    compute_figures,
    evaluate,
    format_table,
    interleave,
    median,
    ratio,
    write_json_atomic,
)
from rehab_analytics.bench.measure import _run_child

REQUIRED_KEYS = {
    "clean_over_parse",
    "naive_over_clean",
    "clean_rows_per_s",
    "peak_rss_mib",
    "jobs_speedup",
    "batch_over_inprocess",
    "rerun_over_full",
    "episodes",
    "machine",
    "timings_s",
}

FAKE = {
    "parse": [2.0, 1.0, 1.5],
    "clean": [3.0, 2.0, 2.4],
    "naive": [9.0, 7.2, 8.0],
    "clean_cli": [4.0, 4.0, 5.0],
    "parse_cli": [2.0, 2.5, 2.0],
    "batch_jobs1": [60.0, 62.0, 58.0],
    "batch_jobsn": [35.0, 36.0, 40.0],
    "batch_rerun": [1.0, 1.2, 0.9],
    "inprocess": [45.0, 40.0, 50.0],
}


def test_median_odd_even_and_empty():
    """The median is the middle value (mean of the two middle ones); empty is an error."""
    assert median([5.0, 1.0, 3.0]) == 3.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    with pytest.raises(ValueError, match="no timings"):
        median([])


def test_interleave_runs_in_rounds_and_times_each_call():
    """Runners are called A, B, C, A, B, C and each call gets its own clock delta."""
    calls: list[str] = []
    now = [0.0]
    cost = {"a": 1.0, "b": 10.0, "c": 0.5}

    def runner(name):
        def run():
            calls.append(name)
            now[0] += cost[name]

        return run

    timings = interleave(
        {name: runner(name) for name in "abc"}, 3, clock=lambda: now[0]
    )
    assert calls == ["a", "b", "c"] * 3
    assert timings == {"a": [1.0] * 3, "b": [10.0] * 3, "c": [0.5] * 3}


def test_interleave_records_cpu_time_per_run():
    """With cpu=, each run's CPU-clock delta is recorded next to its wall time."""
    cpu_now = [0.0]

    def burn():
        cpu_now[0] += 2.0

    cpu: dict[str, list[float]] = {}
    interleave({"a": burn}, 2, cpu=cpu, cpu_clock=lambda: cpu_now[0])
    assert cpu == {"a": [2.0, 2.0]}


def test_cpu_ratios_use_the_same_ratio_definitions():
    """CPU ratios are the wall-time ratios computed on CPU seconds, speed-up excluded."""
    out = bench.cpu_ratios(FAKE)
    assert out["clean_over_parse"] == pytest.approx(1.6)
    assert out["rerun_over_full"] == pytest.approx(1.0 / 36.0)
    assert "jobs_speedup" not in out


def test_interleave_rejects_zero_repeats():
    """At least one round is needed."""
    with pytest.raises(ValueError, match="at least 1"):
        interleave({"a": lambda: None}, 0)


def test_ratio_is_ratio_of_medians():
    """ratio() divides medians, not means, and is None when a side is missing."""
    assert ratio([1.0, 100.0, 3.0], [1.0, 2.0, 2.0]) == 1.5
    assert ratio([1.0], []) is None
    assert ratio([1.0], [0.0]) is None


def test_compute_figures_on_fake_timings():
    """Every figure comes out of the fake timings as the ratio of medians."""
    f = compute_figures(FAKE, episodes=1200, peak_rss_mib=812.5)
    assert f["clean_over_parse"] == pytest.approx(2.4 / 1.5)
    assert f["naive_over_clean"] == pytest.approx(8.0 / 2.4)
    assert f["clean_rows_per_s"] == pytest.approx(500.0)
    assert f["clean_cli_over_parse_cli"] == pytest.approx(2.0)
    assert f["jobs_speedup"] == pytest.approx(60.0 / 36.0)
    assert f["batch_over_inprocess"] == pytest.approx(36.0 / 45.0)
    assert f["batch_jobs1_over_inprocess"] == pytest.approx(60.0 / 45.0)
    assert f["rerun_over_full"] == pytest.approx(1.0 / 36.0)
    assert f["peak_rss_mib"] == 812.5
    assert f["episodes"] == 1200


def test_compute_figures_without_batch_leaves_batch_figures_empty():
    """A skipped batch gives None for its figures, not zeros."""
    timings = {
        k: v for k, v in FAKE.items() if not k.startswith(("batch", "inprocess"))
    }
    f = compute_figures(timings, episodes=10, peak_rss_mib=None)
    assert f["jobs_speedup"] is None
    assert f["rerun_over_full"] is None
    assert f["batch_over_inprocess"] is None
    assert f["clean_over_parse"] == pytest.approx(1.6)


def test_targets_pass_and_fail_in_the_right_direction():
    """'<=' targets pass at or below the value, '>=' at or above; None is n/a."""
    assert Target("<=", 1.5).check(1.5) == "pass"
    assert Target("<=", 1.5).check(1.51) == "FAIL"
    assert Target(">=", 3).check(3.0) == "pass"
    assert Target(">=", 3).check(2.99) == "FAIL"
    assert Target(">=", 3).check(None) == "n/a"


def test_evaluate_and_table_show_value_target_and_result():
    """The table has a row per figure with the measured value, target and verdict."""
    f = compute_figures(FAKE, episodes=1200, peak_rss_mib=3000.0)
    rows = {r[0]: r[1:] for r in evaluate(f)}
    assert rows["clean ÷ plain parse"] == ("1.60 ×", "<= 1.5", "FAIL")
    assert rows["naive pandas read ÷ clean"] == ("3.33 ×", ">= 3", "pass")
    assert rows["peak memory of `clean`, all processes (PSS)"] == (
        "3000.00 MiB",
        "<= 2048 (at 500 000)",
        "FAIL",
    )
    assert rows["episodes (clean participant rows)"] == ("1 200", "", "")
    text = format_table(evaluate(f))
    assert text.splitlines()[0].split() == ["measure", "measured", "target", "result"]
    assert "jobs_speedup" not in text and "batch speed-up" in text


def test_bench_record_has_the_required_keys(tmp_path):
    """The JSON record carries every required key and the raw timings."""
    f = compute_figures(FAKE, episodes=1200, peak_rss_mib=800.0)
    record = bench_record(f, FAKE, {"cores": 2}, {"repeats": 3})
    path = write_json_atomic(tmp_path / "sub" / "bench.json", record)
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert set(loaded) >= REQUIRED_KEYS
    assert loaded["timings_s"]["clean"] == [3.0, 2.0, 2.4]
    assert loaded["results"] == {name: t.check(f[name]) for name, t in TARGETS.items()}
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]


def test_machine_info_names_the_libraries():
    """Machine info has cores, Python, platform, CPU and the library versions."""
    info = bench.machine_info()
    assert {"cores", "python", "platform", "cpu", "versions"} <= set(info)
    for dist in (
        "pandas",
        "numpy",
        "pyarrow",
        "python-calamine",
        "openpyxl",
        "papermill",
    ):
        assert info["versions"][dist]


def test_repeats_below_three_are_refused_outside_quick_mode(capsys):
    """A figure is a median of at least 3 runs unless --quick."""
    with pytest.raises(SystemExit):
        bench.main(["--repeats", "2"])
    assert "at least 3 runs" in capsys.readouterr().err


@pytest.mark.slow
def test_quick_smoke_run_writes_bench_json(tmp_path, capsys):
    """--quick runs the whole harness on tiny data and writes a complete bench.json."""
    out = tmp_path / "bench"
    assert bench.main(["--quick", "--skip-batch", "--out", str(out)]) == 0
    record = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    assert set(record) >= REQUIRED_KEYS
    assert record["episodes"] > 0
    assert record["clean_over_parse"] > 0
    assert record["naive_over_clean"] > 0
    assert 0 < record["peak_rss_mib"] < 4096
    assert record["jobs_speedup"] is None
    assert len(record["timings_s"]["clean"]) == 1
    assert record["machine"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert len(record["cpu_s"]["clean_cli"]) == 1
    assert record["cpu_ratios"]["clean_over_parse"] > 0
    printed = capsys.readouterr().out
    assert "clean ÷ plain parse" in printed and "bench took" in printed
    # A second run reuses the generated raw folder.
    marker = next(Path(out).glob("raw-*")) / ".bench-raw.json"
    assert json.loads(marker.read_text())["participants"] == 300


def test_memory_of_a_process_tree_counts_the_workers(tmp_path):
    """The clean's memory figure sums the command and its worker processes."""
    code = (
        "import os, time\n"
        "block = bytearray(80 * 2**20)\n"
        "block[::4096] = b'x' * len(block[::4096])\n"
        "if os.fork() == 0:\n"
        "    own = bytearray(80 * 2**20)\n"
        "    own[::4096] = b'y' * len(own[::4096])\n"
        "    time.sleep(0.6)\n"
        "    os._exit(0)\n"
        "time.sleep(0.6)\n"
        "os.wait()\n"
    )
    memory: list[dict[str, float]] = []
    _run_child([sys.executable, "-c", code], tmp_path / "child.log", memory)
    [m] = memory
    # Two processes with 80 MiB of their own each (plus the parent's 80 MiB
    # shared copy-on-write with the child): the tree holds well over one of them,
    # and far less than the test process that started it.
    assert 150 < m["tree_pss_mib"] < 600
    assert m["tree_rss_mib"] >= m["tree_pss_mib"]
