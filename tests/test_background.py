"""Tests for rehab_analytics.background."""

import os

import pytest

from rehab_analytics.background import can_fork, in_background

needs_fork = pytest.mark.skipif(not can_fork(), reason="needs fork")


@needs_fork
def test_a_forked_call_returns_its_value_and_runs_in_another_process():
    """The call runs in a child process; its return value comes back."""
    result = in_background(os.getpid, (), fork=True)
    assert result() != os.getpid()


@needs_fork
def test_a_forked_call_inherits_arguments_that_cannot_be_pickled():
    """Arguments reach the child by fork, not by pickling (no copies of big tables)."""
    unpicklable = lambda x: x + 1  # noqa: E731 - a lambda cannot be pickled
    assert in_background(lambda f: f(41), (unpicklable,), fork=True)() == 42


@needs_fork
def test_a_forked_error_is_raised_by_result():
    """An exception in the child is raised again when the result is asked for."""
    result = in_background(int, ("not a number",), fork=True)
    with pytest.raises(ValueError, match="not a number"):
        result()


def test_without_fork_the_call_waits_for_result():
    """Without fork nothing runs until result() is called, then in this process."""
    calls = []
    result = in_background(lambda: calls.append(os.getpid()) or "done", (), fork=False)
    assert calls == []
    assert result() == "done" and calls == [os.getpid()]
