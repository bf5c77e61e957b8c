"""Refusing a stale write with who changed the record and when (分级管理: never silently overwrite).

A page passes the version it drew; a service that finds another version raises `stale_case` (or
builds `StaleWrite` from its own record's last change). Who and when come from the append-only
history, the one place every change of a case is written.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.services.errors import StaleWrite
from dashboard.settings import BUSINESS_TZ
from db.scope import acting_person
from db.models import CaseEvent, Person


def shown_time(at: datetime | None) -> str | None:
    return at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M") if at else None


def stale_write(session: Session, person_id: int | None, at: datetime | None, *,
                family: str = "common") -> StaleWrite:
    """The refusal naming the person (by name) and the moment of the change that moved the record;
    when that person is the one writing now, it says the change was their own (another window).
    `family`: whose sentences say it (StaleWrite)."""
    if person_id is not None and person_id == acting_person(session):
        return StaleWrite(at=shown_time(at), yourself=True, family=family)
    name = session.scalar(select(Person.full_name).where(Person.id == person_id)) if person_id else None
    return StaleWrite(name, shown_time(at), family=family)


def stale_case(session: Session, case_id: int) -> StaleWrite:
    """The refusal for a case that changed since it was drawn: its latest history line says who and when."""
    last = session.execute(select(CaseEvent.actor_id, CaseEvent.at).where(CaseEvent.case_id == case_id)
                           .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(1)).first()
    return stale_write(session, last.actor_id, last.at) if last else StaleWrite()
