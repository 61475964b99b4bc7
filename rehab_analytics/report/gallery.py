"""The chart gallery: every chart from one set of tables, measured and suppressed.

:func:`write_gallery` draws it (the ``gallery`` command). The module is also the
reference for how each chart's table is measured and passed through disclosure
control (which counts, which margins), so notebooks can follow the same recipe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from rehab_analytics import catalogue, plots
from rehab_analytics import tables as ft
from rehab_analytics.config import settings
from rehab_analytics.errors import InputFileError
from rehab_analytics.report.deck import ChartSlide, build_deck, save_for_slides

__all__ = [
    "GalleryInputs",
    "GalleryChart",
    "load_inputs",
    "chart_specs",
    "draw",
    "write_gallery",
]

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
    from rehab_analytics.processed import load

    threshold = settings().suppression_threshold
    try:
        tables = load(processed_dir)
        people, plan, is_sample = tables.participants, tables.subprojects, False
    except InputFileError:
        if processed_dir is not None:
            raise
        from rehab_analytics.sample.deliveries import generate

        data = generate(_SAMPLE_SIZE, seed=_SAMPLE_SEED)
        people, plan, is_sample = data.participants, data.subprojects, True
    if "participant_key" not in people:
        # the sample's truth table has no pseudonyms; one person per episode
        people = people.assign(participant_key=people.index.astype("string"))
    last = pd.concat([people["start_date"], people["end_date"]]).max()
    period = (people["start_date"].min(), last)
    return GalleryInputs(people, plan, is_sample, threshold, period)


def chart_specs(inputs: GalleryInputs) -> list[GalleryChart]:
    """Measure and suppress the table of every gallery chart.

    The tables come from :mod:`rehab_analytics.tables`, the same
    recipes the report notebooks use, so the gallery shows what the reports
    publish.

    Example:
        >>> chart_specs  # doctest: +ELLIPSIS
        <function chart_specs at ...>
    """
    p, plan, t = inputs.participants, inputs.subprojects, inputs.threshold
    share = {"outcome": _OUTCOME}
    shares = ft.outcome_table(p, _OUTCOME, t)
    trend = ft.trend_table(p, _OUTCOME, t)
    charts = [
        GalleryChart(
            "enrolment", plots.enrolment_chart, ft.enrolment_table(p, plan, t)
        ),
        GalleryChart("outcome_shares", plots.outcome_shares_chart, shares, share),
        GalleryChart("funnel", plots.funnel_chart, shares, share),
        GalleryChart(
            "casemix", plots.casemix_chart, ft.casemix_table(p, _OUTCOME, t), share
        ),
        GalleryChart("trend", plots.trend_chart, trend, share),
        GalleryChart("spc", plots.spc_chart, trend, share),
        GalleryChart("costs", plots.cost_chart, ft.cost_table(p, plan, t)),
        GalleryChart(
            "income_transition",
            plots.income_transition_chart,
            ft.income_transition_table(p, t),
        ),
        GalleryChart("occupation", plots.occupation_chart, ft.occupation_table(p, t)),
        GalleryChart(
            "exit_reasons", plots.exit_reasons_chart, ft.exit_reason_table(p, t)
        ),
        GalleryChart(
            "time_in_programme",
            plots.time_in_programme_chart,
            ft.time_curve_table(p, t),
        ),
        GalleryChart(
            "step_change",
            plots.step_change_chart,
            ft.step_distribution_table(p, t, by=None),
        ),
    ]
    profile = ft.age_sex_table(p, t)
    for unit in catalogue.unit_order(p["subproject"].dropna().unique(), display=True):
        kwargs = {"unit": unit}
        charts.append(
            GalleryChart(f"age_sex_{unit}", plots.age_sex_chart, profile, kwargs)
        )
    for dimension in ("age_band_esf", "education"):
        kwargs = {"dimension": dimension}
        charts.append(
            GalleryChart(
                f"esf_{dimension}",
                plots.esf_by_sex_chart,
                ft.esf_table(p, dimension, t),
                kwargs,
            )
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


def write_gallery(
    out_dir: str | Path,
    processed_dir: str | Path | None = None,
    *,
    langs: Sequence[str] = catalogue.LANGUAGES,
    deck: bool = True,
) -> list[Path]:
    """Draw every chart in Swedish and English into ``out_dir`` (the ``gallery`` command).

    Uses the processed tables (:func:`rehab_analytics.processed.load`) when
    ``processed_dir`` is given or the default folder holds them; otherwise the
    in-memory sample (:func:`rehab_analytics.sample.generate`), whose charts
    name "sample data" as their source. Every table passes disclosure control
    before it is drawn (see :func:`chart_specs`).

    Args:
        out_dir: Folder for ``<chart>_<lang>.png`` (and ``gallery_<lang>.pptx``).
        processed_dir: Folder with the processed tables.
        langs: Languages to draw.
        deck: Also build one deck per language.

    Returns:
        The written files (each language's PNGs, then its deck).

    Example:
        >>> write_gallery("data/processed/gallery")  # doctest: +SKIP
    """
    out = Path(out_dir)
    inputs = load_inputs(processed_dir)
    charts = chart_specs(inputs)
    written: list[Path] = []
    for lang in langs:
        chart_slides = []
        for chart in charts:
            png, slide = draw(chart, out, lang=lang, inputs=inputs)
            written.append(png)
            chart_slides.append(slide)
        if deck:
            title = catalogue.text("slides.title", lang)
            target = out / f"gallery_{lang}.pptx"
            written.append(build_deck(chart_slides, target, title=title, lang=lang))
    return written
