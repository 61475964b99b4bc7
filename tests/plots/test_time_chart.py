"""Tests for the Kaplan–Meier chart: no curve for too few, weeks, the at-risk row."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehab_analytics import plots
from rehab_analytics.disclosure import suppress


def _curves() -> pd.DataFrame:
    """dino with 40 episodes drawn to week 30; aktiv (3 episodes) only week 0, hidden."""
    table = pd.DataFrame(
        {
            "subproject": ["dino"] * 4 + ["aktiv"],
            "weeks": [0, 5, 12, 30, 0],
            "n": [40] * 4 + [3],
            "survival": [1.0, 0.8, 0.5, 0.3, 1.0],
            "ci_low": [1.0, 0.7, 0.4, 0.2, 1.0],
            "ci_high": [1.0, 0.9, 0.6, 0.4, 1.0],
        }
    )
    return suppress(
        table,
        count_cols=["n"],
        denominator_col="n",
        share_cols=["survival", "ci_low", "ci_high"],
    )


def _at_risk() -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "subproject": ["dino"] * 3 + ["aktiv"] * 3,
            "weeks": [0, 13, 26] * 2,
            "at_risk": [40, 21, 4, 3, 1, 0],
        }
    )
    return suppress(table, count_cols=["at_risk"], denominator_col=None, share_cols=())


def _texts(ax, gid: str) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def test_unit_with_too_few_gets_no_line_and_says_so():
    """aktiv (n = 3) has no line; the legend names it "too few to show"."""
    ax = plots.time_in_programme_chart(_curves(), lang="en")
    assert len(ax.lines) == 1
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0, 5, 12, 30])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Dino", "Extended AKTIV (too few to show)"]
    assert ax.get_xlabel() == "Weeks since start"


def test_at_risk_row_marks_small_counts_and_aligns_with_the_ticks():
    """The row under the axis gives 40 21 ..; the x ticks are the row's weeks."""
    ax = plots.time_in_programme_chart(_curves(), at_risk=_at_risk(), lang="sv")
    # a header, then per unit drawn its name and one value per week
    assert _texts(ax, "rehab-at-risk") == ["Antal kvar", "Dino", "40", "21", ".."]
    assert ax.get_xticks().tolist() == [0, 13, 26]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[-1] == "..: färre än 5, eller dolt som skydd"


def test_every_unit_too_few_gives_an_empty_chart_naming_them():
    """With only hidden curves nothing is drawn and the chart says why."""
    curves = _curves()
    only = curves[curves["subproject"] == "aktiv"]
    only.attrs = curves.attrs
    ax = plots.time_in_programme_chart(only, lang="en")
    assert not ax.lines
    assert _texts(ax, "rehab-empty") == [
        "Too few participants to show a curve: Extended AKTIV"
    ]
