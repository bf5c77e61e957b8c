"""The outbox drain: every queued message sent once, failures kept and retried, one copy at a time.

Every drain here runs at a stated moment inside working hours (WORK, a Thursday 10:00 in
Asia/Shanghai): outside them messages are held for the digest (tests/integration/test_delivery.py),
and the suite runs at any hour."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from dashboard.services.dispatching.dispatch import record_estimate
from db.models import Notification
from jobs import send_notifications
from jobs._common import job_engine
from jobs.send_notifications import LogSender, drain
from tests.factories import T0, make_case
from tests.notification_probe import read_calls

log = logging.getLogger("test")
WORK = datetime.fromisoformat("2026-12-03T10:00:00+08:00")  # a working Thursday, inside working hours


class RecordingSender:
    def __init__(self, fail_for: set[int] = frozenset()) -> None:
        self.sent: list[int] = []
        self.fail_for = fail_for

    def send(self, message) -> None:
        if message.notification_id in self.fail_for:
            raise RuntimeError("gateway refused")
        self.sent.append(message.notification_id)


def _queued(session, org, actor_for) -> list[int]:
    for sub, amount in (("gz", 80000), ("sz", 300000)):
        case = make_case(session, org, sub)
        record_estimate(session, actor_for("callcenter"), case.id, amount, now=T0 + timedelta(hours=1))
    return list(session.scalars(select(Notification.id).where(Notification.state == "queued").order_by(Notification.id)))


def test_every_queued_message_is_sent_once_and_marked(session, org, actor_for, db_url):
    ids = _queued(session, org, actor_for)
    assert len(ids) >= 3
    sender = RecordingSender()
    engine = job_engine(db_url)
    with engine.connect() as conn:
        assert drain(conn, sender, log, now=WORK)[:2] == (len(ids), 0)
        assert drain(conn, sender, log, now=WORK)[:2] == (0, 0)
    engine.dispose()
    assert sender.sent == ids
    session.expire_all()
    assert set(session.scalars(select(Notification.state))) == {"sent"}


def test_a_refused_message_stays_queued_with_the_error_and_fails_after_six_attempts(session, org, actor_for, db_url):
    """notify.max_attempts (6); each retry waits out its back-off (1, 2, 4, 8, 16 minutes)."""
    ids = _queued(session, org, actor_for)
    sender = RecordingSender(fail_for={ids[0]})
    engine = job_engine(db_url)
    moment = WORK
    with engine.connect() as conn:
        assert drain(conn, sender, log, now=moment)[:2] == (len(ids) - 1, 1)
        for wait in (1, 2, 4, 8, 16):
            assert drain(conn, sender, log, now=moment + timedelta(minutes=wait) - timedelta(seconds=1))[:2] == (0, 0)
            moment += timedelta(minutes=wait)
            assert drain(conn, sender, log, now=moment)[:2] == (0, 1)
        assert drain(conn, sender, log, now=moment + timedelta(days=1))[:2] == (0, 0)  # failed: waits for HQ
    engine.dispose()
    session.expire_all()
    refused = session.get(Notification, ids[0])
    assert (refused.state, refused.attempts, refused.last_error) == ("failed", 6, "gateway refused")


def test_the_job_with_the_default_sender_logs_and_marks_sent(session, org, actor_for, db_url, caplog):
    _queued(session, org, actor_for)
    assert send_notifications.main(["--as-of", WORK.isoformat()], url=db_url) == 0
    session.expire_all()
    assert set(session.scalars(select(Notification.state))) == {"sent"}
    assert set(session.scalars(select(Notification.channel))) == {"outbox"}  # nothing configured: the page


def test_rows_locked_by_another_drain_are_skipped_not_sent_twice(session, org, actor_for, db_url):
    ids = _queued(session, org, actor_for)
    engine = job_engine(db_url)
    with engine.connect() as other:
        other.execute(text("SELECT id FROM notification WHERE id = :id FOR UPDATE"), {"id": ids[0]})
        with engine.connect() as conn:
            sender = RecordingSender()
            drain(conn, sender, log, now=WORK)
        assert ids[0] not in sender.sent and len(sender.sent) == len(ids) - 1
        other.rollback()
    engine.dispose()


def test_the_default_sender_is_the_log(caplog):
    assert isinstance(send_notifications.load_sender(log), LogSender)


def _queue_many(session, org, actor_for, at_least: int) -> list[int]:
    """Dispatch cases across sub-branches (each queues messages to its first responsible persons)."""
    subs = [s.code for subs in org.sub_branches.values() for s in subs]
    for n in range(100):
        if session.scalar(select(func.count()).select_from(Notification)) >= at_least:
            break
        sub = subs[n % len(subs)]
        case = make_case(session, org, sub)
        record_estimate(session, actor_for("callcenter"), case.id, (80000, 300000)[n % 2],
                        now=T0 + timedelta(hours=1))
    return list(session.scalars(select(Notification.id).where(Notification.state == "queued").order_by(Notification.id)))


def test_a_run_killed_mid_send_loses_nothing_and_the_gateway_delivers_each_message_once(
        session, owner_session, org, actor_for, db_url, tmp_path, monkeypatch):
    """Issue 18: `python -m jobs.send_notifications` is SIGKILLed by PID while the gateway is
    answering, then run again. Every row ends `sent` once; only the message in flight at the kill
    can reach the gateway twice (one transaction per message), and the gateway drops that repeat
    by its idempotency key, so each person gets each message once."""
    ids = _queue_many(session, org, actor_for, at_least=32)
    assert len(ids) >= 32
    probe_log = tmp_path / "gateway.log"
    monkeypatch.setenv("NOTIFICATION_SENDER", "tests.notification_probe:sender")
    monkeypatch.setenv("NOTIFICATION_PROBE_LOG", str(probe_log))
    monkeypatch.setenv("NOTIFICATION_PROBE_DELAY", "0.1")
    job = subprocess.Popen([sys.executable, "-m", "jobs.send_notifications", "--as-of", WORK.isoformat()],
                           cwd=Path(__file__).resolve().parents[2], env={**os.environ, "DATABASE_URL": db_url},
                           stderr=subprocess.PIPE)
    for _ in range(600):  # bounded wait for the job to be part way through
        if len(read_calls(probe_log)) >= 8 or job.poll() is not None:
            break
        time.sleep(0.05)
    assert job.poll() is None, "the job ended before it could be killed"
    os.kill(job.pid, signal.SIGKILL)
    assert job.wait(timeout=10) == -signal.SIGKILL, job.stderr.read().decode()
    job.stderr.close()
    before_kill = read_calls(probe_log)
    assert 8 <= len(before_kill) < len(ids), "the kill did not land mid-run"
    assert [c.notification_id for c in before_kill] == ids[:len(before_kill)]  # in order, none twice

    # What the killed run committed: every message it handed over but the one in flight at most.
    owner_session.expire_all()
    committed = owner_session.scalar(select(func.count()).select_from(Notification)
                                     .where(Notification.state == "sent"))
    owner_session.rollback()
    assert len(before_kill) - 1 <= committed <= len(before_kill)

    monkeypatch.setenv("NOTIFICATION_PROBE_DELAY", "0")
    assert send_notifications.main(["--as-of", WORK.isoformat()], url=db_url) == 0  # the server ends the dead session
    calls = read_calls(probe_log)
    resent = [c for c in calls[len(before_kill):] if c.notification_id in {b.notification_id for b in before_kill}]
    # Raw re-sends: exactly the delivered-but-uncommitted message, if the kill fell in that window.
    assert len(resent) == len(before_kill) - committed <= 1
    assert all(c.outcome == "duplicate" for c in resent)
    assert len(calls) == len(ids) + len(resent)
    # At the gateway: every message accepted exactly once, under the key of its own row, whole.
    accepted = [c.notification_id for c in calls if c.outcome == "accepted"]
    assert sorted(accepted) == ids
    assert all(c.key == f"claims-notification-{c.notification_id}" for c in calls)
    first_body = {c.notification_id: c.body for c in calls if c.outcome == "accepted"}
    assert all(c.body == first_body[c.notification_id] for c in resent)
    # In the outbox: every row sent, one recorded attempt each (the killed one's rolled back).
    session.expire_all()
    rows = session.execute(select(Notification.id, Notification.state, Notification.attempts,
                                  Notification.sent_at, Notification.last_error).order_by(Notification.id)).all()
    assert [r.id for r in rows] == ids
    assert {(r.state, r.attempts, r.last_error) for r in rows} == {("sent", 1, None)}
    assert all(r.sent_at is not None for r in rows)
    print(f"\nqueued={len(ids)} delivered_before_kill={len(before_kill)} committed_before_kill={committed} "
          f"resent_after_kill={len(resent)} lost={len(set(ids) - set(accepted))} "
          f"doubled_at_gateway={len(accepted) - len(set(accepted))}")
