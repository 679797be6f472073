"""Experiments: A/B test design and analysis, and causal designs for campaigns.

* A/B tests (modules directly in this package): sample size and power, assignment, sample-ratio
  checks, frequentist, Bayesian and sequential analysis on sufficient statistics.
* Causal designs for campaigns that could not be randomised: ``researchkit.experiments.causal``
  (difference-in-differences, event studies, synthetic control, interrupted time series,
  propensity scores).
"""
