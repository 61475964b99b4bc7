"""P-values of few people: published exact, coarse ("p < 0.05") or not at all.

An exact test's p-value is a function of a handful of counts, so it can be
inverted: an exact McNemar p = 0.250 can only come from 0 and 3 discordant
pairs. A p-value computed from a count that is hidden, or below the
suppression threshold (published or not), is therefore published only as the
side of the significance level it falls on. A coarse cell keeps the *lower end*
of its interval as its value (0 for ``p < α``, α for ``p ≥ α``) and is marked in
``<column>__coarse__suppressed``; like every flag column its name ends with
``__suppressed``, so writers that drop flags drop it too, and no exact value is
left in the table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "ALPHA",
    "COARSE_SUFFIX",
    "coarse_p_text",
    "coarse_p_value",
    "coarsen_p",
]

# The significance level the reports' verdicts use (narrative.SIGNIFICANCE).
ALPHA = 0.05
# Ends with disclosure.FLAG_SUFFIX ("__suppressed"); spelt out to avoid a cycle.
COARSE_SUFFIX = "__coarse__suppressed"


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def coarse_p_value(
    p: float | None,
    counts: Iterable[float | None],
    threshold: int,
    *,
    alpha: float = ALPHA,
) -> tuple[float, bool]:
    """The p-value as it may be published, given the counts it was computed from.

    The rule: when any count behind ``p`` is hidden (``None``/NaN/``<NA>``) or
    lies in ``1 .. threshold − 1``, only the side of ``alpha`` is published,
    held as the lower end of its interval (0.0 for ``p < alpha``, ``alpha`` for
    ``p ≥ alpha``); otherwise ``p`` stays exact. A missing ``p`` stays missing.
    (A p-value whose denominator is hidden is hidden altogether; the tables
    do that before this rule.)

    Args:
        p: The exact p-value.
        counts: The counts it rests on (e.g. McNemar's discordant pairs ``b``,
            ``c``; the per-change counts behind a Wilcoxon test), hidden ones
            as missing.
        threshold: Suppression threshold.
        alpha: Significance level the coarse form is stated against.

    Returns:
        ``(value, coarse)``.

    Example:
        >>> coarse_p_value(0.25, [0, 3], 5)
        (0.05, True)
        >>> coarse_p_value(0.0039, [None, 40], 5)
        (0.0, True)
        >>> coarse_p_value(0.0123, [40, 12], 5)
        (0.0123, False)
    """
    if _is_missing(p):
        return float("nan"), False
    p = float(p)
    for count in counts:
        if _is_missing(count) or 0 < float(count) < threshold:
            return (0.0 if p < alpha else float(alpha)), True
    return p, False


def coarsen_p(
    table: pd.DataFrame,
    column: str,
    basis: pd.DataFrame,
    threshold: int,
    *,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Apply :func:`coarse_p_value` to every row of a p-value column.

    Rows whose p-value is already hidden (``<column>__suppressed``) stay hidden.

    Args:
        table: A suppressed table holding ``column``.
        column: The p-value column.
        basis: The counts behind each row's p-value, aligned to ``table``'s
            rows (same length, in order); hidden counts missing.
        threshold: Suppression threshold.
        alpha: Significance level of the coarse form.

    Returns:
        A copy of ``table`` with coarse values and ``<column>__coarse__suppressed``.

    Example:
        >>> t = pd.DataFrame({"p_value": [0.25, 0.0123]})
        >>> out = coarsen_p(t, "p_value", pd.DataFrame({"b": [0, 40], "c": [3, 12]}), 5)
        >>> out["p_value"].tolist(), out["p_value__coarse__suppressed"].tolist()
        ([0.05, 0.0123], [True, False])
    """
    if len(basis) != len(table):
        raise ValueError(
            f"basis has {len(basis)} rows and the table {len(table)}; give the "
            f"counts behind '{column}' for every row, in the table's order."
        )
    out = table.copy()
    flag = f"{column}__suppressed"
    hidden = (
        out[flag].fillna(False).to_numpy(dtype=bool)
        if flag in out.columns
        else np.zeros(len(out), dtype=bool)
    )
    rows = basis.astype(object).to_numpy()
    pairs = [
        (float("nan"), False)
        if h
        else coarse_p_value(p, counts, threshold, alpha=alpha)
        for p, counts, h in zip(out[column].astype(object), rows, hidden, strict=True)
    ]
    values = [v for v, _ in pairs]
    out[column] = pd.Series(pd.array(values, dtype="Float64"), index=out.index).mask(
        hidden
    )
    out[f"{column}{COARSE_SUFFIX}"] = np.array([c for _, c in pairs], dtype=bool)
    return out


def coarse_p_text(value: float, lang: str, alpha: float = ALPHA) -> str:
    """``p < 0,05`` / ``p ≥ 0,05`` (sv) or ``p < 0.05`` / ``p ≥ 0.05`` (en).

    The same text as the catalogue's ``narrative.p_below``/``p_at_least`` with
    α in the language's number format; ``value`` is a coarse cell's value.

    Example:
        >>> coarse_p_text(0.0, "sv"), coarse_p_text(0.05, "en")
        ('p < 0,05', 'p ≥ 0.05')
    """
    number = f"{alpha:.2f}".replace(".", "," if lang == "sv" else ".")
    return f"p < {number}" if float(value) < alpha else f"p ≥ {number}"
