"""The data contract: column names, codes and derived-field rules of the clean tables.

This module is the single source of truth for what the clean tables contain. The
pandera schemas in ``validate`` and the documentation in ``docs/data-contract.md``
are built on these constants.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_FORBUND",
    "DEFAULT_SUBPROJECTS",
    "SEX",
    "ID_KINDS",
    "ID_SCHEMES",
    "ID_NORMALISATIONS",
    "KEYED_ID_KINDS",
    "EDUCATION",
    "INCOME_SOURCES",
    "INCOME_GROUPS",
    "INCOME_SOURCE_GROUP",
    "SUPPORT_YEARS",
    "OCCUPATIONS",
    "EXIT_REASONS",
    "WORK_OR_STUDY",
    "PARTICIPANT_COLUMNS",
    "LINEAGE_COLUMNS",
    "SUBPROJECT_COLUMNS",
    "ANONYMOUS_COLUMNS",
    "REJECT_COLUMNS",
    "REJECT_STATUSES",
    "COMPLETENESS_FIELDS",
    "income_columns",
    "income_group",
]

# The six förbund and their subprojects ship by default; more come from source
# descriptions (see docs/source-descriptions.md), never from code.
DEFAULT_FORBUND = (
    "nordost",
    "vaster",
    "centrum",
    "hisingen",
    "alv_och_kust",
    "insjoriket",
)
DEFAULT_SUBPROJECTS = (
    "dino",
    "motiverande",
    "bedomningsteam",
    "unga_vuxna",
    "myndighetsgemensam",
    "aktiv",
)

SEX = ("woman", "man", "unknown")
# How an organisation's participants are identified (the description's
# ``id_scheme``). The clean tables record the kind of id (``id_kind``), never the id.
ID_SCHEMES = ("se_personnummer", "za_id", "other")
# Steps an ``id_scheme = "other"`` description may declare (``id_normalise``).
ID_NORMALISATIONS = ("strip", "upper", "no_separators")
ID_KINDS = (
    "personnummer",
    "samordningsnummer",
    "other",
    "missing",
    "invalid",
    "za_id",
    "client_number",
)
# Kinds of id that link episodes: these, and only these, get a participant_key.
KEYED_ID_KINDS = ("personnummer", "samordningsnummer", "za_id", "client_number")
EDUCATION = ("compulsory", "upper_secondary", "post_secondary", "unknown")

# SUS income sources (försörjningskällor), multi-select before and after.
INCOME_SOURCES = (
    "unemployment_insurance",
    "activity_support",
    "establishment_allowance",
    "sickness_benefit",
    "sickness_compensation",
    "activity_compensation",
    "social_assistance",
    "wage",
    "student_aid",
    "other",
)
INCOME_GROUPS = (
    "ill_health",
    "labour_market",
    "social_assistance",
    "multiple",
    "none_public",
    "unknown",
)
# SCB försörjningsmått groups; wage, student aid and other (parental benefit,
# pension) count as "no public support".
INCOME_SOURCE_GROUP = {
    "sickness_benefit": "ill_health",
    "sickness_compensation": "ill_health",
    "activity_compensation": "ill_health",
    "unemployment_insurance": "labour_market",
    "activity_support": "labour_market",
    "establishment_allowance": "labour_market",
    "social_assistance": "social_assistance",
    "wage": "none_public",
    "student_aid": "none_public",
    "other": "none_public",
}
SUPPORT_YEARS = ("under_1", "1_2", "2_5", "over_5", "unknown")
OCCUPATIONS = ("employed", "studying", "job_seeking", "other", "unknown")
WORK_OR_STUDY = ("employed", "studying")
EXIT_REASONS = (
    "completed",
    "dropped_out",
    "ill_health",
    "other_programme",
    "moved",
    "misregistration",
    "other",
    "unknown",
)


def income_columns(when: str) -> list[str]:
    """Return the boolean income columns for ``when`` ('before' or 'after').

    Example:
        >>> income_columns("before")[:2]
        ['income_before__unemployment_insurance', 'income_before__activity_support']
    """
    if when not in ("before", "after"):
        raise ValueError(f"when must be 'before' or 'after', got {when!r}")
    return [f"income_{when}__{code}" for code in INCOME_SOURCES]


def income_group(sources: set[str] | frozenset[str]) -> str:
    """Return the income group for a set of income-source codes (scalar rule).

    The vectorised cleaning applies the same rule column-wise; this function is
    the readable reference.

    Example:
        >>> income_group({"sickness_benefit", "wage"})
        'ill_health'
        >>> income_group({"social_assistance", "activity_support"})
        'multiple'
        >>> income_group(set())
        'unknown'
    """
    if not sources:
        return "unknown"
    public = {INCOME_SOURCE_GROUP[s] for s in sources} - {"none_public"}
    if not public:
        return "none_public"
    return public.pop() if len(public) == 1 else "multiple"


# Lineage: where in the raw delivery the episode came from (not personal data).
LINEAGE_COLUMNS = ("source_file", "source_sheet", "source_row")

PARTICIPANT_COLUMNS = (
    "episode_id",
    "participant_key",
    "id_kind",
    "forbund",
    "subproject",
    "sex",
    "birth_year",
    "age_at_start",
    "municipality",
    "education",
    "start_date",
    "end_date",
    "days_in_programme",
    *(f"income_before__{c}" for c in INCOME_SOURCES),
    *(f"income_after__{c}" for c in INCOME_SOURCES),
    "income_group_before",
    "income_group_after",
    "support_years_before",
    "occupation_before",
    "occupation_after",
    "exit_reason",
    "work_or_study_after",
    "step_start",
    "step_end",
    "health_start",
    "health_end",
    *LINEAGE_COLUMNS,
)

SUBPROJECT_COLUMNS = (
    "forbund",
    "subproject",
    "name",
    "target_group",
    "year",
    "planned_participants",
    "budget_sek",
    "cost_sek",
    "esf_sek",
)

ANONYMOUS_COLUMNS = ("forbund", "subproject", "year", "sex", "count")

# One row per problem: rejected rows (not in the clean table), skipped non-data
# rows (totals, notes) and warnings on kept rows.
REJECT_STATUSES = ("rejected", "skipped", "warning")
REJECT_COLUMNS = (
    "source",
    "table",
    "source_file",
    "source_sheet",
    "source_row",
    "column",
    "value",
    "status",
    "reason",
    "message",
)

# Completeness of the clean participants: contract field -> (participants column,
# values that count as not filled in besides NA). The förbund feedback workbooks and
# the data-quality report count a field as filled in by this one rule.
COMPLETENESS_FIELDS = {
    "id_kind": ("id_kind", ("other", "missing", "invalid")),
    "sex": ("sex", ("unknown",)),
    "birth_year": ("birth_year", ()),
    "municipality": ("municipality", ("unknown",)),
    "education": ("education", ("unknown",)),
    "start_date": ("start_date", ()),
    "end_date": ("end_date", ()),
    "income_before": ("income_group_before", ("unknown",)),
    "income_after": ("income_group_after", ("unknown",)),
    "support_years_before": ("support_years_before", ("unknown",)),
    "occupation_before": ("occupation_before", ("unknown",)),
    "occupation_after": ("occupation_after", ("unknown",)),
    "exit_reason": ("exit_reason", ("unknown",)),
    "step_start": ("step_start", ()),
    "step_end": ("step_end", ()),
    "health_start": ("health_start", ()),
    "health_end": ("health_end", ()),
}
