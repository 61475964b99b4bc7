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
import os
import re
import tempfile
from pathlib import Path

import pandas as pd

from rehab_analytics import catalogue
from rehab_analytics.errors import InputFileError

__all__ = [
    "FEEDBACK_DIR",
    "neutralise",
    "feedback_rows",
    "write_feedback",
    "write_feedback_tables",
]

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

    Whether text is *run* is decided when writing (quote prefix); this only makes
    the text storable. Non-text values pass through.

    Example:
        >>> neutralise("a\\x00b"), neutralise(3)
        ('ab', 3)
    """
    if not isinstance(value, str):
        return value
    return _ILLEGAL.sub("", value)[:_MAX_CELL]


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
    participants = None
    if participants_path.is_file():
        import pyarrow.parquet as pq

        # Only the columns the summary needs: the ids are the costly ones to read.
        wanted = {"forbund", "source_file"} | {c for c, _ in _COMPLETENESS.values()}
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
    fields = [f for f, (c, _) in _COMPLETENESS.items() if c in participants]
    filled = {}
    for field in fields:
        column, empty = _COMPLETENESS[field]
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


def _group_name(forbund: object, source: str, lang: str) -> str:
    if isinstance(forbund, str) and forbund:
        return _label("forbund_name", forbund, lang)
    return source


class _Sheet:
    """An XlsxWriter worksheet that writes text as text, never as a formula.

    Text from input files is stripped of characters a workbook cannot store, and
    text that starts like a formula gets Excel's quote prefix, so an edit in Excel
    keeps it text too. Formats are made once per combination.
    """

    def __init__(self, book, ws) -> None:
        self.book, self.ws = book, ws
        self._formats: dict[tuple, object] = {}

    def fmt(self, **props: object):
        key = tuple(sorted(props.items()))
        if not key:
            return None
        if key not in self._formats:
            self._formats[key] = self.book.add_format(props)
        return self._formats[key]

    def put(self, row: int, column: int, value: object, **props: object) -> None:
        """Write one cell (0-based); None, NA and NaN leave it empty."""
        if hasattr(value, "item"):
            value = value.item()
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            if props:
                self.ws.write_blank(row, column, None, self.fmt(**props))
            return
        if isinstance(value, str):
            text = neutralise(value)
            if text.startswith(_FORMULA_START):
                props["quote_prefix"] = True
            self.ws.write_string(row, column, text, self.fmt(**props))
        elif isinstance(value, bool):
            self.ws.write_boolean(row, column, value, self.fmt(**props))
        else:
            self.ws.write_number(row, column, value, self.fmt(**props))


# Excel's escape for control characters (_xHHHH_); a literal "_x000D_" in the text
# gets its underscore escaped so it reads back as itself (as XlsxWriter does).
_EXCEL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_HAS_ILLEGAL = _ILLEGAL.search


def _column_letters(j: int) -> str:
    """Return Excel's column letters for a 0-based column (0 → A, 26 → AA)."""
    letters = ""
    j += 1
    while j:
        j, rest = divmod(j - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text_cell(ref: str, value: object, quoted: str) -> str:
    """Return one text cell as an inline string ('' for an empty cell)."""
    if not isinstance(value, str) or not value:
        return ""
    text = (
        _ILLEGAL.sub("", value)[:_MAX_CELL]
        if _HAS_ILLEGAL(value)
        else value[:_MAX_CELL]
    )
    if not text:
        return ""
    style = quoted if text.startswith(_FORMULA_START) else ""
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub(r"_x005F\1", text)
    if "\r" in text:
        text = text.replace("\r", "_x000D_")
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:.16G}"


def _rows_xml(frame: pd.DataFrame, first_row: int, quoted_xf: int) -> str:
    """Return the ``<row>`` elements for ``frame``'s cells, 0-based ``first_row`` on.

    Text becomes inline strings, escaped as XlsxWriter escapes shared strings
    (control characters as ``_xHHHH_``, XML's ``& < >``, whitespace kept), with
    the quote-prefix style ``quoted_xf`` where it starts like a formula; numbers
    are numbers; empty cells are left out. XlsxWriter spends several
    microseconds per cell, which made these workbooks the slowest part of a big
    clean; one f-string per cell is a fraction of that.
    """
    n = len(frame)
    numbers = range(first_row + 1, first_row + n + 1)
    quoted = f' s="{quoted_xf}"'
    columns = []
    for j, name in enumerate(frame.columns):
        letter = _column_letters(j)
        values = frame[name]
        kind = pd.api.types.infer_dtype(values, skipna=True)
        if kind in ("integer", "floating", "mixed-integer-float"):
            cells = pd.array(values, dtype="Float64").to_numpy(
                dtype=object, na_value=None
            )
            columns.append(
                [
                    ""
                    if v is None
                    else f'<c r="{letter}{r}"><v>{_number_text(float(v))}</v></c>'
                    for r, v in zip(numbers, cells.tolist(), strict=True)
                ]
            )
        else:
            cells = values.to_numpy(dtype=object, na_value=None).tolist()
            columns.append(
                [
                    _text_cell(f"{letter}{r}", v, quoted)
                    for r, v in zip(numbers, cells, strict=True)
                ]
            )
    spans = f' spans="1:{len(frame.columns)}"'
    return "".join(
        f'<row r="{r}"{spans}>{"".join(cells)}</row>'
        for r, cells in zip(numbers, zip(*columns, strict=True), strict=True)
    )


def _insert_rows(path: Path, part: str, rows_xml: str, last_ref: str) -> None:
    """Put ``rows_xml`` at the end of a sheet's ``sheetData`` in a written xlsx."""
    import zipfile

    with zipfile.ZipFile(path) as old:
        parts = [(info, old.read(info)) for info in old.infolist()]
    tmp = path.with_name(path.name + ".rows")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as new:
        for info, data in parts:
            if info.filename == part:
                xml = data.decode("utf-8")
                xml = re.sub(
                    r'<dimension ref="[^"]*"/>',
                    f'<dimension ref="{last_ref}"/>',
                    xml,
                    count=1,
                )
                if "</sheetData>" in xml:
                    xml = xml.replace("</sheetData>", rows_xml + "</sheetData>", 1)
                else:
                    xml = xml.replace(
                        "<sheetData/>", f"<sheetData>{rows_xml}</sheetData>", 1
                    )
                data = xml.encode("utf-8")
            new.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    os.replace(tmp, path)


def _save_xlsx(path: Path, fill, after=None) -> Path:
    """Write a workbook with XlsxWriter via a temporary file and os.replace.

    ``after(tmp)`` may change the written temporary file before it is renamed.
    """
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    options = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        # Parts are zipped from memory: temporary files per part cost more here.
        "in_memory": True,
    }
    try:
        with xlsxwriter.Workbook(tmp, options) as book:
            fill(book)
        if after is not None:
            after(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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

    def t(key: str, **fmt: object) -> str:
        return catalogue.text(f"feedback.{key}", lang, **fmt)

    def fill(book) -> None:
        ws = _Sheet(book, book.add_worksheet(t("sheet_summary")))
        ws.put(0, 0, t("title", name=name), bold=True, font_size=14)
        wrap = {"text_wrap": True, "valign": "top"}
        ws.ws.merge_range(1, 0, 1, 7, "", ws.fmt(**wrap))
        ws.put(1, 0, t("intro"), **wrap)
        ws.ws.set_row(1, 45)
        headers = ["file", "sheet", "table", "rows_received", "rows_accepted",
                   "rows_rejected", "rows_skipped", "warnings"]  # fmt: skip
        for j, key in enumerate(headers):
            ws.put(3, j, t(key), bold=True)
        r = 3
        for error in errors:
            r += 1
            ws.put(r, 0, t("error"), bold=True)
            ws.ws.merge_range(r, 1, r, 7, "", ws.fmt(**wrap))
            ws.put(r, 1, error, **wrap)
            ws.ws.set_row(r, 60)
        for rec in counts.itertuples(index=False):
            r += 1
            warned = int(warnings_per_file.get((rec.file, rec.sheet), 0))
            values = [rec.file, rec.sheet, _label("table_kind", rec.table, lang),
                      rec.rows_read, rec.rows_clean, rec.rows_rejected,
                      rec.rows_skipped, warned]  # fmt: skip
            for j, value in enumerate(values):
                ws.put(r, j, value)
        if not completeness.empty:
            r += 2
            ws.put(r, 0, t("completeness"), bold=True)
            r += 1
            for j, key in enumerate(("field", "filled", "share_filled")):
                ws.put(r, j, t(key), bold=True)
            for rec in completeness.itertuples(index=False):
                r += 1
                ws.put(r, 0, _label("contract_field", rec.field, lang))
                ws.put(r, 1, f"{rec.filled} / {rec.n}")
                ws.put(r, 2, rec.share, num_format="0%")
        for j, width in enumerate((44, 18, 20, 16, 16, 16, 16, 12)):
            ws.ws.set_column(j, j, width)

        wp = _Sheet(book, book.add_worksheet(t("sheet_problems")))
        for j, key in enumerate(_PROBLEM_KEYS):
            wp.put(0, j, t(key), bold=True)
        if problems.empty:
            wp.put(1, 0, t("no_problems"))
        else:
            # The rows go into the sheet's XML after XlsxWriter has written it.
            pending["rows"] = _rows_xml(
                problems, 1, wp.fmt(quote_prefix=True)._get_xf_index()
            )
            wp.ws.autofilter(0, 0, len(problems), len(_PROBLEM_KEYS) - 1)
        wp.ws.freeze_panes(1, 0)
        for j, width in enumerate((30, 16, 7, 22, 22, 12, 36, 48, 60)):
            wp.ws.set_column(j, j, width)

    pending: dict[str, str] = {}

    def after(tmp: Path) -> None:
        if pending.get("rows"):
            last = f"{_column_letters(len(_PROBLEM_KEYS) - 1)}{len(problems) + 1}"
            _insert_rows(tmp, "xl/worksheets/sheet2.xml", pending["rows"], f"A1:{last}")

    return _save_xlsx(path, fill, after)


# Below this many problem rows in all, worker processes cost more than they save.
_PARALLEL_MIN_ROWS = 5000


def _write_all(jobs: list[tuple], parallel: bool = True) -> list[Path]:
    """Run :func:`_write_workbook` per job; many rows are written by forked workers.

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
    return write_feedback_tables(processed_dir, rejects, report, participants, lang)


def write_feedback_tables(
    processed_dir: Path,
    rejects: pd.DataFrame,
    report: dict,
    participants: pd.DataFrame | None,
    lang: str = "sv",
    *,
    parallel: bool = True,
) -> list[Path]:
    """Write the feedback workbooks from tables in memory (what :func:`write_feedback`
    reads from the clean's outputs); the pipeline calls it while it writes them.

    Args:
        processed_dir: The clean's output folder (workbooks go to ``feedback/``).
        rejects: The rejects table, in the order of ``rejects.parquet``.
        report: The cleaning report (``sources`` and ``organisations`` are used).
        participants: The clean participants (for completeness), or None.
        lang: ``"sv"`` (default) or ``"en"``.
        parallel: Let big workbooks be written by forked workers.

    Returns:
        The workbooks written, sorted.
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
    forbunds = sorted({owners[m[0]] for m in groups.values() if owners[m[0]]})
    completeness = _completeness(participants, forbunds)
    no_rows = pd.DataFrame(columns=["field", "filled", "n", "share"])
    jobs = []
    for key, members in sorted(groups.items()):
        mine = rejects[rejects["source"].isin(members)].reset_index(drop=True)
        warned = mine[mine["status"] == "warning"]
        warnings = warned.groupby(["source_file", "source_sheet"]).size()
        forbund = owners[members[0]]
        errors = [
            str(sources[m]["error"]) for m in members if sources.get(m, {}).get("error")
        ]
        jobs.append(
            (
                out_dir / f"{key}.xlsx",
                _group_name(forbund, key, lang),
                counts[counts["source"].isin(members)],
                feedback_rows(mine, lang),
                warnings,
                completeness.get(forbund, no_rows) if forbund else no_rows,
                errors,
                lang,
            )
        )
    written = _write_all(jobs, parallel)
    if out_dir.is_dir():
        for stale in set(out_dir.glob("*.xlsx")) - set(written):
            stale.unlink()
    return sorted(written)
