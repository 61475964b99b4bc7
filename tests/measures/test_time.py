"""Tests for the weekly Kaplan–Meier curve and the week summary of measures.time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehab_analytics import measures

START = pd.Timestamp("2017-01-01")


def _episodes(days, ended, unit: str = "dino") -> pd.DataFrame:
    """Episodes starting on 2017-01-01; not ``ended`` ones are active at the cut-off."""
    end = [
        START + pd.Timedelta(days=int(d)) if e else pd.NaT
        for d, e in zip(days, ended, strict=True)
    ]
    return pd.DataFrame(
        {
            "subproject": unit,
            "start_date": START,
            "end_date": pd.to_datetime(pd.Series(end, dtype="object")),
            "exit_reason": ["completed" if e else None for e in ended],
        }
    )


def test_weekly_curve_is_the_daily_curve_at_each_weeks_end():
    """Week w holds the day curve at day 7w and the number with days >= 7w."""
    rng = np.random.default_rng(7)
    days = rng.integers(0, 200, 60)
    ended = rng.random(60) < 0.7
    people = _episodes(days, ended)
    cutoff = START + pd.Timedelta(days=int(days.max()))
    daily = measures.time_in_programme(people, cutoff=cutoff)
    weekly = measures.time_in_programme(people, cutoff=cutoff, weeks=True)
    observed = (cutoff - START).days
    follow = np.where(ended, days, observed)
    assert weekly["weeks"].tolist() == list(range(int(np.ceil(follow.max() / 7)) + 1))
    for row in weekly.itertuples():
        t = 7 * row.weeks
        before = daily.loc[daily["days"] <= t, "survival"]
        assert row.survival == before.iloc[-1]
        assert row.at_risk == (follow >= t).sum()


def test_weekly_curve_starts_at_one_with_a_closed_interval():
    """Week 0 is 100 % (interval 1–1) when nobody left on the first day."""
    people = _episodes([10, 20, 30], [True, True, False])
    got = measures.time_in_programme(people, cutoff="2017-02-10", weeks=True)
    assert got.loc[0, ["weeks", "at_risk", "survival", "ci_low", "ci_high"]].tolist() == [
        0, 3, 1.0, 1.0, 1.0,
    ]  # fmt: skip
    assert got["weeks"].dtype == "int64"


def test_week_summary_rounds_days_up_and_counts_the_support():
    """Times are ceil(days / 7); supports count those at risk or on each side."""
    days = [3, 10, 10, 20, 30, 45, 60, 61, 62, 80, 100, 130, 150]
    people = _episodes(days, [True] * 12 + [False])
    cutoff = START + pd.Timedelta(days=150)
    in_days = measures.time_summary(people, cutoff=cutoff).iloc[0]
    in_weeks = measures.time_summary(people, cutoff=cutoff, weeks=True).iloc[0]
    assert in_days["km_median_days"] == 60 and in_weeks["km_median_weeks"] == 9
    assert in_days["completed_median_days"] == 52.5
    assert in_weeks["completed_median_weeks"] == 8
    assert in_weeks[["completed_q1_weeks", "completed_q3_weeks"]].tolist() == [3, 10]
    # at risk on day 60 (7) and at the end of week 9, day 63 (4)
    assert in_days["km_median_support"] == 7 and in_weeks["km_median_support"] == 4
    # completed weeks 1 2 2 3 5 7 | 9 9 9 12 15 19 around 8; 4 at or below 3
    assert in_weeks[
        ["completed_median_support", "completed_q1_support", "completed_q3_support"]
    ].tolist() == [6, 4, 3]
