"""Identity numbers: parsing, validation and keyed pseudonyms, per identity scheme.

Schemes (``contract.ID_SCHEMES``): Swedish personnummer and samordningsnummer
(the default), the South African 13-digit ID number, and an organisation's own
client number with a declared normalisation. Where the key comes from is
:mod:`rehab_analytics.keys`.

Only about 4·10^7 valid personnummer exist, so a plain or publicly salted hash
can be reversed by brute force; pseudonyms are therefore HMAC-SHA256 with a key
kept outside the repository and outputs.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd

__all__ = [
    "luhn_digit",
    "parse_ids",
    "parse_za_ids",
    "parse_other_ids",
    "pseudonymise",
    "hmac_sha256",
    "find_personnummer_like",
]

_PSEUDONYM_BYTES = 16  # 32 hex characters
# Luhn: digits in odd positions are doubled and the digits of the product summed.
_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9])
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_SAMORDNING_OFFSET = 60
_MIN_YEAR, _MAX_YEAR = 1800, 2199
_OUTPUT_DTYPES = {
    "id12": "string",
    "id_kind": "string",
    "birth_date": "datetime64[ns]",
    "sex": "string",
    "birth_year": "Int64",
}


def _luhn_array(digits: np.ndarray) -> np.ndarray:
    """Return Luhn check digits for an (n, 9) integer array of digits."""
    total = _DOUBLED[digits[:, 0::2]].sum(axis=1) + digits[:, 1::2].sum(axis=1)
    return (10 - total % 10) % 10


def _digit_matrix(text: pd.Series, width: int) -> np.ndarray:
    """Return an (n, width) int array from equal-length all-digit strings."""
    fixed = text.to_numpy(dtype=f"U{width}")
    return (fixed.view(np.uint32).reshape(-1, width) - ord("0")).astype(np.int64)


def _luhn_scalar(digits9: str) -> str:
    """Return the check digit for one nine-digit string (for regex scans)."""
    total = sum(int(d) if i % 2 else _DOUBLED[int(d)] for i, d in enumerate(digits9))
    return str(-total % 10)


def _luhn_valid(digits: np.ndarray) -> np.ndarray:
    """Return whether each row of an (n, k) digit array passes the Luhn check.

    The last digit is the check digit; from it leftwards every second digit is
    doubled (as for personnummer and South African ID numbers).
    """
    width = digits.shape[1]
    doubled = (width - 1 - np.arange(width)) % 2 == 1
    total = _DOUBLED[digits[:, doubled]].sum(axis=1) + digits[:, ~doubled].sum(axis=1)
    return total % 10 == 0


def luhn_digit(digits9: pd.Series | str) -> pd.Series | str:
    """Return the Luhn check digit over the nine digits YYMMDDNNN.

    Args:
        digits9: Nine digits, or a Series of them (other values give <NA>).

    Returns:
        The check digit as a one-character string (a Series for Series input).

    Example:
        >>> luhn_digit("640823323")
        '4'
        >>> luhn_digit(pd.Series(["701063239", "640823323"])).tolist()
        ['1', '4']
    """
    if isinstance(digits9, str):
        if len(digits9) != 9 or not digits9.isdigit():
            raise ValueError(f"Expected nine digits YYMMDDNNN, got {digits9!r}.")
        return _luhn_scalar(digits9)
    text = digits9.astype("string")
    ok = _flags(text.str.fullmatch(r"\d{9}"))
    checks = _luhn_array(_digit_matrix(text.where(ok, "000000000"), 9))
    out = pd.Series(checks.astype(str), index=digits9.index, dtype="string")
    return out.where(ok, pd.NA)


def _flags(mask: pd.Series, na: bool = False) -> np.ndarray:
    """Return a nullable boolean Series as a plain numpy bool array."""
    return mask.fillna(na).to_numpy(dtype=bool)


def _clean_text(raw: pd.Series) -> pd.Series:
    """Return ids as text without spaces, leading apostrophes or a float's '.0'."""
    text = raw.astype("string")
    # NBSP and friends come from copy-paste; the apostrophe forces text in Excel.
    text = text.str.replace("[\\s\u00a0\u2007\u202f\ufeff]+", "", regex=True)
    text = text.str.lstrip("'’")
    return text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def _calendar_dates(
    year: np.ndarray, month: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (valid, datetime64[ns]) for integer year/month/day arrays."""
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    last = _MONTH_DAYS[np.clip(month, 1, 12) - 1] + (leap & (month == 2))
    valid = (month >= 1) & (month <= 12) & (day >= 1) & (day <= last)
    valid &= (year >= _MIN_YEAR) & (year <= _MAX_YEAR)
    months = (np.where(valid, year, 1970) - 1970) * 12 + np.where(valid, month, 1) - 1
    days = months.astype("datetime64[M]").astype("datetime64[D]")
    dates = (days + (np.where(valid, day, 1) - 1)).astype("datetime64[ns]")
    return valid, np.where(valid, dates, np.datetime64("NaT", "ns"))


def _birth_years(
    yy: np.ndarray, month_day: np.ndarray, plus: np.ndarray, reference: pd.Series
) -> np.ndarray:
    """Return the birth year that makes the age at ``reference`` 0–99 (+100 if '+')."""
    ref = reference.fillna(pd.Timestamp.today().normalize())
    ref_year = ref.dt.year.to_numpy(dtype=np.int64)
    ref_md = ref.dt.month.to_numpy(dtype=np.int64) * 100 + ref.dt.day.to_numpy(np.int64)
    year = ref_year - (ref_year - yy) % 100
    year -= 100 * ((year == ref_year) & (month_day > ref_md))
    return year - 100 * plus


def parse_ids(
    raw: pd.Series,
    reference_dates: pd.Series | None = None,
    scheme: str = "se_personnummer",
    normalise: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Normalise and validate ids of one identity scheme (default: personnummer).

    Personnummer and samordningsnummer: ten-digit ids get the century that makes
    the age at the reference date 0–99 ('+' adds 100 years); twelve-digit ids
    carry their century. Numbers that lost leading zeros in Excel (born
    2000–2009) are padded back to ten. ``scheme="za_id"`` reads South African ID
    numbers (:func:`parse_za_ids`), ``scheme="other"`` an organisation's own
    client numbers (:func:`parse_other_ids`, with ``normalise``).

    Args:
        raw: Ids as delivered (text or numbers, any separators and spacing).
        reference_dates: Per-row date for the century rule (the episode start),
            aligned on ``raw``'s index; today where missing or not given.
        scheme: One of ``contract.ID_SCHEMES``.
        normalise: The declared steps of ``scheme="other"``.

    Returns:
        A DataFrame on ``raw``'s index with ``id12`` (the normalised id that is
        pseudonymised: twelve digits for a personnummer, thirteen for a South
        African ID), ``id_kind``, ``birth_date``, ``sex`` and ``birth_year``; all
        but ``id_kind`` are NA unless valid.

    Example:
        >>> out = parse_ids(pd.Series(["640823-3234", "701063-2391", "XX", None]))
        >>> out["id12"].tolist()
        ['196408233234', '197010632391', <NA>, <NA>]
        >>> out["id_kind"].tolist()
        ['personnummer', 'samordningsnummer', 'other', 'missing']
    """
    if scheme == "za_id":
        return parse_za_ids(raw, reference_dates)
    if scheme == "other":
        return parse_other_ids(raw, normalise)
    if scheme != "se_personnummer":
        raise ValueError(
            f"id scheme {scheme!r} is not one of se_personnummer, za_id, other."
        )
    text = _clean_text(raw)
    missing = _flags(text.isna() | (text == ""), na=True)
    # [0-9], not \d: \d also matches other scripts' digits (fullwidth, Arabic-Indic).
    shaped = _flags(text.str.fullmatch(r"(?:[0-9]{2})?[0-9]{6}[-+]?[0-9]{4}"))
    short = _flags(text.str.fullmatch(r"[0-9]{7,9}"))
    plus = shaped & _flags(text.str[-5] == "+")
    bare = text.str.replace("-", "", regex=False).str.replace("+", "", regex=False)
    bare = bare.where(shaped | short, "").str.zfill(10).str.zfill(12)
    explicit = shaped & _flags(text.str.len() >= 12)
    digits = _digit_matrix(bare, 12)

    two = digits[:, 0::2] * 10 + digits[:, 1::2]  # century, YY, MM, DD, NN, NC
    month, day_written = two[:, 2], two[:, 3]
    samordning = day_written > _SAMORDNING_OFFSET
    day = np.where(samordning, day_written - _SAMORDNING_OFFSET, day_written)
    reference = _reference(raw, reference_dates)
    year = _birth_years(two[:, 1], month * 100 + day, plus, reference)
    year = np.where(explicit, two[:, 0] * 100 + two[:, 1], year)

    ok_date, dates = _calendar_dates(year, month, day)
    valid = (shaped | short) & ok_date & (_luhn_array(digits[:, 2:11]) == digits[:, 11])
    kind = np.select(
        [missing, ~shaped & ~valid, ~valid, samordning],
        ["missing", "other", "invalid", "samordningsnummer"],
        "personnummer",
    )
    rest = digits[:, 4:] @ (10 ** np.arange(7, -1, -1))
    out = pd.DataFrame(
        {
            "id12": (year * 10**8 + rest).astype(str),
            "id_kind": kind,
            "birth_date": dates,
            "sex": np.where(digits[:, 10] % 2, "man", "woman"),
            "birth_year": year,
        },
        index=raw.index,
    ).astype(_OUTPUT_DTYPES)
    derived = ["id12", "birth_date", "sex", "birth_year"]
    out[derived] = out[derived].where(np.repeat(valid[:, None], len(derived), axis=1))
    return out


def _reference(raw: pd.Series, reference_dates: pd.Series | None) -> pd.Series:
    """Return the per-row reference dates aligned on ``raw`` (NaT where not given)."""
    if reference_dates is None:
        return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    if not reference_dates.index.equals(raw.index):
        reference_dates = reference_dates.reindex(raw.index)
    return pd.to_datetime(reference_dates, errors="coerce")


# South African ID: YYMMDD SSSS C A Z; sequence 0000–4999 female, 5000–9999 male;
# C is 0 (citizen), 1 (permanent resident) or 2 (refugee); Z is a Luhn check digit.
_ZA_MALE_FROM = 5000
_ZA_CITIZENSHIP = (0, 1, 2)


def parse_za_ids(
    raw: pd.Series, reference_dates: pd.Series | None = None
) -> pd.DataFrame:
    """Normalise and validate South African 13-digit ID numbers.

    Spaces and hyphens are dropped; twelve digits (an id of someone born
    2000–2009 whose leading zero Excel dropped) are padded back to thirteen. An
    id is valid when its first six digits are a date that exists (the century
    that makes the age at the reference date 0–99), the citizenship digit is 0,
    1 or 2 and the Luhn check digit fits. Sex comes from the sequence digits
    (0000–4999 woman, 5000–9999 man).

    Args:
        raw: Ids as delivered.
        reference_dates: Per-row date for the century rule (the episode start).

    Returns:
        As :func:`parse_ids`; ``id_kind`` is ``za_id``, ``invalid`` (13 digits
        that fail a check), ``other`` or ``missing``.

    Example:
        >>> out = parse_za_ids(pd.Series(["800101 5009 087", "8001015009088", "x", None]))
        >>> out["id12"].tolist(), out["sex"].tolist()[0], out["birth_year"].tolist()[0]
        (['8001015009087', <NA>, <NA>, <NA>], 'man', 1980)
        >>> out["id_kind"].tolist()
        ['za_id', 'invalid', 'other', 'missing']
    """
    text = _clean_text(raw).str.replace("-", "", regex=False)
    missing = _flags(text.isna() | (text == ""), na=True)
    shaped = _flags(text.str.fullmatch(r"[0-9]{12,13}"))
    bare = text.where(shaped, "").str.zfill(13)
    digits = _digit_matrix(bare, 13)
    two = digits[:, 0:6:2] * 10 + digits[:, 1:6:2]  # YY, MM, DD
    month, day = two[:, 1], two[:, 2]
    plus = np.zeros(len(raw), dtype=bool)
    year = _birth_years(
        two[:, 0], month * 100 + day, plus, _reference(raw, reference_dates)
    )
    ok_date, dates = _calendar_dates(year, month, day)
    sequence = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    valid = (
        shaped & ok_date & np.isin(digits[:, 10], _ZA_CITIZENSHIP) & _luhn_valid(digits)
    )
    kind = np.select(
        [missing, ~shaped, ~valid], ["missing", "other", "invalid"], "za_id"
    )
    return _id_frame(
        raw.index,
        bare,
        kind,
        dates,
        np.where(sequence >= _ZA_MALE_FROM, "man", "woman"),
        year,
        valid,
    )


def _id_frame(index, ids, kind, dates, sex, year, valid) -> pd.DataFrame:
    """Return the :func:`parse_ids` frame; derived values only where ``valid``."""
    out = pd.DataFrame(
        {
            "id12": np.asarray(ids, dtype=object),
            "id_kind": kind,
            "birth_date": dates,
            "sex": sex,
            "birth_year": year,
        },
        index=index,
    ).astype(_OUTPUT_DTYPES)
    derived = ["id12", "birth_date", "sex", "birth_year"]
    out[derived] = out[derived].where(np.repeat(valid[:, None], len(derived), axis=1))
    return out


_NORMALISE = {
    "strip": lambda t: t.str.replace(r"\s+", "", regex=True),
    "upper": lambda t: t.str.upper(),
    "no_separators": lambda t: t.str.replace(r"[\s\-/._:]+", "", regex=True),
}


def parse_other_ids(raw: pd.Series, normalise: tuple[str, ...] = ()) -> pd.DataFrame:
    """Normalise an organisation's own client numbers with its declared steps.

    Leading and trailing spaces and a number's ``.0`` (Excel) always go; then
    the steps in order: ``strip`` (every space), ``upper`` (upper case),
    ``no_separators`` (spaces, ``-``, ``/``, ``.``, ``_``, ``:``). Any
    non-empty result is a ``client_number``; a client number holds no birth
    date or sex.

    Example:
        >>> out = parse_other_ids(pd.Series([" ab-12 ", "AB12", ""]), ("upper", "no_separators"))
        >>> out["id12"].tolist(), out["id_kind"].tolist()
        (['AB12', 'AB12', <NA>], ['client_number', 'client_number', 'missing'])
    """
    unknown = sorted(set(normalise) - set(_NORMALISE))
    if unknown:
        raise ValueError(
            f"id normalisation {unknown[0]!r} is not one of {', '.join(_NORMALISE)}."
        )
    text = raw.astype("string").str.replace(
        "[\u00a0\u2007\u202f\ufeff]", " ", regex=True
    )
    text = text.str.strip().str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    for step in normalise:
        text = _NORMALISE[step](text)
    present = _flags(text.notna() & (text != ""))
    n = len(raw)
    return _id_frame(
        raw.index,
        text.fillna("").to_numpy(dtype=object),
        np.where(present, "client_number", "missing"),
        np.full(n, np.datetime64("NaT", "ns")),
        np.full(n, None, dtype=object),
        np.full(n, None, dtype=object),
        present,
    )


# RFC 2104 pads: the key XOR 0x36 (inner) and 0x5C (outer), as byte translations.
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))
_SHA256_BLOCK = 64


def hmac_sha256(messages: list[str], key: bytes) -> list[bytes]:
    """Return the HMAC-SHA256 digest of each message (UTF-8), exactly as ``hmac.digest``.

    The keyed inner and outer hash states are computed once and copied per
    message, which is several times faster than ``hmac.digest`` per message
    (OpenSSL sets the key up again on every call).

    Example:
        >>> import hmac
        >>> hmac_sha256(["abc"], b"k" * 32)[0] == hmac.digest(b"k" * 32, b"abc", "sha256")
        True
    """
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_SHA256_BLOCK, b"\0")
    inner = hashlib.sha256(key.translate(_IPAD))
    outer = hashlib.sha256(key.translate(_OPAD))
    out = []
    for message in messages:
        h = inner.copy()
        h.update(message.encode("utf-8"))
        o = outer.copy()
        o.update(h.digest())
        out.append(o.digest())
    return out


def pseudonymise(id12: pd.Series, key: bytes) -> pd.Series:
    """Return keyed pseudonyms: HMAC-SHA256 of each id, hex, first 32 characters.

    Args:
        id12: Normalised twelve-digit ids (``parse_ids``'s ``id12``); NA stays NA.
        key: The secret key (see :func:`rehab_analytics.keys.resolve_key`).

    Returns:
        A string Series on the same index.

    Example:
        >>> ids = pd.Series(["196408233234", None, "196408233234"])
        >>> out = pseudonymise(ids, b"k" * 32)
        >>> out[0] == out[2], len(out[0]), out[1] is pd.NA
        (True, 32, True)
    """
    if not isinstance(key, bytes | bytearray) or not key:
        raise TypeError("The pseudonymisation key must be non-empty bytes.")
    codes, uniques = pd.factorize(id12.astype("string"))
    digests = [
        d[:_PSEUDONYM_BYTES].hex()
        for d in hmac_sha256(uniques.to_numpy(dtype=object).tolist(), bytes(key))
    ]
    # factorize codes NA as -1, which picks the trailing NA.
    table = pd.array([*digests, pd.NA], dtype="string")
    return pd.Series(table[codes], index=id12.index, name=id12.name)


# Digits not glued to letters or other digits, and not the decimals of a number,
# so hex pseudonyms and shares such as 0.4583333333 are not reported.
_PNR_LIKE = re.compile(
    r"(?<![0-9A-Za-z])(?<!\d\.)(?:\d{2})?(\d{6})[-+]?(\d{4})(?![0-9A-Za-z])(?!\.\d)"
)


def find_personnummer_like(text: str) -> list[str]:
    """Return every Luhn-valid personnummer- or samordningsnummer-shaped match.

    Used by privacy scans: it looks only at shape (10 or 12 digits, optional '-'
    or '+' before the last four, month 01–12, day 01–31 or 61–91) and the check
    digit, not at whether the date exists.

    Example:
        >>> find_personnummer_like("id 640823-3234, tel 0701234567, 19701063-2391")
        ['640823-3234', '19701063-2391']
    """
    hits = []
    for match in _PNR_LIKE.finditer(text):
        date, tail = match.groups()
        month, day = int(date[2:4]), int(date[4:6])
        if not (1 <= month <= 12 and (1 <= day <= 31 or 61 <= day <= 91)):
            continue
        if _luhn_scalar(date + tail[:3]) == tail[3]:
            hits.append(match.group(0))
    return hits
