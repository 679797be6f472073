"""Surveys: questionnaire spec, sampling, cleaning, weighting, estimates and banner tables."""
