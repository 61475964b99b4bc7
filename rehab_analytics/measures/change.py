"""Before/after measures on the same people: income transitions, McNemar, steps.

Follows the conventions of :mod:`rehab_analytics.measures` (``by``, group keys,
misregistrations left out, raw numbers to pass through disclosure control).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rehab_analytics import stats
from rehab_analytics.contract import (
    INCOME_GROUPS,
    INCOME_SOURCE_GROUP,
    INCOME_SOURCES,
    income_columns,
)
from rehab_analytics.measures.core import (
    _add_share,
    _choice,
    _counts,
    _exited,
    _flag,
    _is,
    _per_group,
    _prepare,
    _valid,
)

__all__ = [
    "INCOME_STATES",
    "income_transitions",
    "income_change_test",
    "step_progression",
    "step_change_distribution",
]

_GROUPS_WITH_SOURCES = ("ill_health", "labour_market", "social_assistance")
INCOME_STATES = (
    "no_public_support",
    *_GROUPS_WITH_SOURCES,
    *(s for s in INCOME_SOURCES if s not in _GROUPS_WITH_SOURCES),
)
_MEASURES = ("step", "health")


def income_transitions(
    participants: pd.DataFrame,
    level: str = "group",
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Before→after transition table of income, over ended episodes.

    Population: ended, non-misregistered episodes (the same people before and
    after). ``level="group"``: ``before``/``after`` are the income groups
    (``income_group_before``/``_after``, all six including ``unknown``); each
    episode counts once and a row's counts add up to ``row_total``.
    ``level="source"``: ``before``/``after`` are income-source codes and income
    is multi-select, so ``count`` is the number of episodes with source
    ``before`` at start *and* source ``after`` at exit, ``row_total`` the number
    with source ``before`` at start; a row's counts need not add up to it.

    Returns:
        ``by..., before, after, count, row_total, row_share`` (``row_share`` =
        count / row_total, NaN when row_total is 0), every before×after pair.

    Example:
        >>> df = pd.DataFrame({"end_date": pd.to_datetime(["2018-01-01"] * 3),
        ...     "exit_reason": ["completed"] * 3,
        ...     "income_group_before": ["ill_health", "ill_health", "none_public"],
        ...     "income_group_after": ["none_public", "ill_health", "none_public"]})
        >>> out = income_transitions(df)
        >>> out.loc[out["count"] > 0]
                 before        after  count  row_total  row_share
        0    ill_health   ill_health      1          2        0.5
        4    ill_health  none_public      1          2        0.5
        28  none_public  none_public      1          1        1.0
    """
    func = "income_transitions"
    _choice(level, ("group", "source"), "level", func)
    if level == "group":
        required = ["income_group_before", "income_group_after"]
    else:
        required = [*income_columns("before"), *income_columns("after")]
    frame, by = _prepare(
        participants,
        by,
        func,
        ["end_date", "exit_reason", *required],
        _exited,
        period_date="end_date",
    )
    if level == "group":
        pair = {
            side: pd.Categorical(
                frame[f"income_group_{side}"].astype(object).fillna("unknown"),
                INCOME_GROUPS,
            )
            for side in ("before", "after")
        }
        out = _counts(frame.assign(**pair), [*by, "before", "after"], {"count": 1})
    else:
        before = frame[income_columns("before")].apply(_flag).to_numpy()
        after = frame[income_columns("after")].apply(_flag).to_numpy()
        both = (before[:, :, None] & after[:, None, :]).reshape(len(frame), -1)
        names = [f"{s}|{t}" for s in INCOME_SOURCES for t in INCOME_SOURCES]
        wide = _counts(frame, by, dict(zip(names, both.T, strict=True)))
        out = wide.melt(id_vars=by, var_name="pair", value_name="count")
        split = out.pop("pair").str.split("|", expand=True)
        out.insert(len(by), "before", pd.Categorical(split[0], INCOME_SOURCES))
        out.insert(len(by) + 1, "after", pd.Categorical(split[1], INCOME_SOURCES))
        out = out.sort_values([*by, "before", "after"], ignore_index=True)
    total = out.groupby([*by, "before"], observed=False)["count"].transform("sum")
    if level == "source":
        holders = _counts(frame, by, dict(zip(INCOME_SOURCES, before.T, strict=True)))
        holders = holders.melt(id_vars=by, var_name="before", value_name="row_total")
        holders["before"] = pd.Categorical(holders["before"], INCOME_SOURCES)
        total = out[[*by, "before"]].merge(holders, on=[*by, "before"], how="left")
        total = total["row_total"].to_numpy()
    out["row_total"] = np.asarray(total, dtype="int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["row_share"] = np.where(
            out["row_total"] > 0, out["count"] / out["row_total"], np.nan
        )
    return out


def _state(frame: pd.DataFrame, state: str, when: str) -> pd.Series:
    """Whether each episode is in income ``state`` before or after."""
    if state == "no_public_support":
        return _is(frame[f"income_group_{when}"], "none_public")
    sources = [s for s, g in INCOME_SOURCE_GROUP.items() if g == state] or [state]
    return frame[[f"income_{when}__{s}" for s in sources]].apply(_flag).any(axis=1)


def income_change_test(
    participants: pd.DataFrame,
    state: str = "no_public_support",
    by: str | Sequence[str] | None = ("subproject",),
) -> pd.DataFrame:
    """McNemar test for a change in one income state, before vs after, per group.

    Pairs: ended, non-misregistered episodes whose income group is known
    (not ``unknown``) both before and after. ``state`` is
    ``no_public_support`` (income group ``none_public``), an income group
    (``ill_health``, ``labour_market``, ``social_assistance``: any of its sources
    ticked) or a single income-source code (e.g. ``wage``). The test is
    :func:`rehab_analytics.stats.mcnemar_test` (exact below 25 discordant pairs).

    Returns:
        ``by..., n (pairs), before (in the state at start), after (at exit),
        b (yes→no), c (no→yes), statistic, p_value, method``; groups without
        pairs have n = 0 and NaN statistic and p-value.

    Example:
        >>> df = pd.DataFrame({"subproject": ["dino"] * 3,
        ...     "end_date": pd.to_datetime(["2018-01-01"] * 3),
        ...     "exit_reason": ["completed"] * 3,
        ...     "income_group_before": ["ill_health"] * 3,
        ...     "income_group_after": ["none_public", "none_public", "ill_health"]})
        >>> income_change_test(df)[["subproject", "n", "before", "after", "b", "c",
        ...     "p_value"]]
          subproject  n  before  after  b  c  p_value
        0       dino  3       0      2  0  2      0.5
    """
    func = "income_change_test"
    _choice(state, INCOME_STATES, "state", func)
    required = ["end_date", "exit_reason", "income_group_before", "income_group_after"]
    if state != "no_public_support":
        sources = [s for s, g in INCOME_SOURCE_GROUP.items() if g == state] or [state]
        required += [f"income_{w}__{s}" for w in ("before", "after") for s in sources]

    def paired(d: pd.DataFrame) -> pd.Series:
        known = [
            d[c].notna() & ~_is(d[c], "unknown")
            for c in ("income_group_before", "income_group_after")
        ]
        return _exited(d) & known[0] & known[1]

    frame, by = _prepare(
        participants, by, func, required, paired, period_date="end_date"
    )
    frame = frame.assign(
        _before=_state(frame, state, "before"), _after=_state(frame, state, "after")
    )
    counts = _counts(
        frame, by, {"n": 1, "before": frame["_before"], "after": frame["_after"]}
    )

    def test(part: pd.DataFrame) -> dict:
        result = stats.mcnemar_test(part["_before"], part["_after"])
        return {k: result[k] for k in ("b", "c", "statistic", "p_value", "method")}

    empty = dict.fromkeys(("b", "c", "statistic", "p_value"), np.nan)
    tests = _per_group(frame, by, test, {**empty, "method": ""})
    out = (
        counts.merge(tests, on=by, how="left")
        if by
        else pd.concat([counts, tests], axis=1)
    )
    out[["b", "c"]] = out[["b", "c"]].fillna(0).astype("int64")
    return out


def _changes(
    participants: pd.DataFrame, measure: str, by, func: str
) -> tuple[pd.DataFrame, list[str]]:
    """Non-misregistered episodes with start and end values, plus ``change``."""
    _choice(measure, _MEASURES, "measure", func)
    start, end = f"{measure}_start", f"{measure}_end"

    def pairs(d: pd.DataFrame) -> pd.Series:
        return _valid(d) & d[start].notna() & d[end].notna()

    required = ["exit_reason", start, end]
    frame, by = _prepare(
        participants, by, func, required, pairs, period_date="end_date"
    )
    change = frame[end].astype("int64") - frame[start].astype("int64")
    return frame.assign(change=change), by


def step_progression(
    participants: pd.DataFrame,
    measure: str = "step",
    by: str | Sequence[str] | None = ("subproject",),
) -> pd.DataFrame:
    """Movement on the step-to-work (or self-rated health) scale, start to end.

    Pairs are non-misregistered episodes with both a start and an end value of
    ``step`` (``step_start``/``step_end``) or ``health``. Scales are declared
    per source (DOMAIN.md), so compare changes between subprojects with care.

    Returns:
        ``by..., n`` (pairs), ``events`` (moved up at least one step), ``share``,
        ``ci_low``, ``ci_high`` (Wilson), ``mean_change`` with its t interval
        ``mean_ci_low``/``mean_ci_high``
        (:func:`~rehab_analytics.stats.mean_change_interval`) and ``wilcoxon_p``
        (:func:`~rehab_analytics.stats.wilcoxon_signed_rank`; NaN when fewer than
        two non-zero changes).

    Example:
        >>> df = pd.DataFrame({"subproject": ["dino"] * 4,
        ...     "exit_reason": ["completed"] * 4,
        ...     "step_start": pd.array([1, 2, 3, None], "Int64"),
        ...     "step_end": pd.array([3, 2, 4, 5], "Int64")})
        >>> step_progression(df)[["subproject", "n", "events", "mean_change"]]
          subproject  n  events  mean_change
        0       dino  3       2          1.0
    """
    func = "step_progression"
    frame, by = _changes(participants, measure, by, func)
    out = _add_share(_counts(frame, by, {"n": 1, "events": frame["change"] >= 1}))

    def summary(part: pd.DataFrame) -> dict:
        mean, low, high = stats.mean_change_interval(part["change"])
        return {
            "mean_change": mean,
            "mean_ci_low": low,
            "mean_ci_high": high,
            "wilcoxon_p": stats.wilcoxon_signed_rank(part["change"]),
        }

    names = ("mean_change", "mean_ci_low", "mean_ci_high", "wilcoxon_p")
    means = _per_group(frame, by, summary, dict.fromkeys(names, np.nan))
    if by:
        return out.merge(means, on=by, how="left")
    return pd.concat([out, means], axis=1)


def step_change_distribution(
    participants: pd.DataFrame,
    measure: str = "step",
    by: str | Sequence[str] | None = ("subproject",),
) -> pd.DataFrame:
    """How many pairs moved by each number of steps (for diverging bars).

    Same pairs as :func:`step_progression`. ``change`` runs over every whole
    number from the smallest to the largest change seen in any group, so all
    groups have the same rows (count 0 where none).

    Returns:
        ``by..., change, count``.

    Example:
        >>> df = pd.DataFrame({"exit_reason": ["completed"] * 3,
        ...     "step_start": pd.array([1, 2, 3], "Int64"),
        ...     "step_end": pd.array([3, 2, 4], "Int64")})
        >>> step_change_distribution(df, by=None)
           change  count
        0       0      1
        1       1      1
        2       2      1
    """
    frame, by = _changes(participants, measure, by, "step_change_distribution")
    values = frame["change"]
    steps = range(int(values.min()), int(values.max()) + 1) if len(values) else []
    keyed = frame.assign(change=pd.Categorical(values, categories=list(steps)))
    out = _counts(keyed, [*by, "change"], {"count": 1})
    return out.astype({"change": "int64"})
