"""The bench's figures: targets, medians and ratios, the result table and the JSON record."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "TARGETS",
    "Target",
    "median",
    "ratio",
    "compute_figures",
    "evaluate",
    "format_table",
    "bench_record",
    "cpu_ratios",
]


@dataclass(frozen=True)
class Target:
    """A figure's target: ``value`` compared with ``op`` ("<=" or ">=")."""

    op: str
    value: float
    note: str = ""

    def check(self, measured: float | None) -> str:
        """Return "pass", "FAIL" or "n/a" (not measured).

        Example:
            >>> Target("<=", 1.5).check(1.2), Target(">=", 3).check(2.0)
            ('pass', 'FAIL')
        """
        if measured is None:
            return "n/a"
        ok = measured <= self.value if self.op == "<=" else measured >= self.value
        return "pass" if ok else "FAIL"

    def text(self) -> str:
        """Return the target as text, e.g. "<= 1.5"."""
        value = f"{self.value:g}"
        return f"{self.op} {value}{f' {self.note}' if self.note else ''}"


TARGETS: dict[str, Target] = {
    "clean_over_parse": Target("<=", 1.5),
    "naive_over_clean": Target(">=", 3.0),
    "peak_rss_mib": Target("<=", 2048, "(at 500 000)"),
    "jobs_speedup": Target(">=", 1.6, "(2 cores)"),
    "batch_over_inprocess": Target("<=", 1.5, "(aim)"),
    "rerun_over_full": Target("<=", 0.05),
}

# Figure → (label, unit) in table order.
_LABELS: dict[str, tuple[str, str]] = {
    "episodes": ("episodes (clean participant rows)", ""),
    "parse_s": ("plain parse, in-process", "s"),
    "clean_s": ("clean (run_clean), in-process", "s"),
    "naive_s": ("naive pandas read, in-process", "s"),
    "clean_over_parse": ("clean ÷ plain parse", "×"),
    "naive_over_clean": ("naive pandas read ÷ clean", "×"),
    "clean_rows_per_s": ("clean rows per second", "rows/s"),
    "clean_cli_s": ("`rehab-analytics clean`, fresh process", "s"),
    "parse_cli_s": ("plain parse, fresh process", "s"),
    "clean_cli_over_parse_cli": ("clean ÷ parse, fresh processes", "×"),
    "peak_rss_mib": ("peak memory of `clean`, all processes (PSS)", "MiB"),
    "batch_jobs1_s": ("report batch --jobs 1 --force", "s"),
    "batch_jobsn_s": ("report batch --jobs <cores> --force", "s"),
    "batch_rerun_s": ("report batch, nothing changed", "s"),
    "inprocess_s": ("notebook code cells, one process", "s"),
    "jobs_speedup": ("batch speed-up, --jobs <cores>", "×"),
    "batch_over_inprocess": ("batch (--jobs <cores>) ÷ in-process code", "×"),
    "batch_jobs1_over_inprocess": ("batch --jobs 1 ÷ in-process code", "×"),
    "rerun_over_full": ("unchanged re-run ÷ full batch", "×"),
}


def median(values: Sequence[float]) -> float:
    """Return the median of timings.

    Raises:
        ValueError: If there are no values.

    Example:
        >>> median([3.0, 1.0, 2.0]), median([1.0, 2.0])
        (2.0, 1.5)
    """
    if not values:
        raise ValueError("no timings to take the median of; expected at least one run.")
    return float(statistics.median(values))


def ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float | None:
    """Return median(numerator) ÷ median(denominator); None if either is missing.

    Example:
        >>> ratio([2.0, 4.0, 3.0], [1.0, 1.0, 2.0])
        3.0
        >>> ratio([], [1.0]) is None
        True
    """
    if not numerator or not denominator:
        return None
    below = median(denominator)
    return median(numerator) / below if below > 0 else None


def compute_figures(
    timings: Mapping[str, Sequence[float]],
    *,
    episodes: int | None,
    peak_rss_mib: float | None,
) -> dict[str, float | int | None]:
    """Turn the raw timings into the reported figures (None where not measured).

    Timing names: ``parse``, ``clean``, ``naive`` (in-process), ``clean_cli``,
    ``parse_cli`` (fresh processes), ``batch_jobs1``, ``batch_jobsn``,
    ``batch_rerun``, ``inprocess`` (the batch phase).

    Example:
        >>> f = compute_figures({"parse": [1.0, 1.0, 1.0], "clean": [1.2, 1.3, 1.4]},
        ...                     episodes=130, peak_rss_mib=None)
        >>> round(f["clean_over_parse"], 3), f["clean_rows_per_s"], f["jobs_speedup"]
        (1.3, 100.0, None)
    """

    def med(name: str) -> float | None:
        values = timings.get(name) or []
        return median(values) if values else None

    def get(name: str) -> Sequence[float]:
        return timings.get(name) or []

    clean = med("clean")
    return {
        "episodes": episodes,
        "parse_s": med("parse"),
        "clean_s": clean,
        "naive_s": med("naive"),
        "clean_over_parse": ratio(get("clean"), get("parse")),
        "naive_over_clean": ratio(get("naive"), get("clean")),
        "clean_rows_per_s": (episodes / clean)
        if clean and episodes is not None
        else None,
        "clean_cli_s": med("clean_cli"),
        "parse_cli_s": med("parse_cli"),
        "clean_cli_over_parse_cli": ratio(get("clean_cli"), get("parse_cli")),
        "peak_rss_mib": peak_rss_mib,
        "batch_jobs1_s": med("batch_jobs1"),
        "batch_jobsn_s": med("batch_jobsn"),
        "batch_rerun_s": med("batch_rerun"),
        "inprocess_s": med("inprocess"),
        "jobs_speedup": ratio(get("batch_jobs1"), get("batch_jobsn")),
        # The batch as it runs by default (kernels side by side) against the same
        # code in one process; with one job it shows the kernels' cost alone.
        "batch_over_inprocess": ratio(get("batch_jobsn"), get("inprocess")),
        "batch_jobs1_over_inprocess": ratio(get("batch_jobs1"), get("inprocess")),
        "rerun_over_full": ratio(get("batch_rerun"), get("batch_jobsn")),
    }


def evaluate(
    figures: Mapping[str, float | int | None],
    targets: Mapping[str, Target] = TARGETS,
) -> list[tuple[str, str, str, str]]:
    """Return table rows (measure, measured value, target, pass/FAIL/n/a).

    Example:
        >>> rows = evaluate({"clean_over_parse": 1.234, "episodes": 10})
        >>> rows[0], rows[1]
        (('episodes (clean participant rows)', '10', '', ''), ('clean ÷ plain parse', '1.23 ×', '<= 1.5', 'pass'))
    """
    rows = []
    for name, (label, unit) in _LABELS.items():
        if name not in figures:
            continue
        value = figures[name]
        if value is None:
            shown = "skipped"
        elif isinstance(value, int):
            shown = f"{value:,}".replace(",", " ")
        elif unit == "rows/s":
            shown = f"{value:,.0f} {unit}".replace(",", " ")
        else:
            shown = f"{value:.2f} {unit}".rstrip()
        target = targets.get(name)
        rows.append(
            (
                label,
                shown,
                target.text() if target else "",
                target.check(value) if target else "",
            )
        )
    return rows


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Return rows as an aligned text table with a header line.

    Example:
        >>> print(format_table([("a", "1 s", "<= 2", "pass")]))
        measure  measured  target  result
        -------  --------  ------  ------
        a        1 s       <= 2    pass
    """
    table = [("measure", "measured", "target", "result"), *rows]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
        for r in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def bench_record(
    figures: Mapping[str, Any],
    timings: Mapping[str, Sequence[float]],
    machine: Mapping[str, Any],
    settings: Mapping[str, Any],
    targets: Mapping[str, Target] = TARGETS,
    cpu: Mapping[str, Sequence[float]] | None = None,
) -> dict[str, Any]:
    """Return the JSON record: figures at the top level, raw timings, targets, machine.

    With ``cpu`` (CPU seconds per run), ``cpu_s`` holds them and ``cpu_ratios``
    the same ratios computed on CPU time (parallel speed-up excluded: it only
    shows in wall time).

    Example:
        >>> rec = bench_record({"clean_over_parse": 1.2}, {"clean": [1.0]}, {"cores": 2}, {})
        >>> rec["clean_over_parse"], rec["timings_s"]["clean"], rec["results"]["clean_over_parse"]
        (1.2, [1.0], 'pass')
    """
    return {
        **figures,
        "timings_s": {name: list(values) for name, values in timings.items()},
        "targets": {name: t.text() for name, t in targets.items()},
        "results": {name: t.check(figures.get(name)) for name, t in targets.items()},
        "machine": dict(machine),
        "settings": dict(settings),
        "cpu_s": {name: list(values) for name, values in (cpu or {}).items()},
        "cpu_ratios": cpu_ratios(cpu or {}),
    }


def cpu_ratios(cpu: Mapping[str, Sequence[float]]) -> dict[str, float | None]:
    """Return the time ratios computed on CPU seconds instead of wall time.

    Example:
        >>> cpu_ratios({"clean": [3.0], "parse": [1.0]})["clean_over_parse"]
        3.0
    """
    figures = compute_figures(cpu, episodes=None, peak_rss_mib=None)
    names = (
        "clean_over_parse",
        "naive_over_clean",
        "clean_cli_over_parse_cli",
        "batch_over_inprocess",
        "rerun_over_full",
    )
    return {name: figures[name] for name in names}
