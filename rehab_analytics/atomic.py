"""Atomic file writes: fill temporary files next to their targets, then rename them over.

One naming scheme for every temporary file: ``.<name>.<pid>.<random>.tmp<suffix>``
(hidden; the pid of the process that owns it; the target's suffix, which writers
such as openpyxl's ``save`` check). :func:`remove_stale_temp` recognises it and
removes what a killed process left behind. Temporary files are made by
:func:`tempfile.mkstemp`, so they, and the files renamed from them, are mode 0600.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "StagedFiles",
    "remove_stale_temp",
    "write_atomic",
    "write_bytes_atomic",
    "write_text_atomic",
]

# .<name>.<pid>.<mkstemp's random part, no dots>.tmp<suffix>; the suffix is
# optional so leftovers of the older clean naming (.<name>.<pid>.<random>.tmp) match.
_TEMP_NAME = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[a-z0-9_]+\.tmp(\.[^.]*)?")


@dataclass
class StagedFiles:
    """A set of files written to temporary names first, then renamed over their targets together.

    Nothing replaces a target until :meth:`commit`, which renames every staged file
    in the order staged; a crash, kill or error before it leaves every target as it
    was (used as a context manager, the temporary files are then removed too). The
    set is picklable: a forked process may stage files and return the set, and the
    parent commits them with its own (:meth:`merge`).

    Attributes:
        pid: The pid in the temporary names: the process that commits (or discards)
            them, so :func:`remove_stale_temp` keeps them while it lives.
        files: (temporary file, target) pairs not yet renamed.
        obsolete: Targets of an earlier run to remove at the commit.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> with StagedFiles() as staged:
        ...     _ = staged.write(folder / "a.txt", lambda tmp: tmp.write_text("a"))
        ...     _ = staged.write(folder / "b.txt", lambda tmp: tmp.write_text("b"))
        ...     sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
        ...     [p.name for p in staged.commit()]
        []
        ['a.txt', 'b.txt']
    """

    pid: int = field(default_factory=os.getpid)
    files: list[tuple[Path, Path]] = field(default_factory=list)
    obsolete: list[Path] = field(default_factory=list)

    def reserve(self, path: str | Path) -> Path:
        """Create (mode 0600) and return the temporary file that will become ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.{self.pid}.",
            suffix=f".tmp{path.suffix}",
            dir=path.parent,
        )
        os.close(fd)
        self.files.append((Path(tmp), path))
        return Path(tmp)

    def write(self, path: str | Path, write: Callable[[Path], object]) -> Path:
        """Stage ``path``: ``write(tmp)`` fills its temporary file; return that file."""
        tmp = self.reserve(path)
        write(tmp)
        return tmp

    def remove(self, path: str | Path) -> None:
        """Remove ``path`` (a file of an earlier run) at the commit, unless staged."""
        self.obsolete.append(Path(path))

    def merge(self, other: StagedFiles) -> None:
        """Move ``other``'s staged files and removals into this set, after its own."""
        self.files += other.files
        self.obsolete += other.obsolete
        other.files, other.obsolete = [], []

    def commit(self) -> list[Path]:
        """Rename every staged file over its target, in order; return the targets."""
        done = []
        while self.files:
            tmp, path = self.files[0]
            os.replace(tmp, path)
            self.files.pop(0)
            done.append(path)
        for path in set(self.obsolete) - set(done):
            path.unlink(missing_ok=True)
        self.obsolete = []
        return done

    def discard(self) -> None:
        """Remove every temporary file not yet renamed; the targets stay as they are."""
        for tmp, _ in self.files:
            tmp.unlink(missing_ok=True)
        self.files, self.obsolete = [], []

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


def remove_stale_temp(
    folder: str | Path, names: Iterable[str] | None = None
) -> list[Path]:
    """Remove temporary files in ``folder`` whose process no longer runs (POSIX only).

    Args:
        folder: The folder to tidy (not its subfolders).
        names: Only temporary files of these targets; default all.

    Returns:
        The files removed.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / ".a.json.999999999.x1.tmp.json").write_text("half")
        >>> [p.name for p in remove_stale_temp(folder)] == (
        ...     [".a.json.999999999.x1.tmp.json"] if os.name == "posix" else [])
        True
    """
    folder = Path(folder)
    # os.kill(pid, 0) is a liveness probe only on POSIX (on Windows it kills).
    if os.name != "posix" or not folder.is_dir():
        return []
    wanted = None if names is None else set(names)
    removed = []
    for tmp in folder.iterdir():
        found = _TEMP_NAME.fullmatch(tmp.name)
        if not found or (wanted is not None and found["name"] not in wanted):
            continue
        try:
            os.kill(int(found["pid"]), 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
        except (OSError, OverflowError):  # alive (another user's), or no such pid
            continue
    return removed


def write_atomic(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` atomically: ``write(tmp)`` fills a temporary file, then os.replace.

    The temporary file is in the target's folder (so the rename stays on one file
    system) and keeps the target's suffix (writers such as openpyxl's ``save``
    may check it). A crash or Ctrl-C leaves the old file or the new one, never
    half a file, and no temporary file (a kill may leave one, which
    :func:`remove_stale_temp` removes). Missing parent folders are created; the
    file is created by :func:`tempfile.mkstemp` (mode 0600).

    Args:
        path: The file to write.
        write: Called with the temporary path; writes the whole content there.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "sub" / "a.txt"
        >>> write_atomic(p, lambda tmp: tmp.write_text("hej")).read_text()
        'hej'
    """
    with StagedFiles() as staged:
        staged.write(path, write)
        return staged.commit()[0]


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`write_atomic`).

    Example:
        >>> import tempfile
        >>> p = write_text_atomic(Path(tempfile.mkdtemp()) / "a.toml", "x = 1\\n")
        >>> p.read_text(encoding="utf-8")
        'x = 1\\n'
    """
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`write_atomic`).

    Example:
        >>> import tempfile
        >>> write_bytes_atomic(Path(tempfile.mkdtemp()) / "a.bin", b"\\x00").read_bytes()
        b'\\x00'
    """
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))
