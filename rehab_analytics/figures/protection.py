"""The run's protection model: every report's tables built once, suppressed jointly.

:func:`plan` runs every recipe of the standard reports (without drawing) for
every subproject, records each published count as a cell, adds the relations
between tables (:mod:`rehab_analytics.tables.relations`), and hides partners
until the integer-programming attack (:mod:`rehab_analytics.disclosure.audit`)
recovers nothing. The result is a :class:`~rehab_analytics.disclosure.cells.Rule`:
as a context's threshold (``dataclasses.replace(ctx, threshold=rule)``) every
recipe of every report hides the same cells.

:func:`audit` attacks what the reports publish as they stand. Not yet wired into
the batch: on the demo data the search for partners takes about a minute and
hides twice as many cells as table-by-table suppression (issue 15).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rehab_analytics.disclosure.audit import AuditResult, Relation
from rehab_analytics.disclosure.cells import Recording, Rule, recording
from rehab_analytics.disclosure.joint import protect
from rehab_analytics.errors import DisclosureError
from rehab_analytics.tables.relations import relations

__all__ = [
    "Protection",
    "audit",
    "fingerprint",
    "plan",
    "scope",
]

_ROUNDS = 12


@dataclass
class Protection:
    """A run's joint protection: the rule, the recorded cells and the attack's result.

    Attributes:
        rule: The threshold and the cells hidden in every table.
        recording: True values and margins (in memory only: never written).
        relations: Relations between tables used by the attack.
        result: The last attack over everything the run publishes.
        seconds: Time to build the tables and protect them.
        rounds: Builds of all tables until nothing more was hidden.
        fingerprint: What the plan was computed from (data, period, units).
    """

    rule: Rule
    recording: Recording
    relations: list[Relation]
    result: AuditResult
    seconds: float
    rounds: int
    fingerprint: str


def _recipes(ctx) -> list[tuple[Any, tuple, dict]]:
    """Every recipe call of the three report notebooks, for every unit."""
    from rehab_analytics import figures as f

    units = list(ctx.units)
    calls: list[tuple[Any, tuple, dict]] = []
    per_unit = [
        (f.unit_summary, ()),
        (f.enrolment, ()),
        (f.goal_attainment, ()),
        (f.volume, ()),
        (f.age_sex, ()),
        *[(f.background, (field,)) for field in _BACKGROUND],
        *[(f.esf_by_sex, (dim,)) for dim in _ESF],
        (f.outcome_summary, ()),
        (f.occupation, ()),
        (f.exit_reasons, ()),
        (f.income_transition, ()),
        (f.income_change, ()),
        (f.time_in_programme, ()),
        (f.time_summary, ()),
        (f.step_change, ()),
        (f.step_summary, ()),
        (f.costs, ()),
        (f.cost_table, ()),
        (f.caveats, ()),
    ]
    # Every per-unit recipe measures all units, suppresses, then selects its
    # unit: one unit's recipes record every unit's cells.
    for unit in units[:1]:
        for func, args in per_unit:
            calls.append((func, (*args, unit), {}))
        calls.append((f.outcome_shares, (), {"unit": unit}))
        calls.append((f.outcome_summary, (unit,), {"by_sex": True}))
        calls.append((f.step_change, (unit, "health"), {}))
    for func in (
        f.summary,
        f.enrolment,
        f.goal_attainment,
        f.volume,
        f.outcome_shares,
        f.outcomes_by_unit,
        f.funnel,
        f.comparison,
        f.casemix,
        f.casemix_table,
        f.outcomes_by_sex,
        f.trend,
        f.spc,
        f.exit_reasons,
        f.time_in_programme,
        f.costs,
        f.cost_table,
        f.caveats,
    ):
        calls.append((func, (), {}))
    return calls


_BACKGROUND = ("education", "income_group_before", "support_years_before")
_ESF = ("age_band_esf", "education", "occupation_before")


def _build(ctx) -> Recording:
    with recording() as rec:
        for func, args, kwargs in _recipes(ctx):
            try:
                func(ctx, *args, **kwargs)
            except (ValueError, KeyError, LookupError):
                # a recipe that cannot run on these data publishes nothing
                continue
    return rec


def fingerprint(ctx) -> str:
    """What a plan depends on: the data, the period, the units and the threshold."""
    data = pd.util.hash_pandas_object(
        ctx.participants.astype("string"), index=False
    ).to_numpy()
    digest = hashlib.sha256(data.tobytes())
    digest.update(
        json.dumps([ctx.start, ctx.end, list(ctx.units), int(ctx.threshold)]).encode()
    )
    return digest.hexdigest()


def scope(ctx) -> str:
    """The population of a context's cells: its report period."""
    return f"{ctx.start or ''}..{ctx.end or ''}"


def plan(ctx) -> Protection:
    """Protect every table of every report of ``ctx`` jointly.

    Args:
        ctx: A :class:`~rehab_analytics.figures.Context` (its threshold is used).

    Returns:
        The :class:`Protection`; ``rule`` is the threshold to give the contexts
        of every report.

    Raises:
        DisclosureError: If hidden cells can still be worked out and nothing
            is left to hide (the message names the cell and the relation).

    Example:
        >>> plan  # doctest: +ELLIPSIS
        <function plan at ...>
    """
    started = time.perf_counter()
    threshold = int(ctx.threshold)
    rule = Rule(threshold, (), scope(ctx))
    rec, rels, result = Recording(), [], AuditResult()
    rounds = 0
    for rounds in range(1, _ROUNDS + 1):  # noqa: B007
        quiet = dataclasses.replace(ctx, threshold=rule, draw=False)
        rec = _build(quiet)
        if rec.conflicts:
            key, (a, b) = next(iter(rec.conflicts.items()))
            raise DisclosureError(
                f"cell {key} is given two values ({a:g} and {b:g}) by two tables: "
                "one cell family names two different counts. Fix the cells= "
                "declaration of one of the tables in rehab_analytics.tables."
            )
        rels = relations(rec.values, rec.pairs, rec.values)
        hidden, result = protect(rec, rels, threshold)
        if hidden <= rule.hidden:
            break
        rule = rule.with_hidden(hidden)
    if not result.ok:
        raise DisclosureError(
            "the reports cannot be protected: "
            + "; ".join(f.message() for f in result.findings[:3])
            + ". Nothing was published; report this to the package maintainers."
        )
    return Protection(
        rule, rec, rels, result, time.perf_counter() - started, rounds, fingerprint(ctx)
    )


def audit(ctx) -> tuple[AuditResult, Recording]:
    """Attack what the standard reports of ``ctx`` publish today, with whole numbers.

    Builds every table as the reports do (with ``ctx``'s threshold or rule),
    and solves, for every hidden cell, its smallest and largest value given
    every shown cell and the relations between tables.

    Returns:
        (the attack's result, the recording it attacked).

    Example:
        >>> audit  # doctest: +ELLIPSIS
        <function audit at ...>
    """
    from rehab_analytics.disclosure.audit import attack
    from rehab_analytics.disclosure.joint import model

    rule = (
        ctx.threshold
        if isinstance(ctx.threshold, Rule)
        else Rule(ctx.threshold, (), scope(ctx))
    )
    rec = _build(dataclasses.replace(ctx, threshold=rule, draw=False))
    rels = relations(rec.values, rec.pairs, rec.values)
    values, rels, sensitive = model(rec, rels, set(rec.hidden), int(rule))
    result = attack(
        values, rels, int(rule), primary=rec.primary & rec.hidden, sensitive=sensitive
    )
    return result, rec
