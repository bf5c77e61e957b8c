"""Exec supervisor follow-up (分级管理办法 第四章 一.3–4): supervisors follow their key branches'
tiered cases and post opinions straight to a case's first responsible person (D7); the first
responsible person, and the branch tracker, report progress until the case is closed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, bindparam, delete, exists, func, literal, literal_column, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.review import text_problem
from dashboard.services.aliases import ADDRESSEE, AUTHOR, BRANCH, SUB_BRANCH
from dashboard.services.cases.access import load_visible_case
from dashboard.services import reference
from dashboard.services.actor import Actor
from dashboard.rules.deadlines import sql_supervision_subject, supervision_subject
from dashboard.services.clocks.deadlines import meet_deadline, start_deadline
from dashboard.services.errors import FieldError, NotFound, PermissionDenied, UserError, ValidationFailed
from dashboard.services.cases.history import record_event
from dashboard.services.stale import shown_time, stale_write
from dashboard.services.cases.access import dispatched_case_ids, load_review_case
from dashboard.services.cases.counts import pending_tiered_statement
from dashboard.services.outbox import notify, zh
from dashboard.services.statements import as_rows, built_once, among_ids, head_then_rest, read, rows_in_order
from dashboard.services.capability import requires
from db.models import (
    CaseEvent, ClaimCase, Deadline, Dispatch, Opinion, OpinionPoint, OrgUnit, Person, ProgressNote, RoleAssignment,
    SupervisorAssignment,
)



# ---------------------------------------------------------------------------------------------
# Assignment of key branches (hq_admin)


@dataclass(frozen=True)
class AssignmentRow:
    person_id: int
    person: str
    branch_id: int
    branch: str
    assigned_at: datetime


@requires("supervision.assign")
def supervisor_assignments(session: Session, actor: Actor) -> list[AssignmentRow]:
    rows = session.execute(
        select(Person.id, Person.full_name, OrgUnit.id, OrgUnit.name, SupervisorAssignment.assigned_at)
        .join(Person, Person.id == SupervisorAssignment.person_id)
        .join(OrgUnit, OrgUnit.id == SupervisorAssignment.branch_id)
        .order_by(OrgUnit.code, Person.full_name)).all()
    return as_rows(AssignmentRow, rows)


@requires("supervision.assign")
def supervisor_choices(session: Session, actor: Actor) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(exec supervisors, branches) an admin can pair."""
    people = session.execute(
        select(Person.id, Person.full_name).join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.role == "exec_supervisor", Person.active.is_(True)).distinct()
        .order_by(Person.full_name)).tuples().all()
    return list(people), [(u.id, u.name) for u in reference.branches(session)]


@requires("supervision.assign")
def assign_supervisor(session: Session, actor: Actor, person_id: int, branch_id: int,
                      now: datetime | None = None) -> bool:
    """Assign a key branch to an exec supervisor; False when the pair already exists."""
    now = clock.or_now(now)
    is_supervisor = session.scalar(select(func.count()).select_from(RoleAssignment).where(
        RoleAssignment.person_id == person_id, RoleAssignment.role == "exec_supervisor"))
    branch = session.get(OrgUnit, branch_id)
    if not is_supervisor:
        raise ValidationFailed([FieldError("person", "review.assign.not_supervisor")])
    if branch is None or branch.level != "branch":
        raise ValidationFailed([FieldError("branch", "review.assign.not_branch")])
    added = session.execute(insert(SupervisorAssignment).values(
        person_id=person_id, branch_id=branch_id, assigned_at=now)
        .on_conflict_do_nothing(constraint="uq_supervisor_branch").returning(SupervisorAssignment.id)).first()
    if added:
        record_event(session, case_id=None, actor_id=actor.person_id, kind="supervisor_assigned", at=now,
                     role="hq_admin", person_id=person_id, branch_id=branch_id)
    session.commit()
    return added is not None


@requires("supervision.assign")
def unassign_supervisor(session: Session, actor: Actor, person_id: int, branch_id: int,
                        now: datetime | None = None, *, expected_assigned: bool = False) -> bool:
    """Remove a key branch from a supervisor; False when the pair did not exist. `expected_assigned`:
    the admin's page showed the pair; gone since, the removal is refused naming who removed it."""
    now = clock.or_now(now)
    removed = session.execute(delete(SupervisorAssignment).where(
        SupervisorAssignment.person_id == person_id, SupervisorAssignment.branch_id == branch_id)
        .returning(SupervisorAssignment.id)).first()
    if not removed and expected_assigned:
        who, at = _last_assignment_change(session, person_id, branch_id, "supervisor_unassigned")
        session.rollback()
        raise stale_write(session, who, at)
    if removed:
        record_event(session, case_id=None, actor_id=actor.person_id, kind="supervisor_unassigned", at=now,
                     role="hq_admin", person_id=person_id, branch_id=branch_id)
    session.commit()
    return removed is not None


def _last_assignment_change(session: Session, person_id: int, branch_id: int,
                            kind: str) -> tuple[int | None, datetime | None]:
    last = session.execute(
        select(CaseEvent.actor_id, CaseEvent.at).where(
            CaseEvent.case_id.is_(None), CaseEvent.kind == kind,
            CaseEvent.payload.contains({"person_id": person_id, "branch_id": branch_id}))
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(1)).first()
    return (last.actor_id, last.at) if last else (None, None)


@requires("supervision.assign")
def assignment_origin(session: Session, actor: Actor, person_id: int, branch_id: int) -> tuple[str | None, str | None]:
    """Who assigned this key branch to the supervisor and when (names, Asia/Shanghai text), for the
    answer to an admin who assigns it again; the seeded pairs have no history line (None, time)."""
    who_id, at = _last_assignment_change(session, person_id, branch_id, "supervisor_assigned")
    if at is None:
        at = session.scalar(select(SupervisorAssignment.assigned_at).where(
            SupervisorAssignment.person_id == person_id, SupervisorAssignment.branch_id == branch_id))
    who = session.scalar(select(Person.full_name).where(Person.id == who_id)) if who_id else None
    return who, shown_time(at)


# ---------------------------------------------------------------------------------------------
# Supervision threads: what a writer saw


def thread_version(session: Session, case_id: int) -> int:
    """How many entries the case's supervision thread holds (opinions and progress notes: both
    append-only), the version a page draws with the thread and a write names."""
    opinions = session.scalar(select(func.count()).select_from(Opinion).where(
        Opinion.case_id == case_id, Opinion.kind == "supervision")) or 0
    notes = session.scalar(select(func.count()).select_from(ProgressNote).where(ProgressNote.case_id == case_id)) or 0
    return opinions + notes


def _refuse_if_thread_moved(session: Session, case_id: int, expected: int | None) -> None:
    """A supervisor writing from a thread older than a reply (or a reply from a thread older than
    a new opinion) answers what they have not read: refused, naming the newest entry's author."""
    if expected is None or thread_version(session, case_id) == expected:
        return
    newest = session.execute(
        select(Opinion.author_id, Opinion.posted_at).where(Opinion.case_id == case_id, Opinion.kind == "supervision")
        .union_all(select(ProgressNote.author_id, ProgressNote.posted_at).where(ProgressNote.case_id == case_id))
        .order_by(literal_column("posted_at").desc()).limit(1)).first()
    session.rollback()
    raise stale_write(session, newest[0] if newest else None, newest[1] if newest else None)


# ---------------------------------------------------------------------------------------------
# Cases followed


def _followed_condition(actor: Actor):
    """Supervisor: tiered cases of assigned branches; first responsible: own dispatched cases."""
    if actor.has_role("hq_admin"):
        return None
    conditions = []
    if actor.has_role("exec_supervisor") and actor.supervised_branch_ids:
        conditions.append(ClaimCase.branch_id.in_(sorted(actor.supervised_branch_ids)))
    if actor.has_role("first_responsible"):
        conditions.append(ClaimCase.id.in_(dispatched_case_ids(actor.person_id)))
    if not conditions:
        return ClaimCase.id.is_(None)
    return or_(*conditions)


@dataclass(frozen=True)
class FollowedCase:
    case_id: int
    case_no: str
    branch: str
    sub_branch: str
    tier: str
    state: str
    estimate: Decimal | None
    tiered_at: datetime | None
    first_responsible: str
    supervision_opinions: int
    awaiting_reply_due: datetime | None  # earliest open D7
    last_progress_at: datetime | None
    risk_colour: str | None = None


def _followed_conditions(actor: Actor, include_closed: bool, branch_id: int | None, case_no: str | None,
                         colour: str | None = None) -> list:
    conditions = [ClaimCase.tier != "T0"]
    scope = _followed_condition(actor)
    if scope is not None:
        conditions.append(scope)
    if not include_closed:
        conditions.append(ClaimCase.state != "closed")
    if branch_id:
        conditions.append(ClaimCase.branch_id == branch_id)
    if case_no:
        conditions.append(ClaimCase.case_no.ilike(f"%{case_no}%"))
    if colour:
        conditions.append(ClaimCase.risk_colour == colour)
    return conditions


@built_once
def _followed_count_statement(actor: Actor, include_closed: bool, branch_id: int | None,
                              case_no: str | None, colour: str | None) -> Select:
    return select(func.count()).select_from(ClaimCase).where(
        *_followed_conditions(actor, include_closed, branch_id, case_no, colour))


def _open_d7_clock() -> tuple:
    """An open D7 clock: a supervisor's opinion awaiting its reply."""
    return Deadline.kind == "D7", Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None)


def _open_d7():
    """Per case, the soonest due of its open D7 clocks. They are few (124 nationally at 10,000,000
    cases): aggregated once and joined."""
    return (select(Deadline.case_id, func.min(Deadline.due_at).label("due")).where(*_open_d7_clock())
            .group_by(Deadline.case_id).subquery("open_d7"))


@built_once
def _awaiting_statement(actor: Actor, include_closed: bool, branch_id: int | None, case_no: str | None,
                        colour: str | None) -> Select:
    """The followed cases awaiting a reply, soonest due first: the head of the list, at most the
    first `upto` of them (bound at execution)."""
    open_d7 = _open_d7()
    return (select(ClaimCase.id).join(open_d7, open_d7.c.case_id == ClaimCase.id)
            .where(*_followed_conditions(actor, include_closed, branch_id, case_no, colour))
            .order_by(open_d7.c.due.asc(), ClaimCase.tiered_at.desc().nulls_last(), ClaimCase.id.desc())
            .limit(bindparam("upto")))


@built_once
def _rest_statement(actor: Actor, include_closed: bool, branch_id: int | None, case_no: str | None,
                    colour: str | None) -> Select:
    """The other followed cases, newest tiered first: for pending cases, a walk of
    ix_claim_case_tiered_pending_time in this very order (migration 0040) that stops at the page,
    a probe per case to leave out those awaiting a reply."""
    awaiting = exists().where(Deadline.case_id == ClaimCase.id, *_open_d7_clock())
    return (select(ClaimCase.id)
            .where(*_followed_conditions(actor, include_closed, branch_id, case_no, colour), ~awaiting)
            .order_by(ClaimCase.tiered_at.desc().nulls_last(), ClaimCase.id.desc())
            .limit(bindparam("limit")).offset(bindparam("offset")))


@built_once
def _followed_rows_statement() -> Select:
    """What the list shows of the chosen cases (`ids`, bound at execution), in no order."""
    branch, sub = BRANCH, SUB_BRANCH
    persons = (select(func.string_agg(Person.full_name, aggregate_order_by(literal("、"), Dispatch.dispatched_at)))
               .select_from(Person).join(Dispatch, Dispatch.person_id == Person.id).where(Dispatch.case_id == ClaimCase.id)
               .scalar_subquery())
    opinions = (select(func.count()).select_from(Opinion)
                .where(Opinion.case_id == ClaimCase.id, Opinion.kind == "supervision").scalar_subquery())
    awaiting = select(func.min(Deadline.due_at)).where(Deadline.case_id == ClaimCase.id, *_open_d7_clock()) \
        .scalar_subquery()
    last_note = (select(func.max(ProgressNote.posted_at)).where(ProgressNote.case_id == ClaimCase.id)
                 .scalar_subquery())
    return (
        select(ClaimCase.id, ClaimCase.case_no, branch.name, sub.name, ClaimCase.tier, ClaimCase.state,
               ClaimCase.current_estimate, ClaimCase.tiered_at, func.coalesce(persons, ""), opinions, awaiting,
               last_note, ClaimCase.risk_colour)
        .join(branch, branch.id == ClaimCase.branch_id).join(sub, sub.id == ClaimCase.sub_branch_id)
        .where(among_ids(ClaimCase.id)))


def _followed_page(session: Session, shape: tuple, limit: int, offset: int) -> list:
    """One page of the list: cases awaiting a reply (soonest due) first, then the others, newest
    tiered first, each part read in its own order and only as far as the page reaches
    (statements.head_then_rest)."""
    ids = head_then_rest(session, _awaiting_statement(*shape), _rest_statement(*shape), limit=limit, offset=offset,
                         prepared=True)
    return rows_in_order(session, _followed_rows_statement(), ids, prepared=True)


@built_once
def _kept_total_statement(actor: Actor, branch_id: int | None) -> Select | None:
    """The list's count from the kept figures where it is exactly the pending tiered cases of whole
    branches: hq_admin's (every branch) and a supervisor's (their key branches), unfiltered but for
    a branch. None where the scope is personal (a first responsible's own cases): counted live."""
    if actor.has_role("hq_admin"):
        return pending_tiered_statement(None, branch_id)
    if actor.has_role("first_responsible"):
        return None
    return pending_tiered_statement(tuple(actor.supervised_branch_ids), branch_id)


@requires("supervision.read")
def followed_cases(session: Session, actor: Actor, *, include_closed: bool = False, branch_id: int | None = None,
                   case_no: str | None = None, limit: int = 50, offset: int = 0, total: int | None = None,
                   colour: str | None = None) -> tuple[int, list[FollowedCase]]:
    """Tiered cases the actor follows; cases awaiting a reply first (soonest due), then newest.

    `limit=0` only counts; pass the `total` a first call returned to fetch a page without counting again.
    """
    case_no, colour = (case_no or "").strip() or None, colour or None
    shape = (actor, include_closed, branch_id or None, case_no, colour)
    if total is None:
        kept = None if include_closed or case_no or colour else _kept_total_statement(actor, branch_id or None)
        total = int(read(session, kept if kept is not None else _followed_count_statement(*shape),
                         prepared=True).scalar() or 0)
    if limit <= 0:
        return total, []
    return total, as_rows(FollowedCase, _followed_page(session, shape, limit, offset))


def _load_followed_case(session: Session, actor: Actor, case_id: int, *, for_update: bool = False) -> ClaimCase:
    return load_visible_case(session, actor, case_id, for_update=for_update, scope=_followed_condition(actor))


@requires("case.read")
def case_first_responsibles(session: Session, actor: Actor, case_id: int) -> list[tuple[int, str]]:
    """The persons dispatched to the case (the addressees a supervisor can choose)."""
    _load_followed_case(session, actor, case_id)
    return list(session.execute(
        select(Person.id, Person.full_name).join(Dispatch, Dispatch.person_id == Person.id)
        .where(Dispatch.case_id == case_id).group_by(Person.id, Person.full_name)
        .order_by(func.min(Dispatch.dispatched_at))).tuples().all())


@requires("supervision.post")
def post_supervision_opinion(session: Session, actor: Actor, case_id: int, body: str,
                             addressed_to_person_id: int | None = None, now: datetime | None = None, *,
                             expected_thread: int | None = None) -> int:
    """An exec supervisor tells the case's first responsible person what to do (D7 reply clock).
    `expected_thread`: thread_version as the supervisor's page drew it (refused when it moved)."""
    now = clock.or_now(now)
    query = select(ClaimCase).where(ClaimCase.id == case_id,
                                    ClaimCase.branch_id.in_(sorted(actor.supervised_branch_ids) or [-1]))
    case = session.scalars(query.with_for_update(of=ClaimCase)).first()
    if case is None:
        raise NotFound()  # not one of the supervisor's key branches
    if case.state == "closed":
        raise UserError("review.supervision.case_closed")
    _refuse_if_thread_moved(session, case_id, expected_thread)
    problem = text_problem(body or "")
    if problem:
        raise ValidationFailed([FieldError("body", problem)])
    dispatched = [pid for pid, _ in session.execute(
        select(Dispatch.person_id, func.min(Dispatch.dispatched_at)).where(Dispatch.case_id == case_id)
        .group_by(Dispatch.person_id).order_by(func.min(Dispatch.dispatched_at)))]
    if not dispatched:
        raise UserError("review.supervision.no_first_responsible")
    addressee = addressed_to_person_id or dispatched[0]
    if addressee not in dispatched:
        raise ValidationFailed([FieldError("addressed_to", "review.supervision.not_dispatched")])
    opinion = Opinion(case_id=case_id, branch_id=case.branch_id, kind="supervision", author_id=actor.person_id,
                      addressed_to_person_id=addressee, posted_at=now)
    session.add(opinion)
    session.flush()
    session.add(OpinionPoint(opinion_id=opinion.id, seq=1, body=body.strip()))
    start_deadline(session, kind="D7", subject_key=supervision_subject(opinion.id), started_at=now,
                   responsible_person_id=addressee, case_id=case_id, branch_id=case.branch_id)
    record_event(session, case_id=case_id, actor_id=actor.person_id, kind="supervision_posted", at=now,
                 role="exec_supervisor", opinion_id=opinion.id, addressed_to=addressee, body=body.strip())
    notify(session, recipients=[addressee], case_id=case_id, kind="supervision_opinion",
           body=zh("review.notify.supervision", case_no=case.case_no), dedupe_prefix=f"supervision:{opinion.id}",
           now=now)
    session.commit()
    return opinion.id


@requires("supervision.progress")
def post_progress_note(session: Session, actor: Actor, case_id: int, body: str, opinion_id: int | None = None,
                       now: datetime | None = None, *, expected_thread: int | None = None) -> int:
    """Progress on a case until closure: by a dispatched first responsible person (a reply to a
    supervision opinion meets its D7) or recorded by the branch tracker. `expected_thread` as for
    post_supervision_opinion."""
    now = clock.or_now(now)
    problem = text_problem(body or "")
    if actor.has_role("first_responsible"):
        allowed_case = session.scalar(select(func.count()).select_from(Dispatch).where(
            Dispatch.case_id == case_id, or_(Dispatch.person_id == actor.person_id,
                                             Dispatch.delegate_person_id == actor.person_id)))
    else:
        allowed_case = 0
    tracker_branches = actor.branch_ids_for("branch_tracker")
    case = session.get(ClaimCase, case_id, with_for_update=expected_thread is not None)
    if case is None or not (allowed_case or case.branch_id in tracker_branches):
        if not actor.may("supervision.progress"):
            raise PermissionDenied()
        raise NotFound()
    if case.state == "closed":
        raise UserError("review.progress.case_closed")
    _refuse_if_thread_moved(session, case_id, expected_thread)
    if problem:
        raise ValidationFailed([FieldError("body", problem)])
    role = "first_responsible" if allowed_case else "branch_tracker"
    opinion = None
    if opinion_id is not None:
        opinion = session.get(Opinion, opinion_id)
        if opinion is None or opinion.case_id != case_id:
            raise NotFound()
    note = ProgressNote(case_id=case_id, opinion_id=opinion_id, author_id=actor.person_id, body=body.strip(),
                        posted_at=now)
    session.add(note)
    session.flush()
    met_late = None
    if (opinion is not None and opinion.kind == "supervision" and role == "first_responsible"
            and opinion.addressed_to_person_id == actor.person_id):
        deadline = meet_deadline(session, kind="D7", subject_key=supervision_subject(opinion.id), met_at=now,
                                 met_by=actor.person_id)
        met_late = bool(deadline and deadline.met_at == now and now > deadline.due_at)
        notify(session, recipients=[opinion.author_id], case_id=case_id, kind="progress_reported",
               body=zh("review.notify.progress", case_no=case.case_no), dedupe_prefix=f"progress:{note.id}",
               now=now)
    record_event(session, case_id=case_id, actor_id=actor.person_id, kind="progress_reported", at=now,
                 role=role, note_id=note.id, opinion_id=opinion_id, body=note.body, late=met_late)
    session.commit()
    return note.id


@dataclass(frozen=True)
class ThreadEntry:
    at: datetime
    kind: str  # supervision | progress
    author: str
    body: str
    opinion_id: int | None
    addressed_to: str | None
    due_at: datetime | None
    met_at: datetime | None


@requires("case.read")
def supervision_thread(session: Session, actor: Actor, case_id: int) -> list[ThreadEntry]:
    """Supervision opinions and progress notes of one case, in order (oldest first)."""
    if actor.may("supervision.read"):
        try:
            _load_followed_case(session, actor, case_id)
        except NotFound:
            load_review_case(session, actor, case_id)
    else:
        load_review_case(session, actor, case_id)
    author, addressee = AUTHOR, ADDRESSEE
    entries: list[ThreadEntry] = []
    for r in session.execute(
            select(Opinion.posted_at, author.full_name, OpinionPoint.body, Opinion.id, addressee.full_name,
                   Deadline.due_at, Deadline.met_at)
            .join(author, author.id == Opinion.author_id)
            .join(OpinionPoint, OpinionPoint.opinion_id == Opinion.id)
            .outerjoin(addressee, addressee.id == Opinion.addressed_to_person_id)
            .outerjoin(Deadline, (Deadline.kind == "D7") & (Deadline.subject_key == sql_supervision_subject(Opinion.id)))
            .where(Opinion.case_id == case_id, Opinion.kind == "supervision")):
        entries.append(ThreadEntry(r[0], "supervision", r[1], r[2], r[3], r[4], r[5], r[6]))
    for r in session.execute(
            select(ProgressNote.posted_at, Person.full_name, ProgressNote.body, ProgressNote.opinion_id)
            .join(Person, Person.id == ProgressNote.author_id).where(ProgressNote.case_id == case_id)):
        entries.append(ThreadEntry(r[0], "progress", r[1], r[2], r[3], None, None, None))
    return sorted(entries, key=lambda e: e.at)


@dataclass(frozen=True)
class OpinionToReply:
    opinion_id: int
    body: str
    posted_at: datetime
    replied_at: datetime | None  # the D7 met: a reply to it was already given


@requires("case.read")
def open_supervision_opinions(session: Session, actor: Actor, case_id: int) -> list[OpinionToReply]:
    """Supervision opinions on the case addressed to the actor, for replying: those awaiting a reply
    first (oldest due first), then the answered ones, newest first."""
    _load_followed_case(session, actor, case_id)
    rows = session.execute(
        select(Opinion.id, OpinionPoint.body, Opinion.posted_at, Deadline.met_at)
        .join(OpinionPoint, OpinionPoint.opinion_id == Opinion.id)
        .outerjoin(Deadline, (Deadline.kind == "D7") & (Deadline.subject_key == sql_supervision_subject(Opinion.id)))
        .where(Opinion.case_id == case_id, Opinion.kind == "supervision",
               Opinion.addressed_to_person_id == actor.person_id)).tuples().all()
    views = [OpinionToReply(*r) for r in rows]
    waiting = sorted((v for v in views if v.replied_at is None), key=lambda v: v.posted_at)
    answered = sorted((v for v in views if v.replied_at is not None), key=lambda v: v.posted_at, reverse=True)
    return waiting + answered
