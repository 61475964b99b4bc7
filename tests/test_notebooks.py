"""Committed notebooks: stored without outputs, thin, with a documented parameters cell."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from rehab_analytics.batch import run as batch

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    [*(ROOT / "notebooks").glob("*.ipynb"), *batch.NOTEBOOKS_DIR.glob("*.ipynb")]
)
REPORTS = sorted(batch.NOTEBOOKS_DIR.glob("*.ipynb"))
PARAM_LINE = re.compile(r"^[a-z_][a-z0-9_]*: [^=#]+ = [^#]+  # [^=]+$")
ids = [p.relative_to(ROOT).as_posix() for p in NOTEBOOKS]


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def test_expected_notebooks_exist():
    """The three report notebooks ship with the package; notebooks/ has the exploration one."""
    assert [p.name for p in REPORTS] == [
        "comparison_report.ipynb",
        "data_quality.ipynb",
        "subproject_report.ipynb",
    ]
    assert (ROOT / "notebooks" / "exploration.ipynb") in NOTEBOOKS
    assert (ROOT / "notebooks" / "README.md").is_file()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_stored_without_outputs(path):
    """No outputs, execution counts or papermill metadata reach git."""
    nb = _read(path)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert "papermill" not in nb.metadata
    assert nb.metadata.kernelspec.name == "rehab-analytics"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_parameters_cell_has_documented_form(path):
    """One tagged cell of `name: type = literal  # help` lines, all seen by papermill."""
    nb = _read(path)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    lines = [line for line in tagged[0].source.splitlines() if line.strip()]
    bad = [line for line in lines if not PARAM_LINE.match(line)]
    assert bad == []
    parsed = batch.notebook_parameters(path)
    assert len(parsed) == len(lines) and all(p.help for p in parsed.values())
    seen = pm.inspect_notebook(str(path))
    assert set(seen) == set(parsed)
    assert all(seen[name]["help"] for name in seen)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_code_cells_are_thin(path):
    """No def, class or loops in notebooks; the logic lives in the package."""
    nb = _read(path)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        banned = (
            ast.FunctionDef,
            ast.AsyncFunctionDef,
            ast.ClassDef,
            ast.For,
            ast.While,
        )
        found = [type(n).__name__ for n in ast.walk(tree) if isinstance(n, banned)]
        assert found == [], cell.source
        assert len(cell.source.splitlines()) <= 12, cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_numbered_sections_follow_the_import_cell(path):
    """Title first, then parameters, one import cell, then numbered sections 1, 2, …"""
    nb = _read(path)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert "parameters" in nb.cells[1].metadata.get("tags", [])
    imports = [
        c
        for c in nb.cells
        if c.cell_type == "code" and re.search(r"^(from|import) ", c.source, re.M)
    ]
    assert imports == [nb.cells[2]]
    numbers = [
        int(m.group(1))
        for c in nb.cells
        if c.cell_type == "markdown" and (m := re.match(r"## (\d+)\. ", c.source))
    ]
    assert numbers == list(range(1, len(numbers) + 1)) and numbers


@pytest.mark.parametrize("path", REPORTS, ids=[p.name for p in REPORTS])
def test_report_notebooks_declare_the_batch_parameters(path):
    """Report notebooks take processed_dir, lang, output_dir and job from the batch."""
    params = batch.notebook_parameters(path)
    assert {"processed_dir", "lang", "output_dir", "job"} <= set(params)
    assert params["lang"].default == "sv" and params["output_dir"].default == ""
    assert params["job"].default == path.stem


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.xdist_group("kernels")
def test_exploration_notebook_runs_on_sample_data(tmp_path):
    """The analysts' notebook runs top to bottom on freshly cleaned sample data."""
    from rehab_analytics.clean.run import run_clean
    from rehab_analytics.sample.deliveries import write_sample

    write_sample(tmp_path / "raw", participants=120, seed=7)
    assert run_clean(tmp_path / "raw", tmp_path / "processed").ok
    pm.execute_notebook(
        str(ROOT / "notebooks" / "exploration.ipynb"),
        str(tmp_path / "exploration.ipynb"),
        parameters={"processed_dir": str(tmp_path / "processed"), "lang": "en"},
        kernel_name="rehab-analytics",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    done = _read(tmp_path / "exploration.ipynb")
    assert all(c.execution_count for c in done.cells if c.cell_type == "code")
