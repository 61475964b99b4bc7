"""Benchmark: cleaning speed and memory and the report batch, measured against targets.

``python -m rehab_analytics.bench`` (``make bench``) generates (or reuses) synthetic
raw data, then measures, side by side and interleaved (A, B, A, B, …) so machine
noise hits every contender alike, the median of ``--repeats`` runs of:

- the clean in-process after warm imports (:func:`rehab_analytics.clean.run.run_clean`)
  against the fastest plain parse of the same files (python-calamine for every
  workbook sheet the source descriptions read, ``pyarrow.csv`` for text files with
  every column as text) and against a naive pandas read (``read_excel`` with
  pandas' default engine: openpyxl for xlsx, odfpy for ods; ``read_csv``);
- the ``rehab-analytics clean`` command in a fresh process as a user runs it, and
  the plain parse in a fresh process, for wall times including interpreter start
  and imports; the clean's peak memory is the summed PSS of the command and
  its worker processes, polled every 20 ms;
- the report batch (``rehab-analytics reports --force``) with ``--jobs 1`` and with
  ``--jobs <cores>``, a re-run with nothing changed, and the same notebooks' code
  cells executed in this process (parameters taken from the batch's manifest).

Data generation is setup and is not measured. Results: a table on stdout and
``<out>/bench.json`` (written atomically).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "TARGETS",
    "Target",
    "ParseItem",
    "parse_plan",
    "plain_parse",
    "naive_parse",
    "median",
    "cpu_seconds",
    "interleave",
    "ratio",
    "compute_figures",
    "evaluate",
    "format_table",
    "bench_record",
    "cpu_ratios",
    "write_json_atomic",
    "machine_info",
    "run_bench",
    "main",
]

NATIONAL_PARTICIPANTS = 500_000
# A fixed, obviously fake key: the bench runs on synthetic data only.
_TEST_KEY = "b3nch" * 12 + "0123"
_MARKER = ".bench-raw.json"
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


@dataclass(frozen=True)
class Target:
    """A figure's target: ``value`` compared with ``op`` ("<=" or ">=")."""

    op: str
    value: float
    note: str = ""

    def check(self, measured: float | None) -> str:
        """Return "pass", "FAIL" or "n/a" (not measured).

        Example:
            >>> Target("<=", 1.5).check(1.2), Target(">=", 3).check(2.0)
            ('pass', 'FAIL')
        """
        if measured is None:
            return "n/a"
        ok = measured <= self.value if self.op == "<=" else measured >= self.value
        return "pass" if ok else "FAIL"

    def text(self) -> str:
        """Return the target as text, e.g. "<= 1.5"."""
        value = f"{self.value:g}"
        return f"{self.op} {value}{f' {self.note}' if self.note else ''}"


TARGETS: dict[str, Target] = {
    "clean_over_parse": Target("<=", 1.5),
    "naive_over_clean": Target(">=", 3.0),
    "peak_rss_mib": Target("<=", 2048, "(at 500 000)"),
    "jobs_speedup": Target(">=", 1.6, "(2 cores)"),
    "batch_over_inprocess": Target("<=", 1.5, "(aim)"),
    "rerun_over_full": Target("<=", 0.05),
}

# Figure → (label, unit) in table order.
_LABELS: dict[str, tuple[str, str]] = {
    "episodes": ("episodes (clean participant rows)", ""),
    "parse_s": ("plain parse, in-process", "s"),
    "clean_s": ("clean (run_clean), in-process", "s"),
    "naive_s": ("naive pandas read, in-process", "s"),
    "clean_over_parse": ("clean ÷ plain parse", "×"),
    "naive_over_clean": ("naive pandas read ÷ clean", "×"),
    "clean_rows_per_s": ("clean rows per second", "rows/s"),
    "clean_cli_s": ("`rehab-analytics clean`, fresh process", "s"),
    "parse_cli_s": ("plain parse, fresh process", "s"),
    "clean_cli_over_parse_cli": ("clean ÷ parse, fresh processes", "×"),
    "peak_rss_mib": ("peak memory of `clean`, all processes (PSS)", "MiB"),
    "batch_jobs1_s": ("report batch --jobs 1 --force", "s"),
    "batch_jobsn_s": ("report batch --jobs <cores> --force", "s"),
    "batch_rerun_s": ("report batch, nothing changed", "s"),
    "inprocess_s": ("notebook code cells, one process", "s"),
    "jobs_speedup": ("batch speed-up, --jobs <cores>", "×"),
    "batch_over_inprocess": ("batch (--jobs <cores>) ÷ in-process code", "×"),
    "batch_jobs1_over_inprocess": ("batch --jobs 1 ÷ in-process code", "×"),
    "rerun_over_full": ("unchanged re-run ÷ full batch", "×"),
}


# ----------------------------------------------------------------- pure helpers


def median(values: Sequence[float]) -> float:
    """Return the median of timings.

    Raises:
        ValueError: If there are no values.

    Example:
        >>> median([3.0, 1.0, 2.0]), median([1.0, 2.0])
        (2.0, 1.5)
    """
    if not values:
        raise ValueError("no timings to take the median of; expected at least one run.")
    return float(statistics.median(values))


def cpu_seconds() -> float:
    """Return CPU seconds used by this process and its waited-for children so far.

    Example:
        >>> cpu_seconds() > 0
        True
    """
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


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


def ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float | None:
    """Return median(numerator) ÷ median(denominator); None if either is missing.

    Example:
        >>> ratio([2.0, 4.0, 3.0], [1.0, 1.0, 2.0])
        3.0
        >>> ratio([], [1.0]) is None
        True
    """
    if not numerator or not denominator:
        return None
    below = median(denominator)
    return median(numerator) / below if below > 0 else None


def compute_figures(
    timings: Mapping[str, Sequence[float]],
    *,
    episodes: int | None,
    peak_rss_mib: float | None,
) -> dict[str, float | int | None]:
    """Turn the raw timings into the reported figures (None where not measured).

    Timing names: ``parse``, ``clean``, ``naive`` (in-process), ``clean_cli``,
    ``parse_cli`` (fresh processes), ``batch_jobs1``, ``batch_jobsn``,
    ``batch_rerun``, ``inprocess`` (the batch phase).

    Example:
        >>> f = compute_figures({"parse": [1.0, 1.0, 1.0], "clean": [1.2, 1.3, 1.4]},
        ...                     episodes=130, peak_rss_mib=None)
        >>> round(f["clean_over_parse"], 3), f["clean_rows_per_s"], f["jobs_speedup"]
        (1.3, 100.0, None)
    """

    def med(name: str) -> float | None:
        values = timings.get(name) or []
        return median(values) if values else None

    def get(name: str) -> Sequence[float]:
        return timings.get(name) or []

    clean = med("clean")
    return {
        "episodes": episodes,
        "parse_s": med("parse"),
        "clean_s": clean,
        "naive_s": med("naive"),
        "clean_over_parse": ratio(get("clean"), get("parse")),
        "naive_over_clean": ratio(get("naive"), get("clean")),
        "clean_rows_per_s": (episodes / clean)
        if clean and episodes is not None
        else None,
        "clean_cli_s": med("clean_cli"),
        "parse_cli_s": med("parse_cli"),
        "clean_cli_over_parse_cli": ratio(get("clean_cli"), get("parse_cli")),
        "peak_rss_mib": peak_rss_mib,
        "batch_jobs1_s": med("batch_jobs1"),
        "batch_jobsn_s": med("batch_jobsn"),
        "batch_rerun_s": med("batch_rerun"),
        "inprocess_s": med("inprocess"),
        "jobs_speedup": ratio(get("batch_jobs1"), get("batch_jobsn")),
        # The batch as it runs by default (kernels side by side) against the same
        # code in one process; with one job it shows the kernels' cost alone.
        "batch_over_inprocess": ratio(get("batch_jobsn"), get("inprocess")),
        "batch_jobs1_over_inprocess": ratio(get("batch_jobs1"), get("inprocess")),
        "rerun_over_full": ratio(get("batch_rerun"), get("batch_jobsn")),
    }


def evaluate(
    figures: Mapping[str, float | int | None],
    targets: Mapping[str, Target] = TARGETS,
) -> list[tuple[str, str, str, str]]:
    """Return table rows (measure, measured value, target, pass/FAIL/n/a).

    Example:
        >>> rows = evaluate({"clean_over_parse": 1.234, "episodes": 10})
        >>> rows[0], rows[1]
        (('episodes (clean participant rows)', '10', '', ''), ('clean ÷ plain parse', '1.23 ×', '<= 1.5', 'pass'))
    """
    rows = []
    for name, (label, unit) in _LABELS.items():
        if name not in figures:
            continue
        value = figures[name]
        if value is None:
            shown = "skipped"
        elif isinstance(value, int):
            shown = f"{value:,}".replace(",", " ")
        elif unit == "rows/s":
            shown = f"{value:,.0f} {unit}".replace(",", " ")
        else:
            shown = f"{value:.2f} {unit}".rstrip()
        target = targets.get(name)
        rows.append(
            (
                label,
                shown,
                target.text() if target else "",
                target.check(value) if target else "",
            )
        )
    return rows


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Return rows as an aligned text table with a header line.

    Example:
        >>> print(format_table([("a", "1 s", "<= 2", "pass")]))
        measure  measured  target  result
        -------  --------  ------  ------
        a        1 s       <= 2    pass
    """
    table = [("measure", "measured", "target", "result"), *rows]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
        for r in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def bench_record(
    figures: Mapping[str, Any],
    timings: Mapping[str, Sequence[float]],
    machine: Mapping[str, Any],
    settings: Mapping[str, Any],
    targets: Mapping[str, Target] = TARGETS,
    cpu: Mapping[str, Sequence[float]] | None = None,
) -> dict[str, Any]:
    """Return the JSON record: figures at the top level, raw timings, targets, machine.

    With ``cpu`` (CPU seconds per run), ``cpu_s`` holds them and ``cpu_ratios``
    the same ratios computed on CPU time (parallel speed-up excluded: it only
    shows in wall time).

    Example:
        >>> rec = bench_record({"clean_over_parse": 1.2}, {"clean": [1.0]}, {"cores": 2}, {})
        >>> rec["clean_over_parse"], rec["timings_s"]["clean"], rec["results"]["clean_over_parse"]
        (1.2, [1.0], 'pass')
    """
    return {
        **figures,
        "timings_s": {name: list(values) for name, values in timings.items()},
        "targets": {name: t.text() for name, t in targets.items()},
        "results": {name: t.check(figures.get(name)) for name, t in targets.items()},
        "machine": dict(machine),
        "settings": dict(settings),
        "cpu_s": {name: list(values) for name, values in (cpu or {}).items()},
        "cpu_ratios": cpu_ratios(cpu or {}),
    }


def cpu_ratios(cpu: Mapping[str, Sequence[float]]) -> dict[str, float | None]:
    """Return the time ratios computed on CPU seconds instead of wall time.

    Example:
        >>> cpu_ratios({"clean": [3.0], "parse": [1.0]})["clean_over_parse"]
        3.0
    """
    figures = compute_figures(cpu, episodes=None, peak_rss_mib=None)
    names = (
        "clean_over_parse",
        "naive_over_clean",
        "clean_cli_over_parse_cli",
        "batch_over_inprocess",
        "rerun_over_full",
    )
    return {name: figures[name] for name in names}


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> Path:
    """Write ``data`` as JSON to ``path`` via a temporary file and a rename.

    Example:
        >>> import tempfile
        >>> p = write_json_atomic(Path(tempfile.mkdtemp()) / "b.json", {"a": 1})
        >>> json.loads(p.read_text())
        {'a': 1}
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False, default=str)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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


# ----------------------------------------------------------------- setup


@dataclass(frozen=True)
class ParseItem:
    """One file (and for workbooks, its sheets) the clean reads."""

    path: str
    format: str
    sheets: tuple[str, ...] = ()
    encoding: str = "utf-8"
    delimiter: str = ";"
    header_row: int = 1
    width: int = 0


def _generator_id() -> str:
    import hashlib

    from rehab_analytics import sample

    digest = hashlib.sha256()
    # Every module of the generator (sample.py, sample_layouts.py, …) and its
    # source descriptions decide the raw files.
    folder = Path(sample.__file__).parent
    for path in sorted(folder.glob("sample*.py")) + sorted(
        (folder / "sources").glob("*.toml")
    ):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    code = digest.hexdigest()[:16]
    return f"{sample.GENERATOR_VERSION}-{code}"


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _package_code_id() -> str:
    """Return a short hash of the package's code, notebooks and descriptions."""
    import hashlib

    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if (
            path.suffix in (".py", ".toml", ".ipynb")
            and "__pycache__" not in path.parts
        ):
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _ensure_raw(
    root: Path, participants: int, seed: int, log: Callable[[str], None]
) -> Path:
    """Return a raw folder for (participants, seed), generating it unless cached."""
    from rehab_analytics.sample.deliveries import write_sample

    raw = root / f"raw-{participants}-{seed}"
    want = {"participants": participants, "seed": seed, "generator": _generator_id()}
    marker = raw / _MARKER
    try:
        if json.loads(marker.read_text(encoding="utf-8")) == want:
            log(f"Reusing the raw data in {raw}")
            return raw
    except (OSError, ValueError):
        pass
    if raw.exists():
        shutil.rmtree(raw)
    log(f"Generating {participants:,} episodes (seed {seed}) into {raw} (not timed) …")
    started = time.perf_counter()
    write_sample(raw, participants=participants, seed=seed)
    # The marker is written last: an interrupted generation is never reused.
    write_json_atomic(marker, want)
    log(f"  generated in {time.perf_counter() - started:.0f} s")
    return raw


def _csv_layout(path: Path, encodings: Sequence[str], header_row: int, delimiter: str):
    data = path.read_bytes()
    chosen = "utf-8"
    for enc in (
        ("utf-8-sig", *encodings) if data.startswith(b"\xef\xbb\xbf") else encodings
    ):
        try:
            text = data.decode(enc)
            chosen = enc
            break
        except (UnicodeDecodeError, LookupError):
            continue
    else:
        text = data.decode("utf-8", "replace")
    lines = text.splitlines()
    header = lines[header_row - 1] if len(lines) >= header_row else ""
    width = len(next(csv.reader([header], delimiter=delimiter), [])) or 1
    # pyarrow wants a codec name it can pass to Python; utf-8-sig keeps the BOM out.
    return chosen, width


def parse_plan(raw_dir: Path) -> list[ParseItem]:
    """Return the files and sheets the source descriptions make the clean read.

    Uses the public readers to find sheets and header rows (setup, not timed).
    """
    from rehab_analytics.clean.run import find_files
    from rehab_analytics.ingest.read import read_sheet, select_sheets, sniff_format
    from rehab_analytics.sources.model import load_sources

    raw_dir = Path(raw_dir)
    items: dict[str, ParseItem] = {}
    for source in load_sources(raw_dir):
        for spec in source.tables:
            for path, _ in find_files(raw_dir, spec):
                fmt = sniff_format(path)
                key = str(path)
                if fmt == "csv":
                    header = spec.header_row
                    if header == "auto":
                        header = read_sheet(path, spec).header_row
                    encoding, width = _csv_layout(
                        path, spec.encoding, int(header), spec.delimiter
                    )
                    items[key] = ParseItem(
                        key, fmt, (), encoding, spec.delimiter, int(header), width
                    )
                else:
                    sheets = tuple(select_sheets(path, spec.sheets))
                    old = items.get(key)
                    if old is not None:
                        sheets = tuple(dict.fromkeys(old.sheets + sheets))
                    items[key] = ParseItem(key, fmt, sheets)
    return list(items.values())


# ----------------------------------------------------------------- contenders


def plain_parse(plan: Sequence[ParseItem]) -> int:
    """Read every planned sheet/file the fastest plain way; return cells read.

    Workbooks: ``CalamineWorkbook.from_path(...).get_sheet_by_name(...).to_python()``;
    text files: ``pyarrow.csv.read_csv`` with the file's delimiter and encoding, the
    header line as the first row, every column as text.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from python_calamine import CalamineWorkbook

    cells = 0
    for item in plan:
        if item.format == "csv":
            names = [f"c{i}" for i in range(item.width)]
            table = pacsv.read_csv(
                item.path,
                read_options=pacsv.ReadOptions(
                    encoding=item.encoding,
                    skip_rows=item.header_row - 1,
                    column_names=names,
                    block_size=1 << 24,
                ),
                parse_options=pacsv.ParseOptions(delimiter=item.delimiter),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                ),
            )
            cells += table.num_rows * table.num_columns
        else:
            wb = CalamineWorkbook.from_path(item.path)
            try:
                for sheet in item.sheets:
                    rows = wb.get_sheet_by_name(sheet).to_python()
                    cells += len(rows) * (len(rows[0]) if rows else 0)
            finally:
                wb.close()
    return cells


def naive_parse(
    plan: Sequence[ParseItem], by_format: dict[str, list[float]] | None = None
) -> int:
    """Read every planned sheet/file with plain pandas defaults; return cells read.

    ``pandas.read_excel`` with its default engine for the format (openpyxl for
    xlsx/xlsm, odfpy for ods: openpyxl cannot read ods) and ``pandas.read_csv``
    (C engine) with the file's separator and encoding, skipping lines above the
    header. ``by_format`` collects the seconds spent per format in this run.
    """
    import pandas as pd

    cells = 0
    spent: dict[str, float] = {}
    for item in plan:
        started = time.perf_counter()
        if item.format == "csv":
            frame = pd.read_csv(
                item.path,
                sep=item.delimiter,
                encoding=item.encoding,
                skiprows=item.header_row - 1,
            )
            cells += frame.size
        else:
            engine = "odf" if item.format == "ods" else "openpyxl"
            frames = pd.read_excel(
                item.path, sheet_name=list(item.sheets), engine=engine
            )
            cells += sum(f.size for f in frames.values())
        spent[item.format] = spent.get(item.format, 0.0) + time.perf_counter() - started
    if by_format is not None:
        for fmt, seconds in spent.items():
            by_format.setdefault(fmt, []).append(seconds)
    return cells


def _parse_main(plan_file: str) -> int:
    """Entry of the fresh-process plain parse (``--parse-plan``)."""
    plan = [
        ParseItem(**{**d, "sheets": tuple(d["sheets"])})
        for d in json.loads(Path(plan_file).read_text())
    ]
    plain_parse(plan)
    return 0


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


# ----------------------------------------------------------------- notebooks in-process


def _notebook_jobs(manifest_file: Path) -> list[tuple[Path, dict[str, Any]]]:
    from rehab_analytics.batch.run import NOTEBOOKS_DIR

    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    return [
        (NOTEBOOKS_DIR / j["notebook"], dict(j["parameters"])) for j in manifest["jobs"]
    ]


def _exec_notebooks(jobs: Sequence[tuple[Path, dict[str, Any]]], out_dir: Path) -> None:
    """Execute the notebooks' code cells in this process, a fresh namespace each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nbformat

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    cwd = Path.cwd()
    try:
        os.chdir(out_dir)
        for notebook, params in jobs:
            nb = nbformat.read(str(notebook), as_version=4)
            params = {**params, "output_dir": str(out_dir)}
            namespace: dict[str, Any] = {
                "__name__": "__main__",
                "display": lambda *a, **k: None,
            }
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                code = "\n".join(
                    line
                    for line in cell.source.splitlines()
                    if not line.lstrip().startswith(("%", "!"))
                )
                exec(compile(code, f"{notebook.name}", "exec"), namespace)  # noqa: S102
                if "parameters" in cell.get("metadata", {}).get("tags", []):
                    namespace.update(params)
            plt.close("all")
    finally:
        os.chdir(cwd)


# ----------------------------------------------------------------- the run


def run_bench(
    out: Path,
    *,
    participants: int = 100_000,
    seed: int = 2015,
    repeats: int = 3,
    skip_batch: bool = False,
    jobs: int | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the whole benchmark and write ``<out>/bench.json``; return the record.

    Args:
        out: Bench folder (raw-data cache, clean outputs, reports, bench.json).
        participants: Episodes to generate.
        seed: Random seed of the generator.
        repeats: Runs per contender (the median is reported).
        skip_batch: Leave out the report batch measures.
        jobs: Parallel notebooks for the parallel batch (default: cores).
        log: Progress printer.
    """
    import pyarrow.parquet as pq

    started = time.perf_counter()
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    code_at_start = _package_code_id()
    load_at_start = _load_average()
    jobs = jobs or machine["cores"]
    raw = _ensure_raw(out, participants, seed, log)
    plan = parse_plan(raw)
    plan_file = write_json_atomic(out / "parse-plan.json", [asdict(p) for p in plan])  # type: ignore[arg-type]
    log(
        f"Files read by the clean: {len(plan)} ({', '.join(sorted({p.format for p in plan}))})"
    )

    # In-process: warm imports and the page cache, then interleave.
    previous_key = os.environ.get("RA_PSEUDONYM_KEY")
    os.environ["RA_PSEUDONYM_KEY"] = _TEST_KEY
    try:
        import openpyxl  # noqa: F401 - warm the naive reader's imports
        import pandas  # noqa: F401

        from rehab_analytics.clean.run import run_clean

        inproc_dir = out / "clean-inprocess"
        naive_by_format: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        log("Warm-up: one plain parse and one clean (not timed) …")
        plain_parse(plan)
        run_clean(raw_dir=raw, out_dir=inproc_dir)
        log(f"Timing in-process: parse, clean, naive × {repeats} …")
        timings = interleave(
            {
                "parse": lambda: plain_parse(plan),
                "clean": lambda: run_clean(raw_dir=raw, out_dir=inproc_dir),
                "naive": lambda: naive_parse(plan, naive_by_format),
            },
            repeats,
            cpu=cpu,
        )
    finally:
        if previous_key is None:
            os.environ.pop("RA_PSEUDONYM_KEY", None)
        else:
            os.environ["RA_PSEUDONYM_KEY"] = previous_key

    processed = out / f"processed-{participants}-{seed}"
    memory: list[dict[str, float]] = []
    log(f"Timing fresh processes: `rehab-analytics clean`, plain parse × {repeats} …")
    timings.update(
        interleave(
            {
                "clean_cli": lambda: _run_child(
                    [*_cli(), "clean", "--raw", str(raw), "--out", str(processed)],
                    out / "logs" / "clean.log",
                    memory,
                ),
                "parse_cli": lambda: _run_child(
                    [
                        sys.executable,
                        "-m",
                        "rehab_analytics.bench",
                        "--parse-plan",
                        str(plan_file),
                    ],
                    out / "logs" / "parse.log",
                ),
            },
            repeats,
            cpu=cpu,
        )
    )
    episodes = pq.read_metadata(processed / "participants.parquet").num_rows

    batch_note = ""
    if skip_batch:
        batch_note = "skipped (--skip-batch)"
    else:
        try:
            batch_note = _batch_phase(out, processed, jobs, repeats, timings, cpu, log)
        except RuntimeError as exc:
            # Keep the cleaning figures; say why the batch figures are missing.
            for name in ("batch_jobs1", "batch_jobsn", "batch_rerun", "inprocess"):
                timings.pop(name, None)
                cpu.pop(name, None)
            batch_note = f"failed: {exc}"

    if _package_code_id() != code_at_start:
        batch_note = (
            f"{batch_note}; " if batch_note else ""
        ) + "warning: the package code changed while the bench ran"
    figures = compute_figures(
        timings,
        episodes=episodes,
        peak_rss_mib=max(m["tree_pss_mib"] for m in memory) if memory else None,
    )
    total = time.perf_counter() - started
    settings = {
        "participants": participants,
        "seed": seed,
        "repeats": repeats,
        "jobs": jobs,
        "raw_dir": str(raw),
        "files": [asdict(p) for p in plan],
        "notes": batch_note,
        "package_code": code_at_start,
        "load_average_start": load_at_start,
        "peak_rss_method": (
            "peak over the runs of the summed PSS of `rehab-analytics clean` and all "
            "its worker processes, polled every 20 ms (tree_rss_mib counts pages "
            "shared by forked workers once per process; os.wait4's ru_maxrss is "
            "not used: on Linux it keeps the pre-exec peak of the forked bench)"
        ),
        "peak_rss_runs_mib": memory,
        "naive_seconds_by_format": naive_by_format,
        "total_seconds": round(total, 1),
    }
    settings["load_average_end"] = _load_average()
    record = bench_record(figures, timings, machine, settings, cpu=cpu)
    path = write_json_atomic(out / "bench.json", record)
    log("")
    log(_machine_line(machine))
    log(
        f"Load average (1/5/15 min) at start {settings['load_average_start']}, at end "
        f"{settings['load_average_end']}: above {machine['cores']} means other work "
        "competed for the cores and wall times are inflated."
    )
    log(format_table(evaluate(figures)))
    shown = {k: v for k, v in record["cpu_ratios"].items() if v is not None}
    if shown:
        log(
            "Same ratios on CPU time (robust to other load): "
            + ", ".join(f"{k} {v:.2f}" for k, v in shown.items())
        )
    if batch_note:
        log(f"Note: {batch_note}")
    log(
        f"Median of {repeats} interleaved run(s) each; the whole bench took {total / 60:.1f} min."
    )
    log(f"Wrote {path}")
    return record


def _batch_phase(
    out: Path,
    processed: Path,
    jobs: int,
    repeats: int,
    timings: dict[str, list[float]],
    cpu: dict[str, list[float]],
    log: Callable[[str], None],
) -> str:
    """Time the batch; return "" when measured, else why it was skipped."""
    from rehab_analytics.batch.run import NOTEBOOKS_DIR

    if not any(NOTEBOOKS_DIR.glob("*.ipynb")):
        return f"skipped (no notebooks in {NOTEBOOKS_DIR})"
    reports = processed / "reports"
    if reports.exists():
        shutil.rmtree(reports)
    reports_cmd = [*_cli(), "reports", "--processed", str(processed)]
    log_dir = out / "logs"

    def in_process() -> None:
        latest = (reports / "latest.txt").read_text(encoding="utf-8").strip()
        try:
            _exec_notebooks(
                _notebook_jobs(reports / latest / "manifest.json"), out / "inprocess"
            )
        except Exception as exc:
            raise RuntimeError(
                f"executing the notebooks in-process failed: {type(exc).__name__}: {exc}"
            ) from exc

    log(
        f"Timing the report batch: --jobs 1, --jobs {jobs}, re-run unchanged, "
        f"in-process × {repeats} …"
    )
    timings.update(
        interleave(
            {
                "batch_jobs1": lambda: _run_child(
                    [*reports_cmd, "--jobs", "1", "--force"],
                    log_dir / "batch-jobs1.log",
                ),
                "batch_jobsn": lambda: _run_child(
                    [*reports_cmd, "--jobs", str(jobs), "--force"],
                    log_dir / "batch-jobsn.log",
                ),
                # Right after a full run, so nothing has changed.
                "batch_rerun": lambda: _run_child(
                    [*reports_cmd, "--jobs", str(jobs)], log_dir / "batch-rerun.log"
                ),
                "inprocess": in_process,
            },
            repeats,
            cpu=cpu,
        )
    )
    return _code_drift(reports)


def _code_drift(reports: Path) -> str:
    """Return a warning if the package code changed between the batch runs."""
    codes = set()
    for manifest in reports.glob("*/manifest.json"):
        try:
            codes.add(json.loads(manifest.read_text(encoding="utf-8"))["code_sha256"])
        except (OSError, ValueError, KeyError):
            continue
    if len(codes) <= 1:
        return ""
    return (
        f"warning: the package code changed during the batch ({len(codes)} different "
        "code_sha256 values in the run manifests), so re-runs could not reuse earlier "
        "results; run the bench on a tree nobody is editing"
    )


def _machine_line(m: Mapping[str, Any]) -> str:
    v = m["versions"]
    libs = ", ".join(f"{k} {val}" for k, val in v.items() if val)
    return (
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"{m['platform']}\nLibraries: {libs}"
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rehab_analytics.bench",
        description="Benchmark the clean and the report batch against their targets.",
    )
    p.add_argument(
        "--participants", type=int, default=100_000, help="episodes (default: 100000)"
    )
    p.add_argument(
        "--national",
        action="store_true",
        help=f"national scale: {NATIONAL_PARTICIPANTS:,} episodes".replace(",", " "),
    )
    p.add_argument("--seed", type=int, default=2015, help="random seed (default: 2015)")
    p.add_argument(
        "--repeats", type=int, default=3, help="runs per measure (default: 3)"
    )
    p.add_argument(
        "--jobs", type=int, default=None, help="parallel notebooks (default: cores)"
    )
    p.add_argument("--out", default="data/processed/bench", help="bench folder")
    p.add_argument(
        "--skip-batch", action="store_true", help="leave out the report batch"
    )
    p.add_argument(
        "--quick", action="store_true", help="smoke run: 300 episodes, 1 repeat allowed"
    )
    p.add_argument("--parse-plan", default=None, help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from the command line; return the exit code.

    Example:
        >>> main(["--repeats", "1"])  # doctest: +SKIP
        2
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.parse_plan:
        return _parse_main(args.parse_plan)
    participants = NATIONAL_PARTICIPANTS if args.national else args.participants
    repeats = args.repeats
    if args.quick:
        participants = min(participants, 300) if not args.national else participants
        if "--repeats" not in (argv if argv is not None else sys.argv[1:]):
            repeats = 1
    elif repeats < 3:
        parser.error(
            f"--repeats is {repeats}; each figure is a median of at least 3 runs."
        )
    if participants < 1 or repeats < 1:
        parser.error("--participants and --repeats must be at least 1.")
    from rehab_analytics.errors import RehabAnalyticsError

    try:
        run_bench(
            Path(args.out),
            participants=participants,
            seed=args.seed,
            repeats=repeats,
            skip_batch=args.skip_batch,
            jobs=args.jobs,
        )
    except RehabAnalyticsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except RuntimeError as exc:  # a measured command failed: show its output's tail
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
