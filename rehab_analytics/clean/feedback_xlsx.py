"""Feedback workbooks on disk: the summary and problems sheets, text never run as formula.

Text that starts like a formula (:data:`~rehab_analytics.escape.FORMULA_START`)
gets Excel's quote prefix. The problem rows go straight into the sheet's XML, as
XlsxWriter's per-cell calls were the slowest part of a big clean.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from rehab_analytics import catalogue
from rehab_analytics.atomic import write_atomic
from rehab_analytics.escape import FORMULA_START, neutralise

__all__: list[str] = []

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


def _label(field: str, code: object, lang: str) -> str:
    """Return the catalogue label of ``code``, or the code itself if it has none."""
    try:
        return catalogue.label(field, str(code), lang)
    except KeyError:
        return str(code)


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
            if text.startswith(FORMULA_START):
                props["quote_prefix"] = True
            self.ws.write_string(row, column, text, self.fmt(**props))
        elif isinstance(value, bool):
            self.ws.write_boolean(row, column, value, self.fmt(**props))
        else:
            self.ws.write_number(row, column, value, self.fmt(**props))


# Excel's escape for control characters (_xHHHH_); a literal "_x000D_" in the text
# gets its underscore escaped so it reads back as itself (as XlsxWriter does).
_EXCEL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")


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
    text = neutralise(value)
    if not text:
        return ""
    style = quoted if text.startswith(FORMULA_START) else ""
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
    """Put ``rows_xml`` at the end of a sheet's ``sheetData`` in a written xlsx.

    The file is rewritten in place (it is a temporary file, renamed later), so it
    keeps its mode (0600).
    """
    import zipfile

    with zipfile.ZipFile(path) as old:
        parts = [(info, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as new:
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


def _fill_xlsx(path: Path, fill, after=None) -> Path:
    """Write a workbook with XlsxWriter into ``path`` itself (a temporary file).

    ``after(path)`` may change the written file.
    """
    import xlsxwriter

    options = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        # Parts are zipped from memory: temporary files per part cost more here.
        "in_memory": True,
    }
    with xlsxwriter.Workbook(str(path), options) as book:
        fill(book)
    if after is not None:
        after(path)
    return path


def _save_xlsx(path: Path, fill, after=None) -> Path:
    """Write a workbook atomically (:func:`~rehab_analytics.atomic.write_atomic`).

    ``after(tmp)`` may change the written temporary file before it is renamed.
    """
    return write_atomic(path, lambda tmp: _fill_xlsx(tmp, fill, after))


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
    """Write one feedback workbook (summary + problems) into ``path`` itself.

    ``path`` is a temporary file of a :class:`~rehab_analytics.atomic.StagedFiles`
    set, renamed over the workbook together with the clean's other outputs.
    """

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

    return _fill_xlsx(path, fill, after)
