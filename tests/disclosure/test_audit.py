"""Tests for rehab_analytics.disclosure.audit: the intruder's integer programme."""

from __future__ import annotations

import pytest

from rehab_analytics.disclosure.audit import Relation, Sensitive, attack


def _total(keys, value, name="total"):
    return Relation(name, {k: 1 for k in keys}, "==", value)


def test_a_lone_hidden_cell_in_a_group_with_a_known_total_is_recovered() -> None:
    result = attack(
        {"a": None, "b": 40, "c": 12}, [_total("abc", 55)], 5, primary=["a"]
    )
    assert not result.ok
    (finding,) = result.findings
    assert (finding.key, finding.kind, finding.low, finding.high) == (
        "a",
        "recovered",
        3,
        3,
    )
    assert "total" in finding.message()


def test_two_hidden_cells_keep_the_small_one_anywhere_in_one_to_four() -> None:
    result = attack(
        {"a": None, "b": None, "c": 12}, [_total("abc", 55)], 5, primary=["a"]
    )
    assert result.ok
    assert result.ranges["a"] == (0, 43)


def test_integer_bounds_narrow_a_cell_that_reals_would_not() -> None:
    # a + b = 9 with b ≤ 5 (b is bounded by its denominator): a ≥ 4
    rels = [_total("ab", 9), Relation("b ≤ n", {"b": 1, "n": -1}, "<=")]
    result = attack({"a": None, "b": None, "n": 5}, rels, 5, primary=["a"])
    assert result.findings[0].kind == "narrowed"
    assert result.ranges["a"] == (4, 9)


def test_a_complement_shown_in_full_is_recovered() -> None:
    # 48 of 50 in work: 2 are not
    diff = Sensitive("n minus events", {"n": 1, "events": -1}, 2)
    result = attack({"n": 50, "events": 48}, [], 5, sensitive=[diff])
    assert result.recoverable_cells == 1
    hidden = attack({"n": 50, "events": None}, [], 5, sensitive=[diff])
    assert hidden.ok


def test_union_relations_pin_a_hidden_cell() -> None:
    # work or studies = 10 shown, work = 10 shown: studies-only is 0, studies ≤ 10
    rels = [
        Relation("wos ≥ work", {"wos": 1, "work": -1}, ">="),
        Relation("wos ≥ study", {"wos": 1, "study": -1}, ">="),
        Relation("wos ≤ work + study", {"wos": 1, "work": -1, "study": -1}, "<="),
    ]
    result = attack({"wos": 10, "work": 7, "study": None}, rels, 5, primary=["study"])
    assert result.ranges["study"] == (3, 10)
    assert result.findings[0].kind == "narrowed"


def test_a_contradiction_in_the_relations_is_an_error() -> None:
    with pytest.raises(ValueError, match="infeasible"):
        attack({"a": None, "b": 9}, [_total("ab", 5)], 5)


def test_a_hidden_zero_known_to_be_zero_is_not_a_finding() -> None:
    result = attack({"a": None, "b": 9}, [_total("ab", 9)], 5)
    assert result.ok and result.ranges["a"] == (0, 0)
