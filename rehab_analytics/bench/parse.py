"""The plain contenders: the files the clean reads (the parse plan), read plainly and naively."""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ParseItem", "parse_plan", "plain_parse", "naive_parse"]


@dataclass(frozen=True)
class ParseItem:
    """One file (and for workbooks, its sheets) the clean reads."""

    path: str
    format: str
    sheets: tuple[str, ...] = ()
    encoding: str = "utf-8"
    delimiter: str = ";"
    header_row: int = 1
    width: int = 0


def _csv_layout(path: Path, encodings: Sequence[str], header_row: int, delimiter: str):
    data = path.read_bytes()
    chosen = "utf-8"
    for enc in (
        ("utf-8-sig", *encodings) if data.startswith(b"\xef\xbb\xbf") else encodings
    ):
        try:
            text = data.decode(enc)
            chosen = enc
            break
        except (UnicodeDecodeError, LookupError):
            continue
    else:
        text = data.decode("utf-8", "replace")
    lines = text.splitlines()
    header = lines[header_row - 1] if len(lines) >= header_row else ""
    width = len(next(csv.reader([header], delimiter=delimiter), [])) or 1
    # pyarrow wants a codec name it can pass to Python; utf-8-sig keeps the BOM out.
    return chosen, width


def parse_plan(raw_dir: Path) -> list[ParseItem]:
    """Return the files and sheets the source descriptions make the clean read.

    Uses the public readers to find sheets and header rows (setup, not timed).
    """
    from rehab_analytics.clean.run import find_files
    from rehab_analytics.ingest import read_sheet, select_sheets, sniff_format
    from rehab_analytics.sources import load_sources

    raw_dir = Path(raw_dir)
    items: dict[str, ParseItem] = {}
    for source in load_sources(raw_dir):
        for spec in source.tables:
            for path, _ in find_files(raw_dir, spec):
                fmt = sniff_format(path)
                key = str(path)
                if fmt == "csv":
                    header = spec.header_row
                    if header == "auto":
                        header = read_sheet(path, spec).header_row
                    encoding, width = _csv_layout(
                        path, spec.encoding, int(header), spec.delimiter
                    )
                    items[key] = ParseItem(
                        key, fmt, (), encoding, spec.delimiter, int(header), width
                    )
                else:
                    sheets = tuple(select_sheets(path, spec.sheets))
                    old = items.get(key)
                    if old is not None:
                        sheets = tuple(dict.fromkeys(old.sheets + sheets))
                    items[key] = ParseItem(key, fmt, sheets)
    return list(items.values())


def plain_parse(plan: Sequence[ParseItem]) -> int:
    """Read every planned sheet/file the fastest plain way; return cells read.

    Workbooks: ``CalamineWorkbook.from_path(...).get_sheet_by_name(...).to_python()``;
    text files: ``pyarrow.csv.read_csv`` with the file's delimiter and encoding, the
    header line as the first row, every column as text.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from python_calamine import CalamineWorkbook

    cells = 0
    for item in plan:
        if item.format == "csv":
            names = [f"c{i}" for i in range(item.width)]
            table = pacsv.read_csv(
                item.path,
                read_options=pacsv.ReadOptions(
                    encoding=item.encoding,
                    skip_rows=item.header_row - 1,
                    column_names=names,
                    block_size=1 << 24,
                ),
                parse_options=pacsv.ParseOptions(delimiter=item.delimiter),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                ),
            )
            cells += table.num_rows * table.num_columns
        else:
            wb = CalamineWorkbook.from_path(item.path)
            try:
                for sheet in item.sheets:
                    rows = wb.get_sheet_by_name(sheet).to_python()
                    cells += len(rows) * (len(rows[0]) if rows else 0)
            finally:
                wb.close()
    return cells


def naive_parse(
    plan: Sequence[ParseItem], by_format: dict[str, list[float]] | None = None
) -> int:
    """Read every planned sheet/file with plain pandas defaults; return cells read.

    ``pandas.read_excel`` with its default engine for the format (openpyxl for
    xlsx/xlsm, odfpy for ods: openpyxl cannot read ods) and ``pandas.read_csv``
    (C engine) with the file's separator and encoding, skipping lines above the
    header. ``by_format`` collects the seconds spent per format in this run.
    """
    import pandas as pd

    cells = 0
    spent: dict[str, float] = {}
    for item in plan:
        started = time.perf_counter()
        if item.format == "csv":
            frame = pd.read_csv(
                item.path,
                sep=item.delimiter,
                encoding=item.encoding,
                skiprows=item.header_row - 1,
            )
            cells += frame.size
        else:
            engine = "odf" if item.format == "ods" else "openpyxl"
            frames = pd.read_excel(
                item.path, sheet_name=list(item.sheets), engine=engine
            )
            cells += sum(f.size for f in frames.values())
        spent[item.format] = spent.get(item.format, 0.0) + time.perf_counter() - started
    if by_format is not None:
        for fmt, seconds in spent.items():
            by_format.setdefault(fmt, []).append(seconds)
    return cells


def _parse_main(plan_file: str) -> int:
    """Entry of the fresh-process plain parse (``--parse-plan``)."""
    plan = [
        ParseItem(**{**d, "sheets": tuple(d["sheets"])})
        for d in json.loads(Path(plan_file).read_text())
    ]
    plain_parse(plan)
    # Leave without interpreter teardown: pyarrow's CSV threads can still be
    # winding down then and abort the process ("terminate called without an
    # active exception", apache/arrow#34314), which failed the bench at random.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
