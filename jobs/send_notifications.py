"""`python -m jobs.send_notifications`: drain the notification outbox through a pluggable sender.

Every minute (jobs/crontab). Rows are claimed in batches with FOR UPDATE SKIP LOCKED, handed to
the sender, and marked `sent` (or, after MAX_ATTEMPTS failures, `failed` with the last error) in
the same transaction, so a message is never sent twice by two runs and never lost by a killed
one (a killed batch rolls back and is sent by the next run). The advisory lock keeps to one copy.

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
BATCH_SIZE = 200
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
 LIMIT :limit
   FOR UPDATE OF n SKIP LOCKED
""")
_SENT = text("UPDATE notification SET state = 'sent', sent_at = :at, attempts = attempts + 1, last_error = NULL "
             "WHERE id = :id")
_FAILED = text("UPDATE notification SET attempts = attempts + 1, last_error = :error, "
               "state = CASE WHEN attempts + 1 >= :max THEN 'failed' ELSE 'queued' END WHERE id = :id")


def drain(conn: Connection, sender: NotificationSender, log: logging.Logger, *, batch_size: int = BATCH_SIZE,
          now: datetime | None = None) -> tuple[int, int]:
    """Send every queued message once in this run; returns (sent, failed attempts)."""
    sent = failed = 0
    after = 0
    while True:
        rows = conn.execute(_CLAIM, {"after": after, "limit": batch_size}).all()
        if not rows:
            conn.commit()
            break
        for row in rows:
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
