"""Synthetic raw deliveries from the six förbund, with known faults and the truth.

:func:`generate` builds everything in memory (deterministic per seed);
:func:`write_sample` writes each förbund's files in its own layout (the quirks are
listed in ``data/raw/README.md`` and in each source description), the tables a
correct cleaning must return under ``_truth/``, a marker file and the demo key.
"""

from __future__ import annotations

import functools
import json
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from rehab_analytics import contract, identity
from rehab_analytics.config import BUILTIN_SOURCES_DIR
from rehab_analytics.errors import ParameterError, SampleTargetError

__all__ = [
    "GENERATOR_VERSION",
    "MARKER",
    "RawTable",
    "SampleData",
    "SampleResult",
    "generate",
    "write_sample",
]

GENERATOR_VERSION = "1"
MARKER = identity.SAMPLE_MARKER
PERIOD_START, PERIOD_END = pd.Timestamp("2015-10-01"), pd.Timestamp("2019-06-30")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_SUBPROJECT = dict(
    zip(contract.DEFAULT_SUBPROJECTS, contract.DEFAULT_FORBUND, strict=True)
)
_INCOME = contract.INCOME_SOURCES
# Files that may sit in an otherwise empty raw folder (README.md is the data log).
_HARMLESS = {"README.md", ".gitkeep", identity.DEMO_KEY_NAME}

# Case mix per subproject: share of episodes, age, share of women, mean days in the
# programme and the logit of work/study after exit before case-mix effects.
_PROFILE = pd.DataFrame(
    {
        "weight": [0.19, 0.16, 0.18, 0.20, 0.12, 0.15],
        "age_mean": [23.0, 37.0, 39.0, 23.0, 46.0, 44.0],
        "age_sd": [3.5, 11.0, 11.0, 3.5, 9.0, 10.0],
        "women": [0.50, 0.55, 0.58, 0.48, 0.60, 0.66],
        "days": [330.0, 280.0, 200.0, 360.0, 150.0, 260.0],
        "logit": [-0.3, -0.8, -0.9, -0.2, -1.1, -0.7],
        "young": [True, False, False, True, False, False],
    },
    index=contract.DEFAULT_SUBPROJECTS,
)
# P(income source before), columns in contract.INCOME_SOURCES order.
_INCOME_P = np.array(
    [
        [0.03, 0.25, 0.04, 0.05, 0.00, 0.15, 0.45, 0.05, 0.08, 0.04],
        [0.08, 0.30, 0.10, 0.15, 0.05, 0.02, 0.40, 0.05, 0.02, 0.03],
        [0.05, 0.20, 0.03, 0.35, 0.10, 0.05, 0.30, 0.08, 0.02, 0.03],
        [0.03, 0.25, 0.04, 0.05, 0.00, 0.18, 0.42, 0.05, 0.08, 0.04],
        [0.04, 0.15, 0.02, 0.45, 0.20, 0.03, 0.20, 0.10, 0.00, 0.03],
        [0.05, 0.15, 0.02, 0.50, 0.15, 0.03, 0.15, 0.12, 0.02, 0.04],
    ]
)
_MUNICIPALITIES = {
    "alv_och_kust": {"1440": 0.25, "1482": 0.40, "1415": 0.25, "1407": 0.10},
    "insjoriket": {
        "1481": 0.30,
        "1402": 0.20,
        "1401": 0.15,
        "1441": 0.20,
        "1489": 0.15,
    },
}
_MUNICIPALITY_NAMES = {
    "1440": "Ale",
    "1482": "Kungälv",
    "1415": "Stenungsund",
    "1407": "Tjörn",
}
_SUPPORT_YEARS = {"under_1": [0.5, 0.75], "1_2": [1.25, 1.5], "2_5": [2.5, 3, 3.5, 4.5],
                  "over_5": [6, 7.5, 8, 10, 12.5]}  # fmt: skip
# Injected faults: share of episodes (at least one each). Duplicates are extra rows.
_FAULT_RATES = {
    "invalid_id": 0.015,
    "missing_id": 0.005,
    "other_id": 0.003,
    "end_before_start": 0.01,
    "invalid_date": 0.005,
    "unknown_label": 0.02,
}
_DUP_RATE, _MISREG_RATE, _REPEAT_RATE, _SAMORDNING_RATE = 0.01, 0.015, 0.03, 0.03
_REJECTING = {"end_before_start": "end_date", "invalid_date": "start_date"}
_ID_WARNINGS = {"invalid_id": "invalid_id", "missing_id": "missing_id",
                "other_id": "unrecognised_id"}  # fmt: skip
_UNKNOWN_LABELS = ["Praktik", "Daglig verksamhet", "Se anteckning", "Väntar på besked"]
_IMPOSSIBLE = [(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31)]

_WOMEN = ["Anna", "Maria", "Sara", "Emma", "Elin", "Johanna", "Linnea", "Ida", "Hanna",
          "Fatima", "Amina", "Sofia", "Julia", "Malin", "Nora", "Ebba", "Maja", "Leila"]  # fmt: skip
_MEN = ["Erik", "Lars", "Johan", "Anders", "Karl", "Ali", "Mohammed", "Oskar", "Viktor",
        "Emil", "Filip", "Ahmed", "Hassan", "Jonas", "Axel", "Elias", "Adam", "Omar"]  # fmt: skip
_SURNAMES = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson",
             "Olsson", "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson",
             "Hussein", "Mohamed", "Lindberg", "Holm", "Nyström", "Ahmadi", "Sjöberg"]  # fmt: skip
_STREETS = ["Storgatan", "Kvarnvägen", "Björkgatan", "Gårdstensvägen", "Tuvevägen",
            "Backavägen", "Kungsgatan", "Ängsvägen", "Hjalmar Brantingsgatan"]  # fmt: skip

# Raw labels per contract code; a list gives variants picked at random per row.
_SV = {
    "sex": {"woman": "Kvinna", "man": "Man"},
    "education": {"compulsory": "Förgymnasial", "upper_secondary": "Gymnasial",
                  "post_secondary": "Eftergymnasial", "unknown": "Uppgift saknas"},
    "income_source": {"unemployment_insurance": "A-kassa", "activity_support":
        "Aktivitetsstöd", "establishment_allowance": "Etableringsersättning",
        "sickness_benefit": "Sjukpenning", "sickness_compensation": "Sjukersättning",
        "activity_compensation": "Aktivitetsersättning", "social_assistance":
        "Försörjningsstöd", "wage": "Lön", "student_aid": "Studiemedel", "other": "Annat"},
    "support_years": {"under_1": "Kortare än 1 år", "1_2": "1–2 år", "2_5": "2–5 år",
                      "over_5": "Mer än 5 år", "unknown": "Uppgift saknas"},
    "occupation": {"employed": "Förvärvsarbete", "studying": "Studier",
                   "job_seeking": "Aktivt arbetssökande", "other": "Övriga",
                   "unknown": "Okänd"},
    "exit_reason": {"completed": "Avslutad enligt plan", "dropped_out": "Avbrott",
                    "ill_health": "Ohälsa", "other_programme": "Övergång till annan insats",
                    "moved": "Flyttat", "misregistration": "Felregistrering",
                    "other": "Annan orsak"},
}  # fmt: skip
_EN = {
    "sex": {"woman": "Female", "man": "Male"},
    "education": {"compulsory": "Compulsory", "upper_secondary": "Upper secondary",
                  "post_secondary": "Post-secondary", "unknown": "Unknown"},
    "income_source": _SV["income_source"],
    "support_years": {"under_1": "Under 1 year", "1_2": "1-2 years", "2_5": "2-5 years",
                      "over_5": "Over 5 years", "unknown": "Unknown"},
    "occupation": {"employed": "Employed", "studying": "Studies", "job_seeking":
                   "Job seeking", "other": "Other", "unknown": "Unknown"},
    "exit_reason": {"completed": "Completed", "dropped_out": "Dropped out",
                    "ill_health": "Ill health", "other_programme": "Other programme",
                    "moved": "Moved", "misregistration": "Misregistration",
                    "other": "Other"},
}  # fmt: skip
_HISINGEN_LABELS = {
    "sex": {"woman": ["K", "k", "Kvinna ", "KVINNA"], "man": ["M", "m", "Man", "MAN "]},
    "income_source": {
        "social_assistance": ["Försörjningsstöd", "forsorjningsstod", "Ek. bistånd",
                              "FÖRSÖRJNINGSSTÖD ", "Soc. bidrag"],
        "activity_support": ["Aktivitetsstöd", "aktivitetsstod", "Aktivitetsstöd "],
        "activity_compensation": ["Aktivitetsersättning", "aktivitetsersättning"],
        "unemployment_insurance": ["A-kassa", "akassa", "A-KASSA"],
        "student_aid": ["Studiemedel", "CSN"],
    },
    "occupation": {"employed": ["Förvärvsarbete", "Jobbar", "arbete"],
                   "studying": ["Studier", "Pluggar", "studerar "]},
}  # fmt: skip

# How each förbund writes its delivery (headers come from its source description).
_LAYOUTS: dict[str, dict] = {
    "nordost": {"path": "nordost/Dino deltagare 2015-2019.xlsx", "sheet": "Deltagare",
                "title": ["Samordningsförbundet Göteborg Nordost – Dino, deltagare",
                          "Uttag ur SUS 2019-07-05"],
                "id": "long-dash", "dates": "serial", "totals": "Summa",
                "labels": {"sex": {"woman": "K", "man": "M"}},
                "extra": {"Namn": "name", "Adress": "address"}},
    "vaster": {"path": "vaster/Motiverande insatser {key}.csv", "split": "year",
               "encoding": "cp1252", "id": "short-dash", "dates": "dmy",
               "support": "years", "extra": {"Namn": "name", "Timmar per vecka": "hours"}},
    "centrum": {"path": "centrum/Bedömningsteam deltagare.xlsx", "sheet": "Deltagare",
                "id": "long", "dates": "native", "blank_rows": True,
                "extra": {"Namn": "name", "Adress": "address"}},
    "hisingen": {"path": "hisingen/Unga vuxna {key}.xlsx", "sheet": "Deltagare {key}",
                 "split": "year", "id": "mixed", "dates": "%Y%m%d", "steps": "Steg ",
                 "labels": _HISINGEN_LABELS, "extra": {"Namn": "name"}},
    "alv_och_kust": {"path": "alv_och_kust/Myndighetsgemensam bedömning.ods",
                     "sheet": "Participants", "id": "long-dash", "dates": "native",
                     "lang": _EN, "municipality": "name",
                     "extra": {"Name": "name", "": "empty"}},
    "insjoriket": {"path": "insjoriket/AKTIV {key}.csv", "split": "tertial",
                   "encoding": "utf-8-sig", "id": "long", "dates": "%Y-%m-%d",
                   "extra": {"Namn": "name", "Kostnad (kr)": "cost"}},
}  # fmt: skip


@dataclass
class RawTable:
    """One sheet (or text file) as written: rows above the header, header, cells.

    Attributes:
        source: Source description code (file stem), e.g. ``"nordost"``.
        table: ``participants``, ``subprojects``, ``anonymous_counts`` or ``""``
            for sheets without data (instructions, hidden lookups).
        file: Path relative to the raw folder (posix).
        sheet: Sheet name; ``""`` for text files.
        header: Column headers as written (may repeat under header bands).
        data: One row per line below the header (blank rows all None), cells as
            Python values; columns are positions.
        source_row: 1-based row number of each data row as a spreadsheet shows it.
        role: Per data row: ``data``, ``blank`` or ``totals``.
    """

    source: str
    table: str
    file: str
    sheet: str
    header: list[str]
    data: pd.DataFrame
    source_row: np.ndarray
    role: np.ndarray
    above: list[list[object]] = field(default_factory=list)
    merges: list[tuple[int, int, int, int, str]] = field(default_factory=list)
    hidden: bool = False
    encoding: str = ""


@dataclass
class SampleData:
    """The generated sample: truth tables (``_truth/``) and the raw tables."""

    participants: pd.DataFrame
    subprojects: pd.DataFrame
    anonymous_counts: pd.DataFrame
    rejects: pd.DataFrame
    tables: list[RawTable]
    seed: int
    n: int

    def raw(self, source: str) -> list[RawTable]:
        """Return the raw tables (sheets/files) of one source, in file order."""
        return [t for t in self.tables if t.source == source]


@dataclass
class SampleResult:
    """What :func:`write_sample` wrote."""

    out: Path
    files: list[Path]
    truth_dir: Path
    rows: dict[str, int]
    n: int
    seed: int

    def summary(self) -> str:
        """Return a short human-readable list of the files and row counts."""
        lines = [
            f"Wrote sample data ({self.n} episodes, seed {self.seed}) to {self.out}:"
        ]
        lines += [f"  {name:<55} {count:>7} rows" for name, count in self.rows.items()]
        lines.append(f"Expected results for tests: {self.truth_dir}")
        lines.append(f"Next: rehab-analytics clean --raw {self.out}")
        return "\n".join(lines)


@functools.lru_cache(maxsize=16)
def _description(code: str) -> dict:
    """Return a built-in source description as parsed TOML (read-only)."""
    return tomllib.loads((BUILTIN_SOURCES_DIR / f"{code}.toml").read_text("utf-8"))


def _columns(code: str) -> dict:
    """Return a built-in participant description's field → raw header mapping."""
    return _description(code)["tables"][0]["columns"]


def _counts(n: int, rate: float, pool: int) -> int:
    """Return how many rows get a fault: the rate, at least one, at most the pool."""
    return min(pool, max(1, round(rate * n)))


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total by weights (largest remainder), summing exactly."""
    raw = total * np.asarray(weights, float) / np.sum(weights)
    out = np.floor(raw).astype(np.int64)
    out[np.argsort(raw - out)[::-1][: total - out.sum()]] += 1
    return out


def _full_years(born: pd.Series, on: pd.Series) -> np.ndarray:
    before = on.dt.month * 100 + on.dt.day < born.dt.month * 100 + born.dt.day
    return (on.dt.year - born.dt.year - before.astype(int)).to_numpy()


def _people(ep: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Add unique, Luhn-valid personnummer (~3 % samordningsnummer) per person."""
    first = ep.groupby("person").head(1)
    man = ~first["woman"]
    grouped = first.groupby([first["birth"], man, first["samordning"]])
    k = grouped.cumcount().to_numpy()
    base = rng.integers(0, 499, grouped.ngroups)[grouped.ngroup().to_numpy()]
    serial = ((base + k) % 499 + 1) * 2 + man.to_numpy()  # 9th digit odd for men
    day = first["birth"].dt.day + 60 * first["samordning"]
    yymmdd = first["birth"].dt.strftime("%y%m") + day.map("{:02d}".format)
    digits9 = yymmdd + pd.Series(serial, index=first.index).map("{:03d}".format)
    check = identity.luhn_digit(digits9.astype("string")).astype(str)
    pnr = first["birth"].dt.strftime("%Y").str[:2] + digits9 + check
    return ep.assign(pnr=ep["person"].map(pd.Series(pnr.to_numpy(), first["person"])))


def _episodes(
    n: int, rng: np.random.Generator, step_max: dict[str, int]
) -> pd.DataFrame:
    """Return one clean, internally consistent row per episode (codes, dates, people)."""
    sub = rng.permutation(np.repeat(np.arange(6), _allocate(n, _PROFILE["weight"])))
    span = (PERIOD_END - PERIOD_START).days
    start = PERIOD_START + pd.to_timedelta(rng.integers(0, span - 14, n), "D")
    ep = pd.DataFrame({"sub": sub, "start": start, "person": np.arange(n)})
    prof = _PROFILE.iloc[sub].reset_index(drop=True)
    age = np.clip(rng.normal(prof["age_mean"], prof["age_sd"]).round(), 16, 65)
    offset = age * 365.25 + rng.integers(20, 340, n)
    ep["birth"] = (ep["start"] - pd.to_timedelta(offset, "D")).dt.normalize()
    ep["woman"] = rng.random(n) < prof["women"]
    ep["samordning"] = rng.random(n) < _SAMORDNING_RATE
    ep["days"] = np.maximum(rng.gamma(2.0, prof["days"] / 2), 21).round()
    ep["name"] = np.where(ep["woman"], rng.choice(_WOMEN, n), rng.choice(_MEN, n))
    ep["name"] += " " + rng.choice(_SURNAMES, n)
    ep["address"] = rng.choice(_STREETS, n) + " " + rng.integers(1, 80, n).astype(str)
    # A few people come back for a second episode after the first one ended.
    end = ep["start"] + pd.to_timedelta(ep["days"], "D")
    young_enough = ep["birth"] > ep["start"] - pd.DateOffset(years=60)
    can_return = np.flatnonzero(
        (end < PERIOD_END - pd.Timedelta(days=150)) & young_enough
    )
    k = min(round(_REPEAT_RATE * n), len(can_return) // 2)
    pick = rng.choice(can_return, 2 * k, replace=False)
    firsts, seconds = pick[:k], pick[k:]
    gap = pd.to_timedelta(rng.integers(14, 120, k), "D")
    ep.loc[seconds, "start"] = (end.iloc[firsts] + gap).to_numpy()
    same = rng.random(k) < 0.5
    ep.loc[seconds[same], "sub"] = ep["sub"].to_numpy()[firsts[same]]
    who = ["person", "birth", "woman", "samordning", "name", "address"]
    ep.loc[seconds, who] = ep.loc[firsts, who].to_numpy()
    ep = ep.astype({"person": int, "woman": bool, "samordning": bool})
    ep["birth"] = pd.to_datetime(ep["birth"])
    return _outcomes(_people(ep, rng), rng, step_max)


def _outcomes(
    ep: pd.DataFrame, rng: np.random.Generator, step_max: dict
) -> pd.DataFrame:
    """Add background, income sources, steps and (for exited episodes) outcomes."""
    n = len(ep)
    prof = _PROFILE.iloc[ep["sub"]].reset_index(drop=True)
    ep["subproject"] = np.array(contract.DEFAULT_SUBPROJECTS)[ep["sub"]]
    ep["forbund"] = ep["subproject"].map(_SUBPROJECT)
    ep["end"] = ep["start"] + pd.to_timedelta(ep["days"], "D")
    ep["active"] = ep["end"] > PERIOD_END
    ep.loc[ep["active"], "end"] = pd.NaT
    ep["age"] = _full_years(ep["birth"], ep["start"])
    ep["municipality"] = "1480"
    for fb, shares in _MUNICIPALITIES.items():
        hit = (ep["forbund"] == fb).to_numpy()
        ep.loc[hit, "municipality"] = rng.choice(
            list(shares), hit.sum(), p=list(shares.values())
        )
    young = prof["young"].to_numpy()
    ep["education"] = np.where(
        young,
        rng.choice(contract.EDUCATION, n, p=[0.45, 0.45, 0.07, 0.03]),
        rng.choice(contract.EDUCATION, n, p=[0.25, 0.45, 0.27, 0.03]),
    )
    bands = ["under_1", "1_2", "2_5", "over_5", "unknown"]
    ep["support_years"] = np.where(
        young,
        rng.choice(bands, n, p=[0.30, 0.34, 0.29, 0.05, 0.02]),
        rng.choice(bands, n, p=[0.15, 0.20, 0.34, 0.29, 0.02]),
    )
    before = rng.random((n, len(_INCOME))) < _INCOME_P[ep["sub"]]
    none = ~before.any(axis=1)
    before[none, _INCOME_P[ep["sub"][none]].argmax(axis=1)] = True
    occupations = ["employed", "studying", "job_seeking", "other"]
    ep["occupation_before"] = rng.choice(occupations, n, p=[0.04, 0.05, 0.45, 0.46])
    # Work/study after exit: subproject level, lower with ill-health income and age 45+.
    ill = before[
        :,
        [
            _INCOME.index(c)
            for c in (
                "sickness_benefit",
                "sickness_compensation",
                "activity_compensation",
            )
        ],
    ].any(axis=1)
    logit = prof["logit"].to_numpy() - 0.4 * ill - 0.3 * (ep["age"].to_numpy() > 45)
    success = rng.random(n) < 1 / (1 + np.exp(-logit))
    studies = rng.random(n) < np.where(young, 0.5, 0.25)
    ep["occupation_after"] = np.where(
        success,
        np.where(studies, "studying", "employed"),
        rng.choice(["job_seeking", "other", "unknown"], n, p=[0.45, 0.5, 0.05]),
    )
    ep["exit_reason"] = np.where(
        success,
        rng.choice(["completed", "other_programme", "other"], n, p=[0.85, 0.1, 0.05]),
        rng.choice(
            [
                "completed",
                "dropped_out",
                "ill_health",
                "other_programme",
                "moved",
                "other",
            ],
            n,
            p=[0.35, 0.25, 0.18, 0.1, 0.07, 0.05],
        ),
    )
    exited = np.flatnonzero(~ep["active"].to_numpy())
    misreg = rng.choice(exited, _counts(n, _MISREG_RATE, len(exited)), replace=False)
    ep.loc[misreg, "exit_reason"] = "misregistration"
    after = before & (rng.random(before.shape) < 0.7)
    after[:, _INCOME.index("social_assistance")] |= rng.random(n) < 0.08
    after[success] = False
    after[success & ~studies, _INCOME.index("wage")] = True
    after[success & studies, _INCOME.index("student_aid")] = True
    none = ~after.any(axis=1)
    after[none] = before[none]
    top = np.array([step_max[fb] for fb in ep["forbund"]])
    ep["step_start"] = 1 + rng.binomial(top - 3, 0.3)
    ep["step_end"] = np.minimum(
        top, ep["step_start"] + rng.binomial(3, 0.35 + 0.3 * success)
    )
    ep["health_start"] = 1 + rng.binomial(4, 0.35, n)
    ep["health_end"] = np.clip(ep["health_start"] + rng.integers(-1, 3, n), 1, 5)
    gone = ep["active"].to_numpy()
    ep.loc[gone, ["occupation_after", "exit_reason"]] = ""
    after[gone] = False
    no_end = gone | (ep["exit_reason"] == "misregistration").to_numpy()
    ep[["step_end", "health_end"]] = ep[["step_end", "health_end"]].astype("Int64")
    ep.loc[no_end, ["step_end", "health_end"]] = pd.NA
    ep["hours"] = rng.choice([5, 7.5, 10, 12.5, 15, 20, 25, 30], n)
    ep["cost"] = rng.integers(40, 600, n) * 100
    flags = {f"b__{c}": before[:, i] for i, c in enumerate(_INCOME)}
    flags |= {f"a__{c}": after[:, i] for i, c in enumerate(_INCOME)}
    return pd.concat([ep, pd.DataFrame(flags, index=ep.index)], axis=1)


def _file_key(start: pd.Series, split: str | None) -> pd.Series:
    if split == "year":
        return start.dt.year.astype(str)
    if split == "tertial":
        return (
            start.dt.year.astype(str)
            + " T"
            + ((start.dt.month - 1) // 4 + 1).astype(str)
        )
    return pd.Series("", index=start.index)


def _choose(rng, candidates: np.ndarray, k: int) -> np.ndarray:
    return rng.choice(candidates, min(k, len(candidates)), replace=False)


def _assign_faults(ep: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Mark episodes with one injected fault each and choose rows delivered twice."""
    n = len(ep)
    fault = np.full(n, "", dtype=object)
    free = (ep["exit_reason"] != "misregistration").to_numpy()
    exited = ~ep["active"].to_numpy()
    for name, rate in _FAULT_RATES.items():
        ok = free & (fault == "") & (exited if name == "end_before_start" else True)
        fault[_choose(rng, np.flatnonzero(ok), _counts(n, rate, ok.sum()))] = name
    # The field that gets an unknown label; after-fields only for exited episodes.
    listed = [c for c in _LAYOUTS if isinstance(_columns(c)["income_before"], str)]
    fields = np.where(ep["forbund"].isin(listed), "income_before", "education")
    options = np.array(
        ["education", "occupation_before", "occupation_after", "exit_reason"]
    )
    pick = options[rng.integers(0, 4, n)]
    pick = np.where(~exited & (pick == "occupation_after"), "occupation_before", pick)
    pick = np.where(~exited & (pick == "exit_reason"), fields, pick)
    fields = np.where(rng.random(n) < 0.25, fields, pick)
    # Duplicates: within one file anywhere; across files where a next file exists.
    ep = ep.assign(
        fault=fault, fault_field=np.where(fault == "unknown_label", fields, "")
    )
    ep["file_key"] = ""
    for code, layout in _LAYOUTS.items():
        hit = ep["forbund"] == code
        ep.loc[hit, "file_key"] = _file_key(ep.loc[hit, "start"], layout.get("split"))
    dup = np.full(n, "", dtype=object)
    clean = free & (fault == "")
    dup[_choose(rng, np.flatnonzero(clean), _counts(n, _DUP_RATE / 2, clean.sum()))] = (
        "within"
    )
    for code, layout in _LAYOUTS.items():
        mine = (ep["forbund"] == code).to_numpy()
        if not layout.get("split") or not mine.any():
            continue
        last = ep.loc[mine, "file_key"].max()
        ok = np.flatnonzero(
            mine & clean & (dup == "") & (ep["file_key"] != last).to_numpy()
        )
        dup[_choose(rng, ok, _counts(mine.sum(), _DUP_RATE / 2, len(ok)))] = "across"
    return ep.assign(dup=dup)


def _labels(layout: dict, vocab: str) -> dict[str, str | list[str]]:
    table = dict(layout.get("lang", _SV)[vocab])
    table.update(layout.get("labels", {}).get(vocab, {}))
    return table


def _pick(codes: object, table: dict, rng: np.random.Generator) -> np.ndarray:
    """Return a raw label per code (a random variant where several are listed)."""
    values = np.asarray(codes, dtype=object)
    out = np.full(len(values), None, dtype=object)
    for code, labels in table.items():
        hit = values == code
        options = np.array(
            [labels] if isinstance(labels, str) else labels, dtype=object
        )
        out[hit] = options[rng.integers(0, len(options), hit.sum())]
    return out


def _render_dates(dates: pd.Series, style: str) -> np.ndarray:
    """Format dates in a source's style: serial numbers, native dates or text."""
    filled = dates.fillna(PERIOD_START)
    if style == "serial":
        values = (filled - _EXCEL_EPOCH).dt.days.to_numpy().astype(object)
    elif style == "native":
        values = np.array(filled.dt.to_pydatetime(), dtype=object)
    elif style == "dmy":
        day, month, year = (filled.dt.day, filled.dt.month, filled.dt.year)
        values = (
            day.astype(str) + "/" + month.astype(str) + " " + year.astype(str)
        ).to_numpy(object)
    else:
        values = filled.dt.strftime(style).to_numpy(dtype=object)
    return np.where(dates.notna().to_numpy(), values, None)


def _impossible_dates(years: pd.Series, style: str, rng) -> list[str]:
    """Return dates that do not exist (30 February …), written in the source's style."""
    out = []
    for year in years:
        month, day = _IMPOSSIBLE[rng.integers(len(_IMPOSSIBLE))]
        if style in ("serial", "native", "dmy"):
            out.append(f"{day}/{month} {year}")
        else:
            out.append(
                style.replace("%Y", str(year))
                .replace("%m", f"{month:02d}")
                .replace("%d", f"{day:02d}")
            )
    return out


def _render_ids(sub: pd.DataFrame, style: str, rng) -> np.ndarray:
    """Write personnummer in the source's style, with the injected id faults."""
    n, fault = len(sub), sub["fault"].to_numpy()
    pnr = sub["pnr"].astype(str)
    wrong = (pnr.str[11].astype(int) + rng.integers(1, 10, n)) % 10
    pnr = pnr.where(fault != "invalid_id", pnr.str[:11] + wrong.astype(str))
    short = pnr.str[2:8] + "-" + pnr.str[8:]
    text = {
        "long": pnr,
        "long-dash": pnr.str[:8] + "-" + pnr.str[8:],
        "short-dash": short,
        "mixed": short.where(rng.random(n) < 0.5, pnr.str[2:]),
    }[style]
    # Reservnummer-like ids (letters inside) from other registers.
    reserve = (
        pnr.str[:8]
        + "-R"
        + pd.Series(rng.integers(100, 1000, n), index=sub.index).astype(str)
    )
    text = text.where(fault != "other_id", reserve).to_numpy(dtype=object)
    return np.where(fault == "missing_id", None, text)


def _render_list(flags: pd.DataFrame, table: dict, sep: str, rng) -> np.ndarray:
    """Join the labels of the marked income sources into one cell."""
    acc = np.full(len(flags), "", dtype=object)
    for code in _INCOME:
        label = _pick(np.full(len(flags), code, dtype=object), {code: table[code]}, rng)
        acc = np.where(flags[code], np.where(acc == "", label, acc + sep + label), acc)
    return np.where(acc == "", None, acc)


def _render_field(
    sub: pd.DataFrame, name: str, layout: dict, sep: str, rng
) -> np.ndarray:
    """Return the raw cells of one mapped contract field."""
    text = bool(layout.get("encoding"))
    if name == "sex":
        return _pick(
            np.where(sub["woman"], "woman", "man"), _labels(layout, "sex"), rng
        )
    if name == "municipality":
        if layout.get("municipality") == "name":
            return sub["municipality"].map(_MUNICIPALITY_NAMES).to_numpy(dtype=object)
        codes = sub["municipality"].to_numpy(dtype=object)
        return (
            codes if text else sub["municipality"].astype(int).to_numpy().astype(object)
        )
    if name in ("start_date", "end_date"):
        early = sub["start"] - pd.to_timedelta(rng.integers(1, 60, len(sub)), "D")
        dates = sub["start"] if name == "start_date" else sub["end"]
        if name == "end_date":
            dates = dates.where(sub["fault"] != "end_before_start", early)
        values = _render_dates(dates, layout["dates"])
        bad = (sub["fault"] == "invalid_date").to_numpy() & (name == "start_date")
        values[bad] = _impossible_dates(
            sub.loc[bad, "start"].dt.year, layout["dates"], rng
        )
        return values
    if name in ("income_before", "income_after"):
        prefix = "b__" if name == "income_before" else "a__"
        flags = sub[[prefix + c for c in _INCOME]].set_axis(list(_INCOME), axis=1)
        return _render_list(flags, _labels(layout, "income_source"), sep, rng)
    if name == "support_years_before" and layout.get("support") == "years":
        years = pd.Series(pd.NA, index=sub.index, dtype=object)
        for band, options in _SUPPORT_YEARS.items():
            hit = sub["support_years"] == band
            years[hit] = rng.choice(options, hit.sum())
        return years.map(
            lambda v: f"{v:g}".replace(".", ",") if pd.notna(v) else None
        ).to_numpy()
    if name.startswith(("step_", "health_")):
        values = sub[name].astype("Int64")
        if name.startswith("step_") and layout.get("steps"):
            return (layout["steps"] + values.astype("string")).to_numpy(
                object, na_value=None
            )
        return values.to_numpy(dtype=object, na_value=None)
    column, vocab = {
        "education": ("education", "education"),
        "support_years_before": ("support_years", "support_years"),
        "occupation_before": ("occupation_before", "occupation"),
        "occupation_after": ("occupation_after", "occupation"),
        "exit_reason": ("exit_reason", "exit_reason"),
    }[name]
    return _pick(sub[column], _labels(layout, vocab), rng)


def _extra(sub: pd.DataFrame, what: str) -> np.ndarray:
    """Return an unmapped column: names, addresses, hours, cost or nothing."""
    if what == "empty":
        return np.full(len(sub), None, dtype=object)
    if what == "hours":
        return sub["hours"].map(lambda v: f"{v:g}".replace(".", ",")).to_numpy(object)
    if what == "cost":
        return (
            sub["cost"].map(lambda v: f"{v:,}".replace(",", "\u00a0")).to_numpy(object)
        )
    return sub[what].to_numpy(dtype=object)


def _render(sub: pd.DataFrame, code: str, rng) -> list[tuple[str, str, np.ndarray]]:
    """Return (band, header, cells) per column of a source, faults injected."""
    layout = _LAYOUTS[code]
    table = _description(code)["tables"][0]
    sep = table.get("list_separator", ",") + " "
    out: list[tuple[str, str, np.ndarray]] = []
    for name, header in table["columns"].items():
        if isinstance(header, dict):
            prefix = "b__" if name == "income_before" else "a__"
            for c, label in _labels(layout, "income_source").items():
                marks = _pick(np.full(len(sub), "x"), {"x": ["X", "x"]}, rng)
                out.append(
                    (header["band"], label, np.where(sub[prefix + c], marks, None))
                )
            continue
        if name == "personnummer":
            out.append(("", header, _render_ids(sub, layout["id"], rng)))
            out += [("", h, _extra(sub, w)) for h, w in layout.get("extra", {}).items()]
            continue
        values = _render_field(sub, name, layout, sep, rng)
        unknown = (sub["fault_field"] == name).to_numpy()
        labels = rng.choice(_UNKNOWN_LABELS, unknown.sum()).astype(object)
        if name.startswith("income_"):
            labels = values[unknown] + sep + labels
        values[unknown] = labels
        out.append(("", header, values))
    return out


def _above(
    layout: dict, columns: list[tuple[str, str, np.ndarray]]
) -> tuple[list, list]:
    """Return the rows above the header (title rows, band row) and merged ranges."""
    above: list[list[object]] = [[t] for t in layout.get("title", [])]
    bands = [band for band, _, _ in columns]
    merges = []
    if any(bands):
        row: list[object] = [None] * len(columns)
        for band in dict.fromkeys(b for b in bands if b):
            where = [i for i, b in enumerate(bands) if b == band]
            row[where[0]] = band
            merges.append((len(above), where[0], len(above), where[-1], band))
        above.append(row)
    return above, merges


def _with_blank_rows(data: pd.DataFrame, rng) -> tuple[pd.DataFrame, np.ndarray]:
    """Insert ~2 % completely blank rows among the data rows (Centrum)."""
    if len(data) < 3:
        return data, np.full(len(data), "data", dtype=object)
    total = len(data) + max(1, round(0.02 * len(data)))
    blank = np.zeros(total, dtype=bool)
    blank[rng.choice(np.arange(1, total - 1), total - len(data), replace=False)] = True
    cells = np.full((total, data.shape[1]), None, dtype=object)
    cells[~blank] = data.to_numpy(dtype=object)
    return pd.DataFrame(cells), np.where(blank, "blank", "data").astype(object)


def _participant_tables(
    ep: pd.DataFrame, code: str, rng
) -> tuple[list[RawTable], pd.DataFrame]:
    """Lay out one förbund's episodes in its files; return the tables and placements."""
    layout, sub = _LAYOUTS[code], ep[ep["forbund"] == code]
    columns = _render(sub, code, rng)
    header = [h for _, h, _ in columns]
    cells = pd.DataFrame({i: v for i, (_, _, v) in enumerate(columns)}, index=sub.index)
    above, merges = _above(layout, columns)
    start, key = sub["start"], sub["file_key"]
    keys = sorted(key.unique())
    within, across = (
        sub.index[sub["dup"] == "within"],
        sub.index[sub["dup"] == "across"],
    )
    later = start[within] + pd.to_timedelta(rng.integers(1, 45, len(within)), "D")
    order = pd.concat(
        [
            pd.DataFrame({"episode": sub.index, "key": key, "when": start, "copy": 0}),
            pd.DataFrame(
                {"episode": within, "key": key[within], "when": later, "copy": 1}
            ),
            pd.DataFrame(
                {
                    "episode": across,
                    "key": key[across].map(dict(zip(keys, keys[1:], strict=False))),
                    "when": start[across],
                    "copy": 1,
                }
            ),
        ],
        ignore_index=True,
    ).sort_values(["key", "when", "copy"], kind="stable")
    tables, placed = [], []
    for k, part in order.groupby("key", sort=True):
        data = cells.loc[part["episode"]].reset_index(drop=True)
        role = np.full(len(data), "data", dtype=object)
        if layout.get("blank_rows"):
            data, role = _with_blank_rows(data, rng)
        if layout.get("totals"):
            total = [None] * len(header)
            total[0], total[1] = layout["totals"], f"{len(part)} deltagare"
            data = pd.concat([data, pd.DataFrame([total])], ignore_index=True)
            role = np.append(role, "totals")
        rows = np.arange(len(data)) + len(above) + 2
        path, sheet = (
            layout["path"].format(key=k),
            layout.get("sheet", "").format(key=k),
        )
        tables.append(
            RawTable(
                code,
                "participants",
                path,
                sheet,
                header,
                data,
                rows,
                role,
                above,
                merges,
                encoding=layout.get("encoding", ""),
            )
        )
        placed.append(part.assign(file=path, sheet=sheet, row=rows[role == "data"]))
    return tables, pd.concat(placed, ignore_index=True)


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


def _sheet(
    source: str,
    table: str,
    file: str,
    sheet: str,
    header: list[str],
    data: pd.DataFrame,
    first_row: int,
    *,
    role: np.ndarray | None = None,
    above: list[list[object]] | None = None,
    hidden: bool = False,
) -> RawTable:
    """Return a RawTable whose data rows start at spreadsheet row ``first_row``."""
    rows = np.arange(len(data)) + first_row
    role = np.full(len(data), "data", dtype=object) if role is None else role
    return RawTable(
        source, table, file, sheet, header, data, rows, role, above or [], hidden=hidden
    )


def _money(values: object) -> list[str]:
    """Format whole kronor with non-breaking spaces, as text pasted into Excel."""
    return [f"{int(v):,}".replace(",", "\u00a0") for v in np.atleast_1d(values)]


def _projekt(rng) -> tuple[list[RawTable], pd.DataFrame, pd.DataFrame, list[dict]]:
    """Return the budget workbook (two sheets), its truth tables and its reject rows."""
    orgs = [_description(c)["organisation"] for c in contract.DEFAULT_FORBUND]
    years = np.tile(np.arange(2015, 2020), 6)
    share = np.outer(_PROFILE["weight"], [0.04, 0.27, 0.30, 0.27, 0.12]).ravel()
    used = np.where(
        years < 2019, rng.uniform(0.82, 1.03, 30), rng.uniform(0.5, 0.9, 30)
    )
    budget = _allocate(50_691_580, share)
    truth = pd.DataFrame(
        {
            "forbund": _category(
                np.repeat(contract.DEFAULT_FORBUND, 5), contract.DEFAULT_FORBUND
            ),
            "subproject": _category(
                np.repeat(contract.DEFAULT_SUBPROJECTS, 5), contract.DEFAULT_SUBPROJECTS
            ),
            "name": pd.array(
                np.repeat([o["subproject_name"] for o in orgs], 5), dtype="string"
            ),
            "target_group": pd.array(
                np.repeat([o["target_group"] for o in orgs], 5), dtype="string"
            ),
            "year": pd.array(years, dtype="Int64"),
            "planned_participants": pd.array(_allocate(570, share), dtype="Int64"),
            "budget_sek": pd.array(budget, dtype="Int64"),
            "cost_sek": pd.array((budget * used / 100).round() * 100, dtype="Int64"),
            "esf_sek": pd.array(_allocate(23_641_215, share), dtype="Int64"),
        }
    )
    numbers = ["planned_participants", "budget_sek", "cost_sek"]
    cells = pd.DataFrame(
        {
            "Förbund": [
                rng.choice([o["forbund_name"], *o["forbund_aliases"]])
                for o in orgs
                for _ in range(5)
            ],
            "Delprojekt": [
                rng.choice([o["subproject_name"], *o["subproject_aliases"]])
                for o in orgs
                for _ in range(5)
            ],
            "År": years.tolist(),
            **{
                h: truth[c].astype(int).tolist()
                for h, c in zip(
                    ["Planerade deltagare", "Budget (kr)", "Utfall (kr)"],
                    numbers,
                    strict=True,
                )
            },
            "Varav ESF-medel (kr)": _money(truth["esf_sek"]),
        },
        dtype=object,
    )
    total = [
        "Totalt",
        None,
        None,
        *truth[numbers].sum().astype(int),
        *_money(truth["esf_sek"].sum()),
    ]
    cells.loc[len(cells)] = total
    title = [["Inkluderande rehabilitering – budget och utfall per delprojekt"], []]
    role = np.array(["data"] * 30 + ["totals"], dtype=object)
    budget_sheet = _sheet(
        "projekt",
        "subprojects",
        "projekt/budget.xlsx",
        "Budget",
        list(cells),
        cells.set_axis(range(7), axis=1),
        4,
        role=role,
        above=title,
    )
    counts = rng.poisson(np.where(years == 2015, [[0.4], [0.3]], [[1.3], [1.0]]))
    short = np.repeat([o["forbund_aliases"][0] for o in orgs], 5)
    anon = pd.DataFrame({0: short, 1: years, 2: counts[0], 3: counts[1]}, dtype=object)
    anon_sheet = _sheet(
        "projekt",
        "anonymous_counts",
        "projekt/budget.xlsx",
        "Anonyma deltagare",
        ["Förbund", "År", "Kvinnor", "Män"],
        anon,
        2,
    )
    anonymous = pd.DataFrame(
        {
            "forbund": np.repeat(truth["forbund"], 2),
            "subproject": np.repeat(truth["subproject"], 2),
            "year": np.repeat(truth["year"], 2),
            "sex": _category(np.tile(["woman", "man"], 30), contract.SEX),
            "count": pd.array(counts.T.ravel(), dtype="Int64"),
        }
    ).reset_index(drop=True)
    skipped = {
        "source": "projekt",
        "table": "subprojects",
        "source_file": budget_sheet.file,
        "source_sheet": "Budget",
        "source_row": 34,
        "column": "Förbund",
        "status": "skipped",
        "reason": "totals_row",
    }
    return [budget_sheet, anon_sheet], truth, anonymous, [skipped]


def _centrum_extras(file: str) -> list[RawTable]:
    """Return Centrum's instructions sheet and its hidden lookup sheet."""
    lines = [
        "Instruktioner",
        "Fyll i en rad per deltagare på fliken Deltagare.",
        "Markera försörjningskällor före och efter med X.",
        "Listor över giltiga val finns på en dold flik.",
    ]
    vocabs = ["education", "occupation", "exit_reason"]
    lists = pd.DataFrame([pd.Series(list(_SV[v].values())) for v in vocabs]).T
    lists = lists.astype(object).where(lists.notna(), None)
    return [
        _sheet(
            "centrum",
            "",
            file,
            "Instruktioner",
            [],
            pd.DataFrame(),
            0,
            above=[[line] for line in lines],
        ),
        _sheet(
            "centrum",
            "",
            file,
            "Listor",
            ["Utbildning", "Sysselsättning", "Avslutsorsak"],
            lists,
            2,
            hidden=True,
        ),
    ]


def generate(participants: int = 570, seed: int = 2015) -> SampleData:
    """Generate the sample in memory: raw tables per source and the truth tables.

    Args:
        participants: Number of episodes (≥ 30); duplicates and totals rows come extra.
        seed: Random seed; the same seed gives the same data.

    Returns:
        The truth tables and the raw tables.

    Example:
        >>> data = generate(60, seed=1)
        >>> sorted({t.source for t in data.tables})[:3]
        ['alv_och_kust', 'centrum', 'hisingen']
        >>> int(data.participants["subproject"].notna().sum()) < 60
        True
    """
    if participants < 30:
        raise ParameterError(
            f"participants is {participants}; the sample needs at least 30 episodes so "
            "that every förbund gets rows. Use --participants 30 or more."
        )
    rng = np.random.default_rng(seed)
    step_max = {c: _description(c)["scales"]["step"]["max"] for c in _LAYOUTS}
    ep = _assign_faults(_episodes(participants, rng, step_max), rng)
    tables, placed = [], []
    for code in _LAYOUTS:
        t, p = _participant_tables(ep, code, rng)
        if code == "centrum":
            t = _centrum_extras(t[0].file) + t
        tables += t
        placed.append(p)
    placed = pd.concat(placed, ignore_index=True)
    project, subprojects, anonymous, skipped = _projekt(rng)
    rejects = _reject_frame(_participant_rejects(ep, placed, tables) + skipped)
    return SampleData(
        participants=_truth_participants(ep, placed),
        subprojects=subprojects,
        anonymous_counts=anonymous,
        rejects=rejects,
        tables=tables + project,
        seed=seed,
        n=participants,
    )


def _cells(data: pd.DataFrame) -> list[list[object]]:
    """Return the rows as lists of Python values, None for empty cells."""
    return data.astype(object).where(data.notna(), None).to_numpy(dtype=object).tolist()


def _write_xlsx(path: Path, sheets: list[RawTable]) -> None:
    """Write sheets with XlsxWriter (constant-memory rows when the file is large)."""
    import xlsxwriter

    large = sum(len(t.data) for t in sheets) > 20_000
    options = {
        "constant_memory": large,
        "default_date_format": "yyyy-mm-dd",
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    with xlsxwriter.Workbook(path, options) as book:
        bold = book.add_format({"bold": True, "align": "center"})
        for t in sheets:
            sheet = book.add_worksheet(t.sheet)
            for r, row in enumerate(t.above):
                sheet.write_row(r, 0, row)
                for r1, c1, r2, c2, text in (m for m in t.merges if m[0] == r):
                    sheet.merge_range(r1, c1, r2, c2, text, bold)
            if t.header:
                sheet.write_row(len(t.above), 0, t.header, bold)
            first = len(t.above) + 1
            for r, row in enumerate(_cells(t.data), start=first):
                sheet.write_row(r, 0, row)
            if t.hidden:
                sheet.hide()


def _ods_cell(value: object) -> str:
    if value is None:
        return "<table:table-cell/>"
    if hasattr(value, "strftime"):
        day = value.strftime("%Y-%m-%d")
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{day}">'
            f"<text:p>{day}</text:p></table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}'
        "</text:p></table:table-cell>"
    )


_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"'
)
_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest='
    '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _write_ods(path: Path, sheets: list[RawTable]) -> None:
    """Write a minimal OpenDocument spreadsheet directly (odfpy is too slow at 10^5 rows)."""
    parts = []
    for t in sheets:
        rows = [*t.above, t.header, *_cells(t.data)]
        body = "".join(
            "<table:table-row>"
            + ("".join(map(_ods_cell, row)) or "<table:table-cell/>")
            + "</table:table-row>"
            for row in rows
        )
        parts.append(
            f'<table:table table:name="{escape(t.sheet)}">{body}</table:table>'
        )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {_ODS_NS}>'
        f"<office:body><office:spreadsheet>{''.join(parts)}</office:spreadsheet>"
        "</office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        # The mimetype entry must come first and be stored uncompressed.
        z.writestr(
            "mimetype",
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        z.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
        z.writestr("content.xml", content)


def _write_file(path: Path, sheets: list[RawTable]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        t = sheets[0]
        # Excel's Swedish CSV export: ";" and CRLF line ends.
        t.data.to_csv(
            path,
            sep=";",
            header=t.header,
            index=False,
            encoding=t.encoding,
            lineterminator="\r\n",
        )
    elif path.suffix == ".ods":
        _write_ods(path, sheets)
    else:
        _write_xlsx(path, sheets)


def _prepare_target(out: Path) -> None:
    """Refuse a folder that holds files `sample` did not write; clear an old sample."""
    if not out.exists():
        return
    if not out.is_dir():
        raise SampleTargetError(
            f"{out} is a file, not a folder. Give --out a folder for the sample data."
        )
    marker = out / MARKER
    if marker.is_file():
        root = out.resolve()
        for name in json.loads(marker.read_text("utf-8")).get("files", []):
            target = (out / name).resolve()
            if root in target.parents and target.is_file():
                target.unlink()
                for folder in target.parents:
                    if folder == root or any(folder.iterdir()):
                        break
                    folder.rmdir()
        marker.unlink()
        return
    foreign = sorted(p.name for p in out.iterdir() if p.name not in _HARMLESS)
    if foreign:
        raise SampleTargetError(
            f"The folder {out} holds files that `rehab-analytics sample` did not write "
            f"(for example '{foreign[0]}'); it may be a real delivery, so nothing was "
            "written or removed. Give --out an empty or new folder, or move those files "
            "elsewhere first."
        )


def write_sample(out: Path, participants: int = 570, seed: int = 2015) -> SampleResult:
    """Write the sample raw files, the truth tables, a marker and the demo key.

    Args:
        out: Target folder (created if missing). A folder holding files that
            ``sample`` did not write is refused; an earlier sample is replaced.
        participants: Number of episodes (≥ 30).
        seed: Random seed.

    Returns:
        The files written, row counts and the truth folder.

    Raises:
        SampleTargetError: If ``out`` holds files not written by ``sample``.

    Example:
        >>> import tempfile
        >>> result = write_sample(Path(tempfile.mkdtemp()) / "raw", participants=60)
        >>> result.truth_dir.name
        '_truth'
    """
    out = Path(out)
    _prepare_target(out)
    data = generate(participants, seed)
    out.mkdir(parents=True, exist_ok=True)
    by_file: dict[str, list[RawTable]] = {}
    for t in data.tables:
        by_file.setdefault(t.file, []).append(t)
    rows = {}
    for name, sheets in by_file.items():
        _write_file(out / name, sheets)
        rows[name] = int(sum((t.role == "data").sum() for t in sheets if t.table))
    truth = out / "_truth"
    truth.mkdir(exist_ok=True)
    frames = {
        "participants": data.participants,
        "subprojects": data.subprojects,
        "anonymous_counts": data.anonymous_counts,
        "rejects": data.rejects,
    }
    for name, frame in frames.items():
        frame.to_parquet(truth / f"{name}.parquet", index=False)
    files = [*by_file, *(f"_truth/{n}.parquet" for n in frames)]
    marker = {
        "generator": "rehab-analytics sample",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "participants": participants,
        "files": files,
    }
    (out / MARKER).write_text(json.dumps(marker, indent=2, ensure_ascii=False), "utf-8")
    identity.write_demo_key(out)
    return SampleResult(out, [out / f for f in files], truth, rows, participants, seed)
