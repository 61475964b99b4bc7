"""Tests for the plain-language sentences: verdicts, hidden values, languages."""

from __future__ import annotations

import pandas as pd
import pytest

from rehab_analytics import catalogue, narrative

NBSP = "\u00a0"
SHARE = {"n": 83, "share": 0.4337, "ci_low": 0.331, "ci_high": 0.544}


def _oe(ratio: float, low: float, high: float) -> dict:
    return {"oe": ratio, "ci_low": low, "ci_high": high}


def _rest(diff: float, low: float, high: float, p_adjusted: float) -> dict:
    return {
        "difference": diff,
        "ci_low": low,
        "ci_high": high,
        "p_adjusted": p_adjusted,
    }


def test_casemix_not_significant_reads_as_agreed_in_swedish():
    """The brief's example sentence, word for word (with Swedish number format)."""
    text = narrative.comparison_sentence(
        "unga_vuxna", SHARE, oe=_oe(1.1, 0.8, 1.5), lang="sv"
    )
    assert text == (
        f"Unga vuxna: 43{NBSP}% (95{NBSP}% KI 33–54{NBSP}%) i arbete eller studier; "
        "skillnaden mot övriga är inte säkerställd efter justering för deltagarnas "
        f"bakgrund (O/F 1,10, 95{NBSP}% KI 0,80–1,50)."
    )


@pytest.mark.parametrize(
    ("oe", "sv", "en"),
    [
        (_oe(1.4, 1.1, 1.8), "högre än förväntat", "higher than expected"),
        (_oe(0.6, 0.4, 0.9), "lägre än förväntat", "lower than expected"),
        (
            _oe(1.0, 0.7, 1.4),
            "inte säkerställd efter justering",
            "not established after",
        ),
    ],
    ids=["significant-high", "significant-low", "not-significant"],
)
def test_casemix_verdicts_in_both_languages(oe, sv, en):
    """With case mix on, the O/E interval against 1 decides high, low or not real."""
    assert sv in narrative.comparison_sentence("dino", SHARE, oe=oe, lang="sv")
    assert en in narrative.comparison_sentence("dino", SHARE, oe=oe, lang="en")


@pytest.mark.parametrize(
    ("rest", "sv", "en"),
    [
        (
            _rest(0.16, 0.05, 0.27, 0.029),
            "högre än i övriga",
            "higher than in the other",
        ),
        (
            _rest(-0.14, -0.23, -0.02, 0.01),
            "lägre än i övriga",
            "lower than in the other",
        ),
        (
            _rest(0.11, 0.0, 0.23, 0.173),
            "inte säkerställd (+11",
            "not established (+11",
        ),
    ],
    ids=["significant-high", "significant-low", "not-significant"],
)
def test_crude_verdicts_use_the_holm_adjusted_p_value(rest, sv, en):
    """With case mix off, Holm-adjusted p < 0.05 decides, and the sentence says unadjusted."""
    text_sv = narrative.comparison_sentence(
        "dino", SHARE, vs_rest=rest, casemix=False, lang="sv"
    )
    text_en = narrative.comparison_sentence(
        "dino", SHARE, vs_rest=rest, casemix=False, lang="en"
    )
    assert sv in text_sv and "inte justerat för deltagarnas bakgrund" in text_sv
    assert en in text_en and "not adjusted for the participants’ background" in text_en
    assert "Holm" in text_sv and "Holm" in text_en


def test_unadjusted_significance_is_not_used_when_casemix_is_on():
    """A crude difference with small p does not make the case-mix verdict 'higher'."""
    text = narrative.comparison_sentence(
        "dino",
        SHARE,
        vs_rest=_rest(0.16, 0.05, 0.27, 0.001),
        oe=_oe(1.1, 0.9, 1.4),
        lang="en",
    )
    assert "not established after adjusting" in text and "higher" not in text


@pytest.mark.parametrize(
    ("lang", "warning"),
    [
        ("sv", "Få deltagare (n = 14): tolka med försiktighet."),
        ("en", "Few participants (n = 14): interpret with care."),
    ],
)
def test_small_unit_gets_a_warning(lang, warning):
    """Units under 20 participants end with an interpret-with-care note."""
    small = {**SHARE, "n": 14}
    text = narrative.comparison_sentence("aktiv", small, oe=_oe(1, 0.5, 1.8), lang=lang)
    assert text.endswith(warning)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_hidden_share_is_said_not_shown(lang):
    """A suppressed share gives 'not shown', never a number."""
    hidden = {"n": pd.NA, "share": pd.NA, "share__suppressed": True}
    text = narrative.comparison_sentence("aktiv", hidden, oe=_oe(1, 0.5, 2), lang=lang)
    assert ("visas inte" if lang == "sv" else "not shown") in text
    assert "%" not in text


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_summary_has_caveats_and_switches_with_casemix(lang):
    """The summary never ranks, warns about six comparisons and the exploratory funnel."""
    shares = pd.DataFrame(
        {
            "subproject": ["dino", "aktiv"],
            "n": [83, 14],
            "share": [0.43, 0.2],
            "ci_low": [0.33, 0.07],
            "ci_high": [0.54, 0.45],
        }
    )
    oe = pd.DataFrame(
        {
            "unit": ["dino", "aktiv"],
            "oe": [1.1, 0.8],
            "ci_low": [0.8, 0.3],
            "ci_high": [1.5, 1.6],
        }
    )
    on = narrative.comparison_summary(
        shares, oe=oe, lang=lang, casemix=True, covariates=["age_band", "sex"]
    )
    off = narrative.comparison_summary(shares, lang=lang, casemix=False)
    lines = on.splitlines()
    assert (
        lines[0].startswith("- Dino")
        and "Utökat AKTIV" in lines[1]
        or "Extended AKTIV" in lines[1]
    )
    assert len(lines) == 6
    words = {
        "sv": ("rangordnas inte", "utforskande", "ålder, kön"),
        "en": ("not ranked", "exploratory", "age, sex"),
    }[lang]
    assert all(w in on for w in words)
    assert ("inte justerad" if lang == "sv" else "not adjusted") in off


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "sv",
            f"Utan offentlig försörjning: 11{NBSP}% före och 46{NBSP}% efter insatsen, "
            "bland 84 deltagare med känd försörjning (McNemar p < 0,001: en "
            "säkerställd förändring).",
        ),
        (
            "en",
            "Without public support: 11% before and 46% after the programme, among "
            "84 participants with known income (McNemar p < 0.001: a real change).",
        ),
    ],
)
def test_mcnemar_sentence(lang, expected):
    """The paired before/after sentence gives both shares and the McNemar verdict."""
    row = {"n": 84, "before": 9, "after": 39, "p_value": 1e-7}
    assert narrative.mcnemar_sentence(row, lang) == expected


def test_mcnemar_hidden_counts_keep_the_verdict_only():
    """Hidden before/after counts are not shown; n and the verdict are."""
    row = {"n": 75, "before": pd.NA, "after": pd.NA, "p_value": 0.3}
    text = narrative.mcnemar_sentence(row, "en")
    assert "not shown" in text and "no established change" in text and "%" not in text


@pytest.mark.parametrize(
    ("value", "sv", "en"),
    [
        (0.0, "McNemar p < 0,05: en säkerställd", "McNemar p < 0.05: a real change"),
        (0.05, "McNemar p ≥ 0,05: ingen", "McNemar p ≥ 0.05: no established"),
    ],
)
def test_mcnemar_sentence_quotes_a_coarse_p_value_as_its_side(value, sv, en):
    """A coarse p (few discordant pairs) is quoted as "p < 0.05"/"p ≥ 0.05" only."""
    row = {
        "n": 40,
        "before": pd.NA,
        "after": pd.NA,
        "p_value": value,
        "p_value__coarse__suppressed": True,
    }
    assert sv in narrative.mcnemar_sentence(row, "sv")
    assert en in narrative.mcnemar_sentence(row, "en")


def test_crude_verdict_quotes_a_coarse_adjusted_p_value_as_its_side():
    """A coarse Holm p flows into the comparison sentence as "p < 0.05"."""
    rest = {**_rest(0.16, 0.05, 0.27, 0.0), "p_adjusted__coarse__suppressed": True}
    text = narrative.comparison_sentence(
        "dino", SHARE, vs_rest=rest, casemix=False, lang="en"
    )
    assert "p < 0.05" in text and "p < 0.001" not in text


def test_time_sentence_labels_completed_only_median():
    """The KM median (weeks) counts the censored; the completed-only median says so."""
    row = {
        "n": 105,
        "censored": 21,
        "km_median_weeks": 43.0,
        "km_median_ci_low": 31.0,
        "km_median_ci_high": 50.0,
        "completed_median_weeks": 36.0,
    }
    text = narrative.time_sentence(row, "sv")
    assert "inom 43 veckor (95\u00a0% KI 31–50;" in text
    assert "21 som fortfarande deltar" in text
    assert "medianen 36 veckor (endast avslutade: underskattar tiden)" in text
    row = {"n": 20, "km_median_weeks": None}
    assert "not reached" in narrative.time_sentence(row, "en")


def test_a_hidden_median_is_not_shown_rather_than_not_reached():
    """Hidden for few people (n or at risk) the median is "not shown", in text and title."""
    shown = narrative.time_title({"n": 20, "km_median_weeks": 12.0}, "en", "aktiv")
    assert shown == "Extended AKTIV: half had left within 12 weeks (Kaplan–Meier)"
    few_people = {"n": None, "n__suppressed": True, "km_median_weeks": None}
    past_curve = {"n": 20, "km_median_weeks": None, "km_median_weeks__suppressed": True}
    for row in (few_people, past_curve, None):
        assert narrative.time_sentence(row, "en") == (
            "The median time in the programme is not shown: it would rest on too few "
            "participants."
        )
    assert narrative.time_title(few_people, "en", "aktiv") == (
        "Extended AKTIV: time in the programme (too few participants to show a curve)"
    )
    assert narrative.time_title(past_curve, "en", "aktiv") == (
        "Extended AKTIV: time in the programme (Kaplan–Meier)"
    )


def test_funnel_and_casemix_takeaways():
    """Funnel names units outside the 95 % limits; O/E names units off 1."""
    flags = pd.DataFrame(
        {"unit": ["dino", "aktiv"], "flag": ["high", "not_significant"]}
    )
    assert "Dino" in narrative.funnel_sentence(
        flags, "en", outcome="work_or_study_after"
    )
    oe = pd.DataFrame({"unit": ["dino"], "ci_low": [0.5], "ci_high": [0.9]})
    assert narrative.casemix_sentence(oe, "sv", outcome="x").endswith("Dino")


def test_caveats_hide_a_small_misregistration_count():
    """A hidden misregistration count is 'not shown', never said to be small."""
    hidden = narrative.caveats("en", threshold=5, misregistrations=None)
    assert "registered in error are left out (the number is not shown)" in hidden
    assert "fewer than 5" not in hidden.lower().replace(
        catalogue.text("common.hidden_values", "en", threshold=5).lower(), ""
    )
    assert "9 episodes" in narrative.caveats("en", threshold=5, misregistrations=9)
    assert "Unga vuxna" in narrative.caveats(
        "sv", threshold=5, small_units=["unga_vuxna"]
    )


def test_heading_and_text_render_as_markdown():
    """Headings are numbered Markdown from the catalogue; Text shows as Markdown."""
    head = narrative.heading("outcomes", "sv", 4)
    assert head == "## 4. Resultat" and head._repr_markdown_() == head


@pytest.mark.parametrize(
    ("lang", "threshold", "first"),
    [
        (
            "sv",
            5,
            "- Visas som ..: färre än 5, eller dolt så att ett litet antal inte kan "
            "räknas fram.",
        ),
        (
            "en",
            3,
            "- Shown as ..: fewer than 3, or hidden so that a small number cannot be "
            "worked out.",
        ),
    ],
)
def test_caveats_explain_the_mark_once_then_the_zero_and_all_policy(
    lang, threshold, first
):
    """The caveats open with the '..' explanation (run's threshold) and the 0/100 % rule."""
    lines = narrative.caveats(lang, threshold=threshold).splitlines()
    assert lines[0] == first
    policy = catalogue.text(
        "narrative.caveat.group_disclosure", lang, threshold=threshold
    )
    assert lines[1] == f"- {policy}"
    assert ("0 %" if lang == "sv" else "0%") in policy and "48" in policy
    assert sum(".." in line for line in lines) == 1
    assert "<" not in "\n".join(lines)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_sentences_for_hidden_values_never_say_the_value_is_small(lang):
    """A hidden n or share is 'not shown': 'too few' would tell the reader it is small."""
    hidden = {"n": pd.NA, "share": pd.NA, "share__suppressed": True}
    texts = [
        narrative.comparison_sentence("aktiv", hidden, lang=lang, casemix=False),
        narrative.comparison_sentence(
            "aktiv",
            SHARE,
            oe={"oe": pd.NA, "ci_low": pd.NA, "ci_high": pd.NA},
            lang=lang,
        ),
        narrative.enrolment_sentence({"enrolled": pd.NA}, lang, "dino"),
        narrative.step_sentence(hidden, "step", lang),
        narrative.mcnemar_sentence(
            {"n": 75, "before": pd.NA, "after": pd.NA, "p_value": 0.3}, lang
        ),
        narrative.caveats(lang, threshold=5, misregistrations=None).split("\n", 2)[2],
    ]
    not_shown = "visas inte" if lang == "sv" else "not shown"
    small = (
        ("för få", "färre än", "under 5")
        if lang == "sv"
        else ("too few", "fewer than", "below 5")
    )
    for text in texts:
        assert not_shown in text, text
        assert not any(word in text.lower() for word in small), text
        assert "<5" not in text


def test_slide_notes_keep_one_short_line_on_the_mark():
    """Slide notes: source, n, then one short line saying what '..' is."""
    notes = narrative.source_notes("sv", source="SUS", n=None, threshold=5)
    assert notes == "Källa: SUS. visas inte. ..: färre än 5, eller dolt som skydd."
    en = narrative.source_notes("en", source="SUS", n=442, threshold=3)
    assert en == "Source: SUS. n = 442. ..: fewer than 3, or hidden as protection."
