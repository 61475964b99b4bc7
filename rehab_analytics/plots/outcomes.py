"""Before/after and exit charts: income transition heat map, occupation, exit reasons.

Same conventions as :mod:`rehab_analytics.plots`, which re-exports these. In the
100 % stacked bars a hidden count has no known width: the shown categories are
drawn at their true share and the rest of the bar is one hatched segment marked
"..", like every hidden value.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch, Rectangle

from rehab_analytics import catalogue
from rehab_analytics.plots.furniture import (
    _Chart,
    _codes,
    _hatched_barh,
    _ordered_categories,
    _select_unit,
    _start,
    _suppressed,
    _values,
)
from rehab_analytics.plots.style import (
    CATEGORY_PALETTE,
    SUPPRESSED_COLOUR,
    TEXT_SIZE,
    share_formatter,
)

__all__ = ["income_transition_chart", "occupation_chart", "exit_reasons_chart"]

_MIN_LABELLED_SHARE = 0.07
_DARK = {"#0072B2", "#009E73", "#D55E00", "#CC79A7"}


def _total_of(part: pd.DataFrame, col: str = "total") -> float | None:
    """The unit's denominator: 0 without rows, None when hidden."""
    if not len(part):
        return 0.0
    if _suppressed(part, col).any():
        return None
    value = _values(part, col)[0]
    return 0.0 if np.isnan(value) else float(value)


def _stacked(
    c: _Chart, rows, totals, *, cat_col: str, field: str, zero_key: str
) -> None:
    """100 % stacked horizontal bars from ``(label, part)`` rows with ``count``."""
    categories: list[str] = []
    for _, part in rows:
        categories += [
            k for k in _ordered_categories(part[cat_col]) if k not in categories
        ]
    colours = {
        k: CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)] for i, k in enumerate(categories)
    }
    used: set[str] = set()
    any_hidden = False
    for i, ((_, part), total) in enumerate(zip(rows, totals, strict=True)):
        y = len(rows) - 1 - i
        if not total:
            any_hidden |= total is None
            message = (
                f"{c.mark}: {c.text('common.not_shown')}"
                if total is None
                else c.text(zero_key)
            )
            c.ax.text(
                0.01,
                y,
                message,
                va="center",
                fontsize=TEXT_SIZE - 1,
                color="#444444",
                gid="rehab-suppressed",
            )
            continue
        hidden = _suppressed(part, "count")
        left = 0.0
        for code, count in zip(
            part[cat_col].astype("string")[~hidden],
            _values(part, "count")[~hidden],
            strict=True,
        ):
            if not count > 0:
                continue
            share = count / total
            c.ax.barh(
                y, share, left=left, height=0.7, color=colours[code], edgecolor="white"
            )
            if share >= _MIN_LABELLED_SHARE:
                ink = "white" if colours[code] in _DARK else "black"
                c.ax.text(
                    left + share / 2,
                    y,
                    catalogue.format_share(share, c.lang),
                    ha="center",
                    va="center",
                    fontsize=TEXT_SIZE - 2,
                    color=ink,
                )
            used.add(code)
            left += share
        if hidden.any():
            # one remainder for all hidden cells, marked ".." like any hidden value
            any_hidden = True
            _hatched_barh(
                c.ax, y, left, max(0.0, 1.0 - left), 0.7, c.threshold, c.lang, c.mark
            )
    labels = [catalogue.label(field, k, c.lang) for k in categories if k in used]
    handles = [Patch(color=colours[k]) for k in categories if k in used]
    c.legend(handles, labels, hidden=any_hidden)
    c.ax.set_yticks(range(len(rows)), [label for label, _ in reversed(rows)])
    c.ax.set_xlim(0, 1)
    c.ax.set_ylim(-0.6, len(rows) - 0.4)
    c.ax.xaxis.set_major_formatter(share_formatter(c.lang))
    c.ax.set_xlabel(c.text("axis.share_of_participants"))
    c.ax.tick_params(axis="y", length=0)
    c.ax.spines["left"].set_visible(False)


def _heatmap(ax: Axes, grid: np.ndarray, texts: np.ndarray) -> None:
    """Row shares in blues (cell ``(i, j)`` spans ``[j, j+1] × [i, i+1]``), NaN left blank."""
    import seaborn as sns

    sns.heatmap(
        grid,
        mask=np.isnan(grid),
        cmap="Blues",
        vmin=0,
        vmax=1,
        annot=texts,
        fmt="",
        annot_kws={"fontsize": TEXT_SIZE - 3},
        cbar=False,
        xticklabels=False,
        yticklabels=False,
        ax=ax,
    )


def _size_text(c: _Chart, total: float | None) -> str:
    size = c.mark if total is None else catalogue.format_int(total, c.lang)
    return c.text("common.n", n=size)


def income_transition_chart(
    transitions: pd.DataFrame,
    *,
    unit: str | None = None,
    unit_col: str = "subproject",
    field: str = "income_group",
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    registry: object = None,
    ax: Axes | None = None,
) -> Axes:
    """Heat map of income before (rows) and after (columns), coloured by row share.

    Args:
        transitions: ``[unit_col], before, after, count, row_total, row_share``
            (:func:`rehab_analytics.measures.change.income_transitions`, suppressed).
        unit: Unit code to draw when the table has several units.
        unit_col: Unit column.
        field: Label field of the codes (``income_group``, or ``income_source``
            for ``level="source"``).
        lang: ``"sv"`` or ``"en"``.
        period: ``(start, end)`` for the subtitle.
        n: Participants for the subtitle (default: sum of shown row totals).
        source: Source text (default: the catalogue's).
        registry: Organisation registry (names of added units).
        ax: Axes to draw on (default: a new full-width figure).

    Example:
        >>> income_transition_chart  # doctest: +ELLIPSIS
        <function income_transition_chart at ...>
    """
    c = _start(transitions, "income transitions", lang, period, n, source, registry, ax)
    title = c.title("chart.income_transition", unit)
    df = _select_unit(transitions, unit, unit_col)
    rows = df.drop_duplicates("before")
    row_hidden = _suppressed(rows, "row_total")
    if n is None and len(rows):
        c.n = float(np.nansum(_values(rows, "row_total")[~row_hidden]))
    counts, hidden = _values(df, "count"), _suppressed(df, "count")
    if not len(df) or not ((counts > 0) & ~hidden).any():
        return c.nothing(title)
    # empty rows (nobody with that income before) and columns carry no information
    occupied = (counts > 0) | hidden
    keep_before = set(df.loc[occupied, "before"].astype("string"))
    keep_after = set(df.loc[occupied, "after"].astype("string"))
    before = [k for k in _ordered_categories(df["before"]) if k in keep_before]
    after = [k for k in _ordered_categories(df["after"]) if k in keep_after]
    df = df[
        df["before"].astype("string").isin(before).to_numpy()
        & df["after"].astype("string").isin(after).to_numpy()
    ]
    counts, hidden = _values(df, "count"), _suppressed(df, "count")
    marks = c.marks(df, "count")
    ri = df["before"].astype("string").map({k: i for i, k in enumerate(before)})
    ci = df["after"].astype("string").map({k: i for i, k in enumerate(after)})
    ri, ci = ri.to_numpy(dtype=int), ci.to_numpy(dtype=int)
    share = np.where(hidden, np.nan, _values(df, "row_share"))
    grid = np.full((len(before), len(after)), np.nan)
    grid[ri, ci] = share
    shown = ~hidden & (counts > 0) & ~np.isnan(share)
    zero = ~hidden & (counts == 0)
    texts = np.full(grid.shape, "", dtype=object)
    texts[ri[shown], ci[shown]] = [
        f"{catalogue.format_share(s, lang)}\n({catalogue.format_int(k, lang)})"
        for s, k in zip(share[shown], counts[shown], strict=True)
    ]
    # Hidden cells are NaN, so masked: seaborn colours and labels only shown ones.
    _heatmap(c.ax, grid, texts)
    for i, j in zip(ri[zero], ci[zero], strict=True):
        c.ax.text(j + 0.5, i + 0.5, "0", ha="center", va="center", color="#999999")
    for i, j, mark in zip(ri[hidden], ci[hidden], marks[hidden], strict=True):
        c.ax.add_patch(
            Rectangle(
                (j, i),
                1,
                1,
                facecolor="white",
                edgecolor=SUPPRESSED_COLOUR,
                hatch="///",
                lw=0.5,
            )
        )
        c.ax.text(
            j + 0.5,
            i + 0.5,
            mark,
            ha="center",
            va="center",
            fontsize=TEXT_SIZE - 2,
            gid="rehab-suppressed",
        )
    totals = dict(
        zip(
            rows["before"].astype("string"),
            np.where(row_hidden, None, _values(rows, "row_total")),
            strict=True,
        )
    )
    ylabels = [
        f"{catalogue.label(field, k, lang)} ({_size_text(c, totals.get(k))})"
        for k in before
    ]
    c.ax.set_yticks(np.arange(len(before)) + 0.5, ylabels)
    xlabels = [
        textwrap.fill(catalogue.label(field, k, lang), 14, break_long_words=False)
        for k in after
    ]
    c.ax.set_xticks(np.arange(len(after)) + 0.5, xlabels)
    c.ax.xaxis.set_ticks_position("top")
    c.ax.xaxis.set_label_position("top")
    c.ax.set_ylabel(c.text("axis.before"))
    c.ax.set_xlabel(c.text("axis.after"))
    c.ax.tick_params(length=0)
    for spine in c.ax.spines.values():
        spine.set_visible(False)
    if hidden.any() or row_hidden.any():
        # the only legend entry: what ".." in a cell or a row's n means
        c.legend([], [], hidden=True)
    return c.finish(title, c.text("chart.income_transition.note"))


def occupation_chart(
    occupation: pd.DataFrame,
    *,
    unit_col: str = "subproject",
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    registry: object = None,
    ax: Axes | None = None,
) -> Axes:
    """Occupation before and after as 100 % stacked bars, a pair per unit.

    Args:
        occupation: ``[unit_col], occupation, total, count_before, count_after``
            (:func:`rehab_analytics.measures.occupation_before_after`, suppressed).
        unit_col, lang, period, n, source, registry, ax: As in
            :func:`income_transition_chart`.

    Example:
        >>> occupation_chart  # doctest: +ELLIPSIS
        <function occupation_chart at ...>
    """
    c = _start(occupation, "occupation", lang, period, n, source, registry, ax)
    title = c.text("chart.occupation.title")
    codes = _codes(occupation, unit_col)
    rows, totals = [], []
    for code in c.units(codes):
        part = occupation[(codes == code).to_numpy()]
        total = _total_of(part)
        for when in ("before", "after"):
            block = pd.DataFrame(
                {"occupation": part["occupation"], "count": part[f"count_{when}"]}
            )
            block["count__suppressed"] = _suppressed(part, f"count_{when}")
            label = f"{c.unit(code)}: {catalogue.label('when', when, lang).lower()}"
            rows.append((f"{label} ({_size_text(c, total)})", block))
            totals.append(total)
    if n is None:
        c.n = float(sum(t for t in totals[::2] if t)) or None
    if not any(totals):
        return c.nothing(title)
    _stacked(
        c,
        rows,
        totals,
        cat_col="occupation",
        field="occupation",
        zero_key="common.no_data",
    )
    return c.finish(title)


def exit_reasons_chart(
    exits: pd.DataFrame,
    *,
    unit_col: str = "subproject",
    lang: str = "sv",
    period: tuple | None = None,
    n: int | None = None,
    source: str | None = None,
    registry: object = None,
    ax: Axes | None = None,
) -> Axes:
    """Reasons for leaving as 100 % stacked bars per unit ("no exits yet" when none).

    Args:
        exits: ``[unit_col], exit_reason, count, total``
            (:func:`rehab_analytics.measures.exit_reasons`, suppressed).
        unit_col, lang, period, n, source, registry, ax: As in
            :func:`income_transition_chart`.

    Example:
        >>> exit_reasons_chart  # doctest: +ELLIPSIS
        <function exit_reasons_chart at ...>
    """
    c = _start(exits, "exit reasons", lang, period, n, source, registry, ax)
    title = c.text("chart.exit_reasons.title")
    codes = _codes(exits, unit_col)
    rows, totals = [], []
    for code in c.units(codes):
        part = exits[(codes == code).to_numpy()]
        total = _total_of(part)
        rows.append((f"{c.unit(code)} ({_size_text(c, total)})", part))
        totals.append(total)
    if n is None:
        c.n = float(sum(t for t in totals if t))
    if not any(totals):
        none_yet = rows and all(t == 0 for t in totals)
        return c.nothing(
            title, c.text("common.no_exits" if none_yet else "common.no_values")
        )
    _stacked(
        c,
        rows,
        totals,
        cat_col="exit_reason",
        field="exit_reason",
        zero_key="common.no_exits",
    )
    return c.finish(title)
