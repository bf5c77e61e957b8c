"""One case, everything that happened to it, in time order (the case detail page).

Each source table gives its own timeline entries (estimates, dispatches, contact attempts,
uploads, deadlines met, violations, opinions and their points, answers, verdicts, progress
notes, notifications); the append-only `case_event` history adds what no table records (state
changes, registration, tiering). Every query is bounded by the case and a row limit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from dashboard.rules.case_states import is_pending
from dashboard.services.actor import Actor
from dashboard.services.case_access import find_case_id as _find_case_id
from dashboard.services.case_access import load_visible_case
from dashboard.services.case_state import allowed_targets
from db.models import (
    CaseEvent, ClaimCase, ContactAttempt, Deadline, Dispatch, Estimate, Notification, Opinion,
    OpinionPoint, OrgUnit, Person, PointAnswer, PointVerdict, ProgressNote, RoleAssignment, TierRuleSet,
    Upload, Violation,
)

ROWS_PER_SOURCE = 500  # bound per source table; a real case has a few dozen rows in each
# History kinds already shown from their own table (richer there); the rest of case_event is shown.
COVERED_EVENT_KINDS = frozenset({
    "estimate_recorded", "dispatched", "contact_attempt", "copied",
    "upload_recorded", "material_uploaded", "upload", "deadline_met", "violation_recorded",
    "opinion_posted", "supervision_posted", "point_answered", "point_sent_back", "point_accepted",
    "progress_reported", "progress_note_added", "notification_queued", "arrived_on_scene",
})
_SAME_INSTANT_RANK = {"reported": 0, "detail.ev.event.case_registered": 1, "estimate": 2,
                      "detail.ev.event.case_tiered": 3, "detail.ev.event.case_escalated": 3, "dispatch": 4,
                      "notification": 9}
# Who may add material from the detail page (record_upload checks again, per case).
UPLOAD_ROLES = frozenset({"surveyor", "first_responsible", "hq_admin"})


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened. `summary` is an i18n key; `details` are its parameters."""

    at: datetime
    kind: str
    actor_name: str | None
    actor_role: str | None
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeadlineLine:
    id: int
    kind: str
    responsible_name: str | None
    also_charged_name: str | None
    started_at: datetime
    due_at: datetime
    met_at: datetime | None
    status: str  # met | met_late | open | overdue | cancelled


@dataclass(frozen=True)
class CaseFacts:
    id: int
    case_no: str
    state: str
    tier: str
    tier_rule_version: int | None
    tier_rule_branch_specific: bool
    current_estimate: Decimal | None
    tiered_at: datetime | None
    report_time: datetime
    accident_time: datetime
    province: str
    city: str
    address: str
    business_line: str
    policy_no: str
    insured_name: str
    driver_name: str | None
    reporter_name: str
    plate_no: str | None
    vehicle_model: str | None
    accident_type: str
    compulsory_only: bool
    branch_id: int
    branch_name: str
    sub_branch_name: str
    surveyor_id: int
    surveyor_name: str
    description: str | None
    is_major: bool
    closed_at: datetime | None
    reopen_count: int
    version: int

    @property
    def pending(self) -> bool:
        return is_pending(self.state)


@dataclass(frozen=True)
class CaseDetail:
    facts: CaseFacts
    timeline: list[TimelineEntry]
    deadlines: list[DeadlineLine]
    dispatched: list[tuple[int, str]]  # (person id, name) of every first responsible dispatched
    allowed_states: tuple[str, ...]
    may_upload: bool
    may_answer: bool


def find_case_id(session: Session, actor: Actor, case_no: str) -> int:
    """The id of case number `case_no` if the actor may see it; NotFound otherwise."""
    return _find_case_id(session, actor, case_no)


def _people(session: Session, ids: set[int | None]) -> dict[int, tuple[str, str | None]]:
    """person id → (full name, first role) for the people named on the timeline, one query."""
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    first_role = (select(RoleAssignment.role).where(RoleAssignment.person_id == Person.id)
                  .order_by(RoleAssignment.id).limit(1).scalar_subquery())
    rows = session.execute(select(Person.id, Person.full_name, first_role).where(Person.id.in_(wanted)))
    return {pid: (name, role) for pid, name, role in rows}


def _deadline_status(d: Deadline, now: datetime) -> str:
    if d.cancelled_at is not None:
        return "cancelled"
    if d.met_at is not None:
        return "met_late" if d.met_at > d.due_at else "met"  # late stays late (SPEC §4)
    return "overdue" if now > d.due_at else "open"


def _facts(session: Session, case: ClaimCase) -> CaseFacts:
    branch = aliased(OrgUnit)
    sub = aliased(OrgUnit)
    branch_name, sub_name, surveyor_name, rule_version, rule_branch = session.execute(
        select(branch.name, sub.name, Person.full_name, TierRuleSet.version, TierRuleSet.branch_id)
        .select_from(ClaimCase)
        .join(branch, branch.id == ClaimCase.branch_id)
        .join(sub, sub.id == ClaimCase.sub_branch_id)
        .join(Person, Person.id == ClaimCase.surveyor_id)
        .outerjoin(TierRuleSet, TierRuleSet.id == ClaimCase.tier_rule_set_id)
        .where(ClaimCase.id == case.id)).one()
    return CaseFacts(
        id=case.id, case_no=case.case_no, state=case.state, tier=case.tier, tier_rule_version=rule_version,
        tier_rule_branch_specific=rule_branch is not None, current_estimate=case.current_estimate,
        tiered_at=case.tiered_at, report_time=case.report_time, accident_time=case.accident_time,
        province=case.province, city=case.city, address=case.address, business_line=case.business_line,
        policy_no=case.policy_no, insured_name=case.insured_name, driver_name=case.driver_name,
        reporter_name=case.reporter_name, plate_no=case.plate_no, vehicle_model=case.vehicle_model,
        accident_type=case.accident_type, compulsory_only=case.compulsory_only, branch_id=case.branch_id,
        branch_name=branch_name, sub_branch_name=sub_name, surveyor_id=case.surveyor_id,
        surveyor_name=surveyor_name, description=case.description, is_major=case.is_major,
        closed_at=case.closed_at, reopen_count=case.reopen_count, version=case.version)


def case_detail(session: Session, actor: Actor, case_id: int, now: datetime | None = None) -> CaseDetail:
    """Facts and the whole timeline of a case the actor may see; NotFound for any other case."""
    now = now or datetime.now(timezone.utc)
    case = load_visible_case(session, actor, case_id)
    facts = _facts(session, case)
    lim = ROWS_PER_SOURCE
    raw: list[tuple[datetime, str, int | None, str, dict[str, Any]]] = []  # (at, kind, actor id, key, params)
    names_needed: set[int | None] = set()

    def add(at: datetime | None, kind: str, actor_id: int | None, key: str, **params: Any) -> None:
        if at is not None:
            raw.append((at, kind, actor_id, key, params))
            names_needed.add(actor_id)

    add(case.report_time, "reported", None, "detail.ev.reported", reporter=case.reporter_name,
        accident_time=case.accident_time)

    for e in session.scalars(select(Estimate).where(Estimate.case_id == case_id)
                             .order_by(Estimate.recorded_at, Estimate.id).limit(lim)):
        add(e.recorded_at, "estimate", e.recorded_by, "detail.ev.estimate", amount=e.amount,
            tier_before=e.tier_before, tier_after=e.tier_after, note=e.note)

    dispatches = list(session.scalars(select(Dispatch).where(Dispatch.case_id == case_id)
                                      .order_by(Dispatch.dispatched_at, Dispatch.id).limit(lim)))
    names_needed.update(d.person_id for d in dispatches)
    names_needed.update(d.delegate_person_id for d in dispatches)
    for d in dispatches:
        add(d.dispatched_at, "dispatch", d.dispatched_by, "detail.ev.dispatch", person_id=d.person_id,
            position=d.position, tier=d.tier, reason=d.reason, contact_state=d.contact_state)
        if d.arrived_at is not None:
            add(d.arrived_at, "arrival", d.delegate_person_id or d.person_id, "detail.ev.arrival",
                person_id=d.delegate_person_id or d.person_id)
    dispatch_person = {d.id: d.person_id for d in dispatches}

    for c in session.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case_id)
                             .order_by(ContactAttempt.recorded_at).limit(lim)):
        names_needed.add(c.delegate_person_id)
        add(c.recorded_at, "contact", c.recorded_by, "detail.ev.contact",
            person_id=dispatch_person.get(c.dispatch_id), outcome=c.outcome, reason=c.reason,
            delegate_id=c.delegate_person_id)

    for u in session.execute(select(Upload.uploaded_at, Upload.uploaded_by, Upload.on_behalf_of, Upload.kind,
                                    Upload.filename, Upload.size_bytes, Upload.note)
                             .where(Upload.case_id == case_id).order_by(Upload.uploaded_at).limit(lim)):
        names_needed.add(u.on_behalf_of)
        add(u.uploaded_at, "upload", u.uploaded_by, "detail.ev.upload", upload_kind=u.kind,
            filename=u.filename, size_bytes=u.size_bytes, on_behalf_id=u.on_behalf_of, note=u.note)

    deadline_rows = list(session.scalars(select(Deadline).where(Deadline.case_id == case_id)
                                         .order_by(Deadline.due_at, Deadline.id).limit(lim)))
    names_needed.update(d.responsible_person_id for d in deadline_rows)
    names_needed.update(d.also_charged_person_id for d in deadline_rows)
    for d in deadline_rows:
        if d.met_at is not None:
            add(d.met_at, "deadline_met", d.met_by, "detail.ev.deadline_met", deadline=d.kind,
                due_at=d.due_at, late=d.met_at > d.due_at)

    for v in session.scalars(select(Violation).where(Violation.case_id == case_id)
                             .order_by(Violation.found_at).limit(lim)):
        names_needed.add(v.person_id)
        add(v.found_at, "violation", None, "detail.ev.violation", deadline=v.kind, person_id=v.person_id,
            due_at=v.due_at, charge=v.charge)

    opinions = list(session.scalars(select(Opinion).where(Opinion.case_id == case_id)
                                    .order_by(Opinion.posted_at).limit(lim)))
    opinion_ids = [o.id for o in opinions]
    points: dict[int, OpinionPoint] = {}
    if opinion_ids:
        points = {p.id: p for p in session.scalars(select(OpinionPoint).where(
            OpinionPoint.opinion_id.in_(opinion_ids)).order_by(OpinionPoint.opinion_id, OpinionPoint.seq)
            .limit(lim))}
    for o in opinions:
        names_needed.add(o.addressed_to_person_id)
        bodies = [(p.seq, p.body, p.status) for p in points.values() if p.opinion_id == o.id]
        add(o.posted_at, "opinion", o.author_id,
            "detail.ev.opinion_hq" if o.kind == "hq_review" else "detail.ev.opinion_supervision",
            to_id=o.addressed_to_person_id, points=bodies, closed_at=o.closed_at)
    if points:
        for a in session.scalars(select(PointAnswer).where(PointAnswer.point_id.in_(list(points)))
                                 .order_by(PointAnswer.answered_at).limit(lim)):
            add(a.answered_at, "answer", a.author_id, "detail.ev.answer", seq=points[a.point_id].seq,
                body=a.body, late=a.late)
        for v in session.scalars(select(PointVerdict).where(PointVerdict.point_id.in_(list(points)))
                                 .order_by(PointVerdict.decided_at).limit(lim)):
            add(v.decided_at, "verdict", v.decided_by, f"detail.ev.verdict_{v.verdict}",
                seq=points[v.point_id].seq, reason=v.reason)

    for n in session.scalars(select(ProgressNote).where(ProgressNote.case_id == case_id)
                             .order_by(ProgressNote.posted_at).limit(lim)):
        add(n.posted_at, "progress", n.author_id, "detail.ev.progress", body=n.body,
            on_opinion=n.opinion_id is not None)

    for n in session.execute(select(Notification.created_at, Notification.recipient_person_id, Notification.kind,
                                    Notification.state, Notification.sent_at, Notification.body)
                             .where(Notification.case_id == case_id).order_by(Notification.created_at)
                             .limit(lim)):
        names_needed.add(n.recipient_person_id)
        add(n.created_at, "notification", None, "detail.ev.notification", recipient_id=n.recipient_person_id,
            notification_kind=n.kind, state=n.state, sent_at=n.sent_at, body=n.body)

    for ev in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                      CaseEvent.kind.not_in(sorted(COVERED_EVENT_KINDS)))
                              .order_by(CaseEvent.at, CaseEvent.id).limit(lim)):
        # Payload keys are whatever the writing service chose: kept as a plain dict of parameters.
        raw.append((ev.at, "event", ev.actor_id, f"detail.ev.event.{ev.kind}",
                    {**dict(ev.payload or {}), "event_kind": ev.kind}))
        names_needed.add(ev.actor_id)

    people = _people(session, names_needed)

    def name(pid: int | None) -> str | None:
        return people[pid][0] if pid in people else None

    timeline: list[TimelineEntry] = []
    for at, kind, actor_id, key, params in raw:
        for id_key, name_key in (("person_id", "person"), ("delegate_id", "delegate"), ("on_behalf_id", "on_behalf"),
                                 ("to_id", "to"), ("recipient_id", "recipient")):
            if id_key in params:
                params[name_key] = name(params.pop(id_key))
        who = people.get(actor_id) if actor_id is not None else None
        timeline.append(TimelineEntry(at=at, kind=kind, actor_name=who[0] if who else None,
                                      actor_role=who[1] if who else None, summary=key, details=params))
    # Same instant: cause before effect (estimate → tiering → dispatch → ... → notifications sent).
    timeline.sort(key=lambda e: (e.at, _SAME_INSTANT_RANK.get(e.summary, _SAME_INSTANT_RANK.get(e.kind, 5))))

    deadlines = [DeadlineLine(d.id, d.kind, name(d.responsible_person_id), name(d.also_charged_person_id),
                              d.started_at, d.due_at, d.met_at, _deadline_status(d, now)) for d in deadline_rows]
    may_upload = actor.has_role(*UPLOAD_ROLES) and facts.pending
    may_answer = actor.has_role("branch_manager", "branch_tracker") and bool(opinions)
    return CaseDetail(facts=facts, timeline=timeline, deadlines=deadlines,
                      dispatched=list(dict.fromkeys((d.person_id, name(d.person_id) or "") for d in dispatches)),
                      allowed_states=allowed_targets(actor, case.state), may_upload=may_upload,
                      may_answer=may_answer)
