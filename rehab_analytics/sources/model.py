"""Source descriptions: find, parse and check them; the organisation registry; vocabularies.

Each förbund's layout is described by one TOML file (docs/source-descriptions.md).
This module turns those files into frozen dataclasses, builds the registry of
organisations (förbund and subproject codes, names, aliases, colours) and loads the
label vocabularies. It never reads data files.
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rehab_analytics import contract
from rehab_analytics.config import BUILTIN_SOURCES_DIR, CONFIG_DIR
from rehab_analytics.errors import SourceDescriptionError

__all__ = [
    "TABLE_KINDS",
    "FIELDS",
    "Organisation",
    "Band",
    "SkipRule",
    "Scale",
    "TableSpec",
    "SourceDescription",
    "Registry",
    "normalise_label",
    "normalise_labels",
    "source_dirs",
    "find_descriptions",
    "parse_description",
    "load_sources",
    "build_registry",
    "load_vocabularies",
    "source_vocabularies",
]

TABLE_KINDS = ("participants", "subprojects", "anonymous_counts")

# Contract fields a description may map, per table kind.
FIELDS: dict[str, tuple[str, ...]] = {
    "participants": (
        "personnummer",
        "sex",
        "birth_year",
        "age",
        "municipality",
        "education",
        "start_date",
        "end_date",
        "income_before",
        "income_after",
        "support_years_before",
        "occupation_before",
        "occupation_after",
        "exit_reason",
        "step_start",
        "step_end",
        "health_start",
        "health_end",
    ),
    "subprojects": (
        "forbund",
        "subproject",
        "year",
        "planned_participants",
        "budget_sek",
        "cost_sek",
        "esf_sek",
    ),
    "anonymous_counts": (
        "forbund",
        "subproject",
        "year",
        "sex",
        "count",
        "count_by_sex",
    ),
}
_BAND_FIELDS = ("income_before", "income_after")
_DEFAULT_REQUIRED = {
    "participants": ("personnummer", "start_date"),
    "subprojects": ("year",),
    "anonymous_counts": ("year",),
}
_DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d")
_TOP_KEYS = {"organisation", "tables", "scales", "vocabularies", "description"}
_ORG_KEYS = {
    "forbund",
    "forbund_name",
    "forbund_aliases",
    "subproject",
    "subproject_name",
    "subproject_aliases",
    "target_group",
    "colour",
}
_TABLE_KEYS = {
    "kind",
    "files",
    "sheets",
    "header_row",
    "band_row",
    "required",
    "skip_rows",
    "excel_serial_dates",
    "date_formats",
    "encoding",
    "delimiter",
    "decimal",
    "thousands",
    "list_separator",
    "columns",
}
_SCALE_NAMES = ("step", "health")
_VOCABULARY_CODES: dict[str, tuple[str, ...]] = {
    "sex": contract.SEX,
    "education": contract.EDUCATION,
    "income_source": contract.INCOME_SOURCES,
    "support_years": contract.SUPPORT_YEARS,
    "occupation": contract.OCCUPATIONS,
    "exit_reason": contract.EXIT_REASONS,
    "municipality": (),
}
_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_NON_ALNUM = re.compile(r"[\W_]+")


def normalise_label(text: object) -> str:
    """Return a label normalised for matching (diacritics off, lower case, spaces).

    Unicode NFKD with combining marks removed, casefolded, every run of
    non-alphanumeric characters turned into one space, trimmed.

    Example:
        >>> normalise_label("FÖRSÖRJNINGS-STÖD")
        'forsorjnings stod'
        >>> normalise_label("  Ek. bistånd ")
        'ek bistand'
    """
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", stripped.casefold()).strip()


def normalise_labels(values: pd.Series) -> pd.Series:
    """Return :func:`normalise_label` of each non-empty value (NA stays NA).

    Each distinct value is normalised once, so long columns of repeated labels
    are cheap.

    Example:
        >>> normalise_labels(pd.Series(["Kvinna", None, "KVINNA "])).tolist()
        ['kvinna', <NA>, 'kvinna']
    """
    present = values.dropna()
    uniques = pd.unique(present)
    mapping = {u: normalise_label(u) for u in uniques}
    return values.map(mapping).astype("string")


@dataclass(frozen=True)
class Organisation:
    """One förbund's subproject as registered by a source description."""

    forbund: str
    forbund_name: str
    subproject: str
    subproject_name: str
    forbund_aliases: tuple[str, ...] = ()
    subproject_aliases: tuple[str, ...] = ()
    target_group: str = ""
    colour: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Band:
    """Income sources given as one column per source under a merged header band."""

    band: str


@dataclass(frozen=True)
class SkipRule:
    """Rows whose ``column`` matches ``pattern`` are declared non-data rows."""

    column: str
    pattern: str


@dataclass(frozen=True)
class Scale:
    """A source's own ordinal scale (step-to-work or self-rated health)."""

    min: int
    max: int
    labels: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TableSpec:
    """How to read one table (participants, subprojects, anonymous counts) of a source.

    ``columns`` maps contract fields to raw headers (or a :class:`Band`, or for
    ``count_by_sex`` a mapping sex code → header).
    """

    kind: str
    files: tuple[str, ...]
    columns: Mapping[str, object]
    sheets: tuple[str, ...] = ()
    header_row: int | str = 1
    band_row: int | None = None
    required: tuple[str, ...] = ()
    skip_rows: SkipRule | None = None
    excel_serial_dates: bool = False
    date_formats: tuple[str, ...] = _DEFAULT_DATE_FORMATS
    encoding: tuple[str, ...] = ("utf-8-sig", "cp1252")
    delimiter: str = ";"
    decimal: str = ","
    thousands: str = " "
    list_separator: str = ","


@dataclass(frozen=True)
class SourceDescription:
    """One parsed and checked source description (one TOML file)."""

    name: str
    path: Path
    organisation: Organisation | None
    tables: tuple[TableSpec, ...]
    scales: Mapping[str, Scale] = field(default_factory=dict)
    vocabularies: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Registry:
    """The registered organisations: six defaults first, then the rest in file order.

    Example:
        >>> org = Organisation("nordost", "SF Nordost", "dino", "Dino", ("Nordost",))
        >>> reg = Registry((org,))
        >>> reg.forbund_codes, reg.subproject_codes
        (('nordost',), ('dino',))
        >>> reg.resolve_forbund(pd.Series(["NORDOST", "x"])).tolist()
        ['nordost', <NA>]
    """

    organisations: tuple[Organisation, ...]

    @property
    def forbund_codes(self) -> tuple[str, ...]:
        """Förbund codes in registry order (no repeats)."""
        return tuple(dict.fromkeys(o.forbund for o in self.organisations))

    @property
    def subproject_codes(self) -> tuple[str, ...]:
        """Subproject codes in registry order."""
        return tuple(o.subproject for o in self.organisations)

    def organisation(self, subproject: str) -> Organisation:
        """Return the organisation registered for ``subproject``."""
        for org in self.organisations:
            if org.subproject == subproject:
                return org
        raise KeyError(subproject)

    def forbund_of(self) -> dict[str, str]:
        """Return the mapping subproject code → förbund code."""
        return {o.subproject: o.forbund for o in self.organisations}

    def subprojects_of(self) -> dict[str, list[str]]:
        """Return the mapping förbund code → its subproject codes."""
        out: dict[str, list[str]] = {}
        for org in self.organisations:
            out.setdefault(org.forbund, []).append(org.subproject)
        return out

    def _lookup(self, which: str) -> dict[str, str]:
        table: dict[str, str] = {}
        for org in self.organisations:
            code = getattr(org, which)
            names = (
                code,
                getattr(org, f"{which}_name"),
                *getattr(org, f"{which}_aliases"),
            )
            for name in names:
                table.setdefault(normalise_label(name), code)
        return table

    def resolve_forbund(self, labels: pd.Series) -> pd.Series:
        """Map förbund codes, names or aliases (any case/diacritics) to codes; else NA."""
        return normalise_labels(labels).map(self._lookup("forbund")).astype("string")

    def resolve_subproject(self, labels: pd.Series) -> pd.Series:
        """Map subproject codes, names or aliases to codes; else NA."""
        return normalise_labels(labels).map(self._lookup("subproject")).astype("string")


def source_dirs(raw_dir: Path | None = None) -> list[Path]:
    """Return the description folders in override order (built-in, raw, RA_SOURCES_DIR).

    Example:
        >>> source_dirs()[0].parent.name
        'sources'
    """
    dirs = [BUILTIN_SOURCES_DIR]
    if raw_dir is not None:
        dirs.append(Path(raw_dir) / "_sources")
    extra = os.environ.get("RA_SOURCES_DIR", "")
    dirs.extend(Path(p) for p in extra.split(os.pathsep) if p)
    return dirs


def find_descriptions(dirs: Iterable[Path]) -> list[Path]:
    """Return the effective description files: later folders override by file name.

    Files keep the order of their first appearance (built-in files first, in
    sorted order), so the registry order is stable.

    Example:
        >>> find_descriptions([]) == []
        True
    """
    chosen: dict[str, Path] = {}
    for folder in dirs:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            chosen[path.name] = path
    return list(chosen.values())


def _fail(path: Path, key: str, message: str) -> SourceDescriptionError:
    return SourceDescriptionError(f"key '{key}': {message}", file=str(path))


def _check_keys(path: Path, where: str, table: Mapping, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _fail(
            path,
            f"{where}{unknown[0]}",
            f"unknown key. Allowed here: {', '.join(sorted(allowed))}. "
            "Check the spelling (see docs/source-descriptions.md).",
        )


def _str_list(path: Path, key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _fail(path, key, f"expected a text or a list of texts, found {value!r}.")


def _code(path: Path, key: str, value: object) -> str:
    if not isinstance(value, str) or not _CODE_PATTERN.match(value):
        raise _fail(
            path,
            key,
            f"found {value!r}; expected a lower-case snake_case code such as 'nordost'.",
        )
    return value


def _parse_organisation(path: Path, raw: object) -> Organisation:
    if not isinstance(raw, dict):
        raise _fail(path, "organisation", "expected a [organisation] table.")
    _check_keys(path, "organisation.", raw, _ORG_KEYS)
    for key in ("forbund", "subproject"):
        if key not in raw:
            raise _fail(path, f"organisation.{key}", "missing; it is required.")
    colour = raw.get("colour")
    if colour is not None and not re.fullmatch(r"#[0-9A-Fa-f]{6}", str(colour)):
        raise _fail(
            path, "organisation.colour", f"found {colour!r}; expected '#RRGGBB'."
        )
    forbund = _code(path, "organisation.forbund", raw["forbund"])
    subproject = _code(path, "organisation.subproject", raw["subproject"])
    return Organisation(
        forbund=forbund,
        forbund_name=str(raw.get("forbund_name", forbund)),
        subproject=subproject,
        subproject_name=str(raw.get("subproject_name", subproject)),
        forbund_aliases=_str_list(
            path, "organisation.forbund_aliases", raw.get("forbund_aliases", [])
        ),
        subproject_aliases=_str_list(
            path, "organisation.subproject_aliases", raw.get("subproject_aliases", [])
        ),
        target_group=str(raw.get("target_group", "")),
        colour=colour,
        source=path.name,
    )


def _parse_columns(path: Path, where: str, kind: str, raw: object) -> dict[str, object]:
    if not isinstance(raw, dict) or not raw:
        raise _fail(path, f"{where}columns", "expected a [tables.columns] table.")
    columns: dict[str, object] = {}
    for name, value in raw.items():
        key = f"{where}columns.{name}"
        if name not in FIELDS[kind]:
            raise _fail(
                path,
                key,
                f"'{name}' is not a contract field of {kind}. Fields: "
                f"{', '.join(FIELDS[kind])}.",
            )
        if name == "count_by_sex":
            if not isinstance(value, dict) or not value:
                raise _fail(path, key, 'expected { woman = "…", man = "…" }.')
            bad = sorted(set(value) - set(contract.SEX))
            if bad or not all(isinstance(v, str) for v in value.values()):
                raise _fail(
                    path, key, f"keys must be sex codes {contract.SEX} with headers."
                )
            columns[name] = dict(value)
        elif isinstance(value, dict):
            if name not in _BAND_FIELDS or set(value) != {"band"}:
                raise _fail(
                    path,
                    key,
                    'only income_before/income_after may be { band = "…" }.',
                )
            columns[name] = Band(str(value["band"]))
        elif isinstance(value, str) and value.strip():
            columns[name] = value
        else:
            raise _fail(path, key, f"expected a column header, found {value!r}.")
    return columns


def _parse_table(path: Path, index: int, raw: object) -> TableSpec:
    where = f"tables[{index}]."
    if not isinstance(raw, dict):
        raise _fail(path, f"tables[{index}]", "expected a [[tables]] table.")
    _check_keys(path, where, raw, _TABLE_KEYS)
    kind = raw.get("kind")
    if kind not in TABLE_KINDS:
        raise _fail(
            path,
            f"{where}kind",
            f"found {kind!r}; expected one of {', '.join(TABLE_KINDS)}.",
        )
    if "files" not in raw:
        raise _fail(path, f"{where}files", "missing; list the file globs.")
    columns = _parse_columns(path, where, kind, raw.get("columns"))
    required = _str_list(
        path, f"{where}required", raw.get("required", list(_DEFAULT_REQUIRED[kind]))
    )
    for name in required:
        if name not in FIELDS[kind]:
            raise _fail(path, f"{where}required", f"'{name}' is not a contract field.")
        if name not in columns:
            raise _fail(
                path, f"{where}required", f"'{name}' is required but not in columns."
            )
    header = raw.get("header_row", 1)
    if not (header == "auto" or (isinstance(header, int) and header >= 1)):
        raise _fail(
            path, f"{where}header_row", f"found {header!r}; expected 1, 2, … or 'auto'."
        )
    band = raw.get("band_row")
    if band is not None and not (isinstance(band, int) and band >= 1):
        raise _fail(path, f"{where}band_row", f"found {band!r}; expected 1, 2, ….")
    if any(isinstance(v, Band) for v in columns.values()) and band is None:
        raise _fail(path, f"{where}band_row", "a { band = … } column needs band_row.")
    skip = raw.get("skip_rows")
    skip_rule = None
    if skip is not None:
        if not isinstance(skip, dict) or set(skip) != {"column", "pattern"}:
            raise _fail(
                path, f"{where}skip_rows", "expected { column = …, pattern = … }."
            )
        try:
            re.compile(skip["pattern"])
        except re.error as exc:
            raise _fail(
                path, f"{where}skip_rows.pattern", f"invalid regex: {exc}."
            ) from None
        skip_rule = SkipRule(str(skip["column"]), str(skip["pattern"]))
    if (
        kind == "anonymous_counts"
        and "count_by_sex" not in columns
        and not {"sex", "count"} <= set(columns)
    ):
        raise _fail(
            path,
            f"{where}columns",
            "anonymous_counts needs sex + count or count_by_sex.",
        )
    for key in ("delimiter", "decimal", "thousands", "list_separator"):
        if key in raw and not isinstance(raw[key], str):
            raise _fail(path, f"{where}{key}", "expected a text.")
    if "excel_serial_dates" in raw and not isinstance(raw["excel_serial_dates"], bool):
        raise _fail(path, f"{where}excel_serial_dates", "expected true or false.")
    options = {
        k: raw[k]
        for k in ("delimiter", "decimal", "thousands", "list_separator")
        if k in raw
    }
    return TableSpec(
        kind=kind,
        files=_str_list(path, f"{where}files", raw["files"]),
        columns=columns,
        sheets=_str_list(path, f"{where}sheets", raw.get("sheets", [])),
        header_row=header,
        band_row=band,
        required=required,
        skip_rows=skip_rule,
        excel_serial_dates=bool(raw.get("excel_serial_dates", False)),
        date_formats=_str_list(
            path,
            f"{where}date_formats",
            raw.get("date_formats", list(_DEFAULT_DATE_FORMATS)),
        ),
        encoding=_str_list(
            path, f"{where}encoding", raw.get("encoding", ["utf-8-sig", "cp1252"])
        ),
        **options,
    )


def _parse_scales(path: Path, raw: object) -> dict[str, Scale]:
    if not isinstance(raw, dict):
        raise _fail(path, "scales", "expected [scales.step] / [scales.health] tables.")
    scales = {}
    for name, spec in raw.items():
        if name not in _SCALE_NAMES:
            raise _fail(
                path, f"scales.{name}", f"unknown scale; expected {_SCALE_NAMES}."
            )
        if not isinstance(spec, dict):
            raise _fail(path, f"scales.{name}", "expected a table with min and max.")
        _check_keys(path, f"scales.{name}.", spec, {"min", "max", "labels"})
        lo, hi = spec.get("min"), spec.get("max")
        if not (isinstance(lo, int) and isinstance(hi, int) and lo <= hi):
            raise _fail(
                path,
                f"scales.{name}",
                f"found min={lo!r}, max={hi!r}; expected integers, min ≤ max.",
            )
        labels = spec.get("labels", {})
        if not isinstance(labels, dict) or not all(
            isinstance(v, int) for v in labels.values()
        ):
            raise _fail(path, f"scales.{name}.labels", 'expected { "label" = number }.')
        scales[name] = Scale(lo, hi, {normalise_label(k): v for k, v in labels.items()})
    return scales


def _parse_vocabularies(path: Path, raw: object) -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict):
        raise _fail(path, "vocabularies", "expected [vocabularies.<name>] tables.")
    return {
        name: _check_vocabulary(path, f"vocabularies.{name}", name, table)
        for name, table in raw.items()
    }


def _check_vocabulary(
    path: Path, where: str, name: str, table: object
) -> dict[str, str]:
    if name not in _VOCABULARY_CODES:
        raise _fail(
            path,
            where,
            f"unknown vocabulary; expected one of {', '.join(_VOCABULARY_CODES)}.",
        )
    if not isinstance(table, dict):
        raise _fail(path, where, 'expected a table of "label" = "code".')
    codes = _VOCABULARY_CODES[name]
    out = {}
    for label, code in table.items():
        ok = (
            re.fullmatch(r"\d{4}", str(code))
            if name == "municipality"
            else code in codes
        )
        if not ok:
            expected = (
                "a 4-digit kommunkod" if name == "municipality" else ", ".join(codes)
            )
            raise _fail(
                path, f"{where}.{label}", f"code {code!r} is not one of: {expected}."
            )
        out[normalise_label(label)] = str(code)
    return out


def parse_description(path: Path) -> SourceDescription:
    """Parse and check one source description file.

    Raises:
        SourceDescriptionError: On invalid TOML, unknown keys or fields, bad kinds
            or values; the message names the file and the key.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "x.toml"
        >>> _ = p.write_text('[[tables]]\\nkind = "subprojects"\\nfiles = ["b.xlsx"]\\n'
        ...                  '[tables.columns]\\nyear = "År"\\nsubproject = "Delprojekt"\\n')
        >>> parse_description(p).tables[0].columns["year"]
        'År'
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SourceDescriptionError(
            f"is not valid TOML ({exc}). Fix the syntax (see docs/source-descriptions.md).",
            file=str(path),
        ) from None
    except UnicodeDecodeError:
        raise SourceDescriptionError(
            "is not UTF-8 text. Save it as UTF-8.", file=str(path)
        ) from None
    _check_keys(path, "", raw, _TOP_KEYS)
    organisation = (
        _parse_organisation(path, raw["organisation"])
        if "organisation" in raw
        else None
    )
    tables_raw = raw.get("tables", [])
    if not isinstance(tables_raw, list):
        raise _fail(path, "tables", "expected [[tables]] entries.")
    tables = tuple(_parse_table(path, i, t) for i, t in enumerate(tables_raw))
    if organisation is None:
        for i, table in enumerate(tables):
            if table.kind == "participants":
                raise _fail(
                    path, f"tables[{i}].kind", "participants need an [organisation]."
                )
            if "subproject" not in table.columns and "forbund" not in table.columns:
                raise _fail(
                    path,
                    f"tables[{i}].columns",
                    "without [organisation] the table must map subproject or forbund.",
                )
    return SourceDescription(
        name=path.stem,
        path=path,
        organisation=organisation,
        tables=tables,
        scales=_parse_scales(path, raw.get("scales", {})),
        vocabularies=_parse_vocabularies(path, raw.get("vocabularies", {})),
    )


def load_sources(
    raw_dir: Path | None = None, dirs: Iterable[Path] | None = None
) -> list[SourceDescription]:
    """Find and parse every effective source description.

    Args:
        raw_dir: The raw folder (its ``_sources`` folder is searched).
        dirs: Folders to search instead of :func:`source_dirs`.

    Example:
        >>> load_sources(dirs=[]) == []
        True
    """
    folders = source_dirs(raw_dir) if dirs is None else list(dirs)
    return [parse_description(p) for p in find_descriptions(folders)]


def build_registry(sources: Iterable[SourceDescription]) -> Registry:
    """Build the registry: the six default förbund first, then others in file order.

    Raises:
        SourceDescriptionError: If two descriptions register the same subproject.

    Example:
        >>> build_registry([]).subproject_codes
        ()
    """
    orgs: list[Organisation] = []
    seen: dict[str, str] = {}
    for source in sources:
        org = source.organisation
        if org is None:
            continue
        if org.subproject in seen:
            raise SourceDescriptionError(
                f"key 'organisation.subproject': '{org.subproject}' is already registered "
                f"by {seen[org.subproject]}. Give each subproject one description.",
                file=str(source.path),
            )
        seen[org.subproject] = source.path.name
        orgs.append(org)
    default_rank = {code: i for i, code in enumerate(contract.DEFAULT_FORBUND)}
    first_seen = {o.forbund: i for i, o in reversed(list(enumerate(orgs)))}

    def rank(item: tuple[int, Organisation]) -> tuple[int, int, int]:
        i, org = item
        fb = default_rank.get(org.forbund, len(default_rank) + first_seen[org.forbund])
        return fb, first_seen[org.forbund], i

    return Registry(tuple(o for _, o in sorted(enumerate(orgs), key=rank)))


def load_vocabularies(path: Path | None = None) -> dict[str, dict[str, str]]:
    """Load the built-in vocabularies with labels normalised.

    Example:
        >>> load_vocabularies()["sex"]["kvinna"]
        'woman'
    """
    path = Path(path) if path is not None else CONFIG_DIR / "vocabularies.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        name: _check_vocabulary(path, name, name, table) for name, table in raw.items()
    }


def source_vocabularies(
    base: Mapping[str, Mapping[str, str]], source: SourceDescription
) -> dict[str, dict[str, str]]:
    """Return ``base`` with the source's own labels merged over it.

    Example:
        >>> base = {"sex": {"kvinna": "woman"}}
        >>> src = SourceDescription("x", Path("x.toml"), None, (), {}, {"sex": {"q": "woman"}})
        >>> sorted(source_vocabularies(base, src)["sex"])
        ['kvinna', 'q']
    """
    merged = {name: dict(table) for name, table in base.items()}
    for name, table in source.vocabularies.items():
        merged.setdefault(name, {}).update(table)
    return merged
