"""Run one call in a forked process that inherits its arguments, or defer it.

Used where a stage has independent work for a second core: the pipeline writes
the feedback workbooks while it writes the tables, and the batch writes
``tables.xlsx`` while it builds the deck. A forked child sees the parent's
memory as it was at the fork, so big tables are not copied or pickled; only the
result travels back.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

__all__ = ["can_fork", "in_background"]


def can_fork() -> bool:
    """Return True where processes can be forked (POSIX).

    Example:
        >>> isinstance(can_fork(), bool)
        True
    """
    return "fork" in multiprocessing.get_all_start_methods()


def in_background(func: Callable, args: tuple, *, fork: bool) -> Callable[[], object]:
    """Start ``func(*args)``; return ``result()``, which waits and returns its value.

    With ``fork`` the call runs in a forked process that inherits ``args`` without
    copying; ``result()`` re-raises its error. Without, the call is made when
    ``result()`` is called, in this process.

    Example:
        >>> in_background(max, (1, 2), fork=False)()
        2
        >>> in_background(max, (3, 4), fork=can_fork())()
        4
    """
    if not fork:
        return lambda: func(*args)
    global _FORKED_CALL
    _FORKED_CALL = (func, args)
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    try:
        # The process is forked here, so it has its own copy of _FORKED_CALL.
        future = pool.submit(_call_forked)
    finally:
        _FORKED_CALL = None

    def result() -> object:
        try:
            return future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    return result


# Set only while a process is forked by in_background; the child reads its copy.
_FORKED_CALL: tuple[Callable, tuple] | None = None


def _call_forked() -> object:
    assert _FORKED_CALL is not None, "only in a process forked by in_background"
    func, args = _FORKED_CALL
    return func(*args)
