"""Cleaning: raw sheets + a source description → contract rows and a table of problems.

Every function here is pure and vectorised. Each raw column is factorised once;
dates, numbers and labels are interpreted per distinct cell value and mapped back
with numpy indexing, so the cost grows with the number of distinct values, not
rows. Rules and reason codes: docs/source-descriptions.md; columns:
docs/data-contract.md.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rehab_analytics import contract
from rehab_analytics.identity import hmac_sha256, parse_ids, pseudonymise
from rehab_analytics.ingest.read import RawSheet
from rehab_analytics.sources.model import (
    Registry,
    Scale,
    SourceDescription,
    TableSpec,
    normalise_label,
)

__all__ = [
    "CleanTable",
    "EXCEL_ERRORS",
    "MIN_DATE",
    "AGE_RANGE",
    "stack_sheets",
    "as_text",
    "parse_numbers",
    "parse_dates",
    "map_vocabulary",
    "income_flags",
    "income_groups",
    "episode_ids",
    "clean_participants",
    "clean_subprojects",
    "clean_anonymous_counts",
    "clean_table",
]

EXCEL_ERRORS = frozenset(
    {
        "#N/A",
        "#N/A!",
        "#REF!",
        "#VALUE!",
        "#DIV/0!",
        "#NAME?",
        "#NULL!",
        "#NUM!",
        "#SPILL!",
        "#CALC!",
        "#GETTING_DATA",
    }
)
MIN_DATE = pd.Timestamp("2000-01-01")
AGE_RANGE = (15, 67)
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000
_EXCEL_ORIGIN = dt.date(1899, 12, 30)
_TRUTHY = frozenset({"x", "ja", "j", "1", "true", "yes", "sant"})
_LINEAGE = list(contract.LINEAGE_COLUMNS)
_VOCAB_FIELDS = {
    "education": "education",
    "occupation_before": "occupation",
    "occupation_after": "occupation",
    "exit_reason": "exit_reason",
}
_SCALE_FIELDS = ("step_start", "step_end", "health_start", "health_end")


@dataclass(frozen=True)
class CleanTable:
    """The result of cleaning one table of one source.

    Attributes:
        rows: Clean rows in contract column order (exact dtypes: ``validate``).
        problems: One row per problem, in ``contract.REJECT_COLUMNS`` order.
        status: Per raw row its lineage and 'clean', 'rejected' or 'skipped'.
    """

    rows: pd.DataFrame
    problems: pd.DataFrame
    status: pd.DataFrame


# --- one raw column, factorised ------------------------------------------------


def _cell_text(value: object) -> str:
    if isinstance(value, str):
        return value.strip().lstrip("'’").strip()
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, float | np.floating):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ").removesuffix(" 00:00:00")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


class _Column:
    """A raw column factorised once; derived values are computed per distinct cell.

    ``codes`` index ``uniques``/``texts``; -1 marks an empty cell (None, "" or
    whitespace). Excel error values (#N/A …) count as empty and are flagged.
    """

    def __init__(self, values: pd.Series | np.ndarray | None, n: int | None = None):
        if values is None:
            self.codes = np.full(int(n or 0), -1, dtype=np.intp)
            self.uniques = np.array([], dtype=object)
        else:
            array = np.asarray(values, dtype=object)
            self.codes, self.uniques = pd.factorize(array, use_na_sentinel=True)
            self.uniques = np.asarray(self.uniques, dtype=object)
        self.texts = np.array(
            [_cell_text(u) for u in self.uniques] + [""], dtype=object
        )
        blank = self.texts[:-1] == ""
        if blank.any():
            self.codes = np.where(blank[self.codes] & (self.codes >= 0), -1, self.codes)
        self._excel_u = np.array(
            [t.upper() in EXCEL_ERRORS for t in self.texts[:-1]] + [False], dtype=bool
        )

    def __len__(self) -> int:
        return len(self.codes)

    def take(
        self, per_unique: Sequence | np.ndarray, fill: object, dtype=object
    ) -> np.ndarray:
        """Spread one value per distinct cell back to rows; empty cells get ``fill``."""
        ext = np.empty(len(self.uniques) + 1, dtype=dtype)
        ext[:-1] = per_unique
        ext[-1] = fill
        return ext[self.codes]

    @property
    def excel_error(self) -> np.ndarray:
        return self._excel_u[self.codes]

    @property
    def empty(self) -> np.ndarray:
        return (self.codes < 0) | self.excel_error

    def text(self) -> pd.Series:
        """Return the trimmed text per row (NA where empty or an Excel error)."""
        texts = self.texts.copy()
        texts[-1] = None
        texts[:-1][self._excel_u[:-1]] = None
        return pd.Series(texts[self.codes], dtype="string")

    def value_at(self, pos: np.ndarray) -> np.ndarray:
        return self.texts[self.codes[pos]]


def as_text(values: pd.Series) -> pd.Series:
    """Return raw cells as trimmed text (leading apostrophe removed); empty → NA.

    Example:
        >>> as_text(pd.Series(["  K ", 3.0, None, "'0701", "", 2.5], dtype=object)).tolist()
        ['K', '3', <NA>, '0701', <NA>, '2.5']
    """
    col = _Column(values)
    texts = col.texts.copy()
    texts[-1] = None
    return pd.Series(texts[col.codes], index=values.index, dtype="string")


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


# --- stacking ----------------------------------------------------------------


def _header_of(spec: TableSpec, field: str) -> str:
    value = spec.columns.get(field)
    return value if isinstance(value, str) else field


def _sheet_label(sheet: RawSheet) -> str:
    return f"{sheet.file}{f' sheet {sheet.sheet!r}' if sheet.sheet else ''}"


def _skip_mask(sheet: RawSheet, spec: TableSpec) -> tuple[np.ndarray, np.ndarray]:
    """Rows matching ``skip_rows`` (its column: a contract field or a raw header)."""
    rule = spec.skip_rows
    n = len(sheet.data)
    name = None
    if rule is not None:
        name = sheet.columns.get(rule.column)
        if name is None:
            want = normalise_label(rule.column)
            name = next(
                (c for c, h in sheet.headers.items() if normalise_label(h) == want),
                None,
            )
    if name is None:
        return np.zeros(n, dtype=bool), np.full(n, None, dtype=object)
    col = _Column(sheet.data[name])
    pattern = re.compile(rule.pattern)
    hits = [bool(pattern.search(t)) for t in col.texts[:-1]]
    return col.take(hits, False, dtype=bool), col.take(col.texts[:-1], None)


def stack_sheets(
    sheets: Sequence[RawSheet],
    spec: TableSpec,
    vocabularies: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Stack raw sheets into one frame of contract fields plus lineage columns.

    Sheets are taken in the given order (the pipeline passes sorted paths, then
    workbook sheet order). Band income columns become ``income_<when>__<code>``
    flags per sheet, since each sheet may spell its band headers differently.

    Returns:
        (frame on a RangeIndex, notes about band headers that are not income sources).

    Example:
        >>> raw = RawSheet(pd.DataFrame({"År": [2017]}, index=pd.Index([2], name="source_row")),
        ...                "b.csv", "", 1, columns={"year": "År"})
        >>> frame, _ = stack_sheets([raw], TableSpec("subprojects", ("b.csv",), {"year": "År"}))
        >>> frame[["year", "source_file", "source_sheet", "source_row"]].values.tolist()
        [[2017, 'b.csv', '', 2]]
    """
    vocab = (vocabularies or {}).get("income_source", {})
    fields = [f for f, v in spec.columns.items() if isinstance(v, str)]
    if "count_by_sex" in spec.columns:
        fields += [f"count_by_sex.{s}" for s in spec.columns["count_by_sex"]]
    parts, notes = [], []
    for sheet in sheets:
        data, n = sheet.data, len(sheet.data)
        cols: dict[str, object] = {}
        for fld in fields:
            name = sheet.columns.get(fld)
            cols[fld] = (
                data[name].to_numpy(dtype=object)
                if name is not None
                else np.full(n, None, dtype=object)
            )
        for fld, names in sheet.band_columns.items():
            flags = np.zeros((n, len(contract.INCOME_SOURCES)), dtype=bool)
            for name in names:
                code = vocab.get(normalise_label(sheet.headers.get(name, name)))
                if code is None:
                    notes.append(
                        f"{_sheet_label(sheet)}: column {name!r} under the band for "
                        f"{fld} is not an income-source label; it was ignored."
                    )
                    continue
                col = _Column(data[name])
                marks = [normalise_label(t) in _TRUTHY for t in col.texts[:-1]]
                flags[:, contract.INCOME_SOURCES.index(code)] |= col.take(
                    marks, False, bool
                )
            for j, code in enumerate(contract.INCOME_SOURCES):
                cols[f"{fld}__{code}"] = flags[:, j]
        cols["__skip__"], cols["__skip_value__"] = _skip_mask(sheet, spec)
        cols["source_file"] = np.full(n, sheet.file, dtype=object)
        cols["source_sheet"] = np.full(n, sheet.sheet, dtype=object)
        cols["source_row"] = data.index.to_numpy(dtype=np.int64)
        # Object Series keep raw cells as they are (pandas would infer "str").
        parts.append(
            pd.DataFrame(
                {
                    k: pd.Series(v, dtype=object) if v.dtype == object else v
                    for k, v in cols.items()
                }
            )
        )
    if not parts:
        empty = [*fields, "__skip__", "__skip_value__", *_LINEAGE]
        return pd.DataFrame(columns=empty), notes
    return pd.concat(parts, ignore_index=True), notes


# --- problems and row fates --------------------------------------------------


class _Decider:
    """Collects problems; a row's first reject/skip reason decides its fate.

    Warnings are kept pending and emitted only for rows that stay clean.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.n = len(frame)
        self.out = np.zeros(self.n, dtype=bool)
        self.skipped = np.zeros(self.n, dtype=bool)
        self.found: list[tuple] = []
        self.pending: list[tuple] = []

    @property
    def live(self) -> np.ndarray:
        return ~self.out

    def drop(self, mask, col: _Column, *, column, reason, message, status="rejected"):
        mask = np.asarray(mask, dtype=bool) & self.live
        if mask.any():
            self.found.append((mask, col, column, status, reason, message, False))
            self.out |= mask
            if status == "skipped":
                self.skipped |= mask

    def warn(self, mask, col: _Column, *, column, reason, message, redact=False):
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.pending.append((mask, col, column, "warning", reason, message, redact))

    def problems(self, source: str, table: str) -> pd.DataFrame:
        kept = self.live
        parts = []
        for mask, col, column, status, reason, message, redact in self.found + [
            (m & kept, *rest) for m, *rest in self.pending
        ]:
            pos = np.flatnonzero(mask)
            if not len(pos):
                continue
            values = (
                np.full(len(pos), "", dtype=object) if redact else col.value_at(pos)
            )
            head, has_value, tail = message.partition("{value}")
            texts = (
                head + pd.Series(values, dtype="string") + tail
                if has_value
                else pd.Series(message, index=range(len(pos)), dtype="string")
            )
            parts.append(
                pd.DataFrame(
                    {
                        "pos": pos,
                        "rank": {"rejected": 0, "skipped": 0, "warning": 1}[status],
                        "column": column,
                        "value": values,
                        "status": status,
                        "reason": reason,
                        "message": texts.to_numpy(dtype=object),
                    }
                )
            )
        if not parts:
            empty = pd.DataFrame(columns=list(contract.REJECT_COLUMNS))
            return empty.astype(
                dict.fromkeys(contract.REJECT_COLUMNS, "string")
            ).astype({"source_row": "Int64"})
        found = pd.concat(parts, ignore_index=True)
        found = found.sort_values(["pos", "rank"], kind="stable").reset_index(drop=True)
        lineage = (
            self.frame[_LINEAGE].iloc[found["pos"].to_numpy()].reset_index(drop=True)
        )
        out = pd.concat([lineage, found.drop(columns=["pos", "rank"])], axis=1)
        out.insert(0, "table", table)
        out.insert(0, "source", source)
        return out[list(contract.REJECT_COLUMNS)]

    def status(self) -> pd.DataFrame:
        fate = np.where(
            self.skipped, "skipped", np.where(self.out, "rejected", "clean")
        )
        return self.frame[_LINEAGE].assign(status=fate)


def _columns(frame: pd.DataFrame, fields: Sequence[str]) -> dict[str, _Column]:
    n = len(frame)
    return {f: _Column(frame.get(f), n) for f in fields}


def _drop_skipped(d: _Decider, frame: pd.DataFrame, spec: TableSpec) -> None:
    if "__skip__" not in frame or spec.skip_rows is None:
        return
    d.drop(
        frame["__skip__"].to_numpy(dtype=bool),
        _Column(frame["__skip_value__"]),
        column=_header_of(spec, spec.skip_rows.column),
        reason="totals_row",
        status="skipped",
        message="'{value}' marks a non-data row (skip_rows); it is not counted.",
    )


def _drop_missing_required(
    d: _Decider, cols: Mapping[str, _Column], spec: TableSpec
) -> None:
    """Reject rows with an empty required value (an empty id is a warning instead)."""
    for fld in spec.required:
        if fld == "personnummer" or fld not in cols:
            continue
        d.drop(
            cols[fld].empty,
            cols[fld],
            column=_header_of(spec, fld),
            reason="missing_required",
            message=f"the required value ({fld}) is empty. Fill it in or remove the row.",
        )


def _warn_excel(d: _Decider, cols: Mapping[str, _Column], spec: TableSpec) -> None:
    for fld, col in cols.items():
        if col.excel_error.any():
            d.warn(
                col.excel_error,
                col,
                column=_header_of(spec, fld),
                reason="invalid_number",
                message="the cell holds the Excel error '{value}'; it is treated as "
                "empty. Fix the formula or type the value.",
            )


# --- participants ------------------------------------------------------------


def _coded(
    d: _Decider, col: _Column, vocab: Mapping[str, str], header: str, what: str
) -> np.ndarray:
    codes, unknown = _vocab_codes(col, vocab)
    d.warn(
        unknown,
        col,
        column=header,
        reason="unknown_label",
        message=f"'{{value}}' is not a known label for {what}; kept as unknown. Add it "
        "to [vocabularies] in the source description if it is valid.",
    )
    return codes


def _scale(
    d: _Decider, col: _Column, scale: Scale | None, spec: TableSpec, field: str
) -> pd.Series:
    header = _header_of(spec, field)
    labels = dict(scale.labels) if scale is not None else {}
    labelled = [labels.get(normalise_label(t)) for t in col.texts[:-1]]
    numbers, invalid = _numbers(col, spec.decimal, spec.thousands)
    is_label = col.take([v is not None for v in labelled], False, bool)
    values = np.where(
        is_label,
        col.take([v if v is not None else np.nan for v in labelled], np.nan, float),
        numbers,
    )
    invalid = invalid & ~is_label
    d.warn(
        invalid,
        col,
        column=header,
        reason="invalid_number",
        message=f"'{{value}}' is not a number or a label of the {field.split('_')[0]} "
        "scale; left empty.",
    )
    bad = ~np.isnan(values) & (values % 1 != 0)
    rng = "whole numbers"
    if scale is not None:
        with np.errstate(invalid="ignore"):
            bad |= (values < scale.min) | (values > scale.max)
        rng = f"{scale.min}–{scale.max}"
    d.warn(
        bad,
        col,
        column=header,
        reason="value_out_of_scale",
        message=f"'{{value}}' is outside the declared scale ({rng}); left empty.",
    )
    values = np.where(bad, np.nan, values)
    return pd.Series(values, dtype="Float64").round().astype("Int64")


def _support_years(
    d: _Decider, col: _Column, vocab: Mapping[str, str], spec: TableSpec
) -> np.ndarray:
    """Support duration: a vocabulary label or a number of years, banded."""
    codes, unknown = _vocab_codes(col, vocab)
    numbers, _ = _numbers(col, spec.decimal, spec.thousands)
    with np.errstate(invalid="ignore"):
        banded = np.select(
            [numbers < 0, numbers < 1, numbers <= 2, numbers <= 5, numbers > 5],
            [None, "under_1", "1_2", "2_5", "over_5"],
            None,
        )
    codes = np.where(pd.isna(codes), banded, codes)
    unknown = unknown & pd.isna(codes)
    d.warn(
        unknown,
        col,
        column=_header_of(spec, "support_years_before"),
        reason="unknown_label",
        message="'{value}' is not a known support-duration label or a number of years; "
        "kept as unknown.",
    )
    return np.where(pd.isna(codes), "unknown", codes).astype(object)


def _municipality(
    d: _Decider, col: _Column, vocab: Mapping[str, str], spec: TableSpec
) -> pd.Series:
    per_unique = []
    for t in col.texts[:-1]:
        per_unique.append(
            t.zfill(4)
            if t.isascii() and t.isdigit() and len(t) <= 4
            else vocab.get(normalise_label(t))
        )
    codes = col.take(per_unique, None)
    codes[col.excel_error] = None
    unknown = pd.isna(codes) & ~col.empty
    d.warn(
        unknown,
        col,
        column=_header_of(spec, "municipality"),
        reason="unknown_label",
        message="'{value}' is not a known municipality or 4-digit kommunkod; left empty.",
    )
    return pd.Series(codes, dtype="string")


def _ages(birth: pd.Series, start: pd.Series) -> pd.Series:
    years = start.dt.year - birth.dt.year
    before = (start.dt.month * 100 + start.dt.day) < (
        birth.dt.month * 100 + birth.dt.day
    )
    return (years - before.astype("Int64")).astype("Float64")


@functools.lru_cache(maxsize=64)
def _categorical_dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(categories))


def _category(values: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    # Codes per distinct value: the constructor would first convert every value
    # to an Arrow string. Values outside the categories are NA.
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    position = {c: i for i, c in enumerate(categories)}
    table = np.array([position.get(u, -1) for u in uniques] + [-1], dtype=np.int64)
    return pd.Categorical.from_codes(
        table[codes], dtype=_categorical_dtype(tuple(categories))
    )


def clean_participants(
    frame: pd.DataFrame,
    source: SourceDescription,
    spec: TableSpec,
    vocabularies: Mapping[str, Mapping[str, str]],
    key: bytes,
    *,
    max_year: int | None = None,
) -> CleanTable:
    """Clean stacked participant rows of one source into the contract.

    Args:
        frame: Output of :func:`stack_sheets` (contract fields + lineage).
        source: The source description (organisation, scales).
        spec: The participants table description.
        vocabularies: Built-in vocabularies merged with the source's own.
        key: Pseudonymisation key (HMAC).
        max_year: Latest allowed year of a date (default: next year).

    Returns:
        A :class:`CleanTable`; ``rows`` has ``contract.PARTICIPANT_COLUMNS``.

    Example:
        >>> from pathlib import Path
        >>> from rehab_analytics.sources.model import Organisation
        >>> org = Organisation("nordost", "SF Nordost", "dino", "Dino")
        >>> spec = TableSpec("participants", ("a.csv",),
        ...                  {"personnummer": "Pnr", "start_date": "Start"})
        >>> src = SourceDescription("nordost", Path("nordost.toml"), org, (spec,))
        >>> frame = pd.DataFrame({"personnummer": ["640823-3234", "640823-3234"],
        ...     "start_date": ["2017-01-02", "2017-01-02"],
        ...     "source_file": "a.csv", "source_sheet": "", "source_row": [2, 3]})
        >>> out = clean_participants(frame, src, spec, {}, b"k" * 32)
        >>> len(out.rows), out.problems["reason"].tolist()
        (1, ['duplicate_episode'])
    """
    org = source.organisation
    frame = frame.reset_index(drop=True)
    d = _Decider(frame)
    n = len(frame)
    h = lambda f: _header_of(spec, f)  # noqa: E731
    # The id column is parsed by identity.parse_ids and never shown in problems.
    skip = ("income_before", "income_after", "personnummer")
    plain = [f for f in source_fields(spec) if f not in skip]
    cols = _columns(frame, plain)
    empty_col = _Column(None, n)

    _drop_skipped(d, frame, spec)
    _drop_missing_required(d, cols, spec)

    dates, status = {}, {}
    for fld in ("start_date", "end_date"):
        dates[fld], status[fld] = _dates(
            cols.get(fld, empty_col),
            spec.date_formats,
            spec.excel_serial_dates,
            max_year,
        )
    fmts = ", ".join(spec.date_formats)
    last = max_year or dt.date.today().year + 1
    for fld in ("start_date", "end_date"):
        d.drop(
            status[fld] == "invalid",
            cols.get(fld, empty_col),
            column=h(fld),
            reason="invalid_date",
            message=f"'{{value}}' is not a date that exists (formats: {fmts}). "
            "Correct the date.",
        )
    for fld in ("start_date", "end_date"):
        d.drop(
            status[fld] == "out_of_range",
            cols.get(fld, empty_col),
            column=h(fld),
            reason="date_out_of_range",
            message=f"'{{value}}' is outside 2000-01-01 – {last}-12-31. Correct the date.",
        )
    start = pd.Series(dates["start_date"])
    end = pd.Series(dates["end_date"])
    d.drop(
        start.isna().to_numpy(),
        cols.get("start_date", empty_col),
        column=h("start_date"),
        reason="missing_required",
        message="the start date is empty; an episode needs one.",
    )
    d.drop(
        (end < start).to_numpy(dtype=bool),
        cols.get("end_date", empty_col),
        column=h("end_date"),
        reason="end_before_start",
        message="the end date '{value}' is earlier than the start date. Correct one of them.",
    )

    ids = parse_ids(
        pd.Series(
            frame.get("personnummer"),
            index=frame.index,
            dtype=object,
        ),
        start,
    )
    kind = ids["id_kind"].to_numpy(dtype=object)
    birth_year_sheet, by_invalid = _numbers(
        cols.get("birth_year", empty_col), spec.decimal, spec.thousands
    )
    age_sheet, age_invalid = _numbers(
        cols.get("age", empty_col), spec.decimal, spec.thousands
    )
    birth_year = (
        ids["birth_year"]
        .astype("Float64")
        .fillna(pd.Series(np.round(birth_year_sheet), dtype="Float64"))
    )
    age = _ages(ids["birth_date"], start)
    age = age.fillna(
        (start.dt.year - pd.Series(np.round(birth_year_sheet), dtype="Float64")).astype(
            "Float64"
        )
    )
    age = age.fillna(pd.Series(np.round(age_sheet), dtype="Float64"))
    birth_year = birth_year.fillna(
        (start.dt.year - pd.Series(np.round(age_sheet), dtype="Float64")).astype(
            "Float64"
        )
    )
    lo, hi = AGE_RANGE
    age_bad = ((age < lo) | (age > hi)).fillna(False).to_numpy(dtype=bool)
    d.drop(
        age_bad,
        _Column(age.astype("Int64").astype(object).to_numpy()),
        column=h("personnummer") if "personnummer" in spec.columns else h("age"),
        reason="age_out_of_range",
        message=f"the age at start is {{value}}, outside {lo}–{hi}. Check the id and "
        "the start date.",
    )

    participant_key = pseudonymise(ids["id12"], key)
    keyed = participant_key.notna().to_numpy() & d.live
    if keyed.any():
        dup = np.zeros(n, dtype=bool)
        pairs = pd.DataFrame({"k": participant_key[keyed], "s": start[keyed]})
        dup[np.flatnonzero(keyed)] = pairs.duplicated(keep="first").to_numpy()
        d.drop(
            dup,
            cols.get("start_date", empty_col),
            column=h("personnummer"),
            reason="duplicate_episode",
            message="the same person with start date '{value}' was delivered before in "
            "this source; the first row is kept.",
        )

    id_col = cols.get("personnummer", empty_col)
    id_warnings = {
        "invalid": ("invalid_id", "the id looks like a personnummer but fails the date "
                    "or check-digit test; kept without a pseudonym."),
        "other": ("unrecognised_id", "the id is not a personnummer or "
                  "samordningsnummer; kept without a pseudonym."),
        "missing": ("missing_id", "no id; the row is kept without a pseudonym."),
    }  # fmt: skip
    for id_kind, (reason, message) in id_warnings.items():
        if id_kind == "missing" and "personnummer" not in spec.columns:
            continue
        d.warn(kind == id_kind, id_col, column=h("personnummer"), reason=reason,
               message=message, redact=True)  # fmt: skip
    for fld, invalid in (("birth_year", by_invalid), ("age", age_invalid)):
        d.warn(
            invalid,
            cols.get(fld, empty_col),
            column=h(fld),
            reason="invalid_number",
            message=f"'{{value}}' is not a number ({fld}); left empty.",
        )

    sex_col = cols.get("sex", empty_col)
    sheet_sex = _coded(d, sex_col, vocabularies.get("sex", {}), h("sex"), "sex")
    id_sex = ids["sex"].to_numpy(dtype=object, na_value=None)
    sheet_known = np.isin(sheet_sex, ["woman", "man"])
    conflict = sheet_known & ~pd.isna(id_sex) & (sheet_sex != id_sex)
    d.warn(
        conflict,
        sex_col,
        column=h("sex"),
        reason="sex_conflicts_with_id",
        message="the sheet says '{value}' but the id says otherwise; the sheet's "
        "value is kept.",
    )
    sex = np.where(sheet_known, sheet_sex, np.where(pd.isna(id_sex), "unknown", id_sex))

    municipality = _municipality(
        d,
        cols.get("municipality", empty_col),
        vocabularies.get("municipality", {}),
        spec,
    )
    coded = {
        fld: _coded(
            d, cols.get(fld, empty_col), vocabularies.get(vocab, {}), h(fld), fld
        )
        for fld, vocab in _VOCAB_FIELDS.items()
    }
    support = _support_years(
        d,
        cols.get("support_years_before", empty_col),
        vocabularies.get("support_years", {}),
        spec,
    )

    income = {}
    for when in ("before", "after"):
        fld = f"income_{when}"
        layout = spec.columns.get(fld)
        names = [f"{fld}__{c}" for c in contract.INCOME_SOURCES]
        if isinstance(layout, str):
            flags, unknown = _income(
                _Column(frame[fld]),
                vocabularies.get("income_source", {}),
                spec.list_separator,
            )
            for label, group in unknown.groupby("value", sort=True):
                mask = np.zeros(n, dtype=bool)
                mask[group["pos"].to_numpy()] = True
                d.warn(
                    mask,
                    _Column(np.full(n, label, dtype=object)),
                    column=h(fld),
                    reason="unknown_label",
                    message="'{value}' is not a known income source; ignored. Add it "
                    "to [vocabularies.income_source] if it is valid.",
                )
        elif layout is not None and names[0] in frame:
            flags = frame[names].to_numpy(dtype=bool)
        else:
            flags = np.zeros((n, len(contract.INCOME_SOURCES)), dtype=bool)
        income[when] = flags

    steps = {
        f: _scale(
            d, cols.get(f, empty_col), source.scales.get(f.split("_")[0]), spec, f
        )
        for f in _SCALE_FIELDS
    }
    _warn_excel(d, cols, spec)

    # An active episode has not exited: an empty reason is NA, not "unknown".
    active = end.isna().to_numpy()
    exit_col = cols.get("exit_reason", empty_col)
    exit_reason = np.where(
        pd.isna(coded["exit_reason"]), "unknown", coded["exit_reason"]
    )
    exit_reason = np.where(active & exit_col.empty, None, exit_reason)
    # SUS: an active episode has no exit yet, and a misregistration must not count in
    # outcomes, so neither keeps after-values.
    no_outcome = active | (exit_reason == "misregistration")
    occupation_after = np.where(
        pd.isna(coded["occupation_after"]) | no_outcome,
        "unknown",
        coded["occupation_after"],
    )
    income["after"] = income["after"] & ~no_outcome[:, None]
    for fld in ("step_end", "health_end"):
        steps[fld] = steps[fld].mask(no_outcome)
    work = pd.array(np.isin(occupation_after, contract.WORK_OR_STUDY), dtype="boolean")
    work[no_outcome | (occupation_after == "unknown")] = pd.NA

    # file:sheet:row stands in for the person only where there is no valid id.
    lineage = np.full(n, None, dtype=object)
    unkeyed = np.flatnonzero(participant_key.isna().to_numpy())
    lineage[unkeyed] = [
        f"{f}:{sh}:{r}"
        for f, sh, r in zip(
            frame["source_file"].to_numpy()[unkeyed],
            frame["source_sheet"].to_numpy()[unkeyed],
            frame["source_row"].to_numpy()[unkeyed],
            strict=True,
        )
    ]
    subproject = pd.Series(org.subproject, index=frame.index)
    episode = episode_ids(subproject, participant_key, lineage, start, key)

    unknown = lambda a: np.where(pd.isna(a), "unknown", a)  # noqa: E731
    out = {
        "episode_id": episode,
        "participant_key": participant_key,
        "id_kind": _category(kind, contract.ID_KINDS),
        "forbund": pd.Series(org.forbund, index=frame.index, dtype="string"),
        "subproject": pd.Series(org.subproject, index=frame.index, dtype="string"),
        "sex": _category(sex, contract.SEX),
        "birth_year": birth_year.round().astype("Int64"),
        "age_at_start": age.round().astype("Int64"),
        "municipality": municipality,
        "education": _category(unknown(coded["education"]), contract.EDUCATION),
        "start_date": start,
        "end_date": end,
        "days_in_programme": (end - start).dt.days.astype("Int64"),
        **{
            f"income_before__{c}": income["before"][:, i]
            for i, c in enumerate(contract.INCOME_SOURCES)
        },
        **{
            f"income_after__{c}": income["after"][:, i]
            for i, c in enumerate(contract.INCOME_SOURCES)
        },
        "income_group_before": _category(
            _income_group_array(income["before"]), contract.INCOME_GROUPS
        ),
        "income_group_after": _category(
            _income_group_array(income["after"]), contract.INCOME_GROUPS
        ),
        "support_years_before": _category(support, contract.SUPPORT_YEARS),
        "occupation_before": _category(
            unknown(coded["occupation_before"]), contract.OCCUPATIONS
        ),
        "occupation_after": _category(occupation_after, contract.OCCUPATIONS),
        "exit_reason": _category(exit_reason, contract.EXIT_REASONS),
        "work_or_study_after": work,
        **steps,
        "source_file": frame["source_file"].astype("string"),
        "source_sheet": frame["source_sheet"].astype("string"),
        "source_row": frame["source_row"].astype("Int64"),
    }
    rows = pd.DataFrame(out, index=frame.index)[d.live].reset_index(drop=True)
    return CleanTable(rows, d.problems(source.name, "participants"), d.status())


def source_fields(spec: TableSpec) -> list[str]:
    """Return the mapped contract fields of a table (``count_by_sex`` expanded)."""
    fields = [f for f in spec.columns if f != "count_by_sex"]
    if "count_by_sex" in spec.columns:
        fields += [f"count_by_sex.{s}" for s in spec.columns["count_by_sex"]]
    return fields


# --- subprojects and anonymous counts ----------------------------------------


def _organisation_columns(
    d: _Decider,
    cols: Mapping[str, _Column],
    source: SourceDescription,
    spec: TableSpec,
    registry: Registry,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Förbund and subproject codes from names/aliases (or the description's own)."""
    forbund_of = registry.forbund_of()
    if "subproject" in cols:
        col, field = cols["subproject"], "subproject"
        per_unique = registry.resolve_subproject(
            pd.Series(col.texts[:-1], dtype=object)
        ).tolist()
    elif "forbund" in cols:
        col, field = cols["forbund"], "forbund"
        only = {f: s[0] for f, s in registry.subprojects_of().items() if len(s) == 1}
        fbs = registry.resolve_forbund(pd.Series(col.texts[:-1], dtype=object))
        per_unique = [only.get(f) if not pd.isna(f) else None for f in fbs]
    else:
        org = source.organisation
        return np.full(n, org.forbund, dtype=object), np.full(
            n, org.subproject, dtype=object
        )
    sub = col.take([None if pd.isna(s) else s for s in per_unique], None)
    d.drop(
        pd.isna(sub),
        col,
        column=_header_of(spec, field),
        reason="unknown_organisation",
        message="'{value}' is not a registered förbund or subproject (code, name or "
        "alias), or its förbund runs several subprojects. Correct it or add an "
        "[organisation] description.",
    )
    fb = np.array(
        [forbund_of.get(s) if s is not None else None for s in sub], dtype=object
    )
    return fb, sub


def _year(
    d: _Decider, col: _Column, spec: TableSpec, max_year: int | None
) -> pd.Series:
    years, _ = _numbers(col, spec.decimal, spec.thousands)
    last = max_year or dt.date.today().year + 1
    with np.errstate(invalid="ignore"):
        bad = np.isnan(years) | (years % 1 != 0) | (years < 2000) | (years > last)
    d.drop(
        bad & ~col.empty,
        col,
        column=_header_of(spec, "year"),
        reason="invalid_number",
        message=f"the year '{{value}}' is not a whole year between 2000 and {last}.",
    )
    d.drop(
        col.empty,
        col,
        column=_header_of(spec, "year"),
        reason="missing_required",
        message="the year is empty. Fill it in or remove the row.",
    )
    return (
        pd.Series(np.where(bad, np.nan, years), dtype="Float64").round().astype("Int64")
    )


def _organisation_year_rows(frame, source, spec, registry, max_year):
    """Shared start of the per-organisation-and-year tables (budget, anonymous).

    Drops skipped rows and rows missing required values, then resolves the
    förbund/subproject and year columns. Returns ``(decider, n, columns,
    forbund, subproject, year)``.
    """
    d = _Decider(frame)
    n = len(frame)
    cols = _columns(frame, source_fields(spec))
    _drop_skipped(d, frame, spec)
    _drop_missing_required(d, {k: v for k, v in cols.items() if k != "year"}, spec)
    forbund, sub = _organisation_columns(d, cols, source, spec, registry, n)
    year = _year(d, cols.get("year", _Column(None, n)), spec, max_year)
    return d, n, cols, forbund, sub, year


def clean_subprojects(
    frame: pd.DataFrame,
    source: SourceDescription,
    spec: TableSpec,
    registry: Registry,
    *,
    max_year: int | None = None,
) -> CleanTable:
    """Clean stacked subproject (budget) rows into ``contract.SUBPROJECT_COLUMNS``.

    Example:
        >>> from pathlib import Path
        >>> from rehab_analytics.sources.model import Organisation, Registry
        >>> org = Organisation("nordost", "SF Nordost", "dino", "Dino", target_group="Unga")
        >>> spec = TableSpec("subprojects", ("b.csv",), {"year": "År", "budget_sek": "Budget"})
        >>> src = SourceDescription("nordost", Path("n.toml"), org, (spec,))
        >>> frame = pd.DataFrame({"year": ["2017"], "budget_sek": ["1 000,4"],
        ...                       "source_file": "b.csv", "source_sheet": "", "source_row": [2]})
        >>> clean_subprojects(frame, src, spec, Registry((org,))).rows[["subproject", "budget_sek"]].values.tolist()
        [['dino', 1000]]
    """
    frame = frame.reset_index(drop=True)
    d, n, cols, forbund, sub, year = _organisation_year_rows(
        frame, source, spec, registry, max_year
    )
    numbers = {}
    for fld in ("planned_participants", "budget_sek", "cost_sek", "esf_sek"):
        col = cols.get(fld, _Column(None, n))
        values, invalid = _numbers(col, spec.decimal, spec.thousands)
        d.warn(
            invalid,
            col,
            column=_header_of(spec, fld),
            reason="invalid_number",
            message=f"'{{value}}' is not a number ({fld}); left empty.",
        )
        numbers[fld] = pd.Series(values, dtype="Float64").round().astype("Int64")
    _warn_excel(d, cols, spec)
    live = d.live
    dup = np.zeros(n, dtype=bool)
    keys = pd.DataFrame({"s": sub, "y": year})[live]
    dup[np.flatnonzero(live)] = keys.duplicated(keep="first").to_numpy()
    d.drop(
        dup,
        cols.get("year", _Column(None, n)),
        column=_header_of(spec, "year"),
        reason="duplicate_row",
        message="this subproject and year {value} were delivered before; the first row "
        "is kept.",
    )
    names = {o.subproject: o.subproject_name for o in registry.organisations}
    groups = {o.subproject: o.target_group for o in registry.organisations}
    sub_s = pd.Series(sub, dtype="string")
    out = pd.DataFrame(
        {
            "forbund": pd.Series(forbund, dtype="string"),
            "subproject": sub_s,
            "name": sub_s.map(names).astype("string"),
            "target_group": sub_s.map(groups).astype("string"),
            "year": year,
            **numbers,
        }
    )
    rows = out[d.live].reset_index(drop=True)
    return CleanTable(rows, d.problems(source.name, "subprojects"), d.status())


def clean_anonymous_counts(
    frame: pd.DataFrame,
    source: SourceDescription,
    spec: TableSpec,
    registry: Registry,
    vocabularies: Mapping[str, Mapping[str, str]],
    *,
    max_year: int | None = None,
) -> CleanTable:
    """Clean anonymous-participant counts (long or wide by sex) into ``ANONYMOUS_COLUMNS``.

    Counts of the same subproject, year and sex are summed; an empty count cell
    gives no row for that sex.

    Example:
        >>> from pathlib import Path
        >>> from rehab_analytics.sources.model import Organisation, Registry
        >>> org = Organisation("nordost", "SF Nordost", "dino", "Dino")
        >>> spec = TableSpec("anonymous_counts", ("a.csv",),
        ...                  {"year": "År", "count_by_sex": {"woman": "Kvinnor", "man": "Män"}})
        >>> src = SourceDescription("nordost", Path("n.toml"), org, (spec,))
        >>> frame = pd.DataFrame({"year": [2017], "count_by_sex.woman": [3],
        ...     "count_by_sex.man": [None], "source_file": "a.csv", "source_sheet": "",
        ...     "source_row": [2]})
        >>> clean_anonymous_counts(frame, src, spec, Registry((org,)), {}).rows.values.tolist()
        [['nordost', 'dino', 2017, 'woman', 3]]
    """
    frame = frame.reset_index(drop=True)
    d, n, cols, forbund, sub, year = _organisation_year_rows(
        frame, source, spec, registry, max_year
    )
    if "count_by_sex" in spec.columns:
        pairs = [
            (np.full(n, s, dtype=object), f"count_by_sex.{s}", h)
            for s, h in spec.columns["count_by_sex"].items()
        ]
    else:
        sex_col = cols.get("sex", _Column(None, n))
        sex = _coded(
            d, sex_col, vocabularies.get("sex", {}), _header_of(spec, "sex"), "sex"
        )
        pairs = [
            (np.where(pd.isna(sex), "unknown", sex), "count", _header_of(spec, "count"))
        ]
    longs = []
    for sexes, fld, header in pairs:
        col = cols.get(fld, _Column(None, n))
        counts, invalid = _numbers(col, spec.decimal, spec.thousands)
        with np.errstate(invalid="ignore"):
            bad = invalid | (~np.isnan(counts) & ((counts < 0) | (counts % 1 != 0)))
        d.drop(
            bad,
            col,
            column=header,
            reason="invalid_number",
            message="the count '{value}' is not a whole number ≥ 0. Correct it.",
        )
        longs.append(
            pd.DataFrame(
                {
                    "pos": np.arange(n),
                    "forbund": forbund,
                    "subproject": sub,
                    "year": year,
                    "sex": sexes,
                    "count": counts,
                }
            )
        )
    _warn_excel(d, cols, spec)
    out = pd.concat(longs, ignore_index=True)
    out = out[d.live[out["pos"].to_numpy()] & out["count"].notna().to_numpy()]
    out = (
        out.groupby(["forbund", "subproject", "year", "sex"], sort=False, dropna=False)[
            "count"
        ]
        .sum()
        .reset_index()
    )
    out["count"] = out["count"].round().astype("Int64")
    rows = out[list(contract.ANONYMOUS_COLUMNS)].reset_index(drop=True)
    return CleanTable(rows, d.problems(source.name, "anonymous_counts"), d.status())


def clean_table(
    sheets: Sequence[RawSheet],
    source: SourceDescription,
    spec: TableSpec,
    registry: Registry,
    vocabularies: Mapping[str, Mapping[str, str]],
    key: bytes,
    *,
    max_year: int | None = None,
) -> tuple[CleanTable, list[str]]:
    """Stack and clean the raw sheets of one table of one source.

    Returns:
        (the cleaned table, notes about the layout such as ignored band columns).

    Example:
        >>> from pathlib import Path
        >>> from rehab_analytics.sources.model import Organisation, Registry
        >>> org = Organisation("nordost", "SF Nordost", "dino", "Dino")
        >>> spec = TableSpec("subprojects", ("b.csv",), {"year": "År"})
        >>> src = SourceDescription("nordost", Path("n.toml"), org, (spec,))
        >>> raw = RawSheet(pd.DataFrame({"År": ["2017", "2018"]},
        ...                index=pd.Index([2, 3], name="source_row")), "b.csv", "", 1,
        ...                columns={"year": "År"})
        >>> table, _ = clean_table([raw], src, spec, Registry((org,)), {}, b"k" * 32)
        >>> table.rows["year"].tolist()
        [2017, 2018]
    """
    frame, notes = stack_sheets(sheets, spec, vocabularies)
    if spec.kind == "participants":
        table = clean_participants(
            frame, source, spec, vocabularies, key, max_year=max_year
        )
    elif spec.kind == "subprojects":
        table = clean_subprojects(frame, source, spec, registry, max_year=max_year)
    else:
        table = clean_anonymous_counts(
            frame, source, spec, registry, vocabularies, max_year=max_year
        )
    return table, notes
