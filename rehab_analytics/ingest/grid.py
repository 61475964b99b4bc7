"""Every cell of one sheet or text file as column arrays, and the cell helpers.

Workbooks (xlsx, xlsm, xls, ods) are read with python-calamine directly; text files
with Swedish CSV conventions. Cells keep their raw values (text, numbers, dates);
empty and whitespace-only cells become None.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine as pc

from rehab_analytics.config import Limits, limits
from rehab_analytics.errors import InputFileError
from rehab_analytics.escape import excerpt
from rehab_analytics.ingest.extent import _letters
from rehab_analytics.ingest.formats import (
    _calamine_error,
    _decode,
    _open_workbook,
    _suffix_format,
    quoted,
    sniff_format,
)
from rehab_analytics.ingest.limits import check_sheet, check_text, limit_error
from rehab_analytics.sources import quote

__all__ = ["read_grid", "cell_text", "band_labels"]


def _text_grid(
    path: Path, encodings: Sequence[str], delimiter: str, name: str, lim: Limits
) -> list[np.ndarray]:
    """Read a delimited text file into column arrays of strings (None = empty)."""
    text, _ = _decode(path.read_bytes(), encodings, name)
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not lines:
        return []
    width = check_text(lines, delimiter, name, lim)
    del lines
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            names=range(width),
            dtype=object,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
            quotechar='"',
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputFileError(
            f"the text file could not be parsed as '{delimiter}'-separated values "
            f"({excerpt(exc)}). "
            "Expected one record per line; check 'delimiter' in the source description.",
            file=name,
        ) from None
    return [frame[c].to_numpy(dtype=object) for c in frame.columns]


def _workbook_grid(
    path: Path,
    sheet: str,
    name: str,
    workbook: pc.CalamineWorkbook | None = None,
    real: str = "xlsx",
    lim: Limits | None = None,
) -> tuple[list[list[object]], list[tuple[tuple[int, int], tuple[int, int]]]]:
    wb = workbook if workbook is not None else _open_workbook(path, name)
    try:
        if real == "xlsx" and sheet in wb.sheet_names:
            # calamine allocates the whole grid when it opens the sheet (an ODS is
            # checked when the workbook is opened: that reads every sheet).
            check_sheet(path, real, sheet, name, lim or limits())
        try:
            ws = wb.get_sheet_by_name(sheet)
        except pc.WorksheetNotFound:
            raise InputFileError(
                f"sheet {quote(sheet, 60)} not found. Found: {quoted(wb.sheet_names)}.",
                file=name,
            ) from None
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a damaged sheet part fails when it is opened
            raise _calamine_error(exc, name, sheet) from None
        try:
            rows = ws.to_python(skip_empty_area=False)
            merges = ws.merged_cell_ranges or []
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # calamine errors and Rust panics
            raise _calamine_error(exc, name, sheet) from None
    finally:
        if workbook is None:
            wb.close()
    return rows, merges


def read_grid(
    path: Path,
    sheet: str = "",
    *,
    encoding: Sequence[str] = ("utf-8-sig", "cp1252"),
    delimiter: str = ";",
    display: str | None = None,
    _opened: tuple[str, pc.CalamineWorkbook | None] | None = None,
) -> tuple[list[np.ndarray], list, tuple[str, ...]]:
    """Read every cell of one sheet as column arrays starting at row 1.

    Returns:
        (columns, merged ranges, notes). Empty cells are None.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "a.csv"
        >>> _ = p.write_text("A;B\\n1;\\n")
        >>> cols, _, _ = read_grid(p)
        >>> [list(c) for c in cols]
        [['A', '1'], ['B', None]]
    """
    columns, _, merges, notes = _grid(
        path,
        sheet,
        encoding=encoding,
        delimiter=delimiter,
        display=display,
        _opened=_opened,
    )
    return columns, merges, notes


def _grid(
    path: Path,
    sheet: str = "",
    *,
    encoding: Sequence[str] = ("utf-8-sig", "cp1252"),
    delimiter: str = ";",
    display: str | None = None,
    _opened: tuple[str, pc.CalamineWorkbook | None] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], list, tuple[str, ...]]:
    """:func:`read_grid` plus a blank mask per column (None or whitespace-only)."""
    path = Path(path)
    name = display or str(path)
    real, workbook = _opened if _opened is not None else (None, None)
    real = real or sniff_format(path, display=name)
    lim = limits()
    declared = _suffix_format(path)
    notes: tuple[str, ...] = ()
    if (
        declared is not None
        and declared != real
        and not {declared, real} <= {"xlsx", "xls"}
    ):
        notes = (
            f"{name}: the file is named {excerpt(path.suffix, 20)} but contains {real} "
            "data; it was "
            f"read as {real}. Rename it to .{'csv' if real == 'csv' else real}.",
        )
    if real == "csv":
        columns = _text_grid(path, encoding, delimiter, name, lim)
        merges: list = []
    else:
        rows, merges = _workbook_grid(path, sheet, name, workbook, real, lim)
        columns = _transpose(rows)
        del rows
    pairs = [_blank_to_none(c, lim.cell_chars) for c in columns]
    for j, (_, _, long_row) in enumerate(pairs):
        if long_row is not None:
            raise limit_error(
                lim,
                "cell_chars",
                "the length in characters of the cell",
                len(str(columns[j][long_row])),
                file=name,
                sheet=sheet or None,
                row=long_row + 1,
                column=_letters(j + 1),
            )
    return [c for c, _, _ in pairs], [b for _, b, _ in pairs], merges, notes


def _transpose(rows: list[list[object]]) -> list[np.ndarray]:
    """Return the columns of a rectangular list of rows as object arrays."""
    if not rows:
        return []
    try:
        # One C-level conversion; the columns are views of the grid.
        return list(np.array(rows, dtype=object).T)
    except ValueError:
        return [np.array(col, dtype=object) for col in zip(*rows, strict=True)]


def _blank_to_none(
    column: np.ndarray, max_chars: int | None = None
) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Return ``column`` with empty and whitespace-only text (spaces, NBSP) as None,
    the mask of those blank cells, and the row of a text longer than ``max_chars``
    (None if there is none).

    A cell holding only spaces looks empty in Excel; counting it as data would
    turn blank rows below a table into rejected rows. Each distinct value is
    looked at once.
    """
    if not column.size:
        return column, np.zeros(0, dtype=bool), None
    codes, uniques = pd.factorize(column)
    long_row = None
    if max_chars is not None:
        long = [
            i for i, u in enumerate(uniques) if type(u) is str and len(u) > max_chars
        ]
        if long:
            long_row = int(np.flatnonzero(codes == long[0])[0])
    blank_u = np.fromiter(
        (isinstance(u, str) and not u.strip() for u in uniques), bool, len(uniques)
    )
    blank = np.append(blank_u, True)[codes]
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        # factorize folds every NA together; only None is an empty cell.
        data = np.fromiter((column[p] is not None for p in missing), bool, len(missing))
        blank[missing[data]] = False
    if blank_u.any():
        column = np.where(blank, None, column)
    return column, blank, long_row


def cell_text(value: object) -> str:
    """Return a raw cell as text for matching headers and labels ("" when empty).

    Whole floats lose their ".0" (workbooks store 2017 as 2017.0), dates and
    times become ISO text, anything else is its text stripped.

    Example:
        >>> import datetime
        >>> cell_text(2017.0), cell_text(None), cell_text(" Kön "), cell_text(2.5)
        ('2017', '', 'Kön', '2.5')
        >>> cell_text(datetime.date(2017, 1, 2))
        '2017-01-02'
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def band_labels(columns: list[np.ndarray], band_index: int, merges: list) -> list[str]:
    """Return the header-band label above each column ("" where there is none).

    A label covers the columns of its merged range; a label that is not merged
    is carried right across blank cells until the next label.

    Args:
        columns: Column arrays as :func:`read_grid` returns them.
        band_index: The 0-based row of the band.
        merges: Merged ranges as :func:`read_grid` returns them,
            ``((first row, first column), (last row, last column))``, 0-based.

    Example:
        >>> import numpy as np
        >>> cols = [np.array([v, "x"], dtype=object) for v in ("Före", None, "Efter")]
        >>> band_labels(cols, 0, [])
        ['Före', 'Före', 'Efter']
        >>> band_labels(cols, 0, [((0, 0), (0, 0))])
        ['Före', '', 'Efter']
    """
    labels = [cell_text(c[band_index]) if band_index < len(c) else "" for c in columns]
    merged_end = {}
    for (r0, c0), (r1, c1) in merges:
        if r0 <= band_index <= r1:
            merged_end[c0] = c1
    out, current, until = [], "", -1
    for j, label in enumerate(labels):
        if label:
            current, until = label, merged_end.get(j, -1)
        elif until >= 0 and j > until:
            current = ""
        out.append(current)
    return out
