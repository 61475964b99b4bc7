"""How an unfamiliar file writes its values: decimals, lists, date formats, scales, labels."""

from __future__ import annotations

import re

import pandas as pd

from rehab_analytics.intake.columns import (
    _DATE_CANDIDATES,
    _VOCAB_OF,
    _parse_dates,
    _Values,
    _vocab_hits,
)
from rehab_analytics.intake.report import InspectReport
from rehab_analytics.sources import normalise_label

_TOTALS = re.compile(r"(?i)^\s*(?:summa|totalt|total)\b")
_TOTALS_PATTERN = "(?i)^\\s*(summa|totalt|total)\\b"
_LIST_SEPARATORS = (",", ";", "/", "|")


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
