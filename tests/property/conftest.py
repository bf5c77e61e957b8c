"""Hypothesis settings for the property tests (issue 18, "Bad input").

The `ci` profile, loaded unless HYPOTHESIS_PROFILE names another, makes a run reproducible and
bounded: the examples are derived from each test's name (derandomize), nothing is stored between
runs (database=None: no .hypothesis folder), and no example is failed for its time on a shared
2-core machine (deadline=None). `explore` draws fresh random examples, many more, for a developer
hunting bugs by hand: HYPOTHESIS_PROFILE=explore pytest tests/property.
A failure prints the smallest example found; add it as an explicit @example once fixed.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, derandomize=True, database=None, max_examples=200, print_blob=False,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "explore", deadline=None, database=None, max_examples=5000,
    suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
