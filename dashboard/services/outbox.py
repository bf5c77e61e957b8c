"""The notification outbox: rendered messages queued once each for the send_notifications job."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import Notification


def queue_notification(session: Session, *, case_id: int | None, recipient_id: int, kind: str, body: str,
                       dedupe_key: str, now: datetime) -> None:
    """Put a message in the outbox once: a repeated dedupe_key (a retried action) is ignored."""
    session.execute(insert(Notification).values(
        case_id=case_id, recipient_person_id=recipient_id, kind=kind, body=body, dedupe_key=dedupe_key[:128],
        created_at=now,
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]))
