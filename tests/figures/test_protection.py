"""Tests for rehab_analytics.figures.protection: every report's cells attacked together."""

from __future__ import annotations

import dataclasses

import pytest

from rehab_analytics import figures
from rehab_analytics.disclosure.cells import Rule, cell_frame
from rehab_analytics.figures import protection
from rehab_analytics.sample import generate


@pytest.fixture(scope="module")
def ctx():
    sample = generate(300, seed=11)
    return figures.context(sample, start="2015-10-01", end="2019-06-30", threshold=5)


@pytest.fixture(scope="module")
def attacked(ctx):
    return protection.audit(ctx)


def test_every_report_table_declares_its_cells_and_no_family_names_two_counts(
    attacked,
) -> None:
    result, rec = attacked
    assert rec.conflicts == {}
    families = {key.split("|")[0] for key in rec.values}
    assert {
        "outcome.n",
        "outcome.events",
        "exits",
        "valid",
        "episodes",
        "income.transition",
        "steps.up",
        "anonymous",
    } <= families
    assert result.hidden_cells == len(rec.hidden) > 0


def test_one_table_at_a_time_leaves_hidden_cells_that_the_attack_recovers(
    attacked,
) -> None:
    """The defect of issue 15, measured: suppression table by table is not enough."""
    result, _ = attacked
    assert result.recoverable_cells + result.narrowed_cells > 0
    (finding, *_) = result.findings
    assert finding.kind in ("recovered", "narrowed")
    assert finding.key in finding.message()


def test_a_rule_hides_its_cells_in_every_table_that_shows_them(ctx, attacked) -> None:
    _, rec = attacked
    key = next(
        k
        for k in sorted(rec.values)
        if k.startswith("outcome.n|outcome=work_or_study_after|")
        and "subproject=" in k
        and "sex=" not in k
        and rec.values[k] >= 5
    )
    rule = Rule(5, {key}, protection.scope(ctx))
    quiet = dataclasses.replace(ctx, threshold=rule)
    outcome = figures.outcome_shares(quiet).table
    compare = figures.comparison(quiet).table
    found = 0
    for table in (outcome, compare):
        cells = cell_frame(table).set_index("key")
        if key in cells.index:
            found += 1
            assert bool(cells.loc[key, "hidden"].all())
    assert found == 2
