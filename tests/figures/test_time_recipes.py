"""Tests for the time-in-programme recipes: weeks, no curve for too few, at-risk row."""

from __future__ import annotations

import pytest

from rehab_analytics import disclosure, figures
from rehab_analytics.sample.deliveries import generate


@pytest.fixture(scope="module")
def ctx():
    """The sample (300 episodes, about 50 per subproject) with a threshold of 50."""
    return figures.context(
        generate(300, seed=11),
        start="2015-10-01",
        end="2019-06-30",
        lang="en",
        threshold=50,
    )


def test_chart_names_the_units_too_few_for_a_curve(ctx):
    """Units under the threshold have only a hidden week-0 row, named in the notes."""
    chart = figures.time_in_programme(ctx)
    table = chart.table
    few = table.loc[table["survival__suppressed"], "subproject"].astype("string")
    assert len(few) and not few.duplicated().any()
    assert table.loc[table["survival__suppressed"], "weeks"].eq(0).all()
    assert "Too few participants to show a curve: " in chart.notes
    assert disclosure.is_publishable(table)
    rows = [t.get_text() for t in chart.figure.axes[0].texts]
    assert "Number still in" in rows


def test_unit_chart_and_table_for_a_unit_too_few(ctx):
    """A unit under the threshold: the title and the table text say not shown."""
    counts = ctx.episodes["subproject"].astype("string").value_counts()
    unit = counts.index[counts < 50][0]
    chart = figures.time_in_programme(ctx, unit)
    assert chart.title.endswith(
        "time in the programme (too few participants to show a curve)"
    )
    table = figures.time_summary(ctx, unit)
    assert table.text == (
        "The median time in the programme is not shown: it would rest on too few "
        "participants."
    )
    shown = figures.labelled(table.table, "en", table.fields)
    assert "Median weeks (Kaplan–Meier)" in shown.columns
