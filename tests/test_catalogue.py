"""Tests for the bilingual catalogue: completeness, lookups and number formats."""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest

from rehab_analytics import catalogue, contract
from rehab_analytics.config import CONFIG_DIR
from rehab_analytics.sources import Organisation, Registry

NBSP = "\u00a0"


def _leaves(node: dict, prefix: str = ""):
    for key, value in node.items():
        if isinstance(value, dict) and "sv" in value:
            yield f"{prefix}{key}", value
        elif isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def test_every_entry_has_swedish_and_english_text():
    """Each catalogue leaf (labels and text) holds a non-empty sv and en string."""
    raw = tomllib.loads((CONFIG_DIR / "catalogue.toml").read_text(encoding="utf-8"))
    leaves = list(_leaves(raw))
    assert len(leaves) > 200
    bad = [
        key
        for key, value in leaves
        if not isinstance(value, dict)
        or set(value) != {"sv", "en"}
        or not all(isinstance(v, str) and v.strip() for v in value.values())
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("field", "codes"),
    [
        ("sex", contract.SEX),
        ("id_kind", contract.ID_KINDS),
        ("education", contract.EDUCATION),
        ("income_source", contract.INCOME_SOURCES),
        ("income_group", contract.INCOME_GROUPS),
        ("support_years", contract.SUPPORT_YEARS),
        ("occupation", contract.OCCUPATIONS),
        ("exit_reason", contract.EXIT_REASONS),
        ("forbund", contract.DEFAULT_FORBUND),
        ("forbund_name", contract.DEFAULT_FORBUND),
        ("subproject", contract.DEFAULT_SUBPROJECTS),
        ("subproject_name", contract.DEFAULT_SUBPROJECTS),
    ],
)
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_contract_code_has_a_label(field, codes, lang):
    """Every code of the data contract has a label of its own in both languages."""
    table = catalogue.labels(field, lang, registry=Registry(()))
    assert set(codes) <= set(table)
    assert all(table[c].strip() for c in codes)


def test_text_fills_placeholders_in_both_languages():
    """The source line reads as agreed in Swedish and English."""
    sv = catalogue.text("common.source_line", source="SUS", threshold=5)
    en = catalogue.text("common.source_line", "en", source="SUS", threshold=5)
    assert sv == "Källa: SUS; värden under 5 visas inte"
    assert en == "Source: SUS; values below 5 are not shown"


def test_unknown_key_names_key_and_language():
    """A missing key raises KeyError naming the key and the language."""
    with pytest.raises(KeyError, match=r"chart\.nope\.title.*'en'"):
        catalogue.text("chart.nope.title", "en")
    with pytest.raises(KeyError, match="placeholder"):
        catalogue.text("common.source_line", "sv", source="x")
    with pytest.raises(KeyError, match="no_such_code"):
        catalogue.label("sex", "no_such_code")
    with pytest.raises(KeyError, match="no_field"):
        catalogue.labels("no_field")


@pytest.mark.parametrize(
    "call",
    [
        lambda: catalogue.text("common.total", "de"),
        lambda: catalogue.label("sex", "woman", "fi"),
        lambda: catalogue.format_share(0.5, "de"),
    ],
)
def test_unknown_language_is_a_value_error(call):
    """Only sv and en are accepted."""
    with pytest.raises(ValueError, match="'sv'"):
        call()


def test_contract_columns_share_their_vocabulary_labels():
    """occupation_after and income_group_before resolve to their label tables."""
    assert catalogue.label("occupation_after", "employed") == "Förvärvsarbete"
    assert (
        catalogue.labels("income_group_before", "en")["none_public"]
        == "No public support"
    )
    assert catalogue.label("age_band", "50+", "en") == "50 years and over"


def test_added_organisation_falls_back_to_registry_name():
    """A förbund added by a source description is labelled from the registry."""
    org = Organisation("almhult", "Älmhult kommun", "motesplats", "Mötesplatsen")
    registry = Registry((org,))
    assert catalogue.label("subproject", "motesplats", "en", registry) == "Mötesplatsen"
    assert catalogue.label("forbund", "almhult", "sv", registry) == "Älmhult kommun"
    assert catalogue.labels("subproject", "sv", registry)["dino"] == "Dino"
    assert (
        catalogue.label("subproject", "unregistered", registry=registry)
        == "unregistered"
    )


@pytest.mark.parametrize(
    ("value", "lang", "decimals", "expected"),
    [
        (1234567.891, "sv", 2, f"1{NBSP}234{NBSP}567,89"),
        (1234567.891, "en", 2, "1,234,567.89"),
        (-1500, "sv", 0, f"\u22121{NBSP}500"),
        (-1500, "en", 0, "-1,500"),
        (0.125, "en", 2, "0.13"),
        (2.5, "sv", 0, "3"),
        (-0.0001, "sv", 1, "0,0"),
        (None, "sv", 0, "–"),
        (float("nan"), "en", 0, "–"),
        (pd.NA, "en", 0, "–"),
    ],
)
def test_format_number(value, lang, decimals, expected):
    """Decimal comma and no-break-space thousands in Swedish; half-up rounding."""
    assert catalogue.format_number(value, lang, decimals) == expected


def test_format_share_and_int():
    """Shares as per cent with the language's spacing; integers grouped."""
    assert catalogue.format_share(0.34, "sv") == f"34{NBSP}%"
    assert catalogue.format_share(0.34, "en") == "34%"
    assert catalogue.format_share(0.145, "sv", 0) == f"15{NBSP}%"
    assert catalogue.format_share(0.3456, "sv", 1) == f"34,6{NBSP}%"
    assert catalogue.format_int(570, "sv") == "570"
    assert catalogue.format_int(50691580, "sv") == f"50{NBSP}691{NBSP}580"
    assert catalogue.format_sek(12300, "sv") == f"12{NBSP}300{NBSP}kr"


def test_tables_labels_hook_uses_the_catalogue():
    """pipeline.Tables.labels gives catalogue labels in the table's language."""
    from rehab_analytics.processed import Tables

    empty = pd.DataFrame()
    tables = Tables(empty, empty, empty, empty, {}, lang="en")
    assert tables.labels("exit_reason")["misregistration"] == "Registered in error"
