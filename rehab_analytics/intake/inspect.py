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

The steps live in ``intake_layout`` (encoding, sheets, header row),
``intake_columns`` (field evidence and assignment), ``intake_formats`` (value
formats and labels) and ``intake_report`` (the report and the draft TOML).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rehab_analytics.ingest import cell_text, sniff_format
from rehab_analytics.intake.columns import (
    _assign,
    _band_fields,
    _combine,
    _evidence,
    _keyword_scores,
    _known_headers,
    _known_vocabularies,
    _value_scores,
    _values,
)
from rehab_analytics.intake.formats import (  # noqa: F401  (re-exported)
    _TOTALS_PATTERN,
    _decimal,
    _labels_and_options,
)
from rehab_analytics.intake.layout import (
    _ENCODINGS,
    _band_row,
    _choose_sheets,
    _find_header,
    _grid,
    _header_score,
    _letter,
    _organisation_for,
    _sheet_list,
    _siblings,
    _sniff_csv,
    _with_siblings,
)
from rehab_analytics.intake.report import ColumnProposal, InspectReport, _finish
from rehab_analytics.sources import FIELDS, normalise_label
from rehab_analytics.template.write import read_marker, write_template

__all__ = ["ColumnProposal", "InspectReport", "inspect_file", "write_template"]


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
    headers = [cell_text(c[header_index]) for c in columns]
    bodies = [c[header_index + 1 :] for c in columns]
    siblings = _siblings(path)
    if siblings:
        bodies = _with_siblings(
            bodies, headers, header_index, siblings, fmt, patterns, known, encoding,
            delimiter,
        )  # fmt: skip
    report.files_read = 1 + len(siblings)
    text_cells = [pd.Series([cell_text(x) for x in b if x is not None], dtype="string")
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
