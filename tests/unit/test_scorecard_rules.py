"""The scorecard's rules (issue 21; docs/DOMAIN.md §9): the loss-ratio formula and its bands at their
boundaries, linear and closeness scoring, the default weights summing to 100 %, periods."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from dashboard.rules.scorecard import (
    GROUPS, IndicatorRule, loss_ratio_pct, loss_ratio_points, period_end, period_label, period_start, points,
    previous_periods, score_pct, weights_problem,
)
from dashboard.settings import DEFAULT_SCORECARD

DEFAULT_RULES = [IndicatorRule(k, g, D(w), src, sc, None if f is None else D(f), None if z is None else D(z),
                               None if t is None else D(t), u) for k, g, w, src, sc, f, z, t, u in DEFAULT_SCORECARD]


def test_the_default_weights_are_the_sources_and_sum_to_100():
    assert len(DEFAULT_RULES) == 16 and weights_problem(DEFAULT_RULES) is None
    by_group = {g: sum(r.weight_pct for r in DEFAULT_RULES if r.group == g) for g in GROUPS}
    assert by_group == {"cost": 40, "management": 20, "service": 25, "special": 15}
    weights = {r.key: r.weight_pct for r in DEFAULT_RULES}
    assert (weights["loss_ratio"], weights["reserve_adequacy"], weights["indirect_expense"]) == (15, 10, 10)
    off = [*DEFAULT_RULES[:-1], IndicatorRule("parts_selection_rate", "special", D(4), "entered", "linear", D(95), D(50))]
    assert weights_problem(off) == "scorecard.error.weights_sum"
    negative = [*DEFAULT_RULES[:-2], IndicatorRule("x", "special", D(-5), "entered", "linear", D(1), D(0)),
                IndicatorRule("y", "special", D(15), "entered", "linear", D(1), D(0))]
    assert weights_problem(negative) == "scorecard.error.negative_weight"


def test_the_loss_ratio_follows_the_sources_formula():
    # (800 + 100 + 50 − 30 − 20) / (2000 − 300 + 100 − 200) × 100 = 900 / 1600 × 100 = 56.25 %
    ratio = loss_ratio_pct(paid=D(800), reserve_change=D(100), reinsurance_paid=D(50), reinsurance_recovered=D(30),
                           subrogation=D(20), premium=D(2000), ceded=D(300), assumed=D(100), unearned_change=D(-200))
    assert ratio == D("56.25")
    assert loss_ratio_pct(paid=D(1), reserve_change=D(0), reinsurance_paid=D(0), reinsurance_recovered=D(0),
                          subrogation=D(0), premium=D(100), ceded=D(100), assumed=D(0), unearned_change=D(0)) is None


@pytest.mark.parametrize(("actual", "points_earned"), [
    ("58", 18), ("57.99", 18), ("58.01", 15),   # improvement 2 (inclusive) → 18
    ("60", 15), ("60.01", 10),                  # improvement 0 (inclusive) → 15
    ("65", 10), ("65.01", 0), ("80", 0),        # −5 (inclusive) → 10, worse → 0
])
def test_the_loss_ratio_bands_at_their_boundaries(actual, points_earned):
    assert loss_ratio_points(D(actual), D(60)) == points_earned


def test_the_loss_ratio_score_is_a_share_of_its_15_points_and_may_reach_120_percent():
    rule = DEFAULT_RULES[0]
    assert score_pct(rule, D(55), budget_pct=D(60)) == D(120)
    assert points(rule, score_pct(rule, D(55), budget_pct=D(60))) == D(18)
    assert points(rule, score_pct(rule, D(61), budget_pct=D(60))) == D(10)
    assert score_pct(rule, D(55)) is None  # no budget entered: no score, never a guess


def test_linear_scoring_both_ways_and_closeness_to_a_target():
    lower_better = IndicatorRule("small_cycle_days", "service", D(5), "computed", "linear", D(10), D(45))
    assert score_pct(lower_better, D(10)) == 100 and score_pct(lower_better, D(8)) == 100
    assert score_pct(lower_better, D("27.5")) == 50 and score_pct(lower_better, D(60)) == 0
    higher_better = IndicatorRule("handling_rate", "service", D(5), "computed", "linear", D(95), D(60))
    assert score_pct(higher_better, D(95)) == 100 and score_pct(higher_better, D("77.5")) == 50
    assert score_pct(higher_better, D(50)) == 0
    adequacy = IndicatorRule("reserve_adequacy", "cost", D(10), "computed", "closeness", None, D(20), D(100))
    assert score_pct(adequacy, D(100)) == 100 and score_pct(adequacy, D(90)) == 50
    assert score_pct(adequacy, D(110)) == 50 and score_pct(adequacy, D(125)) == 0
    assert points(adequacy, score_pct(adequacy, D(90))) == 5 and points(adequacy, None) == 0
    assert score_pct(adequacy, None) is None


def test_periods():
    assert period_start("quarter", date(2026, 11, 20)) == date(2026, 10, 1)
    assert period_end("quarter", date(2026, 10, 1)) == date(2027, 1, 1)
    assert period_end("month", date(2026, 12, 1)) == date(2027, 1, 1)
    assert period_end("year", date(2026, 1, 1)) == date(2027, 1, 1)
    assert previous_periods("month", date(2026, 2, 1), 3) == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert previous_periods("quarter", date(2026, 4, 1), 2) == [date(2026, 1, 1), date(2026, 4, 1)]
    assert period_label("quarter", date(2026, 10, 1)) == "2026 Q4"
