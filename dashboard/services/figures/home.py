"""Landing-page figures for the signed-in person, limited to the cases they may see."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Integer, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from dashboard.services import reference
from dashboard.services.actor import Actor
from dashboard.services.cases.counts import visible_counts
from dashboard.services.clocks.deadlines import d5_point_id, d5_round
from dashboard.rules.deadlines import sql_dispatch_subject
from dashboard.services.statements import built_once, read
from dashboard.services.capability import requires
from db.models import ClaimCase, Deadline, Dispatch, OpinionPoint


@dataclass(frozen=True)
class HomeFigures:
    cases_visible: int
    pending: int
    pending_tiered: int
    pending_tiered_amount: Decimal


@requires("case.read")
def home_figures(session: Session, actor: Actor) -> HomeFigures:
    # From the figures the database keeps per sub-branch (services/case_counts): a sum over a few
    # hundred rows, whatever the history and the backlog.
    counts = visible_counts(session, actor)
    return HomeFigures(counts.cases, counts.pending, counts.pending_tiered, counts.pending_tiered_amount)


@requires("case.read")
def unit_names(session: Session, actor: Actor) -> list[str]:
    names = reference.org_tree(session).names
    return [names[i] for i in sorted({a.unit_id for a in actor.assignments}) if i in names]


@dataclass(frozen=True)
class MyTask:
    """An open deadline the person answers for (responsible, also charged, or the delegate going)."""

    deadline_id: int
    kind: str
    case_id: int | None
    case_no: str | None
    tier: str | None
    due_at: datetime
    # D5 (answer an HQ review point): which point of the opinion, and which answer round. A case
    # with four open points has four D5 clocks that otherwise read as one row four times.
    point_seq: int | None = None
    answer_round: int | None = None
    risk_colour: str | None = None


@requires("case.read")
def my_open_tasks(session: Session, actor: Actor, *, limit: int = 20) -> tuple[int, list[MyTask]]:
    """The person's own open clocks, most urgent first (overdue ones at the top), and how many
    there are: one statement (a person has a handful of open clocks, so counting them beside the
    page costs nothing, and the landing page saves a round trip)."""
    # Prepared (planning took ~1.2 ms), the person bound at execution: one statement for everyone's
    # landing page, not one per person on every pooled connection.
    rows = read(session, _my_tasks_statement(limit), {"person_id": actor.person_id}, prepared=True).all()
    return (rows[0][-1] if rows else 0), [MyTask(*r[:-1]) for r in rows]


_PERSON = bindparam("person_id", type_=Integer)


@built_once
def _my_tasks_statement(limit: int) -> Select:
    # Three index probes whatever the national backlog (migration 0021): the person's open clocks
    # as responsible, as also charged, and the delegate's by their (kind, subject_key) key, which
    # = ANY(ARRAY(...)) can probe and IN (subquery) could not (it filtered every open clock).
    delegated = func.array(select(sql_dispatch_subject(Dispatch.id))
                           .where(Dispatch.delegate_person_id == _PERSON).scalar_subquery())
    mine = or_(Deadline.responsible_person_id == _PERSON,
               Deadline.also_charged_person_id == _PERSON,
               and_(Deadline.kind.in_(("D2", "D3")), Deadline.subject_key == func.any(delegated)))
    open_ = and_(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None), mine)
    # A D5 clock names its review point by the point's number (services.deadlines.d5_point_id).
    return (
        select(Deadline.id, Deadline.kind, Deadline.case_id, ClaimCase.case_no, ClaimCase.tier, Deadline.due_at,
               OpinionPoint.seq, d5_round(), ClaimCase.risk_colour, func.count().over())
        .outerjoin(ClaimCase, ClaimCase.id == Deadline.case_id)
        .outerjoin(OpinionPoint, OpinionPoint.id == d5_point_id())
        .where(open_).order_by(Deadline.due_at, Deadline.id).limit(limit))
