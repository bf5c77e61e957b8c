"""Case detail timeline and case state changes, on a real PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard.services.cases.detail import case_detail, find_case_id
from dashboard.services.cases.state import advance_state
from dashboard.services.dispatching.dispatch import record_contact_attempt, record_estimate
from dashboard.services.errors import NotFound, PermissionDenied, StaleWrite, UserError
from tests import sample_files
from dashboard.services.evidence.uploads import record_upload
from dashboard.services.stale import shown_time
from db.models import CaseEvent, ClaimCase, Opinion, OpinionPoint, Person, PointAnswer, PointVerdict, ProgressNote
from tests.factories import T0, make_case


def _reviewed_case(session, org, actor_for):
    """A gz case (广东分公司) estimated at T0+1h (T2: two persons), material, an HQ opinion and its answer."""
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, "200000", now=T0 + timedelta(hours=1))
    record_upload(session, actor_for("gz_surveyor1"), case.id, "scene_photos", "scene.jpg", sample_files.jpeg(),
                  now=T0 + timedelta(hours=3))
    opinion = Opinion(case_id=case.id, branch_id=case.branch_id, kind="hq_review", author_id=org.person("reviewer"),
                      addressed_to_person_id=org.person("gd_manager"), posted_at=T0 + timedelta(hours=5))
    session.add(opinion)
    session.flush()
    point = OpinionPoint(opinion_id=opinion.id, seq=1, body="核实驾驶员是否酒驾", status="answered")
    session.add(point)
    session.flush()
    answer = PointAnswer(point_id=point.id, author_id=org.person("gd_manager"), body="已调取交警笔录，未饮酒",
                         answered_at=T0 + timedelta(hours=20))
    session.add(answer)
    session.flush()
    session.add(PointVerdict(point_id=point.id, answer_id=answer.id, verdict="sent_back", reason="请附笔录照片",
                             decided_by=org.person("reviewer"), decided_at=T0 + timedelta(hours=22)))
    session.add(ProgressNote(case_id=case.id, author_id=org.person("gz_head"), body="已到现场查看",
                             posted_at=T0 + timedelta(hours=4)))
    session.commit()
    session.refresh(case)
    return case


def test_timeline_shows_every_kind_of_event_in_time_order_with_who_and_role(session, org, actor_for):
    case = _reviewed_case(session, org, actor_for)
    manager = actor_for("gd_manager")
    advance_state(session, manager, case.id, "investigating", case.version, now=T0 + timedelta(hours=30))
    detail = case_detail(session, manager, case.id, now=T0 + timedelta(hours=31))

    times = [e.at for e in detail.timeline]
    assert times == sorted(times)
    kinds = [e.kind for e in detail.timeline]
    first_of = {k: kinds.index(k) for k in reversed(kinds)}
    assert first_of["reported"] < first_of["estimate"] < first_of["upload"] < first_of["progress"] \
        < first_of["opinion"] < first_of["answer"] < first_of["verdict"]
    assert {"dispatch", "notification", "event"} <= set(kinds)
    estimate = next(e for e in detail.timeline if e.kind == "estimate")
    callcenter = actor_for("callcenter")
    assert (estimate.actor_name, estimate.actor_role) == (callcenter.full_name, "call_center")
    assert estimate.details["tier_after"] == "T2"
    dispatched = {e.details["person"] for e in detail.timeline if e.kind == "dispatch"}
    assert dispatched == {actor_for("gz_head").full_name, actor_for("gz_finance").full_name}
    state_change = detail.timeline[-1]
    assert state_change.summary == "detail.ev.event.state_changed"
    assert (state_change.details["before"], state_change.details["after"]) == ("dispatched", "investigating")
    assert state_change.actor_name == manager.full_name and state_change.actor_role == "branch_manager"
    verdict = next(e for e in detail.timeline if e.kind == "verdict")
    assert verdict.summary == "detail.ev.verdict_sent_back" and verdict.details["reason"] == "请附笔录照片"


def test_timeline_shows_each_record_once_not_again_from_the_history_table(session, org, actor_for):
    case = _reviewed_case(session, org, actor_for)
    detail = case_detail(session, actor_for("gd_manager"), case.id)
    assert [e.kind for e in detail.timeline].count("estimate") == 1
    assert not any(e.details.get("event_kind") in ("estimate_recorded", "dispatched", "material_uploaded")
                   for e in detail.timeline)


def test_facts_name_the_tier_rule_version_and_the_units(session, org, actor_for):
    case = _reviewed_case(session, org, actor_for)
    facts = case_detail(session, actor_for("executive"), case.id).facts
    assert facts.tier == "T2" and facts.tier_rule_version == 1 and not facts.tier_rule_branch_specific
    assert (facts.branch_name, facts.sub_branch_name) == ("广东分公司", "广州中心支公司")


def test_deadlines_are_listed_as_met_late_or_open(session, org, actor_for):
    case = _reviewed_case(session, org, actor_for)
    detail = case_detail(session, actor_for("gd_manager"), case.id, now=T0 + timedelta(hours=2))
    assert {d.kind for d in detail.deadlines} >= {"D1", "D2", "D3"}
    assert all(d.status == "open" for d in detail.deadlines)
    later = case_detail(session, actor_for("gd_manager"), case.id, now=T0 + timedelta(days=5))
    assert {d.status for d in later.deadlines if d.kind == "D2"} == {"overdue"}


@pytest.mark.parametrize("username", ["zj_manager", "zj_tracker", "hz_surveyor1", "hz_claims"])
def test_another_branchs_person_gets_not_found_for_the_case(session, org, actor_for, username):
    case = _reviewed_case(session, org, actor_for)
    with pytest.raises(NotFound):
        case_detail(session, actor_for(username), case.id)
    with pytest.raises(NotFound):
        find_case_id(session, actor_for(username), case.case_no)


@pytest.mark.parametrize("username", ["gd_tracker", "gz_surveyor1", "gz_head", "executive", "reviewer"])
def test_the_cases_branch_its_people_and_hq_can_open_it(session, org, actor_for, username):
    case = _reviewed_case(session, org, actor_for)
    assert find_case_id(session, actor_for(username), f"  {case.case_no} ") == case.id
    assert case_detail(session, actor_for(username), case.id).facts.case_no == case.case_no


def test_unknown_case_number_is_not_found(session, org, actor_for):
    with pytest.raises(NotFound):
        find_case_id(session, actor_for("admin"), "NO-SUCH-CASE")


def test_stale_state_change_is_refused_and_changes_nothing(session, org, actor_for):
    case = _reviewed_case(session, org, actor_for)
    version = case.version
    advance_state(session, actor_for("gd_manager"), case.id, "investigating", version)
    with pytest.raises(StaleWrite) as err:
        advance_state(session, actor_for("gd_tracker"), case.id, "assessed", version)
    # The refusal names who moved the case and when, so the person knows whom to ask.
    assert err.value.key == "common.stale_write_by"
    manager = session.get(Person, org.person("gd_manager"))
    assert err.value.params["who"] == manager.full_name
    assert err.value.params["at"] == shown_time(session.scalar(
        select(func.max(CaseEvent.at)).where(CaseEvent.case_id == case.id)))
    session.expire_all()
    stored = session.get(ClaimCase, case.id)
    assert stored.state == "investigating" and stored.version == version + 1
    changes = session.scalar(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.case_id == case.id, CaseEvent.kind == "state_changed"))
    assert changes == 1


def test_closing_then_reopening_counts_the_reopen_and_records_history(session, org, actor_for):
    case = _reviewed_case(session, org, actor_for)
    admin = actor_for("admin")
    closed = advance_state(session, admin, case.id, "closed", case.version, now=T0 + timedelta(days=9))
    assert closed.state == "closed" and closed.closed_at == T0 + timedelta(days=9)
    reopened = advance_state(session, admin, case.id, "reopened", closed.version, now=T0 + timedelta(days=10))
    assert reopened.state == "reopened" and reopened.reopen_count == 1 and reopened.closed_at is None
    history = session.execute(select(CaseEvent.payload).where(CaseEvent.case_id == case.id,
                                                              CaseEvent.kind == "state_changed")
                              .order_by(CaseEvent.id)).scalars().all()
    assert [(p["before"], p["after"]) for p in history] == [("dispatched", "closed"), ("closed", "reopened")]


def test_moving_a_case_backwards_is_refused(session, org, actor_for):
    case = _reviewed_case(session, org, actor_for)
    with pytest.raises(UserError) as err:
        advance_state(session, actor_for("gd_manager"), case.id, "surveyed", case.version)
    assert err.value.key == "detail.state.system_only"


def test_executive_and_reviewer_may_read_but_not_change_state(session, org, actor_for):
    case = _reviewed_case(session, org, actor_for)
    for username in ("executive", "reviewer"):
        with pytest.raises(PermissionDenied):
            advance_state(session, actor_for(username), case.id, "investigating", case.version)
        assert case_detail(session, actor_for(username), case.id).allowed_states == ()


def test_another_branchs_manager_cannot_change_the_case_and_learns_nothing(session, org, actor_for):
    case = _reviewed_case(session, org, actor_for)
    with pytest.raises(NotFound):
        advance_state(session, actor_for("zj_manager"), case.id, "investigating", case.version)
    session.expire_all()
    assert session.get(ClaimCase, case.id).state == "dispatched"


def test_timeline_keeps_amounts_exact_times_aware_and_every_named_person(session, org, actor_for):
    """The timeline is read in one statement as jsonb: amounts must come back as exact Decimals,
    times as aware datetimes, and every person it mentions by name (delegate, on-behalf, late clock)."""
    from decimal import Decimal

    from dashboard.i18n import set_language
    from dashboard.ui.case_timeline import describe
    from db.models import Deadline

    case = make_case(session, org, "gz")
    cc = actor_for("callcenter")
    result = record_estimate(session, cc, case.id, "86000.10", now=T0)
    claims_head = result.dispatched[0].person_id
    delegate = org.sub_branch("gz").surveyors[1]
    record_contact_attempt(session, cc, result.dispatched[0].dispatch_id, "unavailable", reason="出差",
                           delegate_person_id=delegate, now=T0 + timedelta(minutes=5))
    surveyor = actor_for("gz_surveyor1")
    record_upload(session, surveyor, case.id, "person_vehicle_photo", "photo.jpg", sample_files.jpeg(),
                  on_behalf_of_person_id=claims_head, now=T0 + timedelta(hours=26))
    names = dict(session.execute(select(Person.id, Person.full_name)
                                 .where(Person.id.in_([claims_head, delegate, surveyor.person_id]))).all())

    detail = case_detail(session, actor_for("gd_manager"), case.id, now=T0 + timedelta(hours=30))

    estimate = next(e for e in detail.timeline if e.kind == "estimate")
    assert estimate.details["amount"] == Decimal("86000.10") and isinstance(estimate.details["amount"], Decimal)
    contact = next(e for e in detail.timeline if e.kind == "contact")
    assert (contact.details["person"], contact.details["delegate"]) == (names[claims_head], names[delegate])
    upload = next(e for e in detail.timeline if e.kind == "upload")
    assert upload.details["on_behalf"] == names[claims_head] and upload.actor_name == names[surveyor.person_id]
    set_language("zh")
    assert "¥86,000.10" in describe(estimate) and names[delegate] in describe(contact)
    d2_row = session.scalars(select(Deadline).where(Deadline.case_id == case.id, Deadline.kind == "D2")).one()
    d2 = next(d for d in detail.deadlines if d.kind == "D2")
    assert (d2.status, d2.due_at, d2.met_at) == ("met_late", d2_row.due_at, d2_row.met_at)
    assert d2.due_at.tzinfo is not None and d2.also_charged_name == names[surveyor.person_id]
    assert detail.dispatched == [(claims_head, names[claims_head])]
    assert [d.due_at for d in detail.deadlines] == sorted(d.due_at for d in detail.deadlines)


def test_a_case_number_typed_in_lower_case_or_full_width_finds_the_case(session, org, actor_for):
    """Chinese input methods type full-width letters and digits; people type lower case. Both
    mean the case's number; another branch's case stays not found, whatever the form."""
    import unicodedata

    case = _reviewed_case(session, org, actor_for)
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in case.case_no)
    assert unicodedata.normalize("NFKC", full_width) == case.case_no != full_width
    for typed in (case.case_no.lower(), full_width, f" {full_width.lower()} "):
        assert find_case_id(session, actor_for("gd_tracker"), typed) == case.id, typed
        with pytest.raises(NotFound):
            find_case_id(session, actor_for("zj_manager"), typed)
    with pytest.raises(NotFound):
        find_case_id(session, actor_for("gd_tracker"), case.case_no[-4:])  # a part is not the number


def test_closing_a_case_stops_its_open_clocks_and_keeps_its_breaches(session, org, actor_for):
    """A closed case chased its people for ever (the walk: a 结案归档 case topped a manager's to-do
    list, 超时 110 天). Closing it now cancels its open clocks; one already past due is recorded as a
    violation first (late stays late), one not yet due leaves no violation."""
    from datetime import timedelta

    from sqlalchemy import select

    from dashboard.services.cases.state import advance_state
    from dashboard.services.dispatching.dispatch import record_estimate
    from dashboard.services.figures.home import my_open_tasks
    from db.models import ClaimCase, Deadline, Violation
    from tests.factories import T0, make_case

    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, "86000", now=T0)  # D1, D2 24 h, D3 72 h
    closing = T0 + timedelta(hours=30)  # D1 and D2 past due and unmet; D3 still ahead
    version = session.get(ClaimCase, case.id).version
    assert my_open_tasks(session, actor_for("gz_claims"))[0] > 0
    advance_state(session, actor_for("callcenter"), case.id, "closed", version, now=closing)
    session.expire_all()
    clocks = session.scalars(select(Deadline).where(Deadline.case_id == case.id)).all()
    assert clocks and all(c.cancelled_at == closing for c in clocks)
    late = {c.id for c in clocks if c.due_at < closing}
    assert late and set(session.scalars(select(Violation.deadline_id).where(Violation.case_id == case.id))) == late
    assert my_open_tasks(session, actor_for("gz_claims"))[0] == 0


def test_each_d5_clock_says_which_review_point_it_is_for(session, org, actor_for):
    """Three points of one opinion share their person and due time: the clocks table and the phone
    cards read as three identical D5 lines unless each says its point (the walk)."""
    from datetime import timedelta

    from dashboard.services.cases.detail import case_detail
    from dashboard.services.review.opinions import post_review_opinion
    from tests.factories import T0
    from tests.review_support import tiered_case

    case = tiered_case(session, org, "gz")
    post_review_opinion(session, actor_for("reviewer"), case.id, ["核实驾驶员", "调取监控", "核对报价"],
                        now=T0 + timedelta(hours=3))
    d5 = [d for d in case_detail(session, actor_for("gd_manager"), case.id, now=T0 + timedelta(hours=4)).deadlines
          if d.kind == "D5"]
    assert sorted((d.point_seq, d.answer_round, d.status) for d in d5) == [(1, 1, "open"), (2, 1, "open"),
                                                                            (3, 1, "open")]
