"""Identity schemes beyond personnummer: South African ID numbers and own client numbers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from rehab_analytics.batch.parameters import tertial_span
from rehab_analytics.errors import SourceDescriptionError
from rehab_analytics.identity import parse_ids, pseudonymise
from rehab_analytics.sources import parse_description


def test_za_ids_give_birth_date_sex_and_one_key_however_written():
    """Spaces, hyphens and a dropped leading zero normalise to one 13-digit id."""
    raw = pd.Series(
        ["8001015009087", "800101-5009-087", "0101014800086", "101014800086"]
    )
    start = pd.Series(pd.to_datetime(["2019-01-01"] * 4))
    out = parse_ids(raw, start, scheme="za_id")
    assert out["id12"].tolist() == ["8001015009087"] * 2 + ["0101014800086"] * 2
    assert out["sex"].tolist() == ["man", "man", "woman", "woman"]
    assert out["birth_year"].tolist() == [1980, 1980, 2001, 2001]
    keys = pseudonymise(out["id12"], b"k" * 32)
    assert keys[0] == keys[1] and keys[2] == keys[3] and keys[0] != keys[2]


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("8001015009088", "invalid"),  # check digit
        ("8013015009087", "invalid"),  # month 13
        ("8001015009387", "invalid"),  # citizenship digit 3
        ("640823-3234", "other"),  # a personnummer is not a South African id
        ("", "missing"),
    ],
)
def test_za_ids_that_fail_a_check_are_not_keyed(raw, kind):
    """Date, citizenship digit and Luhn check are all required."""
    out = parse_ids(pd.Series([raw]), scheme="za_id")
    assert out["id_kind"].tolist() == [kind]
    assert out["id12"].isna().all()


def test_client_numbers_follow_the_declared_normalisation():
    """strip/upper/no_separators make differently typed numbers one client."""
    raw = pd.Series([" ab 12-3 ", "AB123", "ab123", None])
    out = parse_ids(raw, scheme="other", normalise=("strip", "upper", "no_separators"))
    assert out["id12"].tolist()[:3] == ["AB123"] * 3
    assert out["id_kind"].tolist() == ["client_number"] * 3 + ["missing"]
    assert out["birth_year"].isna().all() and out["sex"].isna().all()
    plain = parse_ids(raw, scheme="other")
    assert plain["id12"].tolist()[:3] == ["ab 12-3", "AB123", "ab123"]


def _description(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "x.toml"
    path.write_text(
        '[organisation]\nforbund = "x"\nsubproject = "y"\n' + extra, encoding="utf-8"
    )
    return path


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ('language = "fi"\n', r"organisation\.language.*'sv' or 'en'"),
        ('id_scheme = "ssn"\n', r"organisation\.id_scheme.*se_personnummer, za_id"),
        ('id_normalise = ["upper"]\n', r"only for id_scheme = \"other\""),
        ('currency = "rand"\n', r"organisation\.currency.*ISO 4217"),
        ("sek_rate = -1\n", r"organisation\.sek_rate.*positive"),
    ],
)
def test_description_checks_the_new_organisation_keys(tmp_path, extra, match):
    """Bad language, scheme, normalisation, currency or rate name the key."""
    with pytest.raises(SourceDescriptionError, match=match):
        parse_description(_description(tmp_path, extra))


def test_description_reads_the_new_organisation_keys(tmp_path):
    """English names, language, scheme, currency, rate and region reach the model."""
    org = parse_description(
        _description(
            tmp_path,
            'forbund_name_en = "X CA"\nlanguage = "en"\nid_scheme = "other"\n'
            'id_normalise = ["strip", "upper"]\ncurrency = "ZAR"\nsek_rate = 0.57\n'
            'region = "Gauteng"\n',
        )
    ).organisation
    assert (org.name("forbund", "en"), org.name("forbund"), org.language) == (
        "X CA",
        "x",
        "en",
    )
    assert (org.id_scheme, org.id_normalise, org.currency, org.sek_rate) == (
        "other",
        ("strip", "upper"),
        "ZAR",
        0.57,
    )
    assert org.region == "Gauteng"


@pytest.mark.parametrize(
    ("first", "last", "span"),
    [
        (date(2015, 10, 5), date(2019, 6, 30), ("2015-09-01", "2019-08-31")),
        (date(2019, 1, 1), date(2020, 12, 31), ("2019-01-01", "2020-12-31")),
        (date(2016, 4, 30), date(2016, 5, 1), ("2016-01-01", "2016-08-31")),
    ],
)
def test_default_period_is_whole_tertials(first, last, span):
    """The data's span widens to Jan–Apr, May–Aug, Sep–Dec boundaries."""
    assert tertial_span(first, last) == span
