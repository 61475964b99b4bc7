"""Tests for rehab_analytics.tables.relations: identities between tables."""

from __future__ import annotations

import pytest

from rehab_analytics.disclosure.cells import make_key
from rehab_analytics.tables.relations import relations


def _k(family, **dims):
    return make_key(family, dims)


def test_work_or_studies_lies_between_work_and_studies() -> None:
    wos = _k("outcome.events", outcome="work_or_study_after", subproject="a")
    work = _k("outcome.events", outcome="employed_after", subproject="a")
    study = _k("outcome.events", outcome="studying_after", subproject="a")
    rels = relations([wos, work, study], values={wos: 10, work: 7, study: 4})
    assert sorted(r.sense for r in rels) == ["<=", ">=", ">="]


def test_esf_bands_are_sums_of_the_pyramid() -> None:
    ages = {
        a: _k("valid", age_group=a, sex="woman", subproject="a")
        for a in ("16-24", "25-29", "30-39", "40-49", "50+", "unknown")
    }
    bands = {
        b: _k("valid", age_band_esf=b, sex="woman", subproject="a")
        for b in ("under_25", "25_54", "over_54", "unknown")
    }
    values = {
        ages["16-24"]: 3,
        ages["25-29"]: 4,
        ages["30-39"]: 5,
        ages["40-49"]: 6,
        ages["50+"]: 7,
        ages["unknown"]: 0,
        bands["under_25"]: 3,
        bands["25_54"]: 20,
        bands["over_54"]: 2,
        bands["unknown"]: 0,
    }
    rels = relations(values, values=values)
    names = [r.name for r in rels]
    assert "ESF bands under_25 = age groups" in names
    assert "ESF bands 25_54+over_54 = age groups" in names


def test_a_relation_that_does_not_hold_is_a_declaration_bug() -> None:
    enrolled = _k("enrolled", subproject="a")
    valid = _k("valid", subproject="a")
    anonymous = _k("anonymous", subproject="a")
    with pytest.raises(ValueError, match="do not hold"):
        relations(
            [enrolled, valid, anonymous], values={enrolled: 10, valid: 8, anonymous: 1}
        )


def test_the_drop_out_outcome_is_tied_to_the_exit_reasons() -> None:
    exits = _k("exits", subproject="a")
    dropped = _k("exits", exit_reason="dropped_out", subproject="a")
    events = _k("outcome.events", outcome="dropped_out", subproject="a")
    n = _k("outcome.n", outcome="dropped_out", subproject="a")
    values = {exits: 40, dropped: 3, events: 3, n: 40}
    names = [r.name for r in relations(values, values=values)]
    assert f"{events} = {dropped}" in names
    assert any(name.startswith(n) for name in names)
