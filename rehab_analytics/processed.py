"""The processed folder: what the clean writes there and :func:`load`, which reads it back.

This is the one bridge from the raw side (``clean``) to the analysis side: analysis
modules know the processed tables only through this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rehab_analytics.config import settings
from rehab_analytics.errors import InputFileError, RehabAnalyticsError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["OUTPUT_FILES", "PREVIOUS_REPORT", "TABLES", "Tables", "load"]

OUTPUT_FILES = {
    "participants": "participants.parquet",
    "subprojects": "subprojects.parquet",
    "anonymous_counts": "anonymous_counts.parquet",
    "rejects": "rejects.parquet",
    "rejects_csv": "rejects.csv",
    "report": "cleaning_report.json",
}
# The report of the clean before this one, kept so the data-quality report can show
# what changed since the previous delivery (written only from the second clean on).
PREVIOUS_REPORT = "cleaning_report.previous.json"
# The clean tables (without the rejects, which every table list adds at the end).
TABLES = ("participants", "subprojects", "anonymous_counts")
_TABLES = TABLES


@dataclass
class Tables:
    """The processed tables with contract dtypes.

    Attributes:
        participants, subprojects, anonymous_counts, rejects: The tables.
        report: The cleaning report (dict).
        lang: Language for :meth:`labels` ("sv" or "en").
    """

    participants: pd.DataFrame
    subprojects: pd.DataFrame
    anonymous_counts: pd.DataFrame
    rejects: pd.DataFrame
    report: dict
    lang: str = "sv"

    def labels(self, column: str) -> dict[str, str]:
        """Return code → label for a coded column in :attr:`lang` (from the catalogue)."""
        from rehab_analytics.catalogue import labels

        return labels(column, self.lang)


def load(processed_dir: str | Path | None = None, *, lang: str = "sv") -> Tables:
    """Load the processed tables written by :func:`run_clean`.

    Args:
        processed_dir: The folder (default: ``RA_PROCESSED_DIR`` or ``data/processed``).
        lang: Language for :meth:`Tables.labels`.

    Raises:
        InputFileError: If the folder or a table is missing (run ``clean`` first).

    Example:
        >>> load("/no/such/folder")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        rehab_analytics.errors.InputFileError: ...
    """
    import pandas as pd

    folder = settings(processed_dir=processed_dir).processed_dir
    if lang not in ("sv", "en"):
        raise RehabAnalyticsError(f"lang is {lang!r}; expected 'sv' or 'en'.")
    frames = {}
    for kind in (*_TABLES, "rejects"):
        path = folder / OUTPUT_FILES[kind]
        if not path.is_file():
            raise InputFileError(
                "the processed table is missing. Expected the output of `rehab-analytics "
                "clean`; run it first (or point RA_PROCESSED_DIR at its output).",
                file=str(path),
            )
        frames[kind] = pd.read_parquet(path)
    report_path = folder / OUTPUT_FILES["report"]
    report = (
        json.loads(report_path.read_text(encoding="utf-8"))
        if report_path.is_file()
        else {}
    )
    return Tables(
        participants=frames["participants"],
        subprojects=frames["subprojects"],
        anonymous_counts=frames["anonymous_counts"],
        rejects=frames["rejects"],
        report=report,
        lang=lang,
    )
