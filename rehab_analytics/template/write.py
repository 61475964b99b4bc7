"""The Excel reporting template and the built-in profile that cleans it without a description.

A förbund that has no layout of its own fills in the template written by
:func:`write_template`. The workbook carries a hidden marker (a hidden sheet, a
defined name and a custom document property); :func:`find_template_descriptions`
recognises marked files that no source description claims and builds a source
description for each, in the template's language, so the one cleaning path
handles them like any other source.

What the template asks for lives in :mod:`~rehab_analytics.template.columns`;
reading a filled-in template back (:func:`read_marker`,
:func:`template_description`, :func:`find_template_descriptions`) lives in
:mod:`~rehab_analytics.template.profile`. Both are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rehab_analytics import contract
from rehab_analytics.atomic import write_atomic
from rehab_analytics.errors import SourceDescriptionError
from rehab_analytics.template.columns import (  # noqa: F401  (re-exported)
    _CODED,
    _FORBUND_COL,
    _INSTRUCTIONS,
    _LANGS,
    _MUNICIPALITIES,
    ANONYMOUS_COLUMNS,
    MARKER_SHEET,
    MARKER_TITLE,
    PARTICIPANT_COLUMNS,
    SUBPROJECT_COLUMNS,
    TEMPLATE_VERSION,
    TemplateMarker,
    _code_labels,
    _Column,
    _municipality_names,
    _registry,
    _t,
)
from rehab_analytics.template.profile import (  # noqa: F401  (re-exported)
    find_template_descriptions,
    profile_vocabularies,
    read_marker,
    template_description,
)

__all__ = [
    "TEMPLATE_VERSION",
    "MARKER_SHEET",
    "MARKER_TITLE",
    "TemplateMarker",
    "write_template",
    "read_marker",
    "template_description",
    "find_template_descriptions",
]

_MARKER_NAME = "rehab_analytics_template"
_DATA_ROWS = 2000
_CHECKED = "x"
_DATE_FORMAT = "yyyy-mm-dd"
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _list_values(registry, lang: str, forbund: str | None) -> dict[str, list[str]]:
    """Return every drop-down list of the template, keyed by list name."""
    orgs = [o for o in registry.organisations if forbund in (None, o.forbund)]
    lists = {
        # Registered (Swedish) names: they resolve back to codes in every language.
        "forbund": list(dict.fromkeys(o.forbund_name for o in orgs)),
        "subproject": [o.subproject_name for o in orgs],
        "municipality": _municipality_names(),
        "income": [_CHECKED],
    }
    for field, (vocab, codes) in _CODED.items():
        lists[field] = _code_labels(vocab, codes, lang)
    return lists


def _validation(col: _Column, lang: str, list_ref: str | None):
    """Return the openpyxl DataValidation for a template column."""
    from openpyxl.worksheet.datavalidation import DataValidation

    last = dt.date(dt.date.today().year + 1, 12, 31)
    if col.kind in ("list", "income"):
        dv = DataValidation(type="list", formula1=list_ref, allow_blank=True)
        dv.error = _t("list_error", lang)
        # Municipalities outside the list (kommunkod) are allowed: warn only.
        dv.errorStyle = "warning" if col.field == "municipality" else "stop"
    elif col.kind == "date":
        low = (dt.date(2000, 1, 1) - _EXCEL_EPOCH).days
        high = (last - _EXCEL_EPOCH).days
        dv = DataValidation(
            type="date", operator="between", formula1=str(low), formula2=str(high)
        )
        dv.error = _t("date_error", lang).format(
            low="2000-01-01", high=last.isoformat()
        )
    elif col.kind == "whole":
        dv = DataValidation(
            type="whole",
            operator="between",
            formula1=str(int(col.low or 0)),
            formula2=str(int(col.high or 0)),
        )
        dv.error = _t("whole_error", lang).format(
            low=int(col.low or 0), high=int(col.high or 0)
        )
    elif col.kind == "decimal":
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
        dv.error = _t("decimal_error", lang)
    else:
        return None
    dv.allow_blank = True
    dv.showErrorMessage = True
    dv.prompt = col.help(lang)
    dv.showInputMessage = True
    return dv


def _write_lists(wb, lists: dict[str, list[str]], lang: str) -> dict[str, str]:
    """Write the hidden lists sheet; return list name -> absolute range formula."""
    from openpyxl.utils import get_column_letter, quote_sheetname

    ws = wb.create_sheet(_t("sheet_lists", lang))
    ws.sheet_state = "hidden"
    refs = {}
    for i, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(i)
        ws.cell(row=1, column=i, value=name)
        for j, value in enumerate(values, start=2):
            ws.cell(row=j, column=i, value=value).data_type = "s"
        last = max(len(values), 1) + 1
        refs[name] = f"{quote_sheetname(ws.title)}!${letter}$2:${letter}${last}"
    return refs


def _income_labels(lang: str) -> list[str]:
    return _code_labels("income_source", contract.INCOME_SOURCES, lang)


def _write_data_sheet(wb, title: str, columns, lang: str, refs: dict[str, str]):
    """Write one data sheet: headers, bands, widths, formats and validations."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    has_band = any(c.kind == "income" for c in columns)
    header_row = 2 if has_band else 1
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    col_idx = 1
    for col in columns:
        if col.kind == "income":
            labels = _income_labels(lang)
            first = col_idx
            for label in labels:
                cell = ws.cell(row=header_row, column=col_idx, value=label)
                cell.font, cell.fill = bold, fill
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                ws.column_dimensions[get_column_letter(col_idx)].width = col.width
                col_idx += 1
            band = ws.cell(row=1, column=first, value=_t(col.field, lang))
            band.font, band.alignment = bold, Alignment(horizontal="center")
            ws.merge_cells(
                start_row=1, start_column=first, end_row=1, end_column=col_idx - 1
            )
            spans = [(first, col_idx - 1)]
        else:
            cell = ws.cell(row=header_row, column=col_idx, value=col.header(lang))
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.column_dimensions[get_column_letter(col_idx)].width = col.width
            spans = [(col_idx, col_idx)]
            col_idx += 1
        dimension = ws.column_dimensions[get_column_letter(spans[0][0])]
        if col.kind == "date":
            dimension.number_format = _DATE_FORMAT
        elif col.kind == "id":
            dimension.number_format = "@"
        elif col.kind == "decimal":
            dimension.number_format = "#,##0"
        ref = refs.get("income" if col.kind == "income" else col.field)
        dv = _validation(col, lang, ref)
        if dv is not None:
            ws.add_data_validation(dv)
            lo, hi = spans[0]
            dv.add(
                f"{get_column_letter(lo)}{header_row + 1}:"
                f"{get_column_letter(hi)}{header_row + _DATA_ROWS}"
            )
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.row_dimensions[header_row].height = 45
    return ws


def _write_instructions(
    wb, lang: str, forbund_name: str | None, forbund, sheets
) -> None:
    """Write the instructions sheet: purpose, personnummer format and every column."""
    from openpyxl.styles import Alignment, Font

    ws = wb.active
    ws.title = _t("sheet_instructions", lang)
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 34
    ws.column_dimensions["C"].width = 90
    ws["A1"] = _t("title", lang)
    ws["A1"].font = Font(bold=True, size=14)
    row = 3
    paragraphs = list(_INSTRUCTIONS[lang])
    if forbund:
        text = _t("forbund_fixed", lang).format(name=forbund_name, code=forbund)
        paragraphs.insert(1, text)
    else:
        paragraphs.insert(1, _t("forbund_column", lang))
    for text in paragraphs:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        ws.cell(row=row, column=1, value=text).alignment = Alignment(
            wrap_text=True, vertical="top"
        )
        ws.row_dimensions[row].height = 48
        row += 1
    row += 1
    for i, key in enumerate(("col_sheet", "col_column", "col_meaning"), start=1):
        ws.cell(row=row, column=i, value=_t(key, lang)).font = Font(bold=True)
    for title, columns in sheets:
        for col in columns:
            row += 1
            header = col.header(lang) or _t(col.field, lang)
            ws.cell(row=row, column=1, value=title)
            ws.cell(row=row, column=2, value=header)
            ws.cell(row=row, column=3, value=col.help(lang)).alignment = Alignment(
                wrap_text=True
            )


def _write_marker(wb, marker: TemplateMarker) -> None:
    """Write the hidden marker sheet, a defined name and a custom document property."""
    from openpyxl.packaging.custom import StringProperty
    from openpyxl.workbook.defined_name import DefinedName

    ws = wb.create_sheet(MARKER_SHEET)
    ws.sheet_state = "hidden"
    rows = [
        (MARKER_TITLE, marker.text()),
        ("version", marker.version),
        ("lang", marker.lang),
        ("forbund", marker.forbund or ""),
    ]
    for r, (key, value) in enumerate(rows, start=1):
        ws.cell(row=r, column=1, value=key)
        ws.cell(row=r, column=2, value=value)
    wb.defined_names[_MARKER_NAME] = DefinedName(
        _MARKER_NAME, attr_text=f'"{marker.text()}"'
    )
    wb.custom_doc_props.append(StringProperty(name=MARKER_TITLE, value=marker.text()))


def _sheet_layout(lang: str, forbund: str | None):
    """Return [(sheet title, columns)] for the three data sheets."""
    participants = (
        PARTICIPANT_COLUMNS if forbund else (_FORBUND_COL, *PARTICIPANT_COLUMNS)
    )
    return [
        (_t("sheet_participants", lang), participants),
        (_t("sheet_subprojects", lang), SUBPROJECT_COLUMNS),
        (_t("sheet_anonymous", lang), ANONYMOUS_COLUMNS),
    ]


def write_template(
    path: str | Path, lang: str | None = None, forbund: str | None = None
) -> Path:
    """Write the Excel reporting template and return its path.

    The workbook has an instructions sheet, sheets for participants, subproject
    budget and anonymous counts (names in ``lang``), drop-down lists for every
    coded column, date and number input checks, and a hidden marker that lets
    ``clean`` read a filled-in copy without any source description.

    Args:
        path: Target ``.xlsx`` file (written atomically).
        lang: ``"sv"`` or ``"en"`` for sheet names, headers and labels (default:
            the ``language`` of ``forbund``'s description, else Swedish).
        forbund: A registered förbund code to pre-fill; without it the data
            sheets get a Förbund column.

    Returns:
        The path written.

    Raises:
        SourceDescriptionError: If ``lang`` or ``forbund`` is unknown.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "mall.xlsx"
        >>> write_template(out, lang="en", forbund="nordost").name
        'mall.xlsx'
    """
    from openpyxl import Workbook

    registry = _registry()
    if forbund is not None and forbund not in registry.forbund_codes:
        raise SourceDescriptionError(
            f"The förbund code '{forbund}' is not registered; expected one of "
            f"{', '.join(registry.forbund_codes) or '(none)'}. Add a source description "
            "for a new organisation first, or leave --forbund out."
        )
    if lang is None:
        own = [o.language for o in registry.organisations if o.forbund == forbund]
        lang = own[0] if own else "sv"
    if lang not in _LANGS:
        raise SourceDescriptionError(
            f"The template language is '{lang}', expected 'sv' or 'en'."
        )
    names = {o.forbund: o.forbund_name for o in registry.organisations}
    path = Path(path)
    wb = Workbook()
    layout = _sheet_layout(lang, forbund)
    _write_instructions(wb, lang, names.get(forbund), forbund, layout)
    refs = _write_lists(wb, _list_values(registry, lang, forbund), lang)
    for title, columns in layout:
        _write_data_sheet(wb, title, columns, lang, refs)
    # The lists sheet goes last among the visible ones so users land on data sheets.
    wb.move_sheet(_t("sheet_lists", lang), offset=len(wb.sheetnames))
    _write_marker(wb, TemplateMarker(TEMPLATE_VERSION, lang, forbund))
    return write_atomic(path, wb.save)
