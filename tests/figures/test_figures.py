"""Tests for the report recipes: publishable tables, figures, takeaways, labelled tables."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from matplotlib.figure import Figure

from rehab_analytics import disclosure, figures, report
from rehab_analytics import tables as ft
from rehab_analytics.sample.deliveries import generate

UNIT = "unga_vuxna"


@pytest.fixture(scope="module")
def sample():
    """The sample's truth tables (300 episodes), shared by every test here."""
    return generate(300, seed=11)


@pytest.fixture(scope="module", params=["sv", "en"])
def ctx(request, sample):
    """A context over the whole project period in Swedish and English."""
    return figures.context(
        sample, start="2015-10-01", end="2019-06-30", lang=request.param, threshold=5
    )


CHARTS = {
    "enrolment_unit": lambda c: figures.enrolment(c, UNIT),
    "enrolment": figures.enrolment,
    "shares_unit": lambda c: figures.outcome_shares(c, unit=UNIT),
    "shares": figures.outcome_shares,
    "funnel": figures.funnel,
    "casemix": figures.casemix,
    "trend": figures.trend,
    "spc": figures.spc,
    "costs_unit": lambda c: figures.costs(c, UNIT),
    "costs": figures.costs,
    "income_unit": lambda c: figures.income_transition(c, UNIT),
    "income": figures.income_transition,
    "occupation_unit": lambda c: figures.occupation(c, UNIT),
    "occupation": figures.occupation,
    "exits_unit": lambda c: figures.exit_reasons(c, UNIT),
    "exits": figures.exit_reasons,
    "time_unit": lambda c: figures.time_in_programme(c, UNIT),
    "time": figures.time_in_programme,
    "steps_unit": lambda c: figures.step_change(c, UNIT),
    "health_unit": lambda c: figures.step_change(c, UNIT, "health"),
    "steps": figures.step_change,
    "age_sex_unit": lambda c: figures.age_sex(c, UNIT),
    "age_sex": figures.age_sex,
    "esf_age": lambda c: figures.esf_by_sex(c, "age_band_esf", UNIT),
    "esf_education": lambda c: figures.esf_by_sex(c, "education"),
    "esf_occupation": lambda c: figures.esf_by_sex(c, "occupation_before", UNIT),
}

TABLES = {
    "goal": lambda c: figures.goal_attainment(c, UNIT),
    "volume": lambda c: figures.volume(c, UNIT),
    "education": lambda c: figures.background(c, "education", UNIT),
    "income_before": lambda c: figures.background(c, "income_group_before", UNIT),
    "support_years": lambda c: figures.background(c, "support_years_before", UNIT),
    "outcomes": lambda c: figures.outcome_summary(c, UNIT),
    "outcomes_sex": lambda c: figures.outcome_summary(c, UNIT, by_sex=True),
    "outcomes_by_unit": figures.outcomes_by_unit,
    "outcomes_by_sex": figures.outcomes_by_sex,
    "vs_rest": figures.comparison,
    "casemix": figures.casemix_table,
    "mcnemar": figures.income_change,
    "time": lambda c: figures.time_summary(c, UNIT),
    "steps": lambda c: figures.step_summary(c, UNIT),
    "costs": figures.cost_table,
}


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_chart_recipe_gives_a_publishable_table_and_a_figure(ctx, name):
    """Each chart recipe returns a suppressed table, a figure, a takeaway and notes."""
    chart = CHARTS[name](ctx)
    assert isinstance(chart.figure, Figure)
    assert disclosure.is_publishable(chart.table)
    assert disclosure.is_publishable(
        figures.labelled(chart.table, ctx.lang, chart.fields)
    )
    assert chart.title and not chart.title.endswith(".")
    source = "Källa" if ctx.lang == "sv" else "Source"
    assert chart.notes.startswith(source) and (
        "n = " in chart.notes or "visas" in chart.notes or "not shown" in chart.notes
    )
    assert chart.png().startswith(b"\x89PNG")


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_table_recipe_is_publishable_and_labelled(ctx, name):
    """Each table recipe is publishable; labelled headers come from the catalogue."""
    table = TABLES[name](ctx)
    assert disclosure.is_publishable(table.table)
    shown = disclosure.display_values(
        figures.labelled(table.table, ctx.lang, table.fields), lang=ctx.lang
    )
    codes = {"subproject", "n", "events", "share", "ci_low", "ci_high", "count"}
    assert not codes & set(shown.columns)
    assert table.title and "<table" in table._repr_html_()


def test_unit_rows_hide_the_same_cells_as_the_comparison(sample):
    """A subproject's table is the comparison table's rows for that subproject."""
    ctx = figures.context(sample, lang="sv", threshold=5)
    whole = ft.exit_reason_table(ctx.episodes, 5)
    mine = figures.exit_reasons(ctx, UNIT).table
    expected = whole[whole["subproject"].astype("string") == UNIT]
    pd.testing.assert_frame_equal(mine, expected)


def test_labelled_translates_codes_headers_and_keeps_the_flags():
    """Codes become labels, headers come from the catalogue, flags follow the rename."""
    table = disclosure.suppress(
        pd.DataFrame({"sex": ["woman", "man"], "n": [3, 40], "p_value": [0.0001, 0.2]})
    )
    out = figures.labelled(table, "en")
    assert out["Sex"].tolist() == ["Women", "Men"]
    assert out["Number__suppressed"].tolist() == [True, False]
    assert out.attrs["disclosure"]["count_cols"] == ["Number"]
    assert out["p-value"].tolist() == ["<0.001", "0.200"]
    assert disclosure.display_values(out, lang="en")["Number"].tolist() == ["..", "40"]


def test_publish_writes_table_figure_and_takeaway(tmp_path, sample):
    """publish() stores the labelled table and the figure with its takeaway title."""
    ctx = figures.context(sample, lang="en", threshold=5)
    out = report.Publisher(tmp_path, "subproject_report_dino", "en")
    chart = figures.exit_reasons(ctx, "dino")
    shown = figures.publish(out, chart)
    assert shown is chart and "<img" in chart._repr_html_()
    reg = report.published(tmp_path, "subproject_report_dino")
    # Rendered once: the report shows the slide PNG itself.
    assert chart.png() == (tmp_path / reg["figures"][0]["file"]).read_bytes()
    assert reg["figures"][0]["title"] == chart.title
    assert reg["figures"][0]["notes"] == chart.notes
    stored = pd.read_parquet(tmp_path / reg["tables"][0]["file"])
    assert "Reason for leaving" in stored.columns
    assert figures.publish(out, figures.narrative.Text("no table")) == "no table"


def test_summary_names_every_unit_and_the_caveats(sample):
    """The comparison summary has a sentence per unit plus the four caveats."""
    ctx = figures.context(sample, lang="en", threshold=5)
    text = figures.summary(ctx, casemix=True)
    lines = text.splitlines()
    assert len(lines) == len(ctx.units) + 4
    assert "not ranked" in text and "exploratory" in text
    assert "Holm" in figures.summary(ctx, casemix=False)


def test_delivery_changes_compare_previous_and_current_report(tmp_path):
    """Rows per source then and now, with the change; small counts hidden."""

    def report_of(clean, rejected):
        return {
            "sources": {
                "nordost": {
                    "rows_clean": clean,
                    "rows_rejected": rejected,
                    "rows_skipped": 0,
                    "error": None,
                }
            }
        }

    (tmp_path / "cleaning_report.previous.json").write_text(
        json.dumps(report_of(90, 2))
    )
    (tmp_path / "cleaning_report.json").write_text(json.dumps(report_of(100, 6)))
    table = ft.delivery_changes(tmp_path, 5)
    assert table["outcome"].tolist() == ["clean", "rejected", "skipped"]
    assert table["current"].tolist() == [100, 6, 0]
    assert table["previous__suppressed"].tolist() == [False, True, False]
    assert table["change_rows"].tolist()[0] == 10
    assert pd.isna(table["change_rows"].iloc[1])
    result = figures.changes_table(str(tmp_path), "en", 5)
    assert (
        result.text
        == "Since the previous delivery: clean rows +10, rejected rows not shown."
    )


def test_context_keeps_chosen_units_only(sample):
    """units= keeps those subprojects in participants, plan and anonymous counts."""
    ctx = figures.context(sample, units=["dino", "aktiv"], threshold=5)
    assert set(ctx.participants["subproject"].astype(str)) == {"dino", "aktiv"}
    assert set(ctx.subprojects["subproject"].astype(str)) == {"dino", "aktiv"}
    assert ctx.units == ["dino", "aktiv"]
    with pytest.raises(ValueError, match="expected 'sv' or 'en'"):
        figures.context(sample, lang="de")
