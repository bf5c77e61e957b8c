"""HQ review opinion → point-by-point answers → send back → answer → accept → closed
(分级管理办法 第四章 一.2, 一.5, 二), on a real PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.services.errors import NotFound, PermissionDenied, UserError, ValidationFailed
from dashboard.services.review.opinions import (
    answer_points, branch_inbox, branch_opinion, case_facts, case_opinions, decide_point, post_review_opinion,
    tracker_register,
)
from db.models import CaseEvent, Deadline, Notification, Opinion, OpinionPoint, PointAnswer, ReviewQueueEntry
from tests.factories import T0
from tests.review_support import tiered_case

POINTS = ["核实驾驶员是否为被保险人本人", "调取事故现场监控录像", "关注修理厂报价是否虚高"]


def _points(session, opinion_id):
    return session.scalars(select(OpinionPoint).where(OpinionPoint.opinion_id == opinion_id)
                           .order_by(OpinionPoint.seq)).all()


def _d5(session, point_id):
    return session.scalars(select(Deadline).where(Deadline.kind == "D5",
                                                  Deadline.subject_key.like(f"point:{point_id}:round:%"))
                           .order_by(Deadline.id)).all()


def test_full_loop_opinion_answer_send_back_answer_accept_closes_the_review(session, org, actor_for):
    case = tiered_case(session, org, "gz")
    reviewer, manager = actor_for("reviewer"), actor_for("gd_manager")
    t1 = T0 + timedelta(hours=3)
    opinion_id = post_review_opinion(session, reviewer, case.id, POINTS[:2], now=t1)
    p1, p2 = _points(session, opinion_id)
    assert [p.status for p in (p1, p2)] == ["open", "open"]
    # One D5 clock per point for the branch manager, 48 h after the opinion.
    for point in (p1, p2):
        (clock,) = _d5(session, point.id)
        assert clock.subject_key == f"point:{point.id}:round:1"
        assert clock.responsible_person_id == org.person("gd_manager")
        assert clock.due_at == t1 + timedelta(hours=48)
    # Sent to the branch manager, copied to the branch's exec supervisor.
    recipients = session.execute(select(Notification.recipient_person_id, Notification.kind)
                                 .where(Notification.case_id == case.id,
                                        Notification.kind.like("review_opinion%"))).all()
    assert set(recipients) == {(org.person("gd_manager"), "review_opinion"),
                               (org.person("supervisor"), "review_opinion_copy")}

    t2 = t1 + timedelta(hours=5)
    answer_points(session, manager, {p1.id: "已电话联系被保险人，确认驾驶员为其本人，附通话录音。",
                                     p2.id: "已向交警调取路口监控，录像显示追尾属实。"}, now=t2)
    session.refresh(p1), session.refresh(p2)
    assert (p1.status, p2.status) == ("answered", "answered")
    assert all(d.met_at == t2 for p in (p1, p2) for d in _d5(session, p.id))

    t3 = t2 + timedelta(hours=1)
    decide_point(session, reviewer, p1.id, "accepted", now=t3)
    decide_point(session, reviewer, p2.id, "sent_back", "请上传监控录像截图作为证据", now=t3)
    session.refresh(p2)
    assert p2.status == "sent_back"
    rounds = _d5(session, p2.id)
    assert [d.subject_key for d in rounds] == [f"point:{p2.id}:round:1", f"point:{p2.id}:round:2"]
    assert rounds[1].due_at == t3 + timedelta(hours=48) and rounds[1].met_at is None
    assert session.get(Opinion, opinion_id).closed_at is None
    # The thread as the pages read it: the sent-back point is in round 2 with its new due time, and
    # each answer carries its verdict and who decided it.
    (view,) = case_opinions(session, manager, case.id)
    v1, v2 = view.points
    assert (v1.round, v1.answers[0].verdict, v1.answers[0].verdict_by) == (1, "accepted", reviewer.full_name)
    assert (v2.round, v2.due_at, v2.answers[0].verdict) == (2, t3 + timedelta(hours=48), "sent_back")
    assert v2.answers[0].verdict_reason == "请上传监控录像截图作为证据"
    assert (view.case_no, view.author, view.addressed_to) == (case.case_no, reviewer.full_name, manager.full_name)

    # The same text again is not a new answer to a sent-back point.
    with pytest.raises(ValidationFailed) as refused:
        answer_points(session, manager, {p2.id: "已向交警调取路口监控，录像显示追尾属实。"}, now=t3)
    assert refused.value.errors[0].key == "review.answer.same_as_before"
    session.rollback()

    t4 = t3 + timedelta(hours=2)
    answer_points(session, manager, {p2.id: "监控截图三张已上传至理赔系统影像资料。"}, now=t4)
    decide_point(session, reviewer, p2.id, "accepted", now=t4 + timedelta(minutes=5))
    assert session.get(Opinion, opinion_id).closed_at == t4 + timedelta(minutes=5)

    kinds = session.scalars(select(CaseEvent.kind).where(
        CaseEvent.case_id == case.id, CaseEvent.kind.in_(
            ["opinion_posted", "point_answered", "point_sent_back", "point_accepted", "review_closed"]))
        .order_by(CaseEvent.at, CaseEvent.id)).all()
    assert kinds == ["opinion_posted", "point_answered", "point_answered", "point_accepted", "point_sent_back",
                     "point_answered", "point_accepted", "review_closed"]
    # Answers are never overwritten: both answers to point 2 are kept.
    assert session.scalar(select(PointAnswer.id).where(PointAnswer.point_id == p2.id).offset(1)) is not None
    views = case_opinions(session, reviewer, case.id)
    assert [len(p.answers) for p in views[0].points] == [1, 2]
    assert views[0].points[1].answers[0].verdict == "sent_back"
    # Each point keeps its answers' count and total wait for the overview (trigger, migration 0008):
    # point 1 waited 5 h; point 2 waited 5 h for its first answer and 2 h after the send-back.
    session.refresh(p1), session.refresh(p2)
    assert (p1.answer_count, p1.answer_seconds) == (1, 5 * 3600)
    assert (p2.answer_count, p2.answer_seconds) == (2, 7 * 3600)


def test_initial_opinion_meets_d4_and_marks_the_queue_entry_reviewed(session, org, actor_for):
    from dashboard.services.review.queue import queue_tiered_cases

    case = tiered_case(session, org, "sz")
    queue_tiered_cases(session, T0 + timedelta(hours=1))
    session.commit()
    t1 = T0 + timedelta(hours=2)
    post_review_opinion(session, actor_for("reviewer"), case.id, ["核实损失范围"], now=t1)
    d4 = session.scalars(select(Deadline).where(Deadline.kind == "D4",
                                                Deadline.subject_key == f"case:{case.id}:initial_review")).one()
    assert d4.met_at == t1
    assert session.scalar(select(ReviewQueueEntry.reviewed_at).where(ReviewQueueEntry.case_id == case.id)) == t1
    # A second opinion on the same case is a follow-up: D4 stays met at the first.
    post_review_opinion(session, actor_for("reviewer2"), case.id, ["补充三者车辆损失照片"], now=t1 + timedelta(days=1))
    session.refresh(d4)
    assert d4.met_at == t1


def test_answer_after_the_due_time_is_accepted_and_recorded_late(session, org, actor_for):
    case = tiered_case(session, org, "gz")
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, ["核实出险经过"], now=T0)
    (point,) = _points(session, opinion_id)
    late_at = T0 + timedelta(hours=49)
    answer_points(session, actor_for("gd_manager"), {point.id: "已询问驾驶员并做笔录，出险经过与报案一致。"}, now=late_at)
    answer = session.scalars(select(PointAnswer).where(PointAnswer.point_id == point.id)).one()
    assert answer.late is True
    (clock,) = _d5(session, point.id)
    assert clock.met_at == late_at and clock.met_at > clock.due_at


@pytest.mark.parametrize("texts, key", [
    (("", "已调取监控录像"), "review.answer.empty"),
    (("已处理", "已调取监控录像"), "review.answer.bare"),
    (("收到，已落实。", "已调取监控录像"), "review.answer.bare"),
    (("已按要求全部核实完毕", "已按要求全部核实完毕"), "review.answer.duplicate"),
])
def test_each_point_needs_its_own_real_answer(session, org, actor_for, texts, key):
    case = tiered_case(session, org, "gz")
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, POINTS[:2], now=T0)
    p1, p2 = _points(session, opinion_id)
    with pytest.raises(ValidationFailed) as refused:
        answer_points(session, actor_for("gd_manager"), {p1.id: texts[0], p2.id: texts[1]}, now=T0)
    assert key in {e.key for e in refused.value.errors}
    session.rollback()
    assert session.scalar(select(PointAnswer.id).where(PointAnswer.point_id.in_([p1.id, p2.id]))) is None


def test_copying_another_points_earlier_answer_is_refused(session, org, actor_for):
    case = tiered_case(session, org, "gz")
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, POINTS[:2], now=T0)
    p1, p2 = _points(session, opinion_id)
    manager = actor_for("gd_manager")
    answer_points(session, manager, {p1.id: "驾驶员系被保险人之子，有准驾资格。"}, now=T0)
    with pytest.raises(ValidationFailed) as refused:
        answer_points(session, manager, {p2.id: "驾驶员系被保险人之子，有准驾资格。"}, now=T0)
    assert refused.value.errors[0].key == "review.answer.duplicate"


def test_sending_back_needs_a_reason_and_an_answer_to_judge(session, org, actor_for):
    case = tiered_case(session, org, "gz")
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, POINTS[:1], now=T0)
    (point,) = _points(session, opinion_id)
    with pytest.raises(UserError, match="review.verdict.not_answered"):
        decide_point(session, actor_for("reviewer"), point.id, "accepted", now=T0)
    session.rollback()
    answer_points(session, actor_for("gd_manager"), {point.id: "已核实驾驶员身份，与保单一致。"}, now=T0)
    with pytest.raises(ValidationFailed):
        decide_point(session, actor_for("reviewer"), point.id, "sent_back", "  ", now=T0)


def test_an_opinion_needs_distinct_non_empty_points_and_a_tiered_case(session, org, actor_for):
    from tests.factories import make_case

    case = tiered_case(session, org, "gz")
    with pytest.raises(ValidationFailed):
        post_review_opinion(session, actor_for("reviewer"), case.id, [], now=T0)
    session.rollback()
    with pytest.raises(ValidationFailed) as refused:
        post_review_opinion(session, actor_for("reviewer"), case.id, ["核实损失", "核实 损失"], now=T0)
    assert refused.value.errors[0].key == "review.points.duplicate"
    session.rollback()
    untiered = make_case(session, org, "gz")
    with pytest.raises(UserError, match="review.case_not_tiered"):
        post_review_opinion(session, actor_for("reviewer"), untiered.id, ["核实损失"], now=T0)


# --- permissions -------------------------------------------------------------------------------


def test_another_branch_cannot_read_or_answer_the_opinion(session, org, actor_for):
    case = tiered_case(session, org, "gz")  # 广东
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, POINTS[:1], now=T0)
    (point,) = _points(session, opinion_id)
    zj_manager = actor_for("zj_manager")
    with pytest.raises(NotFound):
        answer_points(session, zj_manager, {point.id: "已核实驾驶员身份，与保单一致。"}, now=T0)
    session.rollback()
    with pytest.raises(NotFound):
        case_opinions(session, zj_manager, case.id)
    with pytest.raises(NotFound):
        case_facts(session, actor_for("zj_tracker"), case.id)
    assert branch_inbox(session, zj_manager)[0] == 0
    with pytest.raises(NotFound):  # not even by its id
        branch_opinion(session, zj_manager, opinion_id)
    assert branch_opinion(session, actor_for("gd_manager"), opinion_id).case_no == case.case_no
    assert tracker_register(session, actor_for("zj_tracker"))[0] == 0
    assert branch_inbox(session, actor_for("gd_manager"))[0] == 1
    assert tracker_register(session, actor_for("gd_tracker"))[0] == 1


def test_only_hq_reviewers_post_and_judge_and_only_the_branch_manager_answers(session, org, actor_for):
    case = tiered_case(session, org, "gz")
    for username in ("gd_manager", "admin", "supervisor", "executive"):
        with pytest.raises(PermissionDenied):
            post_review_opinion(session, actor_for(username), case.id, POINTS[:1], now=T0)
        session.rollback()
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, POINTS[:1], now=T0)
    (point,) = _points(session, opinion_id)
    with pytest.raises(PermissionDenied):
        answer_points(session, actor_for("gd_tracker"), {point.id: "已核实驾驶员身份，与保单一致。"}, now=T0)
    session.rollback()
    answer_points(session, actor_for("gd_manager"), {point.id: "已核实驾驶员身份，与保单一致。"}, now=T0)
    with pytest.raises(PermissionDenied):
        decide_point(session, actor_for("gd_manager"), point.id, "accepted", now=T0)


def test_inbox_lists_open_points_first_with_their_due_time(session, org, actor_for):
    first = tiered_case(session, org, "gz")
    second = tiered_case(session, org, "sz")
    reviewer, manager = actor_for("reviewer"), actor_for("gd_manager")
    o1 = post_review_opinion(session, reviewer, first.id, ["核实驾驶证"], now=T0)
    o2 = post_review_opinion(session, reviewer, second.id, ["核实行驶证"], now=T0 + timedelta(hours=1))
    (p1,) = _points(session, o1)
    answer_points(session, manager, {p1.id: "驾驶证真实有效，准驾车型相符。"}, now=T0 + timedelta(hours=2))
    total, rows = branch_inbox(session, manager)
    assert total == 2
    assert [r.status for r in rows] == ["open", "answered"]
    assert rows[0].opinion_id == o2 and rows[0].due_at == T0 + timedelta(hours=49)
    assert branch_inbox(session, manager, only_open=True)[0] == 1
    # Sent back, point 1 is open again with its round-2 clock; the other point keeps its own.
    decide_point(session, reviewer, p1.id, "sent_back", "请补充驾驶证照片", now=T0 + timedelta(hours=3))
    _, rows = branch_inbox(session, manager)
    (p2,) = _points(session, o2)
    assert [(r.point_id, r.status, r.due_at) for r in rows] == [
        (p2.id, "open", T0 + timedelta(hours=49)), (p1.id, "sent_back", T0 + timedelta(hours=51))]
    assert rows[1].last_reason == "请补充驾驶证照片"


def test_the_register_puts_cases_with_points_to_settle_first_and_pages_across_both_parts(session, org, actor_for):
    """The register's head (cases with HQ points not yet accepted, most first) and its rest (newest
    tiered first, walked through the pending index) are read apart; every page size gives the whole
    list in that order, each case once, and the count is the branch's pending tiered cases."""
    from dashboard.services.review.opinions import _register_count_statement

    reviewer, manager, tracker = actor_for("reviewer"), actor_for("gd_manager"), actor_for("gd_tracker")
    c = [tiered_case(session, org, sub, at=T0 + timedelta(hours=i)) for i, sub in enumerate(["gz", "sz", "gz", "sz"])]
    tiered_case(session, org, "hz", at=T0 + timedelta(hours=9))  # 浙江: never in 广东's register
    post_review_opinion(session, reviewer, c[0].id, POINTS[:1], now=T0 + timedelta(hours=5))
    post_review_opinion(session, reviewer, c[1].id, POINTS[:3], now=T0 + timedelta(hours=5))
    settled = post_review_opinion(session, reviewer, c[3].id, POINTS[:1], now=T0 + timedelta(hours=5))
    (point,) = _points(session, settled)
    answer_points(session, manager, {point.id: "已核实驾驶员身份，与保单一致。"}, now=T0 + timedelta(hours=6))
    decide_point(session, reviewer, point.id, "accepted", now=T0 + timedelta(hours=7))
    closed = tiered_case(session, org, "gz", at=T0 + timedelta(hours=8))
    closed.state, closed.closed_at = "closed", T0 + timedelta(hours=10)
    session.commit()

    order = [c[1], c[0], c[3], c[2]]  # 3 points, 1 point; then newest tiered first (c[3] settled)
    total, whole = tracker_register(session, tracker)
    assert [r.case_id for r in whole] == [case.id for case in order]
    assert [r.open_points for r in whole] == [3, 1, 0, 0]
    live = session.scalar(_register_count_statement(tuple(sorted(tracker.branch_ids_for("branch_tracker"))),
                                                    False, None, None))
    assert total == len(order) == live
    for size in (1, 2, 3):
        paged = [r.case_id for offset in range(0, total + size, size)
                 for r in tracker_register(session, tracker, limit=size, offset=offset, total=total)[1]]
        assert paged == [case.id for case in order], size
    # The closed case on request, counted live among the cases with nothing to settle.
    total, rows = tracker_register(session, tracker, include_closed=True)
    assert total == 5 and [r.case_id for r in rows] == [c[1].id, c[0].id, closed.id, c[3].id, c[2].id]
    assert [r.case_id for r in tracker_register(session, tracker, case_no=c[0].case_no)[1]] == [c[0].id]


def test_a_thread_of_several_opinions_reads_in_two_statements_each_point_with_its_own_answers(session, org,
                                                                                               actor_for):
    """The opinions' heads, then their points with every answer and verdict in one statement: a
    point with no answer yet has none, and no point borrows another's or another opinion's."""
    from sqlalchemy import event

    case = tiered_case(session, org, "gz")
    reviewer, manager = actor_for("reviewer"), actor_for("gd_manager")
    first = post_review_opinion(session, reviewer, case.id, POINTS[:2], now=T0 + timedelta(hours=1))
    a1, a2 = _points(session, first)
    answer_points(session, manager, {a1.id: "驾驶员为被保险人本人，已核实身份证。", a2.id: "监控已调取。"},
                  now=T0 + timedelta(hours=2))
    decide_point(session, reviewer, a2.id, "sent_back", "请附截图", now=T0 + timedelta(hours=3))
    answer_points(session, manager, {a2.id: "截图已上传影像系统。"}, now=T0 + timedelta(hours=4))
    second = post_review_opinion(session, reviewer, case.id, POINTS[2:], now=T0 + timedelta(hours=5))
    (b1,) = _points(session, second)
    sent: list[str] = []
    connection = session.connection()

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if "opinion" in statement:
            sent.append(statement)
    event.listen(connection, "before_cursor_execute", capture)
    try:
        newest, oldest = case_opinions(session, manager, case.id)
    finally:
        event.remove(connection, "before_cursor_execute", capture)

    assert (newest.id, oldest.id) == (second, first)
    assert [(p.id, p.answers) for p in newest.points] == [(b1.id, [])]
    assert [p.id for p in oldest.points] == [a1.id, a2.id]
    assert [a.body for a in oldest.points[0].answers] == ["驾驶员为被保险人本人，已核实身份证。"]
    assert [(a.body, a.verdict) for a in oldest.points[1].answers] == [("监控已调取。", "sent_back"),
                                                                        ("截图已上传影像系统。", None)]
    assert oldest.points[1].round == 2
    assert len([s for s in sent if "opinion_point" in s]) == 1, sent  # points and answers together
