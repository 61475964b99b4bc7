"""Parse and check one source description (TOML) into the model's dataclasses."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from rehab_analytics import contract
from rehab_analytics.errors import SourceDescriptionError
from rehab_analytics.escape import MAX_QUOTED
from rehab_analytics.sources.spec import (
    _DEFAULT_DATE_FORMATS,
    FIELDS,
    TABLE_KINDS,
    Band,
    Organisation,
    Scale,
    SkipRule,
    SourceDescription,
    TableSpec,
    normalise_label,
)

__all__ = ["parse_description", "glob_problem", "quote"]

_BAND_FIELDS = ("income_before", "income_after")
_DEFAULT_REQUIRED = {
    "participants": ("personnummer", "start_date"),
    "subprojects": ("year",),
    "anonymous_counts": ("year",),
}
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
    "forbund_name_en",
    "subproject_name_en",
    "language",
    "id_scheme",
    "id_normalise",
    "currency",
    "sek_rate",
    "region",
}
_LANGUAGES = ("sv", "en")
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
_CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
# A drive ("C:"), a root ("/etc") or a UNC share ("\\server"): absolute somewhere.
_DRIVE = re.compile(r"[A-Za-z]:|[\\/]")


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
    if not isinstance(value, str) or not _CODE_PATTERN.fullmatch(value):
        raise _fail(
            path,
            key,
            f"found {quote(value, 60)}; expected a lower-case snake_case code such as "
            "'nordost'.",
        )
    return value


def quote(value: object, width: int = MAX_QUOTED) -> str:
    """Return a value from a file or description quoted for a message: at most
    ``width`` characters, every control or invisible character escaped (as repr does).

    Example:
        >>> print(quote("y\\n"), quote("\\u202eab"), quote("x" * 9, 3))
        'y\\n' '\\u202eab' 'xxx'… (9 characters)
    """
    text = str(value)
    cut = repr(text[:width])
    return cut if len(text) <= width else f"{cut}… ({len(text)} characters)"


def glob_problem(pattern: str) -> str | None:
    """Return why a ``files`` pattern could reach outside the raw folder (None if it
    cannot): empty, absolute, or with a ``..`` part.

    Example:
        >>> glob_problem("nordost/*.xlsx") is None, glob_problem("../x/*.csv")
        (True, "has a '..' part (the folder above)")
    """
    if not pattern.strip() or "\x00" in pattern:
        return "is empty or holds a NUL character"
    if _DRIVE.match(pattern):
        return "is absolute (starts at a drive or the file-system root)"
    if ".." in re.split(r"[\\/]", pattern):
        return "has a '..' part (the folder above)"
    return None


def _files(path: Path, key: str, value: object) -> tuple[str, ...]:
    # A pattern that could leave the raw folder (see glob_problem) is kept here and
    # refused when the source's files are looked up, so that only this source fails
    # and the others are still cleaned.
    return _str_list(path, key, value)


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
    for key in ("forbund_name_en", "subproject_name_en", "region"):
        if not isinstance(raw.get(key, ""), str):
            raise _fail(path, f"organisation.{key}", "expected a text.")
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
        forbund_name_en=raw.get("forbund_name_en", ""),
        subproject_name_en=raw.get("subproject_name_en", ""),
        region=raw.get("region", ""),
        **_organisation_options(path, raw),
    )


def _organisation_options(path: Path, raw: Mapping) -> dict[str, object]:
    """Check the organisation's language, identity scheme and currency keys."""
    language = raw.get("language", "sv")
    if language not in _LANGUAGES:
        raise _fail(
            path,
            "organisation.language",
            f"found {quote(language, 20)}; expected 'sv' or 'en'.",
        )
    scheme = raw.get("id_scheme", contract.ID_SCHEMES[0])
    if scheme not in contract.ID_SCHEMES:
        raise _fail(
            path,
            "organisation.id_scheme",
            f"found {quote(scheme, 40)}; expected one of {', '.join(contract.ID_SCHEMES)}.",
        )
    steps = _str_list(path, "organisation.id_normalise", raw.get("id_normalise", []))
    bad = [s for s in steps if s not in contract.ID_NORMALISATIONS]
    if bad:
        raise _fail(
            path,
            "organisation.id_normalise",
            f"found {quote(bad[0], 40)}; expected steps from "
            f"{', '.join(contract.ID_NORMALISATIONS)}.",
        )
    if steps and scheme != "other":
        raise _fail(
            path,
            "organisation.id_normalise",
            'is only for id_scheme = "other" (the built-in schemes normalise '
            "their numbers themselves).",
        )
    currency = raw.get("currency", "SEK")
    if not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
        raise _fail(
            path,
            "organisation.currency",
            f"found {quote(currency, 20)}; expected an ISO 4217 code such as 'SEK' "
            "or 'ZAR'.",
        )
    rate = raw.get("sek_rate")
    if rate is not None and (
        isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0
    ):
        raise _fail(
            path,
            "organisation.sek_rate",
            f"found {rate!r}; expected a positive number (SEK per unit of {currency}).",
        )
    return {
        "language": language,
        "id_scheme": scheme,
        "id_normalise": steps,
        "currency": currency,
        "sek_rate": None if rate is None else float(rate),
    }


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
        files=_files(path, f"{where}files", raw["files"]),
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
            re.fullmatch(r"[0-9]{4}", str(code))
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
