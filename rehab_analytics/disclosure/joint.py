"""Joint suppression: hide partners until the attack recovers nothing, over all tables at once.

Input is a :class:`~rehab_analytics.disclosure.cells.Recording` of every
table a run publishes (true values, what each table hid, the group totals),
plus the relations between tables. Output: the set of cells to hide in every
table, and the final :class:`~rehab_analytics.disclosure.audit.AuditResult`.
"""

from __future__ import annotations

from collections.abc import Iterable

from rehab_analytics.disclosure.audit import AuditResult, Relation, Sensitive, attack
from rehab_analytics.disclosure.cells import Recording

__all__ = ["margin_relations", "model", "protect"]

# Safety net: each round hides at least one more cell, so this bounds the work.
_MAX_ROUNDS = 2_000


def _total_key(members: frozenset[str], values: dict[str, float]) -> str | None:
    """The cell holding the group's total: same family and dimensions but one."""
    from rehab_analytics.disclosure.cells import make_key, parse_key

    parsed = [parse_key(k) for k in members]
    families = {f for f, _ in parsed}
    if len(families) != 1:
        return None
    common = set.intersection(*(set(d.items()) for _, d in parsed))
    varying = {k for _, d in parsed for k, v in d.items() if (k, v) not in common}
    if len(varying) != 1:
        return None
    key = make_key(next(iter(families)), dict(common))
    return key if key in values and key not in members else None


def margin_relations(rec: Recording) -> list[Relation]:
    """The group totals every table's margins imply.

    A group whose total is itself a cell (the exits of a subproject for its
    exit reasons) adds up to that cell, shown or hidden; a group without one
    adds up to its true total, assumed known to the intruder.

    Example:
        >>> rec = Recording(values={"a": 2, "b": 8}, margins={frozenset("ab"): 10})
        >>> margin_relations(rec)[0].rhs
        10.0
    """
    out = []
    for members, total in sorted(rec.margins.items(), key=lambda m: sorted(m[0])):
        first = min(members)
        coefs = {k: 1.0 for k in sorted(members)}
        key = _total_key(members, rec.values)
        if key is not None and abs(rec.values[key] - total) < 1e-9:
            out.append(
                Relation(
                    f"{key} as the sum of its {len(members)} groups",
                    {**coefs, key: -1.0},
                )
            )
            continue
        out.append(
            Relation(
                f"the total of {len(members)} cells with {first}",
                coefs,
                "==",
                float(total),
            )
        )
    return out


def _sensitive(rec: Recording, threshold: int) -> list[Sensitive]:
    out = []
    for count, denominator in sorted(rec.pairs):
        if count not in rec.values or denominator not in rec.values:
            continue
        value = rec.values[denominator] - rec.values[count]
        if 0 < value < threshold:
            out.append(
                Sensitive(
                    f"{denominator} minus {count}",
                    {count: -1.0, denominator: 1.0},
                    value,
                )
            )
    return out


def model(
    rec: Recording, relations: Iterable[Relation], hidden: set[str], threshold: int
) -> tuple[dict[str, float | None], list[Relation], list[Sensitive]]:
    """What the intruder sees when ``hidden`` is hidden: shown values, relations, differences."""
    values = {k: (None if k in hidden else v) for k, v in rec.values.items()}
    rels = [*margin_relations(rec), *relations]
    return values, rels, _sensitive(rec, threshold)


def _partner(
    finding_keys: list[str],
    rels_of: dict[str, list[Relation]],
    rec: Recording,
    hidden: set[str],
) -> str | None:
    """The cheapest shown cell that shares a relation with the failing cell."""
    candidates: dict[str, int] = {}
    for key in finding_keys:
        if key not in hidden and key in rec.values:
            candidates[key] = 0  # a shown term of a sensitive difference
        for rel in rels_of.get(key, ()):
            for other in rel.coefs:
                if other not in hidden and other in rec.values:
                    candidates.setdefault(other, 1)
    if not candidates:
        return None

    def cost(key: str) -> tuple:
        value = rec.values[key]
        # never a zero (it may be structural and protects nothing), then the cell
        # published least often, then the smallest.
        return (value == 0, candidates[key], rec.tables.get(key, 1), value, key)

    return min(candidates, key=cost)


def protect(
    rec: Recording,
    relations: Iterable[Relation],
    threshold: int,
) -> tuple[set[str], AuditResult]:
    """Hide partners until no hidden cell or small difference can be worked out.

    Starts from every cell some table hid (so a cell hidden in one table is
    hidden in all), attacks the whole set with :func:`attack`, hides for each
    failing cell a partner in one of its relations, and repeats.

    Args:
        rec: The recording of every table.
        relations: Relations between tables (margins are taken from ``rec``).
        threshold: Smallest count that may be shown.

    Returns:
        (cells to hide, the last attack's result).

    Example:
        >>> rec = Recording(values={"a": 2.0, "b": 8.0, "c": 9.0},
        ...                 hidden={"a"}, primary={"a"},
        ...                 margins={frozenset("abc"): 19.0})
        >>> hide, result = protect(rec, [], 5)
        >>> sorted(hide), result.ok
        (['a', 'b'], True)
    """
    relations = list(relations)
    hidden = set(rec.hidden)
    findings: dict[str, object] = {}
    touched: set[str] | None = None  # None: attack everything
    for _ in range(_MAX_ROUNDS):
        values, rels, sensitive = model(rec, relations, hidden, threshold)
        part = attack(
            values,
            rels,
            threshold,
            primary=rec.primary & hidden,
            sensitive=sensitive,
            only=touched,
            integral=False,  # the linear relaxation while searching; whole numbers at the end
        )
        # only the components holding a newly hidden cell were attacked again
        for key in part.ranges:
            findings.pop(key, None)
        findings.update({f.key: f for f in part.findings})
        if not findings:
            break
        rels_of: dict[str, list[Relation]] = {}
        for rel in rels:
            for key in rel.coefs:
                rels_of.setdefault(key, []).append(rel)
        by_name = {s.name: list(s.coefs) for s in sensitive}
        touched = set()
        for finding in findings.values():
            keys = by_name.get(finding.key, [finding.key])
            partner = _partner(keys, rels_of, rec, hidden)
            if partner is None:
                continue
            hidden.add(partner)
            touched |= {partner, *keys}
        if not touched:
            break
    values, rels, sensitive = model(rec, relations, hidden, threshold)
    result = attack(
        values, rels, threshold, primary=rec.primary & hidden, sensitive=sensitive
    )
    return hidden, result
