"""Writing the clean's outputs: atomically, and with text no spreadsheet runs as a formula.

Every output is written to a temporary file and all are renamed together at the
end (:class:`~rehab_analytics.atomic.StagedFiles`), so a crash leaves the previous
outputs whole. :data:`FORMULA_START` (from :mod:`rehab_analytics.escape`, the one
home of the rule) is the text a spreadsheet program would run: the rejects CSV
prefixes it with "'" (:func:`~rehab_analytics.escape.formula_safe`), the feedback
workbooks give it Excel's quote prefix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from rehab_analytics.atomic import StagedFiles, remove_stale_temp, write_atomic
from rehab_analytics.escape import FORMULA_START, formula_safe, neutralise
from rehab_analytics.processed import OUTPUT_FILES, PREVIOUS_REPORT, TABLES

__all__ = ["FORMULA_START", "neutralise", "write_atomic", "write_outputs"]


def _csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with text cells that start like a formula prefixed by "'"."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col]):
            text = out[col].astype("string")
            out[col] = text.map(formula_safe, na_action="ignore").astype("string")
    return out


def write_outputs(
    out: Path,
    frames: dict[str, pd.DataFrame],
    report: Callable[[], dict],
    also: Callable[[], StagedFiles] | None = None,
    organisations: list[dict] | None = None,
) -> dict[str, Path]:
    """Write the tables, the rejects as CSV, the report (and ``also``'s files) as one set.

    Every file is first written to a temporary name; only when all are written are
    they renamed over the previous outputs (the report last), so a crash, kill or
    error before that leaves the previous run's outputs whole. Leftovers of a
    killed run are removed first. The report is what ``report()`` returns, called
    after the tables: it may still be waiting for the validation.

    Args:
        out: The output folder.
        frames: Table kind (``processed.TABLES`` and ``"rejects"``) → table.
        report: Returns the cleaning report.
        also: Returns more staged files to rename with these (the feedback
            workbooks, written meanwhile by a forked process); called after the
            report is written.
        organisations: The registry the data was cleaned with, as
            :func:`~rehab_analytics.processed.registry_records` gives it
            (``organisations.json``; the reports name organisations from it).

    Returns:
        Output name (as in ``processed.OUTPUT_FILES``, plus ``previous_report``
        when an earlier report was kept) → file written.
    """
    writers: dict[str, Callable[[Path], object]] = {}
    for kind in (*TABLES, "rejects"):
        df = frames[kind]
        writers[kind] = lambda t, df=df: df.to_parquet(t, index=False)
    rejects = _csv_safe(frames["rejects"])
    writers["rejects_csv"] = lambda t: rejects.to_csv(
        t, sep=";", index=False, encoding="utf-8-sig", lineterminator="\n"
    )
    if organisations is not None:
        text = json.dumps(organisations, ensure_ascii=False, indent=2) + "\n"
        writers["organisations"] = lambda t: t.write_text(text, encoding="utf-8")
    current = out / OUTPUT_FILES["report"]
    if current.is_file():
        old = current.read_bytes()
        writers["previous_report"] = lambda t: t.write_bytes(old)

    def write_report(tmp: Path) -> None:
        text = json.dumps(report(), ensure_ascii=False, indent=2, default=str) + "\n"
        tmp.write_text(text, encoding="utf-8")

    names = {**OUTPUT_FILES, "previous_report": PREVIOUS_REPORT}
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temp(out, names.values())
    with StagedFiles() as staged, StagedFiles() as last:
        for kind, write in writers.items():
            staged.write(out / names[kind], write)
        last.write(out / names["report"], write_report)
        if also is not None:
            staged.merge(also())
        staged.merge(last)  # the report is renamed last
        staged.commit()
    return {kind: out / names[kind] for kind in (*writers, "report")}
