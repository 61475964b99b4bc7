"""The intruder's attack: what every hidden cell can still be, given all that is shown.

The intruder holds every output of a run. Hidden cells are unknown whole
numbers ≥ 0 (one marker for all of them, so nothing says which are small);
every shown cell is a known number; :class:`Relation` s tie cells together
(a group adds up to its total, work or studies lies between the larger of
work and studies and their sum, …). For every hidden cell an integer
programme (scipy's ``milp``, HiGHS) finds the smallest and largest value
consistent with all of it. A cell is protected when

* a small (primary) cell can still be 1 and as many values as 1 … threshold−1
  holds (every value 1 … threshold−1 when its group allows), and
* no hidden cell is determined exactly,

and a sensitive difference (``n − events`` of 1 … threshold−1: "2 of 50 are
not in work") can still be every value 1 … threshold−1.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "AuditResult",
    "Finding",
    "Relation",
    "Sensitive",
    "attack",
]

# Cells are counts of people: far below this, and it keeps the programmes bounded.
_BIG = 10_000_000.0


@dataclass(frozen=True)
class Relation:
    """A linear relation between cells that the intruder knows.

    ``sum(coefs[k] * cell[k]) <sense> rhs`` with ``sense`` one of ``"=="``,
    ``"<="``, ``">="``.

    Example:
        >>> Relation("total", {"a": 1, "b": 1}, "==", 12).holds({"a": 5, "b": 7})
        True
    """

    name: str
    coefs: Mapping[str, float]
    sense: str = "=="
    rhs: float = 0.0

    def holds(self, values: Mapping[str, float]) -> bool:
        """Whether the relation holds for these (true) values."""
        lhs = sum(c * values[k] for k, c in self.coefs.items())
        if self.sense == "==":
            return abs(lhs - self.rhs) < 1e-6
        if self.sense == "<=":
            return lhs <= self.rhs + 1e-6
        return lhs >= self.rhs - 1e-6


@dataclass(frozen=True)
class Sensitive:
    """A difference of cells that must not be known when it is small (a complement).

    Attributes:
        name: What it is, for messages (e.g. ``"n − events of outcome.n|…"``).
        coefs: The difference as cell → coefficient (``{n: 1, events: -1}``).
        value: Its true value.
    """

    name: str
    coefs: Mapping[str, float]
    value: float


@dataclass(frozen=True)
class Finding:
    """A hidden cell (or sensitive difference) the attack narrows too far.

    Attributes:
        key: The cell key (or the difference's name).
        low: Smallest value consistent with what is shown.
        high: Largest value consistent with what is shown.
        kind: ``"recovered"`` (low == high) or ``"narrowed"``.
        relations: Names of the relations involved.
    """

    key: str
    low: float
    high: float
    kind: str
    relations: tuple[str, ...] = ()

    def message(self) -> str:
        """One sentence for an error message."""
        shown = "exactly" if self.kind == "recovered" else "narrowed to"
        span = (
            f"{self.low:g}" if self.low == self.high else f"{self.low:g}–{self.high:g}"
        )
        rel = f" through {', '.join(self.relations[:3])}" if self.relations else ""
        return f"hidden cell {self.key} can be worked out {shown} {span}{rel}"


@dataclass
class AuditResult:
    """What the attack found.

    Attributes:
        hidden_cells: Hidden cells in the model.
        attacked_cells: Hidden cells and sensitive differences attacked by the solver.
        recoverable_cells: Hidden cells determined exactly.
        narrowed_cells: Small cells (or differences) narrowed below 1 … threshold−1.
        findings: One :class:`Finding` per failing cell.
        ranges: key → (low, high) for every attacked cell.
        seconds: Solver time.
        programmes: Integer programmes solved.
    """

    hidden_cells: int = 0
    attacked_cells: int = 0
    recoverable_cells: int = 0
    narrowed_cells: int = 0
    findings: list[Finding] = field(default_factory=list)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    seconds: float = 0.0
    programmes: int = 0

    @property
    def ok(self) -> bool:
        """No hidden cell recovered or narrowed."""
        return not self.findings

    def summary(self) -> dict[str, object]:
        """The figures for ``manifest.json``."""
        return {
            "hidden_cells": self.hidden_cells,
            "attacked_cells": self.attacked_cells,
            "recoverable_cells": self.recoverable_cells,
            "narrowed_cells": self.narrowed_cells,
            "solver_seconds": round(self.seconds, 3),
            "programmes": self.programmes,
        }


class _Components:
    """Union–find over variable indices."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, items: Sequence[int]) -> None:
        if not items:
            return
        root = self.find(items[0])
        for j in items[1:]:
            self.parent[self.find(j)] = root


def _bounds(c, A, lo, hi, integral: bool):
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(c)
    constraints = [LinearConstraint(A, lo, hi)] if A.shape[0] else []
    result = milp(
        c,
        integrality=np.ones(n) if integral else np.zeros(n),
        bounds=Bounds(np.zeros(n), np.full(n, _BIG)),
        constraints=constraints,
        options={"presolve": True},
    )
    if result.status == 2:  # infeasible: a relation does not hold for the data
        raise ValueError("the relations contradict the shown values (infeasible)")
    if result.x is None:
        return None
    return float(np.dot(c, result.x))


def attack(
    values: Mapping[str, float | None],
    relations: Iterable[Relation],
    threshold: int,
    *,
    primary: Iterable[str] = (),
    sensitive: Iterable[Sensitive] = (),
    only: Iterable[str] | None = None,
    integral: bool = True,
) -> AuditResult:
    """Attack a set of published cells: the feasible range of every hidden cell.

    Args:
        values: Every cell the intruder knows of: key → shown value, or None
            where hidden. Keys named in ``relations`` but absent here are
            unknown (never published) and free.
        relations: What the intruder knows ties cells together.
        threshold: Smallest count that may be shown.
        primary: Keys of hidden cells that are small (the auditor knows).
        sensitive: Differences that are small and must stay uncertain.
        only: Attack only the components holding these keys (default all).
        integral: Whole-number programmes (the attack); False solves the
            linear relaxation, whose range is never narrower (a fast search).

    Returns:
        The :class:`AuditResult`.

    Example:
        >>> shown = {"a": None, "b": None, "c": 12}
        >>> total = Relation("a+b+c=13", {"a": 1, "b": 1, "c": 1}, "==", 13)
        >>> attack(shown, [total], 5, primary=["a"]).ok
        False
        >>> attack({"a": None, "b": None, "c": None}, [total], 5, primary=["a"]).ok
        True
    """
    started = time.perf_counter()
    relations = list(relations)
    primary = set(primary)
    sensitive = list(sensitive)
    hidden = [k for k, v in values.items() if v is None]
    unknown = {k for r in relations for k in r.coefs if k not in values}
    names = sorted(set(hidden) | unknown)
    index = {k: i for i, k in enumerate(names)}
    comps = _Components(len(names))
    rows: list[tuple[dict[int, float], float, float, str]] = []
    for rel in relations:
        coefs: dict[int, float] = {}
        const = 0.0
        for key, coef in rel.coefs.items():
            if key in index:
                coefs[index[key]] = coefs.get(index[key], 0.0) + float(coef)
            else:
                const += float(coef) * float(values[key])
        coefs = {i: c for i, c in coefs.items() if c != 0}
        rhs = float(rel.rhs) - const
        if not coefs:
            continue
        lo, hi = {"==": (rhs, rhs), "<=": (-np.inf, rhs), ">=": (rhs, np.inf)}[
            rel.sense
        ]
        rows.append((coefs, lo, hi, rel.name))
        comps.join(list(coefs))
    for s in sensitive:
        comps.join([index[k] for k in s.coefs if k in index])
    groups: dict[int, list[int]] = {}
    for i in range(len(names)):
        groups.setdefault(comps.find(i), []).append(i)
    wanted = None if only is None else {index[k] for k in only if k in index}
    result = AuditResult(hidden_cells=len(hidden))
    rel_names: dict[int, list[str]] = {}
    for coefs, _, _, name in rows:
        for i in coefs:
            rel_names.setdefault(i, []).append(name)
    for members in groups.values():
        if wanted is not None and not wanted & set(members):
            continue
        local = {g: j for j, g in enumerate(members)}
        block = [
            r for r in rows if comps.find(next(iter(r[0]))) == comps.find(members[0])
        ]
        A = np.zeros((len(block), len(members)))
        lo = np.empty(len(block))
        hi = np.empty(len(block))
        for r, (coefs, low, high, _) in enumerate(block):
            for i, c in coefs.items():
                A[r, local[i]] = c
            lo[r], hi[r] = low, high
        targets: list[tuple[str, np.ndarray, float, bool]] = []
        for g in members:
            if names[g] in unknown:
                continue
            c = np.zeros(len(members))
            c[local[g]] = 1.0
            targets.append((names[g], c, 0.0, names[g] in primary))
        for s in sensitive:
            idx = [index[k] for k in s.coefs if k in index]
            if not idx or comps.find(idx[0]) != comps.find(members[0]):
                continue
            c = np.zeros(len(members))
            const = 0.0
            for k, coef in s.coefs.items():
                if k in index:
                    c[local[index[k]]] += coef
                else:
                    const += coef * float(values[k])
            targets.append((s.name, c, const, True))
        for key, c, const, is_primary in targets:
            low = _bounds(c, A, lo, hi, integral)
            high = _bounds(-c, A, lo, hi, integral)
            result.programmes += 2
            low = const + (low if low is not None else 0.0)
            high = const + (-high if high is not None else _BIG)
            result.attacked_cells += 1
            result.ranges[key] = (low, high)
            involved = tuple(
                dict.fromkeys(n for g in members for n in rel_names.get(g, ()))
            )
            if high < 0.5 and not is_primary:
                continue  # a hidden zero known to be zero: no one is revealed
            if high - low < 0.5:
                result.recoverable_cells += 1
                result.findings.append(Finding(key, low, high, "recovered", involved))
            elif is_primary and (
                low > 1.5 or (high < threshold - 1.5 and high - low < threshold - 2.5)
            ):
                result.narrowed_cells += 1
                result.findings.append(Finding(key, low, high, "narrowed", involved))
    # sensitive differences whose every cell is shown: known exactly
    for s in sensitive:
        if any(k in index for k in s.coefs):
            continue
        result.attacked_cells += 1
        result.recoverable_cells += 1
        result.ranges[s.name] = (s.value, s.value)
        result.findings.append(Finding(s.name, s.value, s.value, "recovered"))
    result.seconds = time.perf_counter() - started
    return result
