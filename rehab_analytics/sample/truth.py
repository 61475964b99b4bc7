"""What a correct cleaning of the sample must return: clean participants and rejects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehab_analytics import contract
from rehab_analytics.sample.layouts import _LAYOUTS, _columns
from rehab_analytics.sample.people import _INCOME

_REJECTING = {"end_before_start": "end_date", "invalid_date": "start_date"}
_ID_WARNINGS = {"invalid_id": "invalid_id", "missing_id": "missing_id",
                "other_id": "unrecognised_id"}  # fmt: skip


def _category(values: object, categories: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical(pd.Series(values, dtype=object).replace("", None), categories)


def _income_group(flags: np.ndarray) -> np.ndarray:
    """Vectorised :func:`contract.income_group` over an (n, sources) bool array."""
    group = np.array([contract.INCOME_SOURCE_GROUP[c] for c in _INCOME])
    has = {g: flags[:, group == g].any(axis=1) for g in set(group)}
    public = (
        has["ill_health"].astype(int) + has["labour_market"] + has["social_assistance"]
    )
    return np.select(
        [public > 1, public == 1, has["none_public"]],
        [
            "multiple",
            np.where(
                has["ill_health"],
                "ill_health",
                np.where(has["labour_market"], "labour_market", "social_assistance"),
            ),
            "none_public",
        ],
        "unknown",
    )


def _truth_participants(ep: pd.DataFrame, placed: pd.DataFrame) -> pd.DataFrame:
    """Return exactly what a correct cleaning keeps, in contract dtypes."""
    where = placed[placed["copy"] == 0].set_index("episode")[["file", "sheet", "row"]]
    ep = ep.join(where).loc[lambda d: ~d["fault"].isin(list(_REJECTING))]
    ep = ep.sort_values(["sub", "file", "row"]).reset_index(drop=True)
    fault, field_ = ep["fault"].to_numpy(), ep["fault_field"].to_numpy()
    kind = np.select(
        [
            fault == "invalid_id",
            fault == "missing_id",
            fault == "other_id",
            ep["samordning"],
        ],
        ["invalid", "missing", "other", "samordningsnummer"],
        "personnummer",
    )
    valid = np.isin(kind, ["personnummer", "samordningsnummer"])
    has_sex = ep["forbund"].map({c: "sex" in _columns(c) for c in _LAYOUTS})
    active = ep["active"].to_numpy()
    no_outcome = active | (ep["exit_reason"] == "misregistration").to_numpy()

    def coded(name: str, column: str) -> np.ndarray:
        return np.where(field_ == name, "unknown", ep[column].to_numpy(dtype=object))

    before = ep[[f"b__{c}" for c in _INCOME]].to_numpy(dtype=bool)
    after = ep[[f"a__{c}" for c in _INCOME]].to_numpy(dtype=bool) & ~no_outcome[:, None]
    occ_after = np.where(
        no_outcome, "unknown", coded("occupation_after", "occupation_after")
    )
    work = pd.array(np.isin(occ_after, contract.WORK_OR_STUDY), dtype="boolean")
    work[no_outcome | (occ_after == "unknown")] = pd.NA
    days = (ep["end"] - ep["start"]).dt.days.astype("Int64")
    out = {
        "id_kind": _category(kind, contract.ID_KINDS),
        "forbund": _category(ep["forbund"], contract.DEFAULT_FORBUND),
        "subproject": _category(ep["subproject"], contract.DEFAULT_SUBPROJECTS),
        "sex": _category(
            np.where(valid | has_sex, np.where(ep["woman"], "woman", "man"), "unknown"),
            contract.SEX,
        ),
        "birth_year": pd.array(
            np.where(valid, ep["birth"].dt.year, pd.NA), dtype="Int64"
        ),
        "age_at_start": pd.array(np.where(valid, ep["age"], pd.NA), dtype="Int64"),
        "municipality": pd.array(ep["municipality"], dtype="string"),
        "education": _category(coded("education", "education"), contract.EDUCATION),
        "start_date": ep["start"].astype("datetime64[ns]"),
        "end_date": ep["end"].astype("datetime64[ns]"),
        "days_in_programme": days,
        **{f"income_before__{c}": before[:, i] for i, c in enumerate(_INCOME)},
        **{f"income_after__{c}": after[:, i] for i, c in enumerate(_INCOME)},
        "income_group_before": _category(_income_group(before), contract.INCOME_GROUPS),
        "income_group_after": _category(_income_group(after), contract.INCOME_GROUPS),
        "support_years_before": _category(
            coded("support_years_before", "support_years"), contract.SUPPORT_YEARS
        ),
        "occupation_before": _category(
            coded("occupation_before", "occupation_before"), contract.OCCUPATIONS
        ),
        "occupation_after": _category(occ_after, contract.OCCUPATIONS),
        "exit_reason": _category(
            coded("exit_reason", "exit_reason"), contract.EXIT_REASONS
        ),
        "work_or_study_after": work,
        **{
            c: ep[c].astype("Int64")
            for c in ("step_start", "step_end", "health_start", "health_end")
        },
        "source_file": pd.array(ep["file"], dtype="string"),
        "source_sheet": pd.array(ep["sheet"], dtype="string"),
        "source_row": pd.array(ep["row"], dtype="Int64"),
        "personnummer_norm": pd.array(np.where(valid, ep["pnr"], None), dtype="string"),
    }
    return pd.DataFrame(out)


def _reject_frame(rows: list[dict]) -> pd.DataFrame:
    cols = [
        "source",
        "table",
        "source_file",
        "source_sheet",
        "source_row",
        "column",
        "status",
        "reason",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    frame = frame.astype({c: "string" for c in cols} | {"source_row": "Int64"})
    return frame.sort_values(
        ["source", "source_file", "source_sheet", "source_row", "column"],
        ignore_index=True,
    )


def _participant_rejects(
    ep: pd.DataFrame, placed: pd.DataFrame, tables: list
) -> list[dict]:
    """Return the expected reject/warning rows of the participant files."""
    info = placed.join(ep[["forbund", "fault", "fault_field"]], on="episode")
    fault, copy = info["fault"], (info["copy"] == 1).to_numpy()
    ids, rejecting = fault.isin(list(_ID_WARNINGS)), fault.isin(list(_REJECTING))
    unknown = (fault == "unknown_label").to_numpy()
    reason = np.select(
        [copy, ids, rejecting, unknown],
        ["duplicate_episode", fault.map(_ID_WARNINGS), fault, "unknown_label"],
        "",
    )
    name = np.select(
        [copy | ids, rejecting, unknown],
        ["personnummer", fault.map(_REJECTING), info["fault_field"]],
        "",
    )
    headers = {
        f"{code}|{name}": header
        for code in _LAYOUTS
        for name, header in _columns(code).items()
    }
    found = pd.DataFrame(
        {
            "source": info["forbund"],
            "table": "participants",
            "source_file": info["file"],
            "source_sheet": info["sheet"],
            "source_row": info["row"],
            "column": (info["forbund"] + "|" + name).map(headers),
            "status": np.where(copy | rejecting, "rejected", "warning"),
            "reason": reason,
        }
    )[reason != ""]
    rows = found.to_dict("records")
    for t in tables:
        for row in t.source_row[t.role == "totals"]:
            rows.append(
                {
                    "source": t.source,
                    "table": t.table,
                    "source_file": t.file,
                    "source_sheet": t.sheet,
                    "source_row": row,
                    "column": t.header[0],
                    "status": "skipped",
                    "reason": "totals_row",
                }
            )
    return rows
