"""Shared test fixtures: headless matplotlib, figures closed after each test, seeded RNG."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test opened, so memory and state do not leak."""
    yield
    plt.close("all")


@pytest.fixture(autouse=True)
def _forget_registry():
    """Forget the organisation registry a test's load() made current (process state)."""
    yield
    from rehab_analytics import catalogue

    catalogue.use_registry(None)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator (same numbers on every run)."""
    return np.random.default_rng(2015)
