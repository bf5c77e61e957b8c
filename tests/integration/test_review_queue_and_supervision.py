"""The daily HQ review queue job, and exec supervisor follow-up (分级管理办法 第四章 一.1, 一.3–4)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from dashboard.services.errors import NotFound, PermissionDenied, ValidationFailed
from dashboard.services.review.opinions import answer_points, decide_point, post_review_opinion
from dashboard.services.review.queue import QueueFilters, queue_tiered_cases, review_queue
from dashboard.services.review.supervision import (
    assign_supervisor, followed_cases, post_progress_note, post_supervision_opinion, supervision_thread,
    unassign_supervisor,
)
from dashboard.settings import BUSINESS_TZ
from db.models import (
    CaseEvent, Deadline, Notification, OpinionPoint, ReviewQueueEntry, SupervisorAssignment, Upload,
)
from tests.factories import T0, make_case
from tests.review_support import tiered_case


def _d4(session, case_id):
    return session.scalars(select(Deadline).where(Deadline.kind == "D4",
                                                  Deadline.subject_key == f"case:{case_id}:initial_review")).one()


def test_queue_job_is_idempotent_and_starts_d4_at_tiered_at(session, org, actor_for):
    a = tiered_case(session, org, "gz", at=T0)
    b = tiered_case(session, org, "hz", at=T0 + timedelta(hours=2))
    make_case(session, org, "gz")  # not tiered: never queued
    run_at = T0 + timedelta(hours=20)
    first = queue_tiered_cases(session, run_at)
    session.commit()
    second = queue_tiered_cases(session, run_at + timedelta(minutes=1))
    session.commit()
    assert (first.queued, first.d4_started) == (2, 2)
    assert (second.queued, second.d4_started) == (0, 0)
    assert session.scalar(select(func.count()).select_from(ReviewQueueEntry)) == 2
    assert first.queue_date == run_at.astimezone(BUSINESS_TZ).date()
    d4a = _d4(session, a.id)
    assert d4a.started_at == T0
    # D4: the end of the next working day after the case became tiered (Asia/Shanghai): tiered on
    # Friday 20 Nov, so the end of Monday 23 Nov (deadline.D4.mode = working, issue 22).
    assert d4a.due_at == datetime(2026, 11, 24, 0, 0, tzinfo=BUSINESS_TZ)
    # Charged to the HQ reviewer with the fewest open initial reviews: the two reviewers share.
    assert {d4a.responsible_person_id, _d4(session, b.id).responsible_person_id} == {
        org.person("reviewer"), org.person("reviewer2")}


def test_queue_takes_only_cases_tiered_by_the_run_time(session, org):
    tiered_case(session, org, "gz", at=T0 + timedelta(days=2))
    assert queue_tiered_cases(session, T0).queued == 0


def test_queue_job_module_runs_and_exits_zero(session, org, db_url):
    from jobs.daily_review_queue import main

    tiered_case(session, org, "gz")
    assert main(["--as-of", "2026-11-21T00:10"]) == 0
    assert main(["--as-of", "2026-11-21T00:10"]) == 0
    assert session.scalar(select(func.count()).select_from(ReviewQueueEntry)) == 1


def test_review_queue_lists_newest_first_with_material_status(session, org, actor_for):
    old = tiered_case(session, org, "gz", at=T0)
    new = tiered_case(session, org, "nj", at=T0 + timedelta(hours=3))
    session.add(Upload(case_id=old.id, kind="person_vehicle_photo", filename="p.jpg",
                       uploaded_by=org.sub_branch("gz").surveyors[0], uploaded_at=T0 + timedelta(hours=1)))
    session.commit()
    queue_tiered_cases(session, T0 + timedelta(hours=4))
    session.commit()
    total, rows = review_queue(session, actor_for("reviewer"))
    assert total == 2 and [r.case_id for r in rows] == [new.id, old.id]
    assert (rows[1].photo_uploaded, rows[1].report_uploaded) == (True, False)
    assert rows[1].first_responsible  # the dispatched sub-branch claims head
    assert review_queue(session, actor_for("reviewer"), QueueFilters(branch_id=org.branch("js").id))[0] == 1
    assert [r.case_id for r in review_queue(session, actor_for("reviewer"), QueueFilters(case_no=old.case_no))[1]] == [
        old.id]
    with pytest.raises(PermissionDenied):
        review_queue(session, actor_for("gd_manager"))


def test_answers_to_judge_lists_the_cases_whose_branch_answered_and_leaves_when_judged(session, org, actor_for):
    """待审核反馈: the cases with a point the branch answered and HQ has not judged; not a case whose
    points are still open, nor one whose answers were all judged; with the other filters too."""
    reviewer, manager = actor_for("reviewer"), actor_for("gd_manager")
    cases = {name: tiered_case(session, org, "gz", at=T0 + timedelta(hours=n))
             for n, name in enumerate(("answered", "open", "judged"))}
    cases["other_branch"] = tiered_case(session, org, "nj", at=T0 + timedelta(hours=5))
    queue_tiered_cases(session, T0 + timedelta(hours=6))
    session.commit()
    points = {}
    for name, case in cases.items():
        opinion_id = post_review_opinion(session, reviewer, case.id, ["核实驾驶员身份", "补充现场照片"],
                                         now=T0 + timedelta(hours=7))
        points[name] = session.scalars(select(OpinionPoint.id).where(OpinionPoint.opinion_id == opinion_id)
                                       .order_by(OpinionPoint.seq)).all()
    for name in ("answered", "judged"):
        answer_points(session, manager, {points[name][0]: "已核实，系本人驾驶。"}, now=T0 + timedelta(hours=8))
    answer_points(session, actor_for("js_manager"), {points["other_branch"][1]: "照片已上传。"},
                  now=T0 + timedelta(hours=8))
    decide_point(session, reviewer, points["judged"][0], "accepted", now=T0 + timedelta(hours=9))
    to_judge = QueueFilters(status="answered")
    total, rows = review_queue(session, reviewer, to_judge)
    assert total == 2 and {r.case_id for r in rows} == {cases["answered"].id, cases["other_branch"].id}
    assert review_queue(session, reviewer, QueueFilters(status="answered", branch_id=org.branch("gd").id))[1][0]\
        .case_id == cases["answered"].id
    decide_point(session, reviewer, points["answered"][0], "sent_back", reason="请附驾驶证照片",
                 now=T0 + timedelta(hours=10))
    assert [r.case_id for r in review_queue(session, reviewer, to_judge)[1]] == [cases["other_branch"].id]


# --- supervision -------------------------------------------------------------------------------


def test_supervision_opinion_goes_to_the_first_responsible_and_progress_meets_d7(session, org, actor_for):
    case = tiered_case(session, org, "gz")  # T1 → gz_claims
    supervisor, claims_head = actor_for("supervisor"), actor_for("gz_claims")
    t1 = T0 + timedelta(hours=5)
    opinion_id = post_supervision_opinion(session, supervisor, case.id, "请今日内到现场并核实三者损失", now=t1)
    d7 = session.scalars(select(Deadline).where(Deadline.kind == "D7",
                                                Deadline.subject_key == f"supervision:{opinion_id}")).one()
    assert d7.responsible_person_id == org.person("gz_claims") and d7.due_at == t1 + timedelta(hours=48)
    assert session.scalar(select(Notification.recipient_person_id).where(
        Notification.kind == "supervision_opinion")) == org.person("gz_claims")
    (row,) = followed_cases(session, supervisor)[1]
    assert row.awaiting_reply_due == t1 + timedelta(hours=48) and row.supervision_opinions == 1
    t2 = t1 + timedelta(hours=6)
    post_progress_note(session, claims_head, case.id, "已到现场，三者车损约2万元，已拍照取证。", opinion_id=opinion_id,
                       now=t2)
    session.refresh(d7)
    assert d7.met_at == t2
    (row,) = followed_cases(session, supervisor)[1]
    assert row.awaiting_reply_due is None and row.last_progress_at == t2
    entries = supervision_thread(session, supervisor, case.id)
    assert [e.kind for e in entries] == ["supervision", "progress"]
    assert entries[0].met_at == t2
    assert session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id, CaseEvent.kind.in_(
        ["supervision_posted", "progress_reported"])).order_by(CaseEvent.at)).all() == [
        "supervision_posted", "progress_reported"]


def test_a_supervisor_only_sees_and_supervises_assigned_branches(session, org, actor_for):
    gd_case = tiered_case(session, org, "gz")  # 广东: supervisor
    zj_case = tiered_case(session, org, "hz")  # 浙江: supervisor2
    supervisor = actor_for("supervisor")
    total, rows = followed_cases(session, supervisor)
    assert {r.case_id for r in rows} == {gd_case.id}
    with pytest.raises(NotFound):
        post_supervision_opinion(session, supervisor, zj_case.id, "请核实", now=T0)
    session.rollback()
    with pytest.raises(NotFound):
        supervision_thread(session, supervisor, zj_case.id)


def test_a_first_responsible_sees_only_their_dispatched_cases(session, org, actor_for):
    mine = tiered_case(session, org, "gz")  # gz_claims
    tiered_case(session, org, "sz")  # sz_claims
    total, rows = followed_cases(session, actor_for("gz_claims"))
    assert [r.case_id for r in rows] == [mine.id]
    # A branch claims head is not dispatched on T1 cases: the branch's cases are not theirs.
    assert followed_cases(session, actor_for("gd_claims"))[0] == 0
    with pytest.raises(NotFound):
        post_progress_note(session, actor_for("sz_claims"), mine.id, "已到现场", now=T0)
    session.rollback()
    with pytest.raises(PermissionDenied):
        post_progress_note(session, actor_for("gd_manager"), mine.id, "已到现场", now=T0)


def test_the_branch_tracker_records_progress_on_the_branchs_cases_only(session, org, actor_for):
    gd_case = tiered_case(session, org, "gz")
    post_progress_note(session, actor_for("gd_tracker"), gd_case.id, "客户已提交维修发票，待核损。", now=T0)
    with pytest.raises(NotFound):
        post_progress_note(session, actor_for("zj_tracker"), gd_case.id, "客户已提交维修发票，待核损。", now=T0)
    session.rollback()
    with pytest.raises(ValidationFailed):
        post_progress_note(session, actor_for("gd_tracker"), gd_case.id, "   ", now=T0)


def test_admin_assigns_and_unassigns_key_branches(session, org, actor_for):
    admin = actor_for("admin")
    zj = org.branch("zj").id
    assert assign_supervisor(session, admin, org.person("supervisor"), zj, now=T0) is True
    assert assign_supervisor(session, admin, org.person("supervisor"), zj, now=T0) is False
    zj_case = tiered_case(session, org, "hz")
    assert zj_case.id in {r.case_id for r in followed_cases(session, actor_for("supervisor"))[1]}
    assert unassign_supervisor(session, admin, org.person("supervisor"), zj, now=T0) is True
    assert zj_case.id not in {r.case_id for r in followed_cases(session, actor_for("supervisor"))[1]}
    with pytest.raises(ValidationFailed):
        assign_supervisor(session, admin, org.person("gd_manager"), zj, now=T0)
    session.rollback()
    with pytest.raises(PermissionDenied):
        assign_supervisor(session, actor_for("supervisor"), org.person("supervisor"), zj, now=T0)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(SupervisorAssignment)
                          .where(SupervisorAssignment.branch_id == zj)) == 1  # supervisor2 from the demo org


def test_the_followed_list_puts_cases_awaiting_a_reply_first_and_pages_across_both_parts(
        session, org, actor_for):
    """Migration 0040: the cases awaiting a reply are read apart (soonest due first) and the others
    walked newest tiered first; a page that straddles the two, or lies wholly in either, is the
    same slice of the whole list, and the count (kept per sub-branch where the scope is whole
    branches) is the live count of the list."""
    from dashboard.services.review.supervision import _followed_count_statement

    supervisor, gz_claims = actor_for("supervisor"), actor_for("gz_claims")
    c = [tiered_case(session, org, sub, at=T0 + timedelta(hours=i))
         for i, sub in enumerate(["gz", "sz", "gz", "sz", "gz", "hz"])]
    post_supervision_opinion(session, supervisor, c[0].id, "请核实三者损失", now=T0 + timedelta(hours=10))
    post_supervision_opinion(session, supervisor, c[3].id, "请今日到现场", now=T0 + timedelta(hours=8))
    answered = post_supervision_opinion(session, supervisor, c[2].id, "请补充照片", now=T0 + timedelta(hours=9))
    post_progress_note(session, gz_claims, c[2].id, "已补充现场照片", opinion_id=answered, now=T0 + timedelta(hours=11))
    closed = tiered_case(session, org, "gz", at=T0 + timedelta(hours=7))
    closed.state, closed.closed_at = "closed", T0 + timedelta(hours=12)
    session.commit()

    expected = {  # awaiting a reply by due time (c[3] was posted to first), then newest tiered first
        "supervisor": [c[3], c[0], c[4], c[2], c[1]],  # 广东 only
        "admin": [c[3], c[0], c[5], c[4], c[2], c[1]],  # every branch
        "gz_claims": [c[0], c[4], c[2]],  # the cases dispatched to them
    }
    for username, cases in expected.items():
        actor = actor_for(username)
        total, whole = followed_cases(session, actor)
        assert [r.case_id for r in whole] == [case.id for case in cases], username
        assert total == len(cases) == session.scalar(_followed_count_statement(actor, False, None, None, None))
        assert [r.awaiting_reply_due is not None for r in whole][:2] == [True, username != "gz_claims"]
        for size in (1, 2, 4):
            paged = [r.case_id for offset in range(0, total + size, size)
                     for r in followed_cases(session, actor, limit=size, offset=offset, total=total)[1]]
            assert paged == [case.id for case in cases], (username, size)
    # A branch chosen: the kept count and the list narrow to it.
    guangdong = followed_cases(session, supervisor, branch_id=org.branch("gd").id)
    assert guangdong[0] == 5 and followed_cases(session, supervisor, branch_id=org.branch("zj").id)[0] == 0
    # Closed cases listed on request: counted live, newest tiered first after those awaiting a reply.
    total, rows = followed_cases(session, supervisor, include_closed=True)
    assert total == 6 and [r.case_id for r in rows] == [c[3].id, c[0].id, closed.id, c[4].id, c[2].id, c[1].id]


def test_the_queue_keeps_red_first_then_newest_tiered_as_cases_are_recoloured_and_re_tiered(
        session, org, actor_for):
    """Each entry carries its case's colour rank and tiered time (migration 0046): recolouring or
    re-tiering a queued case moves it in the queue; every page size gives the whole queue in the
    order the cases themselves give; the count without a case filter reads the entries alone and
    agrees with the one that filters by branch."""
    from dashboard.services.cases.risk import colour_rank
    from db.models import ClaimCase

    subs = ["gz", "nj", "hz", "sz", "gz", "nj", "hz"]
    cases = [tiered_case(session, org, sub, at=T0 + timedelta(hours=i)) for i, sub in enumerate(subs)]
    colours = [None, "red", "blue", "yellow", "red", None, "blue"]
    for case, colour in zip(cases, colours):
        case.risk_colour = colour
    session.commit()
    queue_tiered_cases(session, T0 + timedelta(hours=12))
    session.commit()
    # After queueing: one recoloured, one re-tiered later, one reviewed.
    cases[0].risk_colour = "red"
    cases[2].tiered_at = T0 + timedelta(hours=11)
    session.execute(ReviewQueueEntry.__table__.update().where(ReviewQueueEntry.case_id == cases[5].id)
                    .values(reviewed_at=T0 + timedelta(hours=13)))
    session.commit()
    kept = session.execute(select(ReviewQueueEntry.case_id, ReviewQueueEntry.colour_rank, ReviewQueueEntry.tiered_at,
                                  colour_rank(), ClaimCase.tiered_at)
                           .join(ClaimCase, ClaimCase.id == ReviewQueueEntry.case_id)).all()
    assert len(kept) == len(cases) and all((r[1], r[2]) == (r[3], r[4]) for r in kept)
    waiting = [c for c in cases if c.id != cases[5].id]
    rank = {"red": 0, "yellow": 1, "blue": 2, None: 3}
    expected = [c.id for c in sorted(waiting, key=lambda c: (rank[c.risk_colour], -c.tiered_at.timestamp(), -c.id))]
    assert {expected[0], expected[1], expected[2]} == {cases[0].id, cases[1].id, cases[4].id}  # the reds
    reviewer = actor_for("reviewer")
    total, rows = review_queue(session, reviewer)
    assert total == len(waiting) and [r.case_id for r in rows] == expected
    for size in (1, 2, 4):
        pages = [review_queue(session, reviewer, limit=size, offset=o, total=total)[1]
                 for o in range(0, total, size)]
        assert [r.case_id for page in pages for r in page] == expected
    gd = org.branch("gd").id
    assert review_queue(session, reviewer, QueueFilters(branch_id=gd))[0] == sum(
        1 for c in waiting if c.branch_id == gd)
    assert review_queue(session, reviewer, QueueFilters(status="all"))[0] == len(cases)


@pytest.mark.parametrize("first", ["recolour", "queue"])
def test_a_case_recoloured_while_it_is_queued_keeps_its_new_colour_in_the_queue(db_url, session, org, first):
    """Queueing reads the case FOR SHARE: a recolouring holding the case makes it wait and read the
    new colour; a queueing holding it makes the recolouring wait and then update the entry."""
    from db.engine import JOB_ROLE, session_factory
    from db.models import ClaimCase
    from tests.two_writers import second_waits_for_first

    case = tiered_case(session, org, "gz", at=T0)

    def recolour(s):
        s.execute(ClaimCase.__table__.update().where(ClaimCase.id == case.id).values(risk_colour="red"))

    def queue(s):
        queue_tiered_cases(s, T0 + timedelta(hours=1))

    app, job = session_factory(db_url)(), session_factory(db_url, role=JOB_ROLE)()
    if first == "recolour":
        second_waits_for_first(app, job, recolour, queue)
    else:
        second_waits_for_first(job, app, queue, recolour)
    session.expire_all()
    assert session.scalar(select(ReviewQueueEntry.colour_rank).where(ReviewQueueEntry.case_id == case.id)) == 0
