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

from rehab_analytics.errors import InputFileError
from rehab_analytics.ingest.formats import (
    _calamine_error,
    _decode,
    _open_workbook,
    _suffix_format,
    sniff_format,
)

__all__ = ["read_grid", "cell_text", "band_labels"]


def _text_grid(
    path: Path, encodings: Sequence[str], delimiter: str, name: str
) -> list[np.ndarray]:
    """Read a delimited text file into column arrays of strings (None = empty)."""
    text, _ = _decode(path.read_bytes(), encodings, name)
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not lines:
        return []
    width = max(line.count(delimiter) for line in lines) + 1
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
            f"the text file could not be parsed as '{delimiter}'-separated values ({exc}). "
            "Expected one record per line; check 'delimiter' in the source description.",
            file=name,
        ) from None
    return [frame[c].to_numpy(dtype=object) for c in frame.columns]


def _workbook_grid(
    path: Path, sheet: str, name: str, workbook: pc.CalamineWorkbook | None = None
) -> tuple[list[list[object]], list[tuple[tuple[int, int], tuple[int, int]]]]:
    wb = workbook if workbook is not None else _open_workbook(path, name)
    try:
        try:
            ws = wb.get_sheet_by_name(sheet)
        except pc.WorksheetNotFound:
            raise InputFileError(
                f"sheet '{sheet}' not found. Found: {', '.join(wb.sheet_names)}.",
                file=name,
            ) from None
        except Exception as exc:  # a damaged sheet part fails when it is opened
            raise _calamine_error(exc, name, sheet) from None
        try:
            rows = ws.to_python(skip_empty_area=False)
            merges = ws.merged_cell_ranges or []
        except Exception as exc:
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
    declared = _suffix_format(path)
    notes: tuple[str, ...] = ()
    if (
        declared is not None
        and declared != real
        and not {declared, real} <= {"xlsx", "xls"}
    ):
        notes = (
            f"{name}: the file is named {path.suffix} but contains {real} data; it was "
            f"read as {real}. Rename it to .{'csv' if real == 'csv' else real}.",
        )
    if real == "csv":
        columns = _text_grid(path, encoding, delimiter, name)
        merges: list = []
    else:
        rows, merges = _workbook_grid(path, sheet, name, workbook)
        columns = _transpose(rows)
    pairs = [_blank_to_none(c) for c in columns]
    return [c for c, _ in pairs], [b for _, b in pairs], merges, notes


def _transpose(rows: list[list[object]]) -> list[np.ndarray]:
    """Return the columns of a rectangular list of rows as object arrays."""
    if not rows:
        return []
    try:
        # One C-level conversion; the columns are views of the grid.
        return list(np.array(rows, dtype=object).T)
    except ValueError:
        return [np.array(col, dtype=object) for col in zip(*rows, strict=True)]


def _blank_to_none(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``column`` with empty and whitespace-only text (spaces, NBSP) as None,
    and the mask of those blank cells.

    A cell holding only spaces looks empty in Excel; counting it as data would
    turn blank rows below a table into rejected rows. Each distinct value is
    looked at once.
    """
    if not column.size:
        return column, np.zeros(0, dtype=bool)
    codes, uniques = pd.factorize(column)
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
    return column, blank


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
