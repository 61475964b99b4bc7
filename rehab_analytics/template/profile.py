"""The built-in profile: read a filled-in template back as a source description."""

from __future__ import annotations

from pathlib import Path

from rehab_analytics import contract
from rehab_analytics.errors import InputFileError
from rehab_analytics.template.columns import (
    _CODED,
    _FORBUND_COL,
    _HEALTH,
    _LANGS,
    _STEP,
    ANONYMOUS_COLUMNS,
    MARKER_SHEET,
    PARTICIPANT_COLUMNS,
    SUBPROJECT_COLUMNS,
    TEMPLATE_VERSION,
    TemplateMarker,
    _code_labels,
    _registry,
    _t,
)

__all__ = [
    "find_template_descriptions",
    "read_marker",
    "template_description",
    "profile_vocabularies",
]


_TEMPLATE_SUFFIXES = (".xlsx", ".xlsm")


def read_marker(path: str | Path) -> TemplateMarker | None:
    """Return the template marker of a workbook, or None if it carries none.

    Files that cannot be opened as workbooks are not templates (None).

    Raises:
        InputFileError: If the marker is there but names an unknown version or
            language (a newer template, or an edited marker).

    Example:
        >>> import tempfile, pathlib
        >>> from rehab_analytics.template.write import write_template
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


def profile_vocabularies() -> dict[str, dict[str, str]]:
    """Return catalogue labels of both languages → codes (normalised) per vocabulary.

    These are the labels the template's drop-down lists offer, so a filled-in
    template needs no vocabulary of its own.

    Example:
        >>> vocab = profile_vocabularies()
        >>> vocab["sex"]["kvinna"], vocab["sex"]["woman"]
        ('woman', 'woman')
    """
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
    from rehab_analytics.ingest import read_grid

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
        >>> from rehab_analytics.template.write import write_template
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
    for col in PARTICIPANT_COLUMNS:
        if col.kind == "income":
            participant_map[col.field] = Band(_t(col.field, lang))
        else:
            participant_map[col.field] = col.header(lang)
    wide = {"woman": "count_woman", "man": "count_man"}
    anonymous_map: dict[str, object] = {
        c.field: c.header(lang)
        for c in ANONYMOUS_COLUMNS
        if not c.field.startswith("count")
    }
    anonymous_map["count_by_sex"] = {
        sex: next(c.header(lang) for c in ANONYMOUS_COLUMNS if c.field == field)
        for sex, field in wide.items()
    }
    candidates = [
        ("participants", _t("sheet_participants", lang), participant_map, 2, {"band_row": 1}),
        ("subprojects", _t("sheet_subprojects", lang),
         {c.field: c.header(lang) for c in SUBPROJECT_COLUMNS}, 1, {}),
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
        vocabularies=profile_vocabularies(),
    )


def _claimed(raw_dir: Path, sources) -> set[Path]:
    """Return every file that the tables of ``sources`` match in ``raw_dir``."""
    from rehab_analytics.sources import glob_problem

    claimed = set()
    for source in sources:
        for table in source.tables:
            for pattern in table.files:
                if glob_problem(pattern):  # refused for its source when cleaned
                    continue
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
        >>> from rehab_analytics.template.write import write_template
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
