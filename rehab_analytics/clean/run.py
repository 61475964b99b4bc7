"""Orchestration: raw folder → clean, pseudonymised, validated tables and a report.

:func:`run_clean` reads every source description, cleans each source on its own
(one unreadable source is reported, the others are still cleaned), checks the row
accounting, validates the tables and writes them atomically
(:mod:`~rehab_analytics.clean.write`); :func:`rehab_analytics.processed.load` reads
them back with their contract dtypes.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from rehab_analytics import contract
from rehab_analytics.background import can_fork, in_background
from rehab_analytics.clean.guard import key_entry, output_lock
from rehab_analytics.clean.result import CleanResult, _clean_report, _source_report
from rehab_analytics.clean.write import write_outputs
from rehab_analytics.config import settings, worker_count
from rehab_analytics.errors import InputFileError, RehabAnalyticsError, UnsafePathError
from rehab_analytics.keys import resolve_key
from rehab_analytics.processed import registry_records
from rehab_analytics.sources import (
    Registry,
    SourceDescription,
    TableSpec,
    build_registry,
    glob_problem,
    load_sources,
    load_vocabularies,
    quote,
    source_vocabularies,
)
from rehab_analytics.template.write import find_template_descriptions

if TYPE_CHECKING:
    from rehab_analytics.clean.decide import CleanTable

__all__ = [
    "AccountingError",
    "find_files",
    "run_clean",
]

_TABLES = ("participants", "subprojects", "anonymous_counts")


class AccountingError(RuntimeError):
    """Raised when rows read ≠ clean + rejected + skipped (a bug, never a data problem)."""


def find_files(raw_dir: Path, spec: TableSpec) -> list[tuple[Path, str]]:
    """Return (path, relative posix name) of every file the table's globs match, sorted.

    Office lock files (``~$…``) and hidden files are ignored. Every match must lie
    inside the raw folder once links are followed.

    Raises:
        UnsafePathError: If a glob is absolute or climbs out (``..``), or a match
            is a link to a place outside the raw folder.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()); _ = (d / "b.csv").write_text("x")
        >>> find_files(d, TableSpec("subprojects", ("*.csv",), {"year": "År"}))[0][1]
        'b.csv'
    """
    raw_dir = Path(raw_dir)
    root = raw_dir.resolve()
    found: dict[str, Path] = {}
    for pattern in spec.files:
        for path in _glob(raw_dir, pattern):
            if path.name.startswith(("~$", ".")):
                continue
            name = path.relative_to(raw_dir).as_posix()
            if not path.resolve().is_relative_to(root):
                raise UnsafePathError(
                    f"is a link to a place outside the raw folder {raw_dir}; it was not "
                    "read. Expected the delivered file itself; copy it into the raw "
                    "folder instead of linking to it.",
                    file=quote(name)[1:-1],
                )
            if path.is_file():
                found[name] = path
    return [(found[name], name) for name in sorted(found)]


def _glob(raw_dir: Path, pattern: str) -> list[Path]:
    """Return the matches of one 'files' pattern; refuse one that leaves the folder."""
    problem = glob_problem(pattern)
    if problem is None:
        try:
            return list(raw_dir.glob(pattern))
        except (ValueError, NotImplementedError) as exc:
            problem = f"cannot be used ({exc})"
    raise UnsafePathError(
        f"the 'files' pattern {quote(pattern, 80)} {problem}; files are read only "
        f"from inside the raw folder {raw_dir}. Expected a pattern relative to it, "
        "such as 'nordost/*.xlsx'; correct 'files' in the source description."
    )


class _NotDelivered(InputFileError):
    """Raised when no file in the raw folder matches a source's globs."""


def _clean_source(
    source: SourceDescription,
    raw_dir: Path,
    registry: Registry,
    vocabularies: dict,
    key: bytes,
    max_year: int | None,
) -> tuple[dict[str, list[CleanTable]], dict]:
    """Clean every table of one source; raise RehabAnalyticsError if it cannot be read."""
    # Imported here: `load` (every report notebook) needs none of the cleaning code.
    from rehab_analytics.clean.table import clean_table
    from rehab_analytics.ingest import read_table_file

    vocab = source_vocabularies(vocabularies, source)
    tables: dict[str, list[CleanTable]] = {k: [] for k in _TABLES}
    files: list[dict] = []
    notes: list[str] = []
    for spec in source.tables:
        matched = find_files(raw_dir, spec)
        if not matched:
            raise _NotDelivered(
                f"no file in the raw folder {raw_dir} matches {list(spec.files)} "
                f"({spec.kind}). Expected the delivery from {source.name}; add the files "
                f"or correct 'files' in {source.path}.",
            )
        sheets = []
        for path, name in matched:
            read = read_table_file(path, spec, display=name)
            sheets.extend(read)
            for sheet in read:
                notes.extend(sheet.notes)
        table, stack_notes = clean_table(
            sheets, source, spec, registry, vocab, key, max_year=max_year
        )
        notes.extend(stack_notes)
        tables[spec.kind].append(table)
        status = table.status
        for sheet in sheets:
            mine = status[
                (status["source_file"] == sheet.file)
                & (status["source_sheet"] == sheet.sheet)
            ]["status"]
            entry = {
                "table": spec.kind,
                "file": sheet.file,
                "sheet": sheet.sheet,
                "header_row": sheet.header_row,
                "rows_read": len(sheet.data),
                "rows_clean": int((mine == "clean").sum()),
                "rows_rejected": int((mine == "rejected").sum()),
                "rows_skipped": int((mine == "skipped").sum()),
                "blank_rows": sheet.blank_rows,
            }
            if (
                entry["rows_read"]
                != entry["rows_clean"] + entry["rows_rejected"] + entry["rows_skipped"]
            ):
                raise AccountingError(
                    f"{source.name}: {sheet.file} sheet '{sheet.sheet}': rows read "
                    f"{entry['rows_read']} ≠ clean {entry['rows_clean']} + rejected "
                    f"{entry['rows_rejected']} + skipped {entry['rows_skipped']}."
                )
            files.append(entry)
    return tables, {"files": files, "notes": notes}


# Below about this much raw data (workbook bytes count 5 times: they are compressed)
# starting worker processes costs more than it saves.
_PARALLEL_MIN_BYTES = 2 * 2**20
_COMPRESSED = {".xlsx", ".xlsm", ".ods", ".xlsb"}


def _delivery_weight(raw_dir: Path, source: SourceDescription) -> int:
    """Rough cleaning cost of a source: the size of its files (0 if none match)."""
    total = 0
    for spec in source.tables:
        try:
            matched = find_files(raw_dir, spec)
        except RehabAnalyticsError:
            continue  # cleaning the source reports it
        for path, _ in matched:
            size = path.stat().st_size
            total += size * 5 if path.suffix.lower() in _COMPRESSED else size
    return total


def _clean_sources(
    sources: list[SourceDescription], args: tuple, jobs: int | None
) -> Iterator[tuple[SourceDescription, Callable[[], tuple[dict, dict]]]]:
    """Yield (source, outcome) in source order; outcome() returns what
    :func:`_clean_source` returns or raises what it raised.

    Sources are independent, so big deliveries are cleaned in forked worker
    processes, largest first; results are taken in source order, so the outputs
    do not depend on which worker finished first.
    """
    raw_dir = args[0]
    workers = min(worker_count(jobs), len(sources))
    weights = [_delivery_weight(raw_dir, s) for s in sources] if workers > 1 else []
    if (
        workers < 2
        or sum(weights) < _PARALLEL_MIN_BYTES
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        for source in sources:
            yield source, functools.partial(_clean_source, source, *args)
        return
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        order = sorted(range(len(sources)), key=lambda i: -weights[i])
        futures = {i: pool.submit(_clean_source, sources[i], *args) for i in order}
        for i, source in enumerate(sources):
            yield source, futures[i].result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _load_validation() -> None:
    """Import the schema library and register its pandas checks."""
    from rehab_analytics.clean.validate import warm_up

    warm_up()


def run_clean(
    raw_dir: str | Path | None = None,
    out_dir: str | Path | None = None,
    *,
    max_year: int | None = None,
    source_dirs: list[Path] | None = None,
    jobs: int | None = None,
    new_key: bool = False,
) -> CleanResult:
    """Clean every source in the raw folder and write the processed tables.

    One clean at a time writes into a folder (a lock file there), and only with
    the key it was made with: the report records the key's fingerprint.

    Args:
        raw_dir: The raw folder (default: ``RA_RAW_DIR`` or ``data/raw``).
        out_dir: The output folder (default: ``RA_PROCESSED_DIR`` or ``data/processed``).
        max_year: Latest year a date may have (default: next year).
        source_dirs: Folders of source descriptions to use instead of the usual
            search (built-in, ``<raw>/_sources``, ``RA_SOURCES_DIR``); for tests.
        jobs: Worker processes that clean sources side by side (default: the
            usable cores, see :func:`~rehab_analytics.config.worker_count`). Small
            deliveries, and ``jobs=1``, are cleaned in this process; the outputs
            are the same either way.
        new_key: Re-key deliberately: clean into a folder made with another key
            (the report records ``rekeyed`` and the previous fingerprint).

    Returns:
        A :class:`CleanResult`; ``ok`` is False when a source could not be read or
        a table failed validation (the report says which).

    Raises:
        InputFileError: If the raw folder does not exist.
        KeyMissingError: If no pseudonymisation key is configured (real data).
        KeyChangedError: If the folder was made with another key (and not
            ``new_key``); nothing is written.
        OutputInUseError: If another clean is writing into the folder.
        SourceDescriptionError: If a source description is invalid.
        AccountingError: If rows were lost (a bug).

    Example:
        >>> run_clean("/no/such/folder")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        rehab_analytics.errors.InputFileError: /no/such/folder: the raw folder does not exist.
    """
    conf = settings(raw_dir=raw_dir, processed_dir=out_dir)
    raw, out = conf.raw_dir, conf.processed_dir
    if not raw.is_dir():
        raise InputFileError(
            "the raw folder does not exist. Expected a folder with one subfolder per "
            "förbund; pass --raw, set RA_RAW_DIR, or create sample data with "
            "`rehab-analytics sample`.",
            file=str(raw),
        )
    resolved = resolve_key(raw)
    with output_lock(out):
        key = key_entry(out, resolved, new_key)
        return _clean(raw, out, resolved.key, key, max_year, source_dirs, jobs)


def _clean(
    raw: Path,
    out: Path,
    secret: bytes,
    key: dict,
    max_year: int | None,
    source_dirs: list[Path] | None,
    jobs: int | None,
) -> CleanResult:
    """Clean into ``out``, which this process holds the lock of (see :func:`run_clean`)."""
    sources = load_sources(raw, source_dirs)
    registry = build_registry(sources)
    sources = [*sources, *find_template_descriptions(raw, sources, registry)]
    vocabularies = load_vocabularies()

    collected: dict[str, list[pd.DataFrame]] = {k: [] for k in (*_TABLES, "rejects")}
    report_sources: dict[str, dict] = {}
    work = [s for s in sources if s.tables]
    args = (raw, registry, vocabularies, secret, max_year)
    validation_loaded = False
    for source, outcome in _clean_sources(work, args, jobs):
        if not validation_loaded:
            # Importing pandera and its first validation cost about 0.35 s in a
            # fresh process: done once the workers have forked, it overlaps them.
            _load_validation()
            validation_loaded = True
        try:
            tables, info = outcome()
        except AccountingError:
            raise
        except _NotDelivered as exc:
            # A source without files in this delivery is news, not a failure: a
            # förbund may not have sent its tertial yet.
            report_sources[source.name] = {
                "error": None,
                "not_delivered": str(exc),
                "description": str(source.path),
            }
            continue
        except RehabAnalyticsError as exc:
            report_sources[source.name] = {
                "error": str(exc),
                "description": str(source.path),
            }
            continue
        problems = [t.problems for ts in tables.values() for t in ts]
        problems_df = (
            pd.concat(problems, ignore_index=True)
            if problems
            else pd.DataFrame(columns=list(contract.REJECT_COLUMNS))
        )
        for kind, ts in tables.items():
            collected[kind].extend(t.rows for t in ts)
        collected["rejects"].append(problems_df)
        report_sources[source.name] = _source_report(source, raw, info, problems_df)

    from rehab_analytics.clean.validate import coerce_table

    frames = {}
    for kind in (*_TABLES, "rejects"):
        parts = [p for p in collected[kind] if len(p)]
        combined = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        frames[kind] = _sorted(coerce_table(combined, kind, registry), kind)
    report = _clean_report(raw, key, registry, report_sources, frames)
    # The feedback workbooks need only the tables in memory, so a forked process
    # writes them (to temporary names) while this one writes the tables; all are
    # renamed together at the end, the report, which holds the validation's
    # result, last. (Validating in a forked process too was measured: the fork
    # costs more CPU than it frees on two cores.)
    from rehab_analytics.clean.feedback import stage_feedback

    fork = worker_count(jobs) > 1 and can_fork()
    fork_feedback = fork and len(frames["rejects"]) >= _FEEDBACK_FORK_MIN_ROWS
    feedback = in_background(
        # One process: more workbook writers than cores only add fork overhead.
        functools.partial(
            stage_feedback,
            parallel=False,
            pid=os.getpid(),
            organisations=registry.organisations,
        ),
        (out, frames["rejects"], report, frames["participants"]),
        fork=fork_feedback,
    )

    def final_report() -> dict:
        failures = _validate_all(frames, registry)
        delivered = [s for s in report_sources.values() if not s.get("not_delivered")]
        report["ok"] = (
            failures.empty
            and bool(delivered)
            and not any(s.get("error") for s in report_sources.values())
        )
        report["validation"] = failures.to_dict("records")[:200]
        return report

    try:
        paths = write_outputs(
            out,
            frames,
            final_report,
            also=feedback,
            organisations=registry_records(registry),
        )
    except BaseException:
        if fork_feedback:  # wait for it, drop its files; its error is secondary
            with contextlib.suppress(BaseException):
                feedback().discard()
        raise
    return CleanResult(ok=report["ok"], report=report, out_dir=out, paths=paths)


# Below this many rejects and warnings, a forked feedback writer costs more than it saves.
_FEEDBACK_FORK_MIN_ROWS = 2000


def _validate_all(frames: dict[str, pd.DataFrame], registry: Registry) -> pd.DataFrame:
    from rehab_analytics.clean.validate import validate_table

    return pd.concat(
        [validate_table(frames[k], k, registry) for k in (*_TABLES, "rejects")],
        ignore_index=True,
    )


_SORT_KEYS = {
    "participants": ["subproject", "source_file"],
    "subprojects": ["subproject", "year"],
    "anonymous_counts": ["subproject", "year", "sex"],
}


def _sorted(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Sort by registry order (categoricals), then file; within a file rows keep
    their delivery order (sheet order, row)."""
    keys = _SORT_KEYS.get(kind)
    if not keys or df.empty:
        return df
    return df.sort_values(keys, kind="stable").reset_index(drop=True)
