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
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rehab_analytics.bench.figures import (
    bench_record,
    compute_figures,
    evaluate,
    format_table,
)
from rehab_analytics.bench.measure import (
    _TEST_KEY,
    _cli,
    _run_child,
    interleave,
    machine_info,
    write_json_atomic,
)
from rehab_analytics.bench.notebooks import _batch_phase
from rehab_analytics.bench.parse import (
    _parse_main,
    naive_parse,
    parse_plan,
    plain_parse,
)

__all__ = ["run_bench", "main"]

NATIONAL_PARTICIPANTS = 500_000
_MARKER = ".bench-raw.json"


def _generator_id() -> str:
    import hashlib

    from rehab_analytics import sample
    from rehab_analytics.config import BUILTIN_SOURCES_DIR

    digest = hashlib.sha256()
    # Every module of the generator (sample/*.py) and the built-in source
    # descriptions decide the raw files.
    folder = Path(sample.__file__).parent
    for path in sorted(folder.glob("*.py")) + sorted(
        BUILTIN_SOURCES_DIR.glob("*.toml")
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

    package = Path(__file__).resolve().parents[1]
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
