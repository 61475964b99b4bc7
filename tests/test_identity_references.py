"""Identity and crypto code against independent references: hmac and python-stdnum."""

from __future__ import annotations

import datetime as dt
import hmac

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.se import personnummer as stdnum_pnr

from rehab_analytics.identity import hmac_sha256, parse_ids

REFERENCE = pd.Timestamp("2016-06-01")


@settings(max_examples=300, deadline=None)
@given(
    key=st.binary(min_size=1, max_size=200),
    messages=st.lists(st.text(max_size=40), min_size=1, max_size=5),
)
def test_hmac_equals_the_standard_library(key, messages):
    """Our precomputed-state HMAC-SHA256 equals hmac.digest for keys of 1-200 bytes."""
    ours = hmac_sha256(messages, key)
    assert ours == [hmac.digest(key, m.encode("utf-8"), "sha256") for m in messages]


ids = st.tuples(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2010, 12, 31)),
    st.integers(min_value=0, max_value=999),
    st.integers(min_value=0, max_value=9),
    st.sampled_from(["-", ""]),
)


def _text(birth: dt.date, serial: int, check: int, sep: str, day_offset: int = 0):
    day = birth.day + day_offset
    return f"{birth:%Y%m}{day:02d}{sep}{serial:03d}{check}"


@settings(max_examples=400, deadline=None)
@given(number=ids)
def test_personnummer_agrees_with_python_stdnum(number):
    """Validity, birth date and sex of a 12-digit personnummer match python-stdnum."""
    text = _text(*number)
    ours = parse_ids(pd.Series([text], dtype=object), pd.Series([REFERENCE])).iloc[0]
    try:
        stdnum_pnr.validate(text)
        valid = True
    except ValidationError:
        valid = False
    assert (ours["id_kind"] == "personnummer") == valid, text
    if valid:
        assert ours["birth_date"].date() == stdnum_pnr.get_birth_date(text)
        assert ours["sex"] == {"M": "man", "F": "woman"}[stdnum_pnr.get_gender(text)]
        assert ours["id12"] == stdnum_pnr.compact(text).replace("-", "")


@settings(max_examples=300, deadline=None)
@given(number=ids)
def test_samordningsnummer_check_digit_agrees_with_stdnum_luhn(number):
    """A samordningsnummer (day + 60) is accepted exactly when its Luhn digit is right."""
    text = _text(*number, day_offset=60)
    ours = parse_ids(pd.Series([text], dtype=object), pd.Series([REFERENCE])).iloc[0]
    ten = text.replace("-", "")[2:]
    assert (ours["id_kind"] == "samordningsnummer") == luhn.is_valid(ten), text
