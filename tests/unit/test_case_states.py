"""Case life cycle rules (docs/DOMAIN.md §2): forward only, closed → reopened, system-set states not by hand."""
from dashboard.rules.case_states import STATE_ORDER, manual_targets, transition_error


def test_life_cycle_order_is_the_spec_order():
    assert STATE_ORDER == ("reported", "surveyed", "dispatched", "investigating", "assessed", "approved",
                           "paid", "closed")


def test_a_dispatched_case_can_move_forward_to_any_later_claim_step():
    assert manual_targets("dispatched") == ("investigating", "assessed", "approved", "paid", "closed")


def test_an_untiered_surveyed_case_skips_dispatch_by_hand():
    assert "dispatched" not in manual_targets("surveyed")
    assert transition_error("surveyed", "investigating") is None
    assert transition_error("surveyed", "dispatched") == "detail.state.system_only"


def test_a_reported_case_needs_its_estimate_first():
    assert manual_targets("reported") == ()
    assert transition_error("reported", "investigating") == "detail.state.needs_estimate"


def test_moving_backwards_is_refused():
    assert transition_error("approved", "assessed") == "detail.state.backwards"


def test_a_closed_case_can_only_be_reopened():
    assert manual_targets("closed") == ("reopened",)
    assert transition_error("closed", "paid") == "detail.state.closed_reopen_first"


def test_only_a_closed_case_can_be_reopened():
    assert transition_error("paid", "reopened") == "detail.state.reopen_only_closed"


def test_a_reopened_case_resumes_the_claim_work_and_can_close_again():
    assert manual_targets("reopened") == ("investigating", "assessed", "approved", "paid", "closed")


def test_same_state_and_unknown_state_are_refused():
    assert transition_error("paid", "paid") == "detail.state.same"
    assert transition_error("paid", "archived") == "detail.state.unknown"
