"""A person's own messages (issue 22): everything the outbox addressed to them, unread first, and
marking them read. Only the recipient marks a message read (row-level security on notification
lets a person update only their own). The reads run generic plans (statements.read): a person's
messages are in every month's partition of the outbox (migration 0047)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.services.statements import as_rows, built_once, count_then_page, read
from db.models import ClaimCase, Notification


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    body: str
    case_id: int | None
    case_no: str | None
    created_at: datetime
    read_at: datetime | None
    # Delivery (issue 22): queued, held (waits for working hours), digested (folded into digest_id),
    # sent (by channel) or failed.
    state: str = "queued"
    channel: str | None = None
    digest_id: int | None = None


@requires("messages.read")
def unread_count(session: Session, actor: Actor) -> int:
    return read(session, _unread_count(), {"person_id": actor.person_id}, generic=True).scalar() or 0


# The person a list is for, bound at execution: one built statement serves every person.
_PERSON = bindparam("person_id")


def _conditions(unread_only: bool) -> list:
    conditions = [Notification.recipient_person_id == _PERSON]
    if unread_only:
        conditions.append(Notification.read_at.is_(None))
    return conditions


@built_once
def _unread_count() -> Select:
    return select(func.count()).select_from(Notification).where(*_conditions(True))


@built_once
def _messages_count(unread_only: bool) -> Select:
    return select(func.count()).select_from(Notification).where(*_conditions(unread_only))


@built_once
def _messages_page(unread_only: bool, limit: int, offset: int) -> Select:
    return (select(Notification.id, Notification.kind, Notification.body, Notification.case_id, ClaimCase.case_no,
                   Notification.created_at, Notification.read_at, Notification.state, Notification.channel,
                   Notification.digest_id)
            .outerjoin(ClaimCase, ClaimCase.id == Notification.case_id).where(*_conditions(unread_only))
            .order_by(Notification.read_at.is_not(None), Notification.id.desc()).limit(limit).offset(offset))


@requires("messages.read")
def my_messages(session: Session, actor: Actor, *, unread_only: bool = False, limit: int = 50, offset: int = 0,
                total: int | None = None) -> tuple[int, list[Message]]:
    """The actor's messages, unread first, newest first within each."""
    total, rows = count_then_page(session, lambda: _messages_count(unread_only),
                                  lambda: _messages_page(unread_only, limit, offset), limit=limit, total=total,
                                  params={"person_id": actor.person_id}, generic=True)
    return total, as_rows(Message, rows)


@requires("messages.read")
def mark_read(session: Session, actor: Actor, ids: list[int], *, now: datetime | None = None) -> int:
    """Mark the actor's own messages among `ids` read (another person's id is ignored); how many."""
    now = clock.or_now(now)
    if not ids:
        return 0
    done = session.execute(update(Notification).where(
        Notification.id.in_(ids), Notification.recipient_person_id == actor.person_id, Notification.read_at.is_(None))
        .values(read_at=now).execution_options(synchronize_session=False)).rowcount
    session.commit()
    return done
