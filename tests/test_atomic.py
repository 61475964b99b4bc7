"""Nothing lost on failure: a clean killed mid-way leaves the previous outputs whole.

A second clean runs in a subprocess on changed input and is killed with SIGKILL
at a chosen point. The child process only slows one library call down (so the
kill lands reliably at that point); the engine code runs unchanged.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from rehab_analytics.clean.run import run_clean
from rehab_analytics.processed import OUTPUT_FILES, PREVIOUS_REPORT, load
from rehab_analytics.sample.deliveries import write_sample

KEY = "atomic-test-key-" + "k" * 32
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix", reason="SIGKILL"),
]

# The child patches one call: after its n-th use it writes the marker file and
# sleeps, so the parent can kill it exactly there.
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pandas as pd
    import rehab_analytics.clean.table as clean
    from rehab_analytics import cli

    marker, where, nth, raw, out = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    calls = []

    def pause():
        calls.append(1)
        if len(calls) == nth:
            marker.write_text(where)
            time.sleep(120)

    def wrap(owner, name):
        original = getattr(owner, name)

        def slow(*args, **kwargs):
            if where == "before":
                pause()
            result = original(*args, **kwargs)
            if where != "before":
                pause()
            return result

        setattr(owner, name, slow)

    if where == "to_parquet":
        wrap(pd.DataFrame, "to_parquet")
    elif where == "to_csv":
        wrap(pd.DataFrame, "to_csv")
    elif where == "before":
        wrap(clean, "clean_table")
    sys.exit(cli.main(["clean", "--raw", raw, "--out", out]))
    """
)

KILL_POINTS = {
    # (patched call, n-th call): where the child is killed
    "while_cleaning": ("before", 2),
    "after_first_table_written": ("to_parquet", 1),
    "after_three_tables_written": ("to_parquet", 3),
    "after_all_tables_written": ("to_parquet", 4),
    "after_rejects_csv_written": ("to_csv", 1),
}


@pytest.fixture(scope="module")
def raws(tmp_path_factory) -> tuple[Path, Path]:
    """Two different sample deliveries: the first run's and the changed one."""
    root = tmp_path_factory.mktemp("atomic")
    write_sample(root / "raw1", participants=120, seed=1)
    write_sample(root / "raw2", participants=150, seed=2)
    return root / "raw1", root / "raw2"


def _snapshot(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUT_FILES.values()}


def _kill_child_at(where: str, nth: int, raw: Path, out: Path, tmp: Path) -> None:
    marker = tmp / "marker.txt"
    env = {**os.environ, "RA_PSEUDONYM_KEY": KEY}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(marker), where, str(nth), str(raw), str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: cleaning workers die too
    )
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            if proc.poll() is not None:
                output = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"the child ended before the kill point: {output}")
            assert time.monotonic() < deadline, "the child never reached the kill point"
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", list(KILL_POINTS), ids=list(KILL_POINTS))
def test_killed_clean_leaves_previous_outputs_intact(
    point, raws, tmp_path, monkeypatch
):
    """SIGKILL mid-clean: every previous output is byte-for-byte there and loads."""
    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY)
    raw1, raw2 = raws
    out = tmp_path / "processed"
    first = run_clean(raw1, out)
    assert first.ok
    before = _snapshot(out)
    n_first = len(pd.read_parquet(out / OUTPUT_FILES["participants"]))

    _kill_child_at(*KILL_POINTS[point], raw2, out, tmp_path)

    assert _snapshot(out) == before
    tables = load(out)
    assert len(tables.participants) == n_first
    report = json.loads((out / OUTPUT_FILES["report"]).read_text(encoding="utf-8"))
    assert report["totals"]["participants"] == n_first
    # Half-written files of the killed run are hidden temp files no reader opens.
    known = {*OUTPUT_FILES.values(), PREVIOUS_REPORT}
    leftovers = [p.name for p in out.iterdir() if p.is_file() and p.name not in known]
    assert all(n.startswith(".") and n.endswith(".tmp") for n in leftovers), leftovers


def test_rerun_after_a_kill_is_byte_identical_to_a_clean_run(
    raws, tmp_path, monkeypatch
):
    """After a killed clean, re-running gives the same bytes as a run in a fresh folder."""
    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY)
    raw1, raw2 = raws
    out = tmp_path / "processed"
    run_clean(raw1, out)
    _kill_child_at("to_parquet", 2, raw2, out, tmp_path)
    again = run_clean(raw2, out)
    fresh = run_clean(raw2, tmp_path / "fresh")
    assert again.ok and fresh.ok
    tables = [n for k, n in OUTPUT_FILES.items() if k != "report"]
    for name in tables:
        assert (out / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), (
            name
        )
    report_again = json.loads(
        (out / OUTPUT_FILES["report"]).read_text(encoding="utf-8")
    )
    report_fresh = json.loads(
        (tmp_path / "fresh" / OUTPUT_FILES["report"]).read_text(encoding="utf-8")
    )
    assert report_again == report_fresh
    stale = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert stale == [], "temp files of the killed run are cleaned up by the next run"
