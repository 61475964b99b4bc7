"""Benchmark: cleaning speed and memory and the report batch, against targets."""

from __future__ import annotations

from rehab_analytics.bench.core import (
    TARGETS,
    Target,
    ParseItem,
    parse_plan,
    plain_parse,
    naive_parse,
    median,
    cpu_seconds,
    interleave,
    ratio,
    compute_figures,
    evaluate,
    format_table,
    bench_record,
    cpu_ratios,
    write_json_atomic,
    machine_info,
    run_bench,
    main,
)

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
