"""Tests for publishing: one mark for hidden cells in tables.xlsx, explained once per report."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest
from openpyxl import load_workbook

from rehab_analytics import catalogue, disclosure, figures, report
from rehab_analytics.batch import run as batch
from rehab_analytics.report.publish import _split_markers

REPORTS = sorted(batch.NOTEBOOKS_DIR.glob("*.ipynb"))


def _protected(threshold: int = 5) -> pd.DataFrame:
    """Unit a: one small cell (2) and its partner (40), hidden to protect it."""
    table = pd.DataFrame(
        {"unit": ["a", "a", "a", "b"], "reason": ["x", "y", "z", "x"]}
    ).assign(n=[2, 40, 60, 25])
    out = disclosure.suppress(table, threshold=threshold, margins=[["unit"]])
    assert out["n__secondary__suppressed"].tolist() == [False, True, False, False]
    return out


def test_split_markers_store_one_mark_whatever_was_shown():
    """Hidden cells are blanked and marked '..'; an old '<5' text becomes '..'."""
    table = _protected()
    shown = disclosure.display_values(table).assign(n=["<5", "..", "60", "25"])
    stored, markers = _split_markers(table, shown)
    assert stored.columns.tolist() == ["unit", "reason", "n"]
    assert stored["n"].isna().tolist() == [True, True, False, False]
    assert markers == [[0, "n", ".."], [1, "n", ".."]]


@pytest.mark.parametrize(("lang", "threshold"), [("sv", 5), ("en", 3)])
def test_tables_xlsx_marks_every_hidden_cell_alike_and_explains_it_once(
    tmp_path, lang, threshold
):
    """Small and protecting cells are both '..'; the note has the run's threshold."""
    table = _protected(threshold)
    shown = report.publish_table(table, "exits", tmp_path, job="cmp", lang=lang)
    assert shown["n"].tolist()[:2] == ["..", ".."]
    entries = [{**t, "job": "cmp"} for t in report.published(tmp_path, "cmp")["tables"]]
    assert entries[0]["threshold"] == threshold
    # an entry written before the one-mark rule still shows ".." in the workbook
    old = {**entries[0], "name": "old", "markers": [[0, "n", f"<{threshold}"]]}
    report.write_tables_xlsx(tmp_path, [*entries, old], tmp_path / "t.xlsx", lang=lang)
    wb = load_workbook(tmp_path / "t.xlsx")
    rows = list(wb["cmp.exits"].iter_rows(values_only=True))
    assert [r[2] for r in rows] == ["n", "..", "..", 60, 25]
    assert list(wb["cmp.old"].iter_rows(values_only=True))[1][2] == ".."
    values = [
        str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c
    ]
    assert not [v for v in values if re.match(r"<\s*\d", v)]
    note = catalogue.text("common.hidden_values", lang, threshold=threshold)
    assert values.count(note) == 1
    assert (f"fewer than {threshold}" in note) == (lang == "en")


# ------------------------------------------------------- the reports, as rendered


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    """A small sample delivery, cleaned (about a second)."""
    from rehab_analytics.clean.run import run_clean
    from rehab_analytics.sample.deliveries import write_sample

    root = tmp_path_factory.mktemp("marker")
    write_sample(root / "raw", participants=120, seed=7)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RA_PSEUDONYM_KEY", "k" * 40)
        run_clean(root / "raw", root / "processed")
    return root / "processed"


def _rendered(value: object) -> str:
    """What the HTML report shows for a cell's result, as plain text (no images)."""
    if isinstance(value, figures.Chart):
        return value.title
    if hasattr(value, "_repr_markdown_"):
        return str(value)
    if hasattr(value, "_repr_html_"):
        return html.unescape(re.sub(r"<[^>]+>", " ", value._repr_html_()))
    if hasattr(value, "to_html"):
        return html.unescape(re.sub(r"<[^>]+>", " ", value.to_html()))
    return "" if value is None else str(value)


def _run_in_process(path: Path, processed: Path, lang: str) -> tuple[str, list[str]]:
    """Run a report notebook's cells here (no kernel): rendered text and failures.

    A cell that fails is left out of the text: running the notebooks is the
    notebook and demo tests' job; a missing explanation still fails the count.
    """
    ns: dict = {}
    texts, failures = [], []
    for cell in nbformat.read(str(path), as_version=4).cells:
        if cell.cell_type != "code":
            continue
        source = cell.source
        if "parameters" in cell.metadata.get("tags", []):
            source += f"\nprocessed_dir = {str(processed)!r}\nlang = {lang!r}\n"
        tree = ast.parse(source)
        last = (
            tree.body.pop()
            if tree.body and isinstance(tree.body[-1], ast.Expr)
            else None
        )
        try:
            exec(compile(tree, path.name, "exec"), ns)
            if last is not None:
                expr = ast.Expression(last.value)
                texts.append(_rendered(eval(compile(expr, path.name, "eval"), ns)))
        except Exception as exc:  # noqa: BLE001 - see the docstring
            failures.append(f"{source[:60]!r}: {exc!r:.200}")
        finally:
            plt.close("all")
    return "\n".join(texts), failures


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("path", REPORTS, ids=lambda p: p.stem)
def test_each_report_explains_the_mark_once_and_never_says_less_than(
    processed, path, lang
):
    """Rendered report text: '..' explained exactly once; no '<5', no 'fewer than 5'."""
    text, failures = _run_in_process(path, processed, lang)
    note = catalogue.text("common.hidden_values", lang, threshold=5)
    assert text.count(note) == 1, failures
    assert "<5" not in text
    small = "färre än 5" if lang == "sv" else "fewer than 5"
    # a reader is told "fewer than 5" only by the explanation (and by the label of
    # rare labels lumped together, which is about each label, not a hidden count)
    lumped = catalogue.text("report.note.rare_values", lang, threshold=5)
    assert text.replace(lumped, "").lower().count(small) == 1
