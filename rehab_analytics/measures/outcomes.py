"""Outcomes per group: outcome shares, occupation, exit reasons, ESF tables, costs.

Follows the conventions of :mod:`rehab_analytics.measures` (``by``, group keys,
misregistrations left out, raw numbers to pass through disclosure control).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from rehab_analytics.contract import (
    EDUCATION,
    EXIT_REASONS,
    OCCUPATIONS,
    WORK_OR_STUDY,
)
from rehab_analytics.measures.core import (
    ESF_AGE_BANDS,
    _add_share,
    _as_by,
    _by_units,
    _choice,
    _counts,
    _exited,
    _flag,
    _is,
    _prepare,
    _require,
    _sum_by_units,
    _valid,
)

__all__ = [
    "OUTCOMES",
    "outcome_shares",
    "occupation_table",
    "occupation_before_after",
    "exit_reasons",
    "esf_breakdown",
    "costs",
]

OUTCOMES = {
    "work_or_study_after": ("work_or_study_after",),
    "employed_after": ("occupation_after",),
    "studying_after": ("occupation_after",),
    "dropped_out": ("exit_reason",),
    "started_or_increased": ("occupation_before", "occupation_after"),
    "no_public_support_before": ("income_group_before",),
    "no_public_support_after": ("income_group_after",),
}


def _long_counts(
    frame: pd.DataFrame, by: list[str], values: pd.Series, name: str, categories
) -> pd.DataFrame:
    """Long table ``by..., name, count, total, share, ci_low, ci_high``."""
    known = [*categories, *sorted(set(values.dropna().unique()) - set(categories))]
    if values.isna().any() and "unknown" not in known:
        known.append("unknown")
    codes = values.astype(object).where(values.notna(), "unknown")
    keyed = frame.assign(**{name: pd.Categorical(codes, categories=known)})
    out = _counts(keyed, [*by, name], {"count": 1})
    total = out.groupby(by, observed=False)["count"].transform("sum") if by else None
    out["total"] = out["count"].sum() if total is None else total
    return _add_share(out, "count", "total")


def _outcome_masks(frame: pd.DataFrame, outcome: str) -> tuple[pd.Series, pd.Series]:
    """Return (known, event) masks of ``outcome`` for each row."""
    if outcome == "work_or_study_after":
        values = frame["work_or_study_after"]
        return values.notna(), _flag(values)
    if outcome == "dropped_out":
        reason = frame["exit_reason"]
        return reason.notna() & ~_is(reason, "unknown"), _is(reason, "dropped_out")
    if outcome.startswith("no_public_support"):
        group = frame[OUTCOMES[outcome][0]]
        return group.notna() & ~_is(group, "unknown"), _is(group, "none_public")
    after = frame["occupation_after"]
    known = after.notna() & ~_is(after, "unknown")
    if outcome == "employed_after":
        return known, _is(after, "employed")
    if outcome == "studying_after":
        return known, _is(after, "studying")
    before = frame["occupation_before"]
    known &= before.notna() & ~_is(before, "unknown")
    return known, _is(after, *WORK_OR_STUDY) & ~_is(before, *WORK_OR_STUDY)


def outcome_shares(
    participants: pd.DataFrame,
    outcome: str = "work_or_study_after",
    by: str | Sequence[str] | None = ("subproject",),
) -> pd.DataFrame:
    """Share of exited episodes with an outcome, per group.

    The denominator ``n`` counts ended, non-misregistered episodes whose outcome
    is known; ``events`` those with the outcome. Outcomes:

    - ``work_or_study_after``: the contract column (known when not missing).
    - ``employed_after`` / ``studying_after``: ``occupation_after`` is employed /
      studying (known when occupation after is not unknown).
    - ``dropped_out``: ``exit_reason == "dropped_out"`` (known: reason not unknown).
    - ``started_or_increased``: SUS "started or increased work or studies". SUS
      does not record hours, so only *starts* are visible: the episode was neither
      employed nor studying before and is employed or studying after. The
      denominator is every exit with known occupation before and after (those
      already working or studying count as non-events).
    - ``no_public_support_before`` / ``_after``: income group is ``none_public``
      (known when the income group is not unknown); both among exits, so the two
      describe the same people.

    Returns:
        ``by..., n, events, share, ci_low, ci_high``.

    Example:
        >>> df = pd.DataFrame({"subproject": ["dino"] * 3 + ["aktiv"],
        ...     "end_date": pd.to_datetime(["2018-01-01"] * 3 + [None]),
        ...     "exit_reason": ["completed", "dropped_out", "misregistration", None],
        ...     "work_or_study_after": pd.array([True, False, True, None], "boolean")})
        >>> outcome_shares(df)[["subproject", "n", "events", "share"]]
          subproject  n  events  share
        0       dino  2       1    0.5
        1      aktiv  0       0    NaN
    """
    func = "outcome_shares"
    _choice(outcome, OUTCOMES, "outcome", func)
    required = ["end_date", "exit_reason", *OUTCOMES[outcome]]
    frame, by = _prepare(
        participants, by, func, required, _exited, period_date="end_date"
    )
    known, event = _outcome_masks(frame, outcome)
    return _add_share(_counts(frame, by, {"n": known, "events": known & event}))


def occupation_table(
    participants: pd.DataFrame,
    when: str = "after",
    by: str | Sequence[str] | None = ("subproject",),
) -> pd.DataFrame:
    """Occupation (SUS groups) before or after, as a long table.

    ``when="after"`` counts ended, non-misregistered episodes; ``when="before"``
    counts every non-misregistered episode (the background at entry). Missing
    occupation counts as ``unknown``; shares are of all counted episodes,
    unknown included.

    Returns:
        ``by..., occupation, count, total, share, ci_low, ci_high``, all five
        occupations (employed, studying, job_seeking, other, unknown) per group.

    Example:
        >>> df = pd.DataFrame({"subproject": ["dino"] * 3,
        ...     "end_date": pd.to_datetime(["2018-01-01"] * 3),
        ...     "exit_reason": ["completed"] * 3,
        ...     "occupation_after": ["employed", "employed", "other"]})
        >>> occupation_table(df)[["occupation", "count", "total"]]
            occupation  count  total
        0     employed      2      3
        1     studying      0      3
        2  job_seeking      0      3
        3        other      1      3
        4      unknown      0      3
    """
    func = "occupation_table"
    _choice(when, ("before", "after"), "when", func)
    column = f"occupation_{when}"
    select = _exited if when == "after" else _valid
    period_date = "end_date" if when == "after" else "start_date"
    required = ["end_date", "exit_reason", column]
    frame, by = _prepare(
        participants, by, func, required, select, period_date=period_date
    )
    return _long_counts(frame, by, frame[column], "occupation", OCCUPATIONS)


def occupation_before_after(
    participants: pd.DataFrame, by: str | Sequence[str] | None = ("subproject",)
) -> pd.DataFrame:
    """Occupation before and after side by side, for the same exited episodes.

    Returns:
        ``by..., occupation, total, count_before, share_before, count_after,
        share_after`` (``total`` = ended, non-misregistered episodes of the group).

    Example:
        >>> df = pd.DataFrame({"subproject": ["dino"] * 2,
        ...     "end_date": pd.to_datetime(["2018-01-01"] * 2),
        ...     "exit_reason": ["completed"] * 2,
        ...     "occupation_before": ["other", "other"],
        ...     "occupation_after": ["employed", "other"]})
        >>> occupation_before_after(df)[["occupation", "count_before", "count_after"]]
            occupation  count_before  count_after
        0     employed             0            1
        1     studying             0            0
        2  job_seeking             0            0
        3        other             2            1
        4      unknown             0            0
    """
    func = "occupation_before_after"
    required = ["end_date", "exit_reason", "occupation_before", "occupation_after"]
    frame, by = _prepare(
        participants, by, func, required, _exited, period_date="end_date"
    )
    parts = []
    for when in ("before", "after"):
        table = _long_counts(
            frame, by, frame[f"occupation_{when}"], "occupation", OCCUPATIONS
        )
        table = table.rename(
            columns={"count": f"count_{when}", "share": f"share_{when}"}
        )
        parts.append(table.drop(columns=["ci_low", "ci_high"]))
    keys = [*by, "occupation"]
    out = parts[0].merge(
        parts[1].drop(columns="total"), on=keys, how="outer", sort=False
    )
    columns = ["total", "count_before", "share_before", "count_after", "share_after"]
    return out[[*keys, *columns]]


def exit_reasons(
    participants: pd.DataFrame, by: str | Sequence[str] | None = ("subproject",)
) -> pd.DataFrame:
    """Reasons for ending, among ended episodes; misregistrations left out.

    Misregistrations are not a way of ending a real participation, so they are
    not in ``total`` nor a row here: count them with :func:`misregistrations`.
    A missing reason on an ended episode counts as ``unknown``.

    Returns:
        ``by..., exit_reason, count, total, share, ci_low, ci_high``.

    Example:
        >>> df = pd.DataFrame({"subproject": ["dino"] * 3,
        ...     "end_date": pd.to_datetime(["2018-01-01"] * 3),
        ...     "exit_reason": ["completed", "completed", "misregistration"]})
        >>> exit_reasons(df)[["exit_reason", "count", "total"]].head(2)
           exit_reason  count  total
        0    completed      2      2
        1  dropped_out      0      2
    """
    func = "exit_reasons"
    frame, by = _prepare(
        participants,
        by,
        func,
        ["end_date", "exit_reason"],
        _exited,
        period_date="end_date",
    )
    reasons = [r for r in EXIT_REASONS if r != "misregistration"]
    return _long_counts(frame, by, frame["exit_reason"], "exit_reason", reasons)


def esf_breakdown(
    participants: pd.DataFrame,
    dimension: str,
    by: str | Sequence[str] | None = ("subproject",),
) -> pd.DataFrame:
    """ESF participant indicator at entry, always split by sex.

    Counts every non-misregistered episode (indicators describe participants at
    entry). ``dimension`` is ``age_band_esf`` (derived from age when absent),
    ``education`` or ``occupation_before`` (SUS occupation groups: employed /
    job_seeking / studying and other correspond to ESF employed / unemployed /
    inactive). ``share`` is of the group and sex (``total``).

    Returns:
        ``by..., sex, category, count, total, share`` (``sex`` is not repeated in
        ``by``).

    Example:
        >>> df = pd.DataFrame({"subproject": ["dino"] * 3,
        ...     "sex": ["woman", "woman", "man"], "exit_reason": [None] * 3,
        ...     "education": ["compulsory", "post_secondary", "compulsory"]})
        >>> out = esf_breakdown(df, "education")
        >>> out.loc[out["count"] > 0, ["sex", "category", "count", "total", "share"]]
             sex        category  count  total  share
        0  woman      compulsory      1      2    0.5
        2  woman  post_secondary      1      2    0.5
        4    man      compulsory      1      1    1.0
    """
    func = "esf_breakdown"
    categories = {
        "age_band_esf": ESF_AGE_BANDS,
        "education": EDUCATION,
        "occupation_before": OCCUPATIONS,
    }
    _choice(dimension, categories, "dimension", func)
    by = [c for c in _as_by(by) if c != "sex"]
    frame, _ = _prepare(
        participants, [*by, "sex", dimension], func, ["exit_reason"], _valid
    )
    out = _long_counts(
        frame, [*by, "sex"], frame[dimension], "category", categories[dimension]
    )
    return out.drop(columns=["ci_low", "ci_high"])


def costs(
    participants: pd.DataFrame,
    subprojects: pd.DataFrame,
    by: str | Sequence[str] | None = ("subproject",),
) -> pd.DataFrame:
    """Money against volume and results per unit (summed over the years).

    ``by`` may hold ``forbund`` and/or ``subproject`` (or be empty for the
    project). Columns: ``by...``, ``cost_sek``, ``budget_sek``, ``esf_sek``,
    ``planned`` (planned participants), ``participants`` (non-misregistered
    episodes), ``cost_per_participant``, ``work_or_study`` (ended episodes in work
    or studies after) and ``cost_per_work_or_study``. A ratio is NaN when its
    denominator is 0 or the cost is missing.

    Example:
        >>> people = pd.DataFrame({"subproject": ["dino", "dino"],
        ...     "exit_reason": ["completed", None],
        ...     "end_date": pd.to_datetime(["2018-01-01", None]),
        ...     "work_or_study_after": pd.array([True, None], "boolean")})
        >>> money = pd.DataFrame({"subproject": ["dino"], "planned_participants": [4],
        ...     "budget_sek": [1e6], "cost_sek": [8e5], "esf_sek": [4e5]})
        >>> costs(people, money)[["participants", "cost_per_participant",
        ...     "cost_per_work_or_study"]]
           participants  cost_per_participant  cost_per_work_or_study
        0             2              400000.0                800000.0
    """
    func = "costs"
    by = _as_by(by)
    for column in by:
        _choice(column, ("forbund", "subproject"), "by", func)
    money = ["cost_sek", "budget_sek", "esf_sek", "planned_participants"]
    _require(subprojects, [*by, *money], func, "subprojects")
    _require(
        participants,
        [*by, "exit_reason", "end_date", "work_or_study_after"],
        func,
        "participants",
    )
    valid = participants.loc[_valid(participants)]
    success = valid.loc[valid["end_date"].notna() & _flag(valid["work_or_study_after"])]
    tables = {c: _sum_by_units(subprojects, by, c) for c in money}
    tables["participants"] = _sum_by_units(valid, by, None)
    tables["work_or_study"] = _sum_by_units(success, by, None)
    out = _by_units(tables, by).rename(columns={"planned_participants": "planned"})
    for column in ("participants", "work_or_study"):
        out[column] = out[column].fillna(0).astype("int64")
    out["planned"] = out["planned"].astype("Int64")
    cost = out["cost_sek"].astype(float)
    for count, ratio in (
        ("participants", "cost_per_participant"),
        ("work_or_study", "cost_per_work_or_study"),
    ):
        out[ratio] = cost / out[count].where(out[count] > 0)
    order = [
        "cost_sek",
        "budget_sek",
        "esf_sek",
        "planned",
        "participants",
        "cost_per_participant",
        "work_or_study",
        "cost_per_work_or_study",
    ]
    return out[[*by, *order]].astype({c: float for c in money[:3]})
