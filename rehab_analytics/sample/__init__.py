"""Synthetic raw deliveries from the six förbund, with known faults and the truth."""

from __future__ import annotations

from rehab_analytics.sample.deliveries import (
    GENERATOR_VERSION,
    MARKER,
    RawTable,
    SampleData,
    SampleResult,
    generate,
    write_sample,
)

__all__ = [
    "GENERATOR_VERSION",
    "MARKER",
    "RawTable",
    "SampleData",
    "SampleResult",
    "generate",
    "write_sample",
]
