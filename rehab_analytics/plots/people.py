"""Charts about time and people: Kaplan–Meier curves, step change, age × sex, ESF by sex.

Same conventions as :mod:`rehab_analytics.plots`, which re-exports these.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from rehab_analytics import catalogue
from rehab_analytics.plots.furniture import (
    _codes,
    _hatched_bar,
    _hatched_barh,
    _ordered_categories,
    _publishable,
    _select_unit,
    _start,
    _suppressed,
    _swatches,
    _values,
)
from rehab_analytics.plots.style import (
    SEX_COLOURS,
    TEXT_SIZE,
    number_formatter,
    share_formatter,
    subproject_colours,
    unit_markers,
)

__all__ = [
    "time_in_programme_chart",
    "step_change_chart",
    "age_sex_chart",
    "esf_by_sex_chart",
]

_DECLINE, _NONE, _IMPROVE = "#D55E00", "#999999", "#0072B2"
_SEXES = ("woman", "man")


def time_in_programme_chart(
    curves: pd.DataFrame,
    *,
    at_risk: pd.DataFrame | None = None,
    unit_col: str = "subproject",
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    registry: object = None,
    ax: Axes | None = None,
) -> Axes:
    """Kaplan–Meier curves (share still in the programme) per unit, in weeks.

    Each curve (with its 95 % band) is drawn as far as the table holds it
    (:func:`rehab_analytics.tables.time_curve_table` ends it where fewer than
    the threshold remain at risk). A unit whose curve is hidden (too few
    participants) gets no line: the legend names it as too few to show. A unit
    without exits keeps a flat line at 100 % and says so in the legend. With
    ``at_risk``, the number still in the programme at fixed weeks is written
    under the axis, one line per unit drawn, ".." where hidden; the x ticks
    are those weeks.

    Args:
        curves: ``[unit_col], weeks, survival, ci_low, ci_high`` (suppressed).
        at_risk: ``[unit_col], weeks, at_risk`` (suppressed;
            :func:`rehab_analytics.tables.time_at_risk_table`), or None.
        unit_col: Unit column.
        lang: ``"sv"`` or ``"en"``.
        period: ``(start, end)`` for the subtitle.
        n: Participants for the subtitle.
        source: Source text (default: the catalogue's).
        registry: Organisation registry (names and colours of added units).
        ax: Axes to draw on (default: a new full-width figure).

    Example:
        >>> time_in_programme_chart  # doctest: +ELLIPSIS
        <function time_in_programme_chart at ...>
    """
    c = _start(curves, "time in programme", lang, period, n, source, registry, ax)
    if at_risk is not None:
        _publishable(at_risk, "number at risk")
    title = c.text("chart.time_in_programme.title")
    codes = _codes(curves, unit_col)
    hidden = _suppressed(curves, "survival") | curves["survival"].isna().to_numpy()
    units = c.units(codes)
    drawn = [u for u in units if (~hidden[(codes == u).to_numpy()]).any()]
    few = [c.unit(u) for u in units if u not in drawn]
    if not drawn:
        too_few = c.text("chart.time_in_programme.too_few", units=", ".join(few))
        return c.nothing(title, too_few if few else None)
    colours = subproject_colours(units, registry)
    markers = unit_markers(units)
    for code in drawn:
        part = curves[(codes == code).to_numpy() & ~hidden].sort_values("weeks")
        label = c.unit(code)
        if np.nanmin(_values(part, "survival")) >= 1.0:
            label = f"{label} ({c.text('common.no_exits')})"
        weeks, surv = _values(part, "weeks"), _values(part, "survival")
        c.ax.step(
            weeks,
            surv,
            where="post",
            color=colours[code],
            label=label,
            marker=markers[code],
            markevery=max(1, len(part) // 5),
            ms=7,
        )
        if {"ci_low", "ci_high"} <= set(part.columns):
            c.ax.fill_between(
                weeks,
                _values(part, "ci_low"),
                _values(part, "ci_high"),
                step="post",
                color=colours[code],
                alpha=0.12,
                lw=0,
            )
    c.ax.set_ylim(0, 1.02)
    c.ax.set_xlim(left=0)
    c.ax.yaxis.set_major_formatter(share_formatter(lang))
    c.ax.xaxis.set_major_formatter(number_formatter(lang))
    c.ax.set_xlabel(c.text("axis.weeks"))
    c.ax.set_ylabel(c.text("axis.still_in_programme"))
    c.ax.grid(axis="y")
    marked = False
    if at_risk is not None and len(at_risk):
        marked = _at_risk_rows(c, at_risk, unit_col, drawn, colours)
    handles, labels = c.ax.get_legend_handles_labels()
    mark = c.text("chart.time_in_programme.too_few_unit")
    handles += [Line2D([], [], linestyle="none") for _ in few]
    labels += [f"{name} ({mark})" for name in few]
    c.legend(handles, labels, hidden=marked)
    note = c.text("chart.time_in_programme.note", threshold=c.threshold)
    return c.finish(title, note)


def _at_risk_rows(c, at_risk: pd.DataFrame, unit_col: str, drawn, colours) -> bool:
    """Write the number at risk under the x axis; True if a value is hidden."""
    weeks = np.unique(_values(at_risk, "weeks"))
    c.ax.set_xticks(weeks)
    c.ax.set_xlim(0, max(c.ax.get_xlim()[1], weeks.max() * 1.02))
    codes = _codes(at_risk, unit_col)
    marks = c.marks(at_risk, "at_risk")
    below_axis = c.ax.get_xaxis_transform()  # x in weeks, y in axes fraction

    def write(row: int, x, text: str, at_week: bool = True, **style) -> None:
        # row 0 is the axis label's line, the units' rows follow under it
        c.ax.annotate(
            text,
            xy=(x, 0),
            xycoords=below_axis if at_week else "axes fraction",
            xytext=(0 if at_week else -20, -(2 * TEXT_SIZE + 8) - 13 * row),
            textcoords="offset points",
            va="top",
            ha="center" if at_week else "right",
            fontsize=TEXT_SIZE - 3,
            gid="rehab-at-risk",
            **style,
        )

    write(0, 0, c.text("chart.time_in_programme.at_risk"), False, weight="bold")
    for row, code in enumerate(drawn, start=1):
        mine = (codes == code).to_numpy()
        write(row, 0, c.unit(code), False, color=colours[code])
        for week, value, mark in zip(
            _values(at_risk[mine], "weeks"),
            _values(at_risk[mine], "at_risk"),
            marks[mine],
            strict=True,
        ):
            write(row, week, mark or catalogue.format_int(value, c.lang))
    return bool((marks[np.isin(codes, drawn)] != "").any())


def step_change_chart(
    steps: pd.DataFrame,
    *,
    unit: str | None = None,
    unit_col: str = "subproject",
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    registry: object = None,
    ax: Axes | None = None,
) -> Axes:
    """Diverging bars of the change in steps: back to the left, forward to the right.

    Args:
        steps: ``[unit_col], change, count``
            (:func:`rehab_analytics.measures.change.step_change_distribution`).
        unit: Unit code to draw when the table has several units.
        unit_col, lang, period, n, source, registry, ax: As in
            :func:`time_in_programme_chart`.

    Example:
        >>> step_change_chart  # doctest: +ELLIPSIS
        <function step_change_chart at ...>
    """
    c = _start(steps, "step change", lang, period, n, source, registry, ax)
    title = c.title("chart.step_change", unit)
    df = _select_unit(steps, unit, unit_col)
    change, counts, hidden = (
        _values(df, "change"),
        _values(df, "count"),
        _suppressed(df, "count"),
    )
    if n is None and len(df):
        c.n = float(np.nansum(counts[~hidden]))
    if not len(df) or not ((counts > 0) & ~hidden).any():
        return c.nothing(title)
    colour = np.where(change < 0, _DECLINE, np.where(change > 0, _IMPROVE, _NONE))
    shown = ~hidden
    c.ax.bar(change[shown], counts[shown], color=colour[shown], width=0.75)
    for x, k in zip(change[shown], counts[shown], strict=True):
        if k > 0:
            c.ax.text(
                x,
                k,
                catalogue.format_int(k, lang),
                ha="center",
                va="bottom",
                fontsize=TEXT_SIZE - 2,
            )
    marks = c.marks(df, "count")
    if hidden.any():
        _hatched_bar(
            c.ax, change[hidden], c.threshold, 0.75, c.threshold, lang, marks[hidden]
        )
    ticks = [catalogue.format_int(v, lang) for v in change]
    c.ax.set_xticks(
        change, [f"+{t}" if v > 0 else t for v, t in zip(change, ticks, strict=True)]
    )
    c.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    c.ax.yaxis.set_major_formatter(number_formatter(lang))
    c.ax.set_xlabel(c.text("axis.steps"))
    c.ax.set_ylabel(c.text("axis.participants"))
    c.ax.grid(axis="y")
    kinds = (("decline", _DECLINE), ("none", _NONE), ("improve", _IMPROVE))
    handles = [
        Patch(color=col, label=catalogue.label("step_direction", key, lang))
        for key, col in kinds
    ]
    c.legend(handles, **_swatches(marks))
    return c.finish(title, c.text("chart.step_change.note"))


def _sex_rows(df: pd.DataFrame, count_col: str):
    df = df[df["sex"].astype("string").isin(_SEXES).to_numpy()]
    return df, _values(df, count_col), _suppressed(df, count_col)


def age_sex_chart(
    profile: pd.DataFrame,
    *,
    unit: str | None = None,
    unit_col: str = "subproject",
    age_col: str = "age_group",
    count_col: str = "count",
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    registry: object = None,
    ax: Axes | None = None,
) -> Axes:
    """Population pyramid: women to the left, men to the right, by age group.

    Args:
        profile: ``[unit_col], <age_col>, sex, <count_col>`` (suppressed with
            ``sex_col="sex"``). Unknown sex and age are left out.
        unit: Unit code to draw when the table has several units.
        unit_col, age_col, count_col: Column names.
        lang, period, n, source, registry, ax: As in :func:`time_in_programme_chart`.

    Example:
        >>> age_sex_chart  # doctest: +ELLIPSIS
        <function age_sex_chart at ...>
    """
    c = _start(profile, "age and sex profile", lang, period, n, source, registry, ax)
    title = c.title("chart.age_sex", unit)
    df = _select_unit(profile, unit, unit_col)
    ages = [a for a in _ordered_categories(df[age_col]) if a != "unknown"]
    df = df[df[age_col].astype("string").isin(ages).to_numpy()]
    df, counts, hidden = _sex_rows(df, count_col)
    if n is None and len(df):
        c.n = float(np.nansum(counts[~hidden]))
    if not len(df) or not ((counts > 0) & ~hidden).any():
        return c.nothing(title)
    y = (
        df[age_col]
        .astype("string")
        .map({a: i for i, a in enumerate(ages)})
        .to_numpy(dtype=float)
    )
    top = max(float(np.nanmax(np.where(hidden, 0, counts))), c.threshold) * 1.25
    for sex, direction in zip(_SEXES, (-1, 1), strict=True):
        mask = (df["sex"].astype("string") == sex).to_numpy()
        vis = mask & ~hidden
        c.ax.barh(
            y[vis],
            direction * counts[vis],
            color=SEX_COLOURS[sex],
            height=0.75,
            label=catalogue.label("sex", sex, lang),
        )
        for yy, k in zip(y[vis], counts[vis], strict=True):
            if k > 0:
                c.ax.text(
                    direction * k,
                    yy,
                    f" {catalogue.format_int(k, lang)} ",
                    ha="right" if direction < 0 else "left",
                    va="center",
                    fontsize=TEXT_SIZE - 2,
                )
        if (mask & hidden).any():
            _hatched_barh(
                c.ax,
                y[mask & hidden],
                0,
                direction * c.threshold,
                0.75,
                c.threshold,
                lang,
                c.marks(df, count_col)[mask & hidden],
            )
    c.ax.axvline(0, color="#444444", lw=1)
    c.ax.set_xlim(-top, top)
    c.ax.set_yticks(
        range(len(ages)), [catalogue.label("age_group", a, lang) for a in ages]
    )
    c.ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))
    c.ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _p: catalogue.format_int(abs(v), lang))
    )
    c.ax.set_xlabel(c.text("axis.participants"))
    c.legend(**_swatches(c.marks(df, count_col)))
    return c.finish(title)


def esf_by_sex_chart(
    esf: pd.DataFrame,
    *,
    dimension: str = "age_band_esf",
    unit: str | None = None,
    unit_col: str = "subproject",
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    registry: object = None,
    ax: Axes | None = None,
) -> Axes:
    """ESF indicator counts by sex: a pair of bars (women, men) per category.

    Args:
        esf: ``[unit_col], sex, category, count, total``
            (:func:`rehab_analytics.measures.esf_breakdown`, suppressed).
        dimension: The breakdown (``age_band_esf``, ``education`` or
            ``occupation_before``): names the label field and the title.
        unit, unit_col, lang, period, n, source, registry, ax: As in
            :func:`age_sex_chart`.

    Example:
        >>> esf_by_sex_chart  # doctest: +ELLIPSIS
        <function esf_by_sex_chart at ...>
    """
    c = _start(esf, "ESF indicators", lang, period, n, source, registry, ax)
    title = c.text(
        "chart.esf_by_sex.title", dimension=c.text(f"chart.esf_by_sex.{dimension}")
    )
    df, counts, hidden = _sex_rows(_select_unit(esf, unit, unit_col), "count")
    if n is None and "total" in df and len(df):
        firsts = df.drop_duplicates("sex")
        c.n = float(np.nansum(_values(firsts, "total")[~_suppressed(firsts, "total")]))
    if not len(df) or not ((counts > 0) & ~hidden).any():
        return c.nothing(title)
    cats = _ordered_categories(df["category"])
    ypos = {k: len(cats) - 1 - i for i, k in enumerate(cats)}
    y = df["category"].astype("string").map(ypos).to_numpy(dtype=float)
    height = 0.38
    for sex, offset in zip(_SEXES, (height / 2, -height / 2), strict=True):
        mask = (df["sex"].astype("string") == sex).to_numpy()
        vis = mask & ~hidden
        c.ax.barh(
            y[vis] + offset,
            counts[vis],
            height=height,
            color=SEX_COLOURS[sex],
            label=catalogue.label("sex", sex, lang),
        )
        for yy, k in zip(y[vis] + offset, counts[vis], strict=True):
            c.ax.text(
                k,
                yy,
                f" {catalogue.format_int(k, lang)}",
                va="center",
                fontsize=TEXT_SIZE - 3,
            )
        if (mask & hidden).any():
            _hatched_barh(
                c.ax,
                y[mask & hidden] + offset,
                0,
                c.threshold,
                height,
                c.threshold,
                lang,
                c.marks(df, "count")[mask & hidden],
            )
    field = "occupation" if dimension == "occupation_before" else dimension
    c.ax.set_yticks(
        [ypos[k] for k in cats], [catalogue.label(field, k, lang) for k in cats]
    )
    top = max(float(np.nanmax(np.where(hidden, 0, counts))), c.threshold)
    c.ax.set_xlim(0, top * 1.2)
    c.ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))
    c.ax.xaxis.set_major_formatter(number_formatter(lang))
    c.ax.set_xlabel(c.text("axis.participants"))
    c.ax.tick_params(axis="y", length=0)
    c.legend(**_swatches(c.marks(df, "count")))
    return c.finish(title, c.text("chart.esf_by_sex.note"))
