"""Writing the clean's outputs: atomically, and with text no spreadsheet runs as a formula.

Every output is written to a temporary file and renamed, so a crash leaves the
previous outputs whole. :data:`FORMULA_START` is the one rule for text that a
spreadsheet program would run: the rejects CSV prefixes it with "'", the feedback
workbooks give it Excel's quote prefix.
"""

from __future__ import annotations

import glob
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from rehab_analytics.processed import OUTPUT_FILES, PREVIOUS_REPORT, TABLES

__all__ = ["FORMULA_START", "neutralise", "write_atomic", "write_outputs"]

# Leading characters that make Excel, LibreOffice or Sheets read text as a
# formula (CSV/formula injection, OWASP); tab and CR too. Values come from the
# raw files.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters a workbook cannot store, and the most text one cell holds.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MAX_CELL = 32767


def neutralise(value: object) -> object:
    """Return a cell value safe to write: text loses illegal control characters.

    Text is also cut to the 32767 characters a cell holds. Whether text would be
    *run* is decided when writing, by :data:`FORMULA_START` (quote prefix); this
    only makes the text storable. Non-text values pass through.

    Example:
        >>> neutralise("a\\x00b"), neutralise(3)
        ('ab', 3)
    """
    if not isinstance(value, str):
        return value
    return _ILLEGAL.sub("", value)[:_MAX_CELL]


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Write a file atomically: ``write`` fills a temp file in the same folder, then rename.

    A crash or Ctrl-C leaves either the old file or the new one, never half a file.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "a.txt"
        >>> write_atomic(p, lambda t: t.write_text("hej")).read_text()
        'hej'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with text cells that start like a formula prefixed by "'"."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col]):
            text = out[col].astype("string")
            risky = text.str.startswith(FORMULA_START).fillna(False).astype(bool)
            out[col] = text.mask(risky, "'" + text)
    return out


def write_outputs(
    out: Path, frames: dict[str, pd.DataFrame], report: Callable[[], dict]
) -> dict[str, Path]:
    """Write the tables, the rejects as CSV and the report, all atomically.

    The report is what ``report()`` returns, called last: it may still be waiting
    for the validation while the tables are written.

    Args:
        out: The output folder.
        frames: Table kind (``processed.TABLES`` and ``"rejects"``) → table.
        report: Returns the cleaning report.

    Returns:
        Output name (as in ``processed.OUTPUT_FILES``, plus ``previous_report``
        when an earlier report was kept) → file written.
    """
    writers: dict[str, Callable[[Path], None]] = {}
    for kind in (*TABLES, "rejects"):
        df = frames[kind]
        writers[kind] = lambda t, df=df: df.to_parquet(t, index=False)
    rejects = _csv_safe(frames["rejects"])
    writers["rejects_csv"] = lambda t: rejects.to_csv(
        t, sep=";", index=False, encoding="utf-8-sig", lineterminator="\n"
    )
    current = out / OUTPUT_FILES["report"]
    if current.is_file():
        old = current.read_bytes()
        writers["previous_report"] = lambda t: t.write_bytes(old)

    def write_report(tmp: Path) -> None:
        text = json.dumps(report(), ensure_ascii=False, indent=2, default=str) + "\n"
        tmp.write_text(text, encoding="utf-8")

    writers["report"] = write_report
    names = {**OUTPUT_FILES, "previous_report": PREVIOUS_REPORT}
    return _write_all_atomic(out, {k: (out / names[k], w) for k, w in writers.items()})


def _write_all_atomic(
    out: Path, targets: dict[str, tuple[Path, Callable[[Path], None]]]
) -> dict[str, Path]:
    """Write every file to a temp file first, then rename them all (report last).

    A crash or kill while writing (nearly all of the time) leaves the previous
    set of outputs whole; only the renames at the end are not one step. Temp
    names carry the pid, so leftovers of a killed run are removed next time.
    """
    out.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp(out, [path.name for path, _ in targets.values()])
    staged: dict[str, tuple[Path, Path]] = {}
    try:
        for kind, (path, write) in targets.items():
            prefix = f".{path.name}.{os.getpid()}."
            fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=out)
            os.close(fd)
            staged[kind] = (Path(tmp), path)
            write(Path(tmp))
        for tmp, path in staged.values():
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged.values():
            tmp.unlink(missing_ok=True)
        raise
    return {kind: path for kind, (_, path) in staged.items()}


def _remove_stale_temp(out: Path, names: list[str]) -> None:
    """Remove ``.<name>.<pid>.*.tmp`` files whose process no longer exists."""
    if os.name != "posix":  # os.kill(pid, 0) is only a liveness probe on POSIX
        return
    for name in names:
        for tmp in out.glob(f".{glob.escape(name)}.*.tmp"):
            pid = tmp.name[len(name) + 2 :].split(".")[0]
            if not pid.isdecimal():
                continue
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                tmp.unlink(missing_ok=True)
            except OSError:  # alive, owned by another user
                continue
