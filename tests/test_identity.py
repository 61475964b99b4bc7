"""Tests for personnummer parsing, pseudonyms and the privacy scan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from rehab_analytics.identity import (
    find_personnummer_like,
    luhn_digit,
    parse_ids,
    pseudonymise,
)

REF_2016 = pd.Timestamp("2016-06-01")


def _with_check(nine: str) -> str:
    return nine + luhn_digit(nine)


def _parse_one(value, reference=REF_2016) -> pd.Series:
    refs = pd.Series([reference])
    return parse_ids(pd.Series([value], dtype=object), refs).iloc[0]


# --- Luhn -------------------------------------------------------------------


def test_luhn_digit_scalar_known_examples():
    """Skatteverket's examples 640823-3234 and 701063-2391 give check digits 4 and 1."""
    assert luhn_digit("640823323") == "4"
    assert luhn_digit("701063239") == "1"


def test_luhn_digit_series_matches_scalar_and_marks_bad_input():
    """The vectorised Luhn agrees with the scalar one and gives NA for non-9-digit text."""
    nines = pd.Series(
        ["640823323", "701063239", "121212121", "12", None], index=list("abcde")
    )
    expected = pd.Series(
        ["4", "1", "2", pd.NA, pd.NA], index=list("abcde"), dtype="string"
    )
    pdt.assert_series_equal(luhn_digit(nines), expected)
    assert luhn_digit("121212121") == "2"


def test_luhn_digit_scalar_rejects_wrong_length():
    """A scalar that is not nine digits is a programming error."""
    with pytest.raises(ValueError, match="nine digits"):
        luhn_digit("12345")


# --- parse_ids --------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "640823-3234",
        "6408233234",
        "196408233234",
        "19640823-3234",
        " 640823-3234 ",
        "'640823-3234",
        "640823\u00a0-\u00a03234",
        "\u00a06408233234\u00a0",
        6408233234,
        6408233234.0,
        196408233234.0,
        "6408233234.0",
    ],
)
def test_parse_ids_accepts_every_spelling_of_one_personnummer(raw):
    """Separators, 10/12 digits, spaces, NBSP, apostrophe and numbers all normalise."""
    row = _parse_one(raw)
    assert row["id12"] == "196408233234"
    assert row["id_kind"] == "personnummer"
    assert row["birth_date"] == pd.Timestamp("1964-08-23")
    assert row["sex"] == "man"
    assert row["birth_year"] == 1964


def test_parse_ids_full_frame_with_dtypes_and_index():
    """The output has the contract columns, nullable dtypes and the input's index."""
    raw = pd.Series(
        ["701063-2391", "19990231-1234", "19900101-T123", None], index=[10, 11, 12, 13]
    )
    refs = pd.Series([REF_2016] * 4, index=raw.index)
    expected = pd.DataFrame(
        {
            "id12": pd.array(["197010632391", pd.NA, pd.NA, pd.NA], dtype="string"),
            "id_kind": pd.array(
                ["samordningsnummer", "invalid", "other", "missing"], dtype="string"
            ),
            "birth_date": pd.to_datetime(["1970-10-03", None, None, None]).astype(
                "datetime64[ns]"
            ),
            "sex": pd.array(["man", pd.NA, pd.NA, pd.NA], dtype="string"),
            "birth_year": pd.array([1970, pd.NA, pd.NA, pd.NA], dtype="Int64"),
        },
        index=raw.index,
    )
    pdt.assert_frame_equal(parse_ids(raw, refs), expected)


def test_parse_ids_does_not_mutate_input():
    """parse_ids is pure: the raw Series is left as it was."""
    raw = pd.Series([" 640823-3234", 6408233234.0], dtype=object)
    before = raw.copy()
    parse_ids(raw)
    pdt.assert_series_equal(raw, before)


def test_parse_ids_woman_from_even_ninth_digit():
    """The 9th digit of the 10-digit form decides sex: even is woman."""
    pnr = _with_check("811228988")
    row = _parse_one(pnr)
    assert (row["sex"], row["birth_year"], row["id12"]) == ("woman", 1981, "19" + pnr)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("640823-3235", "invalid"),  # wrong check digit
        ("19990231" + "1234", "invalid"),  # 31 February
        ("641323-3234", "invalid"),  # month 13
        ("990229-" + _with_check("990229123")[6:], "invalid"),  # 1999 is no leap year
        ("19900101-T123", "other"),  # reservnummer-like
        ("XX", "other"),
        ("12345", "other"),
        ("123456789", "other"),  # nine digits that do not validate when padded
        ("6408233234567", "other"),  # 13 digits
        (123.5, "other"),
        ("", "missing"),
        ("   ", "missing"),
        ("\u00a0", "missing"),
        (None, "missing"),
        (np.nan, "missing"),
    ],
)
def test_parse_ids_classifies_bad_values(raw, kind):
    """Digit-shaped but wrong is invalid, other shapes are other, blanks are missing."""
    row = _parse_one(raw)
    assert row["id_kind"] == kind
    assert row["id12"] is pd.NA and pd.isna(row["birth_date"]) and row["sex"] is pd.NA


def test_parse_ids_leap_day_2000_is_valid():
    """29 February 2000 exists (divisible by 400)."""
    row = _parse_one("20" + _with_check("000229123"))
    assert row["birth_date"] == pd.Timestamp("2000-02-29")


def test_parse_ids_pads_numbers_that_lost_leading_zeros():
    """A number from Excel for someone born 2005 (9 digits) or 2000-01 (7 digits) is padded."""
    born_2005 = _with_check("050101123")
    born_2000 = _with_check("000101123")
    raw = pd.Series([float(born_2005), int(born_2000)], dtype=object)
    out = parse_ids(raw, pd.Series([REF_2016] * 2))
    assert out["id12"].tolist() == ["20" + born_2005, "20" + born_2000]


def test_parse_ids_pads_nine_digit_text_only_when_it_validates():
    """Nine-digit text that validates once zero-padded is a lost leading zero."""
    out = parse_ids(pd.Series(["501011233", "501011234"]), pd.Series([REF_2016] * 2))
    assert out["id12"].tolist() == ["200501011233", pd.NA]
    assert out["id_kind"].tolist() == ["personnummer", "other"]


def test_parse_ids_century_follows_reference_date():
    """Ten digits get the century that makes age 0–99 at the reference date."""
    pnr = _with_check("150601123")
    refs = pd.Series(pd.to_datetime(["2016-01-01", "2015-06-01", "2015-05-31"]))
    out = parse_ids(pd.Series([pnr] * 3), refs)
    assert out["birth_year"].tolist() == [2015, 2015, 1915]


def test_parse_ids_plus_means_age_100_or_more():
    """'+' adds a hundred years: 121212+1212 is born 1912 even in 2016."""
    out = parse_ids(
        pd.Series(["121212+1212", "121212-1212"]), pd.Series([REF_2016] * 2)
    )
    assert out["id12"].tolist() == ["191212121212", "201212121212"]


def test_parse_ids_without_reference_uses_today():
    """Without reference dates a 10-digit id is never born in the future."""
    row = parse_ids(pd.Series(["6408233234"])).iloc[0]
    assert row["birth_year"] == 1964


def test_parse_ids_missing_reference_date_falls_back_to_today():
    """A NaT reference date behaves like no reference date."""
    out = parse_ids(pd.Series(["6408233234"]), pd.Series([pd.NaT]))
    assert out["birth_year"].tolist() == [1964]


def test_parse_ids_samordningsnummer_twelve_digits():
    """A 12-digit samordningsnummer keeps its century and shifts the day by 60."""
    row = _parse_one("19701063-2391")
    assert (row["id_kind"], row["birth_date"]) == (
        "samordningsnummer",
        pd.Timestamp("1970-10-03"),
    )


# --- pseudonymise -----------------------------------------------------------


def test_pseudonymise_is_deterministic_and_keyed():
    """Same id and key give the same 32-hex pseudonym; another key gives another."""
    ids = pd.Series(
        ["196408233234", pd.NA, "196408233234", "197010632391"], dtype="string"
    )
    a = pseudonymise(ids, b"a" * 32)
    b = pseudonymise(ids, b"b" * 32)
    assert a[0] == a[2] != a[3]
    assert a[1] is pd.NA
    assert a.str.fullmatch("[0-9a-f]{32}").dropna().all()
    assert not set(a.dropna()) & set(b.dropna())
    pdt.assert_series_equal(a, pseudonymise(ids.copy(), b"a" * 32))


def test_pseudonymise_known_value():
    """The pseudonym is the first 32 hex characters of HMAC-SHA256."""
    import hashlib
    import hmac

    expected = hmac.new(b"k" * 32, b"196408233234", hashlib.sha256).hexdigest()[:32]
    assert pseudonymise(pd.Series(["196408233234"]), b"k" * 32)[0] == expected


# --- find_personnummer_like -------------------------------------------------


def test_find_personnummer_like_hits():
    """All written forms of valid ids are found in free text."""
    text = (
        "a 640823-3234; b 6408233234, c 196408233234\n"
        "d 19701063-2391 e 121212+1212 f,6408233234,g"
    )
    assert find_personnummer_like(text) == [
        "640823-3234",
        "6408233234",
        "196408233234",
        "19701063-2391",
        "121212+1212",
        "6408233234",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "ring 0701234568",  # phone number, impossible date
        "ring 0701011234",  # phone number with a possible date, Luhn fails
        "640823-3235",  # Luhn fails
        "6408233235",
        "pseudonym a6408233234f0e",  # glued to hex letters
        "share 0.6408233234",  # decimals of a number
        "16408233234",  # 11 digits
        "640823-323",
        "",
    ],
)
def test_find_personnummer_like_non_hits(text):
    """Phone numbers, bad check digits, hex pseudonyms and decimals are not reported."""
    assert find_personnummer_like(text) == []


@pytest.mark.slow
def test_parse_ids_is_fast_on_many_rows():
    """Half a million rows parse in a few seconds (vectorised, no row loop)."""
    import time

    raw = pd.Series(["640823-3234", "701063-2391", "XX", None, 6408233234.0] * 100_000)
    start = time.perf_counter()
    out = parse_ids(raw)
    assert time.perf_counter() - start < 10
    assert (out["id_kind"] == "personnummer").sum() == 200_000
