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
import re
from pathlib import Path

import pandas as pd

from rehab_analytics import catalogue
from rehab_analytics.errors import InputFileError
from rehab_analytics.template import _atomic_save

__all__ = ["FEEDBACK_DIR", "neutralise", "feedback_rows", "write_feedback"]

FEEDBACK_DIR = "feedback"
# Leading characters that make Excel, LibreOffice or Sheets read text as a
# formula (CSV/formula injection, OWASP); tab and CR too.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MAX_CELL = 32767
_NOT_DELIVERED = "no file in the raw folder"
_PROBLEM_KEYS = (
    "file",
    "sheet",
    "row",
    "column",
    "value",
    "status",
    "reason",
    "action",
    "details",
)
_VALID_IDS = ("personnummer", "samordningsnummer")
# Completeness: contract field -> (participants column, values that count as empty).
_COMPLETENESS = {
    "id_kind": ("id_kind", ("other", "missing", "invalid")),
    "sex": ("sex", ("unknown",)),
    "birth_year": ("birth_year", ()),
    "municipality": ("municipality", ("unknown",)),
    "education": ("education", ("unknown",)),
    "start_date": ("start_date", ()),
    "end_date": ("end_date", ()),
    "income_before": ("income_group_before", ("unknown",)),
    "income_after": ("income_group_after", ("unknown",)),
    "support_years_before": ("support_years_before", ("unknown",)),
    "occupation_before": ("occupation_before", ("unknown",)),
    "occupation_after": ("occupation_after", ("unknown",)),
    "exit_reason": ("exit_reason", ("unknown",)),
    "step_start": ("step_start", ()),
    "step_end": ("step_end", ()),
    "health_start": ("health_start", ()),
    "health_end": ("health_end", ()),
}


def neutralise(value: object) -> object:
    """Return a cell value safe to write: text loses illegal control characters.

    Whether text is *run* is decided when writing (see ``_put``); this only makes
    the text storable. Non-text values pass through.

    Example:
        >>> neutralise("a\\x00b"), neutralise(3)
        ('ab', 3)
    """
    if not isinstance(value, str):
        return value
    return _ILLEGAL.sub("", value)[:_MAX_CELL]


def _put(ws, row: int, column: int, value: object):
    """Write one cell; text is always stored as text, never as a formula."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ws.cell(row=row, column=column)
    cell = ws.cell(row=row, column=column, value=neutralise(value))
    if isinstance(value, str):
        # openpyxl turns "=…" into a formula on assignment; force text, and set
        # quotePrefix so an edit in Excel keeps it text too.
        cell.data_type = "s"
        if value.startswith(_FORMULA_START):
            cell.quotePrefix = True
    return cell


def _label(field: str, code: object, lang: str) -> str:
    """Return the catalogue label of ``code``, or the code itself if it has none."""
    try:
        return catalogue.label(field, str(code), lang)
    except KeyError:
        return str(code)


def feedback_rows(rejects: pd.DataFrame, lang: str = "sv") -> pd.DataFrame:
    """Return the problem rows as the feedback sheet shows them, in the same order.

    Args:
        rejects: Rows with the columns ``contract.REJECT_COLUMNS``.
        lang: ``"sv"`` or ``"en"`` for status, reason and action.

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
    codes = {c: _label("reject_reason", c, lang) for c in reason.dropna().unique()}
    actions = {c: _label("reject_action", c, lang) for c in reason.dropna().unique()}
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
    participants = (
        pd.read_parquet(participants_path) if participants_path.is_file() else None
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


def _completeness(participants: pd.DataFrame | None, forbund: str) -> pd.DataFrame:
    """Return filled-in counts and shares per contract field for one förbund."""
    if participants is None or "forbund" not in participants:
        return pd.DataFrame(columns=["field", "filled", "n", "share"])
    rows = participants[participants["forbund"] == forbund]
    out = []
    for field, (column, empty) in _COMPLETENESS.items():
        if column not in rows:
            continue
        values = rows[column]
        filled = values.notna() & ~values.astype("string").isin(empty).fillna(False)
        n = len(rows)
        out.append(
            {"field": field, "filled": int(filled.sum()), "n": n,
             "share": float(filled.sum()) / n if n else float("nan")}
        )  # fmt: skip
    return pd.DataFrame(out, columns=["field", "filled", "n", "share"])


def _group_name(forbund: object, source: str, lang: str) -> str:
    if isinstance(forbund, str) and forbund:
        return _label("forbund_name", forbund, lang)
    return source


def _write_workbook(
    path: Path,
    name: str,
    counts: pd.DataFrame,
    problems: pd.DataFrame,
    warnings_per_file: pd.Series,
    completeness: pd.DataFrame,
    errors: list[str],
    lang: str,
) -> Path:
    """Write one feedback workbook (summary + problems) atomically."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    def t(key: str, **fmt: object) -> str:
        return catalogue.text(f"feedback.{key}", lang, **fmt)

    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = t("sheet_summary")
    _put(ws, 1, 1, t("title", name=name)).font = Font(bold=True, size=14)
    _put(ws, 2, 1, t("intro")).alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells("A2:H2")
    ws.row_dimensions[2].height = 45
    headers = ["file", "sheet", "table", "rows_received", "rows_accepted",
               "rows_rejected", "rows_skipped", "warnings"]  # fmt: skip
    for j, key in enumerate(headers, start=1):
        _put(ws, 4, j, t(key)).font = bold
    r = 4
    for error in errors:
        r += 1
        _put(ws, r, 1, t("error")).font = bold
        _put(ws, r, 2, error).alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=8)
        ws.row_dimensions[r].height = 60
    for rec in counts.itertuples(index=False):
        r += 1
        warned = int(warnings_per_file.get((rec.file, rec.sheet), 0))
        values = [rec.file, rec.sheet, _label("table_kind", rec.table, lang), rec.rows_read,
                  rec.rows_clean, rec.rows_rejected, rec.rows_skipped, warned]  # fmt: skip
        for j, value in enumerate(values, start=1):
            _put(ws, r, j, value)
    if not completeness.empty:
        r += 2
        _put(ws, r, 1, t("completeness")).font = bold
        r += 1
        for j, key in enumerate(("field", "filled", "share_filled"), start=1):
            _put(ws, r, j, t(key)).font = bold
        for rec in completeness.itertuples(index=False):
            r += 1
            _put(ws, r, 1, _label("contract_field", rec.field, lang))
            _put(ws, r, 2, f"{rec.filled} / {rec.n}")
            _put(ws, r, 3, rec.share).number_format = "0%"
    widths = (44, 18, 20, 16, 16, 16, 16, 12)
    for letter, width in zip("ABCDEFGH", widths, strict=True):
        ws.column_dimensions[letter].width = width

    wp = wb.create_sheet(t("sheet_problems"))
    for j, key in enumerate(_PROBLEM_KEYS, start=1):
        _put(wp, 1, j, t(key)).font = bold
    if problems.empty:
        _put(wp, 2, 1, t("no_problems"))
    for i, rec in enumerate(problems.itertuples(index=False), start=2):
        for j, value in enumerate(rec, start=1):
            _put(wp, i, j, value.item() if hasattr(value, "item") else value)
    wp.freeze_panes = "A2"
    if not problems.empty:
        wp.auto_filter.ref = f"A1:I{len(problems) + 1}"
    widths = (30, 16, 7, 22, 22, 12, 36, 48, 60)
    for letter, width in zip("ABCDEFGHI", widths, strict=True):
        wp.column_dimensions[letter].width = width
    return _atomic_save(wb, path)


def write_feedback(processed_dir: str | Path, lang: str = "sv") -> list[Path]:
    """Write ``feedback/<forbund>.xlsx`` for every source of the last clean.

    Each workbook has a summary sheet (rows received, accepted, rejected and
    skipped per file, warnings, completeness per column of the accepted
    participant rows) and a sheet with one row per rejected row, skipped row or
    warning, in the order of ``rejects.parquet``. Sources without an
    organisation (the project budget workbook) get ``feedback/<source>.xlsx``.
    Workbooks of earlier runs that no longer apply are removed.

    Args:
        processed_dir: The folder ``clean`` wrote into.
        lang: ``"sv"`` (default) or ``"en"``.

    Returns:
        The workbooks written, sorted.

    Raises:
        InputFileError: If the cleaning outputs are missing.

    Example:
        >>> write_feedback("/no/such/folder")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        rehab_analytics.errors.InputFileError: ...rejects.parquet: not found...
    """
    processed_dir = Path(processed_dir)
    rejects, report, participants = _read_outputs(processed_dir)
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
    written = []
    for key, members in sorted(groups.items()):
        mine = rejects[rejects["source"].isin(members)].reset_index(drop=True)
        warned = mine[mine["status"] == "warning"]
        warnings = warned.groupby(["source_file", "source_sheet"]).size()
        forbund = owners[members[0]]
        errors = [
            str(sources[m]["error"]) for m in members if sources.get(m, {}).get("error")
        ]
        written.append(
            _write_workbook(
                out_dir / f"{key}.xlsx",
                _group_name(forbund, key, lang),
                counts[counts["source"].isin(members)],
                feedback_rows(mine, lang),
                warnings,
                _completeness(participants, forbund)
                if forbund
                else _completeness(None, ""),
                errors,
                lang,
            )
        )
    if out_dir.is_dir():
        for stale in set(out_dir.glob("*.xlsx")) - set(written):
            stale.unlink()
    return sorted(written)
