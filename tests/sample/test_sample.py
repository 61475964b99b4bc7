"""Tests for the synthetic sample data and its truth tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from rehab_analytics import contract, identity, keys
from rehab_analytics.config import BUILTIN_SOURCES_DIR
from rehab_analytics.errors import ParameterError, SampleTargetError
from rehab_analytics.sample import deliveries as sample
from rehab_analytics.sources import (
    build_registry,
    load_sources,
    load_vocabularies,
    normalise_label,
    source_vocabularies,
)

N, SEED = 120, 3


@pytest.fixture(scope="module")
def data() -> sample.SampleData:
    return sample.generate(N, seed=SEED)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "raw"
    sample.write_sample(out, participants=N, seed=SEED)
    return out


def _read_back(root: Path, table: sample.RawTable) -> pd.DataFrame:
    """Read a written sheet or CSV file without interpretation (row i = line i+1)."""
    path = root / table.file
    if path.suffix == ".csv":
        return pd.read_csv(path, sep=";", header=None, dtype=str, encoding=table.encoding,
                           skip_blank_lines=False, keep_default_na=False).replace("", None)  # fmt: skip
    return pd.read_excel(path, sheet_name=table.sheet, header=None, engine="calamine")


def _participant_tables(data: sample.SampleData) -> list[sample.RawTable]:
    return [t for t in data.tables if t.table == "participants"]


def test_generate_is_deterministic_per_seed(data: sample.SampleData) -> None:
    """The same seed gives identical truth and raw cells; another seed differs."""
    again = sample.generate(N, seed=SEED)
    pd.testing.assert_frame_equal(data.participants, again.participants)
    pd.testing.assert_frame_equal(data.rejects, again.rejects)
    for a, b in zip(data.tables, again.tables, strict=True):
        pd.testing.assert_frame_equal(a.data, b.data)
    other = sample.generate(N, seed=SEED + 1)
    assert not other.participants["start_date"].equals(data.participants["start_date"])


def test_sizes_follow_the_episode_count(data: sample.SampleData) -> None:
    """Raw rows = episodes + duplicates; truth = episodes minus rejected originals."""
    rejects = data.rejects[data.rejects["table"] == "participants"]
    dups = int((rejects["reason"] == "duplicate_episode").sum())
    rejected = int((rejects["status"] == "rejected").sum())
    raw_rows = sum(int((t.role == "data").sum()) for t in _participant_tables(data))
    assert raw_rows == N + dups
    assert len(data.participants) == N - (rejected - dups)


def test_default_size_is_plausible_per_subproject() -> None:
    """570 episodes spread 60–140 per subproject with work/study shares 15–50 %."""
    truth = sample.generate(570, seed=2015).participants
    sizes = truth["subproject"].value_counts()
    assert sizes.between(60, 140).all() and len(sizes) == 6
    shares = truth.groupby("subproject", observed=True)["work_or_study_after"].mean()
    assert shares.between(0.15, 0.5).all()
    young = truth["subproject"].isin(["dino", "unga_vuxna"])
    assert truth.loc[young, "age_at_start"].median() < 27
    assert truth.loc[~young, "age_at_start"].median() > 32


def test_every_fault_occurs_even_with_few_episodes() -> None:
    """With 60 episodes each fault, the totals row and a misregistration still occur."""
    small = sample.generate(60, seed=11)
    reasons = set(small.rejects["reason"])
    assert reasons >= {"invalid_id", "missing_id", "unrecognised_id", "end_before_start",
                       "invalid_date", "unknown_label", "duplicate_episode", "totals_row"}  # fmt: skip
    assert (small.participants["exit_reason"] == "misregistration").any()


def test_too_few_participants_is_refused() -> None:
    """Fewer than 30 episodes cannot fill six förbund: a ParameterError says so."""
    with pytest.raises(ParameterError, match="at least 30"):
        sample.generate(10)


def test_fake_ids_are_luhn_valid(data: sample.SampleData) -> None:
    """Valid truth ids parse as Luhn-valid and give the truth's birth year and sex."""
    truth = data.participants[data.participants["personnummer_norm"].notna()]
    parsed = identity.parse_ids(truth["personnummer_norm"])
    assert parsed["id_kind"].isin(["personnummer", "samordningsnummer"]).all()
    np.testing.assert_array_equal(parsed["birth_year"], truth["birth_year"])
    np.testing.assert_array_equal(parsed["sex"], truth["sex"].astype(str))
    assert parsed["id_kind"].tolist() == truth["id_kind"].astype(str).tolist()


def test_raw_ids_match_truth_lineage(data: sample.SampleData) -> None:
    """The raw id at each truth row's lineage normalises to its personnummer_norm."""
    cells = []
    for t in _participant_tables(data):
        cells.append(pd.DataFrame({"source_file": t.file, "source_sheet": t.sheet,
                                   "source_row": t.source_row, "raw_id": t.data[0]}))  # fmt: skip
    raw = pd.concat(cells).astype({"source_row": "Int64"})
    truth = data.participants.merge(
        raw, on=["source_file", "source_sheet", "source_row"]
    )
    assert len(truth) == len(data.participants)
    parsed = identity.parse_ids(truth["raw_id"], truth["start_date"])
    pd.testing.assert_series_equal(
        parsed["id12"], truth["personnummer_norm"], check_names=False
    )
    assert parsed["id_kind"].tolist() == truth["id_kind"].astype(str).tolist()


def test_truth_dtypes_follow_the_contract(data: sample.SampleData) -> None:
    """Truth columns are the contract's minus keys plus personnummer_norm, typed."""
    truth = data.participants
    expected = [c for c in contract.PARTICIPANT_COLUMNS
                if c not in ("episode_id", "participant_key")]  # fmt: skip
    assert list(truth.columns) == [*expected, "personnummer_norm"]
    assert truth["subproject"].cat.categories.tolist() == list(
        contract.DEFAULT_SUBPROJECTS
    )
    assert truth["exit_reason"].cat.categories.tolist() == list(contract.EXIT_REASONS)
    assert truth["start_date"].dtype == "datetime64[ns]"
    assert truth["work_or_study_after"].dtype == "boolean"
    assert truth["source_row"].dtype == "Int64"
    assert truth[contract.income_columns("after")].dtypes.eq(bool).all()
    assert list(data.rejects.columns) == ["source", "table", "source_file", "source_sheet",
                                          "source_row", "column", "status", "reason"]  # fmt: skip


def test_truth_follows_outcome_rules(data: sample.SampleData) -> None:
    """Misregistered and active episodes have no outcomes; ids decide key fields."""
    truth = data.participants
    misreg = truth["exit_reason"] == "misregistration"
    active = truth["end_date"].isna()
    no_outcome = misreg | active
    assert not truth.loc[no_outcome, contract.income_columns("after")].any().any()
    assert (truth.loc[no_outcome, "occupation_after"] == "unknown").all()
    assert (truth.loc[no_outcome, "income_group_after"] == "unknown").all()
    assert truth.loc[no_outcome, "work_or_study_after"].isna().all()
    assert truth.loc[active, "exit_reason"].isna().all()
    done = ~no_outcome & (truth["occupation_after"] != "unknown")
    expected = truth.loc[done, "occupation_after"].isin(contract.WORK_OR_STUDY)
    assert truth.loc[done, "work_or_study_after"].tolist() == expected.tolist()
    bad_id = truth["personnummer_norm"].isna()
    assert truth.loc[bad_id, ["birth_year", "age_at_start"]].isna().all().all()
    no_sex_column = bad_id & (truth["forbund"] == "insjoriket")
    assert (truth.loc[no_sex_column, "sex"] == "unknown").all()
    days = (truth["end_date"] - truth["start_date"]).dt.days.astype("Int64")
    pd.testing.assert_series_equal(days, truth["days_in_programme"], check_names=False)


def test_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    """A folder with foreign files is never touched: SampleTargetError names a file."""
    (tmp_path / "leverans.xlsx").write_bytes(b"real data")
    (tmp_path / "README.md").write_text("data log")
    with pytest.raises(SampleTargetError, match="did not write.*leverans.xlsx"):
        sample.write_sample(tmp_path, participants=40)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "leverans.xlsx"]


def test_marker_lists_files_and_a_rerun_replaces_them(tmp_path: Path) -> None:
    """The marker lists every file; a rerun removes them first and keeps README.md."""
    out = tmp_path / "raw"
    out.mkdir()
    (out / "README.md").write_text("data log")
    first = sample.write_sample(out, participants=200, seed=1)
    marker = json.loads((out / sample.MARKER).read_text("utf-8"))
    assert marker["seed"] == 1 and marker["participants"] == 200
    assert sorted(out / f for f in marker["files"]) == sorted(first.files)
    assert all(p.is_file() for p in first.files)
    assert (out / keys.DEMO_KEY_NAME).is_file()
    second = sample.write_sample(out, participants=40, seed=2)
    stale = set(first.files) - set(second.files)
    assert stale and not any(p.exists() for p in stale)
    assert (out / "README.md").read_text() == "data log"
    on_disk = {p for p in out.rglob("*") if p.is_file()}
    extra = {out / "README.md", out / sample.MARKER, out / keys.DEMO_KEY_NAME}
    assert on_disk == set(second.files) | extra
    assert "40 episodes" in second.summary()


def test_every_raw_row_is_accounted_for(data: sample.SampleData, written: Path) -> None:
    """Each non-blank row below a header is in the truth or rejected/skipped, once."""
    rejects = data.rejects[data.rejects["status"].isin(["rejected", "skipped"])]
    for t in _participant_tables(data):
        raw = _read_back(written, t)
        below = raw.iloc[len(t.above) + 1 :]
        rows = set(below.index[below.notna().any(axis=1)] + 1)
        here = {"source_file": t.file, "source_sheet": t.sheet}
        kept = data.participants.loc[
            (data.participants["source_file"] == t.file)
            & (data.participants["source_sheet"] == t.sheet),
            "source_row",
        ].tolist()
        dropped = rejects.loc[
            (rejects["source_file"] == here["source_file"])
            & (rejects["source_sheet"] == here["source_sheet"]),
            "source_row",
        ].tolist()
        assert len(kept) + len(dropped) == len(rows), t.file
        assert set(kept) | set(dropped) == rows, t.file


def test_budget_workbook_matches_the_project_totals(
    data: sample.SampleData, written: Path
) -> None:
    """Budget rows sum to the ESF project's totals; the workbook holds both sheets."""
    totals = data.subprojects[["budget_sek", "esf_sek", "planned_participants"]].sum()
    assert totals.tolist() == [50_691_580, 23_641_215, 570]
    book = pd.read_excel(written / "projekt/budget.xlsx", sheet_name=None, header=None,
                         engine="calamine")  # fmt: skip
    assert list(book) == ["Budget", "Anonyma deltagare"]
    assert book["Budget"].iloc[-1, 0] == "Totalt"
    assert book["Budget"].iloc[3, 6] == f"{data.subprojects['esf_sek'][0]:,}".replace(
        ",", "\u00a0"
    )
    anon = book["Anonyma deltagare"]
    assert anon.iloc[1:, 2:].to_numpy().sum() == data.anonymous_counts["count"].sum()


def test_file_formats_carry_the_declared_quirks(written: Path) -> None:
    """Merged band, hidden sheet, cp1252, BOM, serial dates, ODS and text dates."""
    centrum = openpyxl.load_workbook(written / "centrum/Bedömningsteam deltagare.xlsx")
    assert centrum.sheetnames == ["Instruktioner", "Listor", "Deltagare"]
    assert centrum["Listor"].sheet_state == "hidden"
    bands = {str(r): centrum["Deltagare"].cell(r.min_row, r.min_col).value
             for r in centrum["Deltagare"].merged_cells.ranges}  # fmt: skip
    assert sorted(bands.values()) == ["Efter", "Före"]
    assert all(
        len(list(r.cells)) == 10 for r in centrum["Deltagare"].merged_cells.ranges
    )
    vaster = sorted((written / "vaster").glob("*.csv"))[-1].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        vaster.decode("utf-8")
    assert "Försörjningskällor".encode("cp1252") in vaster and b"\r\n" in vaster
    insjo = sorted((written / "insjoriket").glob("*.csv"))[0].read_bytes()
    assert insjo.startswith(b"\xef\xbb\xbfPersonnummer;") and "\u00a0".encode() in insjo
    nordost = pd.read_excel(written / "nordost/Dino deltagare 2015-2019.xlsx",
                            header=None, engine="calamine")  # fmt: skip
    assert nordost.iloc[2, 0] == "Personnummer" and nordost.iloc[-1, 0] == "Summa"
    serials = pd.to_numeric(nordost.iloc[3:-1, 6], errors="coerce").dropna()
    assert serials.between(42278, 43646).all()  # 2015-10-01 … 2019-06-30
    for engine in ("calamine", "odf"):
        ods = pd.read_excel(written / "alv_och_kust/Myndighetsgemensam bedömning.ods",
                            engine=engine)  # fmt: skip
        assert ods.columns[0] == "ID number" and ods.iloc[:, 2].isna().all()
        assert (
            ods["Municipality"].isin(["Ale", "Kungälv", "Stenungsund", "Tjörn"]).all()
        )
    hisingen = pd.read_excel(sorted((written / "hisingen").glob("*.xlsx"))[1],
                             engine="calamine", dtype=object)  # fmt: skip
    starts = hisingen["Inskriven"].tolist()
    assert all(isinstance(v, str) and len(v) == 8 and v.isdigit() for v in starts)


def test_written_labels_resolve_in_the_vocabularies() -> None:
    """Every label the generator writes maps to its code; injected ones match none."""
    base = load_vocabularies()
    sources = {s.name: s for s in load_sources(dirs=[BUILTIN_SOURCES_DIR])}
    for code, layout in sample._LAYOUTS.items():
        vocab = source_vocabularies(base, sources[code])
        for name in ("sex", "education", "income_source", "support_years", "occupation",
                     "exit_reason"):  # fmt: skip
            for wanted, labels in sample._labels(layout, name).items():
                for label in [labels] if isinstance(labels, str) else labels:
                    assert vocab[name].get(normalise_label(label)) == wanted, label
        for label in sample._UNKNOWN_LABELS:
            assert all(normalise_label(label) not in table for table in vocab.values())


def test_descriptions_register_the_six_forbund_in_order() -> None:
    """The built-in descriptions give the default codes in order with Okabe–Ito colours."""
    registry = build_registry(load_sources(dirs=[BUILTIN_SOURCES_DIR]))
    assert registry.forbund_codes == contract.DEFAULT_FORBUND
    assert registry.subproject_codes == contract.DEFAULT_SUBPROJECTS
    colours = [o.colour for o in registry.organisations]
    assert colours == ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7"]
