"""Benchmark: cleaning speed and memory and the report batch, against targets."""

from __future__ import annotations

from rehab_analytics.bench.figures import (
    TARGETS,
    Target,
    bench_record,
    compute_figures,
    cpu_ratios,
    evaluate,
    format_table,
    median,
    ratio,
)
from rehab_analytics.bench.measure import (
    cpu_seconds,
    interleave,
    machine_info,
    write_json_atomic,
)
from rehab_analytics.bench.parse import (
    ParseItem,
    naive_parse,
    parse_plan,
    plain_parse,
)
from rehab_analytics.bench.run import main, run_bench

__all__ = [
    "TARGETS",
    "Target",
    "ParseItem",
    "parse_plan",
    "plain_parse",
    "naive_parse",
    "median",
    "cpu_seconds",
    "interleave",
    "ratio",
    "compute_figures",
    "evaluate",
    "format_table",
    "bench_record",
    "cpu_ratios",
    "write_json_atomic",
    "machine_info",
    "run_bench",
    "main",
]
