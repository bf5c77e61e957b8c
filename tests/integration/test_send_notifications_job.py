"""The outbox drain: every queued message sent once, failures kept and retried, one copy at a time."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, text

from dashboard.services.dispatching.dispatch import record_estimate
from db.models import Notification
from jobs import send_notifications
from jobs._common import job_engine
from jobs.send_notifications import LogSender, drain
from tests.factories import T0, make_case

log = logging.getLogger("test")


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
        assert drain(conn, sender, log, batch_size=2) == (len(ids), 0)
        assert drain(conn, sender, log) == (0, 0)
    engine.dispose()
    assert sender.sent == ids
    session.expire_all()
    assert set(session.scalars(select(Notification.state))) == {"sent"}


def test_a_refused_message_stays_queued_with_the_error_and_fails_after_five_attempts(session, org, actor_for, db_url):
    ids = _queued(session, org, actor_for)
    sender = RecordingSender(fail_for={ids[0]})
    engine = job_engine(db_url)
    with engine.connect() as conn:
        assert drain(conn, sender, log) == (len(ids) - 1, 1)
        for _ in range(4):
            drain(conn, sender, log)
    engine.dispose()
    session.expire_all()
    refused = session.get(Notification, ids[0])
    assert (refused.state, refused.attempts, refused.last_error) == ("failed", 5, "gateway refused")


def test_the_job_with_the_default_sender_logs_and_marks_sent(session, org, actor_for, db_url, caplog):
    _queued(session, org, actor_for)
    assert send_notifications.main([], url=db_url) == 0
    session.expire_all()
    assert set(session.scalars(select(Notification.state))) == {"sent"}


def test_rows_locked_by_another_drain_are_skipped_not_sent_twice(session, org, actor_for, db_url):
    ids = _queued(session, org, actor_for)
    engine = job_engine(db_url)
    with engine.connect() as other:
        other.execute(text("SELECT id FROM notification WHERE id = :id FOR UPDATE"), {"id": ids[0]})
        with engine.connect() as conn:
            sender = RecordingSender()
            drain(conn, sender, log)
        assert ids[0] not in sender.sent and len(sender.sent) == len(ids) - 1
        other.rollback()
    engine.dispose()


def test_the_default_sender_is_the_log(caplog):
    assert isinstance(send_notifications.load_sender(log), LogSender)
