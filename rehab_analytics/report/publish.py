"""Publishing from notebooks and assembling a report run: tables, figures, xlsx, deck, HTML.

Notebooks never write files themselves. They call :func:`publish_table` and
:func:`publish_figure` (or the :class:`Publisher` shorthand), which check disclosure
control and write into the run folder the batch gave them::

    <run_dir>/tables/<job>__<name>.parquet     one published table
    <run_dir>/figures/<job>__<name>.png        one published chart
    <run_dir>/published/<job>.json             what the job published, in order

The batch (:mod:`rehab_analytics.batch.run`) then builds ``tables.xlsx`` and
``deck.pptx`` from these registries and the HTML pages from the executed notebooks.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rehab_analytics import catalogue, escape
from rehab_analytics.disclosure import FLAG_SUFFIX
from rehab_analytics.errors import ParameterError

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

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_MARKS = ("..", ".")
# The one mark of a hidden cell in every output ("..", as display_values shows).
_HIDDEN = ".."
_TEXT = {
    "sv": {
        "contents": "Innehåll",
        "sheet": "Flik",
        "report": "Rapport",
        "table": "Tabell",
        "title": "Rubrik",
        "deck_title": "Inkluderande rehabilitering – resultat",
    },
    "en": {
        "contents": "Contents",
        "sheet": "Sheet",
        "report": "Report",
        "table": "Table",
        "title": "Title",
        "deck_title": "Inclusive Rehabilitation – results",
    },
}


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ParameterError(
            f"The {what} name is {name!r}; expected letters, digits, '_' or '-' "
            "(it becomes part of a file name), e.g. 'rows_per_source'."
        )


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_sibling(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _tmp_sibling(path: Path) -> Path:
    """A temporary path next to ``path`` keeping its suffix (writers check it)."""
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically (temp file in the same folder, then rename).

    Example:
        >>> import tempfile
        >>> write_text(Path(tempfile.mkdtemp()) / "x.txt", "hej").read_text()
        'hej'
    """
    path = Path(path)
    _atomic_write_bytes(path, text.encode("utf-8"))
    return path


def write_json(path: str | Path, data: object) -> Path:
    """Write ``data`` as indented UTF-8 JSON, atomically (temp file + rename).

    Example:
        >>> import tempfile
        >>> p = write_json(Path(tempfile.mkdtemp()) / "x.json", {"a": 1})
        >>> json.loads(p.read_text())
        {'a': 1}
    """
    path = Path(path)
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    _atomic_write_bytes(path, text.encode("utf-8"))
    return path


def _registry_path(run_dir: Path, job: str) -> Path:
    return run_dir / "published" / f"{job}.json"


def published(run_dir: str | Path, job: str) -> dict[str, list[dict[str, Any]]]:
    """Return what ``job`` published into ``run_dir``: ``{"tables": [...], "figures": [...]}``.

    Example:
        >>> import tempfile
        >>> published(tempfile.mkdtemp(), "data_quality")
        {'tables': [], 'figures': []}
    """
    path = _registry_path(Path(run_dir), job)
    if not path.is_file():
        return {"tables": [], "figures": []}
    return json.loads(path.read_text(encoding="utf-8"))


def _register(run_dir: Path, job: str, kind: str, entry: dict[str, Any]) -> None:
    reg = published(run_dir, job)
    reg[kind] = [e for e in reg[kind] if e["name"] != entry["name"]] + [entry]
    write_json(_registry_path(run_dir, job), reg)


def _split_markers(
    table: pd.DataFrame, shown: pd.DataFrame
) -> tuple[pd.DataFrame, list[list[object]]]:
    """Blank hidden numeric cells and return them as (row, column, "..") triples.

    A numeric cell counts as hidden when ``suppress`` flagged it
    (``<col>__suppressed``) or its published text is a marker (".." or any text
    starting with "<"); the number itself is then never stored, and its marker
    is always "..", however it was hidden or marked, so no output tells a small
    cell from one hidden to protect it. The flag columns (``__secondary`` ones
    too) are dropped: the published table has the columns ``display_values``
    shows.

    Example:
        >>> t = pd.DataFrame({"n": [3, 40], "n__suppressed": [True, False]})
        >>> stored, markers = _split_markers(t, pd.DataFrame({"n": ["<5", "40"]}))
        >>> stored["n"].tolist(), markers
        ([nan, 40.0], [[0, 'n', '..']])
    """
    columns = [c for c in table.columns if not str(c).endswith(FLAG_SUFFIX)]
    out = table[columns].reset_index(drop=True)
    markers: list[list[object]] = []
    for col in columns:
        values = out[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(
            values
        ):
            continue
        text = (
            shown[col].astype("string").fillna("").reset_index(drop=True)
            if col in shown.columns
            else pd.Series("", index=out.index, dtype="string")
        )
        flag = f"{col}{FLAG_SUFFIX}"
        flagged = (
            table[flag].astype("boolean").fillna(False).reset_index(drop=True)
            if flag in table.columns
            else pd.Series(False, index=out.index)
        )
        marked = text.str.startswith("<") | text.isin(_MARKS)
        hidden = (flagged | marked).to_numpy(dtype=bool)
        if not hidden.any():
            continue
        out[col] = values.where(~hidden)
        markers += [[int(i), str(col), _HIDDEN] for i in out.index[hidden]]
    return out, markers


def _as_frame(df: pd.DataFrame) -> pd.DataFrame:
    if isinstance(df.index, pd.RangeIndex) and df.index.name is None:
        return df
    return df.reset_index()


def publish_table(
    df: pd.DataFrame,
    name: str,
    run_dir: str | Path | None,
    *,
    job: str = "report",
    lang: str = "sv",
    title: str = "",
) -> pd.DataFrame:
    """Check disclosure control, store ``df`` for the batch and return it as published.

    The table must have passed :func:`rehab_analytics.disclosure.suppress`
    (:func:`~rehab_analytics.disclosure.require_publishable` raises
    :class:`~rehab_analytics.errors.DisclosureError` otherwise). With a run folder,
    the table is written to ``<run_dir>/tables/<job>__<name>.parquet`` with hidden
    cells empty, and their markers ("..") and the threshold are kept in the job's
    registry for the xlsx. Without one (an analyst in JupyterLab) nothing is written.

    Args:
        df: The suppressed table.
        name: Short machine name (letters, digits, ``_``, ``-``).
        run_dir: The batch's run folder, or ``None``/``""`` to only check and show.
        job: The batch job publishing it (prefix of the file name).
        lang: Language of the displayed values.
        title: Human title for the table of contents of ``tables.xlsx``.

    Returns:
        The table as published (display strings, hidden cells marked).

    Example:
        >>> publish_table(pd.DataFrame({"n": [12]}), "n", None)  # doctest: +SKIP
    """
    from rehab_analytics import disclosure

    _check_name(name, "table")
    _check_name(job, "job")
    disclosure.require_publishable(df, what=f"table '{name}'")
    shown = _as_frame(disclosure.display_values(df, lang=lang))
    if run_dir:
        run_dir = Path(run_dir)
        stored, markers = _split_markers(_as_frame(df), shown)
        file = f"tables/{job}__{name}.parquet"
        tmp = _tmp_sibling(run_dir / file)
        tmp.parent.mkdir(parents=True, exist_ok=True)
        stored.to_parquet(tmp, index=False)
        os.replace(tmp, run_dir / file)
        mark = df.attrs.get("disclosure")
        threshold = (
            mark.get("threshold")
            if isinstance(mark, dict)
            else getattr(mark, "threshold", None)
        )
        entry = {
            "name": name,
            "file": file,
            "title": title,
            "markers": markers,
            "threshold": None if threshold is None else int(threshold),
        }
        _register(run_dir, job, "tables", entry)
    return shown


def publish_figure(
    fig: Any,
    name: str,
    run_dir: str | Path | None,
    *,
    job: str = "report",
    title: str,
    notes: str = "",
) -> Path | None:
    """Save a chart for the deck (PNG via ``slides.save_for_slides``) and register it.

    Args:
        fig: A matplotlib figure drawn at its slide size.
        name: Short machine name (letters, digits, ``_``, ``-``).
        run_dir: The batch's run folder, or ``None``/``""`` to do nothing.
        job: The batch job publishing it (prefix of the file name).
        title: The slide title: the takeaway in one sentence.
        notes: Speaker notes (caveats, definitions).

    Returns:
        The PNG path, or ``None`` without a run folder.

    Example:
        >>> publish_figure(None, "funnel", None, title="All within limits") is None
        True
    """
    from rehab_analytics.report.deck import save_for_slides

    _check_name(name, "figure")
    _check_name(job, "job")
    if not run_dir:
        return None
    run_dir = Path(run_dir)
    file = f"figures/{job}__{name}.png"
    (run_dir / "figures").mkdir(parents=True, exist_ok=True)
    save_for_slides(fig, run_dir / file)
    _register(
        run_dir,
        job,
        "figures",
        {"name": name, "file": file, "title": title, "notes": notes},
    )
    return run_dir / file


@dataclass(frozen=True)
class Publisher:
    """Shorthand for notebooks: remembers the run folder, job and language.

    Example:
        >>> out = Publisher("", "data_quality", "en")
        >>> out.figure(None, "funnel", title="No outliers") is None
        True
    """

    run_dir: str | Path | None
    job: str = "report"
    lang: str = "sv"

    def table(self, df: pd.DataFrame, name: str, title: str = "") -> Any:
        """Publish a suppressed table (see :func:`publish_table`); show it in full.

        Returns a pandas Styler without the index, so that the notebook and its
        HTML show every row (a DataFrame display is cut after 60); ``.data`` is
        the published table.
        """
        shown = publish_table(
            df, name, self.run_dir, job=self.job, lang=self.lang, title=title
        )
        # Escape cells and headers: raw-file values and markers ("..") stay text.
        return escape.html_table(shown)

    def figure(
        self, fig: Any, name: str, *, title: str, notes: str = ""
    ) -> Path | None:
        """Publish a chart for the deck (see :func:`publish_figure`)."""
        return publish_figure(
            fig, name, self.run_dir, job=self.job, title=title, notes=notes
        )


_TEMPLATES = Path(__file__).resolve().parent / "templates"


def write_html(notebook: str | Path, html: str | Path) -> Path:
    """Export an executed notebook to HTML without code, prompts or parameters cells.

    The page is self-contained: the ``offline`` template (``report/templates``)
    leaves out nbconvert's require.js, MathJax and mermaid scripts from a CDN, so
    opening a report contacts no outside server.

    Cells tagged ``remove_cell`` (the bilingual markdown headings that structure a
    report notebook; the report prints its own headings in the chosen language)
    are left out.

    Example:
        >>> write_html("executed.ipynb", "executed.html")  # doctest: +SKIP
    """
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    exporter = HTMLExporter(
        config=Config({"TagRemovePreprocessor": {"remove_cell_tags": ["remove_cell"]}}),
        # Self-contained: no script, style or font is fetched from a CDN.
        extra_template_basedirs=[str(_TEMPLATES)],
        template_name="offline",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nbformat.read(str(notebook), as_version=4))
    html = Path(html)
    _atomic_write_bytes(html, body.encode("utf-8"))
    return html


def sheet_names(wanted: Iterable[str]) -> list[str]:
    """Make Excel sheet names: no ``[]:*?/\\``, at most 31 characters, unique.

    Example:
        >>> sheet_names(["a/b", "x" * 40, "x" * 40])
        ['a_b', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxx~2']
    """
    out: list[str] = []
    seen: set[str] = set()
    for raw in wanted:
        base = _SHEET_BAD.sub("_", str(raw)).strip("'") or "sheet"
        name, i = base[:31], 1
        while name.lower() in seen:
            i += 1
            suffix = f"~{i}"
            name = base[: 31 - len(suffix)] + suffix
        seen.add(name.lower())
        out.append(name)
    return out


def _cell(value: object) -> object:
    if isinstance(value, str):
        return escape.neutralise(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return (
            value.tz_localize(None).to_pydatetime()
            if value.tzinfo
            else value.to_pydatetime()
        )
    if hasattr(value, "item"):
        return value.item()
    return value


def _put(cell: Any, value: object) -> None:
    """Set an openpyxl cell; text that starts like a formula stays a quoted string."""
    cell.value = _cell(value)
    if escape.starts_formula(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True


def _append(ws: Any, values: list[object]) -> None:
    """Append one row to an openpyxl sheet; formula-like text stays a quoted string."""
    ws.append([_cell(v) for v in values])
    for cell in ws[ws.max_row] if values else ():
        if escape.starts_formula(cell.value):
            cell.data_type = "s"
            cell.quotePrefix = True


def _hidden_note(tables: list[Mapping[str, Any]], lang: str) -> str:
    """The explanation of "..", with the threshold the tables were suppressed at."""
    found = {int(t["threshold"]) for t in tables if t.get("threshold") is not None}
    if found:
        threshold = max(found)
    else:
        from rehab_analytics.config import settings

        threshold = settings().suppression_threshold
    lang = lang if lang in catalogue.LANGUAGES else "sv"
    return catalogue.text("common.hidden_values", lang, threshold=threshold)


def write_tables_xlsx(
    run_dir: str | Path,
    tables: list[Mapping[str, Any]],
    path: str | Path,
    *,
    lang: str = "sv",
) -> Path:
    """Write every published table to one workbook: a contents sheet, then one sheet each.

    Numbers stay numbers; every hidden cell shows ".." as text, whatever marker
    an older registry holds, and the contents sheet explains ".." once
    (``common.hidden_values``, with the tables' threshold). Text is never a
    formula: text that starts like one (``=``, ``+``, ``-``, ``@``:
    :func:`rehab_analytics.escape.starts_formula`) is stored as a string with
    Excel's quote prefix, so editing the cell keeps it text.

    Args:
        run_dir: The run folder the registry paths are relative to.
        tables: Registry entries with ``job`` added (see :func:`published`).
        path: The ``.xlsx`` to write (atomically).
        lang: Language of the contents sheet.

    Example:
        >>> write_tables_xlsx(".", [], "tables.xlsx")  # doctest: +SKIP
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    run_dir, path = Path(run_dir), Path(path)
    text = _TEXT.get(lang, _TEXT["sv"])
    names = sheet_names(f"{t['job']}.{t['name']}" for t in tables)
    wb = Workbook()
    contents = wb.active
    contents.title = text["contents"]
    _append(contents, [text["sheet"], text["report"], text["table"], text["title"]])
    for cell in contents[1]:
        cell.font = Font(bold=True)
    bold, right = Font(bold=True), Alignment(horizontal="right")
    for entry, sheet_name in zip(tables, names, strict=True):
        _append(
            contents, [sheet_name, entry["job"], entry["name"], entry.get("title", "")]
        )
        contents.cell(contents.max_row, 1).hyperlink = f"#'{sheet_name}'!A1"
        df = pd.read_parquet(run_dir / entry["file"])
        ws = wb.create_sheet(sheet_name)
        _append(ws, [str(c) for c in df.columns])
        for cell in ws[1]:
            cell.font = bold
        columns = [df[c].astype(object).tolist() for c in df.columns]
        for values in zip(*columns, strict=True):
            _append(ws, list(values))
        position = {str(c): j for j, c in enumerate(df.columns)}
        for row, col, _marker in entry.get("markers", []):
            cell = ws.cell(row=int(row) + 2, column=position[str(col)] + 1)
            _put(cell, _HIDDEN)
            cell.alignment = right
        ws.freeze_panes = "A2"
        for j, col in enumerate(df.columns, start=1):
            width = max([len(str(col))] + [len(str(v)) for v in df[col].head(200)])
            ws.column_dimensions[ws.cell(1, j).column_letter].width = min(50, width + 2)
    contents.append([])
    _append(contents, [_hidden_note(tables, lang)])
    contents.column_dimensions["A"].width = 34
    contents.column_dimensions["D"].width = 60
    tmp = _tmp_sibling(path)
    wb.save(tmp)
    os.replace(tmp, path)
    return path


def write_deck(
    run_dir: str | Path,
    figures: list[Mapping[str, Any]],
    path: str | Path,
    *,
    lang: str = "sv",
    title: str | None = None,
) -> Path:
    """Build the slide deck from the published figures, in job order (atomically).

    Uses :func:`rehab_analytics.report.deck.build_deck`; one slide per figure with its
    takeaway title and speaker notes.

    Example:
        >>> write_deck(".", [], "deck.pptx")  # doctest: +SKIP
    """
    run_dir, path = Path(run_dir), Path(path)
    title = title or _TEXT.get(lang, _TEXT["sv"])["deck_title"]
    items = [
        {
            "image": str(run_dir / f["file"]),
            "title": f["title"],
            "notes": f.get("notes", ""),
        }
        for f in figures
    ]
    from rehab_analytics.report.deck import ChartSlide, build_deck

    tmp = _tmp_sibling(path)
    build_deck([ChartSlide(**i) for i in items], tmp, title=title, lang=lang)
    os.replace(tmp, path)
    return path
