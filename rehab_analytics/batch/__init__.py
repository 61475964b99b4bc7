"""The report batch: plan, run the notebooks with papermill, assemble the run."""

from __future__ import annotations

from rehab_analytics.batch.run import (
    Parameter,
    JobResult,
    BatchResult,
    NOTEBOOKS_DIR,
    notebook_parameters,
    validate_parameters,
    run_batch,
)

__all__ = [
    "Parameter",
    "JobResult",
    "BatchResult",
    "NOTEBOOKS_DIR",
    "notebook_parameters",
    "validate_parameters",
    "run_batch",
]
