"""Tier administration: versioned national tables, branch sub-tier requests approved by HQ, deadline hours."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.errors import PermissionDenied, StaleWrite, ValidationFailed
from dashboard.services.cases.intake import CaseInput, register_case
from dashboard.services.reference import get_setting
from dashboard.services.admin.tier_admin import (
    BandInput, decide_branch_request, publish_national_table, request_branch_subtiers, rule_sets,
    update_rule_settings,
)
from dashboard.services.dispatching.tiers import active_tier_table
from db.models import CaseEvent, ClaimCase, TierRuleSet

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)

NEW_NATIONAL = [
    BandInput("T1", "60000", "120000", ["sub_claims_head"]),
    BandInput("T2", "120000", "500000", ["sub_head", "sub_finance_head"]),
    BandInput("T3", "500000", "1000000", ["branch_claims_head", "branch_finance_head"]),
    BandInput("T4", "1000000", None, ["branch_gm", "branch_claims_head"], hq_notice=True),
]
SPLIT = [
    BandInput("T1A", "50000", "80000", ["sub_claims_head"]),
    BandInput("T1B", "80000", "200000", ["sub_head"]),
    BandInput("T2", "200000", "500000", ["sub_head", "sub_finance_head"]),
]


def keys(err: ValidationFailed) -> set[str]:
    return {e.key for e in err.errors}


def test_publishing_a_national_version_supersedes_the_old_one(session, org, actor_for):
    old = active_tier_table(session, None)
    new_id = publish_national_table(session, actor_for("admin"), NEW_NATIONAL, note="T1 from 60k", now=NOW)
    table = active_tier_table(session, None)
    assert table.rule_set_id == new_id and table.version == old.version + 1
    assert table.bands[0].lower_exclusive == Decimal("60000.00")
    assert session.get(TierRuleSet, old.rule_set_id).status == "superseded"
    event = session.scalars(select(CaseEvent).where(CaseEvent.kind == "tier_table_published")).one()
    assert event.payload["version"] == table.version


def test_cases_keep_the_rule_set_they_were_tiered_under(session, org, actor_for):
    callcenter = actor_for("callcenter")
    case = register_case(session, callcenter, CaseInput(
        case_no="KEEP1", report_time="2026-11-20 09:00", accident_time="2026-11-20 08:00", province="广东省",
        city="广州市", address="x", business_line="motor", policy_no="P1", insured_name="甲", reporter_name="甲",
        accident_type="collision", sub_branch="gz", surveyor="gz_surveyor1", initial_estimate="55000"), now=NOW)
    tiered_under = session.get(ClaimCase, case.case_id).tier_rule_set_id
    assert case.tier == "T1"
    publish_national_table(session, actor_for("admin"), NEW_NATIONAL, now=NOW)
    session.expire_all()
    assert session.get(ClaimCase, case.case_id).tier_rule_set_id == tiered_under
    assert session.get(ClaimCase, case.case_id).tier == "T1"


@pytest.mark.parametrize("bands, key", [
    ([], "admin.error.no_bands"),
    ([BandInput("T1", "50000", "120000", ["sub_claims_head"]), BandInput("T2", "130000", None, ["sub_head"])],
     "admin.error.band_gap"),
    ([BandInput("T1", "50000", "40000", ["sub_claims_head"]), BandInput("T2", "40000", None, ["sub_head"])],
     "admin.error.band_order"),
    ([BandInput("T1", "50000", "120000", ["ceo"]), BandInput("T2", "120000", None, ["sub_head"])],
     "admin.error.band_positions"),
    ([BandInput("T1", "50000", "120000", ["sub_head", "sub_finance_head", "branch_gm"]),
      BandInput("T2", "120000", None, ["sub_head"])], "admin.error.band_positions"),
    ([BandInput("T1", "50000", "120000", ["sub_claims_head"])], "admin.error.band_last_open"),
    ([BandInput("T1", "50000", None, ["sub_claims_head"]), BandInput("T2", "120000", None, ["sub_head"])],
     "admin.error.band_open_not_last"),
    ([BandInput("T1", "abc", "120000", ["sub_claims_head"]), BandInput("T2", "120000", None, ["sub_head"])],
     "admin.error.band_amount"),
    ([BandInput("T1", "50000", "120000", ["sub_claims_head"]), BandInput("T1", "120000", None, ["sub_head"])],
     "admin.error.band_code"),
])
def test_invalid_national_table_is_refused_and_the_old_stays_active(session, org, actor_for, bands, key):
    before = active_tier_table(session, None).rule_set_id
    with pytest.raises(ValidationFailed) as err:
        publish_national_table(session, actor_for("admin"), bands, now=NOW)
    assert key in keys(err.value)
    session.rollback()
    assert active_tier_table(session, None).rule_set_id == before


def test_only_hq_admin_publishes(session, org, actor_for):
    for username in ("callcenter", "gd_manager", "reviewer"):
        with pytest.raises(PermissionDenied):
            publish_national_table(session, actor_for(username), NEW_NATIONAL, now=NOW)


def test_branch_request_is_pending_until_hq_approves_and_approval_is_recorded(session, org, actor_for):
    gd = org.branch("gd").id
    national = active_tier_table(session, None).rule_set_id
    request_id = request_branch_subtiers(session, actor_for("gd_manager"), gd, SPLIT, note="案件量大", now=NOW)
    assert session.get(TierRuleSet, request_id).status == "pending"
    assert active_tier_table(session, gd).rule_set_id == national  # not in force yet
    decide_branch_request(session, actor_for("admin"), request_id, approve=True, note="同意", now=NOW)
    rule_set = session.get(TierRuleSet, request_id)
    assert rule_set.status == "active"
    assert rule_set.decided_by == org.person("admin") and rule_set.decided_at == NOW
    table = active_tier_table(session, gd)
    assert table.rule_set_id == request_id
    assert [b.code for b in table.bands] == ["T1A", "T1B", "T2", "T3", "T4"]
    assert active_tier_table(session, org.branch("zj").id).rule_set_id == national  # other branches unchanged
    kinds = set(session.scalars(select(CaseEvent.kind)))
    assert {"tier_subtier_requested", "tier_subtier_approved"} <= kinds


def test_a_second_approved_request_supersedes_the_branchs_first(session, org, actor_for):
    gd, admin = org.branch("gd").id, actor_for("admin")
    first = request_branch_subtiers(session, admin, gd, SPLIT, now=NOW)
    decide_branch_request(session, admin, first, approve=True, now=NOW)
    second = request_branch_subtiers(session, admin, gd, SPLIT[:1] + [BandInput("T1C", "80000", "500000", ["sub_head"])],
                                     now=NOW)
    decide_branch_request(session, admin, second, approve=True, now=NOW)
    assert session.get(TierRuleSet, first).status == "superseded"
    assert active_tier_table(session, gd).rule_set_id == second


def test_rejection_needs_a_note_and_leaves_the_branch_on_the_national_table(session, org, actor_for):
    gd, admin = org.branch("gd").id, actor_for("admin")
    request_id = request_branch_subtiers(session, actor_for("gd_manager"), gd, SPLIT, now=NOW)
    with pytest.raises(ValidationFailed):
        decide_branch_request(session, admin, request_id, approve=False, note="", now=NOW)
    session.rollback()
    decide_branch_request(session, admin, request_id, approve=False, note="细分依据不足", now=NOW)
    assert session.get(TierRuleSet, request_id).status == "rejected"
    assert session.get(TierRuleSet, request_id).decision_note == "细分依据不足"
    assert active_tier_table(session, gd).branch_id is None
    with pytest.raises(StaleWrite) as err:  # decided already, by this same admin: when (their own change)
        decide_branch_request(session, admin, request_id, approve=True, now=NOW)
    assert err.value.key == "common.stale_write_self" and err.value.params["at"]


def test_branch_split_must_cover_exactly_50000_to_500000(session, org, actor_for):
    with pytest.raises(ValidationFailed) as err:
        request_branch_subtiers(session, actor_for("gd_manager"), org.branch("gd").id, SPLIT[:2], now=NOW)
    assert "admin.error.band_span" in keys(err.value)


def test_branch_manager_cannot_file_for_another_branch_or_approve(session, org, actor_for):
    with pytest.raises(PermissionDenied):
        request_branch_subtiers(session, actor_for("gd_manager"), org.branch("zj").id, SPLIT, now=NOW)
    request_id = request_branch_subtiers(session, actor_for("gd_manager"), org.branch("gd").id, SPLIT, now=NOW)
    with pytest.raises(PermissionDenied):
        decide_branch_request(session, actor_for("gd_manager"), request_id, approve=True, now=NOW)


def test_branch_manager_lists_only_national_and_own_branch_rule_sets(session, org, actor_for):
    admin = actor_for("admin")
    request_branch_subtiers(session, admin, org.branch("zj").id, SPLIT, now=NOW)
    mine = request_branch_subtiers(session, admin, org.branch("gd").id, SPLIT, now=NOW)
    seen = {(v.branch_id, v.id) for v in rule_sets(session, actor_for("gd_manager"))}
    assert {b for b, _ in seen} == {None, org.branch("gd").id}
    assert (org.branch("gd").id, mine) in seen


def test_estimates_after_approval_follow_the_branch_split(session, org, actor_for):
    gd, admin = org.branch("gd").id, actor_for("admin")
    decide_branch_request(session, admin, request_branch_subtiers(session, admin, gd, SPLIT, now=NOW),
                          approve=True, now=NOW)
    case = register_case(session, actor_for("callcenter"), CaseInput(
        case_no="SPLIT1", report_time="2026-11-20 09:00", accident_time="2026-11-20 08:00", province="广东省",
        city="广州市", address="x", business_line="property", policy_no="P1", insured_name="甲", reporter_name="甲",
        accident_type="fire", sub_branch="gz", surveyor="gz_surveyor1"), now=NOW)
    result = record_estimate(session, actor_for("callcenter"), case.case_id, Decimal("150000"), now=NOW)
    assert result.tier_after == "T1B"


def test_deadline_hours_are_validated_and_saved_with_history(session, org, actor_for):
    admin = actor_for("admin")
    with pytest.raises(ValidationFailed) as err:
        update_rule_settings(session, admin, {"deadline.D1.hours": "-4", "deadline.D6.time": "25:00",
                                              "deadline.D6.weekday": "9", "deadline.D2.hours": "abc"}, now=NOW)
    assert {e.field for e in err.value.errors} == {"deadline.D1.hours", "deadline.D6.time", "deadline.D6.weekday",
                                                   "deadline.D2.hours"}
    session.rollback()
    assert get_setting(session, "deadline.D1.hours") == 24
    changed = update_rule_settings(session, admin, {"deadline.D1.hours": "12", "deadline.D3.hours": "72",
                                                    "deadline.D6.time": "16:30"}, now=NOW)
    assert sorted(changed) == ["deadline.D1.hours", "deadline.D6.time"]
    assert get_setting(session, "deadline.D1.hours") == 12 and get_setting(session, "deadline.D6.time") == "16:30"
    events = session.scalars(select(CaseEvent).where(CaseEvent.kind == "rule_setting_changed")).all()
    assert {e.payload["key"] for e in events} == {"deadline.D1.hours", "deadline.D6.time"}
    with pytest.raises(PermissionDenied):
        update_rule_settings(session, actor_for("callcenter"), {"deadline.D1.hours": "10"}, now=NOW)


def test_a_new_national_table_is_merged_into_an_approved_branch_split(session, org, actor_for):
    gd, admin = org.branch("gd").id, actor_for("admin")
    request_id = request_branch_subtiers(session, admin, gd, SPLIT, now=NOW)
    decide_branch_request(session, admin, request_id, approve=True, now=NOW)
    raised_top = NEW_NATIONAL[:2] + [
        BandInput("T3", "500000", "2000000", ["branch_claims_head", "branch_finance_head"]),
        BandInput("T4", "2000000", None, ["branch_gm", "branch_claims_head"], hq_notice=True),
    ]
    publish_national_table(session, admin, raised_top, now=NOW)
    table = active_tier_table(session, gd)
    assert table.rule_set_id != request_id and session.get(TierRuleSet, request_id).status == "superseded"
    assert [(b.code, b.upper_inclusive) for b in table.bands] == [
        ("T1A", Decimal("80000.00")), ("T1B", Decimal("200000.00")), ("T2", Decimal("500000.00")),
        ("T3", Decimal("2000000.00")), ("T4", None)]


def test_a_branch_split_that_no_longer_fits_lapses_to_the_national_table(session, org, actor_for):
    gd, admin = org.branch("gd").id, actor_for("admin")
    request_id = request_branch_subtiers(session, admin, gd, SPLIT, now=NOW)
    decide_branch_request(session, admin, request_id, approve=True, now=NOW)
    # the new national table names its 500,000–1,000,000 band "T1B", as the branch's own split does
    clashing = [BandInput("T1", "50000", "500000", ["sub_claims_head"]),
                BandInput("T1B", "500000", "1000000", ["branch_claims_head", "branch_finance_head"]),
                NEW_NATIONAL[3]]
    national_id = publish_national_table(session, admin, clashing, now=NOW)
    assert active_tier_table(session, gd).rule_set_id == national_id
    assert "tier_subtier_lapsed" in set(session.scalars(select(CaseEvent.kind)))
