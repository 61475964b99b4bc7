"""How each förbund lays out its participant delivery: headers, labels, dates, IDs."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rehab_analytics.config import BUILTIN_SOURCES_DIR
from rehab_analytics.sample.people import _INCOME, PERIOD_START

__all__ = [
    "RawTable",
]


_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_MUNICIPALITY_NAMES = {
    "1440": "Ale",
    "1482": "Kungälv",
    "1415": "Stenungsund",
    "1407": "Tjörn",
}
_SUPPORT_YEARS = {"under_1": [0.5, 0.75], "1_2": [1.25, 1.5], "2_5": [2.5, 3, 3.5, 4.5],
                  "over_5": [6, 7.5, 8, 10, 12.5]}  # fmt: skip
_UNKNOWN_LABELS = ["Praktik", "Daglig verksamhet", "Se anteckning", "Väntar på besked"]
_IMPOSSIBLE = [(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31)]
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


@functools.lru_cache(maxsize=16)
def _description(code: str) -> dict:
    """Return a built-in source description as parsed TOML (read-only)."""
    return tomllib.loads((BUILTIN_SOURCES_DIR / f"{code}.toml").read_text("utf-8"))


def _columns(code: str) -> dict:
    """Return a built-in participant description's field → raw header mapping."""
    return _description(code)["tables"][0]["columns"]


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
