"""Partners beyond the six (issue 19): names, language, id schemes, currency, period."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from rehab_analytics import catalogue
from rehab_analytics.clean.run import run_clean
from rehab_analytics.identity import _luhn_valid
from rehab_analytics.measures.goals import goal_attainment
from rehab_analytics.processed import load, read_registry
from rehab_analytics.sample.deliveries import write_sample

KEY = "partner-test-key-" + "k" * 32
PARTNERS = ("dagverksamhet_almhult", "dream_house")

ALMHULT = """
[organisation]
forbund = "almhult"
forbund_name = "Älmhults kommun, socialtjänsten (OF/IFO)"
forbund_name_en = "Älmhult Municipality Social Services"
subproject = "dagverksamhet_almhult"
subproject_name = "Daglig verksamhet Älmhult"
subproject_name_en = "Day activities Älmhult"

[[tables]]
kind = "participants"
files = ["almhult/*.xlsx"]
sheets = ["Register"]
header_row = 2

[tables.columns]
personnummer = "Personnr"
sex = "Kön"
start_date = "Inskriven"
end_date = "Utskriven"
"""

DREAM_HOUSE = """
[organisation]
forbund = "jb_marks"
forbund_name = "JB Marks Local Municipality"
subproject = "dream_house"
subproject_name = "Dream House"
language = "en"
id_scheme = "za_id"
currency = "ZAR"
region = "North West Province, South Africa"

[[tables]]
kind = "participants"
files = ["jb_marks/participants.csv"]
delimiter = ","
decimal = "."
thousands = ""
date_formats = ["%Y-%m-%d"]

[tables.columns]
personnummer = "ID number"
sex = "Gender"
age = "Age"
start_date = "Start date"
end_date = "End date"

[[tables]]
kind = "subprojects"
files = ["jb_marks/plan.csv"]
delimiter = ","
decimal = "."
thousands = ""

[tables.columns]
year = "Year"
planned_participants = "Planned participants"
budget_sek = "Budget"

[vocabularies.sex]
"Female" = "woman"
"Male" = "man"
"""


def za_id(birth: str, sequence: int, citizen: int = 0) -> str:
    """Return a valid South African ID number (YYMMDD SSSS C 8 Z) for the test."""
    stem = f"{birth}{sequence:04d}{citizen}8"
    for check in range(10):
        digits = np.array([[int(c) for c in stem + str(check)]])
        if _luhn_valid(digits)[0]:
            return stem + str(check)
    raise AssertionError("no check digit")


def _dream_house_rows() -> str:
    lines = ["ID number,Gender,Age,Start date,End date"]
    for i in range(45):
        birth = f"{80 + i % 15:02d}{1 + i % 12:02d}{10 + i % 18:02d}"
        sequence = 100 + i if i % 2 else 5100 + i
        start = f"2019-{1 + i % 12:02d}-05"
        end = "2020-03-31" if i % 3 else ""
        lines.append(f"{za_id(birth, sequence)},,,{start},{end}")
    # Five episodes delivered twice, with the id written with spaces the second time.
    for line in lines[1:6]:
        pid, rest = line.split(",", 1)
        lines.append(f"{pid[:6]} {pid[6:10]} {pid[10:]},{rest}")
    # Someone without a usable id whose age (70) came from the Age column.
    lines.append("not an id,Female,70,2019-02-01,")
    return "\n".join(lines) + "\n"


def _almhult_workbook(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Register"
    ws.append(["Daglig verksamhet – register"])
    ws.append(["Personnr", "Kön", "Inskriven", "Utskriven", "Namn"])
    ws.append(["19640823-3234", "Man", "2018-01-15", "2018-11-30", "Anna A"])
    ws.append(["19701063-2391", "Man", "2018-03-01", None, "Bo B"])
    ws.append(["19811228-9874", "Man", "2018-05-02", "2019-01-10", "Carl C"])
    wb.save(path)


@pytest.fixture(scope="module")
def delivery(tmp_path_factory) -> dict[str, Path]:
    """The sample six, cleaned alone and again with the two partners added."""
    root = tmp_path_factory.mktemp("partners")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RA_PSEUDONYM_KEY", KEY)
        mp.setenv("RA_KEY_FILE", str(root / "no-such.key"))
        mp.delenv("RA_SOURCES_DIR", raising=False)
        six = root / "six"
        write_sample(six, participants=120, seed=7)
        run_clean(six, root / "out_six", jobs=1)
        raw = root / "raw"
        shutil.copytree(six, raw)
        (raw / "_sources").mkdir()
        (raw / "_sources" / "almhult.toml").write_text(ALMHULT, encoding="utf-8")
        (raw / "_sources" / "dream_house.toml").write_text(DREAM_HOUSE, "utf-8")
        (raw / "almhult").mkdir()
        _almhult_workbook(raw / "almhult" / "register 2018.xlsx")
        (raw / "jb_marks").mkdir()
        (raw / "jb_marks" / "participants.csv").write_text(_dream_house_rows(), "utf-8")
        (raw / "jb_marks" / "plan.csv").write_text(
            "Year,Planned participants,Budget\n2019,36,450000\n2020,24,300000\n",
            "utf-8",
        )
        result = run_clean(raw, root / "out", jobs=1)
        assert result.ok, result.summary()
    yield {"raw": raw, "six": root / "out_six", "out": root / "out"}
    catalogue.use_registry(None)


def test_registry_is_written_by_clean_and_names_reach_reports(delivery):
    """organisations.json holds every organisation; load() makes reports use its names."""
    records = json.loads((delivery["out"] / "organisations.json").read_text("utf-8"))
    by_code = {r["subproject"]: r for r in records}
    assert list(by_code)[-2:] == list(PARTNERS)
    assert by_code["dream_house"]["currency"] == "ZAR"
    assert by_code["dream_house"]["language"] == "en"
    assert by_code["dream_house"]["id_scheme"] == "za_id"
    assert by_code["dream_house"]["region"] == "North West Province, South Africa"
    assert (
        read_registry(delivery["out"]).organisation("dream_house").forbund == "jb_marks"
    )

    catalogue.use_registry(None)
    tables = load(delivery["out"], lang="en")
    assert (
        tables.labels("subproject")["dagverksamhet_almhult"] == "Day activities Älmhult"
    )
    assert catalogue.label("forbund", "almhult", "en") == (
        "Älmhult Municipality Social Services"
    )
    assert catalogue.label("forbund", "almhult", "sv") == (
        "Älmhults kommun, socialtjänsten (OF/IFO)"
    )
    # No English name given: the Swedish (registered) one, never the code.
    assert catalogue.label("subproject", "dream_house", "en") == "Dream House"
    assert catalogue.label("subproject", "dino", "en") == "Dino"


def test_za_ids_link_episodes_and_find_duplicates(delivery):
    """South African ids give keys, birth years and sex; the double entries are rejected."""
    tables = load(delivery["out"])
    people = tables.participants[tables.participants["subproject"] == "dream_house"]
    assert len(people) == 45
    assert people["participant_key"].nunique() == 45
    assert set(people["id_kind"].astype(str)) == {"za_id"}
    assert set(people["sex"].astype(str)) == {"woman", "man"}
    assert people["birth_year"].between(1980, 1994).all()
    rejects = tables.rejects[tables.rejects["source"] == "dream_house"]
    counts = rejects.groupby(["status", "reason"]).size().to_dict()
    assert counts[("rejected", "duplicate_episode")] == 5
    age = rejects[rejects["reason"] == "age_out_of_range"]
    assert age[["column", "value"]].values.tolist() == [["Age", "70"]]
    assert (rejects["value"].fillna("").str.fullmatch(r"[0-9 ]{12,15}")).sum() == 0


def test_feedback_is_in_the_organisations_language(delivery):
    """Dream House gets an English workbook speaking of ID numbers; Älmhult a Swedish one."""
    english = openpyxl.load_workbook(delivery["out"] / "feedback" / "jb_marks.xlsx")
    assert english.sheetnames[:2] == ["Summary", "To correct"]
    cells = [
        c for row in english["To correct"].iter_rows(values_only=True) for c in row
    ]
    text = " ".join(str(c) for c in cells if c)
    assert "Same person" in text or "duplicate" in text.lower()
    assert "personnummer" not in text.lower()
    assert "Check the age (or the year of birth)" not in text
    swedish = openpyxl.load_workbook(delivery["out"] / "feedback" / "almhult.xlsx")
    assert swedish.sheetnames[0] == "Sammanfattning"


def test_volume_against_plan_counts_the_period(delivery):
    """Episodes started in the period against the plan of its years, part years pro rata."""
    tables = load(delivery["out"])
    people, plan = tables.participants, tables.subprojects
    whole = goal_attainment(people, plan).set_index("subproject").loc["dream_house"]
    assert (whole["planned"], whole["identified"]) == (60, 45)
    part = goal_attainment(people, plan, start="2019-01-01", end="2019-06-30")
    row = part.set_index("subproject").loc["dream_house"]
    started = people[
        (people["subproject"] == "dream_house") & (people["start_date"] <= "2019-06-30")
    ]
    assert row["identified"] == len(started) == 24
    assert row["planned"] == round(36 * 181 / 365)


def test_the_six_sources_are_unchanged(delivery):
    """Adding two partners leaves the six built-in sources' clean rows and problems as they were."""
    six, both = load(delivery["six"]), load(delivery["out"])
    for name in ("participants", "subprojects", "anonymous_counts"):
        before = getattr(six, name)
        after = getattr(both, name)
        after = after[~after["subproject"].astype(str).isin(PARTNERS)]
        pd.testing.assert_frame_equal(
            before.astype(object).reset_index(drop=True),
            after.astype(object).reset_index(drop=True),
        )
    after = both.rejects[~both.rejects["source"].isin(["almhult", "dream_house"])]
    pd.testing.assert_frame_equal(
        six.rejects.astype(object).reset_index(drop=True),
        after.astype(object).reset_index(drop=True),
    )
