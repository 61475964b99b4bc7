"""Charts for slides and reports: the house style and one function per chart.

Every chart function takes a publishable table (passed through
:func:`rehab_analytics.disclosure.suppress`), draws on ``ax`` (a new figure at
slide size when ``None``) and returns the Axes; it never saves or shows. All
visible text comes from the catalogue in ``lang`` ("sv" or "en"). Use
:func:`slide_style` around drawing and :func:`rehab_analytics.report.deck.save_for_slides`
to save; :func:`theme` (the same theme, as seaborn's) or
``sns.set_theme(**theme_kwargs())`` gives an analyst's own seaborn chart the
house look. The theme is in :mod:`~rehab_analytics.plots.style`, the shared chart
furniture in :mod:`~rehab_analytics.plots.furniture`; enrolment and costs in
:mod:`~rehab_analytics.plots.volume`, comparisons in
:mod:`~rehab_analytics.plots.compare`, trends and SPC in
:mod:`~rehab_analytics.plots.trends`, before/after and exits in
:mod:`~rehab_analytics.plots.outcomes`, time, steps and who takes part in
:mod:`~rehab_analytics.plots.people`.
"""

from __future__ import annotations

from rehab_analytics.catalogue import format_period
from rehab_analytics.plots.compare import (
    casemix_chart,
    funnel_chart,
    outcome_shares_chart,
)
from rehab_analytics.plots.outcomes import (
    exit_reasons_chart,
    income_transition_chart,
    occupation_chart,
)
from rehab_analytics.plots.people import (
    age_sex_chart,
    esf_by_sex_chart,
    step_change_chart,
    time_in_programme_chart,
)
from rehab_analytics.plots.style import (
    FIGSIZES,
    OKABE_ITO,
    TOTAL,
    forbund_colours,
    new_figure,
    number_formatter,
    share_formatter,
    slide_style,
    subproject_colours,
    theme,
    theme_kwargs,
    unit_markers,
)
from rehab_analytics.plots.trends import (
    SPC_MIN_POINTS,
    spc_chart,
    trend_chart,
    xmr_limits,
)
from rehab_analytics.plots.volume import cost_chart, enrolment_chart

__all__ = [
    "FIGSIZES",
    "OKABE_ITO",
    "TOTAL",
    "theme",
    "theme_kwargs",
    "slide_style",
    "new_figure",
    "subproject_colours",
    "forbund_colours",
    "unit_markers",
    "share_formatter",
    "number_formatter",
    "format_period",
    "SPC_MIN_POINTS",
    "xmr_limits",
    "enrolment_chart",
    "outcome_shares_chart",
    "funnel_chart",
    "casemix_chart",
    "trend_chart",
    "spc_chart",
    "cost_chart",
    "income_transition_chart",
    "occupation_chart",
    "exit_reasons_chart",
    "time_in_programme_chart",
    "step_change_chart",
    "age_sex_chart",
    "esf_by_sex_chart",
]
