"""Tests for notebook parameters given on the command line (`reports -p NAME VALUE`)."""

from __future__ import annotations

import pytest

from rehab_analytics import cli
from rehab_analytics.batch import run as batch
from rehab_analytics.batch.parameters import parse_value
from rehab_analytics.errors import ParameterError


@pytest.mark.parametrize(
    ("text", "annotation", "value"),
    [
        ("False", "bool", False),
        ("true", "bool", True),
        ("3", "int", 3),
        ("3", "float", 3),
        ("2.5", "float", 2.5),
        ("3", "str", "3"),
        ("None", "str | None", None),
        ("None", "str", "None"),
        ('["a", "b"]', "list[str]", ["a", "b"]),
        ('{"x": true}', "dict", {"x": True}),
        ("maybe", "bool", "maybe"),  # left for validation to refuse
    ],
)
def test_values_are_read_for_the_declared_type(text, annotation, value):
    """papermill's rules, then the declared type decides (a str stays a str)."""
    assert parse_value(text, annotation) == value


def test_reports_passes_p_pairs_to_run_batch_typed(monkeypatch, capsys):
    """`-p NAME VALUE` (repeatable) reaches run_batch's parameters as the declared type."""
    seen = {}

    class Done:
        ok = True

        def summary(self):
            return "done"

    def fake(**kwargs):
        seen.update(kwargs)
        return Done()

    monkeypatch.setattr(batch, "run_batch", fake)
    code = cli.main(["reports", "-p", "casemix", "True", "-p", "casemix", "False"])
    assert code == 0 and seen["parameters"] == {"casemix": False}
    assert cli.main(["reports"]) == 0 and seen["parameters"] == {}


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        (
            ["colour", "red"],
            "error: unknown parameter 'colour': no report notebook declares it. "
            "Valid parameters: ",
        ),
        (
            ["casemix", "maybe"],
            "error: parameter 'casemix' is 'maybe' (str); expected bool. "
            "Valid parameters: ",
        ),
        (
            ["lang", "en"],
            "error: parameter 'lang' is set by the batch; give it as lang (--lang).",
        ),
        (["job", "x"], "error: parameter 'job' is set by the batch for each job."),
    ],
)
def test_reports_refuses_unknown_or_mistyped_p_without_traceback(
    pair, message, monkeypatch, capsys
):
    """A wrong name or type is one clear line and exit code 2, before anything runs."""

    def fail(**kwargs):
        raise AssertionError("run_batch was called")

    monkeypatch.setattr(batch, "run_batch", fail)
    assert cli.main(["reports", "-p", *pair]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and len(err.splitlines()) == 1
    assert "Traceback" not in err
    if "Valid parameters" in message:  # the real notebooks' own, not the batch's
        assert "casemix (bool)" in err and "lang (str)" not in err


def test_run_batch_refuses_parameters_it_sets_itself(tmp_path):
    """run_batch's own arguments cannot be overridden through ``parameters``."""
    with pytest.raises(ParameterError, match=r"'output_dir' is set by the batch"):
        batch.run_batch(tmp_path, parameters={"output_dir": str(tmp_path)})
