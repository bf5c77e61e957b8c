"""The outbox drain the send_notifications job runs: quiet hours first, then every message due,
one per transaction, through the channel its person chose.

One message per transaction: the row is claimed with FOR UPDATE SKIP LOCKED, handed to its channel,
marked `sent` (or its failure recorded) and committed before the next is claimed. So two runs never
send the same row, a killed run loses nothing, and the only message a killed run can have handed
over without recording it is the one in flight: the next run sends that one again under the same
key (rules/delivery), which the receiver drops. (Batches of 200 in one transaction re-sent up to
the whole batch; issue 18.)

A failed delivery is never lost: `attempts` goes up, `last_error` says why, and the row stays
queued until next_attempt_at = now + notify.retry_base_minutes × 2^(attempts − 1); after
notify.max_attempts it is `failed` and waits for HQ admin's retry on the delivery page.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.delivery import retry_delay
from dashboard.services.delivery.channels import (
    ChannelRouter,
    DeliveryConfig,
    NotificationSender,
    OutgoingMessage,
)
from dashboard.services.delivery.quiet import (
    delivery_rules,
    fold_digests,
    hold_until_working_hours,
)


class DrainResult(NamedTuple):
    sent: int
    failed: int  # failed attempts in this run (each stays queued or becomes failed)
    held: int  # messages held until working hours
    digests: int  # digests queued


# Due now: queued, its back-off over, and either inside working hours or urgent.
_CLAIM = text("""
SELECT n.id, n.recipient_person_id, p.full_name, p.phone, n.kind, n.body, c.case_no, n.attempts,
       p.email, p.notify_channel
  FROM notification n
  JOIN person p ON p.id = n.recipient_person_id
  LEFT JOIN claim_case c ON c.id = n.case_id
 WHERE n.state = 'queued' AND n.id > :after
   AND (n.next_attempt_at IS NULL OR n.next_attempt_at <= :now)
   AND (CAST(:working AS boolean) OR n.urgent)
 ORDER BY n.id
 LIMIT 1
   FOR UPDATE OF n SKIP LOCKED
""")
_SENT = text("UPDATE notification SET state = 'sent', sent_at = :at, attempts = attempts + 1, last_error = NULL, "
             "channel = :channel, next_attempt_at = NULL WHERE id = :id")
_FAILED = text("UPDATE notification SET attempts = :attempts, last_error = :error, channel = :channel, "
               "state = :state, next_attempt_at = :next WHERE id = :id")


def drain(conn: Connection, sender: NotificationSender, log: logging.Logger, *, now: datetime | None = None,
          config: DeliveryConfig | None = None) -> DrainResult:
    """Hold or fold by the hour, then send every message due once in this run, committing each before
    the next is claimed. `sender` takes what goes by the outbox page (the pluggable sender); `config`
    names the e-mail and robot channels (default: the environment); `now` pins the moment (tests,
    --as-of), else each step reads the clock."""
    moment = clock.or_now(now)
    with Session(bind=conn) as session:
        rules = delivery_rules(session, moment)
    conn.commit()
    held = digests = 0
    if rules.working:
        digests = fold_digests(conn, moment, log)
    else:
        held = hold_until_working_hours(conn)
    router = ChannelRouter(config if config is not None else DeliveryConfig.from_env(), sender)
    sent = failed = 0
    after = 0  # a refused message waits for its back-off, never retried in this run
    try:
        while True:
            row = conn.execute(_CLAIM, {"after": after, "now": moment, "working": rules.working}).first()
            if row is None:
                conn.commit()
                break
            after = row.id
            message = OutgoingMessage(row.id, row.recipient_person_id, row.full_name, row.phone, row.kind, row.body,
                                      row.case_no, row.email, row.notify_channel)
            channel, channel_sender = router.route(message)
            try:
                channel_sender.send(message)
            except Exception as exc:  # the channel said no: keep it, remember why, back off
                failed += 1
                attempts = row.attempts + 1
                gave_up = attempts >= rules.max_attempts
                log.warning("notification %d to %s by %s not sent (attempt %d%s): %s", row.id, row.full_name,
                            channel, attempts, ", now failed" if gave_up else "", exc)
                at = clock.or_now(now)
                conn.execute(_FAILED, {"id": row.id, "attempts": attempts, "error": str(exc)[:1000] or type(exc).__name__,
                                       "channel": channel, "state": "failed" if gave_up else "queued",
                                       "next": None if gave_up else at + retry_delay(attempts, rules.retry_base_minutes)})
            else:
                sent += 1
                conn.execute(_SENT, {"id": row.id, "at": clock.or_now(now), "channel": channel})
            conn.commit()
    finally:
        router.close()
    return DrainResult(sent, failed, held, digests)
