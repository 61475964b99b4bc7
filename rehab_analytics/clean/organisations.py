"""Per organisation and year: subproject (budget) rows and anonymous-participant counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

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
from rehab_analytics.clean.fields import _coded
from rehab_analytics.clean.values import _numbers
from rehab_analytics.sources import Registry, SourceDescription, TableSpec

__all__ = ["clean_subprojects", "clean_anonymous_counts"]


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
        >>> from rehab_analytics.sources import Organisation, Registry
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
        >>> from rehab_analytics.sources import Organisation, Registry
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
