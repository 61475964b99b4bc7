"""The report batch: run the report notebooks with papermill, in parallel, into one run folder.

:func:`run_batch` is the one entry point (the ``reports`` command only parses its
arguments and calls it). It validates every parameter before a kernel starts, plans
one job per notebook (one per subproject for notebooks with a ``subproject``
parameter), reuses unchanged jobs from earlier runs, runs the rest in a process
pool, and assembles HTML pages, ``tables.xlsx``, ``deck.pptx`` and ``manifest.json``
(see :mod:`rehab_analytics.report` for what notebooks publish).
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import multiprocessing
import os
import platform
import random
import re
import shutil
import sys
import time
import tokenize
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rehab_analytics import __version__, report
from rehab_analytics.config import PACKAGE_DIR, settings
from rehab_analytics.errors import ConfigError, InputFileError, ParameterError
from rehab_analytics.kernel import KERNEL_NAME

__all__ = [
    "Parameter",
    "JobResult",
    "BatchResult",
    "NOTEBOOKS_DIR",
    "notebook_parameters",
    "validate_parameters",
    "run_batch",
]

NOTEBOOKS_DIR = PACKAGE_DIR / "notebooks"
# Notebooks that exist run in this order; any other notebook runs after them.
_ORDER = ("data_quality", "subproject_report", "comparison_report")
# Every batch notebook must declare these; the rest are passed when declared.
_REQUIRED = ("processed_dir", "lang", "output_dir", "job")
# The tables pipeline.load() needs (pipeline.OUTPUT_FILES; not imported: it is slow).
_REQUIRED_TABLES = (
    "participants.parquet",
    "subprojects.parquet",
    "anonymous_counts.parquet",
    "rejects.parquet",
)
_LANGS = ("sv", "en")
# Never let the kernels see the pseudonymisation key (they read pseudonymised data).
_SECRET_ENV = ("RA_PSEUDONYM_KEY", "RA_KEY_FILE")
_START_FAILURES = (
    "kernel died before replying",
    "didn't respond",
    "address already in use",
    "zmqerror",
)
_DONE = ("ok", "skipped (unchanged)")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Parameter:
    """One parameter declared in a notebook's ``parameters`` cell."""

    name: str
    type: str
    default: object
    help: str


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
class BatchResult:
    """Outcome of a batch run.

    Attributes:
        run_dir: The run folder.
        jobs: One result per notebook job, in run order.
        outputs: File name (relative to ``run_dir``) → path of what to open.
        errors: Problems assembling the run outputs (xlsx, deck).
    """

    run_dir: Path
    jobs: list[JobResult]
    outputs: dict[str, Path] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every job succeeded (or was reused) and the outputs were built."""
        return not self.errors and all(j.status in _DONE for j in self.jobs)

    def summary(self) -> str:
        """Return a text table: notebook, status, seconds, cell, error, path."""
        rows = [("notebook", "status", "seconds", "cell", "error", "path")]
        for j in self.jobs:
            error = j.error.replace("\n", " ")
            rows.append(
                (
                    j.name,
                    j.status,
                    f"{j.seconds:.1f}",
                    "" if j.cell is None else str(j.cell),
                    error if len(error) <= 60 else error[:57] + "...",
                    _short(j.path) if j.path else "",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(6)]
        lines = [
            "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
            for r in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines += [f"error: {e}" for e in self.errors]
        failed = sum(j.status not in _DONE for j in self.jobs)
        verdict = "all ok" if self.ok else f"{failed} notebook(s) failed"
        lines.append(
            f"Run folder: {_short(self.run_dir)} ({verdict}, {self.seconds:.1f} s)"
        )
        return "\n".join(lines)


def _short(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _comments(source: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string.lstrip("#").strip()
    return out


def notebook_parameters(notebook: str | Path) -> dict[str, Parameter]:
    """Parse the ``parameters`` cell of a notebook (lines ``name: type = literal  # help``).

    Raises:
        ParameterError: If there is no ``parameters`` cell, or a statement in it is
            not an annotated assignment of a literal.

    Example:
        >>> params = notebook_parameters(NOTEBOOKS_DIR / "subproject_report.ipynb")
        >>> params["lang"].type, params["lang"].default
        ('str', 'sv')
    """
    import nbformat

    notebook = Path(notebook)
    nb = nbformat.read(str(notebook), as_version=4)
    cells = [
        c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if not cells:
        raise ParameterError(
            "The notebook has no cell tagged 'parameters'. Tag the cell that holds "
            "the parameters (`name: type = value  # help`).",
            file=str(notebook),
        )
    source = cells[0].source
    try:
        tree = ast.parse(source)
        comments = _comments(source)
    except (SyntaxError, tokenize.TokenError) as exc:
        raise ParameterError(
            f"The parameters cell is not valid Python: {exc}", file=str(notebook)
        ) from None
    params: dict[str, Parameter] = {}
    for node in tree.body:
        ok = isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        try:
            default = ast.literal_eval(node.value) if ok and node.value else None
        except ValueError:
            ok = False
        if not ok or node.value is None:
            raise ParameterError(
                f"Line {node.lineno} of the parameters cell is "
                f"'{ast.get_source_segment(source, node)}'; expected "
                "`name: type = literal  # help`. Derive values in the next cell.",
                file=str(notebook),
            )
        name = node.target.id
        params[name] = Parameter(
            name, ast.unparse(node.annotation), default, comments.get(node.lineno, "")
        )
    return params


def _type_ok(value: object, annotation: str) -> bool:
    for option in (a.strip() for a in annotation.split("|")):
        base, _, inner = option.partition("[")
        if option == "None" and value is None:
            return True
        if base == "bool" and isinstance(value, bool):
            return True
        if base == "int" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if (
            base == "float"
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            return True
        if base == "str" and isinstance(value, str):
            return True
        if base == "dict" and isinstance(value, dict):
            return True
        if base == "list" and isinstance(value, list):
            return not inner or all(_type_ok(v, inner.rstrip("]")) for v in value)
        if base not in ("None", "bool", "int", "float", "str", "dict", "list"):
            return True
    return False


def validate_parameters(
    notebook: str | Path | Mapping[str, Parameter], values: Mapping[str, object]
) -> None:
    """Check parameter names and types against a notebook's parameters cell.

    papermill only warns about unknown names and casts nothing, so this runs
    before any kernel starts.

    Args:
        notebook: A notebook path, or its parsed parameters.
        values: The parameters to pass.

    Raises:
        ParameterError: Naming the unknown or mistyped parameter and listing the
            valid ones.

    Example:
        >>> nb = NOTEBOOKS_DIR / "subproject_report.ipynb"
        >>> validate_parameters(nb, {"lang": "en"})
        >>> validate_parameters(nb, {"langauge": "en"})
        Traceback (most recent call last):
        ...
        rehab_analytics.errors.ParameterError: ...unknown parameter 'langauge'...
    """
    where = None
    if not isinstance(notebook, Mapping):
        where = str(notebook)
        notebook = notebook_parameters(notebook)
    valid = ", ".join(f"{p.name} ({p.type})" for p in notebook.values())
    for name, value in values.items():
        if name not in notebook:
            raise ParameterError(
                f"unknown parameter '{name}'. Valid parameters: {valid}.", file=where
            )
        want = notebook[name].type
        if not _type_ok(value, want):
            raise ParameterError(
                f"parameter '{name}' is {value!r} ({type(value).__name__}); expected "
                f"{want}. Valid parameters: {valid}.",
                file=where,
            )


def _check_date(name: str, value: object) -> date:
    if isinstance(value, str) and _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ParameterError(
        f"{name.replace('_', '-')} is {value!r}; expected a date as YYYY-MM-DD, "
        "e.g. 2016-01-01."
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


@dataclass
class _Job:
    name: str
    notebook: Path
    parameters: dict[str, Any]
    fingerprint: str = ""


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


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


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


def _worker_init() -> None:
    for name in _SECRET_ENV:
        os.environ.pop(name, None)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


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


def _assemble(
    run_dir: Path, results: list[JobResult], lang: str
) -> tuple[dict[str, Path], list[str]]:
    outputs: dict[str, Path] = {}
    errors: list[str] = []
    done = [j for j in results if j.status in _DONE]
    for j in done:
        html = run_dir / f"{j.name}.html"
        if html.is_file():
            outputs[html.name] = html
    regs = {j.name: report.published(run_dir, j.name) for j in done}
    tables = [{**t, "job": name} for name, reg in regs.items() for t in reg["tables"]]
    figures = [{**f, "job": name} for name, reg in regs.items() for f in reg["figures"]]
    for name, write, items in (
        ("tables.xlsx", report.write_tables_xlsx, tables),
        ("deck.pptx", report.write_deck, figures),
    ):
        try:
            outputs[name] = write(run_dir, items, run_dir / name, lang=lang)
        except Exception as exc:  # keep the run and its manifest; report the failure
            errors.append(f"{name} could not be written: {type(exc).__name__}: {exc}")
    return outputs, errors


def _point_latest(reports_root: Path, run_dir: Path) -> None:
    report.write_text(reports_root / "latest.txt", f"{run_dir.name}\n")
    link = reports_root / "latest"
    tmp = reports_root / f".latest.{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_dir.name, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:  # no symlinks on this file system: latest.txt is enough
        tmp.unlink(missing_ok=True)


def _print_progress(total: int) -> Callable[[JobResult], None]:
    count = 0

    def show(result: JobResult) -> None:
        nonlocal count
        count += 1
        print(
            f"[{count}/{total}] {result.name} {result.status} {result.seconds:.1f} s",
            file=sys.stderr,
            flush=True,
        )

    return show


def run_batch(
    processed_dir: str | Path | None = None,
    period_start: str | None = None,
    period_end: str | None = None,
    lang: str = "sv",
    subprojects: Sequence[str] | None = None,
    jobs: int | None = None,
    force: bool = False,
    notebooks_dir: str | Path | None = None,
    run_dir: str | Path | None = None,
    progress: bool = True,
    parameters: Mapping[str, object] | None = None,
) -> BatchResult:
    """Run the report notebooks into one run folder and assemble the outputs.

    Jobs: each notebook once, or once per subproject when it declares a
    ``subproject`` parameter (job ``subproject_<code>``). A job whose fingerprint
    (input tables, notebook, parameters, package code) matches a completed job of
    an earlier run is reused without starting a kernel, unless ``force``.

    Args:
        processed_dir: Folder with the clean tables (default: settings).
        period_start: First day of the report period, YYYY-MM-DD.
        period_end: Last day of the report period, YYYY-MM-DD.
        lang: Report language, ``sv`` or ``en``.
        subprojects: Subproject codes (default: every subproject with data).
        jobs: Notebooks run at once (default: number of cores).
        force: Run every notebook even if nothing changed.
        notebooks_dir: Folder with the report notebooks (default: the package's).
        run_dir: The run folder (default: ``<processed>/reports/<run-id>``).
        progress: Print one line per finished notebook on stderr.
        parameters: Extra notebook parameters, passed to notebooks declaring them.

    Returns:
        The :class:`BatchResult` (``ok`` is False if any notebook failed).

    Raises:
        ParameterError: Unknown or mistyped parameters, bad dates or subproject codes.
        InputFileError: The processed tables are missing.

    Example:
        >>> run_batch("data/processed", lang="fi")
        Traceback (most recent call last):
        ...
        rehab_analytics.errors.ParameterError: lang is 'fi'; expected one of sv, en.
    """
    started = time.perf_counter()
    if lang not in _LANGS:
        raise ParameterError(f"lang is {lang!r}; expected one of {', '.join(_LANGS)}.")
    for name, value in (("period_start", period_start), ("period_end", period_end)):
        if value is not None:
            _check_date(name, value)
    if jobs is None:
        jobs = os.cpu_count() or 1
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ParameterError(
            f"jobs is {jobs!r}; expected a whole number of at least 1."
        )
    cfg = settings()
    processed = Path(processed_dir or cfg.processed_dir).resolve()
    folder = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    notebooks = _find_notebooks(folder)
    specs = {nb: notebook_parameters(nb) for nb in notebooks}
    inputs = _input_tables(processed)
    with_data, known = _known_subprojects(processed)
    if subprojects is None:
        subprojects = with_data
    else:
        if isinstance(subprojects, str) or not all(
            isinstance(s, str) for s in subprojects
        ):
            raise ParameterError(
                f"subprojects is {subprojects!r}; expected a list of codes."
            )
        unknown = [s for s in subprojects if s not in known]
        if unknown:
            raise ParameterError(
                f"unknown subproject '{unknown[0]}'. Known subprojects: "
                f"{', '.join(known) or '(none)'}."
            )
        subprojects = list(dict.fromkeys(subprojects))
    given = {
        "lang": lang,
        "period_start": period_start,
        "period_end": period_end,
        "subprojects": list(subprojects),
        **dict(parameters or {}),
    }
    run_id = f"{datetime.now():%Y%m%dT%H%M%S}-{_hash([str(processed), given])[:6]}"
    if run_dir:
        run_dir = Path(run_dir).resolve()
    else:
        run_dir = processed / "reports" / run_id
        for i in range(2, 1000):  # same parameters within the same second
            if not run_dir.exists():
                break
            run_dir = processed / "reports" / f"{run_id}-{i}"
    common: dict[str, object] = {
        "processed_dir": str(processed),
        "lang": lang,
        "output_dir": str(run_dir),
    }
    common.update({k: v for k, v in given.items() if k.startswith("period_") and v})
    planned = _plan(notebooks, specs, common, dict(parameters or {}), subprojects)

    code = _code_sha256()
    nb_sha = {nb.name: _sha256(nb) for nb in notebooks}
    for job in planned:
        fixed = {
            k: v
            for k, v in job.parameters.items()
            if k not in ("output_dir", "processed_dir")
        }
        job.fingerprint = _hash(
            [
                inputs,
                nb_sha[job.notebook.name],
                fixed,
                __version__,
                code,
                cfg.suppression_threshold,
            ]
        )
    reports_root = run_dir.parent
    run_dir.mkdir(parents=True, exist_ok=True)
    previous = {} if force else _previous(reports_root, run_dir)
    show = _print_progress(len(planned)) if progress else (lambda r: None)
    reused: dict[str, JobResult] = {}
    for job in planned:
        hit = previous.get(job.fingerprint)
        result = _reuse(job, hit, run_dir) if hit else None
        if result is not None:
            reused[job.name] = result
            show(result)
    todo = [j for j in planned if j.name not in reused]
    if todo:
        _check_kernel()
    ran = {r.name: r for r in _execute(todo, run_dir, jobs, show)}
    results = [reused.get(j.name) or ran[j.name] for j in planned]
    outputs, errors = _assemble(run_dir, results, lang)
    result = BatchResult(
        run_dir, results, outputs, errors, time.perf_counter() - started
    )
    manifest = {
        "run_id": run_dir.name,
        "created": datetime.now().isoformat(timespec="seconds"),
        "ok": result.ok,
        "package_version": __version__,
        "code_sha256": code,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "parameters": {
            **given,
            "processed_dir": str(processed),
            "jobs": jobs,
            "force": force,
        },
        "suppression_threshold": cfg.suppression_threshold,
        "inputs": inputs,
        "notebooks": nb_sha,
        "seconds": round(result.seconds, 2),
        "jobs": [
            {
                "name": j.name,
                "notebook": j.notebook,
                "status": j.status,
                "seconds": round(j.seconds, 2),
                "cell": j.cell,
                "error": j.error,
                "attempts": j.attempts,
                "fingerprint": j.fingerprint,
                "reused_from": j.reused_from,
                "parameters": j.parameters,
                "outputs": j.outputs,
            }
            for j in results
        ],
        "outputs": sorted(outputs),
        "errors": errors,
    }
    outputs["manifest.json"] = report.write_json(run_dir / "manifest.json", manifest)
    _point_latest(reports_root, run_dir)
    return result
