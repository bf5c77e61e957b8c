"""Complaint / dispute / difficult-case steps (issue 20, its first rule; docs/DOMAIN.md §7): no
archive without a return visit, no arbitration before failed mediation, a justified complaint's
apology and measure before it is handled, the working group's minutes before it moves on."""
from __future__ import annotations

import pytest

from dashboard.rules.complaints import ItemFacts, next_steps, step_refusal


def test_nothing_is_archived_without_a_return_visit():
    for kind in ("complaint", "dispute", "difficult"):
        assert step_refusal(ItemFacts(kind), "handled", "archived") == "complaints.error.order"
        assert step_refusal(ItemFacts(kind), "return_visited", "archived") == "complaints.error.return_visit_required"
        assert step_refusal(ItemFacts(kind, return_visit="客户满意"), "return_visited", "archived") is None
    assert next_steps("complaint", "handled") == ("return_visited",)


def test_mediation_and_arbitration_are_for_disputes_and_arbitration_only_after_mediation_failed():
    assert "mediation" not in next_steps("complaint", "assigned")
    assert "mediation" in next_steps("dispute", "assigned")
    assert step_refusal(ItemFacts("dispute"), "assigned", "arbitration") == "complaints.error.order"
    assert step_refusal(ItemFacts("dispute", mediation_outcome="agreed"), "mediation",
                        "arbitration") == "complaints.error.mediation_first"
    assert step_refusal(ItemFacts("dispute", mediation_outcome="failed"), "mediation", "arbitration") is None


@pytest.mark.parametrize("facts, refusal", [
    (ItemFacts("complaint"), "complaints.error.justified_undecided"),
    (ItemFacts("complaint", justified=True, apology="已致歉"), "complaints.error.apology_and_measure"),
    (ItemFacts("complaint", justified=True, apology="已致歉", measure="  "), "complaints.error.apology_and_measure"),
    (ItemFacts("complaint", justified=True, apology="已当面致歉", measure="查勘员培训"), None),
    (ItemFacts("complaint", justified=False), None),
    (ItemFacts("difficult"), None),
])
def test_a_justified_complaint_records_the_apology_and_the_measure_before_it_is_handled(facts, refusal):
    assert step_refusal(facts, "assigned", "handled") == refusal


def test_the_working_group_records_its_collective_decision_before_the_item_moves_on():
    assert step_refusal(ItemFacts("difficult"), "working_group", "handled") == "complaints.error.minutes_required"
    assert step_refusal(ItemFacts("difficult", minutes="经集体讨论，按全损赔付"), "working_group", "handled") is None


def test_unknown_kinds_and_steps_fail_loudly():
    with pytest.raises(ValueError):
        next_steps("praise", "assigned")
    with pytest.raises(ValueError):
        next_steps("complaint", "closed")


def test_every_refusal_and_name_of_the_rules_reads_in_chinese():
    from dashboard.i18n import has_key
    from dashboard.rules.complaints import STEPS
    from dashboard.rules.special_cases import TYPE_C_EXCLUSIONS
    from dashboard.settings import SPECIAL_APPROVAL_LEVELS

    assert STEPS
    keys = [f"complaints.error.{k}" for k in ("order", "minutes_required", "mediation_first", "justified_undecided",
                                              "apology_and_measure", "return_visit_required")]
    keys += [f"special.exclusion.{r}" for r in TYPE_C_EXCLUSIONS]
    keys += [f"special.level.{level}" for level in SPECIAL_APPROVAL_LEVELS]
    assert [k for k in keys if not has_key(k)] == []
