"""The source-description model: contract fields, the frozen description dataclasses, the registry.

Each förbund's layout is described by one TOML file (docs/source-descriptions.md);
:mod:`~rehab_analytics.sources.parse` turns it into the dataclasses defined here.
Labels are matched after :func:`normalise_label`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

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
_DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d")
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
    """One förbund's subproject as registered by a source description.

    ``language`` is the organisation's own (its feedback and template),
    ``id_scheme`` how its participants are identified (``contract.ID_SCHEMES``;
    ``id_normalise`` the declared steps of ``"other"``), ``currency`` the ISO
    code of its money columns and ``sek_rate`` a declared rate (SEK per unit)
    that lets its costs be compared with others'. ``region`` says where an
    organisation outside Sweden works (free text).
    """

    forbund: str
    forbund_name: str
    subproject: str
    subproject_name: str
    forbund_aliases: tuple[str, ...] = ()
    subproject_aliases: tuple[str, ...] = ()
    target_group: str = ""
    colour: str | None = None
    source: str = ""
    forbund_name_en: str = ""
    subproject_name_en: str = ""
    language: str = "sv"
    id_scheme: str = "se_personnummer"
    id_normalise: tuple[str, ...] = ()
    currency: str = "SEK"
    sek_rate: float | None = None
    region: str = ""

    def name(self, which: str, lang: str = "sv") -> str:
        """Return the förbund or subproject name in ``lang`` (English if given).

        Example:
            >>> org = Organisation("a", "Förbundet A", "b", "B", forbund_name_en="A CA")
            >>> org.name("forbund", "en"), org.name("forbund"), org.name("subproject", "en")
            ('A CA', 'Förbundet A', 'B')
        """
        swedish = getattr(self, f"{which}_name") or getattr(self, which)
        return (
            (getattr(self, f"{which}_name_en") or swedish) if lang == "en" else swedish
        )


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
