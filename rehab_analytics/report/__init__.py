"""Publishing: tables, figures, tables.xlsx, the deck, HTML and the gallery."""

from __future__ import annotations

from rehab_analytics.report.publish import (
    Publisher,
    publish_figure,
    publish_table,
    published,
    sheet_names,
    write_deck,
    write_html,
    write_json,
    write_tables_xlsx,
    write_text,
)

__all__ = [
    "Publisher",
    "publish_table",
    "publish_figure",
    "published",
    "write_html",
    "write_tables_xlsx",
    "write_deck",
    "write_json",
    "write_text",
    "sheet_names",
]
