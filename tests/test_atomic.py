"""Nothing lost on failure: a clean killed mid-way leaves the previous outputs whole.

A second clean runs in a subprocess on changed input and is killed with SIGKILL
at a chosen point. The child process only slows one library call down (so the
kill lands reliably at that point); the engine code runs unchanged. The previous
outputs are the tables, the rejects, the report and the feedback workbooks: all
are replaced together at the end, or none is.
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

from rehab_analytics.clean.guard import LOCK_NAME, StaleLockWarning
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
    import rehab_analytics.clean.feedback as feedback
    import rehab_analytics.clean.run as pipeline
    from rehab_analytics import atomic, cli

    marker, where, nth, raw, out = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    calls = []

    def pause():
        calls.append(1)
        if len(calls) == nth:
            marker.write_text(where)
            time.sleep(120)

    def wrap(owner, name, before=False):
        original = getattr(owner, name)

        def slow(*args, **kwargs):
            if before:
                pause()
            result = original(*args, **kwargs)
            if not before:
                pause()
            return result

        setattr(owner, name, slow)

    if where == "to_parquet":
        wrap(pd.DataFrame, "to_parquet")
    elif where == "to_csv":
        wrap(pd.DataFrame, "to_csv")
    elif where == "before":
        wrap(clean, "clean_table", before=True)
    elif where in ("workbook", "workbook_forked"):
        # The feedback workbooks; "workbook_forked" writes them in a forked process.
        if where == "workbook_forked":
            pipeline._FEEDBACK_FORK_MIN_ROWS = 0
        wrap(feedback, "_write_workbook")
    elif where == "renames":
        # Every file is staged under its temporary name; no rename has been made.
        wrap(atomic.StagedFiles, "commit", before=True)
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
    "while_writing_feedback": ("workbook", 2),
    "after_all_feedback_written": ("workbook", 7),
    "while_writing_feedback_in_a_fork": ("workbook_forked", 2),
    "after_all_feedback_written_in_a_fork": ("workbook_forked", 7),
    "everything_staged_before_the_renames": ("renames", 1),
}


@pytest.fixture(scope="module")
def raws(tmp_path_factory) -> tuple[Path, Path]:
    """Two different sample deliveries: the first run's and the changed one."""
    root = tmp_path_factory.mktemp("atomic")
    write_sample(root / "raw1", participants=120, seed=1)
    write_sample(root / "raw2", participants=150, seed=2)
    return root / "raw1", root / "raw2"


def _snapshot(out: Path) -> dict[str, bytes]:
    """The outputs a reader uses: tables, rejects, report and feedback workbooks."""
    found = {name: (out / name).read_bytes() for name in OUTPUT_FILES.values()}
    for book in sorted((out / "feedback").glob("[!.]*.xlsx")):
        found[f"feedback/{book.name}"] = book.read_bytes()
    return found


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
    # A workbook of an earlier run that the killed run would remove stays too.
    (out / "feedback" / "earlier.xlsx").write_bytes(b"an earlier run's workbook")
    before = _snapshot(out)
    assert len([n for n in before if n.startswith("feedback/")]) == 8
    n_first = len(pd.read_parquet(out / OUTPUT_FILES["participants"]))

    _kill_child_at(*KILL_POINTS[point], raw2, out, tmp_path)

    assert _snapshot(out) == before
    tables = load(out)
    assert len(tables.participants) == n_first
    report = json.loads((out / OUTPUT_FILES["report"]).read_text(encoding="utf-8"))
    assert report["totals"]["participants"] == n_first
    # Half-written files of the killed run are hidden temp files no reader opens,
    # and its lock, which the next clean takes over.
    known = {*OUTPUT_FILES.values(), PREVIOUS_REPORT, LOCK_NAME, *before}
    files = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    leftovers = [Path(n).name for n in files if n not in known]
    assert all(n.startswith(".") and ".tmp" in n for n in leftovers), leftovers
    staged = {n.split(".tmp")[0].rsplit(".", 2)[0][1:] for n in leftovers}
    if point.startswith(("everything_staged", "after_all_feedback")):
        # The killed run had written all its feedback under temp names ...
        assert len({n for n in staged if n.endswith(".xlsx")}) == 7, staged
    if point in ("everything_staged_before_the_renames", "after_all_feedback_written"):
        # ... and (not forked, so after them) its tables and rejects too.
        assert set(OUTPUT_FILES.values()) - {"cleaning_report.json"} <= staged


def test_rerun_after_a_kill_is_byte_identical_to_a_clean_run(
    raws, tmp_path, monkeypatch
):
    """After a killed clean, re-running gives the same bytes as a run in a fresh folder."""
    monkeypatch.setenv("RA_PSEUDONYM_KEY", KEY)
    raw1, raw2 = raws
    out = tmp_path / "processed"
    run_clean(raw1, out)
    _kill_child_at("to_parquet", 2, raw2, out, tmp_path)
    with pytest.warns(StaleLockWarning, match="no longer runs"):
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
    stale = [p.name for p in out.rglob(".*") if p.is_file()]
    assert stale == [], "temp files and the lock of the killed run are cleaned up"
    books = sorted(p.name for p in (out / "feedback").iterdir())
    assert books == sorted(p.name for p in (tmp_path / "fresh" / "feedback").iterdir())
