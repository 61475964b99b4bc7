"""The processed folder: what the clean writes there and :func:`load`, which reads it back.

This is the one bridge from the raw side (``clean``) to the analysis side: analysis
modules know the processed tables only through this module.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rehab_analytics.config import settings
from rehab_analytics.errors import InputFileError, RehabAnalyticsError

if TYPE_CHECKING:
    import pandas as pd

    from rehab_analytics.sources import Organisation, Registry

__all__ = [
    "OUTPUT_FILES",
    "PREVIOUS_REPORT",
    "TABLES",
    "Tables",
    "load",
    "registry_records",
    "read_registry",
]

OUTPUT_FILES = {
    "participants": "participants.parquet",
    "subprojects": "subprojects.parquet",
    "anonymous_counts": "anonymous_counts.parquet",
    "rejects": "rejects.parquet",
    "rejects_csv": "rejects.csv",
    "report": "cleaning_report.json",
    # The organisations the data was cleaned with (codes, names in sv and en,
    # colours, language, id scheme, currency), so reports use exactly these.
    "organisations": "organisations.json",
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
        registry: The organisations the data was cleaned with (None for a
            folder cleaned before the clean wrote them).
    """

    participants: pd.DataFrame
    subprojects: pd.DataFrame
    anonymous_counts: pd.DataFrame
    rejects: pd.DataFrame
    report: dict
    lang: str = "sv"
    registry: Registry | None = None

    def labels(self, column: str) -> dict[str, str]:
        """Return code → label for a coded column in :attr:`lang` (from the catalogue)."""
        from rehab_analytics.catalogue import labels

        return labels(column, self.lang, self.registry)


def registry_records(registry: Registry) -> list[dict]:
    """Return the registry as JSON-ready records, one per organisation, in order.

    Example:
        >>> from rehab_analytics.sources import Organisation, Registry
        >>> reg = Registry((Organisation("a", "Förbund A", "b", "B", currency="ZAR"),))
        >>> rec = registry_records(reg)[0]
        >>> rec["forbund"], rec["currency"], rec["language"]
        ('a', 'ZAR', 'sv')
    """
    return [dataclasses.asdict(o) for o in registry.organisations]


def _organisation(record: dict) -> Organisation:
    from rehab_analytics.sources import Organisation

    known = {f.name: f for f in dataclasses.fields(Organisation)}
    values = {k: v for k, v in record.items() if k in known}
    for key in ("forbund_aliases", "subproject_aliases", "id_normalise"):
        values[key] = tuple(values.get(key) or ())
    return Organisation(**values)


def read_registry(processed_dir: str | Path) -> Registry | None:
    """Return the registry the clean wrote into ``processed_dir`` (None if none).

    Raises:
        InputFileError: If the file is there but not readable as a registry.

    Example:
        >>> read_registry("/no/such/folder") is None
        True
    """
    path = Path(processed_dir) / OUTPUT_FILES["organisations"]
    if not path.is_file():
        return None
    from rehab_analytics.sources import Registry

    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        return Registry(tuple(_organisation(r) for r in _records(records)))
    except (ValueError, TypeError, KeyError) as exc:
        raise InputFileError(
            f"is not a registry of organisations ({type(exc).__name__}: {exc}). "
            "Re-run `rehab-analytics clean`, which writes it.",
            file=str(path),
        ) from None


def _records(records: object) -> Iterable[dict]:
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError("expected a list of organisation records")
    return records


def load(processed_dir: str | Path | None = None, *, lang: str = "sv") -> Tables:
    """Load the processed tables written by :func:`run_clean`.

    The registry of organisations the clean wrote becomes the catalogue's
    registry (:func:`rehab_analytics.catalogue.use_registry`): every label,
    title and table of the report names the organisations as the descriptions
    the data was cleaned with did, wherever those descriptions came from.

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
    registry = read_registry(folder)
    if registry is not None:
        from rehab_analytics.catalogue import use_registry

        use_registry(registry)
    return Tables(
        participants=frames["participants"],
        subprojects=frames["subprojects"],
        anonymous_counts=frames["anonymous_counts"],
        rejects=frames["rejects"],
        report=report,
        lang=lang,
        registry=registry,
    )
