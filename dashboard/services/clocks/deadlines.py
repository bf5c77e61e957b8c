"""Deadline clocks: started by the event that starts them, met once, never moved.

The one place a clock is started (start_deadline) or met by its subject (meet_deadline); which
subject each clock has is rules/deadlines (*_subject), its due time rules/deadlines.compute_due,
when it is late rules/deadlines (is_violation / sql_*), and flagging it services/violations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from dashboard.rules.deadlines import compute_due, needs_calendar, sql_d5_part
from dashboard.rules.work_calendar import MONDAY_TO_FRIDAY
from dashboard.services.clocks.calendar import load_calendar
from dashboard.services.clocks.violations import record_violations
from dashboard.services.reference import all_settings
from db.models import Deadline



def _d5_part(index: int) -> ColumnElement:
    return sql_d5_part(Deadline.kind, Deadline.subject_key, index)


def d5_point_id() -> ColumnElement:
    """The review point a D5 clock is for (its subject `point:<id>:round:<n>`); NULL for any other
    clock, so no other subject is ever read as a number."""
    return _d5_part(2)


def d5_round() -> ColumnElement:
    """Which answer round of its point a D5 clock is for (1, or more after send-backs); NULL otherwise."""
    return _d5_part(4)


def start_deadline(session: Session, *, kind: str, subject_key: str, started_at: datetime,
                   responsible_person_id: int | None, case_id: int | None = None,
                   branch_id: int | None = None, also_charged_person_id: int | None = None) -> Deadline:
    """Start clock `kind` for `subject_key` (e.g. a dispatch id); starting it again is a no-op."""
    settings = all_settings(session)
    calendar = load_calendar(session, started_at) if needs_calendar(kind, settings) else MONDAY_TO_FRIDAY
    due_at = compute_due(kind, started_at, settings, calendar)
    session.execute(
        insert(Deadline).values(
            kind=kind, subject_key=subject_key, case_id=case_id, branch_id=branch_id,
            responsible_person_id=responsible_person_id, also_charged_person_id=also_charged_person_id,
            started_at=started_at, due_at=due_at,
        ).on_conflict_do_nothing(constraint="uq_deadline_subject")
    )
    return session.scalars(select(Deadline).where(Deadline.kind == kind,
                                                  Deadline.subject_key == subject_key)).one()


def meet_deadline(session: Session, *, kind: str, subject_key: str, met_at: datetime,
                  met_by: int | None) -> Deadline | None:
    """Mark the clock met (once); a late meeting stays a violation but shows when it was met."""
    session.execute(update(Deadline)
                    .where(Deadline.kind == kind, Deadline.subject_key == subject_key,
                           Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None))
                    .values(met_at=met_at, met_by=met_by)
                    .execution_options(synchronize_session=False))
    return session.scalars(select(Deadline).where(Deadline.kind == kind, Deadline.subject_key == subject_key)
                           .execution_options(populate_existing=True)).first()


def stop_case_clocks(session: Session, case_id: int, at: datetime) -> int:
    """A closed case chases no one: its clocks still open are cancelled at the closing. Late stays
    late: those already past due are first recorded as violations (the job would have found them),
    so closing a case never erases a breach. Returns how many clocks were stopped."""
    ids = list(session.scalars(select(Deadline.id).where(
        Deadline.case_id == case_id, Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None))))
    if not ids:
        return 0
    record_violations(session, at, deadline_ids=ids)
    session.execute(update(Deadline).where(Deadline.id.in_(ids)).values(cancelled_at=at)
                    .execution_options(synchronize_session=False))
    return len(ids)


def open_clocks_for_update(session: Session, kind: str, condition: ColumnElement[bool]) -> list[Deadline]:
    """The open clocks of `kind` matching `condition`, locked: a material upload meets the clocks it
    completes and, on the same rows, charges a late upload (uploads.record_upload)."""
    return list(session.scalars(
        select(Deadline).where(Deadline.kind == kind, condition, Deadline.met_at.is_(None),
                               Deadline.cancelled_at.is_(None)).order_by(Deadline.id).with_for_update()))


def meet_locked_clocks(clocks: list[Deadline], met_at: datetime, met_by: int | None) -> list[Deadline]:
    """Mark clocks loaded by open_clocks_for_update met, once (meet_deadline does the same by subject)."""
    met = [c for c in clocks if c.met_at is None and c.cancelled_at is None]
    for clock_row in met:
        clock_row.met_at = met_at
        clock_row.met_by = met_by
    return met

