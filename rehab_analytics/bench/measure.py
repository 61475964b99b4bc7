"""How the bench measures: interleaved timings, CPU time, child processes and their memory.

Also the machine description and the atomic JSON writer of the bench's files.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rehab_analytics.atomic import write_text_atomic

__all__ = [
    "cpu_seconds",
    "interleave",
    "write_json_atomic",
    "machine_info",
]

# A fixed, obviously fake key: the bench runs on synthetic data only.
_TEST_KEY = "b3nch" * 12 + "0123"
_VERSIONED = (
    "pandas",
    "numpy",
    "pyarrow",
    "python-calamine",
    "openpyxl",
    "odfpy",
    "papermill",
    "nbconvert",
    "rehab-analytics",
)


def cpu_seconds() -> float:
    """Return CPU seconds used by this process and its waited-for children so far.

    Example:
        >>> cpu_seconds() > 0
        True
    """
    # process_time has nanosecond resolution; os.times() counts 10 ms ticks, which
    # reads a 30 ms parse as 0 s and leaves the CPU ratio undefined.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def interleave(
    runners: Mapping[str, Callable[[], object]],
    repeats: int,
    *,
    clock: Callable[[], float] = time.perf_counter,
    cpu: dict[str, list[float]] | None = None,
    cpu_clock: Callable[[], float] = cpu_seconds,
) -> dict[str, list[float]]:
    """Time each runner ``repeats`` times, interleaved: A, B, A, B, …

    Interleaving spreads slow phases of a shared machine over every contender
    instead of letting them hit one contender's whole series.

    Args:
        runners: Name → callable, called in the mapping's order in every round.
        repeats: Rounds (at least 1).
        clock: Monotonic clock in seconds.
        cpu: If given, filled with name → CPU seconds per run (this process and
            its children, see :func:`cpu_seconds`): less sensitive than wall time
            to other load on a shared machine.
        cpu_clock: The CPU clock.

    Returns:
        Name → wall seconds per run, in run order.

    Example:
        >>> calls = []
        >>> ticks = iter(range(100))
        >>> t = interleave({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
        ...                2, clock=lambda: float(next(ticks)))
        >>> calls, t
        (['a', 'b', 'a', 'b'], {'a': [1.0, 1.0], 'b': [1.0, 1.0]})
    """
    if repeats < 1:
        raise ValueError(f"repeats is {repeats}; expected at least 1.")
    timings: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            cpu_started = cpu_clock()
            started = clock()
            run()
            timings[name].append(clock() - started)
            if cpu is not None:
                cpu.setdefault(name, []).append(cpu_clock() - cpu_started)
    return timings


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically (:mod:`rehab_analytics.atomic`).

    Example:
        >>> import tempfile
        >>> p = write_json_atomic(Path(tempfile.mkdtemp()) / "b.json", {"a": 1})
        >>> json.loads(p.read_text())
        {'a': 1}
    """
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    return write_text_atomic(path, text)


def machine_info() -> dict[str, Any]:
    """Return cores, Python, platform, CPU model, memory and library versions.

    Example:
        >>> info = machine_info()
        >>> info["cores"] >= 1 and "pandas" in info["versions"]
        True
    """
    from importlib import metadata

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        memory = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # psutil is a dependency; keep the bench usable without it
        memory = None
    versions = {}
    for dist in _VERSIONED:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cores": os.cpu_count() or 1,
        "usable_cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else None,
        "memory_gib": memory,
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["RA_PSEUDONYM_KEY"] = _TEST_KEY
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("rehab-analytics")
    return (
        [str(script)]
        if script.exists()
        else [sys.executable, "-m", "rehab_analytics.cli"]
    )


def _tree_memory_kib(pid: int) -> tuple[int, int]:
    """Return (PSS, RSS) in KiB summed over ``pid`` and all its descendants.

    PSS (proportional set size, Linux ``smaps_rollup``) shares pages that forked
    workers have in common among them, so the sum is the memory the whole run
    really holds; the RSS sum counts shared pages once per process. Without
    ``smaps_rollup`` both are the RSS sum.
    """
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    pss = rss = 0
    for proc in procs:
        try:
            text = Path(f"/proc/{proc.pid}/smaps_rollup").read_text()
            fields = {
                line.split(":")[0]: int(line.split()[1])
                for line in text.splitlines()[1:]
                if line.split()[-1:] == ["kB"]
            }
            pss += fields.get("Pss", 0)
            rss += fields.get("Rss", 0)
        except (OSError, ValueError, IndexError):
            try:
                value = proc.memory_info().rss // 1024
            except psutil.Error:
                continue
            pss += value
            rss += value
    return pss, rss


class _MemoryWatch:
    """Poll a process tree's memory every ``interval`` seconds; keep the peaks (KiB)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        import threading

        self.pid, self.interval = pid, interval
        self.peak_pss = self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            pss, rss = _tree_memory_kib(self.pid)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_rss = max(self.peak_rss, rss)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _run_child(
    args: Sequence[str], log_file: Path, memory: list[dict[str, float]] | None = None
) -> None:
    """Run a command to completion (raises on failure).

    With ``memory``, the peaks of the command's whole process tree (worker
    processes included), polled every 20 ms, are appended: ``tree_pss_mib`` and
    ``tree_rss_mib``. The kernel's ``ru_maxrss`` is not used: Linux keeps the
    peak from before ``exec``, when the child was still a copy of this (big)
    process, so a 150 MiB command can report 800 MiB.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "wb") as fh:
        proc = subprocess.Popen(
            list(args), stdout=fh, stderr=subprocess.STDOUT, env=_child_env()
        )
        watch = _MemoryWatch(proc.pid) if memory is not None else None
        try:
            proc.wait()
        finally:
            if watch is not None:
                watch.stop()
    if proc.returncode != 0:
        tail = log_file.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(args)} failed (exit {proc.returncode}):\n{tail}")
    if memory is not None and watch is not None:
        memory.append(
            {
                "tree_pss_mib": round(watch.peak_pss / 1024, 1),
                "tree_rss_mib": round(watch.peak_rss / 1024, 1),
            }
        )
