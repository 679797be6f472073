"""Customer economics: cohorts, retention, LTV, CAC, churn, RFM, segment transitions, funnels.

People, not visits: every function counts distinct customers (after identity stitching),
with online and offline orders in one table, and funnels end at the paid order.

* :mod:`~researchkit.channels.customers.cohorts` — cohorts by first-purchase period or by an
  attribute of the first order (channel, category); retention triangles; revenue per cohort
  and historical LTV;
* :mod:`~researchkit.channels.customers.retention` — shifted-beta-geometric retention
  (Fader & Hardie 2007) and its thinned version for non-contractual buying;
* :mod:`~researchkit.channels.customers.ltv` — historical and projected LTV with intervals;
* :mod:`~researchkit.channels.customers.acquisition` — CAC per channel, LTV/CAC, payback
  period, maximum affordable CAC;
* :mod:`~researchkit.channels.customers.churn` — inactivity-based churn per period;
* :mod:`~researchkit.channels.customers.rfm` — RFM scores (ties share a score) and segments;
* :mod:`~researchkit.channels.customers.transitions` — segment transition matrices and a
  forecast of the customer base (via :mod:`researchkit.markov`);
* :mod:`~researchkit.channels.customers.funnel` — conversion by stage in people;
* :mod:`~researchkit.channels.customers.plots` — figures.
"""

from researchkit.channels.customers.acquisition import acquisition_cost, unit_economics
from researchkit.channels.customers.churn import churn_rates
from researchkit.channels.customers.cohorts import (
    cohort_revenue,
    first_purchases,
    retention_triangle,
)
from researchkit.channels.customers.funnel import funnel
from researchkit.channels.customers.ltv import customer_ltv
from researchkit.channels.customers.plots import (
    plot_funnel,
    plot_ltv_curves,
    plot_retention,
    plot_segment_forecast,
    plot_unit_economics,
)
from researchkit.channels.customers.retention import (
    active_curve,
    fit_active_curve,
    fit_sbg,
    sbg_churn_probability,
    sbg_retention_rate,
    sbg_survival,
)
from researchkit.channels.customers.rfm import (
    RF_SEGMENTS,
    SEGMENT_ORDER,
    rfm_scores,
    rfm_segment,
    score_values,
    segment_summary,
)
from researchkit.channels.customers.transitions import (
    forecast_customer_base,
    segment_transitions,
)

__all__ = [
    "RF_SEGMENTS",
    "SEGMENT_ORDER",
    "acquisition_cost",
    "active_curve",
    "churn_rates",
    "cohort_revenue",
    "customer_ltv",
    "first_purchases",
    "fit_active_curve",
    "fit_sbg",
    "forecast_customer_base",
    "funnel",
    "plot_funnel",
    "plot_ltv_curves",
    "plot_retention",
    "plot_segment_forecast",
    "plot_unit_economics",
    "retention_triangle",
    "rfm_scores",
    "rfm_segment",
    "sbg_churn_probability",
    "sbg_retention_rate",
    "sbg_survival",
    "score_values",
    "segment_summary",
    "segment_transitions",
    "unit_economics",
]
