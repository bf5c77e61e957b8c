"""A sender killed between sending and marking a message sent sends it again with the same message
id (issue 22): a real `python -m jobs.send_notifications` mails through a real local SMTP server
(STARTTLS, login) whose handler SIGKILLs the job when the DATA of the second message arrives, before
the server answers and so before the job can commit. The next run mails that message again under
the same Message-ID, and a mailbox that drops a repeated Message-ID keeps each message once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update

from dashboard.services.outbox import queue_notification
from db.models import Notification, Person
from jobs import send_notifications
from tests.delivery_servers import MailReceived, smtp_server

ROOT = Path(__file__).resolve().parents[2]
WORK = datetime.fromisoformat("2026-12-03T10:00:00+08:00")  # a working Thursday: mail goes at once


def test_a_job_killed_after_the_server_took_the_mail_resends_it_under_the_same_message_id(
        session, owner_session, org, db_url, tmp_path, monkeypatch):
    person = org.person("gz_claims")
    owner_session.execute(update(Person).where(Person.id == person).values(notify_channel="email",
                                                                          email="gz_claims@example.com"))
    owner_session.commit()
    for n in range(3):
        queue_notification(session, case_id=None, recipient_id=person, kind="deadline_warning",
                           body=f"【时效预警】第 {n + 1} 条", dedupe_key=f"kill:{n}", now=WORK)
    session.commit()
    ids = list(session.scalars(select(Notification.id).order_by(Notification.id)))
    monkeypatch.delenv("NOTIFICATION_SENDER", raising=False)

    with smtp_server(tmp_path) as (mailbox, env):
        job: dict[str, subprocess.Popen] = {}

        def kill_on_second(got: MailReceived) -> None:
            if len(mailbox.received) == 2 and "job" in job:
                os.kill(job["job"].pid, signal.SIGKILL)  # the server has the mail; the job has no answer yet

        mailbox.on_data = kill_on_second
        job["job"] = subprocess.Popen([sys.executable, "-m", "jobs.send_notifications", "--as-of", WORK.isoformat()],
                                      cwd=ROOT, env={**os.environ, **env, "DATABASE_URL": db_url},
                                      stderr=subprocess.PIPE)
        assert job["job"].wait(timeout=60) == -signal.SIGKILL, job["job"].stderr.read().decode()
        job["job"].stderr.close()
        assert len(mailbox.received) == 2
        session.expire_all()
        assert [session.get(Notification, i).state for i in ids] == ["sent", "queued", "queued"]

        for name, value in env.items():
            monkeypatch.setenv(name, value)
        mailbox.on_data = None
        assert send_notifications.main(["--as-of", WORK.isoformat()], url=db_url) == 0

    expected = [f"<claims-notification-{i}@claims.local>" for i in ids]
    # The server saw the message in flight at the kill twice, under one Message-ID; nothing else twice.
    assert mailbox.message_ids() == [expected[0], expected[1], expected[1], expected[2]]
    assert mailbox.received[1].message.get_content() == mailbox.received[2].message.get_content()
    kept = mailbox.delivered()
    assert list(kept) == expected and len(kept) == 3  # the person reads each message once
    assert all(r.tls and r.login for r in mailbox.received)
    session.expire_all()
    rows = [session.get(Notification, i) for i in ids]
    assert {(r.state, r.channel, r.attempts, r.last_error) for r in rows} == {("sent", "email", 1, None)}
