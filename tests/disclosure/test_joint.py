"""Tests for rehab_analytics.disclosure.joint: suppression over linked tables."""

from __future__ import annotations

import pandas as pd

from rehab_analytics.disclosure import suppress
from rehab_analytics.disclosure.cells import Rule, cell_frame, recording
from rehab_analytics.disclosure.joint import protect


def _tables(rule):
    """The same four counts in two tables: by unit, and by unit and sex."""
    units = pd.DataFrame({"subproject": ["a", "b", "c"], "n": [3, 20, 30]})
    by_sex = pd.DataFrame(
        {
            "subproject": ["a", "a", "b", "b", "c", "c"],
            "sex": ["woman", "man"] * 3,
            "n": [1, 2, 9, 11, 14, 16],
        }
    )
    one = suppress(units, threshold=rule, margins=[[]], cells={"n": "persons"})
    two = suppress(
        by_sex,
        threshold=rule,
        margins=[["subproject"], ["sex"]],
        sex_col="sex",
        keys=["subproject", "sex"],
        cells={"n": "persons"},
    )
    return one, two


def test_a_cell_hidden_in_one_table_is_hidden_in_every_table() -> None:
    rule = Rule(5)
    with recording() as rec:
        _tables(rule)
    hidden, result = protect(rec, [], 5)
    assert result.ok
    # the unit table alone hides a and one partner; with the plan, both tables agree
    one, two = _tables(Rule(5, hidden))
    shown = pd.concat([cell_frame(one), cell_frame(two)])
    by_key = shown.groupby("key")["hidden"].nunique()
    assert (by_key == 1).all()
    assert bool(shown.set_index("key").loc["persons|subproject=a", "hidden"])


def test_a_rule_is_an_int_and_survives_pickling() -> None:
    import pickle

    rule = Rule(5, {"x"}, "2018")
    back = pickle.loads(pickle.dumps(rule))
    assert (int(back), back.hidden, back.scope) == (5, frozenset({"x"}), "2018")
    assert rule + 1 == 6
