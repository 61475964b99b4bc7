"""One table of one source: raw sheets stacked into contract fields, then cleaned by kind.

Every function is pure and vectorised. The cleaning per kind is in
:mod:`~rehab_analytics.clean.participants` and
:mod:`~rehab_analytics.clean.organisations`; rules and reason codes:
docs/source-descriptions.md; columns: docs/data-contract.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from rehab_analytics import contract
from rehab_analytics.clean.column import _Column
from rehab_analytics.clean.decide import CleanTable
from rehab_analytics.clean.organisations import (
    clean_anonymous_counts,
    clean_subprojects,
)
from rehab_analytics.clean.participants import clean_participants
from rehab_analytics.ingest import RawSheet
from rehab_analytics.sources import (
    Registry,
    SourceDescription,
    TableSpec,
    normalise_label,
)

__all__ = ["stack_sheets", "clean_table"]

_TRUTHY = frozenset({"x", "ja", "j", "1", "true", "yes", "sant"})


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
        empty = [*fields, "__skip__", "__skip_value__", *contract.LINEAGE_COLUMNS]
        return pd.DataFrame(columns=empty), notes
    return pd.concat(parts, ignore_index=True), notes


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
        >>> from rehab_analytics.sources import Organisation, Registry
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
