"""The report-batch phase: the batch commands, and the same notebooks' code run in-process."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rehab_analytics.bench.measure import _cli, _run_child, interleave

__all__: list[str] = []


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
