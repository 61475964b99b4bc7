"""Raw cells to values: numbers, dates, vocabulary codes, income flags and groups, ids.

Every function is pure and vectorised: each distinct cell of a factorised column
(:class:`~rehab_analytics.clean.column._Column`) is interpreted once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from rehab_analytics import contract
from rehab_analytics.clean.column import _Column
from rehab_analytics.identity import hmac_sha256
from rehab_analytics.sources import normalise_label

__all__ = [
    "MIN_DATE",
    "parse_numbers",
    "parse_dates",
    "map_vocabulary",
    "income_flags",
    "income_groups",
    "episode_ids",
]

MIN_DATE = pd.Timestamp("2000-01-01")
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000
_EXCEL_ORIGIN = dt.date(1899, 12, 30)


def _number_of(text: str, strip: re.Pattern, decimal: str) -> float:
    s = strip.sub("", text).replace("\u2212", "-")
    if decimal != ".":
        s = s.replace(decimal, ".")
    try:
        value = float(s)
    except ValueError:
        return np.nan
    return value if np.isfinite(value) else np.nan


def _numbers(
    col: _Column, decimal: str, thousands: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return (float64 with NaN, invalid mask) for a factorised column."""
    seps = r"\s\u00a0\u202f\u2009" + (re.escape(thousands) if thousands else "")
    strip = re.compile(f"[{seps}]")
    per_unique = []
    for raw, text in zip(col.uniques, col.texts[:-1], strict=True):
        if isinstance(raw, int | float | np.integer | np.floating) and not isinstance(
            raw, bool
        ):
            per_unique.append(float(raw) if np.isfinite(raw) else np.nan)
        else:
            per_unique.append(_number_of(text, strip, decimal))
    values = col.take(per_unique, np.nan, dtype=float)
    invalid = np.isnan(values) & ~col.empty
    return values, invalid


def parse_numbers(
    values: pd.Series, *, decimal: str = ",", thousands: str = " "
) -> tuple[pd.Series, pd.Series]:
    """Read numbers from raw cells (Swedish formats accepted).

    Decimal comma, spaces/non-breaking spaces as thousands separators, numbers
    stored as text and leading apostrophes are all read; Excel error values are
    empty.

    Returns:
        (Float64 numbers, invalid mask): invalid marks non-empty cells that are
        not numbers.

    Example:
        >>> n, bad = parse_numbers(pd.Series(["1 234,5", 7, "x", None, "'12"], dtype=object))
        >>> n.tolist(), bad.tolist()
        ([1234.5, 7.0, <NA>, <NA>, 12.0], [False, False, True, False, False])
    """
    numbers, invalid = _numbers(_Column(values), decimal, thousands)
    out = pd.Series(numbers, index=values.index, dtype="Float64")
    return out, pd.Series(invalid, index=values.index)


def _date_of(
    value: object, text: str, formats: Sequence[str], serial: bool
) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        if serial and _SERIAL_MIN <= number <= _SERIAL_MAX:
            return _EXCEL_ORIGIN + dt.timedelta(days=int(number))
        if not number.is_integer():
            return None
    # isdecimal, not isdigit: "¹" passes isdigit() but int() refuses it.
    if serial and text.isdecimal() and _SERIAL_MIN <= int(text) <= _SERIAL_MAX:
        return _EXCEL_ORIGIN + dt.timedelta(days=int(text))
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        return None


def _dates(
    col: _Column, formats: Sequence[str], serial: bool, max_year: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Return (datetime64[ns] with NaT, status per row) for a factorised column."""
    last = dt.date(max_year or dt.date.today().year + 1, 12, 31)
    per_unique, status_u = [], []
    for raw, text in zip(col.uniques, col.texts[:-1], strict=True):
        day = _date_of(raw, text, formats, serial)
        if day is None:
            per_unique.append(np.datetime64("NaT"))
            status_u.append("invalid")
        elif not (MIN_DATE.date() <= day <= last):
            per_unique.append(np.datetime64("NaT"))
            status_u.append("out_of_range")
        else:
            per_unique.append(np.datetime64(day, "D"))
            status_u.append("ok")
    dates = col.take(
        np.array(per_unique, dtype="datetime64[D]"),
        np.datetime64("NaT"),
        "datetime64[D]",
    )
    status = col.take(status_u, "empty")
    status[col.excel_error] = "empty"
    dates[col.excel_error] = np.datetime64("NaT")
    return dates.astype("datetime64[ns]"), status


def parse_dates(
    values: pd.Series,
    formats: Sequence[str] = ("%Y-%m-%d",),
    *,
    excel_serial: bool = False,
    max_year: int | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Read dates: native dates, Excel serials (if declared) and text in ``formats``.

    Excel serials are read only when ``excel_serial`` is true and the number is in
    20000–80000 (1954–2119), so ordinary integers never become dates. Each
    distinct value is parsed once.

    Returns:
        (datetime64[ns] dates, status): status is 'ok', 'empty', 'invalid' or
        'out_of_range' (before 2000 or after ``max_year``, default next year);
        only 'ok' dates are kept.

    Example:
        >>> d, s = parse_dates(pd.Series(["2017-02-30", 42736, "01/02/2017", None],
        ...                              dtype=object), ["%d/%m/%Y"], excel_serial=True)
        >>> [str(x.date()) if pd.notna(x) else None for x in d], s.tolist()
        ([None, '2017-01-01', '2017-02-01', None], ['invalid', 'ok', 'ok', 'empty'])
    """
    dates, status = _dates(_Column(values), formats, excel_serial, max_year)
    return pd.Series(dates, index=values.index), pd.Series(status, index=values.index)


def _vocab_codes(
    col: _Column, vocabulary: Mapping[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Return (code or None per row, unknown-label mask)."""
    per_unique = [vocabulary.get(normalise_label(t)) for t in col.texts[:-1]]
    codes = col.take(per_unique, None)
    codes[col.excel_error] = None
    unknown = np.array([c is None for c in per_unique] + [False], dtype=bool)
    return codes, unknown[col.codes] & ~col.excel_error


def map_vocabulary(
    values: pd.Series, vocabulary: Mapping[str, str]
) -> tuple[pd.Series, pd.Series]:
    """Map raw labels to codes through a normalised vocabulary.

    Returns:
        (codes, unknown mask): empty cells give NA; labels not in the vocabulary
        give NA and are marked unknown.

    Example:
        >>> codes, unknown = map_vocabulary(pd.Series(["KVINNA", "Q", None]), {"kvinna": "woman"})
        >>> codes.tolist(), unknown.tolist()
        (['woman', <NA>, <NA>], [False, True, False])
    """
    codes, unknown = _vocab_codes(_Column(values), vocabulary)
    return (
        pd.Series(codes, index=values.index, dtype="string"),
        pd.Series(unknown, index=values.index),
    )


def _income(
    col: _Column, vocabulary: Mapping[str, str], separator: str
) -> tuple[np.ndarray, pd.DataFrame]:
    k = len(contract.INCOME_SOURCES)
    position = {c: i for i, c in enumerate(contract.INCOME_SOURCES)}
    table = np.zeros((len(col.uniques) + 1, k), dtype=bool)
    bad_by_unique: list[list[str]] = []
    for u, text in enumerate(col.texts[:-1]):
        bad = []
        if not col._excel_u[u]:
            for part in text.split(separator) if separator else [text]:
                label = part.strip()
                if not label:
                    continue
                code = vocabulary.get(normalise_label(label))
                if code is None:
                    bad.append(label)
                else:
                    table[u, position[code]] = True
        bad_by_unique.append(bad)
    flags = table[col.codes]
    has_bad = np.array([bool(b) for b in bad_by_unique] + [False], dtype=bool)
    pos = np.flatnonzero(has_bad[col.codes])
    rows = [(p, label) for p in pos for label in bad_by_unique[col.codes[p]]]
    unknown = pd.DataFrame(rows, columns=["pos", "value"]).astype({"pos": "int64"})
    return flags, unknown


def income_flags(
    values: pd.Series, vocabulary: Mapping[str, str], separator: str = ","
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split multi-select income cells into one boolean column per income source.

    Returns:
        (flags with one column per code of ``contract.INCOME_SOURCES``, unknown
        labels as a frame with ``pos`` (row position) and ``value``).

    Example:
        >>> flags, unknown = income_flags(pd.Series(["A-kassa, Lön", "Q"]),
        ...     {"a kassa": "unemployment_insurance", "lon": "wage"})
        >>> flags.loc[0, ["unemployment_insurance", "wage"]].tolist(), unknown["value"].tolist()
        ([True, True], ['Q'])
    """
    flags, unknown = _income(_Column(values), vocabulary, separator)
    frame = pd.DataFrame(
        flags, index=values.index, columns=list(contract.INCOME_SOURCES)
    )
    return frame, unknown


def _income_group_array(flags: np.ndarray) -> np.ndarray:
    group = np.array([contract.INCOME_SOURCE_GROUP[c] for c in contract.INCOME_SOURCES])
    public = ("ill_health", "labour_market", "social_assistance")
    has = np.column_stack([flags[:, group == g].any(axis=1) for g in public])
    n_public = has.sum(axis=1)
    single = np.array(public, dtype=object)[has.argmax(axis=1)]
    return np.select(
        [~flags.any(axis=1), n_public == 0, n_public == 1],
        ["unknown", "none_public", single],
        "multiple",
    ).astype(object)


def income_groups(flags: pd.DataFrame) -> pd.Series:
    """Return the income group per row (vectorised ``contract.income_group``).

    Example:
        >>> f = pd.DataFrame({c: [False, False, False] for c in contract.INCOME_SOURCES})
        >>> f.loc[1, "wage"] = True
        >>> f.loc[2, ["sickness_benefit", "social_assistance"]] = True
        >>> income_groups(f).tolist()
        ['unknown', 'none_public', 'multiple']
    """
    array = flags[list(contract.INCOME_SOURCES)].to_numpy(dtype=bool)
    return pd.Series(_income_group_array(array), index=flags.index, dtype="string")


def episode_ids(
    subproject: pd.Series,
    participant_key: pd.Series,
    lineage: pd.Series,
    start_date: pd.Series,
    key: bytes,
) -> pd.Series:
    """Return deterministic, non-reversible episode ids: 'E' + 16 hex of an HMAC.

    The message is ``subproject|participant_key|YYYY-MM-DD``; the lineage
    (file:sheet:row) stands in for a missing key, so ids stay unique.

    Example:
        >>> ids = episode_ids(pd.Series(["dino"]), pd.Series(["ab"], dtype="string"),
        ...                   pd.Series(["f.xlsx:S:3"]),
        ...                   pd.Series(pd.to_datetime(["2017-01-02"])), b"k" * 32)
        >>> ids[0][0], len(ids[0])
        ('E', 17)
    """
    keys = participant_key.to_numpy(dtype=object, na_value=None)
    who = np.where(pd.isna(keys), np.asarray(lineage, dtype=object), keys)
    days = np.datetime_as_string(start_date.to_numpy(dtype="datetime64[D]"))
    days = np.where(days == "NaT", "", days)
    messages = [
        f"{s}|{w}|{d}"
        for s, w, d in zip(
            subproject.tolist(), who.tolist(), days.tolist(), strict=True
        )
    ]
    digests = ["E" + d[:8].hex() for d in hmac_sha256(messages, bytes(key))]
    return pd.Series(digests, index=subproject.index, dtype="string")
