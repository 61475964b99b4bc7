"""Tests for rehab_analytics.sources: descriptions, registry, vocabularies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rehab_analytics import contract
from rehab_analytics.errors import SourceDescriptionError
from rehab_analytics.sources import (
    Band,
    build_registry,
    find_descriptions,
    glob_problem,
    load_sources,
    load_vocabularies,
    normalise_label,
    normalise_labels,
    parse_description,
    source_dirs,
    source_vocabularies,
)

SEVENTH = """
[organisation]
forbund = "almhult"
forbund_name = "Älmhults kommun"
forbund_aliases = ["Älmhult"]
subproject = "dagverksamhet"
subproject_name = "Daglig verksamhet"
subproject_aliases = ["Mötesplatsen"]
target_group = "Personer med psykisk funktionsnedsättning"
colour = "#123456"

[[tables]]
kind = "participants"
files = ["almhult/*.csv"]
header_row = 2
band_row = 1

[tables.columns]
personnummer = "Personnummer"
start_date = "Start"
income_after = { band = "Efter" }
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _table(columns: str, extra: str = "") -> str:
    return (
        '[organisation]\nforbund = "x"\nsubproject = "y"\n'
        f'[[tables]]\nkind = "participants"\nfiles = ["a.csv"]\n{extra}\n'
        f"[tables.columns]\n{columns}\n"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Försörjningsstöd", "forsorjningsstod"),
        ("FÖRSÖRJNINGS-STÖD", "forsorjnings stod"),
        ("  Ek. bistånd ", "ek bistand"),
        ("1–2 år", "1 2 ar"),
        ("Kvinna\u00a0", "kvinna"),
        ("A_kassa", "a kassa"),
    ],
)
def test_normalise_label(raw, expected):
    """Labels are matched without diacritics, case or punctuation runs."""
    assert normalise_label(raw) == expected


def test_normalise_labels_keeps_missing():
    """Series normalisation maps each distinct value and keeps NA."""
    out = normalise_labels(pd.Series(["Övriga", None, "ÖVRIGA"], dtype=object))
    assert out.tolist() == ["ovriga", pd.NA, "ovriga"]


def test_builtin_sources_register_the_six_in_default_order():
    """The shipped descriptions give the six förbund and subprojects in contract order."""
    registry = build_registry(load_sources(dirs=source_dirs()[:1]))
    assert registry.forbund_codes == contract.DEFAULT_FORBUND
    assert registry.subproject_codes == contract.DEFAULT_SUBPROJECTS


def test_seventh_organisation_by_config(tmp_path, monkeypatch):
    """One more TOML file in RA_SOURCES_DIR registers a seventh organisation, last."""
    extra = tmp_path / "extra"
    _write(extra, "almhult.toml", SEVENTH)
    monkeypatch.setenv("RA_SOURCES_DIR", str(extra))
    sources = load_sources(tmp_path / "raw")
    registry = build_registry(sources)
    assert registry.forbund_codes == (*contract.DEFAULT_FORBUND, "almhult")
    assert registry.subproject_codes[-1] == "dagverksamhet"
    org = registry.organisation("dagverksamhet")
    assert (org.colour, org.target_group) == (
        "#123456",
        "Personer med psykisk funktionsnedsättning",
    )
    spec = next(s for s in sources if s.name == "almhult").tables[0]
    assert spec.columns["income_after"] == Band("Efter")
    assert spec.required == ("personnummer", "start_date")


def test_registry_resolves_names_and_aliases(tmp_path):
    """Förbund and subproject labels resolve by code, name or alias, any spelling."""
    path = _write(tmp_path, "almhult.toml", SEVENTH)
    registry = build_registry([parse_description(path)])
    labels = pd.Series(["ÄLMHULTS KOMMUN", "almhult", "Almhult", "Nowhere", None])
    assert registry.resolve_forbund(labels).tolist() == [
        "almhult",
        "almhult",
        "almhult",
        pd.NA,
        pd.NA,
    ]
    assert registry.resolve_subproject(pd.Series(["mötesplatsen"])).tolist() == [
        "dagverksamhet"
    ]


def test_later_folders_override_by_file_name(tmp_path):
    """A description with the same file name in a later folder replaces the earlier one."""
    first = _write(tmp_path / "a", "x.toml", SEVENTH)
    second = _write(tmp_path / "b", "x.toml", SEVENTH.replace("#123456", "#654321"))
    _write(tmp_path / "b", "z.toml", SEVENTH.replace('"dagverksamhet"', '"other"'))
    found = find_descriptions([first.parent, second.parent])
    assert found == [second, tmp_path / "b" / "z.toml"]


def test_raw_sources_folder_is_searched(tmp_path):
    """<raw>/_sources is the second place descriptions are looked for."""
    dirs = source_dirs(tmp_path)
    assert dirs[1] == tmp_path / "_sources"


def test_defaults_come_first_whatever_the_file_order(tmp_path):
    """An added organisation sorting before the defaults by name still comes after them."""
    _write(tmp_path, "aaa.toml", SEVENTH)
    registry = build_registry(load_sources(dirs=[*source_dirs()[:1], tmp_path]))
    assert registry.subproject_codes[:6] == contract.DEFAULT_SUBPROJECTS
    assert registry.subproject_codes[6] == "dagverksamhet"


def test_duplicate_subproject_is_an_error(tmp_path):
    """Two descriptions registering one subproject are rejected, naming the file."""
    a = parse_description(_write(tmp_path, "a.toml", SEVENTH))
    b = parse_description(_write(tmp_path, "b.toml", SEVENTH))
    with pytest.raises(
        SourceDescriptionError, match=r"b\.toml.*already registered by a\.toml"
    ):
        build_registry([a, b])


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (
            _table('personnummer = "P"\nstart_date = "S"', "headr_row = 2"),
            r"tables\[0\]\.headr_row.*unknown key",
        ),
        (
            _table('personnummer = "P"\nstart_date = "S"\nshoe_size = "X"'),
            r"columns\.shoe_size.*not a contract field",
        ),
        (
            _table('personnummer = "P"\nstart_date = "S"').replace(
                '"participants"', '"budget"'
            ),
            r"tables\[0\]\.kind.*'budget'",
        ),
        (
            _table('personnummer = "P"\nstart_date = "S"', 'header_row = "top"'),
            r"header_row.*'top'",
        ),
        (
            _table(
                'personnummer = "P"\nstart_date = "S"\nincome_before = { band = "Före" }'
            ),
            r"band_row",
        ),
        (
            _table('personnummer = "P"\nstart_date = "S"\nsex = { band = "K" }'),
            r"columns\.sex",
        ),
        (_table('personnummer = "P"'), r"'start_date' is required but not in columns"),
        (
            _table('personnummer = "P"\nstart_date = "S"').replace(
                '"x"', '"Nord Ost"', 1
            ),
            r"organisation\.forbund.*snake_case",
        ),
        ("[[tables]\nkind=", r"not valid TOML"),
        ("[vocabularies.sex]\n'q' = 'female'\n", r"vocabularies\.sex\.q.*'female'"),
        ("[scales.step]\nmin = 5\nmax = 1\n", r"scales\.step.*min ≤ max"),
    ],
)
def test_invalid_descriptions_name_file_and_key(tmp_path, text, pattern):
    """Malformed descriptions raise SourceDescriptionError naming the file and key."""
    path = _write(tmp_path, "bad.toml", text)
    with pytest.raises(SourceDescriptionError, match=pattern) as info:
        parse_description(path)
    assert "bad.toml" in str(info.value)


def test_project_level_table_needs_organisation_columns(tmp_path):
    """Without [organisation] a table must say which column holds the subproject."""
    text = '[[tables]]\nkind = "subprojects"\nfiles = ["b.xlsx"]\n[tables.columns]\nyear = "År"\n'
    with pytest.raises(SourceDescriptionError, match="must map subproject or forbund"):
        parse_description(_write(tmp_path, "p.toml", text))


def test_vocabularies_load_normalised_and_merge_source_labels(tmp_path):
    """Built-in labels are normalised; a source's own labels are merged over them."""
    base = load_vocabularies()
    assert base["income_source"]["ek bistand"] == "social_assistance"
    assert base["municipality"]["goteborg"] == "1480"
    text = (
        SEVENTH
        + '\n[vocabularies.income_source]\n"Soc. bidrag" = "social_assistance"\n'
    )
    source = parse_description(_write(tmp_path, "s.toml", text))
    merged = source_vocabularies(base, source)
    assert merged["income_source"]["soc bidrag"] == "social_assistance"
    assert "soc bidrag" not in base["income_source"]


def test_scale_labels_are_normalised(tmp_path):
    """Scale labels are stored normalised so cells match whatever their spelling."""
    text = (
        SEVENTH
        + '\n[scales.step]\nmin = 1\nmax = 7\nlabels = { "Steg 1 – kartläggning" = 1 }\n'
    )
    source = parse_description(_write(tmp_path, "s.toml", text))
    assert dict(source.scales["step"].labels) == {"steg 1 kartlaggning": 1}


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ('["../secret/*.csv"]', "has a '..' part"),
        ('["nordost/../../*.csv"]', "has a '..' part"),
        ('["nordost\\\\..\\\\..\\\\x.csv"]', "has a '..' part"),
        ('["/etc/passwd"]', "is absolute"),
        ('["C:/data/x.xlsx"]', "is absolute"),
        ('["\\\\\\\\server\\\\share\\\\x.xlsx"]', "is absolute"),
        ('["a.csv", ""]', "is empty"),
    ],
)
def test_file_globs_leaving_the_raw_folder_are_named(tmp_path, files, problem):
    """A pattern that is absolute or climbs with '..' is named; the parser keeps it so
    that looking up the source's files refuses it for that source alone."""
    text = _table('personnummer = "P"\nstart_date = "S"').replace('["a.csv"]', files)
    source = parse_description(_write(tmp_path, "bad.toml", text))
    problems = [glob_problem(p) for p in source.tables[0].files]
    assert any(p and problem in p for p in problems)


def test_codes_are_checked_whole_so_a_trailing_newline_fails(tmp_path):
    """A code ending in a newline no longer passes the code check (fullmatch, not match)."""
    text = _table('personnummer = "P"\nstart_date = "S"').replace(
        'subproject = "y"', 'subproject = "y\\n"'
    )
    with pytest.raises(SourceDescriptionError) as info:
        parse_description(_write(tmp_path, "bad.toml", text))
    assert "key 'organisation.subproject': found 'y\\n';" in str(info.value)


def test_municipality_codes_are_ascii_digits(tmp_path):
    """A kommunkod of other scripts' digits (matched by \\d) is refused."""
    text = "[vocabularies.municipality]\n'Kiruna' = '\u0662\u0665\u0668\u0664'\n"
    with pytest.raises(SourceDescriptionError, match="4-digit kommunkod"):
        parse_description(_write(tmp_path, "bad.toml", text))
    good = parse_description(
        _write(tmp_path, "ok.toml", "[vocabularies.municipality]\n'Kiruna' = '2584'\n")
    )
    assert good.vocabularies["municipality"] == {"kiruna": "2584"}


def test_description_linked_from_outside_its_folder_is_refused(tmp_path):
    """A .toml that is a link to a file outside the description folder is not parsed."""
    outside = _write(tmp_path / "elsewhere", "x.toml", SEVENTH)
    folder = tmp_path / "raw" / "_sources"
    folder.mkdir(parents=True)
    (folder / "x.toml").symlink_to(outside)
    with pytest.raises(SourceDescriptionError, match="link to a file outside") as info:
        find_descriptions([folder])
    assert str(folder / "x.toml") in str(info.value)
    (folder / "x.toml").unlink()
    (folder / "x.toml").symlink_to(Path("..") / "_sources" / "y.toml")
    _write(folder, "y.toml", SEVENTH)
    assert [p.name for p in find_descriptions([folder])] == ["x.toml", "y.toml"]


def test_raw_sources_folder_linked_outside_the_raw_folder_is_refused(tmp_path):
    """The raw folder's _sources must be inside it, not a link elsewhere."""
    _write(tmp_path / "other", "x.toml", SEVENTH)
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "_sources").symlink_to(tmp_path / "other")
    with pytest.raises(SourceDescriptionError, match="outside the raw folder"):
        load_sources(raw)
