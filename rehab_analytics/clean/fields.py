"""Fields read through labels or scales, each warning about the cells it cannot read."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from rehab_analytics.clean.column import _Column
from rehab_analytics.clean.decide import _Decider, _header_of
from rehab_analytics.clean.values import _numbers, _vocab_codes
from rehab_analytics.sources import Scale, TableSpec, normalise_label

__all__: list[str] = []


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
