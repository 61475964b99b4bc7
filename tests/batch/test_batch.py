"""Tests for the report batch: validation, parallel runs, outputs, failures, reuse."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from rehab_analytics import report
from rehab_analytics.batch import run as batch
from rehab_analytics.errors import InputFileError, ParameterError

KEY = "k" * 48

# Test notebooks stand in for the real ones so the batch machinery is tested on
# its own. They replace disclosure control with a fixed rule (missing count = "<5").
_PARAMS = """processed_dir: str = ""  # folder with the clean tables
lang: str = "sv"  # report language
output_dir: str = ""  # run folder
job: str = "test"  # job name
period_start: str = "2015-10-01"  # first day
period_end: str = "2019-06-30"  # last day
fail_on: str = ""  # subproject whose report fails (tests)
"""
_SETUP = """import os
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from rehab_analytics import disclosure, report
disclosure.require_publishable = lambda df, what="table": None
disclosure.display_values = lambda df, lang="sv": df.astype("string").fillna("<5")
out = report.Publisher(output_dir, job, lang)"""


def _write_nb(path: Path, params: str, *cells: str) -> None:
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"), p]
    nb.cells += [nbformat.v4.new_code_cell(_SETUP)]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {
        "name": "rehab-analytics",
        "display_name": "x",
        "language": "python",
    }
    nbformat.write(nb, str(path))


@pytest.fixture(scope="module", autouse=True)
def _fixed_code_hash():
    # Reuse compares package code too; other edits to the package must not make
    # these tests rerun notebooks.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batch, "_code_sha256", lambda: "code")
        yield


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("notebooks")
    _write_nb(
        folder / "data_quality.ipynb",
        _PARAMS,
        'SECRET_CODE_TOKEN = pd.DataFrame({"key_visible": [int("RA_PSEUDONYM_KEY" in os.environ)]})\n'
        'out.table(SECRET_CODE_TOKEN, "env")',
    )
    _write_nb(
        folder / "subproject_report.ipynb",
        _PARAMS + 'subproject: str = "a"  # subproject code\n',
        'assert subproject != fail_on, f"boom in {subproject}"',
        'counts = pd.DataFrame({"sex": ["woman", "man"], "n": pd.array([12, None], "Int64"), '
        '"share": [0.75, None]})\nout.table(counts, "counts", title="Counts")',
        'fig, ax = plt.subplots(figsize=(4, 3))\nax.bar(["x", "y"], [1, 2])\n'
        'out.figure(fig, "bars", title=f"Bars for {subproject}", notes="Test notes")',
    )
    _write_nb(
        folder / "comparison_report.ipynb",
        _PARAMS + "subprojects: list[str] = []  # subproject codes\n",
        'out.table(pd.DataFrame({"subproject": subprojects, "n": range(10, 10 + len(subprojects))}), "units")',
    )
    return folder


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("processed")
    pd.DataFrame({"subproject": ["a", "a", "b"], "x": [1, 2, 3]}).to_parquet(
        folder / "participants.parquet"
    )
    for name in ("subprojects", "anonymous_counts", "rejects"):
        pd.DataFrame({"subproject": ["a"]}).to_parquet(folder / f"{name}.parquet")
    return folder


def _no_kernels(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(batch, "_execute", fail)
    monkeypatch.setattr(batch, "_check_kernel", fail)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"parameters": {"colour": "red"}},
            ParameterError,
            r"unknown parameter 'colour'.*Valid parameters: .*fail_on",
        ),
        (
            {"parameters": {"fail_on": 3}},
            ParameterError,
            r"'fail_on' is 3 \(int\); expected str",
        ),
        (
            {"period_start": "2016-13-01"},
            ParameterError,
            r"period-start is '2016-13-01'; expected a date as YYYY-MM-DD",
        ),
        ({"period_end": "1/2 2017"}, ParameterError, r"YYYY-MM-DD"),
        (
            {"period_start": "2018-01-01", "period_end": "2017-01-01"},
            ParameterError,
            r"after period-end",
        ),
        (
            {"subprojects": ["a", "zzz"]},
            ParameterError,
            r"unknown subproject 'zzz'\. Known subprojects: .*a, b",
        ),
        ({"lang": "fi"}, ParameterError, r"lang is 'fi'; expected one of sv, en"),
        ({"jobs": 0}, ParameterError, r"jobs is 0"),
    ],
)
def test_invalid_parameters_fail_before_any_kernel(
    kwargs, error, match, notebooks, processed, tmp_path, monkeypatch
):
    """Bad names, types, dates, codes and languages raise before a kernel starts."""
    _no_kernels(monkeypatch)
    with pytest.raises(error, match=match):
        batch.run_batch(
            processed, notebooks_dir=notebooks, run_dir=tmp_path / "r", **kwargs
        )


def test_missing_processed_tables_say_run_clean(notebooks, tmp_path, monkeypatch):
    """Without the clean tables the error names the folder and says to run clean."""
    _no_kernels(monkeypatch)
    with pytest.raises(
        InputFileError, match=r"participants\.parquet.*rehab-analytics clean"
    ):
        batch.run_batch(tmp_path, notebooks_dir=notebooks)


def test_notebook_lacking_a_required_parameter_is_named(
    processed, tmp_path, monkeypatch
):
    """A report notebook without `lang` etc. is refused, naming what is missing."""
    _no_kernels(monkeypatch)
    _write_nb(tmp_path / "data_quality.ipynb", 'processed_dir: str = ""  # x\n')
    with pytest.raises(ParameterError, match=r"lacks lang, output_dir, job"):
        batch.run_batch(processed, notebooks_dir=tmp_path, run_dir=tmp_path / "r")


def test_notebook_parameters_parses_types_defaults_and_help(notebooks):
    """The parameters cell gives name, type, literal default and help text."""
    params = batch.notebook_parameters(notebooks / "comparison_report.ipynb")
    assert params["subprojects"] == batch.Parameter(
        "subprojects", "list[str]", [], "subproject codes"
    )
    assert params["period_end"].default == "2019-06-30"
    assert params["lang"].help == "report language"


def test_derived_value_in_parameters_cell_is_refused(tmp_path):
    """A non-literal in the parameters cell is an error pointing at the line."""
    _write_nb(
        tmp_path / "x.ipynb",
        "year: int = 2016  # y\nstart: str = f'{year}-01-01'  # s\n",
    )
    with pytest.raises(
        ParameterError, match=r"Line 2 .*expected `name: type = literal"
    ):
        batch.notebook_parameters(tmp_path / "x.ipynb")


def test_parameters_cell_is_read_as_plain_json_in_either_source_form(tmp_path):
    """Source as a list of lines or one string parses alike; broken JSON is named."""
    cell = {
        "cell_type": "code",
        "metadata": {"tags": ["parameters"]},
        "source": ['lang: str = "sv"  # report language\n', "jobs: int = 2  # n\n"],
    }
    as_lines = tmp_path / "lines.ipynb"
    as_lines.write_text(json.dumps({"cells": [cell]}))
    as_text = tmp_path / "text.ipynb"
    as_text.write_text(
        json.dumps({"cells": [{**cell, "source": "".join(cell["source"])}]})
    )
    expected = {
        "lang": batch.Parameter("lang", "str", "sv", "report language"),
        "jobs": batch.Parameter("jobs", "int", 2, "n"),
    }
    assert batch.notebook_parameters(as_lines) == expected
    assert batch.notebook_parameters(as_text) == expected
    (tmp_path / "bad.ipynb").write_text("{not json")
    with pytest.raises(ParameterError, match=r"Cannot read the notebook as JSON"):
        batch.notebook_parameters(tmp_path / "bad.ipynb")
    (tmp_path / "none.ipynb").write_text(json.dumps({"cells": []}))
    with pytest.raises(ParameterError, match=r"no cell tagged 'parameters'"):
        batch.notebook_parameters(tmp_path / "none.ipynb")


def test_run_outputs_are_linked_only_when_all_jobs_come_from_one_matching_run(
    tmp_path,
):
    """xlsx and deck are reused only from one clean run with exactly the same jobs."""
    from rehab_analytics.batch.plan import _reuse_run_outputs

    jobs = [batch._Job(n, Path(f"{n}.ipynb"), {}, f"fp-{n}") for n in ("a", "b")]
    old, other = tmp_path / "old", tmp_path / "other"
    for run in (old, other):
        run.mkdir()
        (run / "tables.xlsx").write_bytes(b"xlsx")
        (run / "deck.pptx").write_bytes(b"pptx")
    entries = [
        {"name": j.name, "fingerprint": j.fingerprint, "status": "ok"} for j in jobs
    ]
    manifest = {"ok": True, "errors": [], "jobs": entries}
    manifest["outputs"] = ["deck.pptx", "tables.xlsx"]
    report.write_json(old / "manifest.json", manifest)
    report.write_json(other / "manifest.json", {**manifest, "jobs": entries[:1]})
    new = tmp_path / "new"
    new.mkdir()
    hits = [(old, e) for e in entries]
    assert (
        _reuse_run_outputs(jobs, [(old, entries[0]), (other, entries[1])], new) is None
    )
    assert _reuse_run_outputs(jobs[:1], hits[:1], new) is None  # old had more jobs
    assert _reuse_run_outputs(jobs, hits[:1], new) is None  # one job ran again
    assert not (new / "tables.xlsx").exists()
    linked = _reuse_run_outputs(jobs, hits, new)
    assert linked == {
        "tables.xlsx": new / "tables.xlsx",
        "deck.pptx": new / "deck.pptx",
    }
    assert (new / "tables.xlsx").samefile(old / "tables.xlsx")
    assert (new / "deck.pptx").read_bytes() == b"pptx"


def test_validate_parameters_checks_list_items_and_optional():
    """list[str] items are type-checked; `str | None` accepts None."""
    spec = {
        "codes": batch.Parameter("codes", "list[str]", [], ""),
        "note": batch.Parameter("note", "str | None", None, ""),
        "share": batch.Parameter("share", "float", 0.5, ""),
    }
    batch.validate_parameters(spec, {"codes": ["a"], "note": None, "share": 1})
    with pytest.raises(ParameterError, match=r"'codes' is \['a', 1\]"):
        batch.validate_parameters(spec, {"codes": ["a", 1]})
    with pytest.raises(
        ParameterError, match=r"'share' is True \(bool\); expected float"
    ):
        batch.validate_parameters(spec, {"share": True})


def test_kernel_start_failures_are_retried_with_backoff():
    """A failed kernel start is retried (2 waits, growing); cell errors are not."""
    calls, waits = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("Kernel died before replying to kernel_info")

    assert batch._with_retry(flaky, backoff=1.0, sleep=waits.append) == 3
    assert len(waits) == 2 and 1.0 <= waits[0] < 1.5 and 2.0 <= waits[1] < 2.5

    def broken():
        raise ValueError("not a start failure")

    with pytest.raises(ValueError):
        batch._with_retry(broken, sleep=waits.append)
    assert len(waits) == 2


def test_summary_lists_notebook_status_seconds_cell_error_path(tmp_path):
    """The summary table has one row per job and says how many failed."""
    result = batch.BatchResult(
        tmp_path,
        [
            batch.JobResult("data_quality", "data_quality.ipynb", "ok", 3.21),
            batch.JobResult(
                "subproject_b",
                "subproject_report.ipynb",
                "failed",
                1.0,
                cell=4,
                error="ValueError: boom",
                path=tmp_path / "subproject_b.ipynb",
            ),
        ],
    )
    lines = result.summary().splitlines()
    assert lines[0].split() == [
        "notebook",
        "status",
        "seconds",
        "cell",
        "error",
        "path",
    ]
    assert lines[2].split() == ["data_quality", "ok", "3.2"]
    assert re.match(
        r"subproject_b\s+failed\s+1\.0\s+4\s+ValueError: boom\s+\S+subproject_b\.ipynb",
        lines[3],
    )
    assert "1 notebook(s) failed" in lines[-1] and not result.ok


def test_sheet_names_are_unique_ignoring_case():
    """Excel compares sheet names case-insensitively; the second gets a suffix."""
    assert report.sheet_names(["Data", "data", "a:b"]) == ["Data", "data~2", "a_b"]


def test_publish_table_refuses_unsuppressed_table(tmp_path):
    """A table that has not passed disclosure control cannot be published."""
    from rehab_analytics.errors import DisclosureError

    with pytest.raises(DisclosureError, match="table 'raw' cannot be published"):
        report.publish_table(pd.DataFrame({"n": [3, 12]}), "raw", tmp_path, job="x")
    assert not (tmp_path / "tables").exists()


def test_suppressed_table_reaches_xlsx_as_numbers_and_markers(tmp_path):
    """With real suppress(): hidden cells are empty in parquet and '..' in xlsx."""
    from openpyxl import load_workbook

    from rehab_analytics.disclosure import suppress

    table = pd.DataFrame(
        {"unit": ["a", "b", "c"], "n": [3, 40, 12], "share": [0.5, 0.25, 0.75]}
    )
    shown = report.publish_table(
        suppress(table, margins=[[]]), "units", tmp_path, job="cmp", lang="en"
    )
    # c is hidden only to protect a (secondary): it shows the same ".." as a
    assert shown["n"].tolist() == ["..", "40", ".."]
    stored = pd.read_parquet(tmp_path / "tables" / "cmp__units.parquet")
    assert list(stored.columns) == ["unit", "n", "share"]
    assert stored["n"].isna().tolist() == [True, False, True]
    entries = [{**t, "job": "cmp"} for t in report.published(tmp_path, "cmp")["tables"]]
    report.write_tables_xlsx(tmp_path, entries, tmp_path / "t.xlsx", lang="en")
    rows = list(
        load_workbook(tmp_path / "t.xlsx")["cmp.units"].iter_rows(values_only=True)
    )
    assert rows == [
        ("unit", "n", "share"),
        ("a", "..", ".."),
        ("b", 40, 0.25),
        ("c", "..", ".."),
    ]


def test_required_tables_are_the_ones_pipeline_load_reads():
    """The batch checks for exactly the tables pipeline.load() needs."""
    from rehab_analytics.processed import OUTPUT_FILES

    wanted = {
        OUTPUT_FILES[k]
        for k in ("participants", "subprojects", "anonymous_counts", "rejects")
    }
    assert set(batch._REQUIRED_TABLES) == wanted


# ---- runs that execute notebooks -------------------------------------------------


@pytest.fixture(scope="module")
def first_run(notebooks, processed):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RA_PSEUDONYM_KEY", KEY)
        started = time.perf_counter()
        result = batch.run_batch(
            processed, notebooks_dir=notebooks, jobs=2, progress=False
        )
        return result, time.perf_counter() - started


def kernels(fn):
    """Mark a test that starts Jupyter kernels (slow; one xdist worker for all)."""
    return pytest.mark.notebooks(
        pytest.mark.slow(pytest.mark.xdist_group("kernels")(fn))
    )


@kernels
def test_parallel_run_writes_notebooks_html_and_manifest(first_run, processed):
    """Every job runs, executed notebooks and HTML land in one run folder."""
    result, _ = first_run
    assert result.ok, result.summary()
    names = [j.name for j in result.jobs]
    assert names == [
        "data_quality",
        "subproject_a",
        "subproject_b",
        "comparison_report",
    ]
    run = result.run_dir
    assert run.parent == processed / "reports"
    assert re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{6}", run.name)
    assert (run.parent / "latest.txt").read_text().strip() == run.name
    assert (run.parent / "latest").resolve() == run.resolve()
    for name in names:
        executed = nbformat.read(run / f"{name}.ipynb", as_version=4)
        assert executed.metadata.papermill.parameters["job"] == name
        assert (run / f"{name}.html").is_file()
    assert set(result.outputs) >= {
        "tables.xlsx",
        "deck.pptx",
        "manifest.json",
        "subproject_a.html",
    }


@kernels
def test_html_has_no_code(first_run):
    """HTML pages show outputs and markdown only: no code, prompts or parameters."""
    result, _ = first_run
    html = (result.run_dir / "data_quality.html").read_text()
    body = html[html.index("<body") :]
    assert "SECRET_CODE_TOKEN" not in body and "processed_dir" not in body
    assert "jp-InputPrompt" not in body and "highlight" not in body
    # The only input areas left are rendered markdown cells (one per notebook here).
    assert body.count('class="jp-InputArea') == body.count("jp-MarkdownCell") == 1
    assert "key_visible" in body


@kernels
def test_kernels_never_see_the_pseudonymisation_key(first_run):
    """The key in the environment reaches neither kernels nor parameters nor manifest."""
    result, _ = first_run
    env = pd.read_parquet(result.run_dir / "tables" / "data_quality__env.parquet")
    assert env["key_visible"].tolist() == [0]
    assert KEY not in (result.run_dir / "manifest.json").read_text()
    executed = nbformat.read(result.run_dir / "data_quality.ipynb", as_version=4)
    assert set(executed.metadata.papermill.parameters) == {
        "processed_dir",
        "lang",
        "output_dir",
        "job",
    }


@kernels
def test_tables_xlsx_matches_published_parquet(first_run):
    """One sheet per table; numbers are numbers equal to the parquet; hidden cells '..'."""
    from openpyxl import load_workbook

    result, _ = first_run
    run = result.run_dir
    wb = load_workbook(run / "tables.xlsx")
    assert wb.sheetnames == [
        "Innehåll",
        "data_quality.env",
        "subproject_a.counts",
        "subproject_b.counts",
        "comparison_report.units",
    ]
    assert all(len(n) <= 31 for n in wb.sheetnames)
    ws = wb["subproject_a.counts"]
    rows = list(ws.iter_rows(values_only=True))
    # the stand-in display_values shows "<5"; the workbook still has the one mark
    assert rows == [("sex", "n", "share"), ("woman", 12, 0.75), ("man", "..", "..")]
    stored = pd.read_parquet(run / "tables" / "subproject_a__counts.parquet")
    assert stored["n"].tolist()[0] == 12 and stored["n"].isna().tolist() == [
        False,
        True,
    ]
    units = list(wb["comparison_report.units"].iter_rows(values_only=True))
    assert units == [("subproject", "n"), ("a", 10), ("b", 11)]
    assert isinstance(units[1][1], int)


@kernels
def test_deck_has_one_slide_per_figure_with_title_and_notes(first_run):
    """deck.pptx holds each published chart with its takeaway title and notes."""
    from pptx import Presentation

    result, _ = first_run
    prs = Presentation(str(result.run_dir / "deck.pptx"))
    pictures = [s for s in prs.slides if any(sh.shape_type == 13 for sh in s.shapes)]
    assert len(pictures) == 2
    texts = [
        " ".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame)
        for s in pictures
    ]
    assert "Bars for a" in texts[0] and "Bars for b" in texts[1]
    assert pictures[0].notes_slide.notes_text_frame.text == "Test notes"


@kernels
def test_manifest_records_parameters_hashes_and_status(first_run, processed):
    """manifest.json has parameters, input and notebook hashes, versions and job status."""
    result, _ = first_run
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert {
        "run_id",
        "created",
        "ok",
        "package_version",
        "python",
        "platform",
        "parameters",
        "inputs",
        "notebooks",
        "jobs",
        "outputs",
        "seconds",
    } <= set(manifest)
    assert manifest["parameters"]["lang"] == "sv" and manifest["parameters"][
        "subprojects"
    ] == ["a", "b"]
    assert manifest["inputs"]["participants.parquet"] == batch._sha256(
        processed / "participants.parquet"
    )
    assert set(manifest["notebooks"]) == {
        "data_quality.ipynb",
        "subproject_report.ipynb",
        "comparison_report.ipynb",
    }
    job = manifest["jobs"][1]
    assert (
        job["status"] == "ok"
        and job["name"] == "subproject_a"
        and len(job["fingerprint"]) == 64
    )
    assert "tables/subproject_a__counts.parquet" in job["outputs"]


@kernels
def test_second_run_reuses_everything_quickly(
    first_run, notebooks, processed, monkeypatch
):
    """Nothing changed: every job is reused without a kernel, in a fraction of the time."""
    result, first_seconds = first_run
    ran = _would_run(monkeypatch)
    started = time.perf_counter()
    again = batch.run_batch(processed, notebooks_dir=notebooks, jobs=2, progress=False)
    seconds = time.perf_counter() - started
    assert ran == []
    assert again.ok and again.run_dir != result.run_dir
    assert [j.status for j in again.jobs] == ["skipped (unchanged)"] * 4
    assert seconds < 0.25 * first_seconds
    assert (again.run_dir / "subproject_b.html").is_file()
    assert list(load_sheet(again.run_dir, "subproject_a.counts"))[1] == (
        "woman",
        12,
        0.75,
    )
    assert (
        json.loads((again.run_dir / "manifest.json").read_text())["jobs"][0][
            "reused_from"
        ]
        == result.run_dir.name
    )


@kernels
def test_all_reused_run_links_xlsx_and_deck_instead_of_rebuilding(
    first_run, notebooks, processed, monkeypatch
):
    """An unchanged re-run links tables.xlsx/deck.pptx from the previous run, fast."""
    result, first_seconds = first_run
    ran = _would_run(monkeypatch)
    previous = batch.run_batch(
        processed, notebooks_dir=notebooks, jobs=2, progress=False
    )

    def rebuilt(*args, **kwargs):
        raise AssertionError("an output was rebuilt")

    monkeypatch.setattr(report, "write_tables_xlsx", rebuilt)
    monkeypatch.setattr(report, "write_deck", rebuilt)
    monkeypatch.setattr(report, "write_html", rebuilt)
    started = time.perf_counter()
    again = batch.run_batch(processed, notebooks_dir=notebooks, jobs=2, progress=False)
    seconds = time.perf_counter() - started
    assert ran == [] and again.ok and again.errors == []
    assert seconds < 0.05 * first_seconds
    for name in ("tables.xlsx", "deck.pptx", "subproject_a.html"):
        new, old = again.run_dir / name, previous.run_dir / name
        assert again.outputs[name] == new
        assert new.samefile(old) or new.read_bytes() == old.read_bytes()
    manifest = json.loads((again.run_dir / "manifest.json").read_text())
    assert {j["status"] for j in manifest["jobs"]} == {"skipped (unchanged)"}
    assert all(j["reused_from"] for j in manifest["jobs"])
    assert {"tables.xlsx", "deck.pptx"} <= set(manifest["outputs"])


def load_sheet(run: Path, name: str):
    from openpyxl import load_workbook

    return load_workbook(run / "tables.xlsx")[name].iter_rows(values_only=True)


@kernels
def test_force_reruns_unchanged_notebooks(first_run, notebooks, processed):
    """force=True runs every notebook again even though nothing changed."""
    again = batch.run_batch(
        processed,
        notebooks_dir=notebooks,
        subprojects=["a"],
        jobs=2,
        force=True,
        progress=False,
    )
    assert again.ok
    assert [(j.name, j.status) for j in again.jobs] == [
        ("data_quality", "ok"),
        ("subproject_a", "ok"),
        ("comparison_report", "ok"),
    ]


@kernels
def test_failing_notebook_is_reported_and_others_still_run(
    first_run, notebooks, processed, capsys
):
    """A cell error keeps the saved notebook, names cell and error, and sets ok False."""
    result = batch.run_batch(
        processed, notebooks_dir=notebooks, jobs=2, parameters={"fail_on": "b"}
    )
    assert not result.ok
    status = {j.name: j for j in result.jobs}
    failed = status["subproject_b"]
    assert failed.status == "failed" and failed.cell == 4
    assert failed.error == "AssertionError: boom in b"
    assert failed.path.is_file() and not (result.run_dir / "subproject_b.html").exists()
    assert [
        status[n].status for n in ("data_quality", "subproject_a", "comparison_report")
    ] == ["ok"] * 3
    assert (result.run_dir / "subproject_a.html").is_file()
    sheets = [row[0] for row in load_sheet(result.run_dir, "Innehåll")]
    assert "subproject_a.counts" in sheets and "subproject_b.counts" not in sheets
    assert re.search(
        r"subproject_b\s+failed\s+[\d.]+\s+4\s+AssertionError: boom in b",
        result.summary(),
    )
    assert re.search(r"\[\d/4\] subproject_b failed [\d.]+ s", capsys.readouterr().err)


def _would_run(monkeypatch) -> list[str]:
    ran: list[str] = []

    def fake(todo, run_dir, jobs, show):
        ran.extend(j.name for j in todo)
        return [batch.JobResult(j.name, j.notebook.name, "ok") for j in todo]

    monkeypatch.setattr(batch, "_execute", fake)
    monkeypatch.setattr(batch, "_check_kernel", lambda: None)
    return ran


@kernels
def test_changed_input_or_notebook_reruns_only_affected_jobs(
    first_run, notebooks, processed, tmp_path, monkeypatch
):
    """New input data reruns everything; an edited notebook reruns only its jobs."""
    import shutil

    ran = _would_run(monkeypatch)
    edited = tmp_path / "notebooks"
    shutil.copytree(notebooks, edited)
    nb = nbformat.read(edited / "subproject_report.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("One more remark."))
    nbformat.write(nb, edited / "subproject_report.ipynb")
    batch.run_batch(processed, notebooks_dir=edited, progress=False)
    assert sorted(ran) == ["subproject_a", "subproject_b"]

    ran.clear()
    changed = tmp_path / "processed"
    shutil.copytree(processed, changed)
    pd.DataFrame({"subproject": ["a", "b", "b"]}).to_parquet(
        changed / "participants.parquet"
    )
    batch.run_batch(changed, notebooks_dir=notebooks, progress=False)
    # (in any order: the longest start first, by their last run)
    assert sorted(ran) == [
        "comparison_report", "data_quality", "subproject_a", "subproject_b"]  # fmt: skip


def test_longest_jobs_start_first_by_their_last_run(tmp_path):
    """Jobs are ordered by the seconds they took last time, new jobs first."""
    from rehab_analytics.batch.jobs import _Job
    from rehab_analytics.batch.plan import _last_seconds, _longest_first

    root = tmp_path / "reports"
    for run, seconds in (("20260101T000000-a", {"dq": 9.0}), ("20260102T000000-b", {
        "dq": 3.0, "sub": 8.0, "comparison": 6.0, "reused": 0.0})):  # fmt: skip
        (root / run).mkdir(parents=True)
        jobs = [
            {"name": n, "seconds": s, "status": "ok" if s else "skipped (unchanged)"}
            for n, s in seconds.items()
        ]
        (root / run / "manifest.json").write_text(json.dumps({"jobs": jobs}))
    current = root / "20260103T000000-c"
    current.mkdir()
    seconds = _last_seconds(root, current)
    assert seconds == {"dq": 3.0, "sub": 8.0, "comparison": 6.0}
    todo = [_Job(n, tmp_path / f"{n}.ipynb", {}) for n in
            ("dq", "sub", "comparison", "reused", "new")]  # fmt: skip
    assert [j.name for j in _longest_first(todo, seconds)] == [
        "reused", "new", "sub", "comparison", "dq"]  # fmt: skip


def test_batch_workers_give_kernels_one_thread_unless_told_otherwise(monkeypatch):
    """Kernels inherit one BLAS/OpenMP/Arrow thread each; a user's setting stays."""
    import os

    from rehab_analytics.batch import jobs as batch_jobs

    env = {"OPENBLAS_NUM_THREADS": "4", "RA_PSEUDONYM_KEY": "secret"}
    monkeypatch.setattr(os, "environ", env)
    batch_jobs._worker_init()
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    assert env["OPENBLAS_NUM_THREADS"] == "4"
    assert "RA_PSEUDONYM_KEY" not in env
