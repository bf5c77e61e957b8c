"""The HQ daily review queue (分级管理办法 第四章 一.1–2): every case that became tiered reaches
HQ review once, with its D4 clock for the initial review opinion."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, and_, exists, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.services import reference
from dashboard.services.actor import Actor
from dashboard.services.aliases import BRANCH, SUB_BRANCH
from dashboard.rules.deadlines import initial_review_subject, sql_initial_review_subject
from dashboard.services.clocks.deadlines import start_deadline
from dashboard.services.statements import as_rows, built_once, count_then_page
from dashboard.services.capability import requires
from dashboard.settings import BUSINESS_TZ
from db.models import (
    ClaimCase, Deadline, Dispatch, Opinion, OpinionPoint, Person, ReviewQueueEntry, RoleAssignment,
    Upload,
)

PHOTO_KIND = "person_vehicle_photo"  # 人车合影 (D2)
REPORT_KIND = "investigation_report"  # 调查报告 (D3)


@dataclass(frozen=True)
class QueueRun:
    queued: int
    queue_date: date
    d4_started: int


def hq_reviewer_workload(session: Session) -> dict[int, int]:
    """Active HQ reviewers and their open D4 items (fewest first gets the next case)."""
    reviewers = session.scalars(
        select(Person.id).join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.role == "hq_reviewer", Person.active.is_(True)).distinct()).all()
    open_counts = dict(session.execute(
        select(Deadline.responsible_person_id, func.count())
        .where(Deadline.kind == "D4", Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None),
               Deadline.responsible_person_id.in_(reviewers))
        .group_by(Deadline.responsible_person_id)).tuples().all()) if reviewers else {}
    return {pid: open_counts.get(pid, 0) for pid in sorted(reviewers)}


def queue_tiered_cases(session: Session, now: datetime | None = None) -> QueueRun:
    """Put every tiered case not yet queued on today's queue and start its D4 clock.

    Idempotent: the queue is unique per case and D4 unique per subject, so a second run (or two
    at once, under the job's advisory lock) adds nothing. D4 starts at tiered_at and is charged to
    the HQ reviewer with the fewest open initial reviews (ties: lowest id); with no reviewer on
    file it is left to the HQ review pool (responsible NULL).
    """
    now = clock.or_now(now)
    queue_date = now.astimezone(BUSINESS_TZ).date()
    inserted = session.execute(
        insert(ReviewQueueEntry).from_select(
            ["case_id", "queue_date", "queued_at"],
            select(ClaimCase.id, literal(queue_date), literal(now))
            .where(ClaimCase.tier != "T0", ClaimCase.tiered_at.is_not(None), ClaimCase.tiered_at <= now,
                   ~exists().where(ReviewQueueEntry.case_id == ClaimCase.id))
            .order_by(ClaimCase.tiered_at, ClaimCase.id)
        ).on_conflict_do_nothing(index_elements=["case_id"]).returning(ReviewQueueEntry.case_id)
    ).scalars().all()
    # Queued cases still without their D4 clock (new ones, or ones an interrupted run left).
    missing = session.execute(
        select(ClaimCase.id, ClaimCase.branch_id, ClaimCase.tiered_at)
        .join(ReviewQueueEntry, ReviewQueueEntry.case_id == ClaimCase.id)
        .where(ReviewQueueEntry.reviewed_at.is_(None),
               ~exists().where(Deadline.kind == "D4",
                               Deadline.subject_key == sql_initial_review_subject(ClaimCase.id)))
        .order_by(ClaimCase.tiered_at, ClaimCase.id)).all()
    workload = hq_reviewer_workload(session)
    for case_id, branch_id, tiered_at in missing:
        reviewer = min(workload, key=lambda pid: (workload[pid], pid)) if workload else None
        start_deadline(session, kind="D4", subject_key=initial_review_subject(case_id), started_at=tiered_at,
                       responsible_person_id=reviewer, case_id=case_id, branch_id=branch_id)
        if reviewer is not None:
            workload[reviewer] += 1
    return QueueRun(queued=len(inserted), queue_date=queue_date, d4_started=len(missing))


@dataclass(frozen=True)
class QueueFilters:
    status: str = "pending"  # pending | answered (branch answers waiting for a verdict) | reviewed | all
    branch_id: int | None = None
    tier: str | None = None
    queue_date: date | None = None
    case_no: str | None = None
    colour: str | None = None  # red / yellow / blue (docs/DOMAIN.md §6)


@dataclass(frozen=True)
class QueueRow:
    case_id: int
    case_no: str
    branch: str
    sub_branch: str
    tier: str
    state: str
    estimate: Decimal | None
    tiered_at: datetime | None
    queue_date: date
    d4_due: datetime | None
    reviewed_at: datetime | None
    first_responsible: str
    photo_uploaded: bool
    report_uploaded: bool
    open_points: int
    risk_colour: str | None = None
    compulsory_only: bool = False  # its level is 一级 whatever the amount (docs/DOMAIN.md §3)


def _entry_conditions(filters: QueueFilters) -> list:
    """The filters the entry itself answers."""
    conditions = []
    if filters.status == "pending":
        conditions.append(ReviewQueueEntry.reviewed_at.is_(None))
    elif filters.status == "reviewed":
        conditions.append(ReviewQueueEntry.reviewed_at.is_not(None))
    elif filters.status == "answered":
        # A branch answered a point and HQ has not judged it: read from the answered points
        # (ix_opinion_point_answered, migration 0055), a few among every point ever written.
        conditions.append(ReviewQueueEntry.case_id.in_(
            select(Opinion.case_id).join(OpinionPoint, OpinionPoint.opinion_id == Opinion.id)
            .where(OpinionPoint.status == "answered", Opinion.kind == "hq_review")))
    if filters.queue_date:
        conditions.append(ReviewQueueEntry.queue_date == filters.queue_date)
    return conditions


def _asks_the_case(filters: QueueFilters) -> bool:
    """Whether a filter reads the case (its branch, tier, number or colour), not only the entry."""
    return bool(filters.branch_id or filters.tier or (filters.case_no and filters.case_no.strip()) or filters.colour)


def _queue_conditions(filters: QueueFilters) -> list:
    conditions = _entry_conditions(filters)
    if filters.branch_id:
        conditions.append(ClaimCase.branch_id == filters.branch_id)
    if filters.tier:
        conditions.append(ClaimCase.tier == filters.tier)
    if filters.case_no and filters.case_no.strip():
        conditions.append(ClaimCase.case_no.ilike(f"%{filters.case_no.strip()}%"))
    if filters.colour:
        conditions.append(ClaimCase.risk_colour == filters.colour)
    return conditions


@built_once
def _queue_count_statement(filters: QueueFilters) -> Select:
    if not _asks_the_case(filters):
        # Nothing asked of the case: the entries alone (the waiting ones: their index alone).
        return select(func.count()).select_from(ReviewQueueEntry).where(and_(True, *_entry_conditions(filters)))
    base = (select(ReviewQueueEntry.case_id).join(ClaimCase, ClaimCase.id == ReviewQueueEntry.case_id)
            .where(and_(True, *_queue_conditions(filters))))
    return select(func.count()).select_from(base.subquery())


@built_once
def _queue_page_statement(filters: QueueFilters, limit: int, offset: int) -> Select:
    branch, sub = BRANCH, SUB_BRANCH
    persons = (select(func.string_agg(Person.full_name, aggregate_order_by(literal("、"), Dispatch.dispatched_at)))
               .select_from(Person).join(Dispatch, Dispatch.person_id == Person.id)
               .where(Dispatch.case_id == ClaimCase.id).scalar_subquery())
    has_photo = exists().where(Upload.case_id == ClaimCase.id, Upload.kind == PHOTO_KIND)
    has_report = exists().where(Upload.case_id == ClaimCase.id, Upload.kind == REPORT_KIND)
    open_points = (select(func.count()).select_from(OpinionPoint)
                   .join(Opinion, Opinion.id == OpinionPoint.opinion_id)
                   .where(Opinion.case_id == ClaimCase.id, Opinion.kind == "hq_review",
                          OpinionPoint.status != "accepted").scalar_subquery())
    d4_due = (select(Deadline.due_at).where(Deadline.kind == "D4",
                                            Deadline.subject_key == sql_initial_review_subject(ClaimCase.id))
              .scalar_subquery())
    return (
        select(ClaimCase.id, ClaimCase.case_no, branch.name, sub.name, ClaimCase.tier, ClaimCase.state,
               ClaimCase.current_estimate, ClaimCase.tiered_at, ReviewQueueEntry.queue_date, d4_due,
               ReviewQueueEntry.reviewed_at, func.coalesce(persons, ""), has_photo, has_report, open_points,
               ClaimCase.risk_colour, ClaimCase.compulsory_only)
        .join(ClaimCase, ClaimCase.id == ReviewQueueEntry.case_id)
        .join(branch, branch.id == ClaimCase.branch_id)
        .join(sub, sub.id == ClaimCase.sub_branch_id)
        .where(and_(True, *_queue_conditions(filters)))
        # 红区 first (以严为主, docs/DOMAIN.md §6), then newest tiered: the case's colour_rank() and
        # tiered time as its entry keeps them (migration 0046), the order of the waiting entries' index.
        .order_by(ReviewQueueEntry.colour_rank, ReviewQueueEntry.tiered_at.desc().nulls_last(),
                  ReviewQueueEntry.case_id.desc())
        .limit(limit).offset(offset))


@requires("review.queue")
def review_queue(session: Session, actor: Actor, filters: QueueFilters = QueueFilters(), *,
                 limit: int = 50, offset: int = 0, total: int | None = None) -> tuple[int, list[QueueRow]]:
    """The queue, red cases first then newest tiered, filtered and paginated in SQL; HQ review only.

    `limit=0` only counts; pass the `total` a first call returned to fetch a page without counting again.
    """
    # Generic plans: each row's photo / report marks read every month's partition of the material
    # (migration 0047), whose planning cost more than the page.
    total, rows = count_then_page(session, lambda: _queue_count_statement(filters),
                                  lambda: _queue_page_statement(filters, limit, offset), limit=limit, total=total,
                                  generic=True)
    return total, as_rows(QueueRow, rows)


def queue_branch_choices(session: Session) -> list[tuple[int, str]]:
    return [(u.id, u.name) for u in reference.branches(session)]
