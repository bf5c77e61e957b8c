"""The notification outbox: who is told (a branch's people in a role, its supervisors), the message
rendered in Chinese, queued once per recipient for the send_notifications job."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dashboard.i18n import CATALOG
from db.models import RoleAssignment, SupervisorAssignment


_QUEUE = text("INSERT INTO notification (case_id, recipient_person_id, kind, body, dedupe_key, created_at, urgent) "
              "VALUES (:case_id, :recipient, :kind, :body, :dedupe_key, :created_at, :urgent)")


def queue_notification(session: Session, *, case_id: int | None, recipient_id: int, kind: str, body: str,
                       dedupe_key: str, now: datetime, urgent: bool = False) -> None:
    """Put a message in the outbox once: a repeated dedupe_key (a retried action) is ignored.
    `urgent`: delivered at any hour, not held for working hours (services/delivery/quiet).

    A plain INSERT: the outbox's trigger claims the key in notification_key and skips the row when
    it was claimed before (migration 0047). No ON CONFLICT and no RETURNING: the writer may address
    someone whose messages it may not read (a branch's tracker telling HQ), which the outbox's
    row-level security allows for an INSERT but not for a clause that must read the row (0027)."""
    session.execute(_QUEUE, {"case_id": case_id, "recipient": recipient_id, "kind": kind, "body": body,
                             "dedupe_key": dedupe_key[:128], "created_at": now, "urgent": urgent})


def notify(session: Session, *, recipients: list[int], case_id: int | None, kind: str, body: str,
           dedupe_prefix: str, now: datetime) -> None:
    """Queue one outbox row per recipient; the dedupe key makes a retry harmless."""
    for person_id in dict.fromkeys(recipients):
        queue_notification(session, case_id=case_id, recipient_id=person_id, kind=kind, body=body,
                           dedupe_key=f"{dedupe_prefix}:to:{person_id}", now=now)



def zh(key: str, **params: object) -> str:
    """Notification bodies are stored rendered in Simplified Chinese (the business language)."""
    text = CATALOG.get(key, (key, key))[0]
    return text.format(**params) if params else text


def kind_zh(kind: str) -> str:
    """A notification kind's name in Chinese (a mail's subject, a digest's line); 通知 for a kind
    without one, as 我的消息 shows it."""
    return zh(f"detail.notification_kind.{kind}" if f"detail.notification_kind.{kind}" in CATALOG
              else "messages.kind_other")


def branch_people(session: Session, branch_id: int, role: str) -> list[int]:
    """People holding `role` at the branch itself, oldest assignment first."""
    return list(session.scalars(
        select(RoleAssignment.person_id).where(RoleAssignment.unit_id == branch_id,
                                               RoleAssignment.role == role)
        .order_by(RoleAssignment.id)))


def branch_supervisors(session: Session, branch_id: int) -> list[int]:
    return list(session.scalars(select(SupervisorAssignment.person_id)
                                .where(SupervisorAssignment.branch_id == branch_id)
                                .order_by(SupervisorAssignment.person_id)))
