"""The chart gallery: every chart from one set of tables, measured and suppressed.

:func:`rehab_analytics.slides.write_gallery` drives this module; it is also the
reference for how each chart's table is measured and passed through disclosure
control (which counts, which margins), so notebooks can follow the same recipe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from rehab_analytics import catalogue, disclosure, measures, plots, stats
from rehab_analytics.config import settings
from rehab_analytics.errors import InputFileError
from rehab_analytics.plots_style import _unit_order

__all__ = ["GalleryInputs", "GalleryChart", "load_inputs", "chart_specs", "draw"]

_SAMPLE_SIZE, _SAMPLE_SEED = 570, 2015
_OUTCOME = "work_or_study_after"


@dataclass(frozen=True)
class GalleryInputs:
    """Clean participants and subprojects, the period they cover and their origin."""

    participants: pd.DataFrame
    subprojects: pd.DataFrame
    is_sample: bool
    threshold: int
    period: tuple[pd.Timestamp, pd.Timestamp]


@dataclass(frozen=True)
class GalleryChart:
    """One gallery chart: a file name, a plot function and its suppressed table."""

    name: str
    plot: Callable
    table: pd.DataFrame
    kwargs: dict = field(default_factory=dict)


def load_inputs(processed_dir: str | Path | None = None) -> GalleryInputs:
    """Processed tables if there are any, else the in-memory sample.

    Raises:
        InputFileError: If ``processed_dir`` is given but holds no processed tables.

    Example:
        >>> load_inputs().is_sample  # doctest: +SKIP
        True
    """
    from rehab_analytics.pipeline import load

    threshold = settings().suppression_threshold
    try:
        tables = load(processed_dir)
        people, plan, is_sample = tables.participants, tables.subprojects, False
    except InputFileError:
        if processed_dir is not None:
            raise
        from rehab_analytics.sample import generate

        data = generate(_SAMPLE_SIZE, seed=_SAMPLE_SEED)
        people, plan, is_sample = data.participants, data.subprojects, True
    if "participant_key" not in people:
        # the sample's truth table has no pseudonyms; one person per episode
        people = people.assign(participant_key=people.index.astype("string"))
    last = pd.concat([people["start_date"], people["end_date"]]).max()
    period = (people["start_date"].min(), last)
    return GalleryInputs(people, plan, is_sample, threshold, period)


def _suppress(table: pd.DataFrame, threshold: int, **kwargs) -> pd.DataFrame:
    return disclosure.suppress(table, threshold=threshold, **kwargs)


def _age_sex(people: pd.DataFrame) -> pd.DataFrame:
    """Episodes per subproject, age group and sex (misregistrations left out)."""
    valid = people[people["exit_reason"].astype("string") != "misregistration"]
    valid = measures.add_age_groups(valid)
    keys = ["subproject", "age_group", "sex"]
    frame = valid.assign(
        age_group=pd.Categorical(valid["age_group"], measures.AGE_GROUPS),
        sex=pd.Categorical(valid["sex"], ["woman", "man", "unknown"]),
    )
    return frame.groupby(keys, observed=False).size().rename("count").reset_index()


def _casemix(people: pd.DataFrame) -> pd.DataFrame:
    ended = people[people["end_date"].notna() & people[_OUTCOME].notna()]
    ended = ended[ended["exit_reason"].astype("string") != "misregistration"]
    out = stats.casemix_observed_expected(
        ended.assign(**{_OUTCOME: ended[_OUTCOME].astype(bool)}), _OUTCOME
    )
    return out[["unit", "n", "observed", "expected", "oe", "ci_low", "ci_high"]]


def chart_specs(inputs: GalleryInputs) -> list[GalleryChart]:
    """Measure and suppress the table of every gallery chart.

    Example:
        >>> chart_specs  # doctest: +ELLIPSIS
        <function chart_specs at ...>
    """
    p, t = inputs.participants, inputs.threshold
    share = {"outcome": _OUTCOME}
    enrolment = measures.enrolment_over_time(p, inputs.subprojects, freq="M")
    enrolment = enrolment[enrolment["subproject"] != "total"]
    shares = _suppress(measures.outcome_shares(p, _OUTCOME), t)
    trend = _suppress(measures.trend(p, _OUTCOME, by=None), t)
    costs = measures.costs(p, inputs.subprojects)
    cost_cols = ["subproject", "participants", "work_or_study"]
    ratios = ["cost_per_participant", "cost_per_work_or_study"]
    occupation = measures.occupation_before_after(p)
    charts = [
        GalleryChart(
            "enrolment",
            plots.enrolment_chart,
            _suppress(
                enrolment[
                    ["subproject", "date", "cumulative_enrolled", "cumulative_planned"]
                ],
                t,
                count_cols=["cumulative_enrolled"],
                denominator_col=None,
            ),
        ),
        GalleryChart("outcome_shares", plots.outcome_shares_chart, shares, share),
        GalleryChart("funnel", plots.funnel_chart, shares, share),
        GalleryChart(
            "casemix",
            plots.casemix_chart,
            _suppress(
                _casemix(p),
                t,
                count_cols=["n", "observed"],
                share_cols=["expected", "oe", "ci_low", "ci_high"],
            ),
            share,
        ),
        GalleryChart("trend", plots.trend_chart, trend, share),
        GalleryChart("spc", plots.spc_chart, trend, share),
        GalleryChart(
            "costs",
            plots.cost_chart,
            _suppress(
                costs[[*cost_cols, *ratios]],
                t,
                count_cols=cost_cols[1:],
                denominator_col=None,
                share_cols=ratios,
            ),
        ),
        GalleryChart(
            "income_transition",
            plots.income_transition_chart,
            _suppress(
                measures.income_transitions(p),
                t,
                count_cols=["count", "row_total"],
                denominator_col="row_total",
                share_cols=["row_share"],
                margins=[["before"], ["after"]],
            ),
        ),
        GalleryChart(
            "occupation",
            plots.occupation_chart,
            _suppress(
                occupation,
                t,
                count_cols=["count_before", "count_after", "total"],
                denominator_col="total",
                share_cols=["share_before", "share_after"],
                margins=[["subproject"]],
            ),
        ),
        GalleryChart(
            "exit_reasons",
            plots.exit_reasons_chart,
            _suppress(
                measures.exit_reasons(p)[
                    ["subproject", "exit_reason", "count", "total"]
                ],
                t,
                count_cols=["count", "total"],
                denominator_col=None,
                margins=[["subproject"], ["exit_reason"]],
            ),
        ),
        GalleryChart(
            "time_in_programme",
            plots.time_in_programme_chart,
            _suppress(measures.time_in_programme(p), t, count_cols=(), share_cols=()),
        ),
        GalleryChart(
            "step_change",
            plots.step_change_chart,
            _suppress(
                measures.step_change_distribution(p, by=None),
                t,
                count_cols=["count"],
                denominator_col=None,
                margins=[[]],
            ),
        ),
    ]
    profile = _suppress(
        _age_sex(p),
        t,
        count_cols=["count"],
        denominator_col=None,
        sex_col="sex",
        keys=["subproject", "age_group", "sex"],
        margins=[["subproject", "age_group"], ["subproject", "sex"]],
    )
    for unit in _unit_order(p["subproject"].dropna().unique()):
        kwargs = {"unit": unit}
        charts.append(
            GalleryChart(f"age_sex_{unit}", plots.age_sex_chart, profile, kwargs)
        )
    for dimension in ("age_band_esf", "education"):
        esf = measures.esf_breakdown(p, dimension, by=None)
        table = _suppress(
            esf[["sex", "category", "count", "total"]],
            t,
            count_cols=["count", "total"],
            denominator_col=None,
            sex_col="sex",
            keys=["sex", "category"],
            margins=[["sex"]],
        )
        kwargs = {"dimension": dimension}
        charts.append(
            GalleryChart(f"esf_{dimension}", plots.esf_by_sex_chart, table, kwargs)
        )
    return charts


def _texts(ax, gid: str) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def draw(chart: GalleryChart, out_dir: Path, *, lang: str, inputs: GalleryInputs):
    """Draw one chart in ``lang``, save ``<name>_<lang>.png``; return it and its slide.

    Example:
        >>> draw  # doctest: +ELLIPSIS
        <function draw at ...>
    """
    from rehab_analytics.slides import ChartSlide, save_for_slides

    key = "common.gallery_source" if inputs.is_sample else "common.source_default"
    source = catalogue.text(key, lang)
    with plots.slide_style():
        ax = chart.plot(
            chart.table, lang=lang, period=inputs.period, source=source, **chart.kwargs
        )
        (png,) = save_for_slides(ax.figure, Path(out_dir) / f"{chart.name}_{lang}.png")
    plt.close(ax.figure)
    title = " ".join(_texts(ax, "rehab-title"))
    notes = ". ".join([*_texts(ax, "rehab-subtitle"), *_texts(ax, "rehab-footer")])
    return png, ChartSlide(png, title, notes)
