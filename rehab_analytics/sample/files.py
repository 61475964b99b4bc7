"""Writers for the sample's raw tables: xlsx (xlsxwriter), ods (plain XML) and CSV."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

from rehab_analytics.sample.layouts import RawTable


def _cells(data: pd.DataFrame) -> list[list[object]]:
    """Return the rows as lists of Python values, None for empty cells."""
    return data.astype(object).where(data.notna(), None).to_numpy(dtype=object).tolist()


def _write_xlsx(path: Path, sheets: list[RawTable]) -> None:
    """Write sheets with XlsxWriter (constant-memory rows when the file is large)."""
    import xlsxwriter

    large = sum(len(t.data) for t in sheets) > 20_000
    options = {
        "constant_memory": large,
        "default_date_format": "yyyy-mm-dd",
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    with xlsxwriter.Workbook(path, options) as book:
        bold = book.add_format({"bold": True, "align": "center"})
        for t in sheets:
            sheet = book.add_worksheet(t.sheet)
            for r, row in enumerate(t.above):
                sheet.write_row(r, 0, row)
                for r1, c1, r2, c2, text in (m for m in t.merges if m[0] == r):
                    sheet.merge_range(r1, c1, r2, c2, text, bold)
            if t.header:
                sheet.write_row(len(t.above), 0, t.header, bold)
            first = len(t.above) + 1
            for r, row in enumerate(_cells(t.data), start=first):
                sheet.write_row(r, 0, row)
            if t.hidden:
                sheet.hide()


def _ods_cell(value: object) -> str:
    if value is None:
        return "<table:table-cell/>"
    if hasattr(value, "strftime"):
        day = value.strftime("%Y-%m-%d")
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{day}">'
            f"<text:p>{day}</text:p></table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}'
        "</text:p></table:table-cell>"
    )


_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"'
)
_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest='
    '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _write_ods(path: Path, sheets: list[RawTable]) -> None:
    """Write a minimal OpenDocument spreadsheet directly (odfpy is too slow at 10^5 rows)."""
    parts = []
    for t in sheets:
        rows = [*t.above, t.header, *_cells(t.data)]
        body = "".join(
            "<table:table-row>"
            + ("".join(map(_ods_cell, row)) or "<table:table-cell/>")
            + "</table:table-row>"
            for row in rows
        )
        parts.append(
            f'<table:table table:name="{escape(t.sheet)}">{body}</table:table>'
        )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {_ODS_NS}>'
        f"<office:body><office:spreadsheet>{''.join(parts)}</office:spreadsheet>"
        "</office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        # The mimetype entry must come first and be stored uncompressed.
        z.writestr(
            "mimetype",
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        z.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
        z.writestr("content.xml", content)


def _write_file(path: Path, sheets: list[RawTable]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        t = sheets[0]
        # Excel's Swedish CSV export: ";" and CRLF line ends.
        t.data.to_csv(
            path,
            sep=";",
            header=t.header,
            index=False,
            encoding=t.encoding,
            lineterminator="\r\n",
        )
    elif path.suffix == ".ods":
        _write_ods(path, sheets)
    else:
        _write_xlsx(path, sheets)
