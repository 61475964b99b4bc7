"""Plain-language sentences from the statistics, in Swedish or English.

Every sentence is built from catalogue text (``config/catalogue.toml``, keys under
``narrative.*`` and ``report.*``) and from *published* numbers only: the inputs
are rows of tables that passed :func:`rehab_analytics.disclosure.suppress`, and
a hidden value (``<NA>``) gives a sentence saying it is not shown, never a
number. Differences are called real only on the adjusted evidence: the case-mix
O/E interval (when case mix is on) or the Holm-adjusted p-value of the
comparison with the other units; units are never ranked on crude shares.

The sentence functions return plain text (names as the catalogue or the
organisation registry gives them), for chart titles, slides and HTML, which
escape them on the way out. The functions returning :class:`Text` (a ``str``
that Jupyter shows as Markdown: :func:`title`, :func:`paragraph`,
:func:`bullets` and the summaries built on it) escape every value from outside
once, with :func:`rehab_analytics.escape.markdown`, so a report notebook can
display a heading or a summary in one short line.

This module is the one to import. The building blocks live in
:mod:`~rehab_analytics.narrative.text`, the sentences on outcomes and comparisons
in :mod:`~rehab_analytics.narrative.outcomes`, on time, steps, enrolment and
costs in :mod:`~rehab_analytics.narrative.programme`, and the chart takeaways in
:mod:`~rehab_analytics.narrative.charts`; all are re-exported here.
"""

from __future__ import annotations

from rehab_analytics.narrative.charts import (
    changes_sentence,
    cost_range_sentence,
    esf_sentence,
    exit_sentence,
    mcnemar_overview,
    occupation_sentence,
    sex_sentence,
    shares_sentence,
    spc_sentence,
    step_range_sentence,
    step_title,
    time_range_sentence,
    time_title,
    trend_sentence,
)
from rehab_analytics.narrative.outcomes import (
    casemix_sentence,
    comparison_sentence,
    comparison_summary,
    funnel_sentence,
    mcnemar_sentence,
    outcome_sentence,
)
from rehab_analytics.narrative.programme import (
    caveats,
    cost_sentence,
    enrolment_sentence,
    source_notes,
    step_sentence,
    time_sentence,
)
from rehab_analytics.narrative.text import (
    SIGNIFICANCE,
    SMALL_UNIT,
    Text,
    bullets,
    coarse_p,
    heading,
    paragraph,
    share_with_interval,
    title,
)

__all__ = [
    "Text",
    "SIGNIFICANCE",
    "SMALL_UNIT",
    "heading",
    "title",
    "paragraph",
    "bullets",
    "coarse_p",
    "share_with_interval",
    "outcome_sentence",
    "comparison_sentence",
    "comparison_summary",
    "funnel_sentence",
    "casemix_sentence",
    "mcnemar_sentence",
    "time_sentence",
    "step_sentence",
    "enrolment_sentence",
    "cost_sentence",
    "caveats",
    "source_notes",
    "shares_sentence",
    "trend_sentence",
    "spc_sentence",
    "cost_range_sentence",
    "mcnemar_overview",
    "occupation_sentence",
    "exit_sentence",
    "time_title",
    "time_range_sentence",
    "step_title",
    "step_range_sentence",
    "sex_sentence",
    "esf_sentence",
    "changes_sentence",
]
