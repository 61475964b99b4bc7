"""Before a clean writes into a folder: one clean at a time (a lock file), and the same key.

The lock is a file in the output folder, created with ``O_CREAT | O_EXCL`` (so only
one process can make it) and holding the pid, host and start time of its clean; it
is removed when the clean ends, also on an error or Ctrl-C. A lock whose process
no longer runs on this host (a killed clean) is taken over with a warning.

The key check compares the fingerprint of this clean's key with the one the
folder's ``cleaning_report.json`` records: pseudonyms made with another key do not
link, so a change stops the clean unless it is asked for (``--new-key``).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from rehab_analytics.errors import KeyChangedError, OutputInUseError
from rehab_analytics.keys import ResolvedKey
from rehab_analytics.processed import OUTPUT_FILES

__all__ = [
    "LOCK_NAME",
    "StaleLockWarning",
    "key_entry",
    "output_lock",
    "previous_key",
]

LOCK_NAME = ".rehab-analytics-clean.lock"
# A lock without readable content younger than this may be one being written now.
_UNREADABLE_GRACE_SECONDS = 30
_ORIGINS = {
    "environment": "RA_PSEUDONYM_KEY",
    "file": "the key file",
    "demo": "the sample data's demo key",
}


class StaleLockWarning(UserWarning):
    """Warned when a clean takes over the lock of a clean that no longer runs."""


def _read(path: Path) -> tuple[bytes, dict | None]:
    """Return a lock file's bytes and its content (None if unreadable)."""
    data = path.read_bytes()
    try:
        holder = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return data, None
    ok = isinstance(holder, dict) and isinstance(holder.get("pid"), int)
    return data, holder if ok else None


def _is_stale(path: Path, holder: dict | None) -> bool:
    """Whether the lock's clean has ended: its pid no longer runs on this host."""
    if holder is None:
        return time.time() - path.stat().st_mtime > _UNREADABLE_GRACE_SECONDS
    if holder.get("host") != socket.gethostname() or os.name != "posix":
        return False  # a process on another host (or on Windows) cannot be probed
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # alive, owned by another user
        return False
    return False


def _take_over(path: Path, seen: bytes) -> bool:
    """Remove the stale lock ``seen``; False if it changed meanwhile (another clean)."""
    aside = path.with_name(f"{path.name}.{os.getpid()}.stale")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return False
    if aside.read_bytes() != seen:  # another clean replaced it first: put it back
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
        aside.unlink()
        return False
    aside.unlink()
    return True


def _in_use(out: Path, path: Path, holder: dict | None) -> OutputInUseError:
    who = (
        f"pid {holder.get('pid')} on {holder.get('host')}, started at "
        f"{holder.get('started')}"
        if holder
        else "its lock file cannot be read"
    )
    return OutputInUseError(
        f"Another clean ({who}) is writing into the output folder {out}; two cleans "
        "into one folder would mix their outputs. Wait for it to finish and run "
        "again, or clean into another folder with --out. If no clean is running "
        f"(e.g. one on another computer crashed), delete the lock file {path}."
    )


@contextlib.contextmanager
def output_lock(out: str | Path) -> Iterator[dict]:
    """Hold the output folder's lock for the ``with`` block; yield what it records.

    Raises:
        OutputInUseError: If another clean that still runs holds the lock.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> with output_lock(folder) as mine:
        ...     (folder / LOCK_NAME).is_file(), mine["pid"] == os.getpid()
        (True, True)
        >>> (folder / LOCK_NAME).exists()
        False
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_NAME
    mine = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    for _ in range(5):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            try:
                seen, holder = _read(path)
                stale = _is_stale(path, holder)
            except FileNotFoundError:  # just released: try again
                continue
            if not stale:
                raise _in_use(out, path, holder) from None
            if _take_over(path, seen):
                warnings.warn(
                    f"Took over the lock of a clean that no longer runs ("
                    f"{'pid ' + str(holder['pid']) if holder else 'unreadable lock'}"
                    f"{', started at ' + str(holder.get('started')) if holder else ''}"
                    f"); its half-written files in {out} are removed.",
                    StaleLockWarning,
                    stacklevel=3,
                )
    else:
        raise _in_use(out, path, None)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(mine, handle)
    try:
        yield mine
    finally:
        with contextlib.suppress(OSError):
            if _read(path)[1] == mine:
                path.unlink()


def previous_key(out: str | Path) -> dict | None:
    """Return the ``key`` entry of the folder's cleaning report, or None.

    None when there is no report, it cannot be read, or it has no key entry.

    Example:
        >>> import tempfile
        >>> previous_key(tempfile.mkdtemp()) is None
        True
    """
    try:
        report = json.loads(
            (Path(out) / OUTPUT_FILES["report"]).read_text(encoding="utf-8")
        )
    except (OSError, ValueError):
        return None
    entry = report.get("key") if isinstance(report, dict) else None
    return entry if isinstance(entry, dict) else None


def key_entry(out: str | Path, key: ResolvedKey, new_key: bool = False) -> dict:
    """Return the cleaning report's ``key`` entry; stop if the folder has another key.

    The entry holds the key's origin, file and fingerprint (never the key), and
    whether this clean re-keys the folder (with the previous fingerprint). A
    report written before fingerprints were recorded is no error.

    Args:
        out: The output folder.
        key: This clean's key.
        new_key: Re-key deliberately: go on when the folder has another key.

    Raises:
        KeyChangedError: If the folder's report has another fingerprint and
            ``new_key`` is false.

    Example:
        >>> import tempfile
        >>> entry = key_entry(tempfile.mkdtemp(), ResolvedKey(b"k" * 32, "environment"))
        >>> entry["origin"], entry["rekeyed"], len(entry["fingerprint"])
        ('environment', False, 16)
    """
    fingerprint = key.fingerprint
    before = (previous_key(out) or {}).get("fingerprint")
    rekeyed = isinstance(before, str) and bool(before) and before != fingerprint
    if rekeyed and not new_key:
        raise KeyChangedError(
            f"The processed folder {out} was made with another pseudonymisation key "
            f"(fingerprint {before}; this clean's key, from "
            f"{_ORIGINS.get(key.origin, key.origin)}, has fingerprint {fingerprint}). "
            "Cleaning into it would give every participant a new pseudonym, so "
            "pseudonyms would no longer link to the earlier outputs and reports. "
            "Nothing was written. Use the same key as before (RA_PSEUDONYM_KEY or "
            "RA_KEY_FILE), clean into another folder with --out, or re-key "
            "deliberately with `rehab-analytics clean --new-key`."
        )
    return {
        "origin": key.origin,
        "path": str(key.path) if key.path else None,
        "fingerprint": fingerprint,
        "rekeyed": rekeyed,
        "previous_fingerprint": before if rekeyed else None,
    }
