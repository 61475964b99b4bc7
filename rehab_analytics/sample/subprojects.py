"""The sample's subproject sheets (Projekt) and the extra sheets of Centrum's workbook."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehab_analytics import contract
from rehab_analytics.sample.layouts import _SV, RawTable, _description
from rehab_analytics.sample.people import _PROFILE, _allocate
from rehab_analytics.sample.truth import _category


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
