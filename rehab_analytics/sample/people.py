"""Synthetic people for the sample: episodes per subproject, case mix and outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehab_analytics import contract, identity

PERIOD_START, PERIOD_END = pd.Timestamp("2015-10-01"), pd.Timestamp("2019-06-30")
_SUBPROJECT = dict(
    zip(contract.DEFAULT_SUBPROJECTS, contract.DEFAULT_FORBUND, strict=True)
)
_INCOME = contract.INCOME_SOURCES
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
_DUP_RATE, _MISREG_RATE, _REPEAT_RATE, _SAMORDNING_RATE = 0.01, 0.015, 0.03, 0.03
_WOMEN = ["Anna", "Maria", "Sara", "Emma", "Elin", "Johanna", "Linnea", "Ida", "Hanna",
          "Fatima", "Amina", "Sofia", "Julia", "Malin", "Nora", "Ebba", "Maja", "Leila"]  # fmt: skip
_MEN = ["Erik", "Lars", "Johan", "Anders", "Karl", "Ali", "Mohammed", "Oskar", "Viktor",
        "Emil", "Filip", "Ahmed", "Hassan", "Jonas", "Axel", "Elias", "Adam", "Omar"]  # fmt: skip
_SURNAMES = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson",
             "Olsson", "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson",
             "Hussein", "Mohamed", "Lindberg", "Holm", "Nyström", "Ahmadi", "Sjöberg"]  # fmt: skip
_STREETS = ["Storgatan", "Kvarnvägen", "Björkgatan", "Gårdstensvägen", "Tuvevägen",
            "Backavägen", "Kungsgatan", "Ängsvägen", "Hjalmar Brantingsgatan"]  # fmt: skip


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
