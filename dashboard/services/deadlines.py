"""Deadline clocks: started by the event that starts them, met once, never moved."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from dashboard.rules.deadlines import compute_due
from dashboard.services.rule_settings import all_settings
from db.models import Deadline


def start_deadline(session: Session, *, kind: str, subject_key: str, started_at: datetime,
                   responsible_person_id: int | None, case_id: int | None = None,
                   branch_id: int | None = None, also_charged_person_id: int | None = None) -> Deadline:
    """Start clock `kind` for `subject_key` (e.g. a dispatch id); starting it again is a no-op."""
    due_at = compute_due(kind, started_at, all_settings(session))
    session.execute(
        insert(Deadline).values(
            kind=kind, subject_key=subject_key, case_id=case_id, branch_id=branch_id,
            responsible_person_id=responsible_person_id, also_charged_person_id=also_charged_person_id,
            started_at=started_at, due_at=due_at,
        ).on_conflict_do_nothing(constraint="uq_deadline_subject")
    )
    return session.scalars(select(Deadline).where(Deadline.kind == kind,
                                                  Deadline.subject_key == subject_key)).one()
