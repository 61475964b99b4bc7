"""Tests for coarse p-values: the rule, the table verb and the text in every output."""

from __future__ import annotations

import pandas as pd
import pytest

from rehab_analytics import disclosure, narrative
from rehab_analytics.disclosure import pvalues


@pytest.mark.parametrize(
    ("p", "counts", "expected"),
    [
        (0.25, [0, 3], (0.05, True)),  # exact McNemar of 0 and 3 discordant pairs
        (0.0039, [0, 8], (0.0039, False)),  # 0 and 8 are both publishable
        (0.0123, [None, 40], (0.0, True)),  # a hidden count
        (0.3, [pd.NA, 40], (0.05, True)),
        (0.0123, [40, 12], (0.0123, False)),
        (0.5, [0, 0], (0.5, False)),
    ],
)
def test_coarse_p_value_keeps_only_the_side_when_a_count_is_small_or_hidden(
    p, counts, expected
):
    """Counts in 1..t-1 or hidden give the lower end of p's side of 0.05, else p."""
    assert disclosure.coarse_p_value(p, counts, 5) == expected


def test_a_missing_p_value_stays_missing():
    """No p-value (no pairs) is neither exact nor coarse."""
    value, coarse = disclosure.coarse_p_value(float("nan"), [1, 2], 5)
    assert pd.isna(value) and coarse is False


def test_coarsen_p_marks_rows_and_leaves_hidden_p_values_hidden():
    """A hidden p stays hidden (not coarse); others follow the rule row by row."""
    table = pd.DataFrame(
        {
            "p_value": [0.25, 0.0123, 0.001],
            "p_value__suppressed": [False, False, True],
        }
    )
    basis = pd.DataFrame({"b": [0, 40, 1], "c": [3, 12, 2]})
    out = disclosure.coarsen_p(table, "p_value", basis, 5)
    assert out["p_value"].tolist()[:2] == [0.05, 0.0123]
    assert out["p_value"].isna().tolist() == [False, False, True]
    assert out["p_value__coarse__suppressed"].tolist() == [True, False, False]
    with pytest.raises(ValueError, match="basis has 2 rows and the table 3"):
        disclosure.coarsen_p(table, "p_value", basis.iloc[:2], 5)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_coarse_text_is_the_same_in_display_values_and_the_narrative(lang):
    """display_values (no catalogue at its layer) and the narrative say the same."""
    for value in (0.0, pvalues.ALPHA):
        assert disclosure.coarse_p_text(value, lang) == narrative.coarse_p(value, lang)
    assert narrative.coarse_p(0.0, lang) == ("p < 0,05" if lang == "sv" else "p < 0.05")
    assert narrative.coarse_p(0.05, lang) == (
        "p ≥ 0,05" if lang == "sv" else "p ≥ 0.05"
    )


def test_the_coarse_flag_is_a_flag_column_and_alpha_is_the_reports_level():
    """Writers drop every ``__suppressed`` column, so the coarse flag is never shown."""
    assert disclosure.COARSE_SUFFIX.endswith(disclosure.FLAG_SUFFIX)
    assert pvalues.ALPHA == narrative.SIGNIFICANCE


def test_display_values_shows_a_coarse_p_value_as_its_side_only():
    """A coarse cell shows "p ≥ 0,05"; an exact one its number; a hidden one ".."."""
    table = disclosure.suppress(
        pd.DataFrame({"n": [40, 200, 60], "p_value": [0.25, 0.0123, 0.5]})
    )
    basis = pd.DataFrame({"b": [0, 40, pd.NA], "c": [3, 12, 30]})
    table = disclosure.coarsen_p(table, "p_value", basis, 5)
    shown = disclosure.display_values(table, lang="sv")
    assert shown["p_value"].tolist() == ["p ≥ 0,05", "0,01", "p ≥ 0,05"]
    assert "p_value__coarse__suppressed" not in shown.columns
