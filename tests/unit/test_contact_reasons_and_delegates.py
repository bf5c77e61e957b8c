"""Why a first responsible was not reached, and who is offered first to go instead (docs/DOMAIN.md §3)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from dashboard.rules.contact_reasons import reason_from_words, reason_problem, reasons_for
from dashboard.rules.delegates import delegate_order, person_rank, position_ranks
from dashboard.rules.tiers import TierBand


def test_unreachable_is_phone_off_cannot_connect_or_no_answer_and_unavailable_is_travel_or_meeting():
    assert reasons_for("unreachable") == ("phone_off", "cannot_connect", "no_answer")
    assert reasons_for("unavailable") == ("business_trip", "meeting")
    assert reasons_for("reached") == ()


@pytest.mark.parametrize("outcome, code, problem", [
    ("unreachable", None, "dispatch.error.reason_required"),
    ("unreachable", "meeting", "dispatch.error.reason_mismatch"),
    ("reached", "no_answer", "dispatch.error.reason_not_needed"),
    ("unavailable", "business_trip", None),
    ("reached", None, None),
])
def test_a_reason_must_fit_the_outcome(outcome, code, problem):
    assert reason_problem(outcome, code) == problem


@pytest.mark.parametrize("outcome, words, code", [
    ("unreachable", "电话关机", "phone_off"), ("unavailable", "在外地出差", "business_trip"),
    ("unavailable", "电话关机", None), ("unreachable", "关机后无人接听", None), ("unreachable", None, None),
])
def test_a_reason_in_words_is_read_only_when_it_names_one_reason_of_the_outcome(outcome, words, code):
    assert reason_from_words(outcome, words) == code


NATIONAL = (
    TierBand("T1", Decimal(50000), Decimal(120000), ("sub_claims_head",)),
    TierBand("T2", Decimal(120000), Decimal(500000), ("sub_head", "sub_finance_head")),
    TierBand("T3", Decimal(500000), Decimal(1000000), ("branch_claims_head", "branch_finance_head")),
    TierBand("T4", Decimal(1000000), None, ("branch_gm", "branch_claims_head")),
)


def test_a_posts_rank_is_the_lowest_band_that_names_it():
    assert position_ranks(NATIONAL) == {"sub_claims_head": 1, "sub_head": 2, "sub_finance_head": 2,
                                        "branch_claims_head": 3, "branch_finance_head": 3, "branch_gm": 4}
    assert person_rank(["sub_head", None], position_ranks(NATIONAL)) == 2
    assert person_rank([None], position_ranks(NATIONAL)) == 0


def test_delegates_of_the_same_rank_and_above_come_first_then_below_then_no_post():
    people = [("surveyor", 0, True), ("t1", 1, True), ("gm", 4, False), ("t2_other", 2, False), ("t2_near", 2, True),
              ("t3", 3, False)]
    order = sorted(people, key=lambda p: delegate_order(p[1], 2, p[2], p[0]))
    assert [p[0] for p in order] == ["t2_near", "t2_other", "t3", "gm", "t1", "surveyor"]
