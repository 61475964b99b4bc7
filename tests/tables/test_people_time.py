"""Tests for the published Kaplan–Meier tables: weeks, tail cut, at-risk row, summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from rehab_analytics import disclosure
from rehab_analytics import tables as ft

START = pd.Timestamp("2017-01-01")
CUTOFF = START + pd.Timedelta(days=150)
# days in the programme per subproject; None: still in at the cut-off (day 150)
DAYS = {
    "aktiv": [3, 10, 10, 20, 30, 45, 60, 61, 62, 80, 100, 130, None],
    "dino": [5, 40, 70],
    "unga_vuxna": [136] * 9 + [None] * 11,
}


@pytest.fixture
def people() -> pd.DataFrame:
    """Episodes all starting on 2017-01-01, ended after the given days or active."""
    rows = [(unit, d) for unit, days in DAYS.items() for d in days]
    end = [None if d is None else START + pd.Timedelta(days=d) for _, d in rows]
    return pd.DataFrame(
        {
            "subproject": [unit for unit, _ in rows],
            "start_date": START,
            "end_date": pd.to_datetime(pd.Series(end, dtype="object")),
            "exit_reason": ["completed" if e is not None else None for e in end],
        }
    )


def _unit(table: pd.DataFrame, unit: str) -> pd.DataFrame:
    return table[table["subproject"].astype("string") == unit].reset_index(drop=True)


def test_a_unit_of_three_people_gets_no_curve(people):
    """Only dino's week-0 row is published, with n and the whole curve hidden."""
    curves = ft.time_curve_table(people, 5, cutoff=CUTOFF)
    dino = _unit(curves, "dino")
    assert dino["weeks"].tolist() == [0]
    assert dino[["n", "survival", "ci_low", "ci_high"]].isna().all(axis=None)
    flags = [f"{c}__suppressed" for c in ("n", "survival", "ci_low", "ci_high")]
    assert dino[flags].all(axis=None)
    assert disclosure.is_publishable(curves)


def test_curve_is_in_weeks_and_stops_where_fewer_than_five_remain(people):
    """aktiv: steps in the weeks of its exits, last row week 8 (7 at risk; 4 at week 9)."""
    aktiv = _unit(ft.time_curve_table(people, 5, cutoff=CUTOFF), "aktiv")
    assert aktiv["weeks"].tolist() == [0, 1, 2, 3, 5, 7, 8]
    np.testing.assert_allclose(
        aktiv["survival"].astype(float),
        [1, 12 / 13, 10 / 13, 9 / 13, 8 / 13, 7 / 13, 7 / 13],
    )
    assert aktiv["n"].tolist() == [13] * 7
    assert not aktiv.filter(like="__suppressed").any(axis=None)


def test_curve_rows_are_whole_weeks_with_the_daily_curve_value(people):
    """Every published time is a whole week; no row is an exact exit day."""
    curves = ft.time_curve_table(people, 5, cutoff=CUTOFF)
    assert curves["weeks"].dtype == "int64"
    assert "days" not in curves.columns
    unga = _unit(curves, "unga_vuxna")
    # 9 of 20 leave on day 136, inside week 20; 11 are still in at week 21
    assert unga["weeks"].tolist() == [0, 20, 21]
    np.testing.assert_allclose(unga["survival"].astype(float), [1, 0.55, 0.55])


def test_number_at_risk_hides_counts_of_one_to_four(people):
    """At fixed weeks: 1–4 hidden, 0 and ≥ 5 shown; weeks past every curve left out."""
    got = ft.time_at_risk_table(people, 5, cutoff=CUTOFF, weeks=(0, 9, 13, 21, 26))
    expected = pd.DataFrame(
        {
            # the catalogue's order of subprojects
            "subproject": pd.array(
                np.repeat(["dino", "unga_vuxna", "aktiv"], 4), "string"
            ),
            "weeks": [0, 9, 13, 21] * 3,
            "at_risk": pd.array(
                [None, None, 0, 0, 20, 20, 20, 11, 13, None, None, None], "Int64"
            ),
        }
    )
    plain = got[["subproject", "weeks", "at_risk"]].astype({"subproject": "string"})
    pdt.assert_frame_equal(plain, expected)
    assert got["at_risk__suppressed"].tolist() == [
        True, True, False, False, False, False, False, False, False, True, True, True,
    ]  # fmt: skip


def test_summary_is_in_weeks_and_hides_times_resting_on_few(people):
    """Weeks rounded up; hidden for n < 5, past the curve's end, or 1–4 on one side."""
    got = ft.time_summary_table(people, 5, cutoff=CUTOFF)
    times = [
        "km_median_weeks",
        "completed_median_weeks",
        "completed_q1_weeks",
        "completed_q3_weeks",
    ]
    assert not [c for c in got.columns if c.endswith("_days") or "support" in c]
    aktiv, dino, unga = (_unit(got, u).iloc[0] for u in DAYS)
    # KM median on day 60 (week 9), where only 4 are still in; completed-only
    # median day 52.5 = week 8 (6 at or below, 6 at or above); q1 day 17.5 =
    # week 3 (4 at or below) and q3 day 66.5 = week 10 (3 at or above) hidden
    assert aktiv["completed_median_weeks"] == 8
    assert pd.isna(aktiv["km_median_weeks"])
    assert aktiv[[f"{c}__suppressed" for c in times]].tolist() == [
        True, False, True, True,
    ]  # fmt: skip
    assert dino[[f"{c}__suppressed" for c in times]].all()
    assert pd.isna(dino["n"])
    # unga: day 136 is week 20; the KM median (55 % still in) is not reached,
    # which is not hidden
    assert [unga[c] for c in times[1:]] == [20, 20, 20]
    assert pd.isna(unga["km_median_weeks"])
    assert not unga["km_median_weeks__suppressed"]
