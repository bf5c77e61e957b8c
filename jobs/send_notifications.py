"""`python -m jobs.send_notifications`: drain the notification outbox through a pluggable sender.

Every minute (jobs/crontab). One message per transaction: the row is claimed with FOR UPDATE
SKIP LOCKED, handed to the sender, marked `sent` (or, after MAX_ATTEMPTS failures, `failed` with
the last error) and committed before the next is claimed. So two runs never send the same row,
a killed run loses nothing, and the only message a killed run can have handed over without
recording it is the one in flight: the next run sends that one again. (Batches of 200 in one
transaction re-sent up to the whole batch; issue 18.) The advisory lock keeps to one copy.

A kill between the gateway's acceptance and the commit looks, to the next run, like a message
never sent, so delivery is at least once: every message carries a stable idempotency key (`OutgoingMessage.idempotency_key`,
from the outbox row's id, the same on every attempt and every run), and a gateway or sender
MUST deduplicate on it (an SMS gateway's client message id, a mail Message-ID) so that a re-sent
message reaches the person once.

The default sender writes each message to the log. To plug in an SMS gateway or a mail sender,
set NOTIFICATION_SENDER=package.module:factory, where factory() returns an object with
`send(message: OutgoingMessage) -> None` that raises on failure.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection, text

from dashboard import clock
from jobs._common import run_job

NAME = "send_notifications"
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: int
    recipient_person_id: int
    recipient_name: str
    recipient_phone: str | None
    kind: str
    body: str
    case_no: str | None

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt at this outbox row: the gateway drops a repeat of it."""
        return f"claims-notification-{self.notification_id}"


class NotificationSender(Protocol):
    def send(self, message: OutgoingMessage) -> None:
        """Deliver the message or raise; the outbox records the error and retries later."""


class LogSender:
    """Default sender: the message goes to the log (no gateway configured)."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log

    def send(self, message: OutgoingMessage) -> None:
        self._log.debug("to %s (%s) [%s] %s", message.recipient_name, message.recipient_phone or "no phone",
                       message.kind, message.body)


def load_sender(log: logging.Logger) -> NotificationSender:
    spec = os.environ.get("NOTIFICATION_SENDER", "").strip()
    if not spec:
        return LogSender(log)
    module_name, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attr or "sender")
    return factory()


_CLAIM = text("""
SELECT n.id, n.recipient_person_id, p.full_name, p.phone, n.kind, n.body, c.case_no, n.attempts
  FROM notification n
  JOIN person p ON p.id = n.recipient_person_id
  LEFT JOIN claim_case c ON c.id = n.case_id
 WHERE n.state = 'queued' AND n.id > :after
 ORDER BY n.id
 LIMIT 1
   FOR UPDATE OF n SKIP LOCKED
""")
_SENT = text("UPDATE notification SET state = 'sent', sent_at = :at, attempts = attempts + 1, last_error = NULL "
             "WHERE id = :id")
_FAILED = text("UPDATE notification SET attempts = attempts + 1, last_error = :error, "
               "state = CASE WHEN attempts + 1 >= :max THEN 'failed' ELSE 'queued' END WHERE id = :id")


def drain(conn: Connection, sender: NotificationSender, log: logging.Logger, *,
          now: datetime | None = None) -> tuple[int, int]:
    """Send every queued message once in this run, committing each before the next is claimed
    (a kill re-sends at most the one in flight); returns (sent, failed attempts)."""
    sent = failed = 0
    after = 0  # a refused message stays queued for the next run, not retried in this one
    while True:
        row = conn.execute(_CLAIM, {"after": after}).first()
        if row is None:
            conn.commit()
            break
        after = row.id
        message = OutgoingMessage(row.id, row.recipient_person_id, row.full_name, row.phone, row.kind,
                                  row.body, row.case_no)
        try:
            sender.send(message)
        except Exception as exc:  # the gateway said no: keep it queued, remember why
            failed += 1
            log.warning("notification %d to %s not sent: %s", row.id, row.full_name, exc)
            conn.execute(_FAILED, {"id": row.id, "error": str(exc)[:1000], "max": MAX_ATTEMPTS})
        else:
            sent += 1
            conn.execute(_SENT, {"id": row.id, "at": clock.or_now(now)})
        conn.commit()
    return sent, failed


def work(conn: Connection, args: argparse.Namespace, log: logging.Logger) -> None:
    sent, failed = drain(conn, load_sender(log), log)
    log.info("%d notification(s) sent, %d failed attempt(s)", sent, failed)


def main(argv: Sequence[str] | None = None, *, url: str | None = None) -> int:
    return run_job(NAME, work, argv, url=url)


if __name__ == "__main__":
    sys.exit(main())
