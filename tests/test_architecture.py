"""The package's shape: imports go down the layers, no cycles, no private crossings, short modules."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "rehab_analytics"
MAX_LINES = 600
# Bottom to top. A part may import parts of lower rank only; parts of equal rank are
# siblings that must not import each other.
LAYERS = [
    ["errors", "_version"],
    ["config", "kernel", "background", "atomic", "contract"],
    ["identity", "disclosure", "escape"],
    ["keys"],
    ["sources"],
    ["catalogue"],
    ["processed"],
    ["ingest"],
    ["template"],
    ["clean"],
    ["intake", "sample"],
    ["stats"],
    ["measures"],
    ["tables", "plots", "narrative"],
    ["figures"],
    ["report"],
    ["batch"],
    ["bench", "demo"],
    ["cli"],
    ["__main__"],
]
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path) -> list[tuple[str, str | None]]:
    """Return (imported module, imported name or None) for every import in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            found += [(base, a.name) for a in node.names]
    return [(m, n) for m, n in found if m.split(".")[0] == "rehab_analytics"]


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _target(module: str, name: str | None, modules: dict[str, Path]) -> str:
    """The module an import names (``from pkg import sub`` names the submodule)."""
    return f"{module}.{name}" if f"{module}.{name}" in modules else module


def test_every_part_has_a_layer() -> None:
    """Every top-level module and subpackage is placed in exactly one layer."""
    parts = {_part(m) for m in _modules()} - {"__init__"}
    assert parts - set(RANK) == set()


def test_imports_only_go_down_and_private_names_stay_home() -> None:
    """No part imports a higher or sibling part, nor a private name of another part."""
    modules, problems = _modules(), []
    for name, path in modules.items():
        for module, imported in _imports(name, path):
            target = _target(module, imported, modules)
            mine, theirs = _part(name), _part(target)
            if mine == theirs:
                continue
            if mine != "__init__" and (
                theirs == "__init__" or RANK[theirs] >= RANK[mine]
            ):
                problems.append(
                    f"{name} imports {target} ({mine} may not use {theirs})"
                )
            if (
                imported
                and imported[0] == "_"
                and imported[:2] != "__"
                and target == module
            ):
                problems.append(f"{name} imports private {module}.{imported}")
    assert problems == []


def test_no_import_cycles() -> None:
    """No module reaches itself through imports, through a package's ``__init__`` included."""
    modules = _modules()
    graph = {
        name: {_target(m, n, modules) for m, n in _imports(name, path)} & modules.keys()
        for name, path in modules.items()
    }
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_no_module_is_longer_than_600_lines() -> None:
    """Every module stays under the house limit (split it into a subpackage first)."""
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
