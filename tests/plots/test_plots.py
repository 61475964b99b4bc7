"""Tests for the charts: every chart in both languages, suppression marks, edge cases."""

from __future__ import annotations

import re

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from rehab_analytics import catalogue, plots
from rehab_analytics.disclosure import suppress
from rehab_analytics.errors import DisclosureError
from rehab_analytics.report.deck import save_for_slides
from rehab_analytics.sources import Organisation, Registry

UNITS = ["dino", "motiverande", "aktiv"]
PERIOD = ("2015-10-01", "2019-06-30")


# ---------------------------------------------------------------- small tables


def _shares(n=(40, 30, 20), events=(20, 9, 12)) -> pd.DataFrame:
    from rehab_analytics.stats.compare import wilson_interval

    n, events = np.array(n), np.array(events)
    low, high = wilson_interval(events, n)
    table = pd.DataFrame(
        {"subproject": UNITS[: len(n)], "n": n, "events": events, "share": events / n}
    )
    return suppress(table.assign(ci_low=low, ci_high=high))


def _enrolment() -> pd.DataFrame:
    dates = pd.to_datetime(["2016-04-30", "2016-12-31", "2017-12-31", "2018-12-31"])
    table = pd.DataFrame(
        {
            "subproject": np.repeat(UNITS[:2], 4),
            "date": np.tile(dates, 2),
            "cumulative_enrolled": [3, 12, 30, 52, 6, 15, 28, 40],
            "cumulative_planned": [5.0, 15, 30, 50, 5, 15, 30, 45],
        }
    )
    return suppress(table, count_cols=["cumulative_enrolled"], denominator_col=None)


def _casemix() -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "unit": UNITS,
            "n": [40, 30, 20],
            "observed": [20, 9, 12],
            "expected": [15.0, 12.0, 8.0],
        }
    )
    table["oe"] = table["observed"] / table["expected"]
    table["ci_low"], table["ci_high"] = table["oe"] * 0.6, table["oe"] * 1.5
    return suppress(
        table, count_cols=["n", "observed"], share_cols=["oe", "ci_low", "ci_high"]
    )


def _trend(points: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = rng.integers(20, 40, points)
    events = (n * rng.uniform(0.3, 0.5, points)).astype(int)
    from rehab_analytics.stats.compare import wilson_interval

    low, high = wilson_interval(events, n)
    periods = [f"{2015 + (i + 2) // 3}T{(i + 2) % 3 + 1}" for i in range(points)]
    table = pd.DataFrame(
        {"period": periods, "n": n, "events": events, "share": events / n}
    )
    return suppress(table.assign(ci_low=low, ci_high=high))


def _costs() -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "subproject": UNITS,
            "participants": [40, 30, 20],
            "work_or_study": [12, 3, 6],
            "cost_per_participant": [80000.0, 95000.0, 120000.0],
            "cost_per_work_or_study": [266000.0, 950000.0, 400000.0],
        }
    )
    return suppress(
        table,
        count_cols=["participants", "work_or_study"],
        denominator_col=None,
        share_cols=["cost_per_work_or_study"],
    )


def _transitions() -> pd.DataFrame:
    groups = ["ill_health", "labour_market", "none_public"]
    counts = np.array([[20, 3, 10], [0, 15, 8], [0, 0, 12]])
    table = pd.DataFrame(
        [(b, a) for b in groups for a in groups], columns=["before", "after"]
    )
    table["count"] = counts.ravel()
    table["row_total"] = np.repeat(counts.sum(axis=1), 3)
    table["row_share"] = table["count"] / table["row_total"]
    return suppress(
        table,
        count_cols=["count", "row_total"],
        denominator_col="row_total",
        share_cols=["row_share"],
        margins=[["before"]],
    )


def _occupation() -> pd.DataFrame:
    occ = ["employed", "studying", "job_seeking", "other"]
    table = pd.DataFrame(
        {
            "subproject": np.repeat(UNITS[:2], 4),
            "occupation": occ * 2,
            "total": np.repeat([40, 30], 4),
            "count_before": [2, 5, 13, 20, 0, 6, 10, 14],
            "count_after": [12, 8, 10, 10, 7, 7, 6, 10],
        }
    )
    return suppress(
        table,
        count_cols=["count_before", "count_after", "total"],
        denominator_col="total",
        share_cols=(),
        margins=[["subproject"]],
    )


def _exits(no_exits: str | None = None) -> pd.DataFrame:
    reasons = ["completed", "dropped_out", "ill_health", "other"]
    counts = [20, 8, 2, 10, 15, 6, 5, 4, 9, 9, 0, 6]
    table = pd.DataFrame(
        {
            "subproject": np.repeat(UNITS, 4),
            "exit_reason": reasons * 3,
            "count": counts,
            "total": np.repeat([40, 30, 24], 4),
        }
    )
    if no_exits:
        table.loc[table["subproject"] == no_exits, ["count", "total"]] = 0
    return suppress(
        table,
        count_cols=["count", "total"],
        denominator_col=None,
        margins=[["subproject"], ["exit_reason"]],
    )


def _curves(no_exits: str | None = None, few: str | None = None) -> pd.DataFrame:
    """Weekly curves as ``tables.time_curve_table`` publishes them; ``few`` has n = 3."""
    parts = []
    for i, unit in enumerate(UNITS):
        weeks = np.array([0, 9, 17, 34, 57])
        surv = np.array([1.0, 0.9, 0.7, 0.4, 0.2]) ** (1 + i / 3)
        if unit == no_exits:
            weeks, surv = np.array([0, 20]), np.array([1.0, 1.0])
        if unit == few:
            weeks, surv = np.array([0]), np.array([1.0])
        parts.append(
            pd.DataFrame(
                {
                    "subproject": unit,
                    "weeks": weeks,
                    "n": 3 if unit == few else 40 + i,
                    "survival": surv,
                    "ci_low": surv * 0.85,
                    "ci_high": np.minimum(surv * 1.1, 1),
                }
            )
        )
    return suppress(
        pd.concat(parts, ignore_index=True),
        count_cols=["n"],
        denominator_col="n",
        share_cols=["survival", "ci_low", "ci_high"],
    )


def _steps() -> pd.DataFrame:
    table = pd.DataFrame(
        {"change": [-2, -1, 0, 1, 2, 3], "count": [2, 6, 30, 25, 12, 0]}
    )
    return suppress(table, count_cols=["count"], denominator_col=None, margins=[[]])


def _profile() -> pd.DataFrame:
    ages = ["16-24", "25-29", "30-39", "40-49", "50+"]
    table = pd.DataFrame(
        {
            "subproject": "dino",
            "age_group": np.repeat(ages, 2),
            "sex": ["woman", "man"] * 5,
            "count": [12, 15, 9, 6, 7, 3, 5, 5, 0, 0],
        }
    )
    return suppress(
        table,
        count_cols=["count"],
        denominator_col=None,
        sex_col="sex",
        keys=["subproject", "age_group", "sex"],
    )


def _esf() -> pd.DataFrame:
    cats = ["under_25", "25_54", "over_54"]
    table = pd.DataFrame(
        {
            "sex": np.repeat(["woman", "man"], 3),
            "category": cats * 2,
            "count": [20, 30, 6, 25, 28, 2],
            "total": np.repeat([56, 55], 3),
        }
    )
    return suppress(
        table,
        count_cols=["count", "total"],
        denominator_col=None,
        sex_col="sex",
        keys=["sex", "category"],
    )


OUTCOME = {"outcome": "work_or_study_after"}
CHARTS = {
    "enrolment": (plots.enrolment_chart, _enrolment, {}, "chart.enrolment.title"),
    "shares": (
        plots.outcome_shares_chart,
        _shares,
        OUTCOME,
        "chart.outcome_shares.title",
    ),
    "funnel": (plots.funnel_chart, _shares, OUTCOME, "chart.funnel.title"),
    "casemix": (plots.casemix_chart, _casemix, OUTCOME, "chart.casemix.title"),
    "trend": (plots.trend_chart, _trend, OUTCOME, "chart.trend.title"),
    "spc": (plots.spc_chart, lambda: _trend(14), OUTCOME, "chart.spc.title"),
    "costs": (plots.cost_chart, _costs, {}, "chart.costs.title"),
    "income": (
        plots.income_transition_chart,
        _transitions,
        {},
        "chart.income_transition.title",
    ),
    "occupation": (plots.occupation_chart, _occupation, {}, "chart.occupation.title"),
    "exits": (plots.exit_reasons_chart, _exits, {}, "chart.exit_reasons.title"),
    "time": (
        plots.time_in_programme_chart,
        _curves,
        {},
        "chart.time_in_programme.title",
    ),
    "steps": (plots.step_change_chart, _steps, {}, "chart.step_change.title"),
    "age_sex": (
        plots.age_sex_chart,
        _profile,
        {"unit": "dino"},
        "chart.age_sex.title_unit",
    ),
    "esf": (plots.esf_by_sex_chart, _esf, {}, "chart.esf_by_sex.title"),
}


def _title(ax) -> str:
    return " ".join(t.get_text() for t in ax.texts if t.get_gid() == "rehab-title")


def _all_text(ax) -> str:
    parts = [t.get_text() for t in ax.texts]
    parts += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title(loc="left")]
    parts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    legend = ax.get_legend()
    if legend is not None:
        parts += [t.get_text() for t in legend.get_texts()]
    return "\n".join(parts)


def _expected_title(key: str, lang: str, kwargs: dict) -> str:
    fmt = {}
    if "outcome" in kwargs:
        fmt["outcome"] = catalogue.label("outcome", kwargs["outcome"], lang)
    if key.endswith("title_unit"):
        fmt["unit"] = catalogue.label("subproject", kwargs["unit"], lang)
    if key == "chart.esf_by_sex.title":
        fmt["dimension"] = catalogue.text("chart.esf_by_sex.age_band_esf", lang)
    return catalogue.text(key, lang, **fmt)


# ---------------------------------------------------------------- every chart


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("name", sorted(CHARTS))
def test_chart_renders_at_slide_size_in_language(name, lang, tmp_path):
    """Each chart draws a non-blank 2460×1120 PNG with its title and source in `lang`."""
    func, make, kwargs, title_key = CHARTS[name]
    with plots.slide_style():
        ax = func(make(), lang=lang, period=PERIOD, **kwargs)
        (png,) = save_for_slides(ax.figure, tmp_path / f"{name}.png")
    with Image.open(png) as image:
        assert image.size == (2460, 1120)
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 10
    assert _title(ax) == _expected_title(title_key, lang, kwargs)
    text = _all_text(ax)
    other = "en" if lang == "sv" else "sv"
    word = {"sv": "Källa:", "en": "Source:"}
    assert word[lang] in text
    assert word[other] not in text
    assert catalogue.text("common.source_default", lang) in text
    period = plots.format_period(*PERIOD, lang)
    assert any(
        period in t.get_text() for t in ax.texts if t.get_gid() == "rehab-subtitle"
    )


def test_axes_use_swedish_decimal_comma():
    """Tick labels follow the language: 0,5 in Swedish, 0.5 in English."""
    table = _casemix()
    for lang, mark in (("sv", "0,5"), ("en", "0.5")):
        ax = plots.casemix_chart(table, outcome="work_or_study_after", lang=lang)
        ax.figure.canvas.draw()
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert mark in labels


def test_share_axes_show_per_cent_in_language():
    """Share axes read "40 %" (no-break space) in Swedish and "40%" in English."""
    ax = plots.outcome_shares_chart(_shares(), outcome="work_or_study_after")
    ax.figure.canvas.draw()
    assert "40\u00a0%" in [t.get_text() for t in ax.get_xticklabels()]


def test_slide_style_sets_large_ticks_and_clean_spines():
    """Inside slide_style ticks are ≥ 14 pt and top/right spines are off."""
    with plots.slide_style():
        assert mpl.rcParams["xtick.labelsize"] >= 14
        assert mpl.rcParams["ytick.labelsize"] >= 14
        assert not mpl.rcParams["axes.spines.top"]


def test_theme_gives_the_charts_the_slide_rc_and_only_adds_the_palette():
    """seaborn's theme leaves every rc value as the slide rc alone set it, bar the colour cycle."""
    rc = plots.theme_kwargs()["rc"]
    with mpl.rc_context():
        mpl.rcdefaults()
        reset = dict(mpl.rcParams)
        with mpl.rc_context(rc):
            before = dict(mpl.rcParams)
        with plots.theme():
            themed = dict(mpl.rcParams)
        after = dict(mpl.rcParams)
    changed = {k for k in before if before[k] != themed[k]}
    assert changed == {"axes.prop_cycle"}
    assert {k for k in reset if after[k] != reset[k]} == set()  # restored on exit


def test_theme_draws_seaborn_charts_in_the_house_palette():
    """An analyst's seaborn chart inside ``theme()`` gets the house colours and text."""
    import seaborn as sns

    table = pd.DataFrame({"unit": ["a", "b"], "n": [40, 12]})
    with plots.theme():
        ax = sns.barplot(table, x="unit", y="n", hue="unit", legend=False, saturation=1)
        assert mpl.rcParams["font.family"] == [plots.theme_kwargs()["font"]]
    colours = [mpl.colors.to_hex(p.get_facecolor()) for p in ax.patches]
    assert colours == [c.lower() for c in plots.theme_kwargs()["palette"][:2]]
    assert ax.xaxis.get_major_ticks()[0].label1.get_fontsize() == 14
    plt.close(ax.figure)


def test_tick_labels_are_large_even_outside_the_style():
    """Charts set their own tick size, so they stay readable without slide_style."""
    ax = plots.outcome_shares_chart(_shares(), outcome="work_or_study_after")
    assert ax.xaxis.get_major_ticks()[0].label1.get_fontsize() >= 14


def test_fixed_colours_and_markers():
    """Subprojects keep their Okabe–Ito colour; new ones get black, then greys."""
    colours = plots.subproject_colours(["new_a", "aktiv", "dino", "new_b"])
    assert colours == {
        "new_a": "#000000",
        "aktiv": "#CC79A7",
        "dino": "#E69F00",
        "new_b": "#555555",
    }
    assert plots.forbund_colours(["insjoriket"]) == {"insjoriket": "#CC79A7"}
    org = Organisation("x", "X", "extra", "Extra", colour="#123456")
    assert plots.subproject_colours(["extra"], Registry((org,))) == {"extra": "#123456"}
    assert plots.unit_markers(["dino", "aktiv"]) == {"dino": "o", "aktiv": "P"}


# ---------------------------------------------------------------- suppression


def test_raw_table_is_refused():
    """A table that has not passed suppress() cannot be drawn."""
    raw = pd.DataFrame(
        {"subproject": ["dino"], "n": [3], "events": [1], "share": [1 / 3]}
    )
    with pytest.raises(DisclosureError, match="outcome shares cannot be published"):
        plots.outcome_shares_chart(raw, outcome="work_or_study_after")


def test_suppressed_share_is_marked_not_drawn():
    """A hidden unit gets a ".." mark and no dot; the others are drawn."""
    ax = plots.outcome_shares_chart(
        _shares(n=(40, 3, 20), events=(20, 1, 12)), outcome="work_or_study_after"
    )
    marks = [t.get_text() for t in ax.texts if t.get_gid() == "rehab-suppressed"]
    assert marks == ["..: visas inte"]
    dots = [line for line in ax.lines if line.get_marker() not in ("None", None, "")]
    assert len(dots) == 2
    assert "Motiverande insatser (n = ..)" in [
        t.get_text() for t in ax.get_yticklabels()
    ]


def test_income_heat_map_hatches_hidden_cells_and_labels_only_shown_ones():
    """seaborn's heat map colours shown cells; a hidden one is hatched, never labelled."""
    table = _transitions()
    hidden = table["count__suppressed"].to_numpy()
    ax = plots.income_transition_chart(table, lang="en")
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == hidden.sum() >= 2
    assert {(p.get_x(), p.get_y()) for p in hatched} >= {(1.0, 0.0)}  # row 0, col 1
    marks = [t.get_text() for t in ax.texts if t.get_gid() == "rehab-suppressed"]
    # one small cell and one hidden to protect it: the same mark for both
    assert marks == ["..", ".."]
    labels = [t.get_text() for t in ax.texts]
    assert "61%\n(20)" in labels and not any("(3)" in t or "(10)" in t for t in labels)
    assert labels.count("0") == 3
    plt.close(ax.figure)


def test_hidden_count_is_hatched_at_threshold_not_zero():
    """A hidden pyramid bar spans 0..threshold with hatching and a ".." label."""
    ax = plots.age_sex_chart(_profile(), unit="dino", lang="en")
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 2
    assert sorted(abs(p.get_width()) for p in hatched) == [5, 5]
    marks = [t.get_text() for t in ax.texts if t.get_gid() == "rehab-suppressed"]
    assert marks == ["..", ".."]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[-1] == "..: fewer than 5, or hidden as protection"


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("name", sorted(CHARTS))
def test_hidden_values_have_one_mark_and_one_legend_entry(name, lang):
    """Every chart marks hidden values '..' (never '<5') with one legend entry."""
    func, make, kwargs, _ = CHARTS[name]
    table = make()
    ax = func(table, lang=lang, **kwargs)
    text = _all_text(ax)
    assert re.search(r"<\s*\d", text) is None, text
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()] if legend else []
    swatch = catalogue.text("common.suppressed_legend", lang, threshold=5)
    marks = [t.get_text() for t in ax.texts if t.get_gid() == "rehab-suppressed"]
    hidden = any(table[c].any() for c in table.columns if c.endswith("__suppressed"))
    assert all(m.split(":")[0] == ".." for m in marks), marks
    # one swatch explains '..' when something is hidden; no second kind of mark
    assert labels.count(swatch) == (1 if hidden else 0), labels
    assert not [t for t in labels if t.startswith("..") and t != swatch]


def test_stacked_bars_show_hidden_rest_as_one_hatched_segment():
    """Exit reasons: the hidden counts of a unit become one hatched remainder."""
    ax = plots.exit_reasons_chart(_exits())
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert hatched, "a hidden exit count must be marked"
    for patch in hatched:
        assert 0 < patch.get_width() <= 1


# ---------------------------------------------------------------- edge cases


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize(
    "name",
    ["shares", "funnel", "casemix", "trend", "income", "steps", "age_sex", "esf"],
)
def test_all_values_suppressed_gives_an_empty_chart_with_a_note(name, lang):
    """When nothing can be shown the chart says so instead of drawing zeros."""
    func, make, kwargs, _ = CHARTS[name]
    table = make()
    flags = [c for c in table.columns if c.endswith("__suppressed")]
    hidden = table.copy()
    for flag in flags:
        hidden[flag] = True
        hidden[flag.removesuffix("__suppressed")] = pd.NA
    hidden.attrs = table.attrs
    ax = func(hidden, lang=lang, **kwargs)
    notes = [t.get_text() for t in ax.texts if t.get_gid() == "rehab-empty"]
    assert notes == [catalogue.text("common.no_values", lang)]
    assert not ax.patches and not ax.lines


def test_unit_without_exits():
    """A subproject with no exits is labelled "no exits yet" in bars and curves."""
    ax = plots.exit_reasons_chart(_exits(no_exits="aktiv"), lang="en")
    assert "no exits yet" in [t.get_text() for t in ax.texts]
    ax = plots.time_in_programme_chart(_curves(no_exits="aktiv"), lang="en")
    assert "Extended AKTIV (no exits yet)" in _all_text(ax)


def test_no_exits_anywhere():
    """With no exits at all the exit chart is empty with the "no exits" note."""
    table = _exits()
    zero = suppress(
        table.assign(count=0, total=0)[["subproject", "exit_reason", "count", "total"]],
        count_cols=["count", "total"],
        denominator_col=None,
    )
    ax = plots.exit_reasons_chart(zero)
    assert [t.get_text() for t in ax.texts if t.get_gid() == "rehab-empty"] == [
        "inga avslut ännu"
    ]


@pytest.mark.parametrize(
    "name", ["shares", "funnel", "casemix", "costs", "exits", "time"]
)
def test_one_subproject_only(name):
    """Charts comparing units still draw with a single unit."""
    func, make, kwargs, _ = CHARTS[name]
    table = make()
    unit_col = "unit" if "unit" in table else "subproject"
    one = table[table[unit_col] == "dino"].copy()
    one.attrs = table.attrs
    ax = func(one, **kwargs)
    assert "Dino" in _all_text(ax)


def test_spc_needs_twelve_points():
    """With fewer than 12 points the SPC chart is a note, with 12 or more a chart."""
    ax = plots.spc_chart(_trend(10), outcome="work_or_study_after", lang="en")
    notes = [t.get_text() for t in ax.texts if t.get_gid() == "rehab-empty"]
    assert notes == [catalogue.text("chart.spc.too_few", "en", minimum=12, points=10)]
    ax = plots.spc_chart(_trend(14), outcome="work_or_study_after", lang="en")
    assert "Control limits" in _all_text(ax)


def test_xmr_limits_and_signals():
    """Centre, limits (mean ± 2.66 mR) and the outside/run rules."""
    out = plots.xmr_limits([5, 5, 6, 5, 5, 6, 5, 5, 6, 5, 5, 20])
    mr = np.mean(np.abs(np.diff([5, 5, 6, 5, 5, 6, 5, 5, 6, 5, 5, 20])))
    assert out["mean"].iloc[0] == pytest.approx(6.5)
    assert out["ucl"].iloc[0] == pytest.approx(6.5 + 2.66 * mr)
    assert out["signal"].tolist()[-1]
    run = plots.xmr_limits([1, 2, 3, 4, 5, 6, 7, 3, 3, 3])
    assert run["signal"].tolist()[:7] == [True] * 7
    side = plots.xmr_limits(
        [5, 5.1, 5.2, 5.1, 5.2, 5.1, 5.2, 4, 4.1, 4, 4.1, 4, 4.1, 4]
    )
    assert side["signal"].tolist()[7:] == [True] * 7


def test_several_units_need_a_unit_argument():
    """Single-unit charts refuse a multi-unit table unless a unit is chosen."""
    table = _profile()
    two = suppress(
        pd.concat(
            [table.assign(subproject="dino"), table.assign(subproject="aktiv")]
        ).dropna()[["subproject", "age_group", "sex", "count"]],
        count_cols=["count"],
        denominator_col=None,
    )
    with pytest.raises(ValueError, match="pass unit="):
        plots.age_sex_chart(two)
    ax = plots.age_sex_chart(two, unit="aktiv", lang="en")
    assert _title(ax) == "Participants by age and sex: Extended AKTIV"


def test_axes_given_by_caller_are_used():
    """Passing ax draws there (title on the axes) and returns the same Axes."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.3, 5.6))
    out = plots.outcome_shares_chart(_shares(), outcome="work_or_study_after", ax=right)
    assert out is right
    assert right.get_title(loc="left").startswith("I arbete eller studier")
    assert not left.has_data()
