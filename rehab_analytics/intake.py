"""Intake of new deliveries: inspect an unfamiliar file and draft its source description.

``inspect_file`` looks at a spreadsheet or CSV file it has never seen: sheets
(also hidden ones), the header row and a header band above it, CSV encoding,
delimiter and decimal mark, and for every column a proposed contract field with
a confidence built from two kinds of evidence: how much the header resembles the
headers of every known source description (and the reporting template), and what
the values look like (dates, personnummer, vocabulary hits, numbers in a scale's
range). ``--write-description`` writes a draft TOML with comments where it is
unsure, for the analyst to confirm. The reporting template itself lives in
:mod:`rehab_analytics.template` (``write_template`` is re-exported here).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rehab_analytics.errors import InputFileError
from rehab_analytics.sources import (
    FIELDS,
    Band,
    Organisation,
    build_registry,
    load_sources,
    load_vocabularies,
    normalise_label,
    parse_description,
)
from rehab_analytics.template import read_marker, write_template

__all__ = ["ColumnProposal", "InspectReport", "inspect_file", "write_template"]

_SCAN_ROWS = 30
_SAMPLE_ROWS = 20000
_ACCEPT = 0.6
_SCORE_CACHE: dict[int, dict[str, dict[str, float]]] = {}
_KEYWORD = 0.8
_DATE_CANDIDATES = (
    "%Y-%m-%d", "%Y%m%d", "%d/%m %Y", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y",
    "%Y/%m/%d", "%m/%d/%Y", "%d/%m/%y", "%y%m%d",
)  # fmt: skip
_SERIAL_RANGE = (36526, 51500)  # 2000-01-01 … 2040: plain numbers read as Excel days
_PNR = re.compile(r"^(\d{2})?\d{6}[-+]?\d{4}$")
_CHECK_MARKS = {"x", "ja", "1", "true", "yes"}
_TOTALS = re.compile(r"(?i)^\s*(?:summa|totalt|total)\b")
_TOTALS_PATTERN = "(?i)^\\s*(summa|totalt|total)\\b"
_ENCODINGS = ("utf-8-sig", "cp1252")
_DELIMITERS = (";", ",", "\t", "|")
_LIST_SEPARATORS = (",", ";", "/", "|")
_BEFORE = {"fore", "start", "in", "inskriven", "inskrivning", "inskrivningsdatum",
           "before", "entry", "startdatum", "inregistrering", "vid start"}  # fmt: skip
_AFTER = {"efter", "slut", "ut", "utskriven", "utskrivning", "utskrivningsdatum",
          "after", "exit", "end", "avslut", "slutdatum", "utregistrering"}  # fmt: skip
# Generic SUS wordings, so files unlike any known source still get proposals.
_ALIASES = {
    "personnummer": ("personnummer", "personnr", "pnr", "person id", "id number",
                     "samordningsnummer", "personal identity number"),
    "sex": ("kon", "gender", "sex"),
    "municipality": ("kommun", "hemkommun", "kommunkod", "municipality"),
    "education": ("utbildning", "utbildningsniva", "education", "education level"),
    "start_date": ("startdatum", "inskriven", "inskrivningsdatum", "start date",
                   "datum inregistrering", "start"),
    "end_date": ("slutdatum", "utskriven", "utskrivningsdatum", "end date",
                 "datum utregistrering", "slut"),
    "income_before": ("forsorjning fore", "forsorjningskalla fore", "income before"),
    "income_after": ("forsorjning efter", "forsorjningskalla efter", "income after"),
    "support_years_before": ("tid i offentlig forsorjning", "offentlig forsorjning",
                             "time on public support"),
    "occupation_before": ("sysselsattning fore", "sysselsattning vid start",
                          "occupation before"),
    "occupation_after": ("sysselsattning efter", "sysselsattning vid avslut",
                         "occupation after"),
    "exit_reason": ("avslutsorsak", "orsak avslut", "orsak till avslut",
                    "reason for exit", "reason for ending"),
    "step_start": ("steg start", "steg vid start", "steg in", "step at start"),
    "step_end": ("steg slut", "steg vid avslut", "steg ut", "step at end"),
    "health_start": ("halsa start", "halsa vid start", "health at start"),
    "health_end": ("halsa slut", "halsa vid avslut", "health at end"),
    "birth_year": ("fodelsear", "year of birth", "birth year"),
    "age": ("alder", "age"),
    "forbund": ("forbund", "samordningsforbund"),
    "subproject": ("delprojekt", "subproject", "insats"),
    "year": ("ar", "year"),
    "planned_participants": ("planerade deltagare", "planerat antal deltagare"),
    "budget_sek": ("budget", "budget kr"),
    "cost_sek": ("utfall", "kostnad", "utfall kr"),
    "esf_sek": ("esf", "esf medel", "varav esf medel kr"),
    "count_by_sex.woman": ("kvinnor", "women"),
    "count_by_sex.man": ("man", "men"),
}  # fmt: skip
_VOCAB_OF = {
    "sex": "sex",
    "education": "education",
    "municipality": "municipality",
    "support_years_before": "support_years",
    "occupation_before": "occupation",
    "occupation_after": "occupation",
    "exit_reason": "exit_reason",
    "income_before": "income_source",
    "income_after": "income_source",
}
_PAIRS = (
    ("start_date", "end_date"),
    ("occupation_before", "occupation_after"),
    ("income_before", "income_after"),
    ("step_start", "step_end"),
    ("health_start", "health_end"),
)


@dataclass
class ColumnProposal:
    """What inspect proposes for one column.

    Attributes:
        index: 0-based column index; ``letter`` is the spreadsheet letter.
        header: The header text; ``band`` the header band above it ("" if none).
        field: Proposed contract field (None: not mapped).
        confidence: 0–1; below 0.8 the draft description marks it "check".
        evidence: Short words on why (header match, value pattern).
        labels: For coded columns, raw label → proposed code (None: unmapped).
    """

    index: int
    letter: str
    header: str
    band: str = ""
    field: str | None = None
    confidence: float = 0.0
    evidence: str = ""
    labels: dict[str, str | None] = dataclasses.field(default_factory=dict)


@dataclass
class InspectReport:
    """The result of :func:`inspect_file`; ``summary()`` gives it as text."""

    file: Path
    format: str
    sheets: list[tuple[str, bool]]
    sheet: str | None = None
    sheet_patterns: list[str] = dataclasses.field(default_factory=list)
    header_row: int | None = None
    band_row: int | None = None
    kind: str | None = None
    columns: list[ColumnProposal] = dataclasses.field(default_factory=list)
    date_formats: list[str] = dataclasses.field(default_factory=list)
    date_formats_seen: dict[str, int] = dataclasses.field(default_factory=dict)
    excel_serial_dates: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    list_separator: str | None = None
    skip_rows: tuple[str, str] | None = None
    scales: dict[str, dict] = dataclasses.field(default_factory=dict)
    organisation: Organisation | None = None
    files_glob: str = ""
    files_read: int = 1
    undecided: list[str] = dataclasses.field(default_factory=list)
    description_path: Path | None = None

    def mapped(self) -> dict[str, ColumnProposal]:
        """Return contract field → proposal for the mapped columns."""
        return {c.field: c for c in self.columns if c.field}

    def summary(self) -> str:
        """Return the report as text for the terminal."""
        return _summary(self)

    def description_toml(self) -> str:
        """Return the draft source description as TOML text."""
        return _draft_toml(self)


# ---------------------------------------------------------------- knowledge


def _known_headers(exclude: str | None = None) -> dict[str, Counter]:
    """Return normalised header → Counter of contract fields from every description."""
    from rehab_analytics.template import (
        _ANONYMOUS_COLUMNS,
        _PARTICIPANT_COLUMNS,
        _SUBPROJECT_COLUMNS,
        _TEXT,
    )

    known: dict[str, Counter] = {}

    def add(header: str, fld: str, weight: int = 1) -> None:
        known.setdefault(normalise_label(header), Counter())[fld] += weight

    for fld, words in _ALIASES.items():
        for w in words:
            add(w, fld)
    for cols in (_PARTICIPANT_COLUMNS, _SUBPROJECT_COLUMNS, _ANONYMOUS_COLUMNS):
        for col in cols:
            fld = {"count_woman": "count_by_sex.woman", "count_man": "count_by_sex.man"}
            for header in (col.sv, col.en):
                if header:
                    add(header, fld.get(col.field, col.field))
    for key in ("income_before", "income_after"):
        for text in _TEXT[key]:
            add(text, f"band.{key}")
    for source in load_sources():
        if source.name == exclude:
            continue
        for table in source.tables:
            for fld, header in table.columns.items():
                if isinstance(header, Band):
                    add(header.band, f"band.{fld}", 2)
                elif isinstance(header, dict):
                    for sex, h in header.items():
                        add(h, f"{fld}.{sex}", 2)
                else:
                    add(str(header), fld, 2)
    return known


def _known_vocabularies(exclude: str | None = None) -> dict[str, dict[str, str]]:
    """Return the built-in vocabularies plus every description's own labels."""
    vocab = {k: dict(v) for k, v in load_vocabularies().items()}
    for source in load_sources():
        if source.name == exclude:
            continue
        for name, table in source.vocabularies.items():
            for label, code in table.items():
                vocab.setdefault(name, {}).setdefault(label, code)
    from rehab_analytics.template import _profile_vocabularies

    for name, table in _profile_vocabularies().items():
        for label, code in table.items():
            vocab.setdefault(name, {}).setdefault(label, code)
    return vocab


# ---------------------------------------------------------------- reading


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _sniff_csv(path: Path) -> tuple[str, str]:
    """Return (encoding, delimiter) of a text file."""
    data = path.read_bytes()
    encoding = next(
        (e for e in _ENCODINGS if _decodes(data, e)),
        None,
    )
    if encoding is None:
        raise InputFileError(
            f"the text is neither UTF-8 nor Windows-1252 (tried {list(_ENCODINGS)}). "
            "Save it as 'CSV UTF-8' and inspect it again.",
            file=str(path),
        )
    lines = [ln for ln in data.decode(encoding).splitlines() if ln.strip()][:50]

    def score(d: str) -> tuple[int, int]:
        counts = Counter(ln.count(d) for ln in lines)
        mode, freq = counts.most_common(1)[0]
        return (freq if mode > 0 else 0, mode)

    delimiter = max(_DELIMITERS, key=score)
    return encoding, delimiter


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _sheet_list(path: Path, fmt: str) -> list[tuple[str, bool]]:
    if fmt == "csv":
        return [("", True)]
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(str(path))
    try:
        return [
            (m.name, m.visible == pc.SheetVisibleEnum.Visible)
            for m in wb.sheets_metadata
        ]
    finally:
        wb.close()


def _grid(path: Path, sheet: str, encoding: str, delimiter: str):
    from rehab_analytics.read import read_grid

    columns, merges, _ = read_grid(
        path, sheet, encoding=(encoding,), delimiter=delimiter, display=path.name
    )
    return columns, merges


# ---------------------------------------------------------------- evidence


def _header_score(header: str, known: dict[str, Counter]) -> dict[str, float]:
    """Return contract field → similarity (0–1) of ``header`` to known headers."""
    norm = normalise_label(header)
    if not norm or len(norm) > 80:
        return {}
    cache = _SCORE_CACHE.setdefault(id(known), {})
    if norm in cache:
        return dict(cache[norm])
    scores: dict[str, float] = {}
    matcher = difflib.SequenceMatcher(None, norm)
    for known_header, fields in known.items():
        if known_header == norm:
            sim = 1.0
        else:
            matcher.set_seq1(known_header)
            # The cheap upper bounds rule out most pairs before the full ratio.
            if matcher.real_quick_ratio() < 0.72 or matcher.quick_ratio() < 0.72:
                continue
            sim = matcher.ratio()
            if sim < 0.72:
                continue
            sim *= 0.9
        for fld in fields:
            scores[fld] = max(scores.get(fld, 0.0), sim)
    cache[norm] = scores
    return dict(scores)


def _keyword_scores(header: str) -> dict[str, float]:
    """Return fields whose key words the header contains (word prefixes).

    This catches wordings no description has used yet ("Stegförflyttning
    start", "År i offentlig försörjning"); before/after is settled later from
    words such as start/slut/in/ut.
    """
    words = normalise_label(header).split()

    def has(*stems: str) -> bool:
        return any(w.startswith(stem) for w in words for stem in stems)

    out: dict[str, float] = {}
    if has("steg", "step"):
        out.update(step_start=_KEYWORD, step_end=_KEYWORD)
    if has("halsa", "health", "maende"):
        out.update(health_start=_KEYWORD, health_end=_KEYWORD)
    public = (has("offentlig") and has("forsorjning")) or (
        has("public") and has("support")
    )
    if public:
        out["support_years_before"] = _KEYWORD + 0.05
    elif has("forsorjning", "income", "inkomst"):
        out.update(income_before=_KEYWORD, income_after=_KEYWORD)
    if has("sysselsattning", "occupation"):
        out.update(occupation_before=_KEYWORD, occupation_after=_KEYWORD)
    if has("avslutsorsak", "orsak", "reason"):
        out["exit_reason"] = _KEYWORD
    if has("datum", "date", "inskriv", "utskriv"):
        out.update(start_date=_KEYWORD - 0.1, end_date=_KEYWORD - 0.1)
    return out


def _parse_dates(texts: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(texts, format=fmt, errors="coerce")


@dataclass
class _Values:
    """Value statistics of one column (non-empty cells only)."""

    n: int
    texts: pd.Series
    native_dates: float
    serials: float
    text_dates: dict[str, float]
    numbers: pd.Series
    numeric: float
    pnr: float
    checks: float
    date_texts: pd.Series = dataclasses.field(default_factory=lambda: pd.Series([]))


def _number_texts(texts: pd.Series, decimal: str) -> pd.Series:
    cleaned = texts.str.replace(r"[\s\u00a0\u202f]", "", regex=True)
    if decimal == ",":
        cleaned = cleaned.str.replace(",", ".", regex=False)
    return pd.to_numeric(cleaned, errors="coerce")


def _values(raw: np.ndarray, decimal: str) -> _Values:
    present = [v for v in raw[:_SAMPLE_ROWS] if v is not None and _cell_text(v) != ""]
    n = len(present)
    texts = pd.Series([_cell_text(v) for v in present], dtype="string")
    if n == 0:
        empty = pd.Series([], dtype="float64")
        return _Values(0, texts, 0, 0, {}, empty, 0, 0, 0)
    native = sum(isinstance(v, dt.date | dt.datetime) for v in present) / n
    nums = pd.Series(
        [float(v) if isinstance(v, int | float) and not isinstance(v, bool) else np.nan
         for v in present]
    )  # fmt: skip
    from_text = _number_texts(texts, decimal)
    numbers = nums.fillna(
        pd.Series(from_text.to_numpy(dtype="float64", na_value=np.nan))
    )
    is_serial = nums.between(*_SERIAL_RANGE) & (nums % 1 == 0)
    not_native = ~pd.Series([isinstance(v, dt.date | dt.datetime) for v in present])
    text_only = texts[nums.isna().to_numpy() & not_native.to_numpy()]
    text_only = text_only[text_only.str.len() >= 6]
    text_dates = {}
    if len(text_only):
        for fmt in _DATE_CANDIDATES:
            parsed = _parse_dates(text_only, fmt)
            ok = parsed.notna() & parsed.dt.year.between(1990, 2100)
            if ok.any():
                text_dates[fmt] = float(ok.mean())
    return _Values(
        n=n,
        texts=texts,
        native_dates=native,
        serials=float(is_serial.mean()),
        text_dates=text_dates,
        numbers=numbers,
        numeric=float(numbers.notna().mean()),
        pnr=float(texts.str.match(_PNR.pattern).fillna(False).mean()),
        checks=float(texts.str.lower().isin(_CHECK_MARKS).mean()),
        date_texts=text_only,
    )


def _vocab_hits(
    texts: pd.Series, vocab: dict[str, str], separators: str | None
) -> float:
    """Share of distinct labels (split on ``separators``) found in ``vocab``."""
    if texts.empty:
        return 0.0
    values = texts
    if separators:
        values = texts.str.split(f"[{re.escape(separators)}]", regex=True).explode()
    labels = {normalise_label(v) for v in values.dropna() if str(v).strip()}
    if not labels:
        return 0.0
    return sum(lbl in vocab for lbl in labels) / len(labels)


def _value_scores(v: _Values, vocab: dict[str, dict[str, str]]) -> dict[str, float]:
    """Return contract field → how well the values fit it (0–1)."""
    if v.n == 0:
        return {}
    scores: dict[str, float] = {}
    dates = max([v.native_dates + v.serials, *v.text_dates.values()], default=0.0)
    if dates >= 0.5:
        scores["start_date"] = scores["end_date"] = min(1.0, dates)
    if v.pnr >= 0.5:
        scores["personnummer"] = v.pnr
    for fld, name in _VOCAB_OF.items():
        sep = ",;/" if fld.startswith("income") else None
        hit = _vocab_hits(v.texts, vocab.get(name, {}), sep)
        if fld == "municipality":
            codes = v.texts.str.fullmatch(r"\d{4}").fillna(False).mean()
            hit = max(hit, float(codes))
        if hit >= 0.5:
            scores[fld] = hit
    nums = v.numbers.dropna()
    if v.numeric >= 0.8 and len(nums) and (nums % 1 == 0).all():
        lo, hi = nums.min(), nums.max()
        if lo >= 0 and hi <= 10 and dates < 0.5:
            for fld in ("step_start", "step_end", "health_start", "health_end"):
                scores[fld] = 0.6
        if lo >= 1900 and hi <= 2015 and v.serials < 0.5:
            scores["birth_year"] = 0.6
        if lo >= 2010 and hi <= 2030:
            scores["year"] = 0.7
        if lo >= 14 and hi <= 80 and v.pnr < 0.5:
            scores["age"] = 0.4
        if lo >= 0:
            for fld in (
                "planned_participants",
                "count_by_sex.woman",
                "count_by_sex.man",
            ):
                scores[fld] = 0.5
    if v.numeric >= 0.8 and len(nums) and nums.min() >= 0 and nums.max() <= 50:
        # Years on public support given as a number ("2,5"); clean bands it.
        scores["support_years_before"] = 0.6
    if v.numeric >= 0.8 and len(nums) and nums.max() >= 1000:
        for fld in ("budget_sek", "cost_sek", "esf_sek"):
            scores[fld] = 0.6
    label_steps = v.texts.str.extract(r"(\d+)", expand=False).notna().mean()
    if v.numeric < 0.8 and label_steps >= 0.8 and v.pnr < 0.5 and dates < 0.5:
        for fld in ("step_start", "step_end", "health_start", "health_end"):
            scores[fld] = 0.5
    return scores


def _direction(header: str, band: str) -> str | None:
    """Return 'before' or 'after' from the header words (or its band), else None."""
    words = set(normalise_label(f"{band} {header}").split())
    before, after = bool(words & _BEFORE), bool(words & _AFTER)
    if before != after:
        return "before" if before else "after"
    return None


# ---------------------------------------------------------------- the layout


def _find_header(columns, known) -> tuple[int | None, list[float]]:
    """Return the 0-based header row (best known-header matches) and row scores."""
    if not columns:
        return None, []
    nrows = len(columns[0])
    scores = []
    for r in range(min(nrows, _SCAN_ROWS)):
        cells = [_cell_text(c[r]) for c in columns if c[r] is not None]
        texts = [c for c in cells if c and not re.fullmatch(r"[\d\s.,:/-]+", c)]
        if len(texts) < 2:
            scores.append(0.0)
            continue
        best = [max(_header_score(c, known).values(), default=0.0) for c in texts]
        scores.append(sum(b for b in best if b >= 0.75) + 0.01 * len(texts))
    if not scores or max(scores) <= 0:
        return None, scores
    return int(np.argmax(scores)), scores


def _band_row(columns, merges, header_index: int) -> tuple[int | None, list[str]]:
    """Return the band row index above the header (merged cells) and band labels."""
    from rehab_analytics.read import _band_labels

    if header_index == 0:
        return None, [""] * len(columns)
    above = header_index - 1
    merged_here = [
        m for m in merges if m[0][0] <= above <= m[1][0] and m[1][1] > m[0][1]
    ]
    filled = [c[above] for c in columns if c[above] is not None]
    if not merged_here or not filled:
        return None, [""] * len(columns)
    return above, _band_labels(columns, above, merges)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _assign(
    candidates: list[dict[str, float]], headers, bands
) -> list[tuple[str | None, float]]:
    """Assign each column at most one field, each field at most one column (greedy)."""
    pairs = sorted(
        ((score, j, fld) for j, c in enumerate(candidates) for fld, score in c.items()),
        key=lambda t: (-t[0], t[1]),
    )
    out: list[tuple[str | None, float]] = [(None, 0.0)] * len(candidates)
    taken: set[str] = set()
    for score, j, fld in pairs:
        if score < _ACCEPT or out[j][0] is not None or fld in taken:
            continue
        out[j] = (fld, score)
        taken.add(fld)
    return out


def _combine(
    header: str, band: str, hs: dict[str, float], vs: dict[str, float]
) -> dict[str, float]:
    """Combine header and value evidence; settle before/after from the wording."""
    combined: dict[str, float] = {}
    for fld in set(hs) | set(vs):
        h, v = hs.get(fld, 0.0), vs.get(fld, 0.0)
        if fld.startswith("band."):
            continue
        if h >= 0.95:
            score = 0.9 + 0.1 * min(1.0, v + 0.5) if v or fld not in _VOCAB_OF else 0.85
        elif h > 0:
            score = 0.55 * h + 0.45 * v
        else:
            score = 0.65 * v
        combined[fld] = score
    direction = _direction(header, band)
    for first, second in _PAIRS:
        for fld in (first, second):
            if fld not in combined:
                continue
            is_first = fld == first
            if direction == ("before" if is_first else "after"):
                combined[fld] += 0.05
            elif direction is not None:
                combined[fld] -= 0.3
    return combined


def _band_fields(bands: list[str], headers: list[str], vocab) -> dict[str, str]:
    """Return income field → band label for bands over income-source columns."""
    income = vocab.get("income_source", {})
    out: dict[str, str] = {}
    for band in dict.fromkeys(b for b in bands if b):
        heads = [h for h, b in zip(headers, bands, strict=True) if b == band and h]
        if heads and sum(normalise_label(h) in income for h in heads) >= 0.6 * len(
            heads
        ):
            direction = _direction("", band)
            fld = "income_before" if direction != "after" else "income_after"
            if fld in out:
                fld = "income_after"
            out.setdefault(fld, band)
    return out


def _choose_sheets(path: Path, fmt: str, sheets, sheet: str | None, known, enc, delim):
    """Return (sheet to analyse, sheet patterns, other sheets that hold data)."""
    if fmt == "csv":
        return "", [], []
    names = [n for n, _ in sheets]
    if sheet is not None:
        if sheet not in names:
            raise InputFileError(
                f"sheet '{sheet}' not found; the workbook has {names}.", file=str(path)
            )
        return sheet, [sheet], []
    visible = [n for n, vis in sheets if vis]
    best: list[tuple[float, str]] = []
    for name in visible:
        columns, _ = _grid(path, name, enc, delim)
        _, scores = _find_header(columns, known)
        best.append((max(scores, default=0.0), name))
    if not best:
        raise InputFileError("the workbook has no visible sheet.", file=str(path))
    top = max(s for s, _ in best)
    chosen = [n for s, n in best if s >= 0.6 * top and s > 0] or [best[0][1]]
    others = [n for s, n in best if s >= 0.75 and n not in chosen]
    if len(chosen) == 1:
        return chosen[0], [_sheet_pattern(chosen[0])], others
    prefix = _common_prefix(chosen)
    return chosen[0], [f"{prefix}*" if prefix else chosen[0]], others


def _sheet_pattern(name: str) -> str:
    """Return a glob for a sheet named by year or period ('Deltagare 2017' → 'Deltagare*')."""
    stem = re.sub(r"[\s_-]*\d{2,4}(\s*[TtQq]\d)?$", "", name)
    return f"{stem}*" if stem and stem != name else name


def _siblings(path: Path) -> list[Path]:
    """Return the other files of the same kind in the same folder (one delivery)."""
    return sorted(
        p
        for p in path.parent.glob(f"*{path.suffix}")
        if p != path and p.is_file() and not p.name.startswith(("~$", "."))
    )[:50]


def _same_header_row(columns, want: dict[str, int], index: int) -> int | None:
    """Return ``index`` if that row of a sibling holds mostly the same headers."""
    if not columns or len(columns[0]) <= index:
        return None
    cells = [
        normalise_label(_cell_text(c[index])) for c in columns if c[index] is not None
    ]
    hits = sum(c in want for c in cells)
    return index if cells and hits * 2 >= len(want) else None


def _with_siblings(
    bodies, headers, header_index, siblings, fmt, patterns, known, encoding, delimiter
):
    """Append the same-header columns of sibling files, so evidence covers all files."""
    import fnmatch

    want = {normalise_label(h): j for j, h in enumerate(headers) if h}
    extra: list[list[np.ndarray]] = [[] for _ in bodies]
    for other in siblings:
        try:
            names = [n for n, vis in _sheet_list(other, fmt) if vis]
            fits = [
                n
                for n in names
                if any(
                    fnmatch.fnmatchcase(n.casefold(), p.casefold()) for p in patterns
                )
            ]
            sheet = (fits or names or [""])[0]
            columns, _ = _grid(other, sheet, encoding, delimiter)
        except Exception:  # noqa: BLE001 - a broken sibling is reported by clean
            continue
        index = _same_header_row(columns, want, header_index)
        if index is None:
            index, _ = _find_header(columns, known)
        if index is None:
            continue
        for c in columns:
            j = want.get(normalise_label(_cell_text(c[index])))
            if j is not None:
                extra[j].append(c[index + 1 :])
    return [
        np.concatenate([b, *e]) if e else b for b, e in zip(bodies, extra, strict=True)
    ]


def _common_prefix(names: list[str]) -> str:
    prefix = names[0]
    for n in names[1:]:
        while not n.startswith(prefix):
            prefix = prefix[:-1]
    return prefix.rstrip()


def _organisation_for(path: Path) -> Organisation | None:
    """Return the registered organisation whose code/name/alias is in the path."""
    registry = build_registry(load_sources())
    parts = [normalise_label(p) for p in path.resolve().parts[::-1]]
    for part in parts:
        hit = registry.resolve_forbund(pd.Series([part])).iloc[0]
        if isinstance(hit, str):
            orgs = [o for o in registry.organisations if o.forbund == hit]
            return orgs[0] if len(orgs) == 1 else None
    return None


def _decimal(texts: list[pd.Series], delimiter: str | None) -> tuple[str, str | None]:
    joined = pd.concat(texts) if texts else pd.Series([], dtype="string")
    comma = joined.str.fullmatch(r"-?\d+,\d+").fillna(False).sum()
    point = joined.str.fullmatch(r"-?\d+\.\d+").fillna(False).sum()
    if delimiter == ",":
        decimal = "."
    elif comma != point:
        decimal = "," if comma > point else "."
    else:
        # No decimals seen: Swedish exports (";"-separated) use the decimal comma.
        decimal = "," if delimiter in (";", "\t") else "."
    spaced = (
        joined.str.contains(r"\d[ \u00a0\u202f]\d{3}\b", regex=True).fillna(False).any()
    )
    return decimal, (" " if spaced else None)


def _list_separator(texts: pd.Series, vocab: dict[str, str]) -> str | None:
    best, best_hits = None, 0.0
    for sep in _LIST_SEPARATORS:
        if not texts.str.contains(re.escape(sep), regex=True).fillna(False).any():
            continue
        hit = _vocab_hits(texts, vocab, sep)
        if hit > best_hits:
            best, best_hits = sep, hit
    return best


def _format_regex(fmt: str) -> str:
    """Return a regex for the shape of a strptime format (day 31/11 still fits)."""
    parts = {"%Y": r"\d{4}", "%y": r"\d{2}", "%m": r"\d{1,2}", "%d": r"\d{1,2}"}
    tokens = re.split(r"(%[Yymd])", fmt)
    return "^" + "".join(parts.get(t, re.escape(t)) for t in tokens if t) + "$"


def _date_formats(values: list[_Values]) -> tuple[list[str], dict[str, int], list[str]]:
    """Return the formats to declare, values per format and notes on doubts.

    Formats are chosen greedily by how many text dates they read; dates that
    exist in no format (31/11) are then matched by shape, so their format is
    still declared and the row is rejected as an impossible date.
    """
    texts = (
        pd.concat([v.date_texts for v in values], ignore_index=True)
        if values
        else pd.Series([])
    )
    remaining = texts.dropna().astype("string")
    chosen: list[str] = []
    seen: dict[str, int] = {}
    notes: list[str] = []
    parsed = {f: _parse_dates(remaining, f).notna() for f in _DATE_CANDIDATES}
    left = pd.Series(True, index=remaining.index)
    while left.any():
        fmt, hits = max(((f, int((ok & left).sum())) for f, ok in parsed.items()),
                        key=lambda t: t[1])  # fmt: skip
        if hits == 0:
            break
        chosen.append(fmt)
        seen[fmt] = hits
        left &= ~parsed[fmt]
    for fmt in _DATE_CANDIDATES:
        shaped = left & remaining.str.match(_format_regex(fmt)).fillna(False)
        if shaped.any():
            if fmt not in chosen:
                chosen.append(fmt)
            seen[fmt] = seen.get(fmt, 0) + int(shaped.sum())
            left &= ~shaped
    if left.any():
        examples = sorted(set(remaining[left]))[:5]
        notes.append(
            f"{int(left.sum())} date values fit no known format, e.g. {examples}; "
            "they will be rejected as invalid dates unless a format is added"
        )
    if "%d/%m/%Y" in chosen and parsed["%m/%d/%Y"][parsed["%d/%m/%Y"]].all():
        notes.append(
            "dates fit both day/month and month/day order; assumed day/month "
            "(Swedish); check a date with day > 12"
        )
    return chosen, seen, notes


def _scale(field_: str, v: _Values) -> dict:
    """Return {min, max, labels} proposed for a step/health column."""
    nums = v.numbers.dropna()
    labels = {}
    if v.numeric < 0.8:
        digits = v.texts.str.extract(r"(\d+)", expand=False)
        labels = {
            t: int(d) for t, d in zip(v.texts, digits, strict=True) if pd.notna(d)
        }
        nums = pd.Series(list(labels.values()), dtype="float64")
    if nums.empty:
        return {}
    lo = 0 if nums.min() == 0 else 1
    # Standard local scales; the smallest that holds almost every value.
    standard = (5, 7, 10)
    for hi in standard:
        if (nums <= hi).mean() >= 0.97:
            break
    if field_.startswith("health") and hi > 5 and (nums <= 5).mean() >= 0.9:
        hi = 5
    out = {"min": lo, "max": int(hi), "observed": (int(nums.min()), int(nums.max()))}
    if labels:
        out["labels"] = dict(sorted(set(labels.items()), key=lambda t: t[1]))
    return out


def inspect_file(
    path: str | Path,
    sheet: str | None = None,
    write_description: str | Path | None = None,
    *,
    exclude_source: str | None = None,
) -> InspectReport:
    """Inspect an unfamiliar file and propose how to read it.

    Reports the sheets (and hidden ones), the header row and a band row above
    it, CSV encoding/delimiter/decimal mark, a proposed contract field with a
    confidence for every column, the raw labels of coded columns with proposed
    codes, the date formats seen and what it could not decide.

    Args:
        path: The file (xlsx, xlsm, xls, ods or csv).
        sheet: Analyse this sheet (default: the sheets that look like data).
        write_description: Write a draft source description (TOML) here.
        exclude_source: Ignore this description's headers and labels (to see how
            inspect does on a source it has not seen).

    Returns:
        An :class:`InspectReport`; ``.summary()`` gives it as text.

    Raises:
        InputFileError: If the file cannot be read.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "new.csv"
        >>> _ = p.write_text("Personnr;Kön;Startdatum\\n640823-3234;M;2017-01-02\\n")
        >>> rep = inspect_file(p)
        >>> {c.header: c.field for c in rep.columns}
        {'Personnr': 'personnummer', 'Kön': 'sex', 'Startdatum': 'start_date'}
    """
    from rehab_analytics.read import sniff_format

    path = Path(path)
    fmt = sniff_format(path)
    encoding, delimiter = _sniff_csv(path) if fmt == "csv" else (_ENCODINGS[0], ";")
    known = _known_headers(exclude_source)
    vocab = _known_vocabularies(exclude_source)
    sheets = _sheet_list(path, fmt)
    chosen, patterns, others = _choose_sheets(
        path, fmt, sheets, sheet, known, encoding, delimiter
    )
    report = InspectReport(file=path, format=fmt, sheets=sheets, sheet=chosen or None)
    marker = read_marker(path) if fmt == "xlsx" else None
    if marker is not None:
        report.undecided.append(
            f"nothing needed: this is a reporting template ({marker.text()}); clean "
            "reads it without a description when no description claims the file"
        )
    for other in others:
        report.undecided.append(
            f"sheet '{other}' also holds a table with other columns; run inspect "
            f"--sheet '{other}' and add its [[tables]] entry to the draft"
        )
    report.sheet_patterns = patterns
    if fmt == "csv":
        report.encoding, report.delimiter = encoding, delimiter
    columns, merges = _grid(path, chosen, encoding, delimiter)
    nonempty = [j for j, c in enumerate(columns) if any(x is not None for x in c)]
    columns = columns[: nonempty[-1] + 1] if nonempty else []
    header_index, _ = _find_header(columns, known)
    if header_index is None:
        report.undecided.append("no header row found: no row resembles known headers")
        _finish(report, write_description)
        return report
    report.header_row = header_index + 1
    band_index, bands = _band_row(columns, merges, header_index)
    report.band_row = None if band_index is None else band_index + 1
    headers = [_cell_text(c[header_index]) for c in columns]
    bodies = [c[header_index + 1 :] for c in columns]
    siblings = _siblings(path)
    if siblings:
        bodies = _with_siblings(
            bodies, headers, header_index, siblings, fmt, patterns, known, encoding,
            delimiter,
        )  # fmt: skip
    report.files_read = 1 + len(siblings)
    text_cells = [pd.Series([_cell_text(x) for x in b if x is not None], dtype="string")
                  for b in bodies]  # fmt: skip
    decimal, thousands = _decimal(text_cells, delimiter if fmt == "csv" else None)
    if fmt == "csv":
        report.decimal, report.thousands = decimal, thousands
    values = [_values(b, decimal) for b in bodies]
    band_fields = _band_fields(bands, headers, vocab)
    under_band = {j for j, b in enumerate(bands) if b in band_fields.values()}
    candidates = []
    for j, (h, v) in enumerate(zip(headers, values, strict=True)):
        if j in under_band or not h:
            candidates.append({})
            continue
        hs = _header_score(h, known)
        for fld, score in _keyword_scores(h).items():
            hs[fld] = max(hs.get(fld, 0.0), score)
        candidates.append(_combine(h, bands[j], hs, _value_scores(v, vocab)))
    assigned = _assign(candidates, headers, bands)
    for j, (h, (fld, score)) in enumerate(zip(headers, assigned, strict=True)):
        prop = ColumnProposal(
            j, _letter(j), h, bands[j], fld, round(min(score, 1.0), 2)
        )
        if j in under_band:
            fld_band = next(f for f, b in band_fields.items() if b == bands[j])
            prop.evidence = f"income source under band '{bands[j]}' ({fld_band})"
            prop.labels = {h: vocab["income_source"].get(normalise_label(h))}
        elif fld is not None:
            prop.evidence = _evidence(h, fld, known, values[j])
        elif h:
            prop.evidence = "not a contract field (not read)"
        report.columns.append(prop)
    _classify(report, band_fields)
    _labels_and_options(report, values, vocab, band_fields)
    report.organisation = _organisation_for(path)
    if report.kind == "participants" and report.organisation is None:
        report.undecided.append(
            "the organisation: no registered förbund in the path; fill in [organisation]"
        )
    folder = path.parent.name
    report.files_glob = f"{folder}/*{path.suffix.lower()}" if folder else path.name
    _finish(report, write_description)
    return report


def _evidence(header: str, fld: str, known, v: _Values) -> str:
    hs = _header_score(header, known).get(fld, 0.0)
    parts = []
    if hs >= 0.95:
        parts.append("header known")
    elif hs > 0:
        parts.append(f"header similar ({hs:.0%})")
    if v.pnr >= 0.5:
        parts.append(f"{v.pnr:.0%} personnummer-shaped")
    if v.native_dates >= 0.5:
        parts.append("native dates")
    if v.serials >= 0.5:
        parts.append("Excel serial day numbers")
    if v.text_dates:
        best = max(v.text_dates, key=v.text_dates.get)
        parts.append(f"text dates {best}")
    if fld in _VOCAB_OF:
        parts.append("labels checked against vocabulary")
    return ", ".join(parts) or "values only"


def _classify(report: InspectReport, band_fields: dict[str, str]) -> None:
    """Decide the table kind from the mapped fields and drop fields of other kinds."""
    mapped = set(report.mapped()) | set(band_fields)
    scores = {
        kind: len(mapped & {f.split(".")[0] for f in FIELDS[kind]} - {"sex", "year"})
        + len({f.split(".")[0] for f in mapped} & {"count_by_sex"})
        * (kind == "anonymous_counts")
        for kind in FIELDS
    }
    if "personnummer" in mapped or "start_date" in mapped:
        kind = "participants"
    else:
        kind = max(scores, key=scores.get)
    report.kind = kind
    allowed = set(FIELDS[kind]) | {"count_by_sex.woman", "count_by_sex.man"}
    for col in report.columns:
        if col.field and col.field not in allowed:
            col.evidence += f"; dropped ({col.field} is not a {kind} field)"
            col.field, col.confidence = None, 0.0
    if kind == "participants":
        for fld in ("personnummer", "start_date"):
            if fld not in report.mapped():
                report.undecided.append(f"no column found for the required field {fld}")


def _labels_and_options(report: InspectReport, values, vocab, band_fields) -> None:
    """Fill in labels → codes, date formats, scales, list separator and skip rows."""
    mapped = report.mapped()
    income_texts = []
    for fld, col in mapped.items():
        name = _VOCAB_OF.get(fld)
        v = values[col.index]
        if name is None:
            continue
        table = vocab.get(name, {})
        texts = v.texts
        if fld == "support_years_before" and v.numeric >= 0.8:
            col.evidence += "; numbers of years (banded by clean)"
            continue
        if fld.startswith("income"):
            income_texts.append(texts)
            continue
        col.labels = {t: table.get(normalise_label(t)) for t in dict.fromkeys(texts)}
        if fld == "municipality":
            col.labels = {t: c or (t if re.fullmatch(r"\d{4}", t) else None)
                          for t, c in col.labels.items()}  # fmt: skip
    if income_texts:
        sep = _list_separator(pd.concat(income_texts), vocab.get("income_source", {}))
        report.list_separator = sep
        for fld in ("income_before", "income_after"):
            if fld in mapped:
                col = mapped[fld]
                parts = values[col.index].texts
                if sep:
                    parts = parts.str.split(re.escape(sep), regex=True).explode()
                parts = parts.dropna().str.strip()
                col.labels = {
                    t: vocab["income_source"].get(normalise_label(t))
                    for t in dict.fromkeys(parts)
                    if t
                }
    date_values = [
        values[mapped[f].index] for f in ("start_date", "end_date") if f in mapped
    ]
    report.excel_serial_dates = any(v.serials >= 0.5 for v in date_values)
    formats, seen, notes = _date_formats(date_values)
    report.date_formats, report.date_formats_seen = formats, seen
    report.undecided.extend(notes)
    for fld in ("step_start", "step_end", "health_start", "health_end"):
        if fld in mapped:
            scale = _scale(fld, values[mapped[fld].index])
            name = fld.split("_")[0]
            if scale:
                merged = report.scales.setdefault(name, scale)
                merged["max"] = max(merged["max"], scale["max"])
                merged.setdefault("labels", {}).update(scale.get("labels", {}))
                lo, hi = merged["observed"]
                o_lo, o_hi = scale["observed"]
                merged["observed"] = (min(lo, o_lo), max(hi, o_hi))
    for name, scale in report.scales.items():
        if not scale.get("labels"):
            scale.pop("labels", None)
        lo, hi = scale["observed"]
        if hi > scale["max"]:
            report.undecided.append(
                f"the {name} scale: values {lo}–{hi}, most within {scale['min']}–"
                f"{scale['max']}; assumed {scale['min']}–{scale['max']} (larger values "
                "become warnings); check the förbund's scale"
            )
    key_col = mapped.get("personnummer") or mapped.get("forbund")
    if key_col is not None:
        texts = values[key_col.index].texts
        if texts.str.contains(_TOTALS, regex=True).fillna(False).any():
            field_ = "personnummer" if "personnummer" in mapped else "forbund"
            report.skip_rows = (field_, _TOTALS_PATTERN)
    unmapped = {
        f: sorted(t for t, c in col.labels.items() if c is None)
        for f, col in mapped.items()
        if col.labels
    }
    for f, labels in unmapped.items():
        if labels:
            report.undecided.append(f"labels of {f} with no code: {labels}")


# ---------------------------------------------------------------- output


def _q(text: object) -> str:
    return json.dumps(str(text), ensure_ascii=False)


def _draft_toml(r: InspectReport) -> str:
    """Return the draft description text (TOML with comments where unsure)."""
    lines = [
        f"# Draft source description written by `rehab-analytics inspect` for {r.file.name}.",
        "# Check every line marked CHECK, then save it in a sources folder",
        "# (docs/source-descriptions.md).",
    ]
    for note in r.undecided:
        lines.append(f"# UNDECIDED: {note}")
    org = r.organisation
    if r.kind == "participants" or org is not None:
        lines.append("")
        lines.append("[organisation]")
        if org is None:
            lines += ['forbund = "new_forbund"  # CHECK: a lower-case code',
                      'forbund_name = "…"  # CHECK', 'subproject = "new_subproject"  # CHECK',
                      'subproject_name = "…"  # CHECK']  # fmt: skip
        else:
            lines.append(f"# Taken from the registered organisation ({org.source}).")
            lines.append(f"forbund = {_q(org.forbund)}")
            lines.append(f"forbund_name = {_q(org.forbund_name)}")
            if org.forbund_aliases:
                lines.append(
                    f"forbund_aliases = [{', '.join(map(_q, org.forbund_aliases))}]"
                )
            lines.append(f"subproject = {_q(org.subproject)}")
            lines.append(f"subproject_name = {_q(org.subproject_name)}")
            if org.subproject_aliases:
                aliases = ", ".join(map(_q, org.subproject_aliases))
                lines.append(f"subproject_aliases = [{aliases}]")
            if org.target_group:
                lines.append(f"target_group = {_q(org.target_group)}")
            if org.colour:
                lines.append(f"colour = {_q(org.colour)}")
    lines += ["", "[[tables]]", f"kind = {_q(r.kind or 'participants')}"]
    lines.append(f"files = [{_q(r.files_glob)}]  # CHECK: every file of this delivery")
    if r.sheet_patterns:
        lines.append(f"sheets = [{', '.join(map(_q, r.sheet_patterns))}]")
    lines.append(f"header_row = {r.header_row or 1}")
    if r.band_row:
        lines.append(f"band_row = {r.band_row}")
    if r.skip_rows:
        lines.append(
            f"skip_rows = {{ column = {_q(r.skip_rows[0])}, pattern = {_q(r.skip_rows[1])} }}"
        )
    if r.excel_serial_dates:
        lines.append("excel_serial_dates = true")
    if r.date_formats:
        lines.append(f"date_formats = [{', '.join(map(_q, r.date_formats))}]")
    if r.format == "csv":
        lines.append(f"encoding = [{_q(r.encoding)}]")
        lines.append(f"delimiter = {_q(r.delimiter)}")
        lines.append(f"decimal = {_q(r.decimal)}")
        if r.thousands:
            lines.append(f"thousands = {_q(r.thousands)}")
    if r.list_separator:
        lines.append(f"list_separator = {_q(r.list_separator)}")
    lines += ["", "[tables.columns]"]
    mapped = r.mapped()
    by_sex = {}
    for fld, col in mapped.items():
        if fld.startswith("count_by_sex."):
            by_sex[fld.split(".")[1]] = col.header
            continue
        note = (
            ""
            if col.confidence >= 0.8
            else f"  # CHECK: {col.evidence} ({col.confidence:.0%})"
        )
        lines.append(f"{fld} = {_q(col.header)}{note}")
    if by_sex:
        inner = ", ".join(f"{k} = {_q(v)}" for k, v in by_sex.items())
        lines.append(f"count_by_sex = {{ {inner} }}")
    bands = {}
    for col in r.columns:
        if col.band and col.field is None and "under band" in col.evidence:
            fld = col.evidence.rsplit("(", 1)[1].rstrip(")")
            bands.setdefault(fld, col.band)
    for fld, band in bands.items():
        lines.append(f"{fld} = {{ band = {_q(band)} }}")
    for name, scale in r.scales.items():
        lines += ["", f"[scales.{name}]", f"min = {scale['min']}"]
        lo, hi = scale["observed"]
        lines.append(f"max = {scale['max']}  # observed {lo}–{hi}")
        if scale.get("labels"):
            inner = ", ".join(f"{_q(k)} = {v}" for k, v in scale["labels"].items())
            lines.append(f"labels = {{ {inner} }}")
    builtin = load_vocabularies()
    extra: dict[str, dict[str, str | None]] = {}
    for fld, col in mapped.items():
        name = _VOCAB_OF.get(fld)
        if not name:
            continue
        for label, code in col.labels.items():
            if name == "municipality" and code and re.fullmatch(r"\d{4}", label):
                continue
            if normalise_label(label) not in builtin.get(name, {}):
                extra.setdefault(name, {})[label] = code
    for name, table in extra.items():
        lines += ["", f"[vocabularies.{name}]"]
        for label, code in table.items():
            if code is None:
                lines.append(
                    f'# {_q(label)} = "?"  # CHECK: no code found; it will be unknown'
                )
            else:
                lines.append(f"{_q(label)} = {_q(code)}")
    return "\n".join(lines) + "\n"


def _finish(report: InspectReport, write_description: str | Path | None) -> None:
    if write_description is None:
        return
    from rehab_analytics.template import _atomic_write_text

    target = Path(write_description)
    _atomic_write_text(target, report.description_toml())
    report.description_path = target
    try:
        parse_description(target)
    except Exception as exc:  # noqa: BLE001 - the draft is kept for the analyst
        report.undecided.append(f"the draft does not parse yet: {exc}")


def _summary(r: InspectReport) -> str:
    out = [f"File: {r.file} ({r.format})"]
    if r.format == "csv":
        thousands = "none" if r.thousands is None else repr(r.thousands)
        out.append(
            f"Text file: encoding {r.encoding}, delimiter {r.delimiter!r}, decimal "
            f"{r.decimal!r}, thousands {thousands}"
        )
    else:
        shown = [f"{n}{'' if vis else ' (hidden)'}" for n, vis in r.sheets]
        out.append(
            f"Sheets: {', '.join(shown)}; analysed: {r.sheet} (pattern {r.sheet_patterns})"
        )
    band = f", header band in row {r.band_row}" if r.band_row else ""
    out.append(f"Header row: {r.header_row}{band}; table kind: {r.kind}")
    org = r.organisation
    out.append(
        f"Organisation: {org.forbund + ' / ' + org.subproject if org else 'not found'}"
    )
    out.append("Columns:")
    for c in r.columns:
        target = c.field or "-"
        band = f" [{c.band}]" if c.band else ""
        out.append(
            f"  {c.letter:>3} {c.header!r}{band} -> {target} "
            f"({c.confidence:.0%}) {c.evidence}"
        )
        if c.labels and c.field:
            shown = ", ".join(
                f"{k!r}->{v or '?'}" for k, v in list(c.labels.items())[:12]
            )
            more = f" … (+{len(c.labels) - 12})" if len(c.labels) > 12 else ""
            out.append(f"        labels: {shown}{more}")
    if r.date_formats_seen or r.excel_serial_dates:
        seen = ", ".join(f"{k} ({v})" for k, v in r.date_formats_seen.items())
        serial = "; Excel serial day numbers" if r.excel_serial_dates else ""
        out.append(f"Date formats seen: {seen or 'native dates'}{serial}")
    if r.list_separator:
        out.append(f"List separator in income cells: {r.list_separator!r}")
    if r.skip_rows:
        out.append(f"Totals rows to skip in column {r.skip_rows[0]}")
    for name, s in r.scales.items():
        out.append(
            f"Scale {name}: {s['min']}–{s['max']} (observed {s['observed'][0]}–{s['observed'][1]})"
        )
    if r.undecided:
        out.append("Could not decide:")
        out.extend(f"  - {u}" for u in r.undecided)
    else:
        out.append("Everything decided; still confirm the draft.")
    if r.description_path:
        out.append(f"Draft description written to {r.description_path}")
    return "\n".join(out)
