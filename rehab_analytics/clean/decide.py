"""Problems and row fates: a row's first reject or skip decides it; warnings wait.

:class:`_Decider` collects the problems of one table as masks over its rows and
turns them into ``contract.REJECT_COLUMNS`` rows and a status per raw row; the
helpers here are the checks every table kind shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rehab_analytics import contract
from rehab_analytics.clean.column import _Column
from rehab_analytics.escape import MAX_QUOTED, excerpt
from rehab_analytics.sources import TableSpec

__all__ = ["CleanTable", "source_fields"]

_LINEAGE = list(contract.LINEAGE_COLUMNS)


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


def _header_of(spec: TableSpec, field: str) -> str:
    value = spec.columns.get(field)
    return value if isinstance(value, str) else field


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
                np.full(len(pos), "", dtype=object)
                if redact
                else _quoted(col.value_at(pos))
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


def source_fields(spec: TableSpec) -> list[str]:
    """Return the mapped contract fields of a table (``count_by_sex`` expanded)."""
    fields = [f for f in spec.columns if f != "count_by_sex"]
    if "count_by_sex" in spec.columns:
        fields += [f"count_by_sex.{s}" for s in spec.columns["count_by_sex"]]
    return fields


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


def _quoted(values: np.ndarray) -> np.ndarray:
    """Values as quoted in rejects and messages: at most MAX_QUOTED characters each."""
    text = pd.Series(values, dtype="string")
    long = text.str.len() > MAX_QUOTED
    if long.any():
        text[long] = text[long].map(excerpt)
    return text.to_numpy(dtype=object)
