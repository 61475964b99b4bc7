"""The Excel reporting template and the built-in profile that cleans it without a description.

A förbund that has no layout of its own fills in the template written by
:func:`write_template`. The workbook carries a hidden marker (a hidden sheet, a
defined name and a custom document property); :func:`find_template_descriptions`
recognises marked files that no source description claims and builds a source
description for each, in the template's language, so the one cleaning path
handles them like any other source.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rehab_analytics import contract
from rehab_analytics.errors import InputFileError, SourceDescriptionError

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

TEMPLATE_VERSION = 1
MARKER_SHEET = "_rehab_analytics"
MARKER_TITLE = "rehab-analytics template"
_MARKER_NAME = "rehab_analytics_template"
_LANGS = ("sv", "en")
_DATA_ROWS = 2000
_FIRST_YEAR = 2015
_STEP = (1, 7)
_HEALTH = (1, 5)
_CHECKED = "x"
_DATE_FORMAT = "yyyy-mm-dd"
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_TEMPLATE_SUFFIXES = (".xlsx", ".xlsm")
_MUNICIPALITIES = (
    "Göteborg", "Mölndal", "Partille", "Härryda", "Lerum", "Alingsås", "Ale",
    "Kungälv", "Stenungsund", "Tjörn",
)  # fmt: skip

# Coded contract field -> vocabulary / catalogue field and its codes.
_CODED = {
    "sex": ("sex", contract.SEX),
    "education": ("education", contract.EDUCATION),
    "support_years_before": ("support_years", contract.SUPPORT_YEARS),
    "occupation_before": ("occupation", contract.OCCUPATIONS),
    "occupation_after": ("occupation", contract.OCCUPATIONS),
    "exit_reason": ("exit_reason", contract.EXIT_REASONS),
}

_TEXT = {
    "sheet_participants": ("Deltagare", "Participants"),
    "sheet_subprojects": ("Delprojektbudget", "Subproject budget"),
    "sheet_anonymous": ("Anonyma deltagare", "Anonymous participants"),
    "sheet_instructions": ("Instruktioner", "Instructions"),
    "sheet_lists": ("Listor", "Lists"),
    "income_before": (
        "Försörjning före (markera med x)",
        "Income before (mark with x)",
    ),
    "income_after": ("Försörjning efter (markera med x)", "Income after (mark with x)"),
    "title": (
        "Rapportmall – Inkluderande rehabilitering (ESF 2015/00242)",
        "Reporting template – Inkluderande rehabilitering (ESF 2015/00242)",
    ),
    "col_sheet": ("Flik", "Sheet"),
    "col_column": ("Kolumn", "Column"),
    "col_meaning": ("Vad den betyder", "What it means"),
    "forbund_fixed": (
        "Mallen är förifylld för förbundet {name} ({code}).",
        "The template is pre-filled for the förbund {name} ({code}).",
    ),
    "forbund_column": (
        "Välj förbund i kolumnen Förbund på varje rad; en fil per förbund.",
        "Choose the förbund in the column Förbund on every row; one file per förbund.",
    ),
    "date_error": (
        "Skriv ett datum mellan {low} och {high}, t.ex. 2016-03-01.",
        "Enter a date between {low} and {high}, e.g. 2016-03-01.",
    ),
    "list_error": ("Välj ett värde i listan.", "Choose a value from the list."),
    "whole_error": (
        "Skriv ett heltal mellan {low} och {high}.",
        "Enter a whole number between {low} and {high}.",
    ),
    "decimal_error": (
        "Skriv ett belopp i kronor (0 eller mer).",
        "Enter an amount in kronor (0 or more).",
    ),
}

_INSTRUCTIONS = {
    "sv": [
        "Mallen följer projektets dataavtal. Uppgifterna motsvarar SUS (Sektors-"
        "övergripande system för uppföljning av samverkan, numera Uppföljning Finsam) "
        "och ESF:s deltagarindikatorer: in- och utregistrering per insats, "
        "försörjning och sysselsättning före och efter.",
        "Fyll i en rad per deltagarperiod på fliken Deltagare. En person kan ha flera "
        "perioder. Lämna tomma rader tomma; skriv inga summarader.",
        "Personnummer skrivs ÅÅÅÅMMDD-NNNN (t.ex. 19640823-3234) eller ÅÅMMDD-NNNN "
        "(t.ex. 640823-3234; '+' i stället för '-' för personer över 100 år). "
        "Samordningsnummer skrivs likadant med dagen plus 60 (t.ex. 701063-2391).",
        "Anonyma deltagare (utan samtycke eller med skyddad identitet) förs endast "
        "som antal kvinnor och män per år på fliken Anonyma deltagare.",
        "Välj värden ur rullgardinslistorna; datum skrivs ÅÅÅÅ-MM-DD. Filen rensas "
        "utan särskild beskrivning: ändra inte flik- eller kolumnnamnen och ta inte "
        "bort den dolda fliken _rehab_analytics.",
    ],
    "en": [
        "The template follows the project's data contract. The items match SUS "
        "(Sektorsövergripande system för uppföljning av samverkan, now Uppföljning "
        "Finsam) and the ESF participant indicators: registration in and out per "
        "intervention, income sources and occupation before and after.",
        "Enter one row per participant episode on the sheet Participants. A person "
        "may have several episodes. Leave blank rows blank; add no totals rows.",
        "Personal identity numbers (personnummer) are written YYYYMMDD-NNNN (e.g. "
        "19640823-3234) or YYMMDD-NNNN (e.g. 640823-3234; '+' instead of '-' for "
        "people over 100). Coordination numbers (samordningsnummer) are written the "
        "same way with the day plus 60 (e.g. 701063-2391).",
        "Anonymous participants (no consent, or protected identity) are recorded only "
        "as counts of women and men per year on the sheet Anonymous participants.",
        "Choose values from the drop-down lists; write dates YYYY-MM-DD. The file is "
        "cleaned without a source description: do not rename sheets or columns and "
        "do not delete the hidden sheet _rehab_analytics.",
    ],
}


@dataclass(frozen=True)
class _Column:
    """One template column: contract field, headers, input kind and help text."""

    field: str
    sv: str
    en: str
    kind: str  # id | list | date | whole | decimal | income | text
    help_sv: str
    help_en: str
    width: float = 18.0
    low: float | None = None
    high: float | None = None

    def header(self, lang: str) -> str:
        return self.sv if lang == "sv" else self.en

    def help(self, lang: str) -> str:
        return self.help_sv if lang == "sv" else self.help_en


_FORBUND_COL = _Column(
    "forbund", "Förbund", "Förbund", "list",
    "Samordningsförbundet som rapporterar.", "The reporting samordningsförbund.", 34,
)  # fmt: skip
_SUBPROJECT_COL = _Column(
    "subproject", "Delprojekt", "Subproject", "list",
    "Förbundets delprojekt.", "The förbund's subproject.", 34,
)  # fmt: skip
_YEAR_COL = _Column(
    "year", "År", "Year", "whole", "Kalenderår.", "Calendar year.", 8, _FIRST_YEAR, 2030
)

_PARTICIPANT_COLUMNS = (
    _Column(
        "personnummer", "Personnummer", "Personal identity number", "id",
        "Personnummer eller samordningsnummer, ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN. "
        "Pseudonymiseras vid rensningen och lämnar aldrig rådatamappen.",
        "Personnummer or samordningsnummer, YYYYMMDD-NNNN or YYMMDD-NNNN. "
        "Pseudonymised when cleaned; it never leaves the raw-data folder.", 20,
    ),
    _Column("sex", "Kön", "Sex", "list", "Kön enligt deltagaren.",
            "Sex as stated by the participant.", 12),
    _Column(
        "municipality", "Hemkommun", "Home municipality", "list",
        "Hemkommun (namn eller fyrsiffrig kommunkod).",
        "Home municipality (name or four-digit municipality code).", 16,
    ),
    _Column("education", "Utbildningsnivå", "Education level", "list",
            "Högsta avslutade utbildning vid start (SUS).",
            "Highest completed education at start (SUS).", 22),
    _Column("start_date", "Startdatum", "Start date", "date",
            "Datum för inregistrering i insatsen.",
            "Date of registration into the intervention.", 12),
    _Column("end_date", "Slutdatum", "End date", "date",
            "Datum för utregistrering; tomt om deltagaren är kvar.",
            "Date of registration out; blank while the participant is active.", 12),
    _Column("income_before", "", "", "income",
            "Försörjningskällor före start: x under varje källa som gäller.",
            "Income sources before start: x under every source that applies.", 11),
    _Column("income_after", "", "", "income",
            "Försörjningskällor efter avslut: x under varje källa som gäller.",
            "Income sources after exit: x under every source that applies.", 11),
    _Column("support_years_before", "Tid med offentlig försörjning före",
            "Time on public support before", "list",
            "Hur länge deltagaren haft offentlig försörjning före start.",
            "How long the participant had public support before start.", 24),
    _Column("occupation_before", "Sysselsättning före", "Occupation before", "list",
            "Sysselsättning vid start (SUS-grupper).",
            "Occupation at start (SUS groups).", 20),
    _Column("occupation_after", "Sysselsättning efter", "Occupation after", "list",
            "Sysselsättning vid avslut (SUS-grupper).",
            "Occupation at exit (SUS groups).", 20),
    _Column("exit_reason", "Avslutsorsak", "Reason for ending", "list",
            "Orsak till avslut; felregistreringar räknas inte i resultaten.",
            "Reason for ending; misregistrations do not count in outcomes.", 22),
    _Column("step_start", "Steg vid start", "Step at start", "whole",
            "Stegförflyttning vid start, 1 (längst från arbete) till 7 (i arbete/studier).",
            "Step-to-work at start, 1 (farthest from work) to 7 (in work/studies).", 10,
            *_STEP),
    _Column("step_end", "Steg vid avslut", "Step at end", "whole",
            "Stegförflyttning vid avslut, samma skala.",
            "Step-to-work at exit, same scale.", 10, *_STEP),
    _Column("health_start", "Självskattad hälsa vid start", "Self-rated health at start",
            "whole", "Självskattad hälsa vid start, 1 (mycket dålig) till 5 (mycket god).",
            "Self-rated health at start, 1 (very poor) to 5 (very good).", 12, *_HEALTH),
    _Column("health_end", "Självskattad hälsa vid avslut", "Self-rated health at end",
            "whole", "Självskattad hälsa vid avslut, samma skala.",
            "Self-rated health at exit, same scale.", 12, *_HEALTH),
)  # fmt: skip

_SUBPROJECT_COLUMNS = (
    _FORBUND_COL,
    _SUBPROJECT_COL,
    _YEAR_COL,
    _Column("planned_participants", "Planerat antal deltagare", "Planned participants",
            "whole", "Planerat antal deltagare under året.",
            "Participants planned for the year.", 14, 0, 100000),
    _Column("budget_sek", "Budget (kr)", "Budget (SEK)", "decimal",
            "Budgeterad kostnad för året i kronor (insatsbudget i SUS).",
            "Budgeted cost for the year in kronor (SUS intervention budget).", 16),
    _Column("cost_sek", "Utfall (kr)", "Actual cost (SEK)", "decimal",
            "Faktisk kostnad för året i kronor.", "Actual cost for the year in kronor.",
            16),
    _Column("esf_sek", "Varav ESF-stöd (kr)", "Of which ESF support (SEK)", "decimal",
            "Del av utfallet som finansieras av Europeiska socialfonden.",
            "Part of the actual cost funded by the European Social Fund.", 18),
)  # fmt: skip

_ANONYMOUS_COLUMNS = (
    _FORBUND_COL,
    _SUBPROJECT_COL,
    _YEAR_COL,
    _Column("count_woman", "Kvinnor", "Women", "whole",
            "Antal anonyma kvinnor som började under året.",
            "Anonymous women who started during the year.", 10, 0, 100000),
    _Column("count_man", "Män", "Men", "whole",
            "Antal anonyma män som började under året.",
            "Anonymous men who started during the year.", 10, 0, 100000),
)  # fmt: skip


@dataclass(frozen=True)
class TemplateMarker:
    """What the hidden marker of a template workbook says.

    Attributes:
        version: Template version (1).
        lang: Language of sheet and column names, ``"sv"`` or ``"en"``.
        forbund: Pre-filled förbund code, or None when a column holds it.
    """

    version: int
    lang: str
    forbund: str | None

    def text(self) -> str:
        """Return the marker as one line, e.g. 'rehab-analytics template v1, sv, nordost'."""
        return f"{MARKER_TITLE} v{self.version}, {self.lang}, {self.forbund or '-'}"


def _t(key: str, lang: str) -> str:
    return _TEXT[key][_LANGS.index(lang)]


def _code_labels(field: str, codes: tuple[str, ...], lang: str) -> list[str]:
    """Return the catalogue label of each code in ``lang``, in contract order."""
    from rehab_analytics import catalogue

    return [catalogue.label(field, code, lang) for code in codes]


def _registry(raw_dir: Path | None = None):
    """Return the organisation registry from the effective source descriptions."""
    from rehab_analytics.sources import build_registry, load_sources

    return build_registry(load_sources(raw_dir))


def _municipality_names() -> list[str]:
    """Return the municipality names of the built-in vocabulary, spelled properly."""
    from rehab_analytics.sources import load_vocabularies, normalise_label

    known = load_vocabularies()["municipality"]
    return [name for name in _MUNICIPALITIES if normalise_label(name) in known]


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


def _atomic_save(wb, path: Path) -> Path:
    """Save an openpyxl workbook via a temporary file and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _atomic_write_text(path: Path, text: str) -> Path:
    """Write text via a temporary file and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
        _PARTICIPANT_COLUMNS if forbund else (_FORBUND_COL, *_PARTICIPANT_COLUMNS)
    )
    return [
        (_t("sheet_participants", lang), participants),
        (_t("sheet_subprojects", lang), _SUBPROJECT_COLUMNS),
        (_t("sheet_anonymous", lang), _ANONYMOUS_COLUMNS),
    ]


def write_template(
    path: str | Path, lang: str = "sv", forbund: str | None = None
) -> Path:
    """Write the Excel reporting template and return its path.

    The workbook has an instructions sheet, sheets for participants, subproject
    budget and anonymous counts (names in ``lang``), drop-down lists for every
    coded column, date and number input checks, and a hidden marker that lets
    ``clean`` read a filled-in copy without any source description.

    Args:
        path: Target ``.xlsx`` file (written atomically).
        lang: ``"sv"`` (default) or ``"en"`` for sheet names, headers and labels.
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

    if lang not in _LANGS:
        raise SourceDescriptionError(
            f"The template language is '{lang}', expected 'sv' or 'en'."
        )
    registry = _registry()
    if forbund is not None and forbund not in registry.forbund_codes:
        raise SourceDescriptionError(
            f"The förbund code '{forbund}' is not registered; expected one of "
            f"{', '.join(registry.forbund_codes) or '(none)'}. Add a source description "
            "for a new organisation first, or leave --forbund out."
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
    return _atomic_save(wb, path)


# ---------------------------------------------------------------- the profile


def read_marker(path: str | Path) -> TemplateMarker | None:
    """Return the template marker of a workbook, or None if it carries none.

    Files that cannot be opened as workbooks are not templates (None).

    Raises:
        InputFileError: If the marker is there but names an unknown version or
            language (a newer template, or an edited marker).

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "t.xlsx"
        >>> read_marker(write_template(out, lang="en", forbund="vaster"))
        TemplateMarker(version=1, lang='en', forbund='vaster')
    """
    import python_calamine as pc

    path = Path(path)
    if path.suffix.lower() not in _TEMPLATE_SUFFIXES or path.name.startswith("~$"):
        return None
    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
    except Exception:  # noqa: BLE001 - unreadable files are reported by the readers
        return None
    try:
        if MARKER_SHEET not in wb.sheet_names:
            return None
        rows = wb.get_sheet_by_name(MARKER_SHEET).to_python()
    finally:
        wb.close()
    values = {str(r[0]).strip(): r[1] for r in rows if len(r) >= 2 and r[0] != ""}
    version, lang = values.get("version"), str(values.get("lang", ""))
    try:
        version = int(version)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        version = None
    if version != TEMPLATE_VERSION or lang not in _LANGS:
        raise InputFileError(
            f"the hidden sheet {MARKER_SHEET} says version {values.get('version')!r}, "
            f"language {lang!r}; expected version {TEMPLATE_VERSION} and 'sv' or 'en'. "
            "Write a new template with `rehab-analytics template` and copy the rows "
            "into it.",
            file=str(path),
            sheet=MARKER_SHEET,
        )
    forbund = str(values.get("forbund") or "").strip() or None
    return TemplateMarker(version, lang, forbund)


def _profile_vocabularies() -> dict[str, dict[str, str]]:
    """Return catalogue labels of both languages → codes (normalised) per vocabulary."""
    from rehab_analytics.sources import normalise_label

    fields = {vocab: codes for vocab, codes in _CODED.values()}
    fields["income_source"] = contract.INCOME_SOURCES
    out: dict[str, dict[str, str]] = {}
    for vocab, codes in fields.items():
        table = out.setdefault(vocab, {})
        for lang in _LANGS:
            for code, label in zip(
                codes, _code_labels(vocab, codes, lang), strict=True
            ):
                table[normalise_label(label)] = code
    return out


def _sheet_rows(path: Path, sheet: str, header_row: int) -> list[dict[str, object]]:
    """Return the non-blank rows below ``header_row`` as header → value dicts."""
    from rehab_analytics.read import read_grid

    columns, _, _ = read_grid(path, sheet)
    if not columns or len(columns[0]) <= header_row:
        return []
    headers = [str(c[header_row - 1] or "") for c in columns]
    rows = []
    for r in range(header_row, len(columns[0])):
        row = {
            h: c[r] for h, c in zip(headers, columns, strict=True) if c[r] is not None
        }
        if row:
            rows.append(row)
    return rows


def _template_organisation(path: Path, marker: TemplateMarker, registry, display: str):
    """Return the organisation of a filled template: marker, else its Förbund column."""
    if marker.forbund:
        codes = [marker.forbund]
    else:
        import pandas as pd

        sheet = _t("sheet_participants", marker.lang)
        rows = _sheet_rows(path, sheet, 2)
        named = pd.Series([r.get(_FORBUND_COL.header(marker.lang)) for r in rows])
        named = named.dropna().astype(str)
        if named.empty:
            if rows:
                raise InputFileError(
                    f"the template has {len(rows)} participant rows but no förbund. "
                    f"Expected the column '{_FORBUND_COL.header(marker.lang)}' to be "
                    "filled in; choose the förbund from the drop-down list.",
                    file=display,
                    sheet=sheet,
                )
            return None
        resolved = registry.resolve_forbund(named)
        unknown = sorted(set(named[resolved.isna()]))
        if unknown:
            raise InputFileError(
                f"unknown förbund {unknown}; expected one of the registered names "
                f"({', '.join(o.forbund_name for o in registry.organisations)}).",
                file=display,
                sheet=sheet,
                column=_FORBUND_COL.header(marker.lang),
            )
        codes = sorted(set(resolved))
    if len(codes) > 1:
        raise InputFileError(
            f"the participant rows name several förbund ({', '.join(codes)}); expected "
            "one förbund per file. Split the rows into one template per förbund.",
            file=display,
        )
    orgs = [o for o in registry.organisations if o.forbund == codes[0]]
    if len(orgs) != 1:
        found = "is not registered" if not orgs else "has several subprojects"
        raise InputFileError(
            f"the förbund '{codes[0]}' {found}; the template can only be cleaned for a "
            "registered förbund with one subproject. Add a source description "
            "(docs/source-descriptions.md) for this delivery instead.",
            file=display,
        )
    return orgs[0]


def _table(kind: str, pattern: str, sheet: str, columns: dict, **options):
    from rehab_analytics.sources import TableSpec

    required = {"participants": ("personnummer", "start_date")}.get(kind, ("year",))
    return TableSpec(
        kind=kind,
        files=(pattern,),
        columns=columns,
        sheets=(sheet,),
        required=required,
        date_formats=("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y"),
        excel_serial_dates=True,
        **options,
    )


def template_description(
    path: str | Path,
    raw_dir: str | Path,
    marker: TemplateMarker | None = None,
    registry=None,
):
    """Return the source description that cleans one filled-in template.

    Sheet and column names are taken in the marker's language; tables whose
    sheet has no data rows are left out. Labels of both languages map back to
    codes through the description's own vocabularies.

    Args:
        path: The filled-in template workbook, inside ``raw_dir``.
        raw_dir: The raw folder (file globs are relative to it).
        marker: The file's marker (read from the file when None).
        registry: The organisation registry (built from the sources when None).

    Returns:
        A :class:`rehab_analytics.sources.SourceDescription` named
        ``template_<folder>_<file>``.

    Raises:
        InputFileError: If the file carries no marker, or its förbund is missing,
            unknown or ambiguous.

    Example:
        >>> import tempfile, pathlib
        >>> raw = pathlib.Path(tempfile.mkdtemp())
        >>> f = write_template(raw / "nordost" / "mall.xlsx", forbund="nordost")
        >>> template_description(f, raw).name
        'template_nordost_mall'
    """
    import glob
    import re

    from rehab_analytics.sources import Band, Scale, SourceDescription

    path, raw_dir = Path(path), Path(raw_dir)
    relative = path.resolve().relative_to(Path(raw_dir).resolve()).as_posix()
    marker = marker or read_marker(path)
    if marker is None:
        raise InputFileError(
            f"carries no '{MARKER_SHEET}' marker sheet; expected a workbook written by "
            "`rehab-analytics template`.",
            file=relative,
        )
    registry = registry if registry is not None else _registry(raw_dir)
    lang, pattern = marker.lang, glob.escape(relative)
    organisation = _template_organisation(path, marker, registry, relative)
    participant_map: dict[str, object] = {}
    for col in _PARTICIPANT_COLUMNS:
        if col.kind == "income":
            participant_map[col.field] = Band(_t(col.field, lang))
        else:
            participant_map[col.field] = col.header(lang)
    wide = {"woman": "count_woman", "man": "count_man"}
    anonymous_map: dict[str, object] = {
        c.field: c.header(lang)
        for c in _ANONYMOUS_COLUMNS
        if not c.field.startswith("count")
    }
    anonymous_map["count_by_sex"] = {
        sex: next(c.header(lang) for c in _ANONYMOUS_COLUMNS if c.field == field)
        for sex, field in wide.items()
    }
    candidates = [
        ("participants", _t("sheet_participants", lang), participant_map, 2, {"band_row": 1}),
        ("subprojects", _t("sheet_subprojects", lang),
         {c.field: c.header(lang) for c in _SUBPROJECT_COLUMNS}, 1, {}),
        ("anonymous_counts", _t("sheet_anonymous", lang), anonymous_map, 1, {}),
    ]  # fmt: skip
    tables = []
    for kind, sheet, columns, header_row, extra in candidates:
        if kind == "participants" and organisation is None:
            continue
        rows = _sheet_rows(path, sheet, header_row)
        # The readers reject a sheet with a header but no rows: skip unused sheets.
        if not rows:
            continue
        # An empty Förbund/Delprojekt column means "ours" (the organisation, or
        # the förbund's only subproject), as in the project budget description.
        for fld in ("subproject", "forbund"):
            header = columns.get(fld)
            empty = header is not None and not any(r.get(header) for r in rows)
            if empty and (fld == "subproject" or organisation is not None):
                columns = {k: v for k, v in columns.items() if k != fld}
        tables.append(
            _table(kind, pattern, sheet, columns, header_row=header_row, **extra)
        )
    slug = re.sub(r"[^a-z0-9]+", "_", Path(relative).with_suffix("").as_posix().lower())
    return SourceDescription(
        name=f"template_{slug.strip('_')}",
        path=path,
        organisation=organisation,
        tables=tuple(tables),
        scales={"step": Scale(*_STEP), "health": Scale(*_HEALTH)},
        vocabularies=_profile_vocabularies(),
    )


def _claimed(raw_dir: Path, sources) -> set[Path]:
    """Return every file that the tables of ``sources`` match in ``raw_dir``."""
    claimed = set()
    for source in sources:
        for table in source.tables:
            for pattern in table.files:
                claimed.update(
                    p.resolve() for p in raw_dir.glob(pattern) if p.is_file()
                )
    return claimed


def find_template_descriptions(raw_dir: str | Path, sources, registry=None) -> list:
    """Return a description for every marked template in ``raw_dir`` no source claims.

    This is the pipeline's hook: call it after loading the descriptions and
    clean the returned descriptions with the others. Files under ``_sources``,
    hidden files and Excel lock files (``~$…``) are ignored.

    Args:
        raw_dir: The raw folder.
        sources: The loaded source descriptions (their file globs claim files).
        registry: The organisation registry (built from ``sources`` when None).

    Example:
        >>> import tempfile, pathlib
        >>> raw = pathlib.Path(tempfile.mkdtemp())
        >>> _ = write_template(raw / "inbox" / "mall.xlsx", forbund="centrum")
        >>> [d.name for d in find_template_descriptions(raw, [])]
        ['template_inbox_mall']
    """
    from rehab_analytics.sources import build_registry

    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return []
    if registry is None:
        registry = build_registry(sources) if sources else _registry(raw_dir)
    claimed = _claimed(raw_dir, sources)
    found = []
    for path in sorted(raw_dir.rglob("*")):
        parts = path.relative_to(raw_dir).parts
        if (
            not path.is_file()
            or path.suffix.lower() not in _TEMPLATE_SUFFIXES
            or parts[0].startswith("_")
            or any(p.startswith((".", "~$")) for p in parts)
            or path.resolve() in claimed
        ):
            continue
        marker = read_marker(path)
        if marker is not None:
            found.append(template_description(path, raw_dir, marker, registry))
    return found
