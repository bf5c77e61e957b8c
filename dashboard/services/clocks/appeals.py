"""Violation appeals (申诉, issue 22): a person charged with a violation appeals it with a reason and
evidence; HQ admin (the holder of `violation.decide`) accepts or rejects it with a comment.

The violation is never changed (it is append-only, migration 0027): an accepted appeal is what
makes it exempt. Every count that ranks people or branches by violations leaves exempt ones out
(`sql_not_exempt`), the kept counts drop by one through a trigger (migration 0033), and the pages
say how many were exempted; the history keeps the violation, the appeal and the decision.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, bindparam, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from dashboard import clock
from dashboard.rules.typed_fields import read_text
from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.services.cases.history import record_event
from dashboard.services.errors import FieldError, NotFound, UserError, ValidationFailed
from dashboard.services.outbox import notify, zh
from dashboard.services.stale import stale_write
from dashboard.services.statements import as_rows, built_once, count_then_page, read
from dashboard.services.clocks.deadlines import d5_point_id, d5_round
from db.models import ClaimCase, Deadline, OpinionPoint, OrgUnit, Person, RoleAssignment, Violation, ViolationAppeal

REASON_MAX = 1000
EVIDENCE_MAX = 2000
COMMENT_MAX = 1000


def sql_not_exempt(violation_id: ColumnElement) -> ColumnElement[bool]:
    """The violation counts: no accepted appeal exempts it (index ix_violation_appeal_accepted)."""
    return ~exists().where(ViolationAppeal.violation_id == violation_id, ViolationAppeal.status == "accepted")


def sql_not_exempt_many(violation_id: ColumnElement) -> ColumnElement[bool]:
    """`sql_not_exempt` for a statement that reads thousands of violations (the overview's 56,000 at
    10,000,000 cases): the accepted appeals (a few thousand nationally) are read once into a hash and
    each violation looked up in it, where NOT EXISTS descended the appeals' index once per violation
    (112,000 pages, 37 ms). violation_appeal.violation_id is never NULL, so NOT IN means NOT EXISTS."""
    return violation_id.not_in(select(ViolationAppeal.violation_id).where(ViolationAppeal.status == "accepted"))


def sql_exempt(violation_id: ColumnElement) -> ColumnElement[bool]:
    return exists().where(ViolationAppeal.violation_id == violation_id, ViolationAppeal.status == "accepted")


@dataclass(frozen=True)
class MyViolation:
    violation_id: int
    kind: str
    case_id: int | None
    case_no: str | None
    branch: str | None
    due_at: datetime
    found_at: datetime
    charge: str
    appeal_id: int | None
    appeal_status: str | None  # None: not appealed
    comment: str | None
    point_seq: int | None = None  # D5: which review point (a case's points share case and due time)
    point_round: int | None = None
    # Charged too (第三章 五: the surveyor who uploaded the report late): whose clock it was. A surveyor
    # of a case dispatched to two people has two such violations, alike but for this.
    also_for: str | None = None


# The person a list is for, bound at execution: one built statement serves every person.
_PERSON = bindparam("person_id")


def _also_for(owner) -> ColumnElement:
    """The clock's responsible person's name, for a violation charged to another person too."""
    return case((Violation.charge == "also_charged", owner.full_name), else_=None)


@built_once
def _my_violations_count() -> Select:
    return select(func.count()).select_from(Violation).where(Violation.person_id == _PERSON)


@built_once
def _my_violations_page(limit: int, offset: int) -> Select:
    unit, owner = aliased(OrgUnit), aliased(Person)
    return (select(Violation.id, Violation.kind, Violation.case_id, ClaimCase.case_no, unit.name, Violation.due_at,
                   Violation.found_at, Violation.charge, ViolationAppeal.id, ViolationAppeal.status,
                   ViolationAppeal.comment, OpinionPoint.seq, d5_round(), _also_for(owner))
            .join(Deadline, Deadline.id == Violation.deadline_id)
            .outerjoin(owner, owner.id == Deadline.responsible_person_id)
            .outerjoin(OpinionPoint, OpinionPoint.id == d5_point_id())
            .outerjoin(ClaimCase, ClaimCase.id == Violation.case_id)
            .outerjoin(unit, unit.id == Violation.branch_id)
            .outerjoin(ViolationAppeal, ViolationAppeal.violation_id == Violation.id)
            .where(Violation.person_id == _PERSON)
            .order_by(Violation.found_at.desc(), Violation.id.desc())
            .limit(limit).offset(offset))


@requires("violation.appeal")
def my_violations(session: Session, actor: Actor, *, limit: int = 50, offset: int = 0,
                  total: int | None = None) -> tuple[int, list[MyViolation]]:
    """The violations charged to the actor, newest first, with their appeal's state."""
    total, rows = count_then_page(session, _my_violations_count, lambda: _my_violations_page(limit, offset),
                                  limit=limit, total=total, params={"person_id": actor.person_id}, prepared=True)
    return total, as_rows(MyViolation, rows)


def _deciders(session: Session) -> list[int]:
    return list(session.scalars(select(RoleAssignment.person_id).where(RoleAssignment.role == "hq_admin")
                                .distinct().order_by(RoleAssignment.person_id)))


@requires("violation.appeal")
def file_appeal(session: Session, actor: Actor, violation_id: int, reason: object, evidence: object, *,
                now: datetime | None = None) -> int:
    """Appeal one's own violation once; the reason is required, the evidence (what shows the delay was
    not the person's: a system outage, a case moved) optional. Returns the appeal's id."""
    now = clock.or_now(now)
    violation = session.scalars(select(Violation).where(Violation.id == violation_id,
                                                        Violation.person_id == actor.person_id)).first()
    if violation is None:
        raise NotFound()
    errors: list[FieldError] = []
    reason_text = read_text(errors, "appeals.reason", reason, required=True, max_len=REASON_MAX, multiline=True)
    evidence_text = read_text(errors, "appeals.evidence", evidence, required=False, max_len=EVIDENCE_MAX,
                              multiline=True)
    if errors:
        raise ValidationFailed(errors)
    if session.scalar(select(ViolationAppeal.id).where(ViolationAppeal.violation_id == violation_id)) is not None:
        raise UserError("appeals.error.already_appealed")
    appeal = ViolationAppeal(violation_id=violation_id, person_id=actor.person_id, reason=reason_text,
                             evidence=evidence_text, filed_at=now)
    session.add(appeal)
    session.flush()
    record_event(session, case_id=violation.case_id, actor_id=actor.person_id, kind="violation_appealed", at=now,
                 violation_id=violation_id, deadline_kind=violation.kind, appeal_id=appeal.id)
    name = session.scalar(select(Person.full_name).where(Person.id == actor.person_id))
    notify(session, recipients=[p for p in _deciders(session) if p != actor.person_id], case_id=violation.case_id,
           kind="appeal_filed", body=zh("appeals.notify.filed", name=name, kind=violation.kind),
           dedupe_prefix=f"appeal:{appeal.id}:filed", now=now)
    session.commit()
    return appeal.id


@dataclass(frozen=True)
class PendingAppeal:
    appeal_id: int
    version: int
    person: str
    branch: str | None
    kind: str
    case_id: int | None
    case_no: str | None
    due_at: datetime
    found_at: datetime
    reason: str
    evidence: str | None
    filed_at: datetime
    also_for: str | None = None  # as MyViolation.also_for


@built_once
def _pending_count() -> Select:
    return select(func.count()).select_from(ViolationAppeal).where(ViolationAppeal.status == "pending")


@built_once
def _pending_page(limit: int, offset: int) -> Select:
    unit, owner = aliased(OrgUnit), aliased(Person)
    return (select(ViolationAppeal.id, ViolationAppeal.version, Person.full_name, unit.name, Violation.kind,
                   Violation.case_id, ClaimCase.case_no, Violation.due_at, Violation.found_at,
                   ViolationAppeal.reason, ViolationAppeal.evidence, ViolationAppeal.filed_at, _also_for(owner))
            .join(Violation, Violation.id == ViolationAppeal.violation_id)
            .join(Person, Person.id == ViolationAppeal.person_id)
            .join(Deadline, Deadline.id == Violation.deadline_id)
            .outerjoin(owner, owner.id == Deadline.responsible_person_id)
            .outerjoin(ClaimCase, ClaimCase.id == Violation.case_id)
            .outerjoin(unit, unit.id == Violation.branch_id)
            .where(ViolationAppeal.status == "pending")
            .order_by(ViolationAppeal.filed_at, ViolationAppeal.id)
            .limit(limit).offset(offset))


@requires("violation.decide")
def pending_appeals(session: Session, actor: Actor, *, limit: int = 50, offset: int = 0,
                    total: int | None = None) -> tuple[int, list[PendingAppeal]]:
    """Appeals waiting for a decision, oldest first."""
    total, rows = count_then_page(session, _pending_count, lambda: _pending_page(limit, offset),
                                  limit=limit, total=total, prepared=True)
    return total, as_rows(PendingAppeal, rows)


@requires("violation.decide")
def decide_appeal(session: Session, actor: Actor, appeal_id: int, accept: bool, comment: object, *,
                  expected_version: int, now: datetime | None = None) -> str:
    """Accept (the violation becomes exempt) or reject, with a comment, as of the version the decider
    saw: a colleague's decision since is refused naming them. Never one's own appeal."""
    now = clock.or_now(now)
    appeal = session.scalars(select(ViolationAppeal).where(ViolationAppeal.id == appeal_id).with_for_update()).first()
    if appeal is None:
        raise NotFound()
    if appeal.version != expected_version or appeal.status != "pending":
        raise stale_write(session, appeal.decided_by, appeal.decided_at)
    if appeal.person_id == actor.person_id:
        raise UserError("appeals.error.own_appeal")
    errors: list[FieldError] = []
    text = read_text(errors, "appeals.comment", comment, required=True, max_len=COMMENT_MAX, multiline=True)
    if errors:
        raise ValidationFailed(errors)
    appeal.status = "accepted" if accept else "rejected"
    appeal.decided_by, appeal.decided_at, appeal.comment = actor.person_id, now, text
    appeal.version += 1
    violation = session.get(Violation, appeal.violation_id)
    assert violation is not None
    record_event(session, case_id=violation.case_id, actor_id=actor.person_id, kind="violation_appeal_decided",
                 at=now, violation_id=violation.id, deadline_kind=violation.kind, appeal_id=appeal.id,
                 outcome=appeal.status, comment=text)
    notify(session, recipients=[appeal.person_id], case_id=violation.case_id, kind="appeal_decided",
           body=zh(f"appeals.notify.{appeal.status}", kind=violation.kind, comment=text),
           dedupe_prefix=f"appeal:{appeal.id}:decided", now=now)
    session.commit()
    return appeal.status


@built_once
def exempted_count_statement(of_branch: bool) -> Select:
    """The violation is read only to filter by its branch: an appeal's row policy already shows
    only the appeals of violations the reader may see, so the count of all of them is read from
    the accepted appeals' index alone (a probe per appeal into the violations cost 2,403 probes
    on the overdue tracker's every run at 10,000,000 cases)."""
    query = select(func.count()).select_from(ViolationAppeal).where(ViolationAppeal.status == "accepted")
    if of_branch:
        query = (query.join(Violation, Violation.id == ViolationAppeal.violation_id)
                 .where(Violation.branch_id == bindparam("branch_id")))
    return query


@requires("overdue.read")
def exempted_count(session: Session, actor: Actor, branch_id: int | None = None) -> int:
    """How many violations the actor can see were exempted by an accepted appeal (shown beside every
    count that leaves them out)."""
    params = {} if branch_id is None else {"branch_id": branch_id}
    return read(session, exempted_count_statement(branch_id is not None), params, prepared=True).scalar() or 0
