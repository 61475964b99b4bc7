"""Disclosure control: nothing is published that could reveal a small group.

Every table, chart, slide and HTML page goes through :func:`suppress` first;
writers call :func:`require_publishable` and show values with
:func:`display_values`.
"""

from rehab_analytics.disclosure.pvalues import (
    COARSE_SUFFIX,
    coarse_p_text,
    coarse_p_value,
    coarsen_p,
)
from rehab_analytics.disclosure.table import (
    FLAG_SUFFIX,
    SECONDARY_SUFFIX,
    display_values,
    is_publishable,
    require_publishable,
    suppress,
)

__all__ = [
    "COARSE_SUFFIX",
    "coarse_p_text",
    "coarse_p_value",
    "coarsen_p",
    "FLAG_SUFFIX",
    "SECONDARY_SUFFIX",
    "suppress",
    "is_publishable",
    "require_publishable",
    "display_values",
]
