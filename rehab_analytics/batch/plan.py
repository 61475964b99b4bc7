"""Batch planning: which jobs to run, input and code hashes, and reuse of unchanged jobs."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rehab_analytics.batch.jobs import _DONE, JobResult, _Job
from rehab_analytics.batch.parameters import (
    Parameter,
    _check_date,
    validate_parameters,
)
from rehab_analytics.config import PACKAGE_DIR
from rehab_analytics.errors import ConfigError, InputFileError, ParameterError
from rehab_analytics.kernel import KERNEL_NAME
from rehab_analytics.processed import OUTPUT_FILES

# Notebooks that exist run in this order; any other notebook runs after them.
_ORDER = ("data_quality", "subproject_report", "comparison_report")
# Every batch notebook must declare these; the rest are passed when declared.
_REQUIRED = ("processed_dir", "lang", "output_dir", "job")
# The tables processed.load() needs (checked against OUTPUT_FILES in the tests).
_REQUIRED_TABLES = (
    "participants.parquet",
    "subprojects.parquet",
    "anonymous_counts.parquet",
    "rejects.parquet",
)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hash(data: object) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, default=str).encode()
    ).hexdigest()


def _code_sha256() -> str:
    files = sorted(
        p
        for p in PACKAGE_DIR.rglob("*")
        if p.suffix in (".py", ".toml", ".ipynb") and "__pycache__" not in p.parts
    )
    return _hash({str(p.relative_to(PACKAGE_DIR)): _sha256(p) for p in files})


# The libraries that compute and draw what the reports show: another version can
# give other numbers, pictures or files from the same inputs.
_LIBRARIES = (
    "pandas",
    "numpy",
    "matplotlib",
    "seaborn",
    "scipy",
    "pyarrow",
    "python-pptx",
    "openpyxl",
    "XlsxWriter",
    "nbconvert",
    "papermill",
)
# The runtime lock of the checkout the package runs from (an editable install).
_LOCK = PACKAGE_DIR.parent / "requirements" / "runtime.lock"


def _version(name: str) -> str | None:
    """Return the installed version of a distribution (None when not installed)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _lock_sha256() -> str:
    """Hash the runtime lock, or without one every installed distribution and version.

    The lock is there in a checkout (``make install``); a package installed from a
    wheel has none beside it, so what is installed stands in for it.
    """
    if _LOCK.is_file():
        return _sha256(_LOCK)
    return _hash(
        sorted(
            f"{d.metadata['Name']}=={d.version}".lower()
            for d in importlib.metadata.distributions()
        )
    )


def _environment() -> dict[str, Any]:
    """Return the lock's hash and the versions of the libraries that compute and draw."""
    return {
        "lock_sha256": _lock_sha256(),
        "libraries": {name: _version(name) for name in _LIBRARIES},
    }


def _descriptions(processed: Path) -> dict[str, dict[str, str | None]]:
    """Source → path and sha256 of the description file the clean read.

    The paths are the ones the cleaning report records; a description missing since
    has the hash None. Without a readable report: no descriptions.
    """
    try:
        report = json.loads(
            (processed / OUTPUT_FILES["report"]).read_text(encoding="utf-8")
        )
    except (OSError, ValueError):
        return {}
    sources = report.get("sources") if isinstance(report, dict) else None
    found: dict[str, dict[str, str | None]] = {}
    for name, entry in sorted((sources or {}).items()):
        path = entry.get("description") if isinstance(entry, dict) else None
        if isinstance(path, str) and path:
            file = Path(path)
            found[name] = {
                "path": path,
                "sha256": _sha256(file) if file.is_file() else None,
            }
    return found


def _input_tables(processed: Path) -> dict[str, str]:
    missing = [name for name in _REQUIRED_TABLES if not (processed / name).is_file()]
    if missing:
        raise InputFileError(
            f"The processed tables ({', '.join(missing)}) are not there. Run "
            "`rehab-analytics clean` first (or `make demo` for sample data), or point "
            "--processed at the folder `clean` wrote.",
            file=str(processed),
        )
    return {
        p.name: _sha256(p)
        for p in sorted(processed.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


def _known_subprojects(processed: Path) -> tuple[list[str], list[str]]:
    """Return (codes with data in registry order, every known code)."""
    import pandas as pd

    path = processed / "participants.parquet"
    try:
        codes = pd.read_parquet(path, columns=["subproject"])["subproject"].dropna()
    except (KeyError, ValueError, OSError) as exc:
        raise InputFileError(
            f"Cannot read the column 'subproject' ({exc}). Re-run `rehab-analytics clean`.",
            file=str(path),
        ) from None
    with_data = set(codes.astype(str))
    try:
        from rehab_analytics.sources import build_registry, load_sources

        registered = list(build_registry(load_sources()).subproject_codes)
    except ImportError:
        registered = []
    ordered = [c for c in registered if c in with_data] + sorted(
        with_data - set(registered)
    )
    return ordered, list(dict.fromkeys(registered + ordered))


def _find_notebooks(folder: Path) -> list[Path]:
    found = [p for p in folder.glob("*.ipynb") if not p.name.startswith(("_", "."))]
    if not found:
        raise ConfigError(
            f"No report notebooks (*.ipynb) in {folder}. Reinstall the package or "
            "point notebooks_dir at the folder holding them."
        )
    rank = {stem: i for i, stem in enumerate(_ORDER)}
    return sorted(found, key=lambda p: (rank.get(p.stem, len(rank)), p.stem))


def _check_kernel() -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        raise ConfigError(
            f"The Jupyter kernel '{KERNEL_NAME}' is not installed. Run "
            "`rehab-analytics install-kernel` (or `make install`)."
        ) from None


def _plan(
    notebooks: Sequence[Path],
    specs: Mapping[Path, Mapping[str, Parameter]],
    common: Mapping[str, object],
    extra: Mapping[str, object],
    subprojects: Sequence[str],
) -> list[_Job]:
    unused = set(extra)
    jobs: list[_Job] = []
    for nb in notebooks:
        spec = specs[nb]
        lacking = [p for p in _REQUIRED if p not in spec]
        if lacking:
            raise ParameterError(
                f"The parameters cell lacks {', '.join(lacking)}; every report notebook "
                f'declares {", ".join(_REQUIRED)} (e.g. `lang: str = "sv"  # report '
                "language`).",
                file=str(nb),
            )
        values = {k: v for k, v in {**common, **extra}.items() if k in spec}
        unused -= set(values)
        if "subprojects" in spec:
            values["subprojects"] = list(subprojects)
        if "subproject" in spec:
            stem = nb.stem.removesuffix("_report")
            for code in subprojects:
                name = f"{stem}_{code}"
                jobs.append(_Job(name, nb, {**values, "job": name, "subproject": code}))
        else:
            jobs.append(_Job(nb.stem, nb, {**values, "job": nb.stem}))
    if unused:
        valid = sorted({p for s in specs.values() for p in s})
        raise ParameterError(
            f"unknown parameter '{sorted(unused)[0]}': no report notebook declares it. "
            f"Valid parameters: {', '.join(valid)}."
        )
    for job in jobs:
        spec = specs[job.notebook]
        validate_parameters(spec, job.parameters)
        start, end = (
            job.parameters[k]
            if k in job.parameters
            else getattr(spec.get(k), "default", None)
            for k in ("period_start", "period_end")
        )
        if (
            start is not None
            and end is not None
            and _check_date("period_start", start) > _check_date("period_end", end)
        ):
            raise ParameterError(
                f"period-start {start} is after period-end {end}; give the first "
                "day first."
            )
    return jobs


def _previous(
    reports_root: Path, current: Path
) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Fingerprint → (run folder, job entry) of completed jobs in earlier runs, newest first."""
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    if not reports_root.is_dir():
        return found
    runs = sorted(
        (
            p
            for p in reports_root.iterdir()
            if p.is_dir() and not p.is_symlink() and p != current
        ),
        reverse=True,
    )
    for run in runs:
        try:
            manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for entry in manifest.get("jobs", []):
            if entry.get("status") in _DONE and entry.get("fingerprint"):
                found.setdefault(entry["fingerprint"], (run, entry))
    return found


def _last_seconds(reports_root: Path, current: Path) -> dict[str, float]:
    """Job name → seconds it took when it last ran (newest earlier run first)."""
    seconds: dict[str, float] = {}
    if not reports_root.is_dir():
        return seconds
    runs = sorted(
        (p for p in reports_root.iterdir() if p.is_dir() and p != current),
        reverse=True,
    )
    for run in runs[:20]:
        try:
            manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for entry in manifest.get("jobs", []):
            took = entry.get("seconds") or 0
            if entry.get("status") == "ok" and took > 0 and entry.get("name"):
                seconds.setdefault(entry["name"], float(took))
    return seconds


def _longest_first(todo: Sequence[_Job], seconds: Mapping[str, float]) -> list[_Job]:
    """Order jobs so the longest start first (by their last run; new ones first).

    With parallel kernels a long notebook started last leaves the other cores
    idle at the end; the order does not change any output.

    Example:
        >>> jobs = [_Job(n, Path(n), {}) for n in ("dq", "sub", "new")]
        >>> [j.name for j in _longest_first(jobs, {"dq": 3.0, "sub": 8.0})]
        ['new', 'sub', 'dq']
    """
    longest = max(seconds.values(), default=0.0)
    return sorted(todo, key=lambda j: -seconds.get(j.name, longest + 1))


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    # Via a temporary name: never write through an existing (maybe shared) inode.
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copy2(src, tmp)
    os.replace(tmp, dst)


def _reuse(
    job: _Job, prev: tuple[Path, dict[str, Any]], run_dir: Path
) -> JobResult | None:
    src_run, entry = prev
    files = entry.get("outputs", [])
    if not all((src_run / f).is_file() for f in files):
        return None
    for f in files:
        _link_or_copy(src_run / f, run_dir / f)
    return JobResult(
        name=job.name,
        notebook=job.notebook.name,
        status="skipped (unchanged)",
        path=run_dir / f"{job.name}.ipynb",
        fingerprint=job.fingerprint,
        parameters=job.parameters,
        outputs=list(files),
        reused_from=entry.get("reused_from") or src_run.name,
    )


# Built from every job of a run; reusable only when the whole run is.
_RUN_OUTPUTS = ("tables.xlsx", "deck.pptx")


def _reuse_run_outputs(
    jobs: Sequence[_Job],
    hits: Sequence[tuple[Path, dict[str, Any]]],
    run_dir: Path,
) -> dict[str, Path] | None:
    """Link ``tables.xlsx`` and ``deck.pptx`` from the one earlier run all jobs came from.

    Only when every job was reused from the same run and that run had exactly
    these jobs (names and fingerprints, in order), finished without errors and
    still holds both files: then rebuilding them would give the same content.
    Returns file name → path, or ``None`` when they must be rebuilt.
    """
    runs = {run for run, _ in hits}
    if not jobs or len(hits) != len(jobs) or len(runs) != 1:
        return None
    (src,) = runs
    try:
        manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entries = manifest.get("jobs", [])
    if (
        not manifest.get("ok")
        or manifest.get("errors")
        or [(e.get("name"), e.get("fingerprint")) for e in entries]
        != [(j.name, j.fingerprint) for j in jobs]
        or any(e.get("status") not in _DONE for e in entries)
        or not set(_RUN_OUTPUTS) <= set(manifest.get("outputs", []))
        or not all((src / name).is_file() for name in _RUN_OUTPUTS)
    ):
        return None
    for name in _RUN_OUTPUTS:
        _link_or_copy(src / name, run_dir / name)
    return {name: run_dir / name for name in _RUN_OUTPUTS}
