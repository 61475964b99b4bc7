"""Fair-comparison charts: outcome shares (forest), funnel plot, case-mix O/E.

Same conventions as :mod:`rehab_analytics.plots`, which re-exports these.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from rehab_analytics import catalogue, stats
from rehab_analytics.plots.furniture import (
    _Chart,
    _codes,
    _start,
    _suppressed,
    _values,
)
from rehab_analytics.plots.style import (
    TEXT_SIZE,
    TOTAL,
    TOTAL_COLOUR,
    number_formatter,
    share_formatter,
    subproject_colours,
    unit_markers,
)

__all__ = ["outcome_shares_chart", "funnel_chart", "casemix_chart"]


def _outcome(outcome: str, lang: str) -> str:
    return catalogue.label("outcome", outcome, lang)


def _units_only(df: pd.DataFrame, unit: str) -> pd.DataFrame:
    return df[(_codes(df, unit) != TOTAL).to_numpy()]


def _total_row(df: pd.DataFrame, unit: str) -> pd.DataFrame:
    return df[(_codes(df, unit) == TOTAL).to_numpy()] if unit in df.columns else df[:0]


def pooled_share(
    df: pd.DataFrame, unit: str = "subproject"
) -> tuple[float, float] | None:
    """(events, n) of the total row, else summed over units with both visible."""
    total = _total_row(df, unit)
    if len(total) and not (_suppressed(total, "events") | _suppressed(total, "n"))[0]:
        return float(_values(total, "events")[0]), float(_values(total, "n")[0])
    units = _units_only(df, unit)
    ok = ~(_suppressed(units, "events") | _suppressed(units, "n"))
    if not ok.any():
        return None
    return float(_values(units, "events")[ok].sum()), float(
        _values(units, "n")[ok].sum()
    )


def visible_n(
    df: pd.DataFrame, unit: str = "subproject", col: str = "n"
) -> float | None:
    """The total row's ``col`` if shown, else the sum over units where shown."""
    if col not in df.columns:
        return None
    total = _total_row(df, unit)
    if len(total) and not _suppressed(total, col)[0]:
        return float(_values(total, col)[0])
    units = _units_only(df, unit)
    shown = _values(units, col)[~_suppressed(units, col)]
    return float(np.nansum(shown)) if len(shown) else None


def _forest(c: _Chart, df: pd.DataFrame, unit: str, value: str, hidden, fmt) -> float:
    """Dots with interval lines, one row per unit in registry order; returns max x."""
    codes = _codes(df, unit)
    units = c.units(codes)
    colours = subproject_colours(units, c.registry)
    markers = unit_markers(units)
    ypos = {code: len(units) - 1 - i for i, code in enumerate(units)}
    n_hidden = _suppressed(df, "n") if "n" in df else np.zeros(len(df), bool)
    n_values = _values(df, "n") if "n" in df else np.full(len(df), np.nan)
    low, high, val = (_values(df, col) for col in ("ci_low", "ci_high", value))
    ticks = {}
    rows = zip(codes, hidden, n_hidden, n_values, low, high, val, strict=True)
    for code, hid, nh, size, lo, hi, v in rows:
        y = ypos[code]
        label = c.unit(code)
        if "n" in df:
            size_text = c.mark if nh else catalogue.format_int(size, c.lang)
            label = f"{label} ({c.text('common.n', n=size_text)})"
        ticks[y] = label
        if hid:
            c.ax.text(
                0.01,
                y,
                f"{c.mark}: {c.text('common.not_shown')}",
                transform=c.ax.get_yaxis_transform(),
                va="center",
                fontsize=TEXT_SIZE - 1,
                color="#444444",
                gid="rehab-suppressed",
            )
            continue
        colour = colours[code]
        c.ax.plot([lo, hi], [y, y], color=colour, lw=2.5, solid_capstyle="round")
        c.ax.plot(v, y, marker=markers[code], color=colour, ms=11, mec="white", ls="")
        c.ax.text(hi, y, f"  {fmt(v)}", va="center", fontsize=TEXT_SIZE - 1)
    c.ax.set_yticks(sorted(ticks), [ticks[y] for y in sorted(ticks)])
    c.ax.set_ylim(-0.7, len(units) - 0.3)
    c.ax.tick_params(axis="y", length=0)
    c.ax.spines["left"].set_visible(False)
    c.ax.grid(axis="x")
    shown_high = high[~np.asarray(hidden)]
    return float(np.nanmax(shown_high)) if len(shown_high) else 1.0


def _label_points(c: _Chart, xs, ys, texts, gap: float = 0.06) -> None:
    """Label points to their right, nudging labels apart vertically (no overlap)."""
    lo, hi = c.ax.get_ylim()
    left, right = c.ax.get_xlim()
    dx = 0.015 * (right - left)
    frac = (np.asarray(ys, dtype=float) - lo) / (hi - lo)
    order = np.argsort(frac)
    placed = frac.copy()
    for prev, cur in zip(order[:-1], order[1:], strict=True):
        placed[cur] = max(placed[cur], placed[prev] + gap)
    placed -= max(0.0, placed.max() - 0.97)
    for x, y, p, text in zip(xs, ys, placed, texts, strict=True):
        c.ax.annotate(
            text,
            (x, y),
            xytext=(x + dx, lo + p * (hi - lo)),
            textcoords="data",
            fontsize=TEXT_SIZE - 1,
            va="center",
            ha="left",
            arrowprops={"arrowstyle": "-", "color": "#999999", "lw": 0.8},
        )


def _reference(c: _Chart, x: float, text: str) -> None:
    c.ax.axvline(x, color=TOTAL_COLOUR, ls="--", lw=1.5, zorder=1)
    c.ax.text(
        x,
        1.0,
        f" {text}",
        transform=c.ax.get_xaxis_transform(),
        va="bottom",
        fontsize=TEXT_SIZE - 2,
        color=TOTAL_COLOUR,
    )


def outcome_shares_chart(
    shares: pd.DataFrame,
    *,
    outcome: str,
    unit: str = "subproject",
    average: float | None = None,
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    registry: object = None,
    ax: Axes | None = None,
) -> Axes:
    """Share with the outcome per unit, with Wilson intervals and the project average.

    Args:
        shares: ``<unit>, n, events, share, ci_low, ci_high``
            (:func:`rehab_analytics.measures.outcome_shares`, suppressed). A
            ``total`` row, if present, gives the average and is not drawn.
        outcome: Outcome code (catalogue ``labels.outcome``).
        unit: Column with the unit codes.
        average: Reference share (default: the total row, else pooled over the
            units whose counts are shown).
        lang: ``"sv"`` or ``"en"``.
        period: ``(start, end)`` for the subtitle.
        n: Participants for the subtitle (default: from the table).
        source: Source text (default: the catalogue's).
        registry: Organisation registry (names and colours of added units).
        ax: Axes to draw on (default: a new full-width figure).

    Example:
        >>> from rehab_analytics import disclosure
        >>> t = disclosure.suppress(pd.DataFrame({"subproject": ["dino", "aktiv"],
        ...     "n": [40, 3], "events": [20, 1], "share": [0.5, 1 / 3],
        ...     "ci_low": [0.35, 0.06], "ci_high": [0.65, 0.79]}))
        >>> ax = outcome_shares_chart(t, outcome="work_or_study_after", lang="en")
        >>> ax.get_xlabel()
        'Share of participants'
    """
    c = _start(shares, "outcome shares", lang, period, n, source, registry, ax)
    title = c.text("chart.outcome_shares.title", outcome=_outcome(outcome, lang))
    units = _units_only(shares, unit)
    hidden = _suppressed(units, "share") | units["share"].isna().to_numpy()
    c.n = visible_n(shares, unit) if n is None else n
    if not len(units) or hidden.all():
        return c.nothing(title)
    _forest(c, units, unit, "share", hidden, lambda v: catalogue.format_share(v, lang))
    if average is None:
        pooled = pooled_share(shares, unit)
        average = pooled[0] / pooled[1] if pooled and pooled[1] > 0 else None
    if average is not None:
        label = f"{c.text('common.project_average')} {catalogue.format_share(average, lang)}"
        _reference(c, average, label)
    c.ax.set_xlim(0, 1.0)
    c.ax.xaxis.set_major_formatter(share_formatter(lang))
    c.ax.set_xlabel(c.text("axis.share_of_participants"))
    return c.finish(title, c.text("chart.outcome_shares.note"))


def funnel_chart(
    shares: pd.DataFrame,
    *,
    outcome: str,
    unit: str = "subproject",
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    registry: object = None,
    ax: Axes | None = None,
) -> Axes:
    """Funnel plot: share against n with 95 % and 99.8 % limits, points labelled.

    Limits are :func:`rehab_analytics.stats.funnel_limits` around the pooled
    share (the total row, else the units whose counts are shown). Units whose
    share is hidden are named in the note instead of drawn.

    Args:
        shares: ``<unit>, n, events, share`` (suppressed).
        outcome, unit, lang, period, n, source, registry, ax: As in
            :func:`outcome_shares_chart`.

    Example:
        >>> funnel_chart  # doctest: +ELLIPSIS
        <function funnel_chart at ...>
    """
    c = _start(shares, "funnel", lang, period, n, source, registry, ax)
    title = c.text("chart.funnel.title", outcome=_outcome(outcome, lang))
    units = _units_only(shares, unit)
    hidden = (
        _suppressed(units, "share")
        | _suppressed(units, "n")
        | units["share"].isna().to_numpy()
    )
    pooled = pooled_share(shares, unit)
    c.n = visible_n(shares, unit) if n is None else n
    if not len(units) or hidden.all() or pooled is None or not pooled[1] > 0:
        return c.nothing(title)
    shown = units[~hidden]
    size = _values(shown, "n")
    grid = np.linspace(max(1.0, size.min() * 0.5), size.max() * 1.15, 200)
    limits = stats.funnel_limits(pooled[0], pooled[1], grid)
    average = c.text("common.project_average")
    c.ax.plot(grid, limits["baseline"], color=TOTAL_COLOUR, lw=1.5, label=average)
    for level, ls in (("95", "--"), ("99_8", ":")):
        label = c.text(f"chart.funnel.limit_{level}")
        for side in ("lower", "upper"):
            c.ax.plot(
                grid,
                limits[f"{side}_{level}"],
                color="#555555",
                ls=ls,
                lw=1.5,
                label=label,
            )
            label = None
    codes = _codes(shown, unit).tolist()
    colours = subproject_colours(c.units(codes), registry)
    markers = unit_markers(codes)
    ys = _values(shown, "share")
    for code, x, y in zip(codes, size, ys, strict=True):
        c.ax.plot(
            x, y, marker=markers[code], color=colours[code], ms=12, mec="white", ls=""
        )
    low = np.nanmin([limits["lower_99_8"].min(), ys.min()])
    high = np.nanmax([limits["upper_99_8"].max(), ys.max()])
    c.ax.set_ylim(max(0.0, low - 0.05), min(1.0, high + 0.05))
    _label_points(c, size, ys, [c.unit(code) for code in codes])
    c.ax.yaxis.set_major_formatter(share_formatter(lang))
    c.ax.xaxis.set_major_formatter(number_formatter(lang))
    c.ax.set_xlabel(c.text("axis.participants_in_programme"))
    c.ax.set_ylabel(c.text("axis.share"))
    c.legend()
    note = c.text("chart.funnel.note")
    if hidden.any():
        names = ", ".join(c.unit(code) for code in _codes(units[hidden], unit))
        note = f"{note}. {c.text('common.not_shown').capitalize()}: {names}"
    return c.finish(title, note)


def casemix_chart(
    oe: pd.DataFrame,
    *,
    outcome: str,
    unit: str = "unit",
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    registry: object = None,
    ax: Axes | None = None,
) -> Axes:
    """Observed/expected ratio per unit with its interval and a reference line at 1.

    Args:
        oe: :func:`rehab_analytics.stats.casemix_observed_expected` after
            suppression: ``unit, n, observed, expected, oe, ci_low, ci_high``.
        outcome, unit, lang, period, n, source, registry, ax: As in
            :func:`outcome_shares_chart`.

    Example:
        >>> casemix_chart  # doctest: +ELLIPSIS
        <function casemix_chart at ...>
    """
    c = _start(oe, "case mix", lang, period, n, source, registry, ax)
    title = c.text("chart.casemix.title", outcome=_outcome(outcome, lang))
    units = _units_only(oe, unit)
    hidden = _suppressed(units, "oe") | units["oe"].isna().to_numpy()
    if "observed" in units:
        hidden |= _suppressed(units, "observed")
    c.n = visible_n(oe, unit) if n is None else n
    if not len(units) or hidden.all():
        return c.nothing(title)
    xmax = _forest(
        c, units, unit, "oe", hidden, lambda v: catalogue.format_number(v, lang, 2)
    )
    _reference(c, 1.0, c.text("chart.casemix.reference"))
    c.ax.set_xlim(0, max(2.0, xmax * 1.2))
    c.ax.xaxis.set_major_formatter(number_formatter(lang, 1))
    c.ax.set_xlabel(c.text("axis.observed_expected"))
    return c.finish(title, c.text("chart.casemix.note"))
