"""Tests for how problems quote the values they found."""

from __future__ import annotations

import numpy as np

from rehab_analytics.clean.decide import _quoted
from rehab_analytics.escape import MAX_QUOTED


def test_long_values_are_quoted_as_a_short_excerpt():
    """A value past MAX_QUOTED characters is cut and says its length; short ones stay."""
    out = _quoted(np.array(["1999-13-01", "x" * 50_000, ""], dtype=object))
    assert out[0] == "1999-13-01" and out[2] == ""
    assert out[1] == "x" * MAX_QUOTED + "… (50000 characters)"
