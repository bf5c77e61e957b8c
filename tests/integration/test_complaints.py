"""The complaint / dispute / difficult-case register (issue 20; docs/DOMAIN.md §7): registered,
assigned, moved step by step with what each step records; no archive without a return visit (the
service and the database both refuse); disputes to mediation then arbitration; items without a
return visit past the configured days on the tracker; the analysis; who sees what."""
from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from dashboard.services.admin.rule_settings import update_rule_settings
from dashboard.services.complaints.analysis import complaint_analysis, counts_by
from dashboard.services.complaints.register import (
    ItemForm, StepInput, advance_item, assign_item, assignee_choices, complaint_items, item_detail, register_item,
)
from dashboard.services.errors import NotFound, PermissionDenied, StaleWrite, UserError, ValidationFailed
from db.models import CaseEvent, ComplaintItem, ComplaintStep, Notification
from tests.factories import T0, make_case


def _form(org, **overrides) -> ItemForm:
    values = dict(kind="complaint", cause="speed", channel="phone", branch_id=org.branch("gd").id,
                  complainant="李女士", summary="定损后两周未赔付，要求尽快处理", received_on=T0.date())
    values.update(overrides)
    return ItemForm(**values)


def _move(session, actor, item_id, target, at_hours=1, **given):
    version = session.scalar(text("SELECT version FROM complaint_item WHERE id = :i"), {"i": item_id})
    return advance_item(session, actor, item_id, target, StepInput(**given), expected_version=version,
                        now=T0 + timedelta(hours=at_hours))


def test_a_justified_complaint_goes_from_register_to_archive_with_apology_measure_and_return_visit(
        session, org, actor_for):
    case = make_case(session, org, "gz")
    manager = actor_for("gd_manager")
    item = register_item(session, manager, _form(org, case_no=case.case_no.lower(), branch_id=None,
                                                 assignee_id=org.person("gz_claims")), now=T0)
    assert item.step == "assigned" and item.case_id == case.id and item.item_no.startswith("TS")
    assert session.scalar(select(Notification.recipient_person_id).where(
        Notification.kind == "complaint_assigned")) == org.person("gz_claims")
    with pytest.raises(ValidationFailed) as undecided:
        _move(session, manager, item.id, "handled", handling_result="已加急赔付")
    assert undecided.value.errors[0].key == "complaints.error.justified_undecided"
    with pytest.raises(ValidationFailed) as no_apology:
        _move(session, manager, item.id, "handled", handling_result="已加急赔付", justified=True)
    assert no_apology.value.errors[0].key == "complaints.error.apology_and_measure"
    handled = _move(session, manager, item.id, "handled", handling_result="已加急赔付", justified=True,
                    apology="经办人已当面致歉", measure="对经办人通报批评，建立超期预警")
    assert handled.outcome == "justified" and handled.handled_at is not None
    with pytest.raises(UserError) as early:
        _move(session, manager, item.id, "archived")
    assert early.value.key == "complaints.error.order"
    with pytest.raises(ValidationFailed) as no_visit:
        _move(session, manager, item.id, "return_visited", return_visit="  ")
    assert no_visit.value.errors[0].field == "complaints.return_visit"
    _move(session, manager, item.id, "return_visited", return_visit="电话回访李女士，对处理结果满意")
    archived = _move(session, manager, item.id, "archived")
    assert archived.step == "archived" and archived.archived_at is not None
    steps = session.scalars(select(ComplaintStep.to_step).where(ComplaintStep.item_id == item.id)
                            .order_by(ComplaintStep.id)).all()
    assert steps == ["registered", "assigned", "handled", "return_visited", "archived"]
    assert session.scalar(select(CaseEvent.id).where(CaseEvent.case_id == case.id,
                                                     CaseEvent.kind == "complaint_step").limit(1))


def test_the_database_refuses_an_archive_without_a_return_visit_whatever_writes_it(session, owner_session, org,
                                                                                  actor_for):
    item = register_item(session, actor_for("gd_manager"), _form(org), now=T0)
    with pytest.raises(IntegrityError):
        owner_session.execute(text("UPDATE complaint_item SET step = 'archived' WHERE id = :i"), {"i": item.id})
    owner_session.rollback()


def test_a_dispute_goes_to_arbitration_only_after_a_failed_mediation(session, org, actor_for):
    tracker = actor_for("gd_tracker")
    item = register_item(session, tracker, _form(org, kind="dispute", cause="amount",
                                                 assignee_id=org.person("gd_claims")), now=T0)
    assert item.item_no.startswith("JF")
    with pytest.raises(UserError) as first:
        _move(session, tracker, item.id, "arbitration")
    assert first.value.key == "complaints.error.order"
    _move(session, tracker, item.id, "mediation")
    with pytest.raises(ValidationFailed) as no_outcome:
        _move(session, tracker, item.id, "arbitration")
    assert {e.field for e in no_outcome.value.errors} == {"complaints.mediation_outcome", "complaints.mediation_note"}
    with pytest.raises(UserError) as agreed:
        _move(session, tracker, item.id, "arbitration", mediation_outcome="agreed", mediation_note="达成协议")
    assert agreed.value.key == "complaints.error.mediation_first"
    _move(session, tracker, item.id, "arbitration", mediation_outcome="failed", mediation_note="客户不接受调解方案")
    with pytest.raises(ValidationFailed) as no_award:
        _move(session, tracker, item.id, "handled", handling_result="按裁决赔付")
    assert no_award.value.errors[0].field == "complaints.arbitration_result"
    done = _move(session, tracker, item.id, "handled", handling_result="按裁决赔付", arbitration_result="裁决赔付 8 万元")
    assert done.outcome == "arbitrated"
    # A complaint cannot go to mediation at all.
    complaint = register_item(session, tracker, _form(org, assignee_id=org.person("gd_claims")), now=T0)
    with pytest.raises(UserError):
        _move(session, tracker, complaint.id, "mediation")


def test_a_difficult_case_records_the_working_groups_minutes_and_plan(session, org, actor_for):
    manager = actor_for("gd_manager")
    item = register_item(session, manager, _form(org, kind="difficult", cause="liability"), now=T0)
    with pytest.raises(UserError) as unassigned:
        _move(session, manager, item.id, "escalated", note="涉及多方责任")
    assert unassigned.value.key == "complaints.error.assign_first"
    assign_item(session, manager, item.id, org.person("gd_claims"), expected_version=1, now=T0)
    _move(session, manager, item.id, "escalated", note="涉及多方责任，报分公司法律部")
    with pytest.raises(ValidationFailed) as no_minutes:
        _move(session, manager, item.id, "working_group", minutes="", plan="")
    assert {e.field for e in no_minutes.value.errors} == {"complaints.minutes", "complaints.plan"}
    wg = _move(session, manager, item.id, "working_group", minutes="11 月 20 日工作组研讨，一致认为……",
               plan="按 70% 责任比例赔付")
    assert (wg.escalation_note, wg.plan) == ("涉及多方责任，报分公司法律部", "按 70% 责任比例赔付")
    assert _move(session, manager, item.id, "handled", handling_result="已按方案赔付").outcome == "resolved"


def test_items_without_a_return_visit_past_the_configured_days_are_overdue(session, org, actor_for, now):
    manager = actor_for("gd_manager")
    def on(days: int) -> dict:
        return dict(received_on=(now - timedelta(days=days)).date())

    old = register_item(session, manager, _form(org, **on(16)), now=now - timedelta(days=16))
    register_item(session, manager, _form(org, complainant="王先生", **on(3)), now=now - timedelta(days=3))
    visited = register_item(session, manager, _form(org, assignee_id=org.person("gd_claims"), **on(20)),
                            now=now - timedelta(days=20))
    _move(session, manager, visited.id, "handled", handling_result="已解释", justified=False)
    version = session.scalar(text("SELECT version FROM complaint_item WHERE id = :i"), {"i": visited.id})
    advance_item(session, manager, visited.id, "return_visited", StepInput(return_visit="客户表示理解"),
                 expected_version=version, now=now)
    total, rows = complaint_items(session, manager, visit_overdue_only=True, now=now)
    assert (total, [r.id for r in rows]) == (1, [old.id])
    update_rule_settings(session, actor_for("admin"), {"complaint.return_visit_days": "2"})
    total, _ = complaint_items(session, manager, visit_overdue_only=True, now=now)
    assert total == 2


def test_branches_see_register_and_handle_only_their_own_items(session, org, actor_for):
    gd_item = register_item(session, actor_for("gd_manager"), _form(org), now=T0)
    zj = actor_for("zj_manager")
    with pytest.raises(ValidationFailed) as forbidden:
        register_item(session, zj, _form(org), now=T0)
    assert forbidden.value.errors[0].key == "complaints.error.branch_forbidden"
    with pytest.raises(ValidationFailed) as other_case:
        register_item(session, zj, _form(org, case_no=make_case(session, org, "gz").case_no, branch_id=None), now=T0)
    assert other_case.value.errors[0].key == "complaints.error.case_unknown"
    assert complaint_items(session, zj)[0] == 0
    with pytest.raises(NotFound):
        item_detail(session, zj, gd_item.id)
    with pytest.raises(NotFound):
        assign_item(session, zj, gd_item.id, org.person("zj_claims"), expected_version=1)
    with pytest.raises(ValidationFailed) as outsider:  # a person of another branch cannot take it
        assign_item(session, actor_for("gd_manager"), gd_item.id, org.person("zj_claims"), expected_version=1)
    assert outsider.value.errors[0].key == "complaints.error.assignee_unknown"
    assert org.person("zj_claims") not in dict(assignee_choices(session, actor_for("gd_manager"), org.branch("gd").id))
    # Only someone who may handle it can take it: an HQ reviewer follows items, with no forms to act.
    with pytest.raises(ValidationFailed) as follower:
        assign_item(session, actor_for("gd_manager"), gd_item.id, org.person("reviewer"), expected_version=1)
    assert follower.value.errors[0].key == "complaints.error.assignee_unknown"
    choices = dict(assignee_choices(session, actor_for("gd_manager"), org.branch("gd").id))
    assert org.person("reviewer") not in choices and {org.person("admin"), org.person("gz_claims")} <= set(choices)
    # Every sub-branch has a claims head of the same title: each is named with their unit.
    unit_of = dict(session.execute(text("SELECT p.id, u.name FROM person p JOIN role_assignment r ON r.person_id = p.id "
                                        "JOIN org_unit u ON u.id = r.unit_id")).tuples().all())
    for username in ("gz_claims", "sz_claims"):
        assert unit_of[org.person(username)] in choices[org.person(username)], choices[org.person(username)]
    assert list(choices).index(org.person("admin")) == len(choices) - 1  # the branch's own people first, then HQ
    # The person it is assigned to sees it wherever they sit (a sub-branch's claims head, an item of
    # the branch); an executive reads but does not handle.
    assign_item(session, actor_for("gd_manager"), gd_item.id, org.person("gz_claims"), expected_version=1)
    assert item_detail(session, actor_for("gz_claims"), gd_item.id).row.assignee
    with pytest.raises(PermissionDenied):
        register_item(session, actor_for("executive"), _form(org), now=T0)
    assert complaint_items(session, actor_for("executive"))[0] == 1


def test_two_people_moving_the_same_item_the_later_is_refused(session, org, actor_for):
    manager, tracker = actor_for("gd_manager"), actor_for("gd_tracker")
    item = register_item(session, manager, _form(org, assignee_id=org.person("gd_claims")), now=T0)
    drawn = session.scalar(text("SELECT version FROM complaint_item WHERE id = :i"), {"i": item.id})
    advance_item(session, manager, item.id, "handled", StepInput(handling_result="已赔付", justified=False),
                 expected_version=drawn, now=T0)
    with pytest.raises(StaleWrite):
        advance_item(session, tracker, item.id, "handled", StepInput(handling_result="另一结论", justified=True,
                                                                     apology="致歉", measure="整改"),
                     expected_version=drawn, now=T0)
    session.expire_all()
    assert session.get(ComplaintItem, item.id).handling_result == "已赔付"


def test_every_register_field_is_validated_and_named(session, org, actor_for):
    with pytest.raises(ValidationFailed) as refused:
        register_item(session, actor_for("gd_manager"), ItemForm(kind="rumour", cause=None, channel="fax",
                                                                 complainant="", summary="a\x07b",
                                                                 received_on=date(1990, 1, 1)), now=T0)
    fields = {e.field: e.key for e in refused.value.errors}
    assert fields == {"complaints.kind": "complaints.error.kind", "complaints.cause": "complaints.error.cause",
                      "complaints.channel": "complaints.error.channel",
                      "complaints.complainant": "cases.error.required",
                      "complaints.summary": "cases.error.control_chars",
                      "complaints.received_on": "cases.error.date_out_of_range",
                      "complaints.branch": "complaints.error.branch_required"}
    assert session.scalar(text("SELECT count(*) FROM complaint_item")) == 0


def test_an_item_on_a_case_cannot_be_received_before_the_case_was_reported(session, org, actor_for):
    """A browser walk registered a complaint received in 2019 on a case reported in 2026."""
    case = make_case(session, org, "gz", report_time=T0 - timedelta(days=3), accident_time=T0 - timedelta(days=4))
    reported = (T0 - timedelta(days=3)).astimezone(ZoneInfo("Asia/Shanghai")).date()
    with pytest.raises(ValidationFailed) as refused:
        register_item(session, actor_for("gd_manager"), _form(org, case_no=case.case_no, branch_id=None,
                                                              received_on=reported - timedelta(days=1)), now=T0)
    [error] = refused.value.errors
    assert (error.field, error.key) == ("complaints.received_on", "complaints.error.received_before_report")
    assert error.params["reported"] == reported.isoformat()
    item = register_item(session, actor_for("gd_manager"), _form(org, case_no=case.case_no, branch_id=None,
                                                                 received_on=reported), now=T0)
    assert item.received_on == reported


def test_the_analysis_counts_by_month_kind_cause_branch_and_outcome(session, org, actor_for):
    manager = actor_for("gd_manager")
    register_item(session, manager, _form(org), now=T0)
    register_item(session, manager, _form(org, cause="amount"), now=T0 + timedelta(days=35))
    dispute = register_item(session, actor_for("zj_manager"), _form(org, kind="dispute", branch_id=org.branch("zj").id,
                                                                     assignee_id=org.person("zj_claims")), now=T0)
    _move(session, actor_for("zj_manager"), dispute.id, "handled", handling_result="协商一致")
    cells = complaint_analysis(session, actor_for("executive"), date_from=T0.date() - timedelta(days=1),
                               date_to=T0.date() + timedelta(days=60))
    assert sum(c.items for c in cells) == 3
    assert {(c.kind, c.outcome) for c in cells} == {("complaint", "open"), ("dispute", "settled")}
    assert len({c.month for c in cells}) == 2
    mine = complaint_analysis(session, manager, date_from=T0.date() - timedelta(days=1),
                              date_to=T0.date() + timedelta(days=60))
    assert {c.branch for c in mine} == {"广东分公司"} and sum(c.items for c in mine) == 2


def test_a_sub_branch_registers_an_item_without_a_case_as_its_own_and_only_its_unit_reassigns(session, org,
                                                                                             actor_for):
    claims = actor_for("gz_claims")
    item = register_item(session, claims, _form(org, assignee_id=org.person("gz_head")), now=T0)
    assert item.sub_branch_id == org.sub_branch("gz").id
    assert item_detail(session, claims, item.id).row.id == item.id
    assert complaint_items(session, actor_for("sz_claims"))[0] == 0  # another sub-branch does not see it
    # Someone who sees an item only as its assignee cannot hand it on (they would lose it mid-write).
    gd_item = register_item(session, actor_for("gd_manager"), _form(org, assignee_id=org.person("sz_claims")), now=T0)
    with pytest.raises(UserError) as refused:
        assign_item(session, actor_for("sz_claims"), gd_item.id, org.person("gd_claims"), expected_version=1)
    assert refused.value.key == "complaints.error.reassign_unit_only"


def test_the_escalation_reason_is_on_the_steps_line(session, org, actor_for):
    manager = actor_for("gd_manager")
    item = register_item(session, manager, _form(org, kind="difficult", assignee_id=org.person("gd_claims")), now=T0)
    with pytest.raises(ValidationFailed) as refused:  # named as the form labels it (上报说明), not "说明"
        _move(session, manager, item.id, "escalated", note="  ")
    assert [e.field for e in refused.value.errors] == ["complaints.escalation_note"]
    _move(session, manager, item.id, "escalated", note="涉及多方责任，报法律部")
    assert item_detail(session, manager, item.id).steps[-1].note == "涉及多方责任，报法律部"


def test_the_register_finds_an_item_by_its_number_the_complainant_or_the_case_number_typed(session, org, actor_for):
    manager = actor_for("gd_manager")
    case = make_case(session, org, "gz")
    by_case = register_item(session, manager, _form(org, case_no=case.case_no, branch_id=None), now=T0)
    other = register_item(session, manager, _form(org, complainant="王_先生"), now=T0 + timedelta(hours=1))
    found = {typed: [r.id for r in complaint_items(session, manager, search=typed, now=T0)[1]]
             for typed in (case.case_no, other.item_no.lower(), "王_", "李%", "  ")}
    assert found == {case.case_no: [by_case.id], other.item_no.lower(): [other.id], "王_": [other.id], "李%": [],
                     "  ": [other.id, by_case.id]}
    assert complaint_items(session, manager, case_id=case.id, now=T0)[0] == 1
    assert complaint_items(session, manager, branch_id=org.branch("zj").id, now=T0)[0] == 0


def test_an_item_opened_shows_what_each_step_recorded_and_its_lines_in_order(session, org, actor_for):
    manager = actor_for("gd_manager")
    item = register_item(session, manager, _form(org, kind="difficult", assignee_id=org.person("gd_claims")), now=T0)
    _move(session, manager, item.id, "escalated", at_hours=2, note="涉及多方责任，报法律部")
    detail = item_detail(session, manager, item.id, now=T0 + timedelta(days=1))
    assert [(line.to_step, line.at) for line in detail.steps] == [
        ("registered", T0), ("assigned", T0), ("escalated", T0 + timedelta(hours=2))]
    assert (detail.row.item_no, detail.row.step, detail.row.visit_overdue) == (item.item_no, "escalated", False)
    assert (detail.branch_id, detail.channel, detail.assignee_id, detail.escalation_note) == (
        org.branch("gd").id, "phone", org.person("gd_claims"), "涉及多方责任，报法律部")
    assert detail.summary == "定损后两周未赔付，要求尽快处理" and detail.next_steps
    assert item_detail(session, manager, item.id, now=T0 + timedelta(days=16)).row.visit_overdue


def test_the_chart_counts_one_dimension_per_month(session, org, actor_for):
    manager = actor_for("gd_manager")
    register_item(session, manager, _form(org), now=T0)
    register_item(session, manager, _form(org, cause="amount"), now=T0)
    window = dict(date_from=T0.date() - timedelta(days=1), date_to=T0.date() + timedelta(days=1))
    assert {(c.value, c.items) for c in counts_by(session, manager, "cause", **window)} == {("speed", 1), ("amount", 1)}
    assert [(c.value, c.items) for c in counts_by(session, manager, "branch", **window)] == [("广东分公司", 2)]
    assert counts_by(session, actor_for("zj_manager"), "kind", **window) == []
