"""Which contract field each column of an unfamiliar file holds: header and value evidence."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rehab_analytics.ingest import cell_text
from rehab_analytics.intake.layout import _header_score
from rehab_analytics.sources import (
    Band,
    load_sources,
    load_vocabularies,
    normalise_label,
)

_SAMPLE_ROWS = 20000
_ACCEPT = 0.6
_KEYWORD = 0.8
_DATE_CANDIDATES = (
    "%Y-%m-%d", "%Y%m%d", "%d/%m %Y", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y",
    "%Y/%m/%d", "%m/%d/%Y", "%d/%m/%y", "%y%m%d",
)  # fmt: skip
_SERIAL_RANGE = (36526, 51500)  # 2000-01-01 … 2040: plain numbers read as Excel days
_PNR = re.compile(r"^(\d{2})?\d{6}[-+]?\d{4}$")
_CHECK_MARKS = {"x", "ja", "1", "true", "yes"}
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


def _known_headers(exclude: str | None = None) -> dict[str, Counter]:
    """Return normalised header → Counter of contract fields from every description."""
    from rehab_analytics.template import (
        ANONYMOUS_COLUMNS,
        PARTICIPANT_COLUMNS,
        SUBPROJECT_COLUMNS,
        TEXT,
    )

    known: dict[str, Counter] = {}

    def add(header: str, fld: str, weight: int = 1) -> None:
        known.setdefault(normalise_label(header), Counter())[fld] += weight

    for fld, words in _ALIASES.items():
        for w in words:
            add(w, fld)
    for cols in (PARTICIPANT_COLUMNS, SUBPROJECT_COLUMNS, ANONYMOUS_COLUMNS):
        for col in cols:
            fld = {"count_woman": "count_by_sex.woman", "count_man": "count_by_sex.man"}
            for header in (col.sv, col.en):
                if header:
                    add(header, fld.get(col.field, col.field))
    for key in ("income_before", "income_after"):
        for text in TEXT[key]:
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
    from rehab_analytics.template import profile_vocabularies

    for name, table in profile_vocabularies().items():
        for label, code in table.items():
            vocab.setdefault(name, {}).setdefault(label, code)
    return vocab


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
    present = [v for v in raw[:_SAMPLE_ROWS] if v is not None and cell_text(v) != ""]
    n = len(present)
    texts = pd.Series([cell_text(v) for v in present], dtype="string")
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
