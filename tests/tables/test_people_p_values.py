"""Tests for the p-values of tables.people: exact only when no count behind them is small."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from rehab_analytics import disclosure, figures, narrative, report
from rehab_analytics import tables as ft

COARSE = {"sv": ("p < 0,05", "p ≥ 0,05"), "en": ("p < 0.05", "p ≥ 0.05")}


def _income(unit: str, n: int, c: int, b: int = 0) -> pd.DataFrame:
    """``c`` people leave public support (no → yes), ``b`` return to it, rest stay."""
    stay = n - b - c
    return pd.DataFrame(
        {
            "subproject": unit,
            "end_date": pd.Timestamp("2018-01-01"),
            "exit_reason": "completed",
            "income_group_before": ["ill_health"] * c
            + ["none_public"] * b
            + ["ill_health"] * stay,
            "income_group_after": ["none_public"] * c
            + ["ill_health"] * b
            + ["ill_health"] * stay,
        }
    )


def _steps(unit: str, changes: list[int]) -> pd.DataFrame:
    start = [3] * len(changes)
    end = [3 + c for c in changes]
    return pd.DataFrame(
        {
            "subproject": unit,
            "exit_reason": "completed",
            "end_date": pd.Timestamp("2018-01-01"),
            "step_start": pd.array(start, "Int64"),
            "step_end": pd.array(end, "Int64"),
            "health_start": pd.array(start, "Int64"),
            "health_end": pd.array(end, "Int64"),
        }
    )


@pytest.fixture(scope="module")
def mcnemar() -> pd.DataFrame:
    """Dino: 3 and 0 discordant pairs of 40 (exact p = 0.25); Aktiv: 10 and 40 of 200."""
    people = pd.concat(
        [_income("dino", 40, 3), _income("aktiv", 200, 40, 10)], ignore_index=True
    )
    return ft.income_change_table(people, 5)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_mcnemar_of_three_and_zero_discordant_pairs_is_coarse_everywhere(
    mcnemar, lang, tmp_path
):
    """p = 0.250 (only 3 and 0 fit) is "p ≥ 0.05" in the table, labelled, xlsx, text."""
    below, above = COARSE[lang]
    dino = mcnemar[mcnemar["subproject"] == "dino"].iloc[0]
    assert dino["p_value"] == 0.05 and bool(dino["p_value__coarse__suppressed"])
    assert disclosure.display_values(mcnemar, lang=lang)["p_value"].iloc[0] == above
    shown = disclosure.display_values(figures.labelled(mcnemar, lang), lang=lang)
    header = "p-värde" if lang == "sv" else "p-value"
    assert shown[header].tolist() == [above, "<0,001" if lang == "sv" else "<0.001"]
    text = narrative.mcnemar_sentence(dino, lang)
    assert f"McNemar {above}:" in text and "0,250" not in text and "0.250" not in text

    out = report.Publisher(tmp_path, "subproject_report_dino", lang)
    out.table(figures.labelled(mcnemar, lang), "income_change", title="McNemar")
    entries = [
        {**e, "job": "subproject_report_dino"}
        for e in report.published(tmp_path, "subproject_report_dino")["tables"]
    ]
    book = report.write_tables_xlsx(tmp_path, entries, tmp_path / "t.xlsx", lang=lang)
    sheet = load_workbook(book).worksheets[1]
    cells = [c.value for row in sheet.iter_rows() for c in row]
    assert above in cells and 0.25 not in cells and "0,250" not in cells
    assert below not in cells


def test_mcnemar_with_many_discordant_pairs_stays_exact(mcnemar):
    """10 and 40 discordant pairs: the chi-square p is published as it is."""
    aktiv = mcnemar[mcnemar["subproject"] == "aktiv"].iloc[0]
    assert not aktiv["p_value__coarse__suppressed"]
    assert aktiv["p_value"] == pytest.approx(4.1e-5, rel=0.05)
    assert "p < 0.001: a real change" in narrative.mcnemar_sentence(aktiv, "en")


def test_mcnemar_of_a_hidden_denominator_is_hidden():
    """Fewer than 5 pairs: the p-value is not shown at all ("..")."""
    table = ft.income_change_table(_income("dino", 3, 3), 5)
    assert bool(table["p_value__suppressed"].iloc[0])
    assert not table["p_value__coarse__suppressed"].iloc[0]
    shown = disclosure.display_values(figures.labelled(table, "en"), lang="en")
    assert shown["p-value"].tolist() == [".."]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_wilcoxon_of_fewer_than_five_non_zero_changes_is_coarse(lang):
    """3 people moved up one step, 20 stayed: the exact p is shown as its side only."""
    people = _steps("dino", [1] * 3 + [0] * 20)
    table = ft.step_summary_table(people, 5, unit="dino", which=("step",))
    row = table.iloc[0]
    assert bool(row["wilcoxon_p__coarse__suppressed"]) and row["wilcoxon_p"] == 0.05
    above = COARSE[lang][1]
    shown = disclosure.display_values(figures.labelled(table, lang), lang=lang)
    header = "p-värde (Wilcoxon)" if lang == "sv" else "p-value (Wilcoxon)"
    assert shown[header].tolist() == [above]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_wilcoxon_resting_on_a_small_cell_of_the_distribution_is_coarse(lang):
    """16 moved up but 2 moved down (a hidden cell): the sentence quotes the side only."""
    people = _steps("dino", [1] * 10 + [2] * 6 + [-1] * 2 + [0] * 10)
    table = ft.step_summary_table(people, 5, unit="dino", which=("step",))
    row = table.iloc[0]
    assert row["events"] == 16 and bool(row["wilcoxon_p__coarse__suppressed"])
    below = COARSE[lang][0]
    assert row["wilcoxon_p"] == 0.0
    assert f"Wilcoxon {below}:" in narrative.step_sentence(row, "step", lang)


def test_wilcoxon_of_large_counts_stays_exact():
    """Every count of the change distribution is 5 or more: the p-value is exact."""
    people = _steps("dino", [-1] * 6 + [0] * 6 + [1] * 10 + [2] * 8)
    table = ft.step_summary_table(people, 5, unit="dino", which=("step",))
    row = table.iloc[0]
    assert not row["wilcoxon_p__coarse__suppressed"]
    from rehab_analytics import stats

    expected = stats.wilcoxon_signed_rank([-1] * 6 + [0] * 6 + [1] * 10 + [2] * 8)
    assert row["wilcoxon_p"] == pytest.approx(expected)
    shown = disclosure.display_values(figures.labelled(table, "en"), lang="en")
    assert shown["p-value (Wilcoxon)"].tolist() == [f"{expected:.3f}"]
