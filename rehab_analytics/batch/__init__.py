"""The report batch: plan, run the notebooks with papermill, assemble the run."""

from __future__ import annotations

from rehab_analytics.batch.run import (
    NOTEBOOKS_DIR,
    BatchResult,
    JobResult,
    Parameter,
    command_line_parameters,
    notebook_parameters,
    run_batch,
    validate_parameters,
)

__all__ = [
    "Parameter",
    "JobResult",
    "BatchResult",
    "NOTEBOOKS_DIR",
    "notebook_parameters",
    "validate_parameters",
    "command_line_parameters",
    "run_batch",
]
