"""The data contract as pandera schemas, exact dtypes, and readable validation failures.

``coerce_*`` functions give every clean table its contract dtypes (coded columns
are categoricals with the contract's categories; förbund and subproject
categories are the registry's codes in order). ``validate_tables`` checks them
lazily and returns failures as rows people can read instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from rehab_analytics import contract
from rehab_analytics.sources import Registry

__all__ = [
    "ParticipantsModel",
    "SubprojectsModel",
    "AnonymousCountsModel",
    "RejectsModel",
    "FAILURE_COLUMNS",
    "table_dtypes",
    "coerce_participants",
    "coerce_subprojects",
    "coerce_anonymous_counts",
    "coerce_rejects",
    "coerce_table",
    "schema_for",
    "validate_table",
]

FAILURE_COLUMNS = ("table", "column", "check", "value", "row", "message")

_CODED = {
    "id_kind": contract.ID_KINDS,
    "sex": contract.SEX,
    "education": contract.EDUCATION,
    "income_group_before": contract.INCOME_GROUPS,
    "income_group_after": contract.INCOME_GROUPS,
    "support_years_before": contract.SUPPORT_YEARS,
    "occupation_before": contract.OCCUPATIONS,
    "occupation_after": contract.OCCUPATIONS,
    "exit_reason": contract.EXIT_REASONS,
    "status": contract.REJECT_STATUSES,
}
_INCOME_REGEX = r"^income_(before|after)__[a-z_]+$"


class ParticipantsModel(pa.DataFrameModel):
    """One row per participant episode (inregistrering → utregistrering)."""

    episode_id: Series[pd.StringDtype] = pa.Field(
        unique=True, str_matches=r"^E[0-9a-f]{16}$"
    )
    participant_key: Series[pd.StringDtype] = pa.Field(
        nullable=True, str_matches=r"^[0-9a-f]{32}$"
    )
    id_kind: Series[pd.CategoricalDtype] = pa.Field(isin=contract.ID_KINDS)
    forbund: Series[pd.CategoricalDtype]
    subproject: Series[pd.CategoricalDtype]
    sex: Series[pd.CategoricalDtype] = pa.Field(isin=contract.SEX)
    birth_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, in_range={"min_value": 1900, "max_value": 2100}
    )
    age_at_start: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, in_range={"min_value": 15, "max_value": 67}
    )
    municipality: Series[pd.StringDtype] = pa.Field(
        nullable=True, str_matches=r"^\d{4}$"
    )
    education: Series[pd.CategoricalDtype] = pa.Field(isin=contract.EDUCATION)
    start_date: Series[pa.DateTime] = pa.Field(ge=pd.Timestamp("2000-01-01"))
    end_date: Series[pa.DateTime] = pa.Field(
        nullable=True, ge=pd.Timestamp("2000-01-01")
    )
    days_in_programme: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    income: Series[bool] = pa.Field(alias=_INCOME_REGEX, regex=True)
    income_group_before: Series[pd.CategoricalDtype] = pa.Field(
        isin=contract.INCOME_GROUPS
    )
    income_group_after: Series[pd.CategoricalDtype] = pa.Field(
        isin=contract.INCOME_GROUPS
    )
    support_years_before: Series[pd.CategoricalDtype] = pa.Field(
        isin=contract.SUPPORT_YEARS
    )
    occupation_before: Series[pd.CategoricalDtype] = pa.Field(isin=contract.OCCUPATIONS)
    occupation_after: Series[pd.CategoricalDtype] = pa.Field(isin=contract.OCCUPATIONS)
    exit_reason: Series[pd.CategoricalDtype] = pa.Field(
        nullable=True, isin=contract.EXIT_REASONS
    )
    work_or_study_after: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    step_start: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    step_end: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    health_start: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    health_end: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    source_file: Series[pd.StringDtype]
    source_sheet: Series[pd.StringDtype]
    source_row: Series[pd.Int64Dtype] = pa.Field(ge=1)

    class Config:
        strict = True

    @pa.dataframe_check(name="end_not_before_start")
    @classmethod
    def _end_not_before_start(cls, df: pd.DataFrame) -> pd.Series:
        return (df["end_date"].isna() | (df["end_date"] >= df["start_date"])).astype(
            bool
        )

    @pa.dataframe_check(name="days_match_dates")
    @classmethod
    def _days_match_dates(cls, df: pd.DataFrame) -> pd.Series:
        days = (df["end_date"] - df["start_date"]).dt.days.astype("Int64")
        same = (days == df["days_in_programme"]) | (
            days.isna() & df["days_in_programme"].isna()
        )
        return same.fillna(False).astype(bool)

    @pa.dataframe_check(name="no_outcome_for_misregistration_or_active")
    @classmethod
    def _no_outcome(cls, df: pd.DataFrame) -> pd.Series:
        excluded = (df["exit_reason"] == "misregistration") | df["end_date"].isna()
        return (~excluded | df["work_or_study_after"].isna()).astype(bool)

    @pa.dataframe_check(name="exit_reason_only_missing_when_active")
    @classmethod
    def _exit_reason_missing(cls, df: pd.DataFrame) -> pd.Series:
        return (df["exit_reason"].notna() | df["end_date"].isna()).astype(bool)

    @pa.dataframe_check(name="no_after_values_without_outcome")
    @classmethod
    def _no_after_values(cls, df: pd.DataFrame) -> pd.Series:
        excluded = (df["exit_reason"] == "misregistration") | df["end_date"].isna()
        after = df[contract.income_columns("after")].any(axis=1)
        occupied = df["occupation_after"] != "unknown"
        steps = df["step_end"].notna() | df["health_end"].notna()
        return (~excluded | ~(after | occupied | steps)).astype(bool)

    @pa.dataframe_check(name="work_or_study_matches_occupation")
    @classmethod
    def _work_or_study(cls, df: pd.DataFrame) -> pd.Series:
        expected = df["occupation_after"].isin(contract.WORK_OR_STUDY)
        value = df["work_or_study_after"]
        return (value.isna() | (value == expected)).fillna(True).astype(bool)

    @pa.dataframe_check(name="key_only_for_valid_ids")
    @classmethod
    def _key_only_for_valid_ids(cls, df: pd.DataFrame) -> pd.Series:
        valid = df["id_kind"].isin(contract.KEYED_ID_KINDS)
        return (valid == df["participant_key"].notna()).astype(bool)


class SubprojectsModel(pa.DataFrameModel):
    """One row per subproject and year: plan, budget, outcome, ESF money."""

    forbund: Series[pd.CategoricalDtype]
    subproject: Series[pd.CategoricalDtype]
    name: Series[pd.StringDtype]
    target_group: Series[pd.StringDtype] = pa.Field(nullable=True)
    year: Series[pd.Int64Dtype] = pa.Field(
        in_range={"min_value": 2000, "max_value": 2100}
    )
    planned_participants: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    budget_sek: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    cost_sek: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    esf_sek: Series[pd.Int64Dtype] = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ["subproject", "year"]


class AnonymousCountsModel(pa.DataFrameModel):
    """Counts of anonymous participants (no consent or protected identity)."""

    forbund: Series[pd.CategoricalDtype]
    subproject: Series[pd.CategoricalDtype]
    year: Series[pd.Int64Dtype] = pa.Field(
        in_range={"min_value": 2000, "max_value": 2100}
    )
    sex: Series[pd.CategoricalDtype] = pa.Field(isin=contract.SEX)
    count: Series[pd.Int64Dtype] = pa.Field(ge=0)

    class Config:
        strict = True
        unique = ["subproject", "year", "sex"]


class RejectsModel(pa.DataFrameModel):
    """One row per problem: rejected and skipped rows, warnings on kept rows."""

    source: Series[pd.StringDtype]
    table: Series[pd.StringDtype] = pa.Field(
        isin=("participants", "subprojects", "anonymous_counts")
    )
    source_file: Series[pd.StringDtype]
    source_sheet: Series[pd.StringDtype]
    source_row: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1)
    column: Series[pd.StringDtype]
    value: Series[pd.StringDtype]
    status: Series[pd.CategoricalDtype] = pa.Field(isin=contract.REJECT_STATUSES)
    reason: Series[pd.StringDtype]
    message: Series[pd.StringDtype]

    class Config:
        strict = True


_MODELS = {
    "participants": ParticipantsModel,
    "subprojects": SubprojectsModel,
    "anonymous_counts": AnonymousCountsModel,
    "rejects": RejectsModel,
}
_COLUMNS = {
    "participants": contract.PARTICIPANT_COLUMNS,
    "subprojects": contract.SUBPROJECT_COLUMNS,
    "anonymous_counts": contract.ANONYMOUS_COLUMNS,
    "rejects": contract.REJECT_COLUMNS,
}


def table_dtypes(kind: str, registry: Registry) -> dict[str, object]:
    """Return the exact contract dtype of every column of table ``kind``.

    Example:
        >>> dt = table_dtypes("anonymous_counts", Registry(()))
        >>> str(dt["year"]), list(dt["sex"].categories)
        ('Int64', ['woman', 'man', 'unknown'])
    """
    cat = lambda values: pd.CategoricalDtype(list(values))  # noqa: E731
    organisation = {
        "forbund": cat(registry.forbund_codes),
        "subproject": cat(registry.subproject_codes),
    }
    out: dict[str, object] = {}
    for column in _COLUMNS[kind]:
        if column in organisation:
            out[column] = organisation[column]
        elif column in _CODED and not (kind == "rejects" and column != "status"):
            out[column] = cat(_CODED[column])
        elif column.startswith("income_") and "__" in column:
            out[column] = "bool"
        elif column in ("start_date", "end_date"):
            out[column] = "datetime64[ns]"
        elif column == "work_or_study_after":
            out[column] = "boolean"
        elif column in (
            "birth_year",
            "age_at_start",
            "days_in_programme",
            "step_start",
            "step_end",
            "health_start",
            "health_end",
            "source_row",
            "year",
            "planned_participants",
            "count",
            "budget_sek",
            "cost_sek",
            "esf_sek",
        ):
            out[column] = "Int64"
        else:
            out[column] = "string"
    return out


def _coerce(values: pd.Series, dtype: object) -> pd.Series:
    """Return ``values`` as ``dtype``; already-right columns are not copied."""
    if isinstance(dtype, pd.CategoricalDtype):
        if isinstance(values.dtype, pd.CategoricalDtype):
            if list(values.cat.categories) != list(dtype.categories):
                values = values.cat.set_categories(list(dtype.categories))
            return values.astype(dtype)
        values = values.astype("string")
        return values.where(values.isin(list(dtype.categories))).astype(dtype)
    if str(values.dtype) == str(dtype):
        return values
    if dtype == "bool":
        return values.fillna(False).astype(bool)
    if dtype == "datetime64[ns]":
        return pd.to_datetime(values).astype(dtype)
    if dtype == "Int64":
        if not len(values):
            return values.astype("Int64")
        return pd.to_numeric(values).astype("Float64").round().astype("Int64")
    return values.astype(dtype)


def coerce_table(df: pd.DataFrame, kind: str, registry: Registry) -> pd.DataFrame:
    """Return ``df`` with the contract columns of ``kind`` in order and exact dtypes.

    Missing columns are added empty; values outside a categorical's categories
    become NA (so validation then reports them as missing).

    Example:
        >>> df = pd.DataFrame({"forbund": ["x"], "subproject": ["y"], "year": [2017.0],
        ...                    "sex": ["woman"], "count": [3]})
        >>> coerce_table(df, "anonymous_counts", Registry(())).dtypes["count"]
        Int64Dtype()
    """
    dtypes = table_dtypes(kind, registry)
    columns = {}
    for column, dtype in dtypes.items():
        values = df[column] if column in df else pd.Series(pd.NA, index=df.index)
        columns[column] = _coerce(values, dtype)
    out = pd.DataFrame(columns, index=df.index)
    return out.reset_index(drop=True)


def coerce_participants(df: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Return participants with contract dtypes (see :func:`coerce_table`).

    Example:
        >>> coerce_participants(pd.DataFrame(), Registry(())).shape[1] == len(contract.PARTICIPANT_COLUMNS)
        True
    """
    return coerce_table(df, "participants", registry)


def coerce_subprojects(df: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Return subprojects with contract dtypes.

    Example:
        >>> list(coerce_subprojects(pd.DataFrame(), Registry(())).columns)[:2]
        ['forbund', 'subproject']
    """
    return coerce_table(df, "subprojects", registry)


def coerce_anonymous_counts(df: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Return anonymous counts with contract dtypes.

    Example:
        >>> list(coerce_anonymous_counts(pd.DataFrame(), Registry(())).columns)
        ['forbund', 'subproject', 'year', 'sex', 'count']
    """
    return coerce_table(df, "anonymous_counts", registry)


def coerce_rejects(df: pd.DataFrame, registry: Registry | None = None) -> pd.DataFrame:
    """Return the rejects table with contract dtypes.

    Example:
        >>> str(coerce_rejects(pd.DataFrame()).dtypes["status"])
        'category'
    """
    return coerce_table(df, "rejects", registry or Registry(()))


def schema_for(kind: str, registry: Registry) -> pa.DataFrameSchema:
    """Return the pandera schema of table ``kind`` with the registry's codes.

    Example:
        >>> schema_for("subprojects", Registry(())).columns["year"].nullable
        False
    """
    schema = _MODELS[kind].to_schema()
    if kind == "rejects":
        return schema
    updates = {
        "forbund": {"checks": [pa.Check.isin(list(registry.forbund_codes))]},
        "subproject": {"checks": [pa.Check.isin(list(registry.subproject_codes))]},
    }
    return schema.update_columns(updates)


def _failure_rows(
    kind: str, exc: pa.errors.SchemaErrors, df: pd.DataFrame
) -> pd.DataFrame:
    cases = exc.failure_cases.copy()
    rows = []
    for case in cases.itertuples(index=False):
        index = getattr(case, "index", None)
        column = getattr(case, "column", None)
        where = ""
        if (
            index is not None
            and not pd.isna(index)
            and "source_file" in df
            and index in df.index
        ):
            rec = df.loc[index]
            where = f" ({rec['source_file']}, sheet '{rec['source_sheet']}', row {rec['source_row']})"
        value = "" if pd.isna(case.failure_case) else str(case.failure_case)
        if column == "participant_key" or (column or "").startswith("personnummer"):
            value = ""
        rows.append(
            {
                "table": kind,
                "column": "" if column is None or pd.isna(column) else str(column),
                "check": str(case.check),
                "value": value,
                "row": "" if index is None or pd.isna(index) else str(index),
                "message": f"{kind}.{column}: check {case.check} failed for '{value}'{where}.",
            }
        )
    return pd.DataFrame(rows, columns=list(FAILURE_COLUMNS)).astype("string")


def warm_up() -> None:
    """Register pandera's pandas backends now; the first validation would pay it.

    The pipeline calls this while its workers clean, so the 0.15 s it costs in a
    fresh process overlaps their work.

    Example:
        >>> warm_up()
    """
    pa.DataFrameSchema({"x": pa.Column(int, pa.Check.ge(0))}).validate(
        pd.DataFrame({"x": [1]})
    )


def validate_table(df: pd.DataFrame, kind: str, registry: Registry) -> pd.DataFrame:
    """Validate one table lazily; return the failures as readable rows (empty if valid).

    Example:
        >>> df = coerce_anonymous_counts(pd.DataFrame(
        ...     {"forbund": ["a"], "subproject": ["b"], "year": [1990], "sex": ["man"], "count": [2]}),
        ...     Registry(()))
        >>> validate_table(df, "anonymous_counts", Registry(()))["column"].tolist()[:1]
        ['forbund']
    """
    try:
        schema_for(kind, registry).validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _failure_rows(kind, exc, df)
    return pd.DataFrame(columns=list(FAILURE_COLUMNS)).astype("string")


def validate_tables(
    tables: Mapping[str, pd.DataFrame], registry: Registry
) -> pd.DataFrame:
    """Validate several tables; return all failures."""
    found = [validate_table(df, kind, registry) for kind, df in tables.items()]
    return pd.concat(found, ignore_index=True)
