"""Notebook parameters: read the papermill parameters cell and validate values against it."""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rehab_analytics.errors import ParameterError

__all__ = [
    "Parameter",
    "notebook_parameters",
    "validate_parameters",
    "parse_value",
    "default_period",
    "tertial_span",
]


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Parameter:
    """One parameter declared in a notebook's ``parameters`` cell."""

    name: str
    type: str
    default: object
    help: str


def _comments(source: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string.lstrip("#").strip()
    return out


def _parameters_source(notebook: Path) -> str:
    """Return the source of the first cell tagged ``parameters``.

    Plain ``json``: importing nbformat (and jsonschema behind it) costs seconds,
    which dominated a batch re-run that starts no kernel.
    """
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ParameterError(
            f"Cannot read the notebook as JSON ({type(exc).__name__}: {exc}); "
            "expected a Jupyter notebook (.ipynb). Save it again from Jupyter.",
            file=str(notebook),
        ) from None
    cells = nb.get("cells", []) if isinstance(nb, dict) else []
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        tags = (cell.get("metadata") or {}).get("tags") or []
        if "parameters" in tags:
            source = cell.get("source", "")
            # nbformat stores source as one string or as a list of lines.
            return "".join(source) if isinstance(source, list) else str(source)
    raise ParameterError(
        "The notebook has no cell tagged 'parameters'. Tag the cell that holds "
        "the parameters (`name: type = value  # help`).",
        file=str(notebook),
    )


def notebook_parameters(notebook: str | Path) -> dict[str, Parameter]:
    """Parse the ``parameters`` cell of a notebook (lines ``name: type = literal  # help``).

    Raises:
        ParameterError: If there is no ``parameters`` cell, or a statement in it is
            not an annotated assignment of a literal.

    Example:
        >>> from rehab_analytics.batch.run import NOTEBOOKS_DIR
        >>> params = notebook_parameters(NOTEBOOKS_DIR / "subproject_report.ipynb")
        >>> params["lang"].type, params["lang"].default
        ('str', 'sv')
    """
    notebook = Path(notebook)
    source = _parameters_source(notebook)
    try:
        tree = ast.parse(source)
        comments = _comments(source)
    except (SyntaxError, tokenize.TokenError) as exc:
        raise ParameterError(
            f"The parameters cell is not valid Python: {exc}", file=str(notebook)
        ) from None
    params: dict[str, Parameter] = {}
    for node in tree.body:
        ok = isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        try:
            default = ast.literal_eval(node.value) if ok and node.value else None
        except ValueError:
            ok = False
        if not ok or node.value is None:
            raise ParameterError(
                f"Line {node.lineno} of the parameters cell is "
                f"'{ast.get_source_segment(source, node)}'; expected "
                "`name: type = literal  # help`. Derive values in the next cell.",
                file=str(notebook),
            )
        name = node.target.id
        params[name] = Parameter(
            name, ast.unparse(node.annotation), default, comments.get(node.lineno, "")
        )
    return params


def _type_ok(value: object, annotation: str) -> bool:
    for option in (a.strip() for a in annotation.split("|")):
        base, _, inner = option.partition("[")
        if option == "None" and value is None:
            return True
        if base == "bool" and isinstance(value, bool):
            return True
        if base == "int" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if (
            base == "float"
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            return True
        if base == "str" and isinstance(value, str):
            return True
        if base == "dict" and isinstance(value, dict):
            return True
        if base == "list" and isinstance(value, list):
            return not inner or all(_type_ok(v, inner.rstrip("]")) for v in value)
        if base not in ("None", "bool", "int", "float", "str", "dict", "list"):
            return True
    return False


def validate_parameters(
    notebook: str | Path | Mapping[str, Parameter], values: Mapping[str, object]
) -> None:
    """Check parameter names and types against a notebook's parameters cell.

    papermill only warns about unknown names and casts nothing, so this runs
    before any kernel starts.

    Args:
        notebook: A notebook path, or its parsed parameters.
        values: The parameters to pass.

    Raises:
        ParameterError: Naming the unknown or mistyped parameter and listing the
            valid ones.

    Example:
        >>> from rehab_analytics.batch.run import NOTEBOOKS_DIR
        >>> nb = NOTEBOOKS_DIR / "subproject_report.ipynb"
        >>> validate_parameters(nb, {"lang": "en"})
        >>> validate_parameters(nb, {"langauge": "en"})
        Traceback (most recent call last):
        ...
        rehab_analytics.errors.ParameterError: ...unknown parameter 'langauge'...
    """
    where = None
    if not isinstance(notebook, Mapping):
        where = str(notebook)
        notebook = notebook_parameters(notebook)
    valid = ", ".join(f"{p.name} ({p.type})" for p in notebook.values())
    for name, value in values.items():
        if name not in notebook:
            raise ParameterError(
                f"unknown parameter '{name}'. Valid parameters: {valid}.", file=where
            )
        want = notebook[name].type
        if not _type_ok(value, want):
            raise ParameterError(
                f"parameter '{name}' is {value!r} ({type(value).__name__}); expected "
                f"{want}. Valid parameters: {valid}.",
                file=where,
            )


def parse_value(text: str, annotation: str) -> object:
    """Read a command-line value (papermill's ``-p NAME VALUE``) for a declared type.

    papermill's rules first (``True``, ``False``, ``None``, an int, a float, else the
    text); then the text itself where the type takes a string (``-p fail_on 3`` for a
    ``str``), ``true``/``false`` for a ``bool``, and a Python or JSON literal for a
    ``list`` or ``dict``. The result may still not fit: :func:`validate_parameters`
    says so.

    Example:
        >>> parse_value("False", "bool"), parse_value("3", "str"), parse_value("3", "int")
        (False, '3', 3)
        >>> parse_value('["a", "b"]', "list[str]"), parse_value("no", "bool")
        (['a', 'b'], 'no')
    """
    value: object = text
    if text in ("True", "False", "None"):
        value = {"True": True, "False": False, "None": None}[text]
    else:
        for kind in (int, float):
            try:
                value = kind(text)
                break
            except ValueError:
                continue
    if _type_ok(value, annotation):
        return value
    options = [a.strip().partition("[")[0] for a in annotation.split("|")]
    if "bool" in options and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "list" in options or "dict" in options:
        for read in (json.loads, ast.literal_eval):
            try:
                literal = read(text.strip())
            except (ValueError, SyntaxError):
                continue
            if isinstance(literal, list | dict):
                return literal
    return text if _type_ok(text, annotation) else value


def _check_date(name: str, value: object) -> date:
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ParameterError(
        f"{name.replace('_', '-')} is {value!r}; expected a date as YYYY-MM-DD, "
        "e.g. 2016-01-01."
    )


def tertial_span(first: date, last: date) -> tuple[str, str]:
    """Return the whole tertials (Jan–Apr, May–Aug, Sep–Dec) from ``first`` to ``last``.

    Example:
        >>> tertial_span(date(2015, 10, 5), date(2020, 3, 1))
        ('2015-09-01', '2020-04-30')
    """
    start_month = (first.month - 1) // 4 * 4 + 1
    end_month = (last.month - 1) // 4 * 4 + 4
    following = date(last.year + end_month // 12, end_month % 12 + 1, 1)
    end = date.fromordinal(following.toordinal() - 1)
    return date(first.year, start_month, 1).isoformat(), end.isoformat()


def default_period(processed_dir: str | Path) -> tuple[str, str] | None:
    """Return the default report period: the span of the data in whole tertials.

    From the tertial of the first start date to the tertial of the last start or
    end date of the clean participants; None when there are no episodes (or no
    participants table: the batch reports that).

    Raises:
        InputFileError: If the participants table is missing or unreadable.

    Example:
        >>> default_period  # doctest: +ELLIPSIS
        <function default_period at ...>
    """
    import pandas as pd

    from rehab_analytics.errors import InputFileError
    from rehab_analytics.processed import OUTPUT_FILES

    path = Path(processed_dir) / OUTPUT_FILES["participants"]
    if not path.is_file():
        return None  # the batch says what is missing
    try:
        dates = pd.read_parquet(path, columns=["start_date", "end_date"])
    except (OSError, ValueError, KeyError) as exc:
        raise InputFileError(
            f"cannot read the start and end dates ({type(exc).__name__}). Run "
            "`rehab-analytics clean` first, or give --period-start and --period-end.",
            file=str(path),
        ) from None
    starts = pd.to_datetime(dates["start_date"]).dropna()
    if starts.empty:
        return None
    last = pd.concat([starts, pd.to_datetime(dates["end_date"]).dropna()]).max()
    return tertial_span(starts.min().date(), last.date())
