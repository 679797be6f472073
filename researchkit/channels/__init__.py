"""Channels: what each marketing channel contributes, counted in people, not visits.

* identity stitching, journeys and attribution (modules directly in this package):

  - :mod:`.identifiers` - e-mail and phone (E.164) normalisation;
  - :mod:`.stitching` - records linked into people through shared identifiers;
  - :mod:`.journeys` - touches and conversions (online and offline) cut into journeys;
  - :mod:`.rules` - first/last/last non-direct/linear/position-based/time-decay attribution;
  - :mod:`.attribution_markov` - Markov chains of order 1-4, exact removal effects;
  - :mod:`.shapley` - exact Shapley values over channel coalitions;
  - :mod:`.compare` - all models side by side, assisted conversions, path statistics;
* marketing-mix models: ``researchkit.channels.mmm``;
* customer economics (cohorts, LTV, CAC, RFM, churn, funnels): ``researchkit.channels.customers``.

The public functions below (and the main entry points of ``mmm`` and ``customers``) are
importable from ``researchkit.channels`` directly; modules are loaded on first use.
"""

from __future__ import annotations

from researchkit._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    # identifiers
    "COUNTRY_RULES": "identifiers",
    "normalize_email": "identifiers",
    "normalize_emails": "identifiers",
    "normalize_phone": "identifiers",
    "normalize_phones": "identifiers",
    # stitching
    "Stitching": "stitching",
    "link_events": "stitching",
    "plot_stitching": "stitching",
    "stitch_identities": "stitching",
    # journeys
    "Journeys": "journeys",
    "build_journeys": "journeys",
    "path_table": "journeys",
    "path_table_sql": "_queries",
    # models
    "RULES": "rules",
    "rule_based_attribution": "rules",
    "MarkovAttribution": "attribution_markov",
    "markov_attribution": "attribution_markov",
    "shapley_attribution": "shapley",
    "shapley_values": "shapley",
    # comparison
    "ModelComparison": "compare",
    "assisted_conversions": "compare",
    "compare_models": "compare",
    "path_length_distribution": "compare",
    "plot_model_comparison": "compare",
    "plot_path_lengths": "compare",
    "time_to_conversion": "compare",
    "top_paths": "compare",
    # marketing-mix models (researchkit.channels.mmm)
    "fit_mmm": "mmm",
    "optimize_budget": "mmm",
    "response_curves": "mmm",
    # customer economics (researchkit.channels.customers)
    "acquisition_cost": "customers",
    "churn_rates": "customers",
    "cohort_revenue": "customers",
    "customer_ltv": "customers",
    "first_purchases": "customers",
    "fit_sbg": "customers",
    "forecast_customer_base": "customers",
    "funnel": "customers",
    "retention_triangle": "customers",
    "rfm_scores": "customers",
    "segment_transitions": "customers",
    "unit_economics": "customers",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
