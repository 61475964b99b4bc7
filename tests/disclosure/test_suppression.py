"""Tests for rehab_analytics.disclosure: suppression rules, publish guard, display strings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rehab_analytics.disclosure import (
    display_values,
    is_publishable,
    require_publishable,
    suppress,
)
from rehab_analytics.errors import DisclosureError


def _long_table(counts: np.ndarray) -> pd.DataFrame:
    rows, cols = counts.shape
    return pd.DataFrame(
        {
            "row": np.repeat([f"r{i}" for i in range(rows)], cols),
            "col": np.tile([f"c{j}" for j in range(cols)], rows),
            "count": counts.ravel(),
        }
    )


def _derivable(hidden_cells: pd.DataFrame) -> set[tuple[str, str]]:
    """Hidden cells whose value is fixed by the published row and column totals."""
    cells = list(zip(hidden_cells["row"], hidden_cells["col"], strict=True))
    if not cells:
        return set()
    groups = [("row", r) for r in {c[0] for c in cells}] + [
        ("col", c) for c in {c[1] for c in cells}
    ]
    a = np.array(
        [
            [(cell[0] if kind == "row" else cell[1]) == key for cell in cells]
            for kind, key in groups
        ],
        dtype=float,
    )
    rank = np.linalg.matrix_rank(a)
    found = set()
    for i, cell in enumerate(cells):
        unit = np.zeros((1, len(cells)))
        unit[0, i] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            found.add(cell)
    return found


count_tables = st.tuples(st.integers(2, 6), st.integers(2, 6)).flatmap(
    lambda shape: st.lists(
        st.integers(0, 30), min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]
    ).map(lambda values: np.array(values).reshape(shape))
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=count_tables, threshold=st.integers(2, 6))
def test_suppression_properties_on_random_two_way_tables(counts, threshold):
    """No small count visible, hidden cells are NA not 0, none derivable from totals."""
    table = _long_table(counts)
    out = suppress(
        table, threshold=threshold, count_cols=("count",), margins=[["row"], ["col"]]
    )
    hidden = out["count__suppressed"].to_numpy()
    visible = out.loc[~hidden, "count"].astype(int)
    assert not ((visible >= 1) & (visible < threshold)).any()
    assert out.loc[hidden, "count"].isna().all()
    assert (visible.to_numpy() == table.loc[~hidden, "count"].to_numpy()).all()
    assert out["count"].dtype == "Int64"
    small = (table["count"] >= 1) & (table["count"] < threshold)
    assert hidden[small.to_numpy()].all()
    for key in ("row", "col"):
        per_group = out.groupby(key)["count__suppressed"].sum()
        assert not (per_group == 1).any(), f"a {key} has exactly one hidden cell"
    assert _derivable(out.loc[hidden, ["row", "col"]]) == set()
    assert out.attrs["disclosure"]["suppressed_cells"] == int(hidden.sum())
    assert out.attrs["disclosure"]["unprotected_cells"] == 0
    assert is_publishable(out)


def test_primary_suppression_hides_small_counts_and_their_shares():
    """Counts 1..4 are hidden, 0 and 5 shown; shares follow hidden counts and n < 5."""
    table = pd.DataFrame(
        {
            "unit": ["a", "b", "c", "d", "e"],
            "n": [4, 40, 40, 0, 5],
            "events": [2, 0, 3, 0, 5],
            "share": [0.5, 0.0, 0.075, np.nan, 1.0],
            "ci_low": [0.15, 0.0, 0.026, np.nan, 0.57],
            "ci_high": [0.85, 0.088, 0.2, np.nan, 1.0],
        }
    )
    out = suppress(table)
    expected = pd.DataFrame(
        {
            "unit": ["a", "b", "c", "d", "e"],
            "n": pd.array([None, 40, 40, 0, 5], dtype="Int64"),
            "events": pd.array([None, 0, None, 0, 5], dtype="Int64"),
            "share": pd.array([None, 0.0, None, None, 1.0], dtype="Float64"),
            "ci_low": pd.array([None, 0.0, None, None, 0.57], dtype="Float64"),
            "ci_high": pd.array([None, 0.088, None, None, 1.0], dtype="Float64"),
            "n__suppressed": [True, False, False, False, False],
            "events__suppressed": [True, False, True, False, False],
            "share__suppressed": [True, False, True, True, False],
            "ci_low__suppressed": [True, False, True, True, False],
            "ci_high__suppressed": [True, False, True, True, False],
        }
    )
    pdt.assert_frame_equal(out, expected)
    assert out.attrs["disclosure"]["threshold"] == 5
    assert out.attrs["disclosure"]["suppressed_cells"] == 12
    assert "n__suppressed" not in table.columns


def test_secondary_suppression_hand_example():
    """A lone hidden cell gets its row's and column's smallest partners hidden."""
    counts = np.array([[3, 10, 20], [12, 15, 30], [40, 8, 25]])
    out = suppress(
        _long_table(counts), count_cols=("count",), margins=[["row"], ["col"]]
    )
    hidden = out.pivot(index="row", columns="col", values="count__suppressed")
    expected = pd.DataFrame(
        [[True, True, False], [True, True, False], [False, False, False]],
        index=pd.Index(["r0", "r1", "r2"], name="row"),
        columns=pd.Index(["c0", "c1", "c2"], name="col"),
    )
    pdt.assert_frame_equal(hidden, expected)


def test_secondary_suppression_hides_a_zero_when_nothing_else_is_left():
    """If the only other cell in a group is 0, that zero is hidden (as NA, not 0)."""
    table = pd.DataFrame({"unit": ["a", "a"], "reason": ["x", "y"], "count": [3, 0]})
    out = suppress(table, count_cols=("count",), margins=[["unit"]])
    assert out["count__suppressed"].tolist() == [True, True]
    assert out["count"].isna().all()


def test_secondary_suppression_breaks_bridges_between_blocks():
    """A hidden cell linking two protected blocks is not left derivable."""
    counts = np.array(
        [
            [2, 3, 50, 50],
            [3, 2, 50, 50],
            [50, 50, 2, 3],
            [50, 50, 3, 2],
        ]
    )
    counts[0, 2] = 1  # a fifth small cell bridging the two 2x2 blocks
    out = suppress(
        _long_table(counts), count_cols=("count",), margins=[["row"], ["col"]]
    )
    hidden = out.loc[out["count__suppressed"], ["row", "col"]]
    assert _derivable(hidden) == set()


def test_sex_rule_hides_the_other_sex():
    """Within each unit, a hidden sex hides every sex; other units keep theirs."""
    table = pd.DataFrame(
        {
            "unit": ["a", "a", "b", "b"],
            "sex": ["woman", "man", "woman", "man"],
            "n": [3, 25, 12, 30],
        }
    )
    out = suppress(table, sex_col="sex")
    assert out["n__suppressed"].tolist() == [True, True, False, False]
    assert out["n"].tolist()[2:] == [12, 30]


def test_sex_rule_rejects_unknown_column():
    """A sex_col that is not in the table is a clear error."""
    with pytest.raises(ValueError, match="sex_col 'kon' is not in the table"):
        suppress(pd.DataFrame({"n": [1]}), sex_col="kon")


def test_margin_with_unknown_column_is_an_error():
    """Margins naming absent columns raise ValueError."""
    with pytest.raises(ValueError, match=r"margin columns \['region'\]"):
        suppress(pd.DataFrame({"n": [1]}), margins=[["region"]])


def test_count_column_must_be_numeric():
    """A text count column is rejected with the column's name."""
    with pytest.raises(ValueError, match="column 'n' should hold numbers"):
        suppress(pd.DataFrame({"n": ["few"]}))


def test_suppress_is_idempotent():
    """Suppressing an already suppressed table changes nothing."""
    table = _long_table(np.array([[3, 10, 20], [12, 15, 30]]))
    once = suppress(table, count_cols=("count",), margins=[["row"], ["col"]])
    twice = suppress(once, count_cols=("count",), margins=[["row"], ["col"]])
    pdt.assert_frame_equal(once, twice)


def test_require_publishable_rejects_unmarked_and_leaky_tables():
    """Unmarked tables and marked tables with a small visible count are refused."""
    raw = pd.DataFrame({"n": [3, 10]})
    with pytest.raises(DisclosureError, match="call|Call suppress"):
        require_publishable(raw, "sheet 'exit'")
    with pytest.raises(DisclosureError, match="sheet 'exit' cannot be published"):
        require_publishable(raw, "sheet 'exit'")
    leaky = suppress(raw).assign(n=[3, 10])
    assert not is_publishable(leaky)
    with pytest.raises(
        DisclosureError, match=r"column 'n' shows 1 count\(s\) between 1 and 4"
    ):
        require_publishable(leaky)
    require_publishable(suppress(raw))
    shares = suppress(pd.DataFrame({"n": [3, 10], "share": [0.5, 0.2]}))
    with pytest.raises(DisclosureError, match="column 'share' shows a share"):
        require_publishable(shares.assign(share=[0.5, 0.2]))


def test_display_values_swedish_and_english():
    """Hidden counts and shares both show '..'; numbers follow sv/en conventions."""
    table = pd.DataFrame(
        {
            "unit": ["a", "b", "c"],
            "n": [3, 12345, 40],
            "share": [0.5, 0.2554, np.nan],
            "oe": [1.0, 0.875, 1.25],
        }
    )
    published = suppress(table)
    sv = display_values(published)
    assert sv.columns.tolist() == ["unit", "n", "share", "oe"]
    assert sv.to_dict("list") == {
        "unit": ["a", "b", "c"],
        "n": ["..", "12\u00a0345", "40"],
        "share": ["..", "25,5\u00a0%", ""],
        "oe": ["1,00", "0,88", "1,25"],
    }
    en = display_values(published, lang="en", mark="–", decimals=0)
    assert en["n"].tolist() == ["–", "12,345", "40"]
    assert en["share"].tolist() == ["–", "26%", ""]


def test_display_values_mark_does_not_show_the_threshold():
    """At any threshold a hidden count is '..', never '<t'; raw input is refused."""
    published = suppress(pd.DataFrame({"n": [2, 7]}), threshold=3)
    assert display_values(published)["n"].tolist() == ["..", "7"]
    with pytest.raises(DisclosureError, match="display_values"):
        display_values(pd.DataFrame({"n": [7]}))
    with pytest.raises(ValueError, match="expected 'sv' or 'en'"):
        display_values(published, lang="de")


def test_small_and_protecting_cells_show_the_same_mark():
    """A primary (small) and a secondary (protecting) cell display identically."""
    table = pd.DataFrame(
        {"unit": ["a", "a", "a", "b", "b"], "reason": ["x", "y", "z", "x", "y"]}
    ).assign(count=[3, 40, 60, 25, 30])
    out = suppress(table, count_cols=("count",), margins=[["unit"]])
    assert out["count__suppressed"].tolist() == [True, True, False, False, False]
    # the flag is kept (internal) but changes nothing that is displayed
    assert out["count__secondary__suppressed"].tolist() == [
        False,
        True,
        False,
        False,
        False,
    ]
    shown = display_values(out)
    assert shown["count"].tolist() == ["..", "..", "60", "25", "30"]
    assert "count__secondary__suppressed" not in shown.columns
    unflagged = out.drop(columns=["count__secondary__suppressed"])
    unflagged.attrs = out.attrs
    pdt.assert_frame_equal(display_values(unflagged), shown)
    pdt.assert_frame_equal(
        suppress(out, count_cols=("count",), margins=[["unit"]]), out
    )
    by_sex = suppress(
        pd.DataFrame({"sex": ["woman", "man"], "n": [3, 80]}), sex_col="sex"
    )
    assert by_sex["n__secondary__suppressed"].tolist() == [False, True]
    assert display_values(by_sex, lang="en")["n"].tolist() == ["..", ".."]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    counts=st.lists(st.integers(0, 60), min_size=2, max_size=8),
    threshold=st.integers(2, 10),
    lang=st.sampled_from(["sv", "en"]),
)
def test_every_hidden_cell_shows_dots_and_nothing_shows_less_than(
    counts, threshold, lang
):
    """Whatever is hidden, and why, it shows '..'; no display text starts with '<'."""
    table = pd.DataFrame(
        {"unit": [f"u{i % 2}" for i in range(len(counts))], "n": counts}
    ).assign(share=lambda d: d["n"] / 100)
    out = suppress(table, threshold=threshold, margins=[["unit"]])
    shown = display_values(out, lang=lang)
    for col in ("n", "share"):
        hidden = out[f"{col}__suppressed"].to_numpy()
        assert (shown[col].to_numpy()[hidden] == "..").all()
        assert not (shown[col].to_numpy()[~hidden] == "..").any()
        assert not shown[col].str.startswith("<").any()
