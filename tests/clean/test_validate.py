"""Tests for rehab_analytics.clean.validate: contract dtypes and readable validation failures."""

from __future__ import annotations

import pandas as pd
import pytest

from rehab_analytics import contract
from rehab_analytics.clean.validate import (
    coerce_anonymous_counts,
    coerce_participants,
    coerce_rejects,
    coerce_subprojects,
    table_dtypes,
    validate_table,
)
from rehab_analytics.sources import Organisation, Registry

REGISTRY = Registry(
    (
        Organisation("vaster", "SF Väster", "motiverande", "Motiverande"),
        Organisation("nordost", "SF Nordost", "dino", "Dino"),
    )
)


def _participant(**overrides) -> dict:
    row = {
        "episode_id": "E0123456789abcdef",
        "participant_key": "0" * 32,
        "id_kind": "personnummer",
        "forbund": "nordost",
        "subproject": "dino",
        "sex": "woman",
        "birth_year": 1990,
        "age_at_start": 27,
        "municipality": "1480",
        "education": "compulsory",
        "start_date": pd.Timestamp("2017-01-02"),
        "end_date": pd.Timestamp("2017-02-01"),
        "days_in_programme": 30,
        **{
            c: False
            for c in contract.income_columns("before")
            + contract.income_columns("after")
        },
        "income_group_before": "unknown",
        "income_group_after": "unknown",
        "support_years_before": "unknown",
        "occupation_before": "job_seeking",
        "occupation_after": "employed",
        "exit_reason": "completed",
        "work_or_study_after": True,
        "step_start": 2,
        "step_end": 3,
        "health_start": None,
        "health_end": None,
        "source_file": "a.xlsx",
        "source_sheet": "S",
        "source_row": 2,
    }
    return row | overrides


def _participants(*rows: dict) -> pd.DataFrame:
    return coerce_participants(pd.DataFrame(list(rows)), REGISTRY)


def test_coerce_sets_exact_dtypes():
    """Coded columns become categoricals with contract/registry categories, in order."""
    df = _participants(_participant())
    assert list(df.columns) == list(contract.PARTICIPANT_COLUMNS)
    assert list(df["forbund"].cat.categories) == ["vaster", "nordost"]
    assert list(df["subproject"].cat.categories) == ["motiverande", "dino"]
    assert list(df["exit_reason"].cat.categories) == list(contract.EXIT_REASONS)
    assert str(df["start_date"].dtype) == "datetime64[ns]"
    assert str(df["work_or_study_after"].dtype) == "boolean"
    assert (
        str(df["source_row"].dtype) == "Int64"
        and str(df["episode_id"].dtype) == "string"
    )
    assert df["income_before__wage"].dtype == bool


def test_valid_participants_pass():
    """A contract-conforming table has no failures."""
    assert validate_table(_participants(_participant()), "participants", REGISTRY).empty


@pytest.mark.parametrize(
    ("overrides", "check"),
    [
        (
            {"end_date": pd.Timestamp("2016-12-01"), "days_in_programme": -32},
            "end_not_before_start",
        ),
        (
            {"exit_reason": "misregistration"},
            "no_outcome_for_misregistration_or_active",
        ),
        ({"days_in_programme": 5}, "days_match_dates"),
        ({"age_at_start": 80}, "in_range"),
        ({"municipality": "Göteborg"}, "str_matches"),
        ({"participant_key": None}, "key_only_for_valid_ids"),
        ({"work_or_study_after": False}, "work_or_study_matches_occupation"),
    ],
)
def test_contract_violations_become_readable_rows(overrides, check):
    """Each violated rule is one row naming the check, with the file and row."""
    failures = validate_table(
        _participants(_participant(**overrides)), "participants", REGISTRY
    )
    assert check in " ".join(failures["check"])
    assert failures["message"].str.contains(r"a\.xlsx, sheet 'S', row 2").any()


def test_duplicate_episode_ids_fail():
    """episode_id must be unique."""
    failures = validate_table(
        _participants(_participant(), _participant(source_row=3)),
        "participants",
        REGISTRY,
    )
    assert "field_uniqueness" in failures["check"].tolist()


def test_unknown_codes_fail_as_missing():
    """A code outside the categories becomes NA on coercion and fails validation."""
    failures = validate_table(
        _participants(_participant(sex="female")), "participants", REGISTRY
    )
    assert "sex" in failures["column"].tolist()


def test_subprojects_and_anonymous_counts():
    """Subprojects and anonymous counts get Int64 money/counts and unique keys."""
    sub = coerce_subprojects(
        pd.DataFrame(
            {
                "forbund": ["nordost", "nordost"],
                "subproject": ["dino", "dino"],
                "name": ["Dino", "Dino"],
                "year": [2017, 2017],
                "budget_sek": [1000.0, None],
            }
        ),
        REGISTRY,
    )
    assert str(sub["budget_sek"].dtype) == "Int64"
    assert not validate_table(sub, "subprojects", REGISTRY).empty
    anon = coerce_anonymous_counts(
        pd.DataFrame(
            {
                "forbund": ["vaster"],
                "subproject": ["motiverande"],
                "year": [2018],
                "sex": ["man"],
                "count": [2],
            }
        ),
        REGISTRY,
    )
    assert validate_table(anon, "anonymous_counts", REGISTRY).empty
    assert str(table_dtypes("anonymous_counts", REGISTRY)["count"]) == "Int64"


def test_rejects_dtypes():
    """The rejects table has string columns, Int64 rows and a status categorical."""
    df = coerce_rejects(
        pd.DataFrame(
            [
                {
                    "source": "nordost",
                    "table": "participants",
                    "source_file": "a.csv",
                    "source_sheet": "",
                    "source_row": 3,
                    "column": "Kön",
                    "value": "Q",
                    "status": "warning",
                    "reason": "unknown_label",
                    "message": "…",
                }
            ]
        )
    )
    assert list(df["status"].cat.categories) == list(contract.REJECT_STATUSES)
    assert validate_table(df, "rejects", REGISTRY).empty
