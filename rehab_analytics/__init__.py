"""rehab-analytics: clean, pseudonymise and compare the six subprojects' outcome data.

The pipeline has one module per stage: ``read`` → ``clean`` → ``validate`` →
``measures`` → ``plots`` → ``report``. Notebooks call :func:`load` to get the
processed tables.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load"]


def load(processed_dir=None, *, lang: str = "sv"):
    """Load the processed tables (see :func:`rehab_analytics.pipeline.load`)."""
    from rehab_analytics.pipeline import load as _load

    return _load(processed_dir, lang=lang)
