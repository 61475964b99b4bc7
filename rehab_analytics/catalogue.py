"""Bilingual text catalogue: code labels, chart and report text, number formats.

Every visible word in charts, tables and slides comes from
``config/catalogue.toml`` in Swedish (default) or English. Numbers follow the
language: Swedish decimal comma, a non-breaking space between thousands and
before the per cent sign; English decimal point and comma thousands.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from rehab_analytics import escape
from rehab_analytics.config import CONFIG_DIR
from rehab_analytics.contract import DEFAULT_FORBUND, DEFAULT_SUBPROJECTS

__all__ = [
    "LANGUAGES",
    "DEFAULT_LANG",
    "NBSP",
    "FIELDS",
    "text",
    "label",
    "labels",
    "has_text",
    "text_keys",
    "format_number",
    "format_int",
    "format_share",
    "format_sek",
    "format_money",
    "format_period",
    "unit_order",
    "use_registry",
    "current_registry",
]

LANGUAGES = ("sv", "en")
DEFAULT_LANG = "sv"
NBSP = "\u00a0"
# Label fields and the catalogue table that holds them; contract columns that
# share a vocabulary (occupation_before/after, …) are resolved in _field().
FIELDS = (
    "sex",
    "id_kind",
    "education",
    "income_source",
    "income_group",
    "support_years",
    "occupation",
    "exit_reason",
    "forbund",
    "forbund_name",
    "subproject",
    "subproject_name",
    "age_group",
    "age_band_esf",
    "when",
    "step_direction",
    "funnel_flag",
    "outcome",
    "esf_indicator",
)
_ORGANISATION_FIELDS = {
    "forbund": "forbund_name",
    "forbund_name": "forbund_name",
    "subproject": "subproject_name",
    "subproject_name": "subproject_name",
}
_SEPARATORS = {"sv": (",", NBSP), "en": (".", ",")}
_MINUS = {"sv": "\u2212", "en": "-"}
_MISSING = "–"
_UNITS = {"forbund": DEFAULT_FORBUND, "subproject": DEFAULT_SUBPROJECTS}
# The code of the project row that charts and tables add after the units.
_TOTAL = "total"


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[dict[str, dict[str, str]], dict[str, dict]]:
    """Read the catalogue once: flat text keys and label tables."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    flat: dict[str, dict[str, str]] = {}
    _flatten(raw.get("text", {}), "", flat)
    return flat, raw.get("labels", {})


def _flatten(node: dict[str, Any], prefix: str, out: dict[str, dict[str, str]]) -> None:
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and any(lang in value for lang in LANGUAGES):
            out[dotted] = value
        elif isinstance(value, dict):
            _flatten(value, f"{dotted}.", out)


def _catalogue() -> tuple[dict[str, dict[str, str]], dict[str, dict]]:
    return _load(CONFIG_DIR / "catalogue.toml")


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(
            f"language is {lang!r}, expected one of {', '.join(LANGUAGES)} "
            "('sv' for Swedish, 'en' for English)."
        )
    return lang


_ALIASES = {"age_band": "age_group"}


def _field(field: str) -> str:
    """Map contract column names onto their label table (occupation_after → occupation)."""
    if field in _ALIASES:
        return _ALIASES[field]
    for suffix in ("_before", "_after"):
        base = field.removesuffix(suffix)
        if base != field and base in FIELDS:
            return base
    return field


def has_text(key: str) -> bool:
    """Return True if ``key`` is in the catalogue.

    Example:
        >>> has_text("chart.enrolment.title"), has_text("no.such.key")
        (True, False)
    """
    return key in _catalogue()[0]


def text_keys() -> list[str]:
    """Return every text key in the catalogue, sorted.

    Example:
        >>> "common.source_line" in text_keys()
        True
    """
    return sorted(_catalogue()[0])


def text(key: str, lang: str = DEFAULT_LANG, **fmt: object) -> str:
    """Return the catalogue text for ``key`` in ``lang``, with placeholders filled.

    Args:
        key: Dotted key, e.g. ``"chart.enrolment.title"``.
        lang: ``"sv"`` or ``"en"``.
        **fmt: Values for the ``{placeholders}`` in the text.

    Raises:
        KeyError: If the key (or a placeholder value) is missing.
        ValueError: If the language is not supported.

    Example:
        >>> text("common.source_line", "en", source="SUS", threshold=5)
        'Source: SUS; values below 5 are not shown'
        >>> text("common.total")
        'Totalt'
    """
    _check_lang(lang)
    entry = _catalogue()[0].get(key)
    if entry is None or lang not in entry:
        raise KeyError(
            f"text key '{key}' has no '{lang}' entry in config/catalogue.toml; "
            "add it under [text] with both sv and en."
        )
    template = entry[lang]
    if not fmt:
        return template
    try:
        return template.format(**fmt)
    except KeyError as exc:
        raise KeyError(
            f"text key '{key}' ({lang}) needs a value for placeholder {exc}; "
            f"pass it as text('{key}', lang, {exc.args[0]}=...)."
        ) from None


# The registry of the processed folder being reported on, set by
# rehab_analytics.processed.load (one list so that no `global` is needed).
_ACTIVE_REGISTRY: list[object] = []


def use_registry(registry: object | None) -> None:
    """Make ``registry`` the default for organisation names (None: the descriptions).

    :func:`rehab_analytics.processed.load` calls this with the registry the
    clean wrote, so reports name organisations as the descriptions the data was
    cleaned with did, also those in a raw folder's ``_sources``.

    Example:
        >>> from rehab_analytics.sources import Organisation, Registry
        >>> use_registry(Registry((Organisation("x", "Förbund X", "y", "Y-projektet",
        ...     subproject_name_en="Project Y"),)))
        >>> label("subproject", "y", "en"), label("subproject", "y")
        ('Project Y', 'Y-projektet')
        >>> use_registry(None)
    """
    _ACTIVE_REGISTRY[:] = [] if registry is None else [registry]


def current_registry() -> object | None:
    """Return the registry organisation names come from (see :func:`use_registry`).

    Without one set, the registry of the source descriptions found through the
    settings (built-in and ``RA_SOURCES_DIR``); None if they cannot be read.

    Example:
        >>> "dino" in current_registry().subproject_codes
        True
    """
    if _ACTIVE_REGISTRY:
        return _ACTIVE_REGISTRY[0]
    from rehab_analytics.errors import RehabAnalyticsError
    from rehab_analytics.sources import build_registry, load_sources

    try:
        return build_registry(load_sources())
    except (RehabAnalyticsError, OSError):
        # labels fall back to codes; the broken description is reported by clean
        return None


def _registry_names(
    field: str, registry_: object | None, lang: str = DEFAULT_LANG
) -> dict[str, str]:
    """Names from the organisation registry (English where given) for added organisations.

    A name comes from a description: its control characters are shown as
    ``\\xNN`` (:func:`rehab_analytics.escape.printable`), so no output, chart or
    slide receives them. Markup in it is escaped by each output, not here.
    """
    if registry_ is None:
        registry_ = current_registry()
    attr = _ORGANISATION_FIELDS[field]
    code_attr = attr.removesuffix("_name")
    orgs = getattr(registry_, "organisations", ())
    out = {}
    for org in orgs:
        name = getattr(org, attr) or getattr(org, code_attr)
        if lang == "en":
            name = getattr(org, f"{attr}_en", "") or name
        out[getattr(org, code_attr)] = escape.printable(name)
    return out


def label(
    field: str, code: str, lang: str = DEFAULT_LANG, registry: object = None
) -> str:
    """Return the label of ``code`` in ``field`` (e.g. sex, exit_reason, subproject).

    Förbund and subproject codes not in the catalogue fall back to the names in
    the organisation registry (``sources.build_registry``), then to the code.

    Args:
        field: Label table, or a contract column sharing one (``occupation_after``).
        code: The contract code.
        lang: ``"sv"`` or ``"en"``.
        registry: Optional :class:`rehab_analytics.sources.Registry` to use for
            organisations missing from the catalogue (default: the sources found
            through the settings).

    Raises:
        KeyError: If the field or code is unknown (organisations excepted).
        ValueError: If the language is not supported.

    Example:
        >>> label("sex", "woman"), label("occupation_after", "studying", "en")
        ('Kvinnor', 'Studying')
    """
    _check_lang(lang)
    name = _field(field)
    table = _catalogue()[1].get(name)
    if table is None:
        raise KeyError(
            f"label field '{field}' is not in config/catalogue.toml; "
            f"known fields: {', '.join(FIELDS)}."
        )
    entry = table.get(str(code))
    if entry is not None and lang in entry:
        return entry[lang]
    if name in _ORGANISATION_FIELDS:
        return _registry_names(name, registry, lang).get(str(code), str(code))
    raise KeyError(
        f"code '{code}' of '{field}' has no '{lang}' label in config/catalogue.toml; "
        f'add [labels.{name}] {code} = {{ sv = "…", en = "…" }}.'
    )


def labels(
    field: str, lang: str = DEFAULT_LANG, registry: object = None
) -> dict[str, str]:
    """Return every code → label of ``field`` (organisations include the registry).

    Example:
        >>> labels("when", "en")
        {'before': 'Before', 'after': 'After'}
    """
    _check_lang(lang)
    name = _field(field)
    table = _catalogue()[1].get(name)
    if table is None:
        raise KeyError(
            f"label field '{field}' is not in config/catalogue.toml; "
            f"known fields: {', '.join(FIELDS)}."
        )
    out = {code: entry[lang] for code, entry in table.items() if lang in entry}
    if name in _ORGANISATION_FIELDS:
        extra = _registry_names(name, registry, lang)
        out.update({code: nm for code, nm in extra.items() if code not in out})
    return out


def _is_missing(x: object) -> bool:
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return True


def _round(x: float, decimals: int) -> Decimal:
    # Half up on the decimal representation, as official statistics round
    # (binary floats would send 0.125 → 0.12 under round-half-even).
    return Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)


def _group(value: Decimal, decimals: int, lang: str) -> str:
    point, thousands = _SEPARATORS[lang]
    body = f"{abs(value):,.{decimals}f}"
    body = body.replace(",", "\x00").replace(".", point).replace("\x00", thousands)
    return (_MINUS[lang] if value < 0 else "") + body


def format_number(x: object, lang: str = DEFAULT_LANG, decimals: int = 0) -> str:
    """Format a number for ``lang`` (missing values give an en dash).

    Example:
        >>> format_number(12345.678, "sv", 1) == "12\\u00a0345,7"
        True
        >>> format_number(12345.678, "en", 1), format_number(None)
        ('12,345.7', '–')
    """
    _check_lang(lang)
    if _is_missing(x) or math.isinf(float(x)):
        return _MISSING
    value = _round(float(x), decimals)
    if value == 0:
        value = abs(value)
    return _group(value, decimals, lang)


def format_int(x: object, lang: str = DEFAULT_LANG) -> str:
    """Format a whole number with the language's thousands separator.

    Example:
        >>> format_int(50691580, "en")
        '50,691,580'
    """
    return format_number(x, lang, 0)


def format_share(x: object, lang: str = DEFAULT_LANG, decimals: int = 0) -> str:
    """Format a share in [0, 1] as per cent ("34 %" in Swedish, "34%" in English).

    Example:
        >>> format_share(0.345, "sv") == "35\\u00a0%"
        True
        >>> format_share(0.345, "en", 1)
        '34.5%'
    """
    _check_lang(lang)
    if _is_missing(x) or math.isinf(float(x)):
        return _MISSING
    pct = Decimal(repr(float(x))) * 100
    number = format_number(float(pct), lang, decimals)
    return f"{number}{NBSP}%" if lang == "sv" else f"{number}%"


def format_sek(x: object, lang: str = DEFAULT_LANG) -> str:
    """Format an amount in kronor ("12 300 kr" / "SEK 12,300").

    Example:
        >>> format_sek(12300, "en")
        'SEK 12,300'
    """
    number = format_int(x, lang)
    if number == _MISSING:
        return number
    return f"{number}{NBSP}kr" if lang == "sv" else f"SEK {number}"


def format_money(x: object, lang: str = DEFAULT_LANG, currency: str = "SEK") -> str:
    """Format an amount in ``currency`` (kronor as :func:`format_sek`).

    Example:
        >>> format_money(12300, "en", "ZAR"), format_money(12300, "sv", "ZAR")
        ('ZAR 12,300', '12\u00a0300\u00a0ZAR')
    """
    if currency == "SEK":
        return format_sek(x, lang)
    number = format_int(x, lang)
    if number == _MISSING:
        return number
    return f"{number}{NBSP}{currency}" if lang == "sv" else f"{currency} {number}"


def format_period(start: object, end: object, lang: str = DEFAULT_LANG) -> str:
    """Format a reporting period as "okt 2015–jun 2019" / "Oct 2015–Jun 2019".

    Example:
        >>> format_period("2015-10-01", "2019-06-30", "en")
        'Oct 2015–Jun 2019'
    """
    months = text("common.months", lang).split()

    def one(value: object) -> str:
        stamp = pd.Timestamp(value)
        return f"{months[stamp.month - 1]} {stamp.year}"

    return text("common.period", lang, start=one(start), end=one(end))


def unit_order(
    codes: Iterable[object],
    column: str | None = None,
    categories: Iterable[object] = (),
    registry: object = None,
    *,
    display: bool = False,
) -> list:
    """Return the unit codes (subprojects, förbund) present in ``codes``, in order.

    Known codes come first, in the order of ``categories``, then the registry's
    subprojects, then the contract's defaults for ``column``; other codes follow
    alphabetically. Missing codes are left out.

    Args:
        codes: Unit codes, repeats and missing values allowed.
        column: ``"subproject"`` or ``"forbund"``: whose contract order applies
            (None: subprojects, then förbund; another column: none).
        categories: An order that comes first (a categorical dtype's).
        registry: Organisation registry whose ``subproject_codes`` come next.
        display: For charts and published tables: the codes become text and the
            project total (``"total"``) goes last. Measures keep the codes as
            they are and sort a ``"total"`` code like any other.

    Example:
        >>> unit_order(["total", "new", "aktiv", "dino"], display=True)
        ['dino', 'aktiv', 'new', 'total']
        >>> unit_order(["b", "a", "dino"], "subproject", categories=["b"])
        ['b', 'dino', 'a']
    """
    if column is None:
        defaults: Iterable[object] = (*DEFAULT_SUBPROJECTS, *DEFAULT_FORBUND)
    else:
        defaults = _UNITS.get(column, ())
    known = [*categories, *(getattr(registry, "subproject_codes", ()) or ()), *defaults]
    rank: dict[object, int] = {}
    for code in known:
        rank.setdefault(code, len(rank))
    present = [c for c in dict.fromkeys(codes) if not pd.isna(c)]
    if display:
        present = [str(c) for c in present]
    return sorted(
        present,
        key=lambda c: (display and c == _TOTAL, rank.get(c, len(rank)), str(c)),
    )
