"""Tests for the batch's reuse fingerprint: lock, library versions, source descriptions."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from rehab_analytics.batch import plan
from rehab_analytics.batch import run as batch

_PARAMS = """processed_dir: str = ""  # folder with the clean tables
lang: str = "sv"  # report language
output_dir: str = ""  # run folder
job: str = "test"  # job name
"""


@pytest.fixture
def setup(tmp_path, monkeypatch) -> tuple[Path, Path, Path, list[str]]:
    """Notebooks, a processed folder whose report names one description, and no kernels."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(_PARAMS)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nbformat.write(nb, str(notebooks / "data_quality.ipynb"))

    description = tmp_path / "raw" / "_sources" / "nordost.toml"
    description.parent.mkdir(parents=True)
    description.write_text('[organisation]\nname = "Nordost"\n', encoding="utf-8")
    processed = tmp_path / "processed"
    processed.mkdir()
    pd.DataFrame({"subproject": ["a"]}).to_parquet(processed / "participants.parquet")
    for name in ("subprojects", "anonymous_counts", "rejects"):
        pd.DataFrame({"subproject": ["a"]}).to_parquet(processed / f"{name}.parquet")
    report = {"sources": {"nordost": {"description": str(description)}}}
    (processed / "cleaning_report.json").write_text(json.dumps(report))

    # Other edits to the package must not count here; kernels are never started.
    monkeypatch.setattr(batch, "_code_sha256", lambda: "code")
    ran: list[str] = []

    def fake(todo, run_dir, jobs, show):
        ran.extend(j.name for j in todo)
        return [
            batch.JobResult(j.name, j.notebook.name, "ok", fingerprint=j.fingerprint)
            for j in todo
        ]

    monkeypatch.setattr(batch, "_execute", fake)
    monkeypatch.setattr(batch, "_check_kernel", lambda: None)
    return notebooks, processed, description, ran


def _run(notebooks: Path, processed: Path) -> batch.BatchResult:
    return batch.run_batch(processed, notebooks_dir=notebooks, progress=False)


def test_another_library_version_invalidates_reuse(setup, monkeypatch):
    """The same inputs with another pandas (or matplotlib, ...) run the notebooks again."""
    notebooks, processed, _, ran = setup
    _run(notebooks, processed)
    _run(notebooks, processed)
    assert ran == ["data_quality"]  # the second run reused the first

    real = plan._version
    with monkeypatch.context() as mp:
        mp.setattr(plan, "_version", lambda n: "0.0.1" if n == "pandas" else real(n))
        other = _run(notebooks, processed)
    assert ran == ["data_quality"] * 2
    manifest = json.loads((other.run_dir / "manifest.json").read_text())
    assert manifest["environment"]["libraries"]["pandas"] == "0.0.1"

    _run(notebooks, processed)  # back to the installed versions: the first run again
    assert ran == ["data_quality"] * 2


def test_changed_lock_invalidates_reuse(setup, monkeypatch, tmp_path):
    """Editing the runtime lock (another transitive pin) runs the notebooks again."""
    notebooks, processed, _, ran = setup
    lock = tmp_path / "runtime.lock"
    lock.write_text("pandas==3.1.1\n")
    monkeypatch.setattr(plan, "_LOCK", lock)
    _run(notebooks, processed)
    _run(notebooks, processed)
    lock.write_text("pandas==3.1.1\ntzdata==2099.1\n")
    _run(notebooks, processed)
    assert ran == ["data_quality"] * 2


def test_changed_description_invalidates_reuse(setup):
    """A source description edited since the clean runs the notebooks again."""
    notebooks, processed, description, ran = setup
    _run(notebooks, processed)
    _run(notebooks, processed)
    assert ran == ["data_quality"]
    description.write_text('[organisation]\nname = "Nordöst"\n', encoding="utf-8")
    result = _run(notebooks, processed)
    assert ran == ["data_quality"] * 2
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["descriptions"]["nordost"] == {
        "path": str(description),
        "sha256": plan._sha256(description),
    }


def test_descriptions_come_from_the_cleaning_report(tmp_path):
    """Every description the report names is hashed; a vanished one hashes to None."""
    here = tmp_path / "a.toml"
    here.write_text("x = 1\n")
    report = {
        "sources": {
            "a": {"description": str(here)},
            "b": {"description": str(tmp_path / "gone.toml"), "error": "..."},
            "c": {"not_delivered": "no files"},
        }
    }
    (tmp_path / "cleaning_report.json").write_text(json.dumps(report))
    assert plan._descriptions(tmp_path) == {
        "a": {"path": str(here), "sha256": plan._sha256(here)},
        "b": {"path": str(tmp_path / "gone.toml"), "sha256": None},
    }
    assert plan._descriptions(tmp_path / "nothing") == {}


def test_environment_names_the_lock_and_drawing_libraries(monkeypatch, tmp_path):
    """The lock's sha256 (or, without one, of what is installed) and each library's version."""
    env = plan._environment()
    assert set(env["libraries"]) >= {"pandas", "numpy", "matplotlib", "scipy"}
    assert env["libraries"]["pandas"] == pd.__version__
    monkeypatch.setattr(plan, "_LOCK", tmp_path / "no.lock")
    installed = plan._lock_sha256()
    assert len(installed) == 64 and installed == plan._lock_sha256()
    assert installed != env["lock_sha256"] or not plan._LOCK.is_file()
