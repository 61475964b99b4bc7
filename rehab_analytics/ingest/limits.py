"""Reading limits checked before a file is read: sizes, zip parts, sheet grids, cell lengths.

A crafted file can make a reader allocate far more than the file's size: one cell
at XFD1048576 makes calamine allocate the whole 17-billion-cell grid (the process
aborts), a zip part inflates a thousandfold, one shared string of 200 MB takes
2 GB. The checks read the zip directory and scan the bytes of the parts a sheet
needs (:mod:`~rehab_analytics.ingest.extent`), never parse them into cells. The
limits and their environment variables are :class:`rehab_analytics.config.Limits`.
"""

from __future__ import annotations

import html
import posixpath
import re
import struct
import zipfile
import zlib
from pathlib import Path

from rehab_analytics.config import LIMIT_ENV, Limits
from rehab_analytics.errors import InputFileError, LimitError
from rehab_analytics.ingest.extent import sheet_extent
from rehab_analytics.sources import quote

# What zipfile raises on a damaged or hostile container: a bad directory, a
# truncated or corrupt deflate stream, an unsupported zip version or method.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    zlib.error,
)

__all__ = [
    "ZIP_ERRORS",
    "limit_error",
    "check_file_size",
    "check_zip_directory",
    "check_zip_parts",
    "check_shared_strings",
    "check_sheet",
    "check_text",
]

_MIB = 2**20
# Parts smaller than this are not held to the compression ratio (tiny XML parts
# compress very well and cannot hurt).
_RATIO_MIN_BYTES = _MIB
# A character takes at most this many bytes in XML ("&#x10FFFF;"), so a run of
# more bytes than this times the character limit without markup is a cell over
# the limit.
_MAX_BYTES_PER_CHAR = 10
_CHUNK = 4 * _MIB


def limit_error(
    lim: Limits,
    key: str,
    what: str,
    found: int,
    *,
    file: str,
    sheet: str | None = None,
    row: int | None = None,
    column: str | None = None,
) -> LimitError:
    """Return the error for a file past limit ``key``: what, found, limit, setting.

    Example:
        >>> from rehab_analytics.config import limits
        >>> error = limit_error(limits(), "sheet_columns", "the number of columns",
        ...                     16384, file="a.xlsx")
        >>> print(error.message.split(". ")[0])
        too big to read safely: the number of columns is 16,384; the limit is 1,000 (RA_MAX_SHEET_COLUMNS)
    """
    var, limit = LIMIT_ENV[key], getattr(lim, key)
    return LimitError(
        f"too big to read safely: {what} is {found:,}; the limit is {limit:,} ({var}). "
        "The file was not read (the other files were). Expected a smaller file: "
        "remove unused rows, columns or cells, or split the file; if the file is "
        f"genuine, raise the limit by setting the environment variable {var}.",
        file=file,
        sheet=sheet or None,
        row=row,
        column=column,
    )


def check_file_size(path: Path, name: str, lim: Limits) -> int:
    """Return the file's size; refuse a file over ``lim.file_bytes``.

    Example:
        >>> import tempfile
        >>> from rehab_analytics.config import limits
        >>> p = Path(tempfile.mkdtemp()) / "a.csv"
        >>> _ = p.write_text("A;B\\n")
        >>> check_file_size(p, "a.csv", limits())
        4
    """
    size = Path(path).stat().st_size
    if size > lim.file_bytes:
        raise limit_error(
            lim, "file_bytes", "the file's size in bytes", size, file=name
        )
    return size


def check_zip_directory(path: Path, size: int, name: str, lim: Limits) -> None:
    """Refuse a zip whose directory lists more than ``lim.zip_parts`` parts.

    Read from the end record before :mod:`zipfile` builds an object per part.

    Example:
        >>> import io, tempfile
        >>> from rehab_analytics.config import limits
        >>> p = Path(tempfile.mkdtemp()) / "a.zip"
        >>> with zipfile.ZipFile(p, "w") as z:
        ...     z.writestr("a.xml", "<a/>")
        >>> check_zip_directory(p, p.stat().st_size, "a.zip", limits(zip_parts=1))
    """
    with Path(path).open("rb") as handle:
        handle.seek(max(0, size - (22 + 65535)))
        tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return  # not a complete zip: zipfile says so
    entries, directory_bytes = struct.unpack("<HI", tail[at + 10 : at + 16])
    # zipfile reads as many entries as the directory's bytes hold, whatever the
    # count says, so the directory's size counts too (a real part's entry takes well
    # under 512 bytes); 0xFFFF means a zip64 count, far over.
    parts = max(entries, directory_bytes // 512)
    if entries == 0xFFFF or parts > lim.zip_parts:
        raise limit_error(
            lim,
            "zip_parts",
            f"the number of parts in the zip container (its directory lists {entries:,} "
            f"in {directory_bytes:,} bytes)",
            parts,
            file=name,
        )


def check_zip_parts(archive: zipfile.ZipFile, name: str, lim: Limits) -> None:
    """Refuse a container with too many parts, a part too big or too compressed.

    Example:
        >>> import io
        >>> from rehab_analytics.config import limits
        >>> buf = io.BytesIO()
        >>> with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        ...     z.writestr("x.xml", "a" * 2**21)
        >>> check_zip_parts(zipfile.ZipFile(buf), "b.xlsx", limits())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        rehab_analytics.errors.LimitError: b.xlsx: too big to read safely: the compression ratio ...
    """
    infos = archive.infolist()
    if len(infos) > lim.zip_parts:
        raise limit_error(
            lim,
            "zip_parts",
            "the number of parts in the zip container",
            len(infos),
            file=name,
        )
    for info in infos:
        if info.file_size > lim.part_bytes:
            raise limit_error(
                lim,
                "part_bytes",
                f"the unpacked size in bytes of part {_part_name(info.filename)}",
                info.file_size,
                file=name,
            )
        if info.file_size >= _RATIO_MIN_BYTES:
            ratio = info.file_size // max(info.compress_size, 1)
            if ratio > lim.zip_ratio:
                raise limit_error(
                    lim,
                    "zip_ratio",
                    f"the compression ratio of part {_part_name(info.filename)}",
                    ratio,
                    file=name,
                )


def _part_name(part: str) -> str:
    return quote(part, 80)


def _read_part(archive: zipfile.ZipFile, part: str, name: str) -> bytes:
    """Return a part's bytes; zipfile stops at the listed size and checks the CRC."""
    try:
        return archive.read(part)
    except ZIP_ERRORS as exc:
        raise InputFileError(
            f"part {_part_name(part)} of the workbook is damaged ({type(exc).__name__}). "
            "Expected a complete workbook; open it in Excel or LibreOffice, save a new "
            "copy and deliver that.",
            file=name,
        ) from None


def _check_runs(
    data: bytes, carry: int, name: str, lim: Limits, sheet: str | None
) -> int:
    """Refuse text longer than the cell limit (a run of bytes without markup).

    ``carry`` is the run at the end of the previous chunk; returns the run at the
    end of ``data``. Looks at one byte range per block, so it costs next to nothing.
    """
    longest = lim.cell_chars * _MAX_BYTES_PER_CHAR
    first = data.find(b"<")
    if first < 0:
        carry += len(data)
        if carry > longest:
            raise _long_text(lim, carry, name, sheet)
        return carry
    if carry + first > longest:
        raise _long_text(lim, carry + first, name, sheet)
    last = data.rfind(b"<")
    # A run longer than `longest` covers a whole block of half its length.
    block = max(longest // 2, 1)
    for start in range(first, last, block):
        if data.find(b"<", start, start + block) < 0:
            begin = data.rfind(b"<", 0, start)
            end = data.find(b"<", start + block)
            if end - begin - 1 > longest:
                raise _long_text(lim, end - begin - 1, name, sheet)
    return len(data) - last - 1


def _long_text(lim: Limits, run: int, name: str, sheet: str | None) -> LimitError:
    return limit_error(
        lim,
        "cell_chars",
        f"the length in characters of a text in the workbook (at least; found {run:,} "
        "bytes without markup)",
        run // _MAX_BYTES_PER_CHAR,
        file=name,
        sheet=sheet,
    )


def _xlsx_targets(archive: zipfile.ZipFile) -> tuple[dict[str, str], list[str]]:
    """Return sheet name → worksheet part, and the shared-strings parts (best effort)."""
    names = set(archive.namelist())
    try:
        book = archive.read("xl/workbook.xml") if "xl/workbook.xml" in names else b""
        rels = (
            archive.read("xl/_rels/workbook.xml.rels")
            if "xl/_rels/workbook.xml.rels" in names
            else b""
        )
    except ZIP_ERRORS:
        return {}, []
    targets: dict[str, str] = {}
    shared = []
    for tag in re.findall(rb"<(?:[\w.-]+:)?Relationship\b[^>]*>", rels):
        attrs = _attrs(tag)
        target = attrs.get("Target", "")
        part = target[1:] if target.startswith("/") else posixpath.join("xl", target)
        part = posixpath.normpath(part)
        targets[attrs.get("Id", "")] = part
        if attrs.get("Type", "").endswith("/sharedStrings"):
            shared.append(part)
    sheets = {}
    for tag in re.findall(rb"<(?:[\w.-]+:)?sheet\s[^>]*>", book):
        attrs = _attrs(tag)
        rid = next((v for k, v in attrs.items() if k.endswith(":id")), "")
        if "name" in attrs and rid in targets:
            sheets[attrs["name"]] = targets[rid]
    shared += [n for n in names if n.lower().endswith("sharedstrings.xml")]
    return sheets, sorted(set(shared))


def _attrs(tag: bytes) -> dict[str, str]:
    found = re.findall(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""", tag)
    return {
        k.decode("utf-8", "replace"): html.unescape((a or b).decode("utf-8", "replace"))
        for k, a, b in found
    }


def check_shared_strings(path: Path, name: str, lim: Limits) -> None:
    """Refuse an xlsx whose shared strings hold a text over ``lim.cell_chars``.

    The part is streamed (its listed size and CRC are checked on the way), never
    held whole. Files that are not zip containers are left alone.
    """
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS:
        return
    with archive:
        names = set(archive.namelist())
        _, shared = _xlsx_targets(archive)
        for part in (p for p in shared if p in names):
            carry = 0
            try:
                with archive.open(part) as stream:
                    while chunk := stream.read(_CHUNK):
                        carry = _check_runs(chunk, carry, name, lim, None)
            except ZIP_ERRORS as exc:
                raise InputFileError(
                    f"part {_part_name(part)} of the workbook is damaged "
                    f"({type(exc).__name__}). Expected a complete workbook; save a new "
                    "copy and deliver that.",
                    file=name,
                ) from None


def _check_grid(
    rows: int, cols: int, lim: Limits, name: str, sheet: str | None
) -> None:
    if cols > lim.sheet_columns:
        raise limit_error(
            lim,
            "sheet_columns",
            "the number of columns (to the last filled cell)",
            cols,
            file=name,
            sheet=sheet,
        )
    if rows * cols > lim.sheet_cells:
        raise limit_error(
            lim,
            "sheet_cells",
            f"the number of cells ({rows:,} rows × {cols:,} columns, to the last "
            "filled cell)",
            rows * cols,
            file=name,
            sheet=sheet,
        )


def check_sheet(path: Path, fmt: str, sheet: str, name: str, lim: Limits) -> None:
    """Refuse a workbook sheet whose grid or texts are over the limits, before calamine
    allocates it. An .xls (OLE) file is bounded by its file size alone.
    """
    if fmt not in ("xlsx", "ods"):
        return
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS:
        return  # calamine reports the damage
    with archive:
        names = archive.namelist()
        if fmt == "ods":
            parts = ["content.xml"] if "content.xml" in names else []
        else:
            part = _xlsx_targets(archive)[0].get(sheet)
            # An unknown layout: every XML part that may hold a sheet is checked.
            parts = [part] if part in names else _xml_parts(names)
            if parts and not parts[0].lower().endswith(".xml"):
                raise InputFileError(
                    "the sheet is stored in binary form (an .xlsb workbook), which is "
                    "not read. Expected xlsx, xls, ods or csv; save the workbook as xlsx.",
                    file=name,
                    sheet=sheet,
                )

        def over(rows: int, cols: int) -> bool:
            return cols > lim.sheet_columns or rows * cols > lim.sheet_cells

        for part in parts:
            data = _read_part(archive, part, name)
            _check_runs(data, 0, name, lim, sheet)
            found, rows, cols = sheet_extent(data, fmt, sheet, over)
            _check_grid(rows, cols, lim, name, found)


def _xml_parts(names: list[str]) -> list[str]:
    return [
        n
        for n in names
        if n.lower().endswith(".xml") and "sharedstrings" not in n.lower()
    ]


def check_text(lines: list[str], delimiter: str, name: str, lim: Limits) -> int:
    """Return the width of a delimited text; refuse one over the limits before parsing.

    Example:
        >>> from rehab_analytics.config import limits
        >>> check_text(["A;B", "1;2;3"], ";", "a.csv", limits())
        3
    """
    width = max(line.count(delimiter) for line in lines) + 1
    _check_grid(len(lines), width, lim, name, None)
    longest = max(map(len, lines))
    if longest > lim.cell_chars * width:
        row = next(i for i, line in enumerate(lines, 1) if len(line) == longest)
        raise limit_error(
            lim,
            "cell_chars",
            f"the length in characters of the longest field (at least; line {row} has "
            f"{longest:,} characters in {width} column(s))",
            -(-longest // width),
            file=name,
            row=row,
        )
    return width
