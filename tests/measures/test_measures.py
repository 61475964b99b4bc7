"""Tests for the measures modules: values computed by hand from a 12-row frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from statsmodels.duration.survfunc import SurvfuncRight

from rehab_analytics import contract, measures, stats
from rehab_analytics.errors import AnalysisInputError, RehabAnalyticsError
from rehab_analytics.measures import time as measures_time

# One row per episode: id, key, subproject, sex, age, education, start, end,
# exit reason, occupation before/after, income sources before/after, step, health.
# E5 is a misregistration whose values would change every outcome if counted.
_ROWS = [
    ("E1", "k1", "dino", "woman", 20, "compulsory", "2017-01-10", "2017-06-15",
     "completed", "other", "employed", {"sickness_benefit"}, {"wage"}, (1, 3), (2, 4)),
    ("E2", "k1", "dino", "woman", 21, "compulsory", "2017-09-01", None,
     None, "job_seeking", None, {"activity_support"}, set(), (2, None), (None, None)),
    ("E3", "k2", "dino", "man", 27, "upper_secondary", "2017-02-01", "2017-04-30",
     "dropped_out", "other", "other", {"social_assistance"}, {"social_assistance"},
     (2, 2), (None, None)),
    ("E4", None, "dino", "man", 35, "unknown", "2017-05-01", "2017-12-31",
     "completed", "studying", "studying", {"student_aid"}, {"student_aid"}, (3, 4),
     (None, None)),
    ("E5", "k3", "dino", "woman", 52, "post_secondary", "2016-11-01", "2017-03-01",
     "misregistration", "other", "employed", {"sickness_benefit"}, {"wage"}, (1, 5),
     (1, 5)),
    ("E6", "k4", "dino", "man", 45, "compulsory", "2017-03-15", "2018-01-20",
     "ill_health", "other", "unknown", {"sickness_compensation"},
     {"sickness_compensation"}, (2, 1), (None, None)),
    ("E7", "k5", "aktiv", "woman", 30, "upper_secondary", "2017-01-05", "2017-08-31",
     "completed", "job_seeking", "employed", {"unemployment_insurance"}, {"wage"},
     (1, 2), (3, 2)),
    ("E8", "k6", "aktiv", "woman", 58, "compulsory", "2017-06-01", None,
     None, "other", None, {"sickness_compensation"}, set(), (1, None), (None, None)),
    ("E9", "k7", "aktiv", "man", 24, "upper_secondary", "2018-02-01", "2018-05-10",
     "other_programme", "other", "job_seeking",
     {"social_assistance", "activity_support"}, {"activity_support"}, (2, 3),
     (None, None)),
    ("E10", None, "aktiv", "woman", None, "unknown", "2017-10-10", "2018-03-01",
     "moved", "unknown", "other", set(), set(), (None, None), (None, None)),
    ("E11", "k8", "aktiv", "man", 40, "post_secondary", "2016-12-01", "2017-02-28",
     "completed", "employed", "employed", {"wage"}, {"wage"}, (4, 4), (None, None)),
    ("E12", "k5", "aktiv", "woman", 31, "upper_secondary", "2018-01-15", None,
     None, "employed", None, {"wage"}, set(), (3, None), (None, None)),
]  # fmt: skip
_FORBUND = {"dino": "nordost", "aktiv": "insjoriket", "unga_vuxna": "hisingen"}


def _cat(values, categories) -> pd.Categorical:
    return pd.Categorical(values, categories=list(categories))


def _build_participants() -> pd.DataFrame:
    rows = pd.DataFrame(
        _ROWS,
        columns=[
            "episode_id", "participant_key", "subproject", "sex", "age_at_start",
            "education", "start_date", "end_date", "exit_reason", "occupation_before",
            "occupation_after", "before", "after", "step", "health",
        ],
    )  # fmt: skip
    start = pd.to_datetime(rows["start_date"]).astype("datetime64[ns]")
    end = pd.to_datetime(rows["end_date"]).astype("datetime64[ns]")
    valid_exit = end.notna() & (rows["exit_reason"] != "misregistration")
    known_after = rows["occupation_after"].notna() & (
        rows["occupation_after"] != "unknown"
    )
    work = rows["occupation_after"].isin(contract.WORK_OR_STUDY)
    data = {
        "episode_id": rows["episode_id"].astype("string"),
        "participant_key": rows["participant_key"].astype("string"),
        "id_kind": _cat(
            np.where(rows["participant_key"].notna(), "personnummer", "missing"),
            contract.ID_KINDS,
        ),
        "forbund": _cat(rows["subproject"].map(_FORBUND), contract.DEFAULT_FORBUND),
        "subproject": _cat(rows["subproject"], contract.DEFAULT_SUBPROJECTS),
        "sex": _cat(rows["sex"], contract.SEX),
        "birth_year": pd.array(
            [None if a is None else 2017 - a for a in rows["age_at_start"]], "Int64"
        ),
        "age_at_start": pd.array(rows["age_at_start"].tolist(), "Int64"),
        "municipality": pd.Series(["1480"] * len(rows), dtype="string"),
        "education": _cat(rows["education"], contract.EDUCATION),
        "start_date": start,
        "end_date": end,
        "days_in_programme": pd.array((end - start).dt.days.tolist(), "Int64"),
    }
    for when in ("before", "after"):
        for code in contract.INCOME_SOURCES:
            data[f"income_{when}__{code}"] = rows[when].map(lambda s, c=code: c in s)
    for when in ("before", "after"):
        groups = [contract.income_group(s) for s in rows[when]]
        data[f"income_group_{when}"] = _cat(groups, contract.INCOME_GROUPS)
    data["support_years_before"] = _cat(["1_2"] * len(rows), contract.SUPPORT_YEARS)
    data["occupation_before"] = _cat(rows["occupation_before"], contract.OCCUPATIONS)
    data["occupation_after"] = _cat(rows["occupation_after"], contract.OCCUPATIONS)
    data["exit_reason"] = _cat(rows["exit_reason"], contract.EXIT_REASONS)
    data["work_or_study_after"] = pd.array(
        [
            w if v and k else None
            for w, v, k in zip(work, valid_exit, known_after, strict=True)
        ],
        "boolean",
    )
    for name in ("step", "health"):
        data[f"{name}_start"] = pd.array([p[0] for p in rows[name]], "Int64")
        data[f"{name}_end"] = pd.array([p[1] for p in rows[name]], "Int64")
    data["source_file"] = pd.Series(["f.xlsx"] * len(rows), dtype="string")
    data["source_sheet"] = pd.Series(["Deltagare"] * len(rows), dtype="string")
    data["source_row"] = pd.array(range(2, len(rows) + 2), "Int64")
    return pd.DataFrame(data)[list(contract.PARTICIPANT_COLUMNS)]


@pytest.fixture
def participants() -> pd.DataFrame:
    return _build_participants()


@pytest.fixture
def subprojects() -> pd.DataFrame:
    units = ["dino", "dino", "aktiv", "aktiv", "unga_vuxna"]
    return pd.DataFrame(
        {
            "forbund": _cat([_FORBUND[u] for u in units], contract.DEFAULT_FORBUND),
            "subproject": _cat(units, contract.DEFAULT_SUBPROJECTS),
            "name": pd.Series(units, dtype="string"),
            "target_group": pd.Series([""] * 5, dtype="string"),
            "year": pd.array([2017, 2018, 2017, 2018, 2018], "Int64"),
            "planned_participants": pd.array([4, 4, 10, 10, 5], "Int64"),
            "budget_sek": pd.array([1e5, 1e5, 75e3, 75e3, 4e4], "Float64"),
            "cost_sek": pd.array([1e5, 5e4, 6e4, 6e4, 3e4], "Float64"),
            "esf_sek": pd.array([4e4, 4e4, 35e3, 35e3, 2e4], "Float64"),
        }
    )


@pytest.fixture
def anonymous() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "forbund": _cat(
                ["nordost", "nordost", "insjoriket"], contract.DEFAULT_FORBUND
            ),
            "subproject": _cat(["dino", "dino", "aktiv"], contract.DEFAULT_SUBPROJECTS),
            "year": pd.array([2017, 2018, 2016], "Int64"),
            "sex": _cat(["woman", "man", "woman"], contract.SEX),
            "count": pd.array([2, 3, 4], "Int64"),
        }
    )


def _plain(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The chosen columns with categorical keys as plain strings, index 0..n-1."""
    out = df[columns].reset_index(drop=True)
    for column in columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(str)
    return out


def _frame(columns: list[str], rows: list[tuple]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=columns)
    return out.astype({c: "int64" for c in columns if out[c].dtype == "int64"})


def _wilson(events, n) -> tuple[np.ndarray, np.ndarray]:
    return stats.wilson_interval(np.asarray(events), np.asarray(n))


# ------------------------------------------------------------------ periods, ages


def test_the_fixture_has_exact_contract_dtypes(participants):
    """The hand-built frame uses contract columns, categories, Int64 and bool dtypes."""
    assert list(participants.columns) == list(contract.PARTICIPANT_COLUMNS)
    assert participants["start_date"].dtype == "datetime64[ns]"
    assert participants["income_before__wage"].dtype == bool
    assert str(participants["step_start"].dtype) == "Int64"
    assert list(participants["exit_reason"].cat.categories) == list(
        contract.EXIT_REASONS
    )


def test_tertial_labels_follow_sus_four_month_tertials():
    """Jan–Apr is T1, May–Aug T2, Sep–Dec T3, and the categories have no gaps."""
    dates = ["2017-01-01", "2017-04-30", "2017-05-01", "2017-08-31", "2017-09-01",
             "2017-12-31", "2018-09-30"]  # fmt: skip
    out = measures.add_period(pd.DataFrame({"start_date": pd.to_datetime(dates)}))
    assert out["period"].tolist() == [
        "2017T1", "2017T1", "2017T2", "2017T2", "2017T3", "2017T3", "2018T3",
    ]  # fmt: skip
    assert list(out["period"].cat.categories) == [
        "2017T1", "2017T2", "2017T3", "2018T1", "2018T2", "2018T3",
    ]  # fmt: skip
    assert out["period"].cat.ordered


def test_year_and_month_periods_and_missing_dates():
    """Years and months get '2017' and '2017-03' labels; a missing date stays so."""
    df = pd.DataFrame({"end_date": pd.to_datetime(["2017-03-05", None, "2018-01-01"])})
    years = measures.add_period(df, "year", date_col="end_date")["period"]
    assert years.astype(object).where(years.notna(), None).tolist() == [
        "2017",
        None,
        "2018",
    ]
    months = measures.add_period(df, "M", date_col="end_date")["period"]
    assert months.cat.categories[0] == "2017-03" and len(months.cat.categories) == 11


def test_add_period_rejects_unknown_frequency():
    """An unknown freq names the function and the accepted values."""
    df = pd.DataFrame({"start_date": pd.to_datetime(["2017-01-01"])})
    with pytest.raises(AnalysisInputError, match=r"add_period\(\) got freq='week'"):
        measures.add_period(df, "week")


def test_filter_period_keeps_episodes_active_in_the_period(participants):
    """Active = started by the end and not ended before the start (days inclusive)."""
    got = measures.filter_period(participants, "2018-01-01", "2018-12-31")
    assert got["episode_id"].tolist() == ["E2", "E6", "E8", "E9", "E10", "E12"]
    got = measures.filter_period(participants, end="2017-01-05")
    assert got["episode_id"].tolist() == ["E5", "E7", "E11"]
    got = measures.filter_period(participants, start="2017-12-31")
    assert "E4" in got["episode_id"].tolist()
    assert len(measures.filter_period(participants)) == len(participants)


def test_filter_period_rejects_reversed_bounds(participants):
    """A start after the end is an error, not an empty table."""
    with pytest.raises(AnalysisInputError, match="start 2018-01-01 after end"):
        measures.filter_period(participants, "2018-01-01", "2017-01-01")


def test_age_groups_and_esf_bands_at_their_edges():
    """Ages 24/25 and 54/55 fall on the right side; a missing age is unknown."""
    ages = pd.DataFrame({"age_at_start": pd.array([15, 24, 25, 29, 30, 49, 50, 54, 55,
                                                   None], "Int64")})  # fmt: skip
    out = measures.add_age_groups(ages)
    assert out["age_group"].astype(str).tolist() == [
        "16-24", "16-24", "25-29", "25-29", "30-39", "40-49", "50+", "50+", "50+",
        "unknown",
    ]  # fmt: skip
    assert out["age_band_esf"].astype(str).tolist() == [
        "under_25", "under_25", "25_54", "25_54", "25_54", "25_54", "25_54", "25_54",
        "over_54", "unknown",
    ]  # fmt: skip


# ------------------------------------------------------------------------- volume


def test_volume_whole_period(participants):
    """Episodes, persons (keyless counted singly), active and exited per subproject."""
    got = measures.volume(participants)
    columns = ["subproject", "enrolled_episodes", "started_episodes",
               "enrolled_persons", "active_at_end", "exited"]  # fmt: skip
    expected = _frame(columns, [("dino", 5, 5, 4, 1, 4), ("aktiv", 6, 6, 5, 2, 4)])
    pdt.assert_frame_equal(_plain(got, columns), expected)
    assert got["anonymous"].isna().all()


def test_volume_in_a_period_with_anonymous(participants, anonymous):
    """Calendar 2017: overlap rule, end-inclusive exits, anonymous of 2017 only."""
    got = measures.volume(
        participants, start="2017-01-01", end="2017-12-31", anonymous=anonymous
    )
    columns = ["subproject", "enrolled_episodes", "started_episodes",
               "enrolled_persons", "active_at_end", "exited", "anonymous",
               "enrolled_with_anonymous"]  # fmt: skip
    expected = _frame(
        columns, [("dino", 5, 5, 4, 2, 3, 2, 7), ("aktiv", 4, 3, 4, 2, 2, 0, 4)]
    )
    expected = expected.astype(
        {"anonymous": "Int64", "enrolled_with_anonymous": "Int64"}
    )
    pdt.assert_frame_equal(_plain(got, columns), expected)


def test_volume_by_age_group_keeps_all_groups_and_cannot_split_anonymous(
    participants, anonymous
):
    """Every age group appears (zeros included); anonymous counts are then missing."""
    got = measures.volume(participants, by="age_group", anonymous=anonymous)
    assert got["age_group"].astype(str).tolist() == list(measures.AGE_GROUPS)
    assert got["enrolled_episodes"].tolist() == [3, 1, 3, 2, 1, 1]
    assert got["anonymous"].isna().all()
    overall = measures.volume(participants, by=None, anonymous=anonymous)
    assert overall[["enrolled_episodes", "anonymous"]].iloc[0].tolist() == [11, 9]


def test_goal_attainment_against_plan(participants, subprojects, anonymous):
    """Enrolled (identified + anonymous) over planned; no interval above 100%."""
    got = measures.goal_attainment(participants, subprojects, anonymous)
    columns = ["forbund", "subproject", "identified", "anonymous", "enrolled", "events"]
    expected = _frame(
        columns,
        [("nordost", "dino", 5, 5, 10, 10), ("hisingen", "unga_vuxna", 0, 0, 0, 0),
         ("insjoriket", "aktiv", 6, 4, 10, 10)],
    )  # fmt: skip
    pdt.assert_frame_equal(_plain(got, columns), expected)
    assert got["planned"].tolist() == [8, 5, 20]
    np.testing.assert_allclose(got["share"], [1.25, 0.0, 0.5])
    low, high = _wilson([0, 10], [5, 20])
    assert np.isnan(got.loc[0, "ci_low"]) and np.isnan(got.loc[0, "ci_high"])
    np.testing.assert_allclose(got.loc[1:, "ci_low"], low)
    np.testing.assert_allclose(got.loc[1:, "ci_high"], high)


def test_misregistrations_are_counted_separately(participants):
    """The one misregistration is reported here, and nowhere else."""
    got = measures.misregistrations(participants)
    expected = _frame(["subproject", "episodes", "misregistrations"],
                      [("dino", 6, 1), ("aktiv", 6, 0)])  # fmt: skip
    pdt.assert_frame_equal(_plain(got, list(expected.columns)), expected)


def test_enrolment_over_time_by_year(participants, subprojects):
    """Yearly starts, cumulative starts and cumulative plan, plus project totals."""
    got = measures.enrolment_over_time(participants, subprojects, freq="year")
    columns = ["subproject", "enrolled", "cumulative_enrolled"]
    expected = _frame(
        columns,
        [("dino", 0, 0), ("dino", 5, 5), ("dino", 0, 5),
         ("unga_vuxna", 0, 0), ("unga_vuxna", 0, 0), ("unga_vuxna", 0, 0),
         ("aktiv", 1, 1), ("aktiv", 3, 4), ("aktiv", 2, 6),
         ("total", 1, 1), ("total", 8, 9), ("total", 2, 11)],
    )  # fmt: skip
    pdt.assert_frame_equal(_plain(got, columns), expected)
    np.testing.assert_allclose(
        got["cumulative_planned"], [0, 4, 8, 0, 0, 5, 0, 10, 20, 0, 14, 33]
    )
    assert got["date"].dt.strftime("%Y-%m-%d").tolist()[:3] == [
        "2016-12-31", "2017-12-31", "2018-12-31",
    ]  # fmt: skip


def test_enrolment_plan_is_spread_evenly_over_the_days_of_the_year(
    participants, subprojects
):
    """Monthly: by 31 January, 31/365 of dino's 2017 plan of 4 is due."""
    got = measures.enrolment_over_time(participants, subprojects, freq="M")
    dino = got.loc[got["subproject"] == "dino"].set_index("date")
    assert dino.loc["2017-01-31", "cumulative_planned"] == pytest.approx(4 * 31 / 365)
    assert dino.loc["2017-01-31", "enrolled"] == 1


# ----------------------------------------------------------------------- outcomes

_OUTCOME_EXPECTED = {
    "work_or_study_after": [(3, 2), (4, 2)],
    "employed_after": [(3, 1), (4, 2)],
    "studying_after": [(3, 1), (4, 0)],
    "dropped_out": [(4, 1), (4, 0)],
    "started_or_increased": [(3, 1), (3, 1)],
    "no_public_support_before": [(4, 1), (3, 1)],
    "no_public_support_after": [(4, 2), (3, 2)],
}


@pytest.mark.parametrize("outcome", list(_OUTCOME_EXPECTED))
def test_outcome_shares_by_subproject(participants, outcome):
    """n (known outcomes among exits) and events per subproject, with Wilson bounds."""
    got = measures.outcome_shares(participants, outcome)
    (n1, e1), (n2, e2) = _OUTCOME_EXPECTED[outcome]
    expected = _frame(
        ["subproject", "n", "events"], [("dino", n1, e1), ("aktiv", n2, e2)]
    )
    pdt.assert_frame_equal(_plain(got, ["subproject", "n", "events"]), expected)
    np.testing.assert_allclose(got["share"], [e1 / n1, e2 / n2])
    low, high = _wilson([e1, e2], [n1, n2])
    np.testing.assert_allclose(got["ci_low"], low)
    np.testing.assert_allclose(got["ci_high"], high)


def test_misregistrations_never_reach_outcomes(participants):
    """Relabelling E5 (a misregistration) as completed changes the result."""
    fixed = participants.assign(
        exit_reason=participants["exit_reason"].where(
            participants["episode_id"] != "E5", "completed"
        )
    )
    assert measures.outcome_shares(participants, "employed_after")["n"].tolist() == [
        3,
        4,
    ]
    assert measures.outcome_shares(fixed, "employed_after")["n"].tolist() == [4, 4]
    assert measures.step_progression(fixed)["n"].tolist() == [5, 3]


def test_outcome_shares_by_sex_keeps_empty_categories(participants):
    """The unknown sex has n = 0 and a NaN share rather than disappearing."""
    got = measures.outcome_shares(participants, by=["subproject", "sex"])
    assert got["sex"].astype(str).tolist() == ["woman", "man", "unknown"] * 2
    assert got["n"].tolist() == [1, 2, 0, 2, 2, 0]
    assert got["events"].tolist() == [1, 1, 0, 1, 1, 0]
    assert np.isnan(got.loc[2, "share"]) and np.isnan(got.loc[2, "ci_low"])


def test_plain_string_columns_give_the_same_groups(participants):
    """Coded columns read as plain strings keep the contract categories and order."""
    coded = ["forbund", "subproject", "sex", "occupation_after", "exit_reason"]
    plain = participants.astype({c: object for c in coded})
    by = ["subproject", "sex"]
    pdt.assert_frame_equal(
        _plain(measures.outcome_shares(plain, by=by), [*by, "n", "events"]),
        _plain(measures.outcome_shares(participants, by=by), [*by, "n", "events"]),
    )


def test_occupation_after_among_exits(participants):
    """Occupation after over ended episodes; unknown is a category and in the total."""
    got = measures.occupation_table(participants)
    codes = list(contract.OCCUPATIONS)
    expected = _frame(
        ["subproject", "occupation", "count", "total"],
        [("dino", c, k, 4) for c, k in zip(codes, [1, 1, 0, 1, 1], strict=True)]
        + [("aktiv", c, k, 4) for c, k in zip(codes, [2, 0, 1, 1, 0], strict=True)],
    )
    pdt.assert_frame_equal(_plain(got, list(expected.columns)), expected)
    low, high = _wilson(expected["count"], expected["total"])
    np.testing.assert_allclose(got["ci_low"], low)


def test_occupation_before_covers_all_episodes(participants):
    """Background at entry counts every non-misregistered episode, active ones too."""
    got = measures.occupation_table(participants, when="before")
    assert got["count"].tolist() == [0, 1, 1, 3, 0, 2, 0, 1, 2, 1]
    assert got["total"].tolist() == [5] * 5 + [6] * 5


def test_occupation_before_after_side_by_side(participants):
    """Before and after over the same exited episodes."""
    got = measures.occupation_before_after(participants, by=None)
    expected = _frame(
        ["occupation", "total", "count_before", "count_after"],
        [("employed", 8, 1, 3), ("studying", 8, 1, 1), ("job_seeking", 8, 1, 1),
         ("other", 8, 4, 2), ("unknown", 8, 1, 1)],
    )  # fmt: skip
    pdt.assert_frame_equal(_plain(got, list(expected.columns)), expected)
    np.testing.assert_allclose(got["share_before"], expected["count_before"] / 8)


def test_exit_reasons_leave_out_misregistrations(participants):
    """Reasons among ended episodes; misregistration is neither a row nor in total."""
    got = measures.exit_reasons(participants)
    reasons = [r for r in contract.EXIT_REASONS if r != "misregistration"]
    assert got["exit_reason"].astype(str).tolist() == reasons * 2
    assert got["count"].tolist() == [2, 1, 1, 0, 0, 0, 0] + [2, 0, 0, 1, 1, 0, 0]
    assert got["total"].tolist() == [4] * 14


def test_esf_age_bands_by_sex(participants):
    """ESF age bands per subproject and sex; shares within subproject and sex."""
    got = measures.esf_breakdown(participants, "age_band_esf")
    nonzero = got.loc[got["count"] > 0]
    expected = _frame(
        ["subproject", "sex", "category", "count", "total"],
        [("dino", "woman", "under_25", 2, 2), ("dino", "man", "25_54", 3, 3),
         ("aktiv", "woman", "25_54", 2, 4), ("aktiv", "woman", "over_54", 1, 4),
         ("aktiv", "woman", "unknown", 1, 4), ("aktiv", "man", "under_25", 1, 2),
         ("aktiv", "man", "25_54", 1, 2)],
    )  # fmt: skip
    pdt.assert_frame_equal(_plain(nonzero, list(expected.columns)), expected)
    assert len(got) == 2 * 3 * 4
    np.testing.assert_allclose(nonzero["share"], [1, 1, 0.5, 0.25, 0.25, 0.5, 0.5])


def test_costs_per_participant_and_per_success(participants, subprojects):
    """Sums over years; ratios are NaN where the denominator is 0."""
    got = measures.costs(participants, subprojects)
    expected = _frame(
        ["subproject", "planned", "participants", "work_or_study"],
        [("dino", 8, 5, 2), ("unga_vuxna", 5, 0, 0), ("aktiv", 20, 6, 2)],
    ).astype({"planned": "Int64"})
    pdt.assert_frame_equal(_plain(got, list(expected.columns)), expected)
    np.testing.assert_allclose(got["cost_sek"], [150e3, 30e3, 120e3])
    np.testing.assert_allclose(got["budget_sek"], [200e3, 40e3, 150e3])
    np.testing.assert_allclose(got["esf_sek"], [80e3, 20e3, 70e3])
    np.testing.assert_allclose(got["cost_per_participant"], [30e3, np.nan, 20e3])
    np.testing.assert_allclose(got["cost_per_work_or_study"], [75e3, np.nan, 60e3])
    total = measures.costs(participants, subprojects, by=())
    assert total["participants"].tolist() == [11]
    assert total["cost_per_work_or_study"].tolist() == [300e3 / 4]


def test_costs_only_by_organisation(participants, subprojects):
    """Costs can only be split by förbund or subproject."""
    with pytest.raises(AnalysisInputError, match="expected one of forbund, subproject"):
        measures.costs(participants, subprojects, by="sex")


# -------------------------------------------------------------------- before/after


def test_income_group_transitions(participants):
    """Before→after income groups over exits; each row adds up to its row total."""
    got = measures.income_transitions(participants)
    assert len(got) == 36
    nonzero = got.loc[got["count"] > 0]
    expected = _frame(
        ["before", "after", "count", "row_total"],
        [("ill_health", "ill_health", 1, 2), ("ill_health", "none_public", 1, 2),
         ("labour_market", "none_public", 1, 1), ("social_assistance",
         "social_assistance", 1, 1), ("multiple", "labour_market", 1, 1),
         ("none_public", "none_public", 2, 2), ("unknown", "unknown", 1, 1)],
    )  # fmt: skip
    pdt.assert_frame_equal(_plain(nonzero, list(expected.columns)), expected)
    np.testing.assert_allclose(nonzero["row_share"], [0.5, 0.5, 1, 1, 1, 1, 1])


def test_income_source_transitions_are_multi_select(participants):
    """Source level: E9 with two sources before counts in two rows."""
    got = measures.income_transitions(participants, level="source")
    assert len(got) == 100
    nonzero = got.loc[got["count"] > 0]
    expected = _frame(
        ["before", "after", "count", "row_total"],
        [("unemployment_insurance", "wage", 1, 1),
         ("activity_support", "activity_support", 1, 1),
         ("sickness_benefit", "wage", 1, 1),
         ("sickness_compensation", "sickness_compensation", 1, 1),
         ("social_assistance", "activity_support", 1, 2),
         ("social_assistance", "social_assistance", 1, 2),
         ("wage", "wage", 1, 1), ("student_aid", "student_aid", 1, 1)],
    )  # fmt: skip
    pdt.assert_frame_equal(_plain(nonzero, list(expected.columns)), expected)
    assert got.loc[got["before"] == "other", "row_total"].eq(0).all()
    assert got.loc[got["before"] == "other", "row_share"].isna().all()


def test_income_change_test_mcnemar_per_subproject(participants):
    """Paired counts and the exact McNemar p-value for 'no public support'."""
    got = measures.income_change_test(participants)
    columns = ["subproject", "n", "before", "after", "b", "c"]
    expected = _frame(columns, [("dino", 4, 1, 2, 0, 1), ("aktiv", 3, 1, 2, 0, 1)])
    pdt.assert_frame_equal(_plain(got, columns), expected)
    assert got["p_value"].tolist() == [1.0, 1.0]
    assert got["method"].tolist() == ["exact", "exact"]


def test_income_change_test_for_a_group_of_sources(participants):
    """'ill_health' = any ill-health source ticked; E10 (unknown income) is left out."""
    got = measures.income_change_test(participants, "ill_health", by=None)
    assert got[["n", "before", "after", "b", "c"]].iloc[0].tolist() == [7, 2, 1, 1, 0]
    with pytest.raises(ValueError, match="state='salary'"):
        measures.income_change_test(participants, "salary")


def test_step_progression(participants):
    """Pairs, moved up ≥ 1, mean change with t interval and Wilcoxon p per group."""
    got = measures.step_progression(participants)
    expected = _frame(["subproject", "n", "events"], [("dino", 4, 2), ("aktiv", 3, 2)])
    pdt.assert_frame_equal(_plain(got, ["subproject", "n", "events"]), expected)
    np.testing.assert_allclose(got["mean_change"], [0.5, 2 / 3])
    mean, low, high = stats.mean_change_interval([2, 0, 1, -1])
    assert got.loc[0, ["mean_ci_low", "mean_ci_high"]].tolist() == pytest.approx(
        [low, high]
    )
    assert got.loc[0, "wilcoxon_p"] == pytest.approx(
        stats.wilcoxon_signed_rank([2, 0, 1, -1])
    )
    health = measures.step_progression(participants, "health")
    assert health["n"].tolist() == [1, 1] and health["events"].tolist() == [1, 0]
    np.testing.assert_allclose(health["mean_change"], [2.0, -1.0])


def test_step_change_distribution(participants):
    """Every change from the smallest to the largest, in every group."""
    got = measures.step_change_distribution(participants)
    expected = _frame(
        ["subproject", "change", "count"],
        [("dino", -1, 1), ("dino", 0, 1), ("dino", 1, 1), ("dino", 2, 1),
         ("aktiv", -1, 0), ("aktiv", 0, 1), ("aktiv", 1, 2), ("aktiv", 2, 0)],
    )  # fmt: skip
    pdt.assert_frame_equal(_plain(got, list(expected.columns)), expected)


# -------------------------------------------------------------------------- time


def test_kaplan_meier_censors_active_episodes_at_the_cutoff(participants):
    """Default cut-off is the latest date (2018-05-10); active episodes are censored."""
    got = measures.time_in_programme(participants)
    aktiv = got.loc[got["subproject"] == "aktiv"]
    assert aktiv["days"].tolist() == [0, 89, 98, 142, 238]
    np.testing.assert_allclose(aktiv["survival"], [1, 5 / 6, 4 / 6, 4 / 9, 2 / 9])
    assert (aktiv["ci_low"] <= aktiv["survival"]).all()
    assert (aktiv["ci_high"] >= aktiv["survival"]).all()


def test_kaplan_meier_with_an_earlier_cutoff(participants):
    """Cut-off 2017-12-31: later starts drop out, E10 (ended 2018) is censored."""
    got = measures.time_in_programme(participants, by="subproject", cutoff="2017-12-31")
    aktiv = got.loc[got["subproject"] == "aktiv"]
    assert aktiv["days"].tolist() == [0, 89, 238]
    np.testing.assert_allclose(aktiv["survival"], [1, 2 / 3, 0])
    summary = measures.time_summary(participants, cutoff="2017-12-31")
    assert summary.loc[1, ["n", "exited", "censored"]].tolist() == [4, 2, 2]


def test_time_summary_km_and_completed_only(participants):
    """KM median includes the censored; completed quartiles use ended episodes only."""
    got = measures.time_summary(participants)
    columns = ["subproject", "n", "exited", "censored"]
    expected = _frame(columns, [("dino", 5, 4, 1), ("aktiv", 6, 4, 2)])
    pdt.assert_frame_equal(_plain(got, columns), expected)
    np.testing.assert_allclose(got["km_median_days"], [244, 142])
    np.testing.assert_allclose(got["completed_median_days"], [200, 120])
    np.testing.assert_allclose(got["completed_q1_days"], [139, 95.75])
    np.testing.assert_allclose(got["completed_q3_days"], [260.75, 166])


def _km_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    """Edge cases plus random groups with many tied days and censoring."""
    rng = np.random.default_rng(3)
    cases = [
        (np.array([]), np.array([], dtype=bool)),  # empty group
        (np.array([5.0, 9.0, 9.0]), np.array([False, False, False])),  # all censored
        (np.array([4.0, 4.0, 4.0]), np.array([True, True, True])),  # one day, all out
        (np.array([1.0, 2.0, 2.0, 7.0]), np.array([True, False, True, True])),
        (np.array([0.0, 0.0, 3.0]), np.array([True, False, False])),  # day-0 exit
    ]
    for size in (1, 2, 10, 40, 200) * 8:
        days = rng.integers(0, 15 if size < 40 else 400, size).astype(float)
        cases.append((days, rng.random(size) < rng.uniform(0.2, 1.0)))
    return cases


def test_kaplan_meier_matches_statsmodels_survfuncright():
    """Curve, Greenwood SE, median and its cloglog interval equal SurvfuncRight's."""
    for days, ended in _km_cases():
        got = measures_time._km(pd.DataFrame({"days": days, "ended": ended}))
        ref = SurvfuncRight(days, ended.astype(float))
        for name in ("surv_times", "surv_prob", "surv_prob_se"):
            np.testing.assert_allclose(
                getattr(got, name), getattr(ref, name), rtol=1e-12, equal_nan=True
            )
        with np.errstate(all="ignore"):
            for p in (0.25, 0.5, 0.75):
                np.testing.assert_allclose(got.quantile(p), ref.quantile(p))
                for alpha in (0.05, 1 - 0.95, 0.2):
                    np.testing.assert_allclose(
                        got.quantile_ci(p, alpha), ref.quantile_ci(p, alpha)
                    )


def test_time_summary_median_interval_matches_statsmodels(participants):
    """KM median and its 95% interval per subproject equal SurvfuncRight's."""
    got = measures.time_summary(participants).set_index("subproject")
    people = participants.loc[participants["exit_reason"] != "misregistration"]
    cutoff = max(people["start_date"].max(), people["end_date"].max())
    for unit, part in people.groupby("subproject"):
        ended = part["end_date"].notna().to_numpy()
        stop = part["end_date"].fillna(cutoff)
        ref = SurvfuncRight((stop - part["start_date"]).dt.days.to_numpy(), ended)
        with np.errstate(all="ignore"):
            low, high = ref.quantile_ci(0.5)
        expected = [ref.quantile(0.5), low, np.nan if np.isinf(high) else high]
        np.testing.assert_allclose(
            got.loc[
                unit, ["km_median_days", "km_median_ci_low", "km_median_ci_high"]
            ].to_numpy(float),
            expected,
        )


def test_trend_uses_exit_periods_without_gaps(participants):
    """Work/study share per exit tertial, from 2017T1 to 2018T2."""
    got = measures.trend(participants, by=None)
    expected = _frame(
        ["period", "n", "events"],
        [("2017T1", 2, 1), ("2017T2", 2, 2), ("2017T3", 1, 1), ("2018T1", 1, 0),
         ("2018T2", 1, 0)],
    )  # fmt: skip
    pdt.assert_frame_equal(_plain(got, list(expected.columns)), expected)
    np.testing.assert_allclose(got["share"], [0.5, 1, 1, 0, 0])


def test_spc_limits_per_group():
    """Centre = mean, limits = centre ± 2.66 × mean moving range; ≥ 12 points ok."""
    shares = [0.4, 0.5, 0.45, 0.55, 0.5] + [0.3] * 6 + [0.35] * 6
    df = pd.DataFrame(
        {
            "subproject": ["dino"] * 5 + ["aktiv"] * 12,
            "period": [f"P{i}" for i in range(5)] + [f"P{i}" for i in range(12)],
            "n": 10,
            "share": shares,
        }
    )
    got = measures.spc_limits(df)
    dino = got.iloc[0]
    assert dino["centre"] == pytest.approx(0.48)
    assert dino["lcl"] == pytest.approx(0.48 - 2.66 * 0.075)
    assert dino["ucl"] == pytest.approx(0.48 + 2.66 * 0.075)
    assert got["enough_points"].tolist() == [False] * 5 + [True] * 12
    assert got.loc[5, "centre"] == pytest.approx(0.325)
    assert got.loc[5, "ucl"] == pytest.approx(0.325 + 2.66 * 0.05 / 11)
    assert got["outside"].tolist() == [False] * 5 + [True] * 12


# ------------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: measures.volume(p.drop(columns="start_date")),
         r"volume\(\) needs column 'start_date' in the participants table"),
        (lambda p: measures.outcome_shares(p.drop(columns="occupation_after"),
                                           "employed_after"),
         r"outcome_shares\(\) needs column 'occupation_after'"),
        (lambda p: measures.step_progression(p, by="region"),
         r"step_progression\(\) needs column 'region'"),
        (lambda p: measures.outcome_shares(p, "happiness"),
         r"outcome_shares\(\) got outcome='happiness'"),
        (lambda p: measures.volume(p.drop(columns="age_at_start"), by="age_group"),
         r"needs column 'age_at_start'"),
    ],
)  # fmt: skip
def test_missing_columns_and_bad_options_are_clear_errors(participants, call, message):
    """Errors name the function and the column or option; they are ValueErrors too."""
    with pytest.raises(ValueError, match=message) as caught:
        call(participants)
    assert isinstance(caught.value, RehabAnalyticsError)


def test_measures_do_not_modify_their_input(participants, subprojects):
    """Pure functions: the input frame is unchanged after every kind of call."""
    before = participants.copy()
    measures.volume(participants, by=["age_group", "period"])
    measures.trend(participants)
    measures.costs(participants, subprojects)
    pdt.assert_frame_equal(participants, before)


# ------------------------------------------------------------------ sample data


def test_every_measure_runs_on_the_sample_truth():
    """All measures run on the generated truth tables and their totals agree."""
    sample = pytest.importorskip("rehab_analytics.sample")
    data = sample.generate(300, seed=7)
    raw = data.participants
    if "participant_key" not in raw.columns:
        valid_id = raw["id_kind"].isin(["personnummer", "samordningsnummer"])
        raw = raw.assign(participant_key=raw["personnummer_norm"].where(valid_id))
    people, plan, anon = raw, data.subprojects, data.anonymous_counts
    valid = int((people["exit_reason"] != "misregistration").sum())
    exits = int(
        (
            (people["exit_reason"] != "misregistration") & people["end_date"].notna()
        ).sum()
    )

    assert measures.volume(people, anonymous=anon)["enrolled_episodes"].sum() == valid
    goal = measures.goal_attainment(people, plan, anon)
    assert goal["identified"].sum() == valid
    assert goal["planned"].sum() == plan["planned_participants"].sum()
    enrol = measures.enrolment_over_time(people, plan)
    total = enrol.loc[enrol["subproject"] == "total"]
    assert total["cumulative_enrolled"].iloc[-1] == valid
    for outcome in measures.OUTCOMES:
        shares = measures.outcome_shares(people, outcome, by=["subproject", "period"])
        assert 0 < shares["n"].sum() <= exits
    assert measures.income_transitions(people)["count"].sum() == exits
    assert (
        measures.income_transitions(people, "source", by="subproject")["count"].sum()
        > 0
    )
    assert (measures.income_change_test(people)["n"] > 0).all()
    assert measures.occupation_table(people)["count"].sum() == exits
    assert measures.occupation_before_after(people)["count_before"].sum() == exits
    assert measures.exit_reasons(people, by="forbund")["count"].sum() == exits
    for dimension in ("age_band_esf", "education", "occupation_before"):
        assert measures.esf_breakdown(people, dimension)["count"].sum() == valid
    assert measures.costs(people, plan)["participants"].sum() == valid
    summary = measures.time_summary(people, by=["subproject", "sex"])
    assert summary["n"].sum() == valid
    curve = measures.time_in_programme(people)
    assert curve["survival"].between(0, 1).all()
    assert measures.step_progression(people)["n"].sum() > 0
    assert measures.step_change_distribution(people, "health")["count"].sum() > 0
    spc = measures.spc_limits(measures.trend(people, "employed_after"))
    assert (spc["lcl"] <= spc["ucl"]).all()
