"""Where the last filled cell of a workbook sheet is, from the bytes of its XML part.

calamine places a cell where its ``r`` attribute says (a cell or row without one
follows the previous), sizes the grid from the cells it finds (the
``<dimension>`` element is not used; a cell without a value does not count) and
allocates the whole grid at once. These scans find that grid without parsing:
byte searches prove that every cell is written ``<c r="A1"`` and find the last
column and row; only a sheet written otherwise, or one whose bound is past the
limits, is walked tag by tag. ODS rows and cells may be repeated
(``number-rows-repeated``); repeated empty cells at the end of a row or sheet do
not count.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Callable

import numpy as np

__all__ = ["sheet_extent"]

# Whether (rows, columns) is past the limits.
Over = Callable[[int, int], bool]

# A cell tag that is not `<c r="A1"` (no r, r not first, prefixed, spaces, quotes).
_NONCANON = re.compile(rb'<c(?! r="[A-Z])(?![\w.:-])')
_PREFIXED = re.compile(rb":c[\s>/]")
# An r attribute anywhere but first in `<c` and `<row` (a duplicate wins in calamine).
_STRAY_R = re.compile(rb"r(?<=\sr)(?<!<c r)(?<!<row r)\s*=")
_CELL_REF = re.compile(rb'<c r="([A-Z]+)([0-9]+)"')
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*?)(/?)>")
_ATTR_R = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF = re.compile(r"([A-Za-z]+)([0-9]+)")
_MAX_RAISES = 2000

_ODS_TABLE_END = b"</table:table>"
_ODS_COLUMNS_REPEATED = b"number-columns-repeated"
_ODS_ROWS_REPEATED = b"number-rows-repeated"
_ODS_REPEAT_VALUE = re.compile(rb"""\s*=\s*["']([0-9]+)""")
_ODS_ROW_START = re.compile(rb"<table:table-row[\s/>]")
_ODS_ROW = re.compile(rb"<table:table-row(?=[\s/>])([^>]*?)(/?)>")
_ODS_CELL = re.compile(rb"<table:(?:covered-)?table-cell(?=[\s/>])([^>]*?)(/?)>")
_ODS_REPEAT = re.compile(rb"""number-(?:rows|columns)-repeated\s*=\s*["']([0-9]+)""")
_ODS_NAME = re.compile(rb"""table:name\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ODS_ROW_END = b"</table:table-row>"
# Fewest bytes one column position of an ODS row takes ("<table:table-cell/>").
_ODS_CELL_BYTES = 19


def _letters(col: int) -> str:
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def _col_index(letters: bytes | str) -> int:
    index = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        index = index * 26 + ord(ch) - 64
    return index


def _letters_over(col: int) -> bytes:
    """Regex of upper-case column letters whose column number is over ``col``.

    Example:
        >>> import re
        >>> [bool(re.fullmatch(_letters_over(36), t)) for t in (b"AJ", b"AK", b"B", b"BA")]
        [False, True, False, True]
    """
    if col < 1:
        return rb"[A-Z]+"
    letters = _letters(col)
    n = len(letters)
    alts = [f"[A-Z]{{{n + 1},}}"]
    for i, ch in enumerate(letters):
        if ch != "Z":
            rest = f"[A-Z]{{{n - i - 1}}}" if n - i - 1 else ""
            alts.append(f"{letters[:i]}[{chr(ord(ch) + 1)}-Z]{rest}")
    return f"(?:{'|'.join(alts)})".encode()


def _digits_over(number: int) -> bytes:
    """Regex of a whole number (leading zeros allowed) over ``number``."""
    text = str(max(number, 0))
    k = len(text)
    alts = [f"[1-9][0-9]{{{k},}}"]
    for i, ch in enumerate(text):
        if ch == "9":
            continue
        low = str(int(ch) + 1) if i else str(max(int(ch) + 1, 1))
        rest = f"[0-9]{{{k - i - 1}}}" if k - i - 1 else ""
        alts.append(f"{text[:i]}[{low}-9]{rest}")
    return f"0*(?:{'|'.join(alts)})".encode()


def _xlsx_bound(data: bytes, over: Over) -> tuple[int, int] | None:
    """Return (rows, columns) covering every cell, empty or not; None if the cells
    are not all written `<c r="A1"` (then :func:`_xlsx_exact` decides)."""
    if _NONCANON.search(data) or _STRAY_R.search(data):
        return None
    if b":c" in data and _PREFIXED.search(data):
        return None
    last = data.rfind(b'<c r="')
    if last < 0:
        return 0, 0
    end = _CELL_REF.match(data, last)
    if end is None:
        return None
    cols, rows = _col_index(end.group(1)), int(end.group(2))
    # One pass finds a column past the biggest so far (it resumes there: a sheet
    # written row by row raises it a few times) or a row number longer than the
    # last cell's; only then are rows compared exactly.
    digits, longer, pos = len(str(rows)), False, 0
    for _ in range(_MAX_RAISES):
        wider = b"(" + _letters_over(cols) + b")[0-9]"
        pattern = wider if longer else wider + b"|[A-Z]+[0-9]{%d}" % (digits + 1)
        m = re.compile(b'<c r="(?:' + pattern + b")").search(data, pos)
        if m is None:
            break
        if m.group(1):
            cols = _col_index(m.group(1))
        else:
            longer = True
        pos = m.start() + 1
    else:
        return None
    if not longer and not over(10**digits - 1, cols):
        return 10**digits - 1, cols
    pos = 0
    for _ in range(_MAX_RAISES):
        pattern = b'<c r="[A-Z]+(' + _digits_over(rows) + b')"'
        m = re.compile(pattern).search(data, pos)
        if m is None:
            return rows, cols
        rows, pos = int(m.group(1)), m.start() + 1
    return None


def _xlsx_exact(data: bytes) -> tuple[int, int]:
    """Return (rows, columns) to the last cell with content, placing cells as calamine
    does (the last r attribute wins; a cell or row without r follows the previous)."""
    row, col, rows, cols = 0, 0, 0, 0
    for m in _TAG.finditer(data):
        kind, attrs, empty = m.groups()
        refs = [a or b for a, b in _ATTR_R.findall(attrs)]
        if kind == b"row":
            row, col = (_int(refs[-1]) if refs else row + 1), 0
            continue
        if refs:
            ref = _REF.fullmatch(html.unescape(refs[-1].decode("utf-8", "replace")))
            if ref is None:
                continue  # calamine refuses it with its own message
            col, row = _col_index(ref.group(1)), int(ref.group(2))
        else:
            col += 1
        if not empty:
            rows, cols = max(rows, row), max(cols, col)
    return rows, cols


def _int(value: bytes) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def _ods_tables(data: bytes) -> list[tuple[str, int, int]]:
    """Return (name, start, end) of every table in an ODS content part.

    Tables are cut at their end tags (a table tag's prefix is shared by every
    cell, so finding the start tags would look at every cell); a cut missed only
    joins two tables, which overestimates.
    """
    out, start = [], 0
    while True:
        end = data.find(_ODS_TABLE_END, start)
        stop = len(data) if end < 0 else end
        found = _ODS_NAME.search(data, start, stop)
        label = (
            html.unescape((found.group(1) or found.group(2)).decode("utf-8", "replace"))
            if found
            else ""
        )
        out.append((label, start, stop))
        if end < 0:
            return out
        start = end + len(_ODS_TABLE_END)


def _ods_bound(data: bytes, start: int, end: int) -> tuple[int, int]:
    """Return (rows, columns) bounding one ODS table cheaply: rows to the one with
    the last value, columns from each row's bytes ÷ the smallest cell plus the
    repeated cells in it (trailing empty ones excepted)."""
    last = max(data.rfind(b"value-type", start, end), data.rfind(b"<text:", start, end))
    if last < 0:
        return 0, 0
    following = _ODS_ROW_START.search(data, last, end)
    stop = following.start() if following else end  # the end of the last filled row
    starts = [m.start() for m in _ODS_ROW_START.finditer(data, start, stop)]
    if not starts:
        return 0, 0
    widths = np.diff(np.array([*starts, stop])) // _ODS_CELL_BYTES
    height = len(starts)
    for at, rep in _repeats(data, start, stop, _ODS_ROWS_REPEATED):
        row = bisect.bisect_right(starts, at) - 1
        if row >= 0 and data.find(b">", starts[row]) > at:  # in the row's own tag
            height += rep - 1
    for at, rep in _repeats(data, start, stop, _ODS_COLUMNS_REPEATED):
        m = _ODS_CELL.match(data, data.rfind(b"<", start, at))
        if m is None:
            continue  # a column style (table:table-column), not cells
        trailing = m.group(2) and data.startswith(_ODS_ROW_END, m.end())
        if trailing and b"value-type" not in m.group(1):
            continue
        row = bisect.bisect_right(starts, at) - 1
        if row >= 0:
            widths[row] += rep - 1
    return height, int(widths.max())


def _repeats(data: bytes, start: int, end: int, name: bytes) -> list[tuple[int, int]]:
    out = []
    at = data.find(name, start, end)
    while at >= 0:
        value = _ODS_REPEAT_VALUE.match(data, at + len(name))
        if value:
            out.append((at, int(value.group(1))))
        at = data.find(name, at + 1, end)
    return out


def _ods_extent(data: bytes, start: int, end: int) -> tuple[int, int]:
    """Return (rows, columns) of one ODS table to its last filled cell, walking
    each filled row's cells."""
    rows_at = [
        (m.start(), m.group(1), m.group(2)) for m in _ODS_ROW.finditer(data, start, end)
    ]
    height, rows, cols = 0, 0, 0
    for i, (at, attrs, empty) in enumerate(rows_at):
        stop = rows_at[i + 1][0] if i + 1 < len(rows_at) else end
        rep = _ODS_REPEAT.search(attrs) if b"repeated" in attrs else None
        height += int(rep.group(1)) if rep else 1
        filled = not empty and (
            data.find(b"value-type", at, stop) >= 0
            or data.find(b"<text:", at, stop) >= 0
        )
        if filled:
            rows = height
            cols = max(cols, _ods_row_width(data, at, stop))
    return rows, cols


def _ods_row_width(data: bytes, start: int, stop: int) -> int:
    col, width = 0, 0
    for m in _ODS_CELL.finditer(data, start, stop):
        rep = _ODS_REPEAT.search(m.group(1))
        col += int(rep.group(1)) if rep else 1
        if not m.group(2) or b"value-type" in m.group(1):
            width = col
    return width


def sheet_extent(data: bytes, fmt: str, sheet: str, over: Over) -> tuple[str, int, int]:
    """Return (sheet, rows, columns) of the biggest grid in a sheet's part
    (``content.xml`` for ODS: the table named ``sheet``, else every table).

    ``over(rows, columns)`` says whether a grid is past the limits. A cheap upper
    bound (empty cells count) is returned when it is within them; otherwise the
    grid is counted exactly, to the last filled cell.

    Example:
        >>> part = b'<row r="1"><c r="B3"><v>1</v></c><c r="E9"/></row>'
        >>> sheet_extent(part, "xlsx", "S", lambda rows, cols: rows * cols > 100)
        ('S', 9, 5)
        >>> sheet_extent(part, "xlsx", "S", lambda rows, cols: rows * cols > 10)
        ('S', 3, 2)
    """
    if fmt == "ods":
        tables = _ods_tables(data)
        chosen = [t for t in tables if sheet and t[0] == sheet] or tables
        biggest = (sheet, 0, 0)
        for label, start, end in chosen:
            rows, cols = _ods_bound(data, start, end)
            if over(rows, cols):
                rows, cols = _ods_extent(data, start, end)
            if over(rows, cols) or rows * cols > biggest[1] * biggest[2]:
                biggest = (label or sheet, rows, cols)
            if over(rows, cols):
                break
        return biggest
    bound = _xlsx_bound(data, over)
    if bound is not None and not over(*bound):
        return (sheet, *bound)
    return (sheet, *_xlsx_exact(data))
