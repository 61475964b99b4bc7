"""Batch jobs: what one notebook run is, and running it in a worker with retries."""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rehab_analytics import report
from rehab_analytics.kernel import KERNEL_NAME

__all__ = [
    "JobResult",
]


# Never let the kernels see the pseudonymisation key (they read pseudonymised data).
_SECRET_ENV = ("RA_PSEUDONYM_KEY", "RA_KEY_FILE")
_START_FAILURES = (
    "kernel died before replying",
    "didn't respond",
    "address already in use",
    "zmqerror",
)
_DONE = ("ok", "skipped (unchanged)")


@dataclass
class JobResult:
    """Outcome of one notebook job (``status``: ok, failed, skipped (unchanged))."""

    name: str
    notebook: str
    status: str
    seconds: float = 0.0
    cell: int | None = None
    error: str = ""
    path: Path | None = None
    fingerprint: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    attempts: int = 0
    reused_from: str = ""


@dataclass
class _Job:
    name: str
    notebook: Path
    parameters: dict[str, Any]
    fingerprint: str = ""


def _is_start_failure(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(s in text for s in _START_FAILURES)


def _with_retry(
    run: Callable[[], None],
    attempts: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Call ``run``; retry kernel-start failures with growing waits. Return attempts used.

    Example:
        >>> _with_retry(lambda: None)
        1
    """
    for attempt in range(1, attempts + 1):
        try:
            run()
            return attempt
        except Exception as exc:
            from papermill.exceptions import PapermillExecutionError

            if isinstance(exc, PapermillExecutionError) or attempt == attempts:
                raise
            if not _is_start_failure(exc):
                raise
            sleep(backoff * 2 ** (attempt - 1) + random.uniform(0, backoff / 2))
    raise AssertionError("unreachable")


_THREAD_LIMITS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _worker_init() -> None:
    for name in _SECRET_ENV:
        os.environ.pop(name, None)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    # One thread per kernel for BLAS, OpenMP and Arrow (which reads
    # OMP_NUM_THREADS): kernels already run side by side, and idle BLAS threads
    # spin. Measured at 100 000 episodes on 2 cores: the batch took 15 % less
    # CPU and 10-15 % less time. Set a variable yourself to override.
    for name in _THREAD_LIMITS:
        os.environ.setdefault(name, "1")


def _run_job(spec: dict[str, Any]) -> dict[str, Any]:
    """Execute one notebook in this worker process; never raises for notebook errors."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out = Path(spec["output"])
    log = Path(spec["log"])
    log.parent.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"status": "ok", "cell": None, "error": "", "attempts": 0}
    started = time.perf_counter()
    saved = os.dup(1), os.dup(2)
    # Kernels inherit these descriptors: their chatter goes to the job log.
    with open(log, "ab") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)

    def execute() -> None:
        result["attempts"] += 1
        pm.execute_notebook(
            spec["notebook"],
            str(out),
            parameters=spec["parameters"],
            kernel_name=KERNEL_NAME,
            cwd=spec["cwd"],
            log_output=False,
            progress_bar=False,
            # papermill otherwise rewrites the whole notebook (every image so
            # far) before and after each cell: seconds per report. The executed
            # notebook is still written at the end, also when a cell fails.
            request_save_on_cell_execute=False,
        )

    try:
        _with_retry(execute, backoff=spec.get("backoff", 1.0))
        report.write_html(out, out.with_suffix(".html"))
    except PapermillExecutionError as exc:
        result.update(
            status="failed", cell=exc.exec_count, error=f"{exc.ename}: {exc.evalue}"
        )
    except Exception as exc:
        result.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
    result["seconds"] = time.perf_counter() - started
    return result


def _job_outputs(run_dir: Path, name: str) -> list[str]:
    files = [f"{name}.ipynb", f"{name}.html"]
    reg = report.published(run_dir, name)
    files += [e["file"] for e in reg["tables"] + reg["figures"]]
    if (run_dir / "published" / f"{name}.json").is_file():
        files.append(f"published/{name}.json")
    return [f for f in files if (run_dir / f).is_file()]


def _execute(
    todo: list[_Job], run_dir: Path, jobs: int, progress: Callable[[JobResult], None]
) -> list[JobResult]:
    results: list[JobResult] = []
    if not todo:
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(todo)), mp_context=context, initializer=_worker_init
    ) as pool:
        futures = {
            pool.submit(
                _run_job,
                {
                    "notebook": str(job.notebook),
                    "output": str(run_dir / f"{job.name}.ipynb"),
                    "parameters": job.parameters,
                    "cwd": str(run_dir),
                    "log": str(run_dir / "logs" / f"{job.name}.log"),
                },
            ): job
            for job in todo
        }
        for future in as_completed(futures):
            job = futures[future]
            try:
                raw = future.result()
            except Exception as exc:  # a worker died (killed, out of memory)
                raw = {
                    "status": "failed",
                    "error": f"{type(exc).__name__}: {exc}",
                    "seconds": 0.0,
                }
            result = JobResult(
                name=job.name,
                notebook=job.notebook.name,
                status=raw["status"],
                seconds=raw.get("seconds", 0.0),
                cell=raw.get("cell"),
                error=raw.get("error", ""),
                path=run_dir / f"{job.name}.ipynb",
                fingerprint=job.fingerprint,
                parameters=job.parameters,
                outputs=_job_outputs(run_dir, job.name),
                attempts=raw.get("attempts", 0),
            )
            results.append(result)
            progress(result)
    return results
