"""Demo rows of the review area, made through the real services in time order: the daily queue
run for every past day, HQ opinions on most queued cases (a few after the D4 time), branch
answers (most on time, some late, some still open), send-backs and second answers, supervision
opinions with the first responsible's replies, the tracker's progress notes, and weekly
summaries of past weeks (most on time, some late, some never sent)."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import text, func, select
from sqlalchemy.orm import Session

from dashboard.rules.deadlines import supervision_subject, week_start_for, weekly_due
from dashboard.services.actor import Actor, load_actor
from dashboard.services.errors import UserError
from dashboard.services.review.opinions import answer_points, decide_point, post_review_opinion
from dashboard.services.review.queue import queue_tiered_cases
from dashboard.services.review.supervision import post_progress_note, post_supervision_opinion
from dashboard.services.clocks.violations import record_violations
from dashboard.services.review.weekly import build_weekly_summaries, submit_weekly_summary
from dashboard.settings import BUSINESS_TZ
from dashboard.demo.org import DemoOrg
from db.models import (
    ClaimCase, Deadline, Dispatch, OpinionPoint, ReviewQueueEntry, SupervisorAssignment, WeeklySummary,
)

# (point, first answer, answer after a send-back) — 分级管理办法 第四章 二: 对提出的建议应有明确的回复.
REVIEW_POINTS: tuple[tuple[str, str, str], ...] = (
    ("核实驾驶员与被保险人关系及驾驶资格", "驾驶员系被保险人家属，已核对驾驶证原件，准驾车型相符。",
     "已补充上传驾驶证、行驶证照片及户籍关系证明。"),
    ("调取事故现场监控或行车记录仪视频", "已向交警调取路口监控，视频显示碰撞经过与报案一致。",
     "已上传监控截图三张并附交警事故认定书。"),
    ("核实三者车辆损失范围，防止扩大损失", "已会同三者车主在修理厂逐项核对，损失范围限于前保险杠及大灯。",
     "已补充三者车辆拆检照片十二张及配件报价单。"),
    ("关注修理厂报价是否合理，必要时询价", "已向两家4S店询价，报价在合理区间，差价不超过5%。",
     "已取得第三家询价单，按最低报价核定。"),
    ("核实出险时间与保单起保时间间隔", "保单起保于出险前三个月，无临近起保情况。", "已调取投保单及缴费记录，时间一致。"),
    ("人伤案件请尽快探视伤者并了解治疗方案", "已于次日探视伤者，伤者住院治疗，预计住院两周。",
     "已与主治医生沟通，取得诊断证明及费用清单。"),
    ("核实是否存在酒驾、无证驾驶等免责情形", "交警酒精检测结果为阴性，驾驶证在有效期内。", "已上传交警酒精检测单据。"),
    ("落实第一责任人现场查勘及人车合影上传", "第一责任人已于调度当日到达现场，人车合影已上传系统。",
     "已补传第一责任人现场查勘记录及签字调查报告。"),
    ("评估是否涉及代位求偿", "事故为三者全责，已通知三者保险公司，拟启动代位求偿。", "已向三者保险公司发出代位求偿函。"),
    ("核实火灾原因及消防部门认定意见", "已取得消防部门火灾事故认定书，起火原因为电气线路短路。",
     "已上传认定书原件扫描件及现场照片。"),
)
SEND_BACK_REASONS = ("请补充证据材料，仅有文字说明不足以支持结论", "反馈内容未回应意见要点，请逐项说明",
                     "请上传相关单据照片", "请说明具体核实人员和核实时间")
SUPERVISION_TEXTS = ("请第一责任人尽快到现场核实损失并反馈进展", "该案金额较大，请重点关注是否存在欺诈风险",
                     "请督促尽快完成调查报告并上传系统", "请与客户保持沟通，避免投诉，每周报送进展",
                     "请核实三者人伤情况并评估后续医疗费用")
PROGRESS_TEXTS = ("已到现场查勘，损失情况已拍照取证，正在等待定损。", "调查报告已完成并上传，建议按责赔付。",
                  "已与客户沟通赔付方案，客户无异议，待提交核赔。", "三者医疗费用已初步核定，伤者已出院。",
                  "已取得交警事故认定书，正在办理核损。", "客户已提交维修发票，待核损。")


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


class _Actors:
    def __init__(self, session: Session) -> None:
        self._session, self._cache = session, {}

    def __call__(self, person_id: int | None) -> Actor | None:
        if person_id is None:
            return None
        if person_id not in self._cache:
            self._cache[person_id] = load_actor(self._session, person_id)
        return self._cache[person_id]


def _queue_every_day(session: Session, now: datetime) -> None:
    """The daily job as it would have run at 00:10 Asia/Shanghai each past day."""
    first = session.scalar(select(func.min(ClaimCase.tiered_at)))
    if first is None:
        return
    day = first.astimezone(BUSINESS_TZ).date() + timedelta(days=1)
    while (run_at := datetime.combine(day, time(0, 10), tzinfo=BUSINESS_TZ)) <= now:
        queue_tiered_cases(session, run_at)
        session.commit()
        day += timedelta(days=1)


def _review_loop(session: Session, org: DemoOrg, rng: random.Random, now: datetime, actor: _Actors) -> None:
    managers = {b.id: actor(org.person(f"{b.code}_manager")) for b in org.branches}
    reviewers = [actor(org.person("reviewer")), actor(org.person("reviewer2"))]
    queued = session.execute(
        select(ClaimCase.id, ClaimCase.branch_id, ReviewQueueEntry.queued_at, Deadline.due_at,
               Deadline.responsible_person_id)
        .join(ReviewQueueEntry, ReviewQueueEntry.case_id == ClaimCase.id)
        .join(Deadline, (Deadline.kind == "D4") & (Deadline.case_id == ClaimCase.id))
        .order_by(ClaimCase.tiered_at, ClaimCase.id)).all()
    for case_id, branch_id, queued_at, d4_due, reviewer_id in queued:
        if rng.random() < 0.06:
            continue  # never reviewed: stays on the overdue tracker
        if rng.random() < 0.87:
            window = max(1.0, (d4_due - queued_at).total_seconds() / 3600 - 0.5)
            posted = queued_at + _hours(rng, 0.3, window)
        else:
            posted = d4_due + _hours(rng, 1, 40)
        if posted >= now:
            continue
        reviewer = actor(reviewer_id) or rng.choice(reviewers)
        chosen = rng.sample(REVIEW_POINTS, k=rng.choice((1, 2, 2, 3, 3, 4)))
        try:
            opinion_id = post_review_opinion(session, reviewer, case_id, [p[0] for p in chosen], now=posted)
        except UserError:
            session.rollback()
            continue
        points = session.scalars(select(OpinionPoint).where(OpinionPoint.opinion_id == opinion_id)
                                 .order_by(OpinionPoint.seq)).all()
        texts = {p.id: chosen[p.seq - 1] for p in points}
        # Recent opinions are more often still open; old ones were nearly all answered in the end.
        recent = now - posted < timedelta(days=14)
        draw = rng.random()
        if draw < 0.70:
            answered_at = posted + _hours(rng, 2, 46)
        elif draw < (0.88 if recent else 0.97):
            answered_at = posted + _hours(rng, 49, 120)  # late: kept, marked late
        else:
            continue  # not answered yet
        answering = [p for p in points if rng.random() < (0.92 if recent else 0.98)]
        if not answering or answered_at >= now:
            continue
        manager = managers[branch_id]
        answer_points(session, manager, {p.id: texts[p.id][1] for p in answering}, now=answered_at)
        for point in answering:
            judged = answered_at + _hours(rng, 1, 30)
            if judged >= now or rng.random() < 0.1:
                continue
            if rng.random() < 0.8:
                decide_point(session, reviewer, point.id, "accepted", now=judged)
                continue
            decide_point(session, reviewer, point.id, "sent_back", rng.choice(SEND_BACK_REASONS), now=judged)
            again = judged + _hours(rng, 3, 70)
            if again >= now or rng.random() < 0.15:
                continue
            answer_points(session, manager, {point.id: texts[point.id][2]}, now=again)
            final = again + _hours(rng, 1, 24)
            if final < now and rng.random() < 0.85:
                decide_point(session, reviewer, point.id, "accepted", now=final)


def _supervision(session: Session, org: DemoOrg, rng: random.Random, now: datetime, actor: _Actors) -> None:
    supervisors = dict(session.execute(select(SupervisorAssignment.branch_id, SupervisorAssignment.person_id)
                                       .order_by(SupervisorAssignment.id)).tuples().all())
    cases = session.execute(
        select(ClaimCase.id, ClaimCase.branch_id, ClaimCase.tiered_at)
        .where(ClaimCase.tier != "T0", ClaimCase.state != "closed", ClaimCase.tiered_at.is_not(None),
               ClaimCase.id.in_(select(Dispatch.case_id)))
        .order_by(ClaimCase.tiered_at, ClaimCase.id)).all()
    trackers = {b.id: actor(org.person(f"{b.code}_tracker")) for b in org.branches}
    for case_id, branch_id, tiered_at in cases:
        if branch_id in supervisors and rng.random() < 0.3:
            posted = tiered_at + _hours(rng, 4, 96)
            if posted < now:
                try:
                    opinion_id = post_supervision_opinion(session, actor(supervisors[branch_id]), case_id,
                                                          rng.choice(SUPERVISION_TEXTS), now=posted)
                except UserError:
                    session.rollback()
                    opinion_id = None
                if opinion_id is not None:
                    addressee = session.scalar(select(Deadline.responsible_person_id).where(
                        Deadline.kind == "D7", Deadline.subject_key == supervision_subject(opinion_id)))
                    draw = rng.random()
                    reply = posted + (_hours(rng, 2, 46) if draw < 0.68 else _hours(rng, 50, 120))
                    if draw < 0.85 and reply < now and actor(addressee) is not None:
                        post_progress_note(session, actor(addressee), case_id, rng.choice(PROGRESS_TEXTS),
                                           opinion_id=opinion_id, now=reply)
        if rng.random() < 0.35:
            at = tiered_at
            for _ in range(rng.randint(1, 3)):
                at = at + _hours(rng, 12, 150)
                if at >= now:
                    break
                post_progress_note(session, trackers[branch_id], case_id, rng.choice(PROGRESS_TEXTS), now=at)


def _weekly(session: Session, org: DemoOrg, rng: random.Random, now: datetime, actor: _Actors,
            weeks: int = 8) -> None:
    current = weekly_due(now)
    trackers = {b.id: actor(org.person(f"{b.code}_tracker")) for b in org.branches}
    # Some branches are more punctual than others: (on time, late) shares, the rest never sent.
    habits = {b.id: ((0.9, 0.07), (0.8, 0.12), (0.65, 0.18), (0.5, 0.25))[n % 4] for n, b in enumerate(org.branches)}
    late: list[tuple[WeeklySummary, datetime]] = []  # sent after the cut-off: after that run's snapshot
    for k in range(weeks, 0, -1):
        cutoff = current - timedelta(days=7 * k)
        build_weekly_summaries(session, cutoff - timedelta(days=7) + timedelta(minutes=1))
        for summary, at in late:
            submit_weekly_summary(session, trackers[summary.branch_id], summary.id, now=at)
        late = []
        # The first run also snapshots the week before: its trackers sent theirs too.
        dues = [cutoff, cutoff - timedelta(days=7)] if k == weeks else [cutoff]
        # By week, not by cut-off: a cut-off on a holiday moved to the working day before it.
        summaries = session.scalars(select(WeeklySummary).where(WeeklySummary.week_start.in_(
            [week_start_for(d) for d in dues])).order_by(WeeklySummary.due_at, WeeklySummary.branch_id)).all()
        for summary in summaries:
            if trackers.get(summary.branch_id) is None:
                continue
            draw, (on_time, late_share) = rng.random(), habits[summary.branch_id]
            if draw < on_time:
                submit_weekly_summary(session, trackers[summary.branch_id], summary.id,
                                      now=summary.due_at - _hours(rng, 0.5, 30))
            elif draw < on_time + late_share:
                at = summary.due_at + _hours(rng, 1, 60)
                if at < now:
                    late.append((summary, at))
            # else: never sent
    build_weekly_summaries(session, now)
    for summary, at in late:
        submit_weekly_summary(session, trackers[summary.branch_id], summary.id, now=at)


def populate(session: Session, org: DemoOrg, rng: random.Random, now: datetime) -> None:
    actor = _Actors(session)
    _queue_every_day(session, now)
    _review_loop(session, org, rng, now, actor)
    _supervision(session, org, rng, now, actor)
    _weekly(session, org, rng, now, actor)
    record_violations(session, now)
    # As closing a case does (services/cases/state): a closed case's clocks still open stop, their
    # breaches recorded just above; nobody is chased for a closed case.
    session.execute(text("""
        UPDATE deadline d SET cancelled_at = :now FROM claim_case c
         WHERE d.case_id = c.id AND c.state = 'closed' AND d.met_at IS NULL AND d.cancelled_at IS NULL"""),
                    {"now": now})
    session.commit()
