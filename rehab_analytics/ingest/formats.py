"""What a delivered file is and which sheets to read: format sniffing, opening, decoding.

The format comes from the content, not the name: an .xls saved as .xlsx or an
xlsx saved as .csv is still read, and encrypted or damaged workbooks are refused
with a message saying what to do.
"""

from __future__ import annotations

import fnmatch
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import python_calamine as pc

from rehab_analytics.config import limits
from rehab_analytics.errors import InputFileError
from rehab_analytics.escape import excerpt
from rehab_analytics.ingest.limits import (
    ZIP_ERRORS,
    check_file_size,
    check_shared_strings,
    check_sheet,
    check_zip_directory,
    check_zip_parts,
)
from rehab_analytics.sources import quote

__all__ = ["WORKBOOK_SUFFIXES", "sniff_format", "select_sheets", "quoted"]

WORKBOOK_SUFFIXES = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".ods": "ods"}
_TEXT_SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_ZIP_MAGIC = b"PK\x03\x04"


def _suffix_format(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return WORKBOOK_SUFFIXES.get(suffix) or _TEXT_SUFFIXES.get(suffix)


def sniff_format(path: Path, *, display: str | None = None) -> str:
    """Return the file's real format from its content: 'xlsx', 'ods', 'xls' or 'csv'.

    Raises:
        InputFileError: For a missing, empty, password-protected or unreadable file.
        LimitError: For a file, or a part or the directory of a zip container, over
            the reading limits (:class:`~rehab_analytics.config.Limits`).

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
    lim = limits()
    size = check_file_size(path, name, lim)
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
        check_zip_directory(path, size, name, lim)
        try:
            with zipfile.ZipFile(path) as archive:
                check_zip_parts(archive, name, lim)
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
        except ZIP_ERRORS:
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
    exc: BaseException, name: str, sheet: str | None = None
) -> InputFileError:
    if isinstance(exc, pc.PasswordError):
        return InputFileError(
            "password-protected: save an unprotected copy and deliver that.",
            file=name,
            sheet=sheet,
        )
    return InputFileError(
        f"the workbook could not be read; it is corrupt or truncated "
        f"({excerpt(exc)}). Expected a "
        "complete workbook; open it in Excel or LibreOffice, save a new copy and "
        "deliver that.",
        file=name,
        sheet=sheet,
    )


def _open_workbook(path: Path, name: str) -> pc.CalamineWorkbook:
    try:
        real = sniff_format(path, display=name)
        if real == "xlsx":
            # Opening reads every shared string: check them first.
            check_shared_strings(path, name, limits())
        elif real == "ods":
            # Opening reads every sheet of an ODS: check all of them first.
            check_sheet(path, real, "", name, limits())
        if WORKBOOK_SUFFIXES.get(path.suffix.lower()) != real:
            # from_path picks the reader by extension; a renamed workbook (an
            # .xls saved as .xlsx, an xlsx saved as .csv) is read by content.
            data = io.BytesIO(path.read_bytes())
            return pc.CalamineWorkbook.from_filelike(data)
        return pc.CalamineWorkbook.from_path(str(path))
    except InputFileError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine raises unrelated types, and Rust panics
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
        found = quoted(visible) or "none"
        shown = ", ".join(excerpt(s, 60) for s in hidden[:10])
        extra = f" (hidden: {shown})" if hidden else ""
        raise InputFileError(
            f"no sheet matches {list(patterns)}. Found visible sheets: {found}{extra}. "
            "Rename the sheet or update 'sheets' in the source description.",
            file=name,
        )
    return chosen


def quoted(texts: Sequence[object], most: int = 10, width: int = 60) -> str:
    """Return up to ``most`` texts from a file, each excerpted, for a message.

    Example:
        >>> print(quoted(["Kön", "a\\x00b", "x" * 99], most=2, width=5))
        'Kön', 'a\\x00b' and 1 more
    """
    shown = ", ".join(quote(t, width) for t in list(texts)[:most])
    more = len(texts) - most
    return f"{shown} and {more} more" if more > 0 else shown


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
