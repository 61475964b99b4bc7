"""Feedback workbooks: each förbund's rejected rows and warnings, in words, after a clean.

``write_feedback`` reads the cleaning outputs (``rejects.parquet``,
``cleaning_report.json`` and the clean participants table) and writes
``feedback/<forbund>.xlsx`` per source owner: a summary sheet (rows received,
accepted, rejected, skipped, completeness per column) and one row per problem
with file, sheet, row, column, value, reason and what to do. Text that came from
input files is written so that spreadsheet programs never run it as a formula.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from rehab_analytics import catalogue
from rehab_analytics.atomic import StagedFiles, remove_stale_temp
from rehab_analytics.clean.feedback_xlsx import _label, _write_workbook
from rehab_analytics.contract import COMPLETENESS_FIELDS
from rehab_analytics.errors import InputFileError

if TYPE_CHECKING:
    from rehab_analytics.sources import Organisation

__all__ = [
    "FEEDBACK_DIR",
    "feedback_rows",
    "stage_feedback",
    "write_feedback",
    "write_feedback_tables",
]

FEEDBACK_DIR = "feedback"
_NOT_DELIVERED = "no file in the raw folder"


def _reason_label(field: str, code: object, lang: str, id_scheme: str) -> str:
    """Return a reason or action label, worded for the identity scheme if it has one."""
    if id_scheme != "se_personnummer":
        try:
            return catalogue.label(f"{field}_{id_scheme}", str(code), lang)
        except KeyError:
            pass
    return _label(field, code, lang)


def feedback_rows(
    rejects: pd.DataFrame, lang: str = "sv", id_scheme: str = "se_personnummer"
) -> pd.DataFrame:
    """Return the problem rows as the feedback sheet shows them, in the same order.

    Args:
        rejects: Rows with the columns ``contract.REJECT_COLUMNS``.
        lang: ``"sv"`` or ``"en"`` for status, reason and action.
        id_scheme: The organisation's identity scheme: reasons and actions about
            the id name its kind of number (not a personnummer for ``za_id``).

    Returns:
        Columns file, sheet, row, column, value, status, reason, action, details.

    Example:
        >>> from rehab_analytics import contract
        >>> r = pd.DataFrame([["nordost", "participants", "a.xlsx", "Blad1", 7,
        ...     "Startdatum", "2099-01-01", "rejected", "date_out_of_range", "…"]],
        ...     columns=contract.REJECT_COLUMNS)
        >>> feedback_rows(r, "en").loc[0, ["status", "reason"]].tolist()
        ['Rejected', 'Date outside the plausible range']
    """
    reason = rejects["reason"].astype("string")
    status = rejects["status"].astype("string")
    found = reason.dropna().unique()
    codes = {c: _reason_label("reject_reason", c, lang, id_scheme) for c in found}
    actions = {c: _reason_label("reject_action", c, lang, id_scheme) for c in found}
    states = {s: _label("reject_status", s, lang) for s in status.dropna().unique()}
    return pd.DataFrame(
        {
            "file": rejects["source_file"].to_numpy(),
            "sheet": rejects["source_sheet"].to_numpy(),
            "row": rejects["source_row"].to_numpy(),
            "column": rejects["column"].to_numpy(),
            "value": rejects["value"].to_numpy(),
            "status": status.map(states).to_numpy(),
            "reason": reason.map(codes).to_numpy(),
            "action": reason.map(actions).to_numpy(),
            "details": rejects["message"].to_numpy(),
        },
        index=pd.RangeIndex(len(rejects)),
    )


def _read_outputs(
    processed_dir: Path,
) -> tuple[pd.DataFrame, dict, pd.DataFrame | None]:
    """Read rejects, the cleaning report and (if there) the clean participants."""
    rejects_path = processed_dir / "rejects.parquet"
    report_path = processed_dir / "cleaning_report.json"
    for path in (rejects_path, report_path):
        if not path.is_file():
            raise InputFileError(
                "not found. Expected the outputs of `rehab-analytics clean` in this "
                "folder; run the clean first.",
                file=str(path),
            )
    rejects = pd.read_parquet(rejects_path)
    report = json.loads(report_path.read_text(encoding="utf-8"))
    participants_path = processed_dir / "participants.parquet"
    participants = None
    if participants_path.is_file():
        import pyarrow.parquet as pq

        # Only the columns the summary needs: the ids are the costly ones to read.
        wanted = {"forbund", "source_file"} | {
            c for c, _ in COMPLETENESS_FIELDS.values()
        }
        names = pq.read_schema(participants_path).names
        participants = pd.read_parquet(
            participants_path, columns=[c for c in names if c in wanted]
        )
    return rejects, report, participants


def _file_counts(report: dict) -> pd.DataFrame:
    """Return one row per source file: source, table, file, sheet and row counts."""
    rows = []
    for name, src in report.get("sources", {}).items():
        for f in src.get("files") or []:
            rows.append(
                {
                    "source": name,
                    "table": f.get("table", ""),
                    "file": f.get("file", ""),
                    "sheet": f.get("sheet", ""),
                    "rows_read": int(f.get("rows_read", 0)),
                    "rows_clean": int(f.get("rows_clean", 0)),
                    "rows_rejected": int(f.get("rows_rejected", 0)),
                    "rows_skipped": int(f.get("rows_skipped", 0)),
                }
            )
    columns = ["source", "table", "file", "sheet", "rows_read", "rows_clean",
               "rows_rejected", "rows_skipped"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _owners(report: dict, participants: pd.DataFrame | None) -> dict[str, str | None]:
    """Return source name → förbund code (None for project-level sources).

    A source registers its förbund through its description file; a template
    delivery borrows a registered förbund, which its clean rows then carry.
    """
    by_file = {
        Path(str(o.get("source", ""))).stem: o.get("forbund")
        for o in report.get("organisations", [])
    }
    owners: dict[str, str | None] = {}
    for name, src in report.get("sources", {}).items():
        forbund = by_file.get(name)
        if forbund is None and participants is not None and len(participants):
            files = {f.get("file") for f in src.get("files") or []}
            found = participants.loc[participants["source_file"].isin(files), "forbund"]
            found = found.dropna().unique()
            forbund = str(found[0]) if len(found) == 1 else None
        owners[name] = forbund
    return owners


def _completeness(
    participants: pd.DataFrame | None, forbunds: list[str]
) -> dict[str, pd.DataFrame]:
    """Return förbund → filled-in counts and shares per contract field."""
    columns = ["field", "filled", "n", "share"]
    if participants is None or "forbund" not in participants:
        return dict.fromkeys(forbunds, pd.DataFrame(columns=columns))
    fields = [f for f, (c, _) in COMPLETENESS_FIELDS.items() if c in participants]
    filled = {}
    for field in fields:
        column, empty = COMPLETENESS_FIELDS[field]
        values = participants[column]
        mask = values.notna().to_numpy(dtype=bool)
        if empty:
            mask = mask & ~values.isin(empty).to_numpy(dtype=bool, na_value=False)
        filled[field] = mask
    forbund = participants["forbund"].astype("string").to_numpy(dtype=object)
    sums = pd.DataFrame(filled, columns=fields).groupby(forbund, sort=False).sum()
    sizes = pd.Series(forbund).value_counts()
    out = {}
    for code in forbunds:
        n = int(sizes.get(code, 0))
        counts = [int(sums.at[code, f]) if n else 0 for f in fields]
        out[code] = pd.DataFrame(
            [
                (f, c, n, c / n if n else float("nan"))
                for f, c in zip(fields, counts, strict=True)
            ],
            columns=columns,
        )
    return out


def _group_name(forbund: object, source: str, lang: str, org=None) -> str:
    if org is not None:
        return catalogue.label("forbund_name", str(forbund), lang, _Only(org))
    if isinstance(forbund, str) and forbund:
        return _label("forbund_name", forbund, lang)
    return source


class _Only:
    """A registry of one organisation, for :func:`catalogue.label`."""

    def __init__(self, org) -> None:
        self.organisations = (org,)


# Below this many problem rows in all, worker processes cost more than they save.
_PARALLEL_MIN_ROWS = 5000


def _write_all(jobs: list[tuple], parallel: bool = True) -> list[Path]:
    """Run :func:`_write_workbook` per job; many rows are written by forked workers.

    Each job's path is the temporary file its workbook is written into.

    Every cell is a Python call in XlsxWriter, so big workbooks are written side
    by side, largest first; each job writes its own file, so the result is the same.
    ``parallel=False`` writes them one after the other in this process.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from rehab_analytics.config import worker_count

    rows = sum(len(job[3]) for job in jobs)
    workers = min(worker_count(), len(jobs))
    if (
        not parallel
        or workers < 2
        or rows < _PARALLEL_MIN_ROWS
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return [_write_workbook(*job) for job in jobs]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][3]))
        futures = {i: pool.submit(_write_workbook, *jobs[i]) for i in order}
        return [futures[i].result() for i in range(len(jobs))]


def write_feedback(processed_dir: str | Path, lang: str | None = None) -> list[Path]:
    """Write ``feedback/<forbund>.xlsx`` for every source of the last clean.

    Each workbook has a summary sheet (rows received, accepted, rejected and
    skipped per file, warnings, completeness per column of the accepted
    participant rows) and a sheet with one row per rejected row, skipped row or
    warning, in the order of ``rejects.parquet``. Sources without an
    organisation (the project budget workbook) get ``feedback/<source>.xlsx``.
    Workbooks of earlier runs that no longer apply are removed.

    Args:
        processed_dir: The folder ``clean`` wrote into.
        lang: ``"sv"`` or ``"en"`` for every workbook (default: each
            organisation's own ``language``, Swedish for project-level sources).

    Returns:
        The workbooks written, sorted.

    Raises:
        InputFileError: If the cleaning outputs are missing.

    Example:
        >>> write_feedback("/no/such/folder")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        rehab_analytics.errors.InputFileError: ...rejects.parquet: not found...
    """
    from rehab_analytics.processed import read_registry

    processed_dir = Path(processed_dir)
    rejects, report, participants = _read_outputs(processed_dir)
    registry = read_registry(processed_dir)
    return write_feedback_tables(
        processed_dir,
        rejects,
        report,
        participants,
        lang,
        organisations=registry.organisations if registry is not None else (),
    )


def write_feedback_tables(
    processed_dir: Path,
    rejects: pd.DataFrame,
    report: dict,
    participants: pd.DataFrame | None,
    lang: str | None = None,
    *,
    parallel: bool = True,
    organisations: Sequence[Organisation] = (),
) -> list[Path]:
    """Write the feedback workbooks from tables in memory (what :func:`write_feedback`
    reads from the clean's outputs), all renamed into place together at the end.

    Args: as for :func:`stage_feedback`.

    Returns:
        The workbooks written, sorted.
    """
    with stage_feedback(
        processed_dir,
        rejects,
        report,
        participants,
        lang,
        parallel=parallel,
        organisations=organisations,
    ) as staged:
        return sorted(staged.commit())


def stage_feedback(
    processed_dir: Path,
    rejects: pd.DataFrame,
    report: dict,
    participants: pd.DataFrame | None,
    lang: str | None = None,
    *,
    parallel: bool = True,
    pid: int | None = None,
    organisations: Sequence[Organisation] = (),
) -> StagedFiles:
    """Write the feedback workbooks to temporary names; the caller commits them.

    The clean calls this in a forked process while it writes the tables, and
    renames the workbooks together with its other outputs, so a killed run never
    leaves feedback of one run beside tables of another. Workbooks of earlier
    runs that no longer apply are removed at the commit. On an error the
    temporary files are removed and nothing changes.

    Args:
        processed_dir: The clean's output folder (workbooks go to ``feedback/``).
        rejects: The rejects table, in the order of ``rejects.parquet``.
        report: The cleaning report (``sources`` and ``organisations`` are used).
        participants: The clean participants (for completeness), or None.
        lang: ``"sv"`` or ``"en"`` for every workbook (default: each
            organisation's own ``language``; Swedish without one).
        parallel: Let big workbooks be written by forked workers.
        pid: The process that will commit the files (default: this one), named
            in the temporary files so they are not taken for a killed run's.

    Returns:
        The staged workbooks (:class:`~rehab_analytics.atomic.StagedFiles`).
    """
    processed_dir = Path(processed_dir)
    counts = _file_counts(report)
    owners = _owners(report, participants)
    for source in rejects["source"].dropna().unique():
        owners.setdefault(str(source), None)
    sources = report.get("sources", {})
    groups: dict[str, list[str]] = {}
    for source, forbund in owners.items():
        error = str(sources.get(source, {}).get("error") or "")
        # A description whose files are simply not in this delivery is no news
        # for the förbund (the pipeline words it "no file in the raw folder").
        if sources.get(source, {}).get("not_delivered") or error.startswith(
            _NOT_DELIVERED
        ):
            continue
        groups.setdefault(forbund or source, []).append(source)
    out_dir = processed_dir / FEEDBACK_DIR
    remove_stale_temp(out_dir)
    forbunds = sorted({owners[m[0]] for m in groups.values() if owners[m[0]]})
    completeness = _completeness(participants, forbunds)
    no_rows = pd.DataFrame(columns=["field", "filled", "n", "share"])
    staged = StagedFiles() if pid is None else StagedFiles(pid)
    try:
        jobs = []
        for key, members in sorted(groups.items()):
            mine = rejects[rejects["source"].isin(members)].reset_index(drop=True)
            warned = mine[mine["status"] == "warning"]
            warnings = warned.groupby(["source_file", "source_sheet"]).size()
            forbund = owners[members[0]]
            org = next((o for o in organisations if o.forbund == forbund), None)
            own = lang or (org.language if org is not None else "sv")
            scheme = org.id_scheme if org is not None else "se_personnummer"
            errors = [
                str(sources[m]["error"])
                for m in members
                if sources.get(m, {}).get("error")
            ]
            jobs.append(
                (
                    staged.reserve(out_dir / f"{key}.xlsx"),
                    _group_name(forbund, key, own, org),
                    counts[counts["source"].isin(members)],
                    feedback_rows(mine, own, scheme),
                    warnings,
                    completeness.get(forbund, no_rows) if forbund else no_rows,
                    errors,
                    own,
                )
            )
        _write_all(jobs, parallel)
    except BaseException:
        staged.discard()
        raise
    if out_dir.is_dir():
        targets = {path for _, path in staged.files}
        for old in sorted(out_dir.glob("*.xlsx")):
            if old not in targets and not old.name.startswith("."):
                staged.remove(old)
    return staged
