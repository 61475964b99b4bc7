"""Settings in one place: paths, key location and thresholds from the environment.

Nothing is read at import time; call :func:`settings` when a value is needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rehab_analytics.errors import ConfigError

__all__ = ["Settings", "settings", "worker_count", "PACKAGE_DIR", "BUILTIN_SOURCES_DIR"]

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
    """

    raw_dir: Path
    processed_dir: Path
    sources_dirs: tuple[Path, ...]
    key_file: Path
    suppression_threshold: int


def settings(**overrides: object) -> Settings:
    """Build settings from environment variables, then apply ``overrides``.

    Environment variables: ``RA_RAW_DIR``, ``RA_PROCESSED_DIR``, ``RA_SOURCES_DIR``
    (``os.pathsep``-separated), ``RA_KEY_FILE``, ``RA_SUPPRESSION_THRESHOLD``.
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
