"""The result of inspecting a file: column proposals, the report and the draft TOML."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path

from rehab_analytics.atomic import write_text_atomic
from rehab_analytics.intake.columns import _VOCAB_OF
from rehab_analytics.sources import (
    Organisation,
    load_vocabularies,
    normalise_label,
    parse_description,
)

__all__ = [
    "ColumnProposal",
    "InspectReport",
]


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
    target = Path(write_description)
    write_text_atomic(target, report.description_toml())
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
