"""Readers: one file (and sheet) into a frame of raw cell values with original row numbers.

Workbooks (xlsx, xlsm, xls, ods) are read with python-calamine directly; text files
with Swedish CSV conventions. Nothing is interpreted here beyond finding the header:
cells keep their raw values (text, numbers, dates) and empty cells become None.
"""

from __future__ import annotations

import fnmatch
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine as pc

from rehab_analytics.errors import InputFileError, MissingColumnError
from rehab_analytics.sources.model import Band, TableSpec, normalise_label

__all__ = [
    "RawSheet",
    "WORKBOOK_SUFFIXES",
    "sniff_format",
    "select_sheets",
    "read_grid",
    "read_sheet",
    "read_table_file",
]

WORKBOOK_SUFFIXES = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".ods": "ods"}
_TEXT_SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_ZIP_MAGIC = b"PK\x03\x04"
_AUTO_SCAN_ROWS = 30


@dataclass(frozen=True)
class RawSheet:
    """Raw cells of one sheet below its header.

    Attributes:
        data: One column per header (unique names), raw cell values (object dtype
            for workbooks, strings for text files), None/NA for empty cells. The
            index is the original 1-based row number (``source_row``).
        file: The file's path relative to the raw folder (posix), or its name.
        sheet: The sheet name ("" for text files).
        header_row: The 1-based header row used.
        bands: For each column the header band above it ("" if none).
        columns: Contract field → column name in ``data`` (found headers only).
        band_columns: Income field → column names under its band.
        headers: Column name in ``data`` → the header text as written.
        blank_rows: Completely blank rows below the header (not rows).
        notes: File-level warnings (wrong extension, optional columns not found).
    """

    data: pd.DataFrame
    file: str
    sheet: str
    header_row: int
    bands: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    band_columns: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    blank_rows: int = 0
    notes: tuple[str, ...] = ()


def _suffix_format(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return WORKBOOK_SUFFIXES.get(suffix) or _TEXT_SUFFIXES.get(suffix)


def sniff_format(path: Path, *, display: str | None = None) -> str:
    """Return the file's real format from its content: 'xlsx', 'ods', 'xls' or 'csv'.

    Raises:
        InputFileError: For a missing, empty, password-protected or unreadable file.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "a.xlsx"
        >>> _ = p.write_text("Personnummer;Start\\n")
        >>> sniff_format(p)
        'csv'
    """
    path = Path(path)
    name = display or str(path)
    if not path.exists():
        raise InputFileError(
            "file not found. Expected it to exist; check the path or the 'files' "
            "glob in the source description.",
            file=name,
        )
    if path.is_dir():
        raise InputFileError("is a folder, expected a file.", file=name)
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(
            "the file is empty (0 bytes). Expected a spreadsheet; ask the sender for "
            "the file again (it may have been cut off when copied).",
            file=name,
        )
    with path.open("rb") as handle:
        head = handle.read(8192)
    if head.startswith(_OLE_MAGIC):
        # An encrypted xlsx is an OLE2 container with an EncryptedPackage stream
        # (names are UTF-16 in the directory); any other OLE2 file is an old .xls,
        # even when it was renamed .xlsx.
        if _ENCRYPTED_STREAM in path.read_bytes():
            raise InputFileError(
                "the workbook is password-protected (encrypted): found an encrypted "
                "container instead of an xlsx file. Expected an unprotected workbook; "
                "password-protected: save an unprotected copy (File › Info › Protect "
                "Workbook › remove the password) and deliver that.",
                file=name,
            )
        return "xls"
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                if "mimetype" in names:
                    mime = archive.read("mimetype").decode("ascii", "replace")
                    if "opendocument.spreadsheet" in mime:
                        return "ods"
                if "EncryptedPackage" in names:
                    raise InputFileError(
                        "password-protected: save an unprotected copy.", file=name
                    )
                return "xlsx"
        except zipfile.BadZipFile:
            raise InputFileError(
                "the file is corrupt or truncated (a damaged zip container). Expected a "
                "complete xlsx/ods file; ask the sender to save and send it again.",
                file=name,
            ) from None
    if b"\x00" in head[:4096]:
        raise InputFileError(
            f"is not a spreadsheet or text file (found binary content starting "
            f"{head[:4].hex(' ')}). Expected xlsx, xlsm, xls, ods or csv; export the "
            "data to one of these.",
            file=name,
        )
    return "csv"


def _calamine_error(
    exc: Exception, name: str, sheet: str | None = None
) -> InputFileError:
    if isinstance(exc, pc.PasswordError):
        return InputFileError(
            "password-protected: save an unprotected copy and deliver that.",
            file=name,
            sheet=sheet,
        )
    return InputFileError(
        f"the workbook could not be read; it is corrupt or truncated ({exc}). Expected a "
        "complete workbook; open it in Excel or LibreOffice, save a new copy and "
        "deliver that.",
        file=name,
        sheet=sheet,
    )


def _open_workbook(path: Path, name: str) -> pc.CalamineWorkbook:
    try:
        if WORKBOOK_SUFFIXES.get(path.suffix.lower()) != sniff_format(
            path, display=name
        ):
            # from_path picks the reader by extension; a renamed workbook (an
            # .xls saved as .xlsx, an xlsx saved as .csv) is read by content.
            data = io.BytesIO(path.read_bytes())
            return pc.CalamineWorkbook.from_filelike(data)
        return pc.CalamineWorkbook.from_path(str(path))
    except InputFileError:
        raise
    except Exception as exc:  # calamine raises several unrelated types
        raise _calamine_error(exc, name) from None


def select_sheets(
    path: Path, patterns: Sequence[str] = (), *, display: str | None = None
) -> list[str]:
    """Return the sheet names to read: matches of ``patterns`` in workbook order.

    Glob patterns match visible sheets only (case-insensitively); an exact name
    also selects a hidden sheet. Without patterns: the first visible sheet.
    Text files have one unnamed sheet, "".

    Raises:
        InputFileError: If no sheet matches (the message lists the sheets found).

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "a.csv"
        >>> _ = p.write_text("A;B\\n1;2\\n")
        >>> select_sheets(p)
        ['']
    """
    path = Path(path)
    name = display or str(path)
    if sniff_format(path, display=name) == "csv":
        return [""]
    wb = _open_workbook(path, name)
    try:
        return _select(wb, patterns, name)
    finally:
        wb.close()


def _select(wb: pc.CalamineWorkbook, patterns: Sequence[str], name: str) -> list[str]:
    meta = wb.sheets_metadata
    visible = [m.name for m in meta if m.visible == pc.SheetVisibleEnum.Visible]
    names = [m.name for m in meta]
    if not patterns:
        if not visible:
            raise InputFileError("the workbook has no visible sheet.", file=name)
        return visible[:1]
    chosen = []
    for sheet in names:
        for pattern in patterns:
            exact = sheet.casefold() == pattern.casefold()
            glob = fnmatch.fnmatchcase(sheet.casefold(), pattern.casefold())
            if exact or (glob and sheet in visible):
                chosen.append(sheet)
                break
    if not chosen:
        hidden = [s for s in names if s not in visible]
        found = ", ".join(f"'{s}'" for s in visible) or "none"
        extra = f" (hidden: {', '.join(hidden)})" if hidden else ""
        raise InputFileError(
            f"no sheet matches {list(patterns)}. Found visible sheets: {found}{extra}. "
            "Rename the sheet or update 'sheets' in the source description.",
            file=name,
        )
    return chosen


def _decode(data: bytes, encodings: Sequence[str], name: str) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    # Non-ASCII text that is valid UTF-8 is UTF-8 whatever is declared: cp1252
    # would also decode it, silently, as mojibake ("KÃ¶n"), and real cp1252 text
    # is practically never valid UTF-8.
    if not data.isascii():
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    for enc in encodings:
        try:
            return data.decode(enc), enc
        except (UnicodeDecodeError, LookupError):
            continue
    raise InputFileError(
        f"the text could not be decoded with any of the encodings {list(encodings)}. "
        "Expected UTF-8 or Windows-1252 text; save the file as 'CSV UTF-8' in Excel, "
        "or add its encoding to 'encoding' in the source description.",
        file=name,
    )


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


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def _expected_headers(spec: TableSpec) -> dict[str, str]:
    """Return normalised header → contract field for plainly mapped columns."""
    out = {}
    for fld, header in spec.columns.items():
        if isinstance(header, str):
            out[normalise_label(header)] = fld
        elif isinstance(header, dict):
            for sex, h in header.items():
                out[normalise_label(h)] = f"{fld}.{sex}"
    return out


def _find_header(
    columns: list[np.ndarray], expected: set[str], nrows: int
) -> int | None:
    """Return the 0-based index of the first row whose non-empty cells mostly match."""
    for r in range(min(nrows, _AUTO_SCAN_ROWS)):
        cells = [normalise_label(_cell_text(c[r])) for c in columns if c[r] is not None]
        cells = [c for c in cells if c]
        if not cells:
            continue
        hits = sum(c in expected for c in cells)
        if hits >= 1 and hits * 2 >= len(cells):
            return r
    return None


def _unique_names(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for j, header in enumerate(headers):
        base = header or f"column_{j + 1}"
        count = seen.get(base, 0) + 1
        seen[base] = count
        out.append(base if count == 1 else f"{base}_{count}")
    return out


def _band_labels(columns: list[np.ndarray], band_index: int, merges: list) -> list[str]:
    """Band label per column: merged ranges first, else carried right across blanks."""
    labels = [_cell_text(c[band_index]) if band_index < len(c) else "" for c in columns]
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


def _column_letter(j: int) -> str:
    """Return the spreadsheet letter of 0-based column ``j`` (0 → A, 26 → AA)."""
    letters = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _check_unique_headers(
    headers: list[str], spec: TableSpec, header_row: int, where: dict
) -> None:
    """Refuse a described header that appears more than once (which one is meant?)."""
    wanted = []
    for header in spec.columns.values():
        if isinstance(header, str):
            wanted.append(header)
        elif isinstance(header, dict):
            wanted.extend(header.values())
    norm = [normalise_label(h) if h else "" for h in headers]
    for header in wanted:
        at = [j for j, h in enumerate(norm) if h and h == normalise_label(header)]
        if len(at) > 1:
            cols = ", ".join(_column_letter(j) for j in at)
            raise InputFileError(
                f"the column {header!r} appears {len(at)} times in row {header_row} "
                f"(columns {cols}), so it is unclear which one to read. Expected it "
                "once; delete or rename the extra column.",
                column=header,
                **where,
            )


def read_sheet(
    path: Path,
    spec: TableSpec,
    sheet: str = "",
    *,
    display: str | None = None,
    _opened: tuple[str, pc.CalamineWorkbook | None] | None = None,
) -> RawSheet:
    """Read one sheet (or text file) described by ``spec`` into a :class:`RawSheet`.

    Finds the header row (given or "auto"), the header bands, maps the described
    headers to contract fields (case-, space- and diacritic-insensitively), drops
    trailing empty columns and counts completely blank rows.

    Raises:
        InputFileError: Missing, empty, corrupt, encrypted file, empty sheet or a
            sheet with only a header.
        MissingColumnError: A required column is not in the header.

    Example:
        >>> import tempfile
        >>> from rehab_analytics.sources.model import TableSpec
        >>> p = Path(tempfile.mkdtemp()) / "a.csv"
        >>> _ = p.write_text("Personnummer;Start\\n;\\n640823-3234;2017-01-02\\n")
        >>> spec = TableSpec("participants", ("a.csv",),
        ...                  {"personnummer": "PERSONNUMMER", "start_date": "start"})
        >>> raw = read_sheet(p, spec)
        >>> raw.columns, raw.data.index.tolist(), raw.blank_rows
        ({'personnummer': 'Personnummer', 'start_date': 'Start'}, [3], 1)
    """
    path = Path(path)
    name = display or str(path)
    columns, blanks, merges, notes = _grid(
        path,
        sheet,
        encoding=spec.encoding,
        delimiter=spec.delimiter,
        display=name,
        _opened=_opened,
    )
    where = {"file": name, "sheet": sheet or None}
    # Trailing empty columns carry no data (Excel's used range often overshoots).
    nonempty_cols = [j for j, b in enumerate(blanks) if not b.all()]
    if not nonempty_cols:
        raise InputFileError(
            "the sheet is empty. Expected a header row and data rows; check that the "
            "right sheet was selected.",
            **where,
        )
    columns = columns[: nonempty_cols[-1] + 1]
    blanks = blanks[: nonempty_cols[-1] + 1]
    nrows = len(columns[0])
    expected = _expected_headers(spec)
    if spec.header_row == "auto":
        header_index = _find_header(columns, set(expected), nrows)
        if header_index is None:
            first = next(
                r for r in range(nrows) if any(c[r] is not None for c in columns)
            )
            found = [_cell_text(c[first]) for c in columns if c[first] is not None]
            raise MissingColumnError(
                f"no header row found in the first {_AUTO_SCAN_ROWS} rows. Expected a "
                f"row with the headers {sorted(set(spec.columns) - {'count_by_sex'})} "
                f"as described; found in row {first + 1}: {found}. Set header_row in "
                "the source description or rename the columns.",
                **where,
            )
    else:
        header_index = int(spec.header_row) - 1
        if header_index >= nrows:
            raise InputFileError(
                f"has {nrows} rows but the header is expected in row {spec.header_row}. "
                "Check header_row in the source description.",
                **where,
            )
    headers = [_cell_text(c[header_index]) for c in columns]
    names = _unique_names(headers)
    bands = (
        _band_labels(columns, spec.band_row - 1, merges)
        if spec.band_row is not None
        else [""] * len(columns)
    )

    body = [c[header_index + 1 :] for c in columns]
    nonblank = np.zeros(nrows - header_index - 1, dtype=bool)
    for b in blanks:
        nonblank |= ~b[header_index + 1 :]
    row_numbers = np.arange(header_index + 2, nrows + 1)[nonblank]
    blank_rows = int((~nonblank).sum())
    # Blank rows after the last data row are not part of the table.
    if nonblank.any():
        last = np.flatnonzero(nonblank)[-1]
        blank_rows = int((~nonblank[: last + 1]).sum())
    else:
        raise InputFileError(
            f"has a header (row {header_index + 1}) but no data rows below it. "
            "Expected at least one participant row; if the delivery really has no "
            "rows, remove the file from the raw folder.",
            **where,
        )
    data = pd.DataFrame(
        {n: c[nonblank] for n, c in zip(names, body, strict=True)},
        index=pd.Index(row_numbers, name="source_row"),
        dtype=object,
    )

    norm_names: dict[str, str] = {}
    for h, n in zip(headers, names, strict=True):
        if h:
            norm_names.setdefault(normalise_label(h), n)
    _check_unique_headers(headers, spec, header_index + 1, where)
    mapped: dict[str, str] = {}
    missing = []
    for fld, header in spec.columns.items():
        if isinstance(header, str):
            found_name = norm_names.get(normalise_label(header))
            if found_name is None:
                missing.append((fld, header))
            else:
                mapped[fld] = found_name
        elif isinstance(header, dict):
            for sex, h in header.items():
                found_name = norm_names.get(normalise_label(h))
                if found_name is None:
                    missing.append((f"{fld}.{sex}", h))
                else:
                    mapped[f"{fld}.{sex}"] = found_name
    band_columns: dict[str, list[str]] = {}
    taken = set(mapped.values())
    for fld, header in spec.columns.items():
        if isinstance(header, Band):
            want = normalise_label(header.band)
            cols = [
                n
                for n, b, h in zip(names, bands, headers, strict=True)
                if h and normalise_label(b) == want and n not in taken
            ]
            if not cols:
                missing.append((fld, f"band '{header.band}'"))
            band_columns[fld] = cols
    required_missing = [
        (f, h)
        for f, h in missing
        if f.split(".")[0] in spec.required or f.startswith("count_by_sex")
    ]
    if required_missing:
        shown = [h for h in headers if h]
        raise MissingColumnError(
            f"missing column(s) {', '.join(repr(h) for _, h in required_missing)} "
            f"(for {', '.join(f for f, _ in required_missing)}). Found columns in row "
            f"{header_index + 1}: {shown}. Rename the column in the file or change "
            "'columns' (or header_row) in the source description.",
            **where,
        )
    notes = notes + tuple(
        f"{name}{f' sheet {sheet!r}' if sheet else ''}: optional column {h!r} "
        f"(for {f}) not found; the field is left empty."
        for f, h in missing
    )
    return RawSheet(
        data=data,
        file=name,
        sheet=sheet,
        header_row=header_index + 1,
        bands=tuple(bands),
        columns=mapped,
        band_columns=band_columns,
        headers=dict(zip(names, headers, strict=True)),
        blank_rows=blank_rows,
        notes=notes,
    )


def read_table_file(
    path: Path, spec: TableSpec, *, display: str | None = None
) -> list[RawSheet]:
    """Read every selected sheet of one file (text files: the one table).

    Example:
        >>> import tempfile
        >>> from rehab_analytics.sources.model import TableSpec
        >>> p = Path(tempfile.mkdtemp()) / "a.csv"
        >>> _ = p.write_text("År;Delprojekt\\n2017;Dino\\n")
        >>> spec = TableSpec("subprojects", ("a.csv",), {"year": "År", "subproject": "Delprojekt"})
        >>> [len(s.data) for s in read_table_file(p, spec)]
        [1]
    """
    path = Path(path)
    name = display or str(path)
    real = sniff_format(path, display=name)
    if real == "csv":
        return [read_sheet(path, spec, "", display=name, _opened=(real, None))]
    # One open per file: opening parses the shared strings and styles.
    wb = _open_workbook(path, name)
    try:
        return [
            read_sheet(path, spec, sheet, display=name, _opened=(real, wb))
            for sheet in _select(wb, spec.sheets, name)
        ]
    finally:
        wb.close()
