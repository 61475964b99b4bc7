"""One sheet (or text file) of a delivery into a frame of raw cells with original row numbers.

Nothing is interpreted here beyond finding the header: the described headers are
mapped to contract fields (case-, space- and diacritic-insensitively), header
bands are read, and cells keep their raw values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine as pc

from rehab_analytics.errors import InputFileError, MissingColumnError
from rehab_analytics.ingest.formats import _open_workbook, _select, quoted, sniff_format
from rehab_analytics.ingest.grid import _grid, band_labels, cell_text
from rehab_analytics.sources import Band, TableSpec, normalise_label

__all__ = ["RawSheet", "read_sheet", "read_table_file"]

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
        cells = [normalise_label(cell_text(c[r])) for c in columns if c[r] is not None]
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
        >>> from rehab_analytics.sources import TableSpec
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
            found = [cell_text(c[first]) for c in columns if c[first] is not None]
            raise MissingColumnError(
                f"no header row found in the first {_AUTO_SCAN_ROWS} rows. Expected a "
                f"row with the headers {sorted(set(spec.columns) - {'count_by_sex'})} "
                f"as described; found in row {first + 1}: [{quoted(found)}]. Set "
                "header_row in "
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
    headers = [cell_text(c[header_index]) for c in columns]
    names = _unique_names(headers)
    bands = (
        band_labels(columns, spec.band_row - 1, merges)
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
        shown = quoted([h for h in headers if h])
        raise MissingColumnError(
            f"missing column(s) {', '.join(repr(h) for _, h in required_missing)} "
            f"(for {', '.join(f for f, _ in required_missing)}). Found columns in row "
            f"{header_index + 1}: [{shown}]. Rename the column in the file or change "
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
        >>> from rehab_analytics.sources import TableSpec
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
