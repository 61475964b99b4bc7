"""Trend charts: an outcome share per period with its interval, and the XmR chart.

Same conventions as :mod:`rehab_analytics.plots`, which re-exports these.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from rehab_analytics import catalogue

# METHODS: XmR needs 12–13 points per unit (tertials 2015–2019 give ~11); the
# rule and the factor are shared with measures so report and chart agree.
from rehab_analytics.measures.time import _XMR_FACTOR, SPC_MIN_POINTS
from rehab_analytics.plots.compare import visible_n
from rehab_analytics.plots.style import (
    TEXT_SIZE,
    TOTAL_COLOUR,
    _start,
    _suppressed,
    _values,
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
    c = _start(trend, "trend", ax=ax, lang=lang, period=period, n=n, source=source)
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
            c.less_than,
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


def xmr_limits(values) -> pd.DataFrame:
    """XmR (individuals) chart: centre line, limits and signals for a series.

    Limits are mean ± 2.66 × mean moving range. Signals: a point outside the
    limits; 7 points in a row on one side of the mean; 7 points in a row rising
    or falling; 2 of 3 points beyond two thirds of the way to a limit (same side).

    Example:
        >>> out = xmr_limits([5, 6, 5, 7, 5, 6, 5, 7, 6, 5, 6, 20])
        >>> round(float(out["ucl"].iloc[0]), 2), out.index[out["signal"]].tolist()
        (13.45, [11])
    """
    x = np.asarray(values, dtype=float)
    mean = float(np.nanmean(x)) if len(x) else np.nan
    mr_bar = float(np.nanmean(np.abs(np.diff(x)))) if len(x) > 1 else np.nan
    ucl, lcl = mean + _XMR_FACTOR * mr_bar, mean - _XMR_FACTOR * mr_bar
    outside = (x > ucl) | (x < lcl)
    run_side = _runs(np.sign(x - mean), 7)
    # 7 points rising (or falling) are 6 equal steps; flag the point before them too
    run_trend = _runs(np.sign(np.diff(x, prepend=np.nan)), 6)
    run_trend |= np.r_[run_trend[1:], False]
    two_of_three = np.zeros(len(x), dtype=bool)
    for beyond in (x > mean + 2 / 3 * (ucl - mean), x < mean - 2 / 3 * (mean - lcl)):
        hits = beyond.astype(int)
        window = np.convolve(hits, np.ones(3, dtype=int))[: len(x)]
        two_of_three |= (window >= 2) & beyond
    signal = outside | run_side | run_trend | two_of_three
    return pd.DataFrame(
        {"value": x, "mean": mean, "ucl": ucl, "lcl": lcl, "signal": signal}
    )


def _runs(sign: np.ndarray, length: int) -> np.ndarray:
    """True for points in a run of at least ``length`` equal non-zero signs."""
    out = np.zeros(len(sign), dtype=bool)
    valid = ~np.isnan(sign) & (sign != 0)
    start = 0
    for i in range(1, len(sign) + 1):
        if i == len(sign) or not valid[i] or sign[i] != sign[start]:
            if valid[start] and i - start >= length:
                out[start:i] = True
            start = i
    return out


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
    c = _start(trend, "SPC", ax=ax, lang=lang, period=period, n=n, source=source)
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
