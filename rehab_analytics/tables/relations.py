"""What ties the cells of different tables together, as the intruder knows it.

Within one table the margins say which groups add up (``suppress(margins=…)``);
across tables the same count has the same cell key. What remains are
identities between *different* counts, stated here once:

* work or studies lies between the larger of work and studies and their sum;
* enrolled = identified + anonymous;
* the drop-out outcome: its events are the exits for drop-out, its n the exits
  with a known reason;
* occupation after: "employed" and "studying" after are the work and studies
  outcomes' events; their n are the exits with a known occupation after;
* the ESF age bands are sums of the age pyramid's groups (under 25 = 16–24;
  25–54 and over 54 together = 25 and over);
* a count never exceeds its denominator.

Every relation is checked against the true values before it is used: one
that does not hold is a declaration bug and raises.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from rehab_analytics.disclosure.audit import Relation
from rehab_analytics.disclosure.cells import make_key, parse_key

__all__ = ["relations"]

_WOS = "work_or_study_after"
# ESF band → the pyramid's age groups that make it up (the pyramid starts at 16)
_BANDS = {
    ("under_25",): ("16-24",),
    ("25_54", "over_54"): ("25-29", "30-39", "40-49", "50+"),
    ("unknown",): ("unknown",),
}


def _index(cells: list[tuple[str, str, dict]]) -> dict[tuple[str, frozenset], str]:
    return {(family, frozenset(dims.items())): key for key, family, dims in cells}


def _key(index, family: str, dims: Mapping[str, str]) -> str | None:
    return index.get((family, frozenset(dims.items())))


def _union(index, cells) -> list[Relation]:
    out = []
    for key, family, dims in cells:
        if family != "outcome.events" or dims.get("outcome") != _WOS:
            continue
        parts = [
            _key(index, family, {**dims, "outcome": o})
            for o in ("employed_after", "studying_after")
        ]
        for part in [p for p in parts if p]:
            out.append(Relation(f"{key} ≥ {part}", {key: 1, part: -1}, ">="))
        if all(parts):
            out.append(
                Relation(
                    f"{key} ≤ {parts[0]} + {parts[1]}",
                    {key: 1, parts[0]: -1, parts[1]: -1},
                    "<=",
                )
            )
    return out


def _goal(index, cells) -> list[Relation]:
    out = []
    for key, family, dims in cells:
        if family != "enrolled":
            continue
        valid = _key(index, "valid", dims)
        anonymous = _key(index, "anonymous", dims)
        if valid and anonymous:
            out.append(
                Relation(
                    f"{key} = identified + anonymous",
                    {key: 1, valid: -1, anonymous: -1},
                    "==",
                )
            )
    return out


def _exits(index, cells) -> list[Relation]:
    out = []
    for key, family, dims in cells:
        if family != "exits" or "exit_reason" in dims or "sex" in dims:
            continue
        base = dict(dims)
        dropped = _key(index, "exits", {**base, "exit_reason": "dropped_out"})
        unknown = _key(index, "exits", {**base, "exit_reason": "unknown"})
        unknown_after = _key(
            index, "occupation.after", {**base, "occupation": "unknown"}
        )
        n = _key(index, "outcome.n", {**base, "outcome": "dropped_out"})
        events = _key(index, "outcome.events", {**base, "outcome": "dropped_out"})
        if dropped and events:
            out.append(
                Relation(f"{events} = {dropped}", {events: 1, dropped: -1}, "==")
            )
        if n:
            coefs = {n: 1, key: -1, **({unknown: 1} if unknown else {})}
            out.append(Relation(f"{n} = {key} − unknown reason", coefs, "=="))
        for occupation, outcome in (
            ("employed", "employed_after"),
            ("studying", "studying_after"),
        ):
            after = _key(index, "occupation.after", {**base, "occupation": occupation})
            ev = _key(index, "outcome.events", {**base, "outcome": outcome})
            if after and ev:
                out.append(Relation(f"{ev} = {after}", {ev: 1, after: -1}, "=="))
            n_out = _key(index, "outcome.n", {**base, "outcome": outcome})
            if n_out:
                coefs = {
                    n_out: 1,
                    key: -1,
                    **({unknown_after: 1} if unknown_after else {}),
                }
                out.append(
                    Relation(f"{n_out} = {key} − unknown occupation", coefs, "==")
                )
    return out


def _bands(index, cells, keys: set[str]) -> list[Relation]:
    out = []
    groups: dict[tuple, dict[str, str]] = defaultdict(dict)
    for key, family, dims in cells:
        if family == "valid" and "age_group" in dims:
            rest = frozenset((k, v) for k, v in dims.items() if k != "age_group")
            groups[rest][dims["age_group"]] = key
    for _, family, dims in cells:
        if family != "valid" or "age_band_esf" not in dims:
            continue
        if dims["age_band_esf"] not in ("under_25", "25_54", "unknown"):
            continue
        rest = frozenset((k, v) for k, v in dims.items() if k != "age_band_esf")
        pyramid = groups.get(rest, {})
        for bands, ages in _BANDS.items():
            if dims["age_band_esf"] != bands[0]:
                continue
            esf = [make_key("valid", {**dict(rest), "age_band_esf": b}) for b in bands]
            esf = [k for k in esf if k in keys]
            ages_keys = [pyramid.get(a) for a in ages]
            if len(esf) != len(bands) or not all(ages_keys):
                continue
            coefs = {**{k: 1.0 for k in esf}, **{k: -1.0 for k in ages_keys}}
            out.append(Relation(f"ESF bands {'+'.join(bands)} = age groups", coefs))
    return out


def relations(
    keys: Iterable[str],
    pairs: Iterable[tuple[str, str]] = (),
    values: Mapping[str, float] | None = None,
) -> list[Relation]:
    """Relations between the cells ``keys`` of a run (see the module docstring).

    Args:
        keys: Every cell key of the run.
        pairs: (count, denominator) keys of one row (a count ≤ its denominator).
        values: True values, to check every relation (a failing one raises).

    Returns:
        The relations, each named for messages.

    Raises:
        ValueError: A relation does not hold for ``values`` (a declaration bug).

    Example:
        >>> k = ["outcome.events|outcome=work_or_study_after|subproject=a",
        ...      "outcome.events|outcome=employed_after|subproject=a"]
        >>> [r.sense for r in relations(k)]
        ['>=']
    """
    keys = set(keys)
    cells = [(key, *parse_key(key)) for key in sorted(keys)]
    index = _index(cells)
    out = [*_union(index, cells), *_goal(index, cells), *_exits(index, cells)]
    out += _bands(index, cells, keys)
    for count, denominator in sorted(set(pairs)):
        if count in keys and denominator in keys and count != denominator:
            out.append(
                Relation(f"{count} ≤ {denominator}", {count: 1, denominator: -1}, "<=")
            )
    if values is not None:
        wrong = [
            r.name
            for r in out
            if all(k in values for k in r.coefs) and not r.holds(values)
        ]
        if wrong:
            raise ValueError(
                f"{len(wrong)} relation(s) do not hold for the data, e.g. "
                f"{wrong[0]}; fix the cell declaration in rehab_analytics.tables."
            )
    return out
