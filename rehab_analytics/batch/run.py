"""The report batch: run the report notebooks with papermill, in parallel, into one run folder.

:func:`run_batch` is the one entry point (the ``reports`` command only parses its
arguments and calls it). It validates every parameter before a kernel starts, plans
one job per notebook (one per subproject for notebooks with a ``subproject``
parameter), reuses unchanged jobs from earlier runs, runs the rest in a process
pool, and assembles HTML pages, ``tables.xlsx``, ``deck.pptx`` and ``manifest.json``
(see :mod:`rehab_analytics.report` for what notebooks publish). When the whole run
is unchanged, the xlsx and deck are linked from the earlier run, not rebuilt.

Parameters are read and checked in :mod:`~rehab_analytics.batch.parameters`, jobs are
planned and reused in :mod:`~rehab_analytics.batch.plan` and run in
:mod:`~rehab_analytics.batch.jobs`.
"""

from __future__ import annotations

import functools
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rehab_analytics import report
from rehab_analytics._version import __version__
from rehab_analytics.background import can_fork, in_background
from rehab_analytics.batch.jobs import _DONE, JobResult, _execute, _Job, _with_retry  # noqa: F401  (re-exported)
from rehab_analytics.batch.parameters import (
    Parameter,
    _check_date,
    _type_ok,
    notebook_parameters,
    parse_value,
    validate_parameters,
)
from rehab_analytics.batch.plan import (  # noqa: F401  (re-exported)
    _REQUIRED_TABLES,
    _check_kernel,
    _code_sha256,
    _descriptions,
    _environment,
    _find_notebooks,
    _hash,
    _input_tables,
    _known_subprojects,
    _last_seconds,
    _longest_first,
    _plan,
    _previous,
    _reuse,
    _reuse_run_outputs,
    _sha256,
)
from rehab_analytics.config import PACKAGE_DIR, settings
from rehab_analytics.errors import ParameterError

__all__ = [
    "Parameter",
    "JobResult",
    "BatchResult",
    "NOTEBOOKS_DIR",
    "notebook_parameters",
    "validate_parameters",
    "command_line_parameters",
    "run_batch",
]

NOTEBOOKS_DIR = PACKAGE_DIR / "notebooks"
_LANGS = ("sv", "en")
# Parameters the batch sets itself: name → the argument (and option) to use instead.
_OWN = {
    "processed_dir": "processed_dir (--processed)",
    "lang": "lang (--lang)",
    "period_start": "period_start (--period-start)",
    "period_end": "period_end (--period-end)",
    "subprojects": "subprojects (--subprojects)",
    "subproject": "subprojects (--subprojects)",
    "output_dir": "run_dir",
    "job": None,
}


def _check_own(names: Sequence[str]) -> None:
    for name in names:
        if name in _OWN:
            instead = _OWN[name]
            raise ParameterError(
                f"parameter '{name}' is set by the batch"
                + (f"; give it as {instead}." if instead else " for each job.")
            )


def command_line_parameters(
    pairs: Sequence[Sequence[str]], notebooks_dir: str | Path | None = None
) -> dict[str, object]:
    """Read ``-p NAME VALUE`` pairs (papermill's syntax) as the notebooks declare them.

    Each value is read for the type its notebooks declare (:func:`parse_value`); a
    later pair for the same name wins. Checked before anything runs.

    Raises:
        ParameterError: A name no report notebook declares (listing the valid
            ones), one the batch sets itself, or a value that is not of the type.

    Example:
        >>> command_line_parameters([("casemix", "False")])
        {'casemix': False}
        >>> command_line_parameters([("casemix", "maybe")])
        Traceback (most recent call last):
        ...
        rehab_analytics.errors.ParameterError: parameter 'casemix' is 'maybe' (str); expected bool...
    """
    folder = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    declared: dict[str, Parameter] = {}
    for nb in _find_notebooks(folder):
        for name, param in notebook_parameters(nb).items():
            declared.setdefault(name, param)
    valid = ", ".join(
        f"{p.name} ({p.type})" for p in declared.values() if p.name not in _OWN
    )
    values: dict[str, object] = {}
    for name, text in pairs:
        _check_own([name])
        if name not in declared:
            raise ParameterError(
                f"unknown parameter '{name}': no report notebook declares it. "
                f"Valid parameters: {valid or '(none)'}."
            )
        want = declared[name].type
        value = parse_value(text, want)
        if not _type_ok(value, want):
            raise ParameterError(
                f"parameter '{name}' is {text!r} ({type(value).__name__}); expected "
                f"{want}. Valid parameters: {valid}."
            )
        values[name] = value
    return values


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


def _assemble(
    run_dir: Path,
    results: list[JobResult],
    lang: str,
    reused: Mapping[str, Path] | None = None,
    parallel: bool = False,
) -> tuple[dict[str, Path], list[str]]:
    outputs: dict[str, Path] = {}
    errors: list[str] = []
    done = [j for j in results if j.status in _DONE]
    for j in done:
        html = run_dir / f"{j.name}.html"
        if html.is_file():
            outputs[html.name] = html
    if reused:  # the whole run was reused: xlsx and deck are linked, not rebuilt
        return {**outputs, **reused}, errors
    regs = {j.name: report.published(run_dir, j.name) for j in done}
    tables = [{**t, "job": name} for name, reg in regs.items() for t in reg["tables"]]
    figures = [{**f, "job": name} for name, reg in regs.items() for f in reg["figures"]]
    # With more than one job the workbook is written by a forked process while
    # the deck is built here: both are pure Python, a few seconds each.
    pending = {
        name: in_background(
            functools.partial(write, lang=lang),
            (run_dir, items, run_dir / name),
            fork=parallel and can_fork(),
        )
        for name, write, items in (
            ("tables.xlsx", report.write_tables_xlsx, tables),
            ("deck.pptx", report.write_deck, figures),
        )
    }
    for name, result in pending.items():
        try:
            outputs[name] = result()  # type: ignore[assignment]
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
    (input tables, the source descriptions the clean read, notebook, parameters,
    package code, the runtime lock and the versions of the libraries that compute
    and draw) matches a completed job of an earlier run is reused without starting
    a kernel, unless ``force``. When
    every job is reused from one earlier run with exactly these jobs,
    ``tables.xlsx`` and ``deck.pptx`` are hard-linked (or copied) from it instead
    of being rebuilt, so an unchanged re-run takes well under a second.

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
        parameters: Extra notebook parameters, passed to notebooks declaring them
            (from the command line: :func:`command_line_parameters`).

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
    _check_own(list(parameters or {}))
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
    environment = _environment()
    descriptions = _descriptions(processed)
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
                environment,
                descriptions,
            ]
        )
    reports_root = run_dir.parent
    run_dir.mkdir(parents=True, exist_ok=True)
    previous = {} if force else _previous(reports_root, run_dir)
    show = _print_progress(len(planned)) if progress else (lambda r: None)
    reused: dict[str, JobResult] = {}
    hits: list[tuple[Path, dict[str, object]]] = []
    for job in planned:
        hit = previous.get(job.fingerprint)
        result = _reuse(job, hit, run_dir) if hit else None
        if result is not None:
            reused[job.name] = result
            hits.append(hit)
            show(result)
    todo = [j for j in planned if j.name not in reused]
    todo = _longest_first(todo, _last_seconds(reports_root, run_dir))
    if todo:
        _check_kernel()
    ran = {r.name: r for r in _execute(todo, run_dir, jobs, show)}
    results = [reused.get(j.name) or ran[j.name] for j in planned]
    whole = None if todo else _reuse_run_outputs(planned, hits, run_dir)
    outputs, errors = _assemble(run_dir, results, lang, whole, parallel=jobs > 1)
    result = BatchResult(
        run_dir, results, outputs, errors, time.perf_counter() - started
    )
    manifest = {
        "run_id": run_dir.name,
        "created": datetime.now().isoformat(timespec="seconds"),
        "ok": result.ok,
        "package_version": __version__,
        "code_sha256": code,
        "environment": environment,
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
        "descriptions": descriptions,
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
