"""Tests for the data-quality tables."""

import pandas as pd

from rehab_analytics.measures import quality as quality


def test_rare_unknown_labels_are_pooled_not_published():
    """A label seen fewer than threshold times (maybe a typed name) is not shown."""
    rejects = pd.DataFrame(
        {
            "column": ["Utbildning"] * 6 + ["Kön"],
            "value": ["Gymn."] * 5 + ["Anna Svensson", "X"],
            "reason": ["unknown_label"] * 7,
        }
    )
    out = quality.unknown_labels(rejects, threshold=5, other_label="(other)")
    assert "Anna Svensson" not in set(out["value"])
    expected = pd.DataFrame(
        {
            "column": ["Utbildning", "Kön", "Utbildning"],
            "value": ["Gymn.", "(other)", "(other)"],
            "n": pd.array([5, 1, 1], dtype="Int64"),
        }
    )
    pd.testing.assert_frame_equal(
        out.astype({"column": object, "value": object}),
        expected.astype({"column": object, "value": object}),
    )
