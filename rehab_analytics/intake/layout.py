"""Where the data sits in an unfamiliar file: encoding, sheets, header row, sibling files."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from rehab_analytics.errors import InputFileError
from rehab_analytics.ingest import band_labels, cell_text, read_grid
from rehab_analytics.sources import (
    Organisation,
    build_registry,
    load_sources,
    normalise_label,
)

_SCAN_ROWS = 30
_SCORE_CACHE: dict[int, dict[str, dict[str, float]]] = {}
_ENCODINGS = ("utf-8-sig", "cp1252")
_DELIMITERS = (";", ",", "\t", "|")


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
    columns, merges, _ = read_grid(
        path, sheet, encoding=(encoding,), delimiter=delimiter, display=path.name
    )
    return columns, merges


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


def _find_header(columns, known) -> tuple[int | None, list[float]]:
    """Return the 0-based header row (best known-header matches) and row scores."""
    if not columns:
        return None, []
    nrows = len(columns[0])
    scores = []
    for r in range(min(nrows, _SCAN_ROWS)):
        cells = [cell_text(c[r]) for c in columns if c[r] is not None]
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
    if header_index == 0:
        return None, [""] * len(columns)
    above = header_index - 1
    merged_here = [
        m for m in merges if m[0][0] <= above <= m[1][0] and m[1][1] > m[0][1]
    ]
    filled = [c[above] for c in columns if c[above] is not None]
    if not merged_here or not filled:
        return None, [""] * len(columns)
    return above, band_labels(columns, above, merges)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


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
        normalise_label(cell_text(c[index])) for c in columns if c[index] is not None
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
            j = want.get(normalise_label(cell_text(c[index])))
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
