"""Trend charts: an outcome share per period with its interval, and the XmR chart.

Same conventions as :mod:`rehab_analytics.plots`, which re-exports these.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from rehab_analytics import catalogue

# The rule and the limits come from measures, so report and chart agree.
from rehab_analytics.measures.time import SPC_MIN_POINTS, xmr_limits
from rehab_analytics.plots.compare import visible_n
from rehab_analytics.plots.furniture import _start, _suppressed, _values
from rehab_analytics.plots.style import (
    TEXT_SIZE,
    TOTAL_COLOUR,
    share_formatter,
)

__all__ = ["SPC_MIN_POINTS", "trend_chart", "spc_chart", "xmr_limits"]

_SIGNAL_COLOUR = "#D55E00"
_TREND_COLOUR = "#0072B2"


def _period_ticks(c, trend: pd.DataFrame) -> None:
    """Period labels under the points; every k-th when there are many."""
    labels = [str(p) for p in trend["period"]]
    every = max(1, int(np.ceil(len(labels) / 12)))
    x = np.arange(len(labels))[::every]
    rotate = len(x) > 6
    c.ax.set_xticks(
        x,
        labels[::every],
        rotation=45 if rotate else 0,
        ha="right" if rotate else "center",
    )
    tertials = all(re.fullmatch(r"\d{4}T\d", p) for p in labels)
    c.ax.set_xlabel(c.text("axis.period" if tertials else "axis.period_generic"))


def trend_chart(
    trend: pd.DataFrame,
    *,
    outcome: str,
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Share per period (tertial) with its 95 % Wilson band; hidden periods marked.

    Args:
        trend: ``period, n, events, share, ci_low, ci_high`` in time order.
        outcome: Outcome code (catalogue ``labels.outcome``).
        lang, period, n, source, ax: As in :func:`enrolment_chart`.

    Example:
        >>> trend_chart  # doctest: +ELLIPSIS
        <function trend_chart at ...>
    """
    c = _start(trend, "trend", lang, period, n, source, ax=ax)
    title = c.text(
        "chart.trend.title", outcome=catalogue.label("outcome", outcome, lang)
    )
    hidden = _suppressed(trend, "share") | trend["share"].isna().to_numpy()
    c.n = visible_n(trend, "period") if n is None else n
    if not len(trend) or hidden.all():
        return c.nothing(title)
    x = np.arange(len(trend))
    share, low, high = (
        np.where(hidden, np.nan, _values(trend, k))
        for k in ("share", "ci_low", "ci_high")
    )
    c.ax.fill_between(
        x,
        low,
        high,
        color=_TREND_COLOUR,
        alpha=0.2,
        lw=0,
        label=c.text("common.interval"),
    )
    c.ax.plot(
        x, share, color=_TREND_COLOUR, marker="o", ms=8, label=c.text("axis.share")
    )
    for xx in x[hidden]:
        c.ax.text(
            xx,
            0.03,
            c.mark,
            ha="center",
            fontsize=TEXT_SIZE - 2,
            gid="rehab-suppressed",
        )
    _period_ticks(c, trend)
    c.ax.set_ylim(0, 1)
    c.ax.yaxis.set_major_formatter(share_formatter(lang))
    c.ax.set_ylabel(c.text("axis.share"))
    c.ax.grid(axis="y")
    c.legend(hidden=bool(hidden.any()))
    return c.finish(title, c.text("common.wilson_note"))


def spc_chart(
    trend: pd.DataFrame,
    *,
    outcome: str,
    min_points: int = SPC_MIN_POINTS,
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """XmR control chart of the share per period, drawn only with ≥ ``min_points``.

    With fewer shown points the axes carry a note saying so (use
    :func:`trend_chart` for the trend itself).

    Args:
        trend: ``period, n, events, share`` in time order.
        outcome: Outcome code (catalogue ``labels.outcome``).
        min_points: Fewest shown points for control limits (METHODS: 12).
        lang, period, n, source, ax: As in :func:`enrolment_chart`.

    Example:
        >>> spc_chart  # doctest: +ELLIPSIS
        <function spc_chart at ...>
    """
    c = _start(trend, "SPC", lang, period, n, source, ax=ax)
    title = c.text("chart.spc.title", outcome=catalogue.label("outcome", outcome, lang))
    hidden = _suppressed(trend, "share") | trend["share"].isna().to_numpy()
    c.n = visible_n(trend, "period") if n is None else n
    points = int((~hidden).sum())
    if points < min_points:
        return c.nothing(
            title, c.text("chart.spc.too_few", minimum=min_points, points=points)
        )
    x = np.arange(len(trend))[~hidden]
    xmr = xmr_limits(_values(trend, "share")[~hidden])
    c.ax.plot(
        x,
        xmr["value"],
        color=_TREND_COLOUR,
        marker="o",
        ms=7,
        label=c.text("axis.share"),
    )
    c.ax.axhline(
        xmr["mean"].iloc[0], color=TOTAL_COLOUR, lw=1.5, label=c.text("chart.spc.mean")
    )
    label = c.text("chart.spc.limits")
    for col in ("ucl", "lcl"):
        c.ax.axhline(
            float(np.clip(xmr[col].iloc[0], 0, 1)),
            color="#555555",
            ls="--",
            lw=1.5,
            label=label,
        )
        label = None
    signal = xmr["signal"].to_numpy()
    if signal.any():
        c.ax.plot(
            x[signal],
            xmr["value"][signal],
            ls="",
            marker="o",
            ms=14,
            mfc="none",
            mec=_SIGNAL_COLOUR,
            mew=2.5,
            label=c.text("chart.spc.signal"),
        )
    _period_ticks(c, trend)
    c.ax.set_ylim(0, 1)
    c.ax.yaxis.set_major_formatter(share_formatter(lang))
    c.ax.set_ylabel(c.text("axis.share"))
    c.legend(hidden=bool(hidden.any()))
    return c.finish(title)
