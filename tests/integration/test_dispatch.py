"""Estimate → tier → dispatch on a real PostgreSQL (分级管理办法 第二章 一)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from dashboard.services.dispatching.dispatch import name_delegate, record_contact_attempt, record_estimate
from dashboard.services.errors import NeedsConfirmation, NotFound, PermissionDenied, StaleWrite, ValidationFailed
from db.models import CaseEvent, ClaimCase, Deadline, Dispatch, Estimate, Notification
from tests.factories import T0, make_case


def _dispatches(session, case_id):
    return session.execute(select(Dispatch.person_id, Dispatch.tier, Dispatch.reason, Dispatch.contact_state)
                           .where(Dispatch.case_id == case_id).order_by(Dispatch.id)).all()


def _notifications(session, case_id, kind=None):
    q = select(Notification.recipient_person_id, Notification.kind).where(Notification.case_id == case_id)
    if kind:
        q = q.where(Notification.kind == kind)
    return session.execute(q.order_by(Notification.id)).all()


def test_estimate_at_50000_is_recorded_but_not_tiered(session, org, actor_for):
    case = make_case(session, org)
    result = record_estimate(session, actor_for("callcenter"), case.id, "50000", now=T0)
    assert result.tier_after == "T0" and not result.dispatched
    session.refresh(case)
    assert case.state == "surveyed" and case.current_estimate == Decimal("50000.00") and case.tiered_at is None


def test_T1_dispatches_the_sub_branch_claims_head_of_the_cases_own_sub_branch(session, org, actor_for):
    case = make_case(session, org, "sz")
    result = record_estimate(session, actor_for("callcenter"), case.id, "86000", now=T0)
    assert [d.person_id for d in result.dispatched] == [org.person("sz_claims")]
    session.refresh(case)
    assert case.tier == "T1" and case.state == "dispatched" and case.tiered_at == T0
    assert _notifications(session, case.id, "dispatch") == [(org.person("sz_claims"), "dispatch")]


def test_T2_dispatches_head_and_finance_head_and_copies_the_T1_leader(session, org, actor_for):
    case = make_case(session, org, "gz")
    result = record_estimate(session, actor_for("callcenter"), case.id, "120000.01", now=T0)
    assert {d.person_id for d in result.dispatched} == {org.person("gz_head"), org.person("gz_finance")}
    assert result.copied_person_ids == [org.person("gz_claims")]
    copy = session.scalars(select(Notification.body).where(Notification.kind == "copy")).one()
    assert "该案件已经调度" in copy and "请领导给予支持" in copy


def test_T4_dispatches_branch_leaders_copies_all_lower_leaders_and_notifies_hq(session, org, actor_for):
    case = make_case(session, org, "gz")
    result = record_estimate(session, actor_for("callcenter"), case.id, "1500000", now=T0)
    assert {d.person_id for d in result.dispatched} == {org.person("gd_gm"), org.person("gd_claims")}
    assert set(result.copied_person_ids) == {org.person(u) for u in ("gz_claims", "gz_head", "gz_finance",
                                                                      "gd_finance")}
    major = {r for r, _ in _notifications(session, case.id, "hq_major_notice")}
    assert major == {org.person("admin"), org.person("reviewer"), org.person("reviewer2")}
    session.refresh(case)
    assert case.is_major


def test_dispatch_starts_D1_D2_D3_with_24_and_72_hours(session, org, actor_for):
    case = make_case(session, org)
    record_estimate(session, actor_for("callcenter"), case.id, "60000", now=T0)
    due = dict(session.execute(select(Deadline.kind, Deadline.due_at).where(Deadline.case_id == case.id)).all())
    assert due == {"D1": T0 + timedelta(hours=24), "D2": T0 + timedelta(hours=24), "D3": T0 + timedelta(hours=72)}


def test_raising_the_estimate_past_the_upper_bound_moves_up_and_keeps_earlier_dispatch(session, org, actor_for):
    case = make_case(session, org)
    cc = actor_for("callcenter")
    record_estimate(session, cc, case.id, "100000", now=T0)
    result = record_estimate(session, cc, case.id, "130000", now=T0 + timedelta(hours=5))
    assert result.escalated and result.tier_before == "T1" and result.tier_after == "T2"
    rows = _dispatches(session, case.id)
    assert (org.person("gz_claims"), "T1", "initial", "notified") in rows
    assert (org.person("gz_head"), "T2", "escalation", "notified") in rows
    assert len(rows) == 3


def test_raising_within_the_same_tier_dispatches_nobody_new(session, org, actor_for):
    case = make_case(session, org)
    cc = actor_for("callcenter")
    record_estimate(session, cc, case.id, "60000", now=T0)
    result = record_estimate(session, cc, case.id, "120000", now=T0)
    assert not result.escalated and len(_dispatches(session, case.id)) == 1


def test_lowering_the_estimate_never_removes_a_dispatch(session, org, actor_for):
    case = make_case(session, org)
    cc = actor_for("callcenter")
    record_estimate(session, cc, case.id, "600000", now=T0)
    result = record_estimate(session, cc, case.id, "40000", now=T0 + timedelta(days=1))
    assert result.tier_after == "T3" and not result.escalated
    assert len(_dispatches(session, case.id)) == 2
    amounts = session.scalars(select(Estimate.amount).where(Estimate.case_id == case.id).order_by(Estimate.id)).all()
    assert amounts == [Decimal("600000.00"), Decimal("40000.00")]


def test_compulsory_only_case_goes_to_the_sub_branch_claims_head_whatever_the_amount(session, org, actor_for):
    case = make_case(session, org, compulsory_only=True)
    result = record_estimate(session, actor_for("callcenter"), case.id, "800000", now=T0)
    assert result.tier_after == "T1" and [d.person_id for d in result.dispatched] == [org.person("gz_claims")]


@pytest.mark.parametrize("amount, key", [("-1", "amount.negative"), ("abc", "amount.not_a_number"),
                                         ("1e9", "amount.exponent"), ("inf", "amount.not_a_number")])
def test_bad_amount_names_the_field_and_writes_nothing(session, org, actor_for, amount, key):
    case = make_case(session, org)
    with pytest.raises(ValidationFailed) as err:
        record_estimate(session, actor_for("callcenter"), case.id, amount, now=T0)
    assert err.value.errors[0].field == "estimate" and err.value.errors[0].key == key
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Estimate)) == 0


def test_an_implausibly_large_estimate_is_saved_only_once_confirmed(session, org, actor_for):
    """1e9 typed for 1e5 once multiplied a branch's pending estimate by eleven: above the limit
    (rule setting estimate.confirm_above, ¥50,000,000 by default) the person confirms first."""
    case = make_case(session, org)
    with pytest.raises(NeedsConfirmation) as err:
        record_estimate(session, actor_for("callcenter"), case.id, "1000000000", now=T0)
    assert err.value.field == "estimate" and err.value.params["limit"] == Decimal("50000000")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Estimate)) == 0
    result = record_estimate(session, actor_for("callcenter"), case.id, "1000000000", now=T0, confirmed=True)
    assert result.amount == Decimal("1000000000.00") and result.tier_after == "T4"


def test_branch_user_cannot_dispatch(session, org, actor_for):
    case = make_case(session, org)
    with pytest.raises(PermissionDenied):
        record_estimate(session, actor_for("gd_manager"), case.id, "86000", now=T0)


def test_surveyor_of_another_branch_cannot_see_or_estimate_the_case(session, org, actor_for):
    case = make_case(session, org, "gz")
    with pytest.raises(NotFound):
        record_estimate(session, actor_for("hz_surveyor1"), case.id, "86000", now=T0)


def test_stale_version_is_refused(session, org, actor_for):
    case = make_case(session, org)
    cc = actor_for("callcenter")
    record_estimate(session, cc, case.id, "10000", now=T0, expected_version=1)
    with pytest.raises(StaleWrite):
        record_estimate(session, cc, case.id, "20000", now=T0, expected_version=1)


def test_unreachable_one_person_tier_notifies_the_next_tier_who_names_who_goes(session, org, actor_for):
    case = make_case(session, org)
    cc = actor_for("callcenter")
    result = record_estimate(session, cc, case.id, "86000", now=T0)
    contact = record_contact_attempt(session, cc, result.dispatched[0].dispatch_id, "unreachable",
                                     reason="电话关机", now=T0 + timedelta(minutes=10))
    assert set(contact.notified_person_ids) == {org.person("gz_head"), org.person("gz_finance")}
    assert contact.awaiting_delegate
    name_delegate(session, actor_for("gz_head"), result.dispatched[0].dispatch_id, org.sub_branch("gz").surveyors[1],
                  now=T0 + timedelta(minutes=20))
    original = session.get(Dispatch, result.dispatched[0].dispatch_id)
    assert original.contact_state == "delegated" and original.delegate_person_id == org.sub_branch("gz").surveyors[1]
    # responsibility stays with the first responsible person
    d2 = session.scalars(select(Deadline).where(Deadline.kind == "D2", Deadline.case_id == case.id)).one()
    assert d2.responsible_person_id == org.person("gz_claims")


def test_unavailable_one_person_names_a_delegate_who_goes_instead(session, org, actor_for):
    case = make_case(session, org)
    cc = actor_for("callcenter")
    result = record_estimate(session, cc, case.id, "86000", now=T0)
    delegate = org.sub_branch("gz").surveyors[1]
    record_contact_attempt(session, cc, result.dispatched[0].dispatch_id, "unavailable", reason="出差",
                           delegate_person_id=delegate, now=T0)
    dispatch = session.get(Dispatch, result.dispatched[0].dispatch_id)
    assert (dispatch.contact_state, dispatch.delegate_person_id, dispatch.goes_to_scene) == ("delegated", delegate, True)
    assert _notifications(session, case.id, "delegate") == [(delegate, "delegate")]


def test_two_person_tier_unreachable_sends_the_other_person(session, org, actor_for):
    case = make_case(session, org)
    cc = actor_for("callcenter")
    result = record_estimate(session, cc, case.id, "300000", now=T0)
    head = next(d for d in result.dispatched if d.position == "sub_head")
    contact = record_contact_attempt(session, cc, head.dispatch_id, "unreachable", reason="无人接听", now=T0)
    assert contact.notified_person_ids == [org.person("gz_finance")]
    assert _notifications(session, case.id, "go_instead") == [(org.person("gz_finance"), "go_instead")]


def test_delegate_from_another_branch_is_refused(session, org, actor_for):
    case = make_case(session, org)
    cc = actor_for("callcenter")
    result = record_estimate(session, cc, case.id, "86000", now=T0)
    with pytest.raises(ValidationFailed) as err:
        record_contact_attempt(session, cc, result.dispatched[0].dispatch_id, "unavailable",
                               reason_code="business_trip", delegate_person_id=org.person("hz_surveyor1"), now=T0)
    assert err.value.errors[0].field == "delegate"


def test_every_step_is_in_the_case_history(session, org, actor_for):
    case = make_case(session, org)
    cc = actor_for("callcenter")
    result = record_estimate(session, cc, case.id, "130000", now=T0)
    record_contact_attempt(session, cc, result.dispatched[0].dispatch_id, "reached", now=T0)
    kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
    assert kinds == ["estimate_recorded", "case_tiered", "dispatched", "dispatched", "copied", "contact_attempt"]


def test_a_case_keeps_the_rule_version_it_was_tiered_under(session, org, actor_for):
    case = make_case(session, org)
    record_estimate(session, actor_for("callcenter"), case.id, "86000", now=T0)
    session.refresh(case)
    assert case.tier_rule_set_id is not None
    stored = session.scalar(select(ClaimCase.tier_rule_set_id).where(ClaimCase.id == case.id))
    assert stored == case.tier_rule_set_id
