"""What the reporting template asks for: its columns, coded fields, texts and marker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rehab_analytics import contract

__all__ = [
    "MARKER_SHEET",
    "MARKER_TITLE",
    "TEMPLATE_VERSION",
    "TemplateMarker",
    "TEXT",
    "PARTICIPANT_COLUMNS",
    "SUBPROJECT_COLUMNS",
    "ANONYMOUS_COLUMNS",
]


TEMPLATE_VERSION = 1
MARKER_SHEET = "_rehab_analytics"
MARKER_TITLE = "rehab-analytics template"
_LANGS = ("sv", "en")
_FIRST_YEAR = 2015
_STEP = (1, 7)
_HEALTH = (1, 5)
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
_FORM_LABELS = {"sex": "sex_form"}
# The template's texts: key -> (Swedish, English). Intake learns the income band
# headers from here, so a filled-in template's bands are recognised.
TEXT = {
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
        "The template is pre-filled for the coordination association {name} ({code}).",
    ),
    "forbund_column": (
        "Välj förbund i kolumnen Förbund på varje rad; en fil per förbund.",
        "Choose the coordination association in the column Förbund on every row; "
        "one file per association.",
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
    "Samordningsförbundet som rapporterar.", "The reporting coordination association (samordningsförbund).", 34,
)  # fmt: skip
_SUBPROJECT_COL = _Column(
    "subproject", "Delprojekt", "Subproject", "list",
    "Förbundets delprojekt.", "The coordination association's subproject.", 34,
)  # fmt: skip
_YEAR_COL = _Column(
    "year", "År", "Year", "whole", "Kalenderår.", "Calendar year.", 8, _FIRST_YEAR, 2030
)
# The columns of each data sheet, in sheet order. Intake learns their headers (both
# languages) as known headers of their contract fields.
PARTICIPANT_COLUMNS = (
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
SUBPROJECT_COLUMNS = (
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
ANONYMOUS_COLUMNS = (
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
    return TEXT[key][_LANGS.index(lang)]


def _code_labels(field: str, codes: tuple[str, ...], lang: str) -> list[str]:
    """Return the catalogue label of each code in ``lang``, in contract order."""
    from rehab_analytics import catalogue

    # A form asks about one person: "Kvinna", not the charts' "Kvinnor".
    field = _FORM_LABELS.get(field, field)
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
