"""Volume charts: enrolment against plan over time, and costs per participant."""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from rehab_analytics import catalogue
from rehab_analytics.plots.compare import visible_n
from rehab_analytics.plots.furniture import _start, _suppressed, _values
from rehab_analytics.plots.style import (
    SUPPRESSED_COLOUR,
    TEXT_SIZE,
    TOTAL,
    number_formatter,
    subproject_colours,
    unit_markers,
)

__all__ = ["enrolment_chart", "cost_chart"]


# ---------------------------------------------------------------- enrolment


def enrolment_chart(
    enrolment: pd.DataFrame,
    *,
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    registry: object = None,
    ax: Axes | None = None,
) -> Axes:
    """Cumulative enrolment per subproject and for the project, against the plan.

    Args:
        enrolment: ``subproject, date, cumulative_enrolled, cumulative_planned``
            (suppressed). Rows with ``subproject == "total"`` are the project
            line; without them the total is summed on dates where no subproject
            is hidden.
        lang: ``"sv"`` or ``"en"``.
        period: ``(start, end)`` for the subtitle.
        n: Participants for the subtitle (default: the last project total).
        source: Source text (default: the catalogue's).
        registry: Organisation registry (names and colours of added units).
        ax: Axes to draw on (default: a new full-width figure).

    Example:
        >>> from rehab_analytics import disclosure
        >>> t = disclosure.suppress(pd.DataFrame({"subproject": ["dino"] * 2,
        ...     "date": pd.to_datetime(["2016-01-01", "2017-01-01"]),
        ...     "cumulative_enrolled": [10, 30], "cumulative_planned": [12, 40]}),
        ...     count_cols=["cumulative_enrolled"], denominator_col=None)
        >>> enrolment_chart(t, lang="en").get_ylabel()
        'Number of participants'
    """
    c = _start(enrolment, "enrolment", lang, period, n, source, registry, ax)
    title = c.text("chart.enrolment.title")
    df = enrolment.assign(
        date=pd.to_datetime(enrolment["date"]),
        subproject=enrolment["subproject"].astype("string").fillna(TOTAL),
        _value=_values(enrolment, "cumulative_enrolled"),
        _hidden=_suppressed(enrolment, "cumulative_enrolled"),
        _plan=_values(enrolment, "cumulative_planned"),
    ).sort_values("date")
    if len(df) and TOTAL not in set(df["subproject"]):
        df = pd.concat([df, _enrolment_total(df)], ignore_index=True)
    if n is None:
        last = df.loc[(df["subproject"] == TOTAL) & ~df["_hidden"], "_value"]
        c.n = int(last.iloc[-1]) if len(last) else None
    if not len(df) or df["_hidden"].all():
        return c.nothing(title)
    units = c.units(df["subproject"])
    colours = subproject_colours(units, registry)
    markers = unit_markers(units)
    for code in units:
        part = df[df["subproject"] == code]
        width = 3.4 if code == TOTAL else 2.0
        c.ax.plot(
            part["date"],
            part["_value"].where(~part["_hidden"]),
            color=colours[code],
            lw=width,
            marker=None if code == TOTAL else markers[code],
            markevery=max(1, len(part) // 6),
            label=c.unit(code),
        )
        if part["_plan"].notna().any():
            c.ax.plot(
                part["date"],
                part["_plan"],
                ls="--",
                lw=width * 0.6,
                color=colours[code],
            )
    hidden_dates = df.loc[df["_hidden"], "date"].drop_duplicates()
    if len(hidden_dates):
        c.ax.bar(
            hidden_dates,
            c.threshold,
            width=20,
            facecolor="white",
            edgecolor=SUPPRESSED_COLOUR,
            hatch="///",
        )
    handles, labels = c.ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="#555555", ls="--", lw=1.5))
    labels.append(c.text("chart.enrolment.planned"))
    c.legend(handles, labels, hidden=bool(len(hidden_dates)))
    c.ax.xaxis.set_major_locator(mdates.YearLocator())
    c.ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    c.ax.yaxis.set_major_formatter(number_formatter(lang))
    c.ax.set_ylim(bottom=0)
    c.ax.set_xlabel(c.text("axis.year"))
    c.ax.set_ylabel(c.text("axis.participants"))
    c.ax.grid(axis="y")
    return c.finish(title, c.text("chart.enrolment.note"))


def _enrolment_total(df: pd.DataFrame) -> pd.DataFrame:
    """Project line: sum of the subprojects' last values, unknown where one is hidden."""
    wide = df.pivot_table(
        index="date", columns="subproject", values="_value", aggfunc="last"
    )
    plan = df.pivot_table(
        index="date", columns="subproject", values="_plan", aggfunc="last"
    )
    hidden = df.pivot_table(
        index="date", columns="subproject", values="_hidden", aggfunc="max"
    )
    hidden = hidden.astype(float).ffill().fillna(0).astype(bool).any(axis=1)
    value = wide.reindex(hidden.index).ffill().fillna(0).sum(axis=1)
    planned = plan.reindex(hidden.index).ffill().sum(axis=1, min_count=1)
    return pd.DataFrame(
        {
            "subproject": TOTAL,
            "date": hidden.index,
            "_value": value.where(~hidden).to_numpy(),
            "_hidden": hidden.to_numpy(),
            "_plan": planned.to_numpy(),
        }
    )


# ---------------------------------------------------------------- costs


def cost_chart(
    costs: pd.DataFrame,
    *,
    unit: str = "subproject",
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    registry: object = None,
    ax: Axes | None = None,
) -> Axes:
    """Cost per participant and per participant in work or studies, per unit.

    Args:
        costs: ``<unit>, cost_per_participant, cost_per_work_or_study`` in
            kronor (:func:`rehab_analytics.measures.costs`, suppressed).
        unit, lang, period, n, source, registry, ax: As in :func:`enrolment_chart`.

    Example:
        >>> cost_chart  # doctest: +ELLIPSIS
        <function cost_chart at ...>
    """
    c = _start(costs, "costs", lang, period, n, source, registry, ax)
    title = c.text("chart.costs.title")
    cols = ("cost_per_participant", "cost_per_work_or_study")
    codes = (
        costs[unit].astype("string").fillna(TOTAL)
        if unit in costs
        else pd.Series(TOTAL, index=costs.index)
    )
    hidden = {k: _suppressed(costs, k) | costs[k].isna().to_numpy() for k in cols}
    if n is None and "participants" in costs:
        c.n = visible_n(costs, unit, "participants")
    if not len(costs) or all(h.all() for h in hidden.values()):
        return c.nothing(title)
    units = c.units(codes)
    colours = subproject_colours(units, registry)
    ypos = {code: len(units) - 1 - i for i, code in enumerate(units)}
    y = codes.map(ypos).to_numpy(dtype=float)
    top = max(
        np.nanmax(np.where(hidden[k], np.nan, _values(costs, k)))
        for k in cols
        if not hidden[k].all()
    )
    height = 0.38
    for col, offset, alpha in zip(
        cols, (height / 2, -height / 2), (1.0, 0.45), strict=True
    ):
        marks = np.where(_suppressed(costs, col), c.mark, "–")
        rows = zip(
            y + offset, codes, _values(costs, col), hidden[col], marks, strict=True
        )
        for yy, code, v, hid, mark in rows:
            if hid:
                c.ax.text(
                    top * 0.01,
                    yy,
                    mark,
                    va="center",
                    fontsize=TEXT_SIZE - 2,
                    gid="rehab-suppressed",
                )
                continue
            c.ax.barh(
                yy,
                v,
                height=height,
                color=colours[code],
                alpha=alpha,
                edgecolor=colours[code],
            )
            c.ax.text(
                v,
                yy,
                f" {catalogue.format_sek(v, lang)}",
                va="center",
                fontsize=TEXT_SIZE - 2,
            )
    c.ax.set_yticks(list(ypos.values()), [c.unit(code) for code in ypos])
    c.ax.set_xlim(0, top * 1.35)
    c.ax.xaxis.set_major_locator(MaxNLocator(5))
    c.ax.xaxis.set_major_formatter(number_formatter(lang))
    c.ax.set_xlabel(c.text("axis.cost_sek"))
    c.ax.tick_params(axis="y", length=0)
    handles = [
        Patch(facecolor="#555555", label=c.text("chart.costs.per_participant")),
        Patch(
            facecolor="#555555",
            alpha=0.45,
            label=c.text("chart.costs.per_work_or_study"),
        ),
    ]
    c.legend(handles, hidden=any(_suppressed(costs, k).any() for k in cols))
    return c.finish(title)
