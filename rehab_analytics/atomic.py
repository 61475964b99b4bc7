"""Atomic file writes: fill a temporary file next to the target, then rename it over."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_atomic", "write_bytes_atomic", "write_text_atomic"]


def write_atomic(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` atomically: ``write(tmp)`` fills a temporary file, then os.replace.

    The temporary file is in the target's folder (so the rename stays on one file
    system) and keeps the target's suffix (writers such as openpyxl's ``save``
    may check it). A crash or Ctrl-C leaves the old file or the new one, never
    half a file, and no temporary file. Missing parent folders are created; the
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent
    )
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
