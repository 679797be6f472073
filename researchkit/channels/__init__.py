"""Channels: what each marketing channel contributes, counted in people, not visits.

* identity stitching, journeys and attribution (modules directly in this package);
* marketing-mix models: ``researchkit.channels.mmm``;
* customer economics (cohorts, LTV, CAC, RFM, churn, funnels): ``researchkit.channels.customers``.
"""
