"""Data-quality tables for the data-quality report: row accounting, completeness, rejects.

Each function returns a tidy table of counts (column ``n`` or ``filled``); the
notebook passes it through :func:`rehab_analytics.disclosure.suppress` before
publishing, because the counts are counts of people's episodes.
"""

from __future__ import annotations

import pandas as pd

from rehab_analytics.contract import COMPLETENESS_FIELDS

__all__ = [
    "OUTCOMES",
    "row_accounting",
    "source_errors",
    "completeness",
    "rejects_by_reason",
    "unknown_labels",
]

OUTCOMES = ("clean", "rejected", "skipped")


def row_accounting(report: dict) -> pd.DataFrame:
    """Where every row read from each source went: clean, rejected or skipped.

    Long format (one row per source and outcome), so that suppressing a small
    count with ``margins=[["source"]]`` also protects it against the source total.
    Sources that could not be read have no rows (see :func:`source_errors`).

    Example:
        >>> rep = {"sources": {"nordost": {"rows_clean": 98, "rows_rejected": 2,
        ...                                "rows_skipped": 0, "error": None}}}
        >>> row_accounting(rep)
            source   outcome   n
        0  nordost     clean  98
        1  nordost  rejected   2
        2  nordost   skipped   0
    """
    sources = {k: v for k, v in report.get("sources", {}).items() if not v.get("error")}
    wide = pd.DataFrame.from_dict(sources, orient="index").reindex(
        columns=[f"rows_{o}" for o in OUTCOMES]
    )
    wide.columns = list(OUTCOMES)
    wide.index.name = "source"
    long = wide.reset_index().melt(id_vars="source", var_name="outcome", value_name="n")
    long["outcome"] = pd.Categorical(long["outcome"], categories=OUTCOMES)
    long = long.sort_values(["source", "outcome"], kind="stable", ignore_index=True)
    long["outcome"] = long["outcome"].astype(str)
    long["n"] = long["n"].astype("Int64")
    return long


def source_errors(report: dict) -> pd.DataFrame:
    """Sources that could not be read, with the reason (no counts).

    Example:
        >>> source_errors({"sources": {"a": {"error": "file is encrypted"}}})
          source              error
        0      a  file is encrypted
    """
    rows = [
        {"source": name, "error": str(s["error"])}
        for name, s in report.get("sources", {}).items()
        if s.get("error")
    ]
    return pd.DataFrame(rows, columns=["source", "error"])


def completeness(participants: pd.DataFrame, by: str = "subproject") -> pd.DataFrame:
    """Filled-in episodes per contract field and group (unknown/missing = not filled).

    Uses the same rule per field as the förbund feedback workbooks.

    Returns:
        ``by, field, n, filled, share`` (share = filled / n).

    Example:
        >>> df = pd.DataFrame({"subproject": ["a", "a"], "sex": ["woman", "unknown"],
        ...                    "start_date": pd.to_datetime(["2016-01-01"] * 2)})
        >>> completeness(df)
          subproject       field  n  filled  share
        0          a         sex  2       1    0.5
        1          a  start_date  2       2    1.0
    """
    fields = {
        f: spec for f, spec in COMPLETENESS_FIELDS.items() if spec[0] in participants
    }
    filled = pd.DataFrame(
        {
            field: participants[column].notna()
            & ~participants[column].astype("string").isin(empty).fillna(False)
            for field, (column, empty) in fields.items()
        },
        index=participants.index,
    )
    filled[by] = participants[by]
    long = filled.melt(id_vars=by, var_name="field", value_name="ok")
    out = (
        long.groupby([by, "field"], sort=False, observed=True)["ok"]
        .agg(n="size", filled="sum")
        .reset_index()
    )
    out["n"] = out["n"].astype("Int64")
    out["filled"] = out["filled"].astype("Int64")
    out["share"] = (out["filled"] / out["n"]).astype("Float64").astype(float)
    return out


def rejects_by_reason(rejects: pd.DataFrame) -> pd.DataFrame:
    """Problems per source, status (rejected/skipped/warning) and reason.

    Example:
        >>> rej = pd.DataFrame({"source": ["a", "a", "a"],
        ...                     "status": ["rejected", "warning", "warning"],
        ...                     "reason": ["invalid_date", "missing_id", "missing_id"]})
        >>> rejects_by_reason(rej)
          source    status        reason  n
        0      a  rejected  invalid_date  1
        1      a   warning    missing_id  2
    """
    keys = ["source", "status", "reason"]
    out = rejects.groupby(keys, sort=True, observed=True).size().reset_index(name="n")
    out["n"] = out["n"].astype("Int64")
    return out


def unknown_labels(
    rejects: pd.DataFrame, *, threshold: int = 1, other_label: str = "(other values)"
) -> pd.DataFrame:
    """Labels not in the vocabularies (kept as unknown), per column and value.

    These are the labels to add to ``vocabularies.toml`` or a source description.
    A value seen fewer than ``threshold`` times may be free text about one person
    (a name typed into a coded column), so its text is not published: such values
    are pooled per column under ``other_label``. The feedback workbook for the
    förbund still lists every value with its row.

    Example:
        >>> rej = pd.DataFrame({"column": ["education", "education"],
        ...                     "value": ["Gymn.", "Gymn."],
        ...                     "reason": ["unknown_label", "unknown_label"]})
        >>> unknown_labels(rej)
              column  value  n
        0  education  Gymn.  2
        >>> unknown_labels(rej, threshold=5, other_label="(other)")
              column    value  n
        0  education  (other)  2
    """
    unknown = rejects[rejects["reason"] == "unknown_label"]
    counts = (
        unknown.groupby(["column", "value"], sort=True, observed=True)
        .size()
        .reset_index(name="n")
    )
    rare = counts["n"] < threshold
    pooled = (
        counts[rare]
        .groupby("column", sort=True, observed=True)["n"]
        .sum()
        .reset_index()
        .assign(value=other_label)
    )
    out = (
        pd.concat([counts[~rare], pooled[["column", "value", "n"]]], ignore_index=True)
        .sort_values(["n", "column"], ascending=[False, True], kind="stable")
        .reset_index(drop=True)
    )
    out["n"] = out["n"].astype("Int64")
    return out
