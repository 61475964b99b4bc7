"""Data-quality recipes: row accounting, source errors, completeness, rejects, labels."""

from __future__ import annotations

from rehab_analytics import catalogue, narrative
from rehab_analytics.figures.core import (
    Context,
    Table,
    _title,
)
from rehab_analytics.tables import UNIT

__all__ = [
    "completeness",
    "rejects_by_reason",
    "row_accounting",
    "source_errors",
    "unknown_labels",
]


def row_accounting(ctx: Context) -> Table:
    """Rows per source: clean, rejected, skipped (rows read are not shown).

    Example:
        >>> row_accounting  # doctest: +ELLIPSIS
        <function row_accounting at ...>
    """
    from rehab_analytics import disclosure
    from rehab_analytics.measures import quality as quality

    table = disclosure.suppress(
        quality.row_accounting(ctx.cleaning_report),
        threshold=ctx.threshold,
        count_cols=["n"],
        denominator_col=None,
    )
    title = _title("row_accounting", ctx)
    return Table("row_accounting", table, title, ctx.lang, {"outcome": "row_outcome"})


def source_errors(ctx: Context) -> narrative.Text:
    """Whether this clean re-keyed the pseudonyms, and sources that could not be read.

    Empty text when the key is the earlier runs' and every source was read.

    Example:
        >>> ctx = Context(None, None, lang="en", cleaning_report={"key": {"rekeyed": True}})
        >>> str(source_errors(ctx)).startswith("The pseudonyms were re-keyed")
        True
    """
    from rehab_analytics.measures import quality as quality

    parts = []
    if (ctx.cleaning_report.get("key") or {}).get("rekeyed"):
        parts.append(catalogue.text("report.intro.rekeyed", ctx.lang))
    errors = quality.source_errors(ctx.cleaning_report)
    if not errors.empty:
        lines = [f"{r.source}: {r.error}" for r in errors.itertuples(index=False)]
        head = catalogue.text("report.intro.source_errors", ctx.lang)
        parts.append(f"{head}\n\n{narrative.bullets(lines)}")
    return narrative.Text("\n\n".join(parts))


def completeness(ctx: Context) -> Table:
    """Share of episodes per subproject with each field filled in.

    Example:
        >>> completeness  # doctest: +ELLIPSIS
        <function completeness at ...>
    """
    from rehab_analytics import disclosure
    from rehab_analytics.measures import quality as quality

    table = disclosure.suppress(
        quality.completeness(ctx.participants, by=UNIT),
        threshold=ctx.threshold,
        count_cols=["n", "filled"],
        share_cols=["share"],
    )
    return Table("completeness", table, _title("completeness", ctx), ctx.lang)


def rejects_by_reason(ctx: Context) -> Table:
    """Problems per source, status and reason (small counts hidden within a source).

    Example:
        >>> rejects_by_reason  # doctest: +ELLIPSIS
        <function rejects_by_reason at ...>
    """
    from rehab_analytics import disclosure
    from rehab_analytics.measures import quality as quality

    table = disclosure.suppress(
        quality.rejects_by_reason(ctx.rejects),
        threshold=ctx.threshold,
        count_cols=["n"],
        denominator_col=None,
        margins=[["source", "status"]],
    )
    return Table("rejects_by_reason", table, _title("rejects", ctx), ctx.lang)


def unknown_labels(ctx: Context) -> Table:
    """Labels not in the vocabularies, per column and value.

    Example:
        >>> unknown_labels  # doctest: +ELLIPSIS
        <function unknown_labels at ...>
    """
    from rehab_analytics import disclosure
    from rehab_analytics.measures import quality as quality

    table = disclosure.suppress(
        quality.unknown_labels(
            ctx.rejects,
            threshold=ctx.threshold,
            other_label=catalogue.text(
                "report.note.rare_values", ctx.lang, threshold=ctx.threshold
            ),
        ),
        threshold=ctx.threshold,
        count_cols=["n"],
        denominator_col=None,
        margins=[["column"]],
    )
    return Table("unknown_labels", table, _title("unknown_labels", ctx), ctx.lang)
