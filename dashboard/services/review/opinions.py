"""HQ review opinions and the branch's point-by-point answers (分级管理办法 第四章 一.2, 一.5, 二).

An opinion is a list of numbered points. Posting it starts a D5 clock per point for the branch
manager and copies the branch's exec supervisor. Each point is answered on its own; the reviewer
accepts it or sends it back with a reason (a new D5 round). The review closes when every point
is accepted. Nothing is edited in place: every answer and verdict is a new row.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, BigInteger, Select, any_, bindparam, case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.review import (
    answer_problems, answer_round, point_problems, review_is_closed, text_problem,
)
from dashboard.services.actor import Actor
from dashboard.services.aliases import ADDRESSEE, ANSWER_AUTHOR, AUTHOR, DECIDER, SUB_BRANCH
from dashboard.rules.deadlines import initial_review_subject, point_subject
from dashboard.services.clocks.deadlines import meet_deadline, start_deadline
from dashboard.services.errors import FieldError, NotFound, UserError, ValidationFailed
from dashboard.services.cases.history import record_event
from dashboard.services.stale import stale_case
from dashboard.services.cases.access import load_review_case
from dashboard.services.cases.counts import pending_tiered_statement
from dashboard.services.outbox import branch_people, branch_supervisors, notify, zh
from dashboard.services.statements import as_rows, built_once, count_then_page, among_ids, head_then_rest, read, rows_in_order
from dashboard.services.capability import requires
from dashboard.settings import BUSINESS_TZ
from db.models import (
    ClaimCase, Dispatch, Estimate, Opinion, OpinionPoint, OrgUnit, Person, PointAnswer, PointVerdict,
    ProgressNote, ReviewQueueEntry, Upload,
)


# ---------------------------------------------------------------------------------------------
# Writes


@requires("review.post")
def post_review_opinion(session: Session, actor: Actor, case_id: int, points: list[str],
                        now: datetime | None = None) -> int:
    """HQ reviewer posts an opinion of numbered points to the case's branch manager."""
    now = clock.or_now(now)
    case_row = load_review_case(session, actor, case_id, for_update=True)
    if case_row.tier == "T0":
        raise UserError("review.case_not_tiered")
    points = [p.strip() for p in points]
    problems = point_problems(points)
    if problems:
        raise ValidationFailed([FieldError(field=f"point_{i + 1}", key=k, params={"n": i + 1})
                                for i, k in problems])
    managers = branch_people(session, case_row.branch_id, "branch_manager")
    manager = managers[0] if managers else None
    first = session.scalar(select(func.count()).select_from(Opinion)
                           .where(Opinion.case_id == case_id, Opinion.kind == "hq_review")) == 0
    opinion = Opinion(case_id=case_id, branch_id=case_row.branch_id, kind="hq_review", author_id=actor.person_id,
                      addressed_to_person_id=manager, posted_at=now)
    session.add(opinion)
    session.flush()
    point_rows = [OpinionPoint(opinion_id=opinion.id, seq=n, body=body) for n, body in enumerate(points, 1)]
    session.add_all(point_rows)
    session.flush()
    for point in point_rows:
        start_deadline(session, kind="D5", subject_key=point_subject(point.id, 1), started_at=now,
                       responsible_person_id=manager, case_id=case_id, branch_id=case_row.branch_id)
    if first:
        # D4 is met by the initial opinion; the queue shows the case reviewed.
        meet_deadline(session, kind="D4", subject_key=initial_review_subject(case_id), met_at=now, met_by=actor.person_id)
        session.execute(insert(ReviewQueueEntry).values(
            case_id=case_id, queue_date=now.astimezone(BUSINESS_TZ).date(), queued_at=now, reviewed_at=now,
        ).on_conflict_do_update(index_elements=["case_id"],
                                set_={"reviewed_at": func.coalesce(ReviewQueueEntry.reviewed_at, now)}))
    record_event(session, case_id=case_id, actor_id=actor.person_id, kind="opinion_posted", at=now,
                 role="hq_reviewer", opinion_id=opinion.id, initial=first, addressed_to=manager,
                 points=[{"point_id": p.id, "seq": p.seq, "body": p.body} for p in point_rows])
    body = zh("review.notify.opinion", case_no=case_row.case_no, n=len(point_rows))
    notify(session, recipients=[manager] if manager else [], case_id=case_id, kind="review_opinion",
           body=body, dedupe_prefix=f"opinion:{opinion.id}", now=now)
    # 第四章 一.2: 同时抄送至总公司执委.
    notify(session, recipients=branch_supervisors(session, case_row.branch_id), case_id=case_id,
           kind="review_opinion_copy", body=zh("review.notify.opinion_copy", case_no=case_row.case_no,
                                                n=len(point_rows)),
           dedupe_prefix=f"opinion:{opinion.id}:copy", now=now)
    session.commit()
    return opinion.id


def _sent_back_counts(session: Session, point_ids: list[int]) -> dict[int, int]:
    return dict(session.execute(
        select(PointVerdict.point_id, func.count()).where(PointVerdict.point_id.in_(point_ids),
                                                          PointVerdict.verdict == "sent_back")
        .group_by(PointVerdict.point_id)).tuples().all())


@requires("review.answer")
def answer_points(session: Session, actor: Actor, answers: dict[int, str],
                  expected_versions: dict[int, int] | None = None, now: datetime | None = None) -> list[int]:
    """The branch manager answers points, each with its own text; late answers are kept, marked late."""
    now = clock.or_now(now)
    answers = {int(pid): (text or "").strip() for pid, text in answers.items()}
    if not answers:
        raise UserError("review.answer.nothing")
    points = session.scalars(select(OpinionPoint).where(OpinionPoint.id.in_(answers))
                             .order_by(OpinionPoint.id).with_for_update()).all()
    if len(points) != len(answers):
        raise NotFound()
    opinions = {o.id: o for o in session.scalars(select(Opinion).where(
        Opinion.id.in_({p.opinion_id for p in points})))}
    manager_branches = actor.branch_ids_for("branch_manager")
    for point in points:
        opinion = opinions[point.opinion_id]
        if opinion.kind != "hq_review" or opinion.branch_id not in manager_branches:
            raise NotFound()  # another branch's opinion is invisible, not merely forbidden
        if expected_versions and expected_versions.get(point.id, point.version) != point.version:
            raise stale_case(session, opinion.case_id)  # a colleague answered, or HQ decided, meanwhile
        if point.status not in ("open", "sent_back"):
            raise UserError("review.answer.not_open", n=point.seq)
    # Latest answers of the other points of the same opinions, and each point's earlier answers.
    opinion_ids = list(opinions)
    all_points = session.execute(select(OpinionPoint.id, OpinionPoint.opinion_id)
                                 .where(OpinionPoint.opinion_id.in_(opinion_ids))).all()
    earlier = defaultdict(list)
    for pid, body in session.execute(select(PointAnswer.point_id, PointAnswer.body)
                                     .where(PointAnswer.point_id.in_([p for p, _ in all_points]))
                                     .order_by(PointAnswer.id)):
        earlier[pid].append(body)
    others = {pid: earlier[pid][-1] for pid, _ in all_points if earlier[pid]}
    problems = answer_problems(answers, other_answers=others, previous_answers=earlier)
    if problems:
        seq = {p.id: p.seq for p in points}
        raise ValidationFailed([FieldError(field=f"answer_{pid}", key=key, params={"n": seq[pid]})
                                for pid, key in sorted(problems.items(), key=lambda kv: seq[kv[0]])])
    rounds = _sent_back_counts(session, [p.id for p in points])
    answer_ids = []
    for point in points:
        opinion = opinions[point.opinion_id]
        round_no = answer_round(rounds.get(point.id, 0))
        deadline = meet_deadline(session, kind="D5", subject_key=point_subject(point.id, round_no), met_at=now,
                                 met_by=actor.person_id)
        late = bool(deadline is not None and now > deadline.due_at)
        answer = PointAnswer(point_id=point.id, author_id=actor.person_id, body=answers[point.id],
                             answered_at=now, late=late)
        session.add(answer)
        point.status = "answered"
        point.version += 1
        session.flush()
        answer_ids.append(answer.id)
        record_event(session, case_id=opinion.case_id, actor_id=actor.person_id, kind="point_answered", at=now,
                     role="branch_manager", opinion_id=opinion.id, point_id=point.id, seq=point.seq,
                     round=round_no, answer_id=answer.id, body=answer.body, late=late)
    for opinion in opinions.values():
        case_no = session.scalar(select(ClaimCase.case_no).where(ClaimCase.id == opinion.case_id))
        notify(session, recipients=[opinion.author_id], case_id=opinion.case_id, kind="review_answered",
               body=zh("review.notify.answered", case_no=case_no),
               dedupe_prefix=f"answers:{min(answer_ids)}:opinion:{opinion.id}", now=now)
    session.commit()
    return answer_ids


@requires("review.post")
def decide_point(session: Session, actor: Actor, point_id: int, verdict: str, reason: str | None = None,
                 expected_version: int | None = None, now: datetime | None = None) -> str:
    """The reviewer accepts an answered point or sends it back with a reason (new D5 round).

    Returns the point's new status; when every point is accepted the opinion closes.
    """
    now = clock.or_now(now)
    if verdict not in ("accepted", "sent_back"):
        raise UserError("review.verdict.invalid")
    point = session.scalars(select(OpinionPoint).where(OpinionPoint.id == point_id).with_for_update()).first()
    if point is None:
        raise NotFound()
    opinion = session.get(Opinion, point.opinion_id)
    if opinion is None or opinion.kind != "hq_review":
        raise NotFound()
    if expected_version is not None and expected_version != point.version:
        raise stale_case(session, opinion.case_id)
    if point.status != "answered":
        raise UserError("review.verdict.not_answered", n=point.seq)
    reason = (reason or "").strip()
    problem = text_problem(reason)
    if verdict == "sent_back" and problem == "review.text.empty":
        raise ValidationFailed([FieldError(field="reason", key="review.verdict.reason_required")])
    if reason and problem and problem != "review.text.empty":  # kept with either verdict (a NUL: issue 18)
        raise ValidationFailed([FieldError(field="reason", key=problem)])
    answer = session.scalars(select(PointAnswer).where(PointAnswer.point_id == point.id)
                             .order_by(PointAnswer.id.desc())).first()
    session.add(PointVerdict(point_id=point.id, answer_id=answer.id, verdict=verdict, reason=reason or None,
                             decided_by=actor.person_id, decided_at=now))
    point.status = verdict
    point.version += 1
    round_no = None
    if verdict == "sent_back":
        session.flush()  # the new send-back counts: the next answer is round n + 1
        round_no = answer_round(_sent_back_counts(session, [point.id]).get(point.id, 0))
        managers = branch_people(session, opinion.branch_id, "branch_manager")
        start_deadline(session, kind="D5", subject_key=point_subject(point.id, round_no), started_at=now,
                       responsible_person_id=managers[0] if managers else None, case_id=opinion.case_id,
                       branch_id=opinion.branch_id)
        case_no = session.scalar(select(ClaimCase.case_no).where(ClaimCase.id == opinion.case_id))
        notify(session, recipients=managers[:1], case_id=opinion.case_id, kind="review_sent_back",
               body=zh("review.notify.sent_back", case_no=case_no, n=point.seq),
               dedupe_prefix=f"point:{point.id}:round:{round_no}", now=now)
    record_event(session, case_id=opinion.case_id, actor_id=actor.person_id,
                 kind="point_accepted" if verdict == "accepted" else "point_sent_back", at=now,
                 role="hq_reviewer", opinion_id=opinion.id, point_id=point.id, seq=point.seq,
                 answer_id=answer.id, reason=reason or None,
                 next_round=round_no)
    session.flush()
    statuses = session.scalars(select(OpinionPoint.status).where(OpinionPoint.opinion_id == opinion.id)).all()
    if review_is_closed(statuses) and opinion.closed_at is None:
        opinion.closed_at = now
        record_event(session, case_id=opinion.case_id, actor_id=actor.person_id, kind="review_closed", at=now,
                     role="hq_reviewer", opinion_id=opinion.id)
    session.commit()
    return verdict


# ---------------------------------------------------------------------------------------------
# Reads


@dataclass(frozen=True)
class AnswerView:
    id: int
    author: str
    body: str
    answered_at: datetime
    late: bool
    verdict: str | None = None
    verdict_reason: str | None = None
    verdict_by: str | None = None
    verdict_at: datetime | None = None


@dataclass(frozen=True)
class PointView:
    id: int
    seq: int
    body: str
    status: str
    version: int
    due_at: datetime | None
    round: int
    answers: list[AnswerView] = field(default_factory=list)


@dataclass(frozen=True)
class OpinionView:
    id: int
    case_id: int
    case_no: str
    kind: str
    author: str
    addressed_to: str | None
    posted_at: datetime
    closed_at: datetime | None
    points: list[PointView]


def _sent_back_count():
    """SQL: how many times the outer query's point was sent back (its answer round is this + 1)."""
    return (select(func.count()).select_from(PointVerdict)
            .where(PointVerdict.point_id == OpinionPoint.id, PointVerdict.verdict == "sent_back")
            .correlate(OpinionPoint).scalar_subquery())


def _opinion_heads(where: list, order_by: list, limit: int | None = None) -> Select:
    """The head rows opinion_views expects (opinion with its case number and names)."""
    author, addressee = AUTHOR, ADDRESSEE
    return (select(Opinion.id, Opinion.case_id, ClaimCase.case_no, Opinion.kind, author.full_name,
                   addressee.full_name, Opinion.posted_at, Opinion.closed_at)
            .join(ClaimCase, ClaimCase.id == Opinion.case_id)
            .outerjoin(author, author.id == Opinion.author_id)
            .outerjoin(addressee, addressee.id == Opinion.addressed_to_person_id)
            .where(*where).order_by(*order_by).limit(limit))


def _points_with_answers() -> Select:
    """Each point of the opinions (`opinion_ids`) with each of its answers (oldest first) and the
    verdict on it: a point without an answer is one row with the answer's columns empty.

    One statement where the points and their answers were two: every page that shows opinions
    (the branch inbox's opened opinion, the review queue's thread, the case's opinions) paid a
    second round trip for a few rows. due_at: the due time of the point's newest round, kept by the
    database (migration 0049)."""
    answer_author, decider = ANSWER_AUTHOR, DECIDER
    return (select(OpinionPoint.id, OpinionPoint.opinion_id, OpinionPoint.seq, OpinionPoint.body, OpinionPoint.status,
                   OpinionPoint.version, _sent_back_count(), OpinionPoint.due_at,
                   PointAnswer.id, answer_author.full_name, PointAnswer.body, PointAnswer.answered_at, PointAnswer.late,
                   PointVerdict.verdict, PointVerdict.reason, decider.full_name, PointVerdict.decided_at)
            .outerjoin(PointAnswer, PointAnswer.point_id == OpinionPoint.id)
            .outerjoin(answer_author, answer_author.id == PointAnswer.author_id)
            .outerjoin(PointVerdict, PointVerdict.answer_id == PointAnswer.id)
            .outerjoin(decider, decider.id == PointVerdict.decided_by)
            .where(OpinionPoint.opinion_id == any_(bindparam("opinion_ids", type_=ARRAY(BigInteger))))
            .order_by(OpinionPoint.opinion_id, OpinionPoint.seq, OpinionPoint.id, PointAnswer.id))


_POINTS_WITH_ANSWERS = _points_with_answers()


def opinion_views(session: Session, heads_statement: Select, params: dict[str, Any] | None = None,
                  ) -> list[OpinionView]:
    """The opinions `heads_statement` (see _opinion_heads) selects, with their points, every answer
    (oldest first) and the verdict on each answer.

    Two statements whatever the number of opinions (opinions with their names; points with their
    answers): the inbox and review pages show up to fifty opinions at once."""
    heads = read(session, heads_statement, params, prepared=True).all()
    if not heads:
        return []
    # By its generic plan: PostgreSQL's own choice kept planning the points' and the answers' reads
    # for every call (30 custom plans in 30 runs), 1.3 and 2.3 ms at 10,000,000 cases, for index
    # reads of a few rows.
    rows = read(session, _POINTS_WITH_ANSWERS, {"opinion_ids": [h[0] for h in heads]}, generic=True)
    point_views: dict[int, list[PointView]] = defaultdict(list)
    for (point_id, opinion_id, seq, body, status, version, sent_back_count, due_at, answer_id, author_name,
         answer_body, answered_at, late, verdict, reason, decided_by, decided_at) in rows:
        shown = point_views[opinion_id]
        if not shown or shown[-1].id != point_id:  # the point's first row (ordered by point, then answer)
            shown.append(PointView(point_id, seq, body, status, version, due_at, answer_round(sent_back_count)))
        if answer_id is not None:
            shown[-1].answers.append(AnswerView(answer_id, author_name or "", answer_body, answered_at, late, verdict,
                                                reason, decided_by if verdict is not None else None, decided_at))
    return [OpinionView(oid, case_id, case_no, kind, author_name or "", to_name, posted_at, closed_at,
                        point_views.get(oid, []))
            for oid, case_id, case_no, kind, author_name, to_name, posted_at, closed_at in heads]


@requires("case.read")
def case_opinions(session: Session, actor: Actor, case_id: int, kind: str | None = "hq_review") -> list[OpinionView]:
    """Opinions on one case, newest first, for anyone who may read the case's review thread."""
    load_review_case(session, actor, case_id)
    return opinion_views(session, _case_opinion_heads(kind), {"case_id": case_id})


@built_once
def _case_opinion_heads(kind: str | None) -> Select:
    where = [Opinion.case_id == bindparam("case_id")]
    if kind:
        where.append(Opinion.kind == kind)
    return _opinion_heads(where, [Opinion.posted_at.desc(), Opinion.id.desc()])


@dataclass(frozen=True)
class ReviewFacts:
    case_id: int
    case_no: str
    branch: str
    sub_branch: str
    tier: str
    state: str
    estimate: Decimal | None
    report_time: datetime
    accident_time: datetime
    place: str
    business_line: str
    accident_type: str
    insured: str
    plate_no: str | None
    description: str | None
    tiered_at: datetime | None
    estimates: list[tuple[datetime, Decimal, str, str]]  # (recorded_at, amount, tier_before, tier_after)
    dispatches: list[tuple[str, str, str, str, datetime, datetime | None]]  # name, tier, position, contact, at, arrived
    uploads: dict[str, datetime | None]  # kind -> first upload time
    progress: list[tuple[datetime, str, str]]  # posted_at, author, body
    compulsory_only: bool = False  # its level is 一级 whatever the amount (docs/DOMAIN.md §3)


@built_once
def _first_upload_by_kind() -> Select:
    """A case's first upload of each kind: a generic plan (statements.read), the material being
    partitioned by month (migration 0047)."""
    return (select(Upload.kind, func.min(Upload.uploaded_at)).where(Upload.case_id == bindparam("case_id"))
            .group_by(Upload.kind))


@requires("case.read")
def case_facts(session: Session, actor: Actor, case_id: int) -> ReviewFacts:
    """What the reviewer needs at a glance: facts, estimate history, dispatch and upload state."""
    c = load_review_case(session, actor, case_id)
    branch, sub = (session.get(OrgUnit, c.branch_id), session.get(OrgUnit, c.sub_branch_id))
    estimates = [tuple(r) for r in session.execute(
        select(Estimate.recorded_at, Estimate.amount, Estimate.tier_before, Estimate.tier_after)
        .where(Estimate.case_id == case_id).order_by(Estimate.recorded_at, Estimate.id))]
    dispatches = [tuple(r) for r in session.execute(
        select(Person.full_name, Dispatch.tier, Dispatch.position, Dispatch.contact_state, Dispatch.dispatched_at,
               Dispatch.arrived_at).join(Person, Person.id == Dispatch.person_id)
        .where(Dispatch.case_id == case_id).order_by(Dispatch.dispatched_at, Dispatch.id))]
    uploads = {kind: first for kind, first in read(session, _first_upload_by_kind(), {"case_id": case_id},
                                                  generic=True)}
    progress = [tuple(r) for r in session.execute(
        select(ProgressNote.posted_at, Person.full_name, ProgressNote.body)
        .join(Person, Person.id == ProgressNote.author_id).where(ProgressNote.case_id == case_id)
        .order_by(ProgressNote.posted_at.desc(), ProgressNote.id.desc()))]
    return ReviewFacts(c.id, c.case_no, branch.name if branch else "", sub.name if sub else "", c.tier, c.state,
                     c.current_estimate, c.report_time, c.accident_time, f"{c.province}{c.city}{c.address}",
                     c.business_line, c.accident_type, c.insured_name, c.plate_no, c.description, c.tiered_at,
                     estimates, dispatches, uploads, progress, c.compulsory_only)


@dataclass(frozen=True)
class InboxRow:
    opinion_id: int
    point_id: int
    case_id: int
    case_no: str
    seq: int
    body: str
    status: str
    posted_at: datetime
    due_at: datetime | None
    latest_answer: str | None
    last_reason: str | None
    risk_colour: str | None = None


def _inbox_conditions(branches: tuple[int, ...], only_open: bool, case_no: str | None,
                      colour: str | None = None) -> list:
    conditions = [Opinion.kind == "hq_review", Opinion.branch_id.in_(branches)]
    if only_open:
        # An opinion is closed only once every point is accepted (record_verdict), so an open
        # point's opinion is open: said here, the branch's open opinions (index ix_opinion_open)
        # lead to its waiting points, where the waiting points of every branch were read and
        # checked one by one (13,800 at 10,000,000 cases; bench/RESULTS.md).
        conditions += [Opinion.closed_at.is_(None), _POINT_IS_OPEN]
    if case_no:
        conditions.append(ClaimCase.case_no.ilike(f"%{case_no}%"))
    if colour:
        conditions.append(ClaimCase.risk_colour == colour)
    return conditions


_POINT_IS_OPEN = OpinionPoint.status.in_(("open", "sent_back"))


@built_once
def _inbox_count_statement(branches: tuple[int, ...], only_open: bool, case_no: str | None,
                           colour: str | None) -> Select:
    base = select(OpinionPoint.id).join(Opinion, Opinion.id == OpinionPoint.opinion_id)
    if case_no or colour:  # the case is read only to filter by it (the opinion's row policy checks it anyway)
        base = base.join(ClaimCase, ClaimCase.id == Opinion.case_id)
    base = base.where(*_inbox_conditions(branches, only_open, case_no, colour))
    return select(func.count()).select_from(base.subquery())


@built_once
def _inbox_page_statement(branches: tuple[int, ...], only_open: bool, case_no: str | None, colour: str | None,
                          limit: int, offset: int, newest_first: bool = False) -> Select:
    is_open = _POINT_IS_OPEN
    # The current round's due time is kept on the point (migration 0049): the sort reads the waiting
    # points alone, where it counted each one's send-backs and looked up its round's clock.
    due = OpinionPoint.due_at
    latest_answer = (select(PointAnswer.body).where(PointAnswer.point_id == OpinionPoint.id)
                     .order_by(PointAnswer.id.desc()).limit(1).scalar_subquery())
    last_reason = (select(PointVerdict.reason).where(PointVerdict.point_id == OpinionPoint.id,
                                                     PointVerdict.verdict == "sent_back")
                   .order_by(PointVerdict.id.desc()).limit(1).scalar_subquery())
    open_first = case((is_open, 0), else_=1)
    return (
        select(Opinion.id, OpinionPoint.id, ClaimCase.id, ClaimCase.case_no, OpinionPoint.seq, OpinionPoint.body,
               OpinionPoint.status, Opinion.posted_at, due, latest_answer, last_reason, ClaimCase.risk_colour)
        .join(Opinion, Opinion.id == OpinionPoint.opinion_id).join(ClaimCase, ClaimCase.id == Opinion.case_id)
        .where(*_inbox_conditions(branches, only_open, case_no, colour))
        .order_by(open_first, *(() if newest_first else (case((is_open, due), else_=None).asc().nulls_last(),)),
                  Opinion.posted_at.desc(), OpinionPoint.opinion_id.desc(), OpinionPoint.seq)
        .limit(limit).offset(offset))


@requires("review.inbox")
def branch_inbox(session: Session, actor: Actor, *, only_open: bool = False, case_no: str | None = None,
                 limit: int = 50, offset: int = 0, total: int | None = None,
                 colour: str | None = None, newest_first: bool = False) -> tuple[int, list[InboxRow]]:
    """The branch's HQ opinion points: open ones first (soonest due first), then the rest newest first.

    `newest_first`: the open ones too by the time HQ posted them, newest first: an opinion that has
    just arrived is due last, so by time left it sits on the inbox's last page.
    `limit=0` only counts; pass the `total` a first call returned to fetch a page without counting again.
    """
    shape = (tuple(sorted(actor.branch_ids_for("branch_manager", "branch_tracker")) or [-1]), only_open,
             (case_no or "").strip() or None, colour or None)
    total, rows = count_then_page(session, lambda: _inbox_count_statement(*shape),
                                  lambda: _inbox_page_statement(*shape, limit, offset, newest_first), limit=limit,
                                  total=total, prepared=True, reads_all=True)  # sorted by the points' due times
    return total, as_rows(InboxRow, rows)


@requires("review.inbox")
def branch_opinion(session: Session, actor: Actor, opinion_id: int) -> OpinionView:
    """One HQ opinion of the person's branch, with its points and answers, whatever its age: the
    inbox row a manager chooses opens it for answering. Another branch's opinion is not found."""
    branches = tuple(sorted(actor.branch_ids_for("branch_manager", "branch_tracker")) or [-1])
    views = opinion_views(session, _branch_opinion_head(branches), {"opinion_id": opinion_id})
    if not views:
        raise NotFound()
    return views[0]


@built_once
def _branch_opinion_head(branches: tuple[int, ...]) -> Select:
    where = [Opinion.id == bindparam("opinion_id"), Opinion.kind == "hq_review", Opinion.branch_id.in_(branches)]
    return _opinion_heads(where, [Opinion.id])


@dataclass(frozen=True)
class RegisterRow:
    case_id: int
    case_no: str
    sub_branch: str
    tier: str
    state: str
    estimate: Decimal | None
    tiered_at: datetime | None
    opinions: int
    open_points: int
    answers: int
    progress_notes: int
    last_progress_at: datetime | None
    risk_colour: str | None = None


def _register_conditions(branches: tuple[int, ...], include_closed: bool, case_no: str | None,
                         colour: str | None = None) -> list:
    conditions = [ClaimCase.branch_id.in_(branches), ClaimCase.tier != "T0"]
    if not include_closed:
        conditions.append(ClaimCase.state != "closed")
    if case_no:
        conditions.append(ClaimCase.case_no.ilike(f"%{case_no}%"))
    if colour:
        conditions.append(ClaimCase.risk_colour == colour)
    return conditions


@built_once
def _register_count_statement(branches: tuple[int, ...], include_closed: bool, case_no: str | None,
                              colour: str | None) -> Select:
    return select(func.count()).select_from(ClaimCase).where(
        *_register_conditions(branches, include_closed, case_no, colour))


def _open_points_of_case(branches: tuple[int, ...]):
    """Per case, its HQ review points not yet accepted, reached through the branches' open opinions
    (ix_opinion_open: an opinion closes only once every point is accepted, and an opinion is its
    case's branch's)."""
    return (select(Opinion.case_id, func.count().label("n")).join(OpinionPoint, OpinionPoint.opinion_id == Opinion.id)
            .where(Opinion.kind == "hq_review", Opinion.branch_id.in_(branches), Opinion.closed_at.is_(None),
                   OpinionPoint.status != "accepted")
            .group_by(Opinion.case_id).subquery("open_points"))


@built_once
def _register_head_statement(branches: tuple[int, ...], include_closed: bool, case_no: str | None,
                             colour: str | None) -> Select:
    """The register's head: cases with points still to settle, most first (then newest tiered), at
    most `upto` of them (bound at execution)."""
    points = _open_points_of_case(branches)
    return (select(ClaimCase.id).join(points, points.c.case_id == ClaimCase.id)
            .where(*_register_conditions(branches, include_closed, case_no, colour))
            .order_by(points.c.n.desc(), ClaimCase.tiered_at.desc().nulls_last(), ClaimCase.id.desc())
            .limit(bindparam("upto")))


@built_once
def _register_rest_statement(branches: tuple[int, ...], include_closed: bool, case_no: str | None,
                             colour: str | None) -> Select:
    """Every other case of the register, newest tiered first: a walk of the pending tiered cases'
    index in that order (migration 0040) that stops at the page; each case checked not to be in the
    head (the head's very condition, so the two parts are the whole register, each case once)."""
    points = _open_points_of_case(branches)
    in_head = ClaimCase.id.in_(select(points.c.case_id))
    return (select(ClaimCase.id).where(*_register_conditions(branches, include_closed, case_no, colour), ~in_head)
            .order_by(ClaimCase.tiered_at.desc().nulls_last(), ClaimCase.id.desc())
            .limit(bindparam("limit")).offset(bindparam("offset")))


@built_once
def _register_rows_statement() -> Select:
    """What the register shows of the chosen cases (`ids`, bound at execution), in no order."""
    sub = SUB_BRANCH
    opinions = (select(func.count()).select_from(Opinion).where(Opinion.case_id == ClaimCase.id)
                .scalar_subquery())
    open_points = (select(func.count()).select_from(OpinionPoint).join(Opinion, Opinion.id == OpinionPoint.opinion_id)
                   .where(Opinion.case_id == ClaimCase.id, Opinion.kind == "hq_review",
                          OpinionPoint.status != "accepted").scalar_subquery())
    answers = (select(func.count()).select_from(PointAnswer)
               .join(OpinionPoint, OpinionPoint.id == PointAnswer.point_id)
               .join(Opinion, Opinion.id == OpinionPoint.opinion_id)
               .where(Opinion.case_id == ClaimCase.id).scalar_subquery())
    notes = (select(func.count()).select_from(ProgressNote).where(ProgressNote.case_id == ClaimCase.id)
             .scalar_subquery())
    last_note = (select(func.max(ProgressNote.posted_at)).where(ProgressNote.case_id == ClaimCase.id)
                 .scalar_subquery())
    return (
        select(ClaimCase.id, ClaimCase.case_no, sub.name, ClaimCase.tier, ClaimCase.state, ClaimCase.current_estimate,
               ClaimCase.tiered_at, opinions, open_points, answers, notes, last_note, ClaimCase.risk_colour)
        .join(sub, sub.id == ClaimCase.sub_branch_id)
        .where(among_ids(ClaimCase.id)))


@requires("review.inbox")
def tracker_register(session: Session, actor: Actor, *, include_closed: bool = False, case_no: str | None = None,
                     limit: int = 50, offset: int = 0, total: int | None = None,
                     colour: str | None = None) -> tuple[int, list[RegisterRow]]:
    """Per tiered case of the branch: opinions, open points, answers and progress notes (第四章 一.6)."""
    branches = tuple(sorted(actor.branch_ids_for("branch_manager", "branch_tracker")) or [-1])
    case_no, colour = (case_no or "").strip() or None, colour or None
    shape = (branches, include_closed, case_no, colour)
    if total is None:
        # Unfiltered, the register is the branch's pending tiered cases: kept per sub-branch (0018).
        filtered = include_closed or case_no or colour
        total = int(read(session, _register_count_statement(*shape) if filtered
                         else pending_tiered_statement(branches), prepared=True).scalar() or 0)
    if limit <= 0:
        return total, []
    # Cases with points still to settle first, most first; then the others, newest tiered first.
    ids = head_then_rest(session, _register_head_statement(*shape), _register_rest_statement(*shape),
                         limit=limit, offset=offset, prepared=True)
    return total, as_rows(RegisterRow, rows_in_order(session, _register_rows_statement(), ids, prepared=True))
