"""Settings in one place: paths, key location and thresholds from the environment.

Nothing is read at import time; call :func:`settings` when a value is needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from rehab_analytics.errors import ConfigError

__all__ = [
    "Settings",
    "settings",
    "Limits",
    "limits",
    "LIMIT_ENV",
    "worker_count",
    "PACKAGE_DIR",
    "BUILTIN_SOURCES_DIR",
]

PACKAGE_DIR = Path(__file__).resolve().parent
BUILTIN_SOURCES_DIR = PACKAGE_DIR / "sources" / "builtin"
CONFIG_DIR = PACKAGE_DIR / "config"


@dataclass(frozen=True)
class Settings:
    """Resolved settings.

    Attributes:
        raw_dir: Folder with the raw deliveries (read-only for the package).
        processed_dir: Folder that `clean` and `reports` write into.
        sources_dirs: Extra folders with source descriptions; they override the
            built-in descriptions file by file (same file name).
        key_file: Where the pseudonymisation key file is looked for.
        suppression_threshold: Smallest count that may be published.
        limits: What one delivered file may make the readers allocate.
    """

    raw_dir: Path
    processed_dir: Path
    sources_dirs: tuple[Path, ...]
    key_file: Path
    suppression_threshold: int
    limits: Limits = field(default_factory=lambda: Limits())


@dataclass(frozen=True)
class Limits:
    """Reading limits for one delivered file, checked before anything is allocated.

    A file past a limit is refused with a :class:`~rehab_analytics.errors.LimitError`
    naming the limit and the environment variable (see :data:`LIMIT_ENV`) that
    raises it; the other files and sources are still cleaned.

    Attributes:
        file_bytes: Size of one file on disk (every format; .xls is bounded by this
            alone).
        part_bytes: Decompressed size of one part of an xlsx/ods zip container.
        zip_ratio: Decompressed ÷ compressed size of a part of at least 1 MiB
            (a "zip bomb" inflates about 1000 times; real workbooks 5 to 30).
        zip_parts: Parts in one xlsx/ods container.
        sheet_cells: Rows × columns of the grid of one sheet or text file, counted
            from the first row and column to the last non-empty cell.
        sheet_columns: Columns of one sheet or text file.
        cell_chars: Characters in one cell (Excel's own limit is 32 767).
    """

    file_bytes: int = 256 * 2**20
    part_bytes: int = 256 * 2**20
    zip_ratio: int = 200
    zip_parts: int = 10_000
    sheet_cells: int = 10_000_000
    sheet_columns: int = 1_000
    cell_chars: int = 32_767


# Limits attribute → the environment variable that sets it.
LIMIT_ENV = {
    "file_bytes": "RA_MAX_FILE_BYTES",
    "part_bytes": "RA_MAX_PART_BYTES",
    "zip_ratio": "RA_MAX_ZIP_RATIO",
    "zip_parts": "RA_MAX_ZIP_PARTS",
    "sheet_cells": "RA_MAX_SHEET_CELLS",
    "sheet_columns": "RA_MAX_SHEET_COLUMNS",
    "cell_chars": "RA_MAX_CELL_CHARS",
}


def limits(**overrides: int) -> Limits:
    """Return the reading limits: defaults, then environment variables, then ``overrides``.

    Environment variables (whole numbers ≥ 1): ``RA_MAX_FILE_BYTES``,
    ``RA_MAX_PART_BYTES``, ``RA_MAX_ZIP_RATIO``, ``RA_MAX_ZIP_PARTS``,
    ``RA_MAX_SHEET_CELLS``, ``RA_MAX_SHEET_COLUMNS``, ``RA_MAX_CELL_CHARS``.

    Raises:
        ConfigError: If a variable is not a whole number ≥ 1.

    Example:
        >>> limits(cell_chars=100).cell_chars, limits().sheet_columns
        (100, 1000)
    """
    values: dict[str, int] = {}
    for item in fields(Limits):
        var = LIMIT_ENV[item.name]
        text = os.environ.get(var)
        value = overrides.get(item.name, text if text is not None else item.default)
        try:
            number = int(str(value).replace("_", ""))
        except ValueError:
            number = 0
        if number < 1:
            raise ConfigError(
                f"{var} is '{value}', expected a whole number ≥ 1 such as "
                f"{item.default}. Unset it to use the default."
            )
        values[item.name] = number
    return Limits(**values)


def settings(**overrides: object) -> Settings:
    """Build settings from environment variables, then apply ``overrides``.

    Environment variables: ``RA_RAW_DIR``, ``RA_PROCESSED_DIR``, ``RA_SOURCES_DIR``
    (``os.pathsep``-separated), ``RA_KEY_FILE``, ``RA_SUPPRESSION_THRESHOLD`` and
    the reading limits of :func:`limits`.
    The key itself may be given in ``RA_PSEUDONYM_KEY`` (see ``identity``).

    Example:
        >>> s = settings(suppression_threshold=3)
        >>> s.suppression_threshold
        3
    """
    env = os.environ
    raw = Path(env.get("RA_RAW_DIR", "data/raw"))
    processed = Path(env.get("RA_PROCESSED_DIR", "data/processed"))
    extra = tuple(Path(p) for p in env.get("RA_SOURCES_DIR", "").split(os.pathsep) if p)
    key_file = Path(
        env.get(
            "RA_KEY_FILE",
            str(Path.home() / ".config" / "rehab-analytics" / "pseudonym.key"),
        )
    )
    raw_threshold = env.get("RA_SUPPRESSION_THRESHOLD", "5")
    try:
        threshold = int(raw_threshold)
    except ValueError:
        raise ConfigError(
            f"RA_SUPPRESSION_THRESHOLD is '{raw_threshold}', expected a whole number "
            "such as 5. Unset it to use the default."
        ) from None
    values: dict[str, object] = {
        "raw_dir": raw,
        "processed_dir": processed,
        "sources_dirs": extra,
        "key_file": key_file,
        "suppression_threshold": threshold,
        "limits": limits(),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    if int(values["suppression_threshold"]) < 1:  # type: ignore[arg-type]
        raise ConfigError("The suppression threshold must be at least 1.")
    for name in ("raw_dir", "processed_dir", "key_file"):
        values[name] = Path(values[name])  # type: ignore[arg-type]
    return Settings(**values)  # type: ignore[arg-type]


def worker_count(jobs: int | None = None) -> int:
    """Return how many worker processes to use: ``jobs`` if given, else the usable cores.

    The load average is not consulted: on virtual machines it reads high while the
    cores are idle, which silently made every run serial. Pass ``jobs=1`` (CLI
    ``--jobs 1``) to leave the other cores to other work.

    Example:
        >>> worker_count(3), worker_count(0), worker_count() >= 1
        (3, 1, True)
    """
    if jobs is not None:
        return max(1, int(jobs))
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)
