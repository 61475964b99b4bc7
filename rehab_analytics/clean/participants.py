"""Participants: the stacked raw rows of one source into ``contract.PARTICIPANT_COLUMNS``."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from rehab_analytics import contract
from rehab_analytics.clean.column import _Column
from rehab_analytics.clean.decide import (
    CleanTable,
    _columns,
    _Decider,
    _drop_missing_required,
    _drop_skipped,
    _header_of,
    _warn_excel,
    source_fields,
)
from rehab_analytics.clean.fields import _coded, _municipality, _scale, _support_years
from rehab_analytics.clean.values import (
    _dates,
    _income,
    _income_group_array,
    _numbers,
    episode_ids,
)
from rehab_analytics.identity import parse_ids, pseudonymise
from rehab_analytics.sources import SourceDescription, TableSpec

__all__ = ["AGE_RANGE", "clean_participants"]

AGE_RANGE = (15, 67)
_VOCAB_FIELDS = {
    "education": "education",
    "occupation_before": "occupation",
    "occupation_after": "occupation",
    "exit_reason": "exit_reason",
}
_SCALE_FIELDS = ("step_start", "step_end", "health_start", "health_end")
_MISSING_ID = ("missing_id", "no id; the row is kept without a pseudonym.")
# id_kind -> (reason, message) of the warning on a kept row, per identity scheme.
_ID_WARNINGS = {
    "se_personnummer": {
        "invalid": ("invalid_id", "the id looks like a personnummer but fails the date "
                    "or check-digit test; kept without a pseudonym."),
        "other": ("unrecognised_id", "the id is not a personnummer or "
                  "samordningsnummer; kept without a pseudonym."),
        "missing": _MISSING_ID,
    },
    "za_id": {
        "invalid": ("invalid_id", "the id has 13 digits but fails the date, "
                    "citizenship-digit or check-digit test; kept without a pseudonym."),
        "other": ("unrecognised_id", "the id is not a South African 13-digit ID "
                  "number; kept without a pseudonym."),
        "missing": _MISSING_ID,
    },
    "other": {"missing": _MISSING_ID},
}  # fmt: skip


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
        frame: Output of :func:`~rehab_analytics.clean.table.stack_sheets`
            (contract fields + lineage).
        source: The source description (organisation, scales).
        spec: The participants table description.
        vocabularies: Built-in vocabularies merged with the source's own.
        key: Pseudonymisation key (HMAC).
        max_year: Latest allowed year of a date (default: next year).

    Returns:
        A :class:`CleanTable`; ``rows`` has ``contract.PARTICIPANT_COLUMNS``.

    Example:
        >>> from pathlib import Path
        >>> from rehab_analytics.sources import Organisation
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
        scheme=org.id_scheme,
        normalise=org.id_normalise,
    )
    if org.id_scheme == "other":
        # A client number means something only inside its organisation: the same
        # number at another förbund is another person.
        ids["id12"] = f"other:{org.forbund}:" + ids["id12"]
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
    age_values = _Column(age.astype("Int64").astype(object).to_numpy())
    from_id = ids["birth_date"].notna().to_numpy()
    from_birth_year = ~from_id & ~np.isnan(birth_year_sheet)
    # The problem is filed under the column the age came from.
    for came_from, fld, check in (
        (from_id, "personnummer", "the id"),
        (from_birth_year, "birth_year", "the birth year"),
        (~from_id & ~from_birth_year, "age", "the age"),
    ):
        d.drop(
            age_bad & came_from,
            age_values,
            column=h(fld),
            reason="age_out_of_range",
            message=f"the age at start is {{value}}, outside {lo}–{hi}. Check {check} "
            "and the start date.",
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
    id_warnings = _ID_WARNINGS[org.id_scheme]
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
