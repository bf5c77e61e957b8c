"""Delivery (issue 22) on a real database, to a real local SMTP server and a real local robot: each
person's channel and its fallback, retries with back-off, a failed message retried by HQ admin,
quiet hours holding messages and folding them into one digest per person (under repeated and
concurrent runs), and an urgent breach going out at night.

Every run states its moment (`now=`): the outcome depends on the hour, and the suite runs at any."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from dashboard.services.clocks.violations import record_violations
from dashboard.services.delivery.admin import (
    delivery_counts,
    retry_failed,
    troubled_messages,
)
from dashboard.services.delivery.channels import DeliveryConfig
from dashboard.services.delivery.drain import drain
from dashboard.services.delivery.preferences import (
    my_notify_preferences,
    save_notify_preferences,
)
from dashboard.services.errors import PermissionDenied
from dashboard.services.outbox import queue_notification
from dashboard.services.review.opinions import post_review_opinion
from dashboard.services.review.queue import queue_tiered_cases
from db.models import Notification, Person
from jobs._common import job_engine
from jobs.send_notifications import LogSender
from tests.delivery_servers import RobotServer, robot_server, smtp_server
from tests.review_support import tiered_case

log = logging.getLogger("test")


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00")


WORK = shanghai("2026-12-03 10:00")  # Thursday, a working day
NIGHT = shanghai("2026-12-02 22:00")  # Wednesday night
NOTHING = DeliveryConfig()  # no SMTP server, no robot


class Recording:
    """The outbox page's pluggable sender, recording what it was handed."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    def send(self, message) -> None:
        self.sent.append(message.notification_id)


def _queue(session, org, username: str, n: int, at: datetime, *, urgent: bool = False) -> int:
    queue_notification(session, case_id=None, recipient_id=org.person(username), kind="deadline_warning",
                       body=f"【时效预警】测试消息 {n}", dedupe_key=f"test:{username}:{n}", now=at, urgent=urgent)
    session.commit()
    return session.scalar(select(Notification.id).where(Notification.dedupe_key == f"test:{username}:{n}"))


def _choose(session, actor_for, username: str, channel: str, email: str | None = None) -> None:
    actor = actor_for(username)
    version = my_notify_preferences(session, actor, config=NOTHING).version
    save_notify_preferences(session, actor, channel, email, expected_version=version, config=NOTHING)


def _drain(db_url: str, now: datetime, config: DeliveryConfig = NOTHING, sender=None):
    engine = job_engine(db_url)
    try:
        with engine.connect() as conn:
            return drain(conn, sender or LogSender(log), log, now=now, config=config)
    finally:
        engine.dispose()


def _row(session, notification_id: int) -> Notification:
    session.expire_all()
    return session.get(Notification, notification_id)


# ---------------------------------------------------------------- channels


def test_email_goes_over_smtp_with_starttls_and_the_rows_stable_message_id(session, org, actor_for, db_url, tmp_path):
    _choose(session, actor_for, "gz_claims", "email", "GZ.Claims@Example.COM")
    nid = _queue(session, org, "gz_claims", 1, WORK)
    with smtp_server(tmp_path) as (mailbox, env):
        result = _drain(db_url, WORK, DeliveryConfig.from_env(env))
    assert (result.sent, result.failed) == (1, 0)
    [got] = mailbox.received
    assert got.tls and got.login == "claims-mailer"  # STARTTLS before the login, the server insisted
    assert got.rcpt_tos == ["GZ.Claims@example.com"]  # the domain as the form saved it
    assert got.message["Message-ID"] == f"<claims-notification-{nid}@claims.local>"
    assert got.message["Subject"].startswith("【理赔案件分级管理】时效预警")
    assert "测试消息 1" in got.message.get_content() and "我的消息" in got.message.get_content()
    row = _row(session, nid)
    assert (row.state, row.channel, row.attempts, row.last_error) == ("sent", "email", 1, None)


def test_a_channel_the_server_cannot_use_falls_back_to_the_page(session, owner_session, org, actor_for, db_url):
    """E-mail chosen but no SMTP server, the robot chosen but none configured, e-mail chosen with
    no address (set by hand): each message goes by the 我的消息 page, and the row says so."""
    _choose(session, actor_for, "gz_claims", "email", "gz@example.com")
    _choose(session, actor_for, "sz_claims", "webhook")
    owner_session.execute(update(Person).where(Person.id == org.person("fs_claims")).values(notify_channel="email"))
    owner_session.commit()
    ids = [_queue(session, org, u, 1, WORK) for u in ("gz_claims", "sz_claims", "fs_claims")]
    page = Recording()
    assert _drain(db_url, WORK, NOTHING, page).sent == 3
    assert page.sent == ids
    assert {(_row(session, i).state, _row(session, i).channel) for i in ids} == {("sent", "outbox")}


def test_nothing_configured_sends_by_the_page_as_before(session, org, db_url):
    nid = _queue(session, org, "gz_claims", 1, WORK)
    page = Recording()
    assert _drain(db_url, WORK, DeliveryConfig.from_env({}), page)[:2] == (1, 0)
    assert page.sent == [nid] and _row(session, nid).channel == "outbox"


def test_the_robot_gets_signed_json_a_500_is_retried_after_its_back_off_with_the_same_msgid(
        session, org, actor_for, db_url):
    _choose(session, actor_for, "gz_claims", "webhook")
    nid = _queue(session, org, "gz_claims", 1, WORK)
    robot = RobotServer(answers=[(500, 0)])
    with robot_server(robot) as url:
        config = DeliveryConfig.from_env({"NOTIFY_WEBHOOK_URL": url, "NOTIFY_WEBHOOK_KIND": "dingtalk",
                                          "NOTIFY_WEBHOOK_SECRET": robot.secret, "NO_PROXY": "127.0.0.1"})
        assert _drain(db_url, WORK, config)[:2] == (0, 1)
        row = _row(session, nid)
        assert (row.state, row.attempts, row.channel) == ("queued", 1, "webhook")
        assert "HTTP 500" in row.last_error and "tok-123" not in row.last_error
        assert row.next_attempt_at == WORK + timedelta(minutes=1)  # notify.retry_base_minutes × 2^0
        assert _drain(db_url, WORK + timedelta(seconds=59), config)[:2] == (0, 0)  # still backing off
        assert len(robot.calls) == 1
        assert _drain(db_url, WORK + timedelta(minutes=1), config)[:2] == (1, 0)
    assert [c.status for c in robot.calls] == [500, 200]
    assert all(c.signature_ok and c.query["access_token"] == "tok-123" for c in robot.calls)
    assert [c.body["msgid"] for c in robot.calls] == [f"claims-notification-{nid}"] * 2
    body = robot.calls[1].body
    assert body["msgtype"] == "text" and "测试消息 1" in body["text"]["content"]
    phone = session.scalar(select(Person.phone).where(Person.id == org.person("gz_claims")))
    assert body["at"]["atMobiles"] == [phone]
    assert len(robot.delivered()) == 1
    row = _row(session, nid)
    assert (row.state, row.attempts, row.last_error, row.next_attempt_at) == ("sent", 2, None, None)


def test_a_robot_errcode_is_a_failure_and_a_wecom_robot_is_not_signed(session, org, actor_for, db_url):
    _choose(session, actor_for, "gz_claims", "webhook")
    nid = _queue(session, org, "gz_claims", 1, WORK)
    robot = RobotServer(answers=[(200, 93000)], secret=None)
    with robot_server(robot) as url:
        config = DeliveryConfig.from_env({"NOTIFY_WEBHOOK_URL": url, "NOTIFY_WEBHOOK_KIND": "wecom"})
        assert _drain(db_url, WORK, config)[:2] == (0, 1)
    assert "errcode 93000" in _row(session, nid).last_error
    assert robot.calls[0].signature_ok and "mentioned_mobile_list" in robot.calls[0].body["text"]


# ---------------------------------------------------------------- retries and HQ's retry


def test_after_max_attempts_it_fails_waits_for_hq_and_one_retry_of_two_admins_requeues_it(
        session, owner_session, org, actor_for, db_url, tmp_path):
    owner_session.execute(update(Person).where(Person.id == org.person("gz_claims"))
                          .values(notify_channel="email", email="gz@example.com"))
    owner_session.commit()
    nid = _queue(session, org, "gz_claims", 1, WORK)
    # A mail server that is not there: every attempt fails (connection refused).
    dead = DeliveryConfig.from_env({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": "9", "SMTP_STARTTLS": "off"})
    moment, waits = WORK, []
    for attempt in range(1, 7):
        assert _drain(db_url, moment, dead)[:2] == (0, 1)
        row = _row(session, nid)
        assert row.attempts == attempt and "SMTP" in row.last_error
        if row.next_attempt_at:
            waits.append(round((row.next_attempt_at - moment).total_seconds() / 60))
            moment = row.next_attempt_at
    assert waits == [1, 2, 4, 8, 16]  # then notify.max_attempts (6): failed
    assert (row.state, row.next_attempt_at) == ("failed", None)
    assert _drain(db_url, moment + timedelta(days=1), dead)[:2] == (0, 0)  # never retried on its own

    admin = actor_for("admin")
    total, [shown] = troubled_messages(session, admin)
    assert (total, shown.id, shown.state, shown.attempts, shown.channel) == (1, nid, "failed", 6, "email")
    with pytest.raises(PermissionDenied):
        retry_failed(session, actor_for("gd_manager"), nid)
    assert retry_failed(session, admin, nid).requeued
    assert not retry_failed(session, admin, nid).requeued  # the second press: already queued
    row = _row(session, nid)
    assert (row.state, row.attempts, row.last_error is not None) == ("queued", 6, True)  # kept until success

    with smtp_server(tmp_path) as (mailbox, env):
        assert _drain(db_url, moment + timedelta(days=1), DeliveryConfig.from_env(env))[:2] == (1, 0)
    assert mailbox.message_ids() == [f"<claims-notification-{nid}@claims.local>"]
    row = _row(session, nid)
    assert (row.state, row.attempts, row.last_error) == ("sent", 7, None)
    assert troubled_messages(session, admin)[0] == 0
    assert delivery_counts(session, admin) == []  # nothing waits any more


def test_two_admins_retrying_at_the_same_moment_queue_it_once(session, owner_session, org, actor_for, db_url):
    nid = _queue(session, org, "gz_claims", 1, WORK)
    owner_session.execute(update(Notification).where(Notification.id == nid)
                          .values(state="failed", attempts=6, last_error="SMTP: refused"))
    owner_session.commit()
    from db.engine import session_factory
    from db.scope import NATIONAL, set_base_scope

    admin, start, outcomes = actor_for("admin"), threading.Barrier(2), []

    def press() -> None:
        with session_factory(db_url)() as s:
            set_base_scope(s, NATIONAL)
            start.wait()
            outcomes.append(retry_failed(s, admin, nid).requeued)

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False, True]
    assert _row(session, nid).state == "queued"


def test_the_troubled_list_shows_failed_first_then_the_soonest_retry_named_and_paged(
        session, owner_session, org, actor_for):
    """Failed messages first, then those being retried by their next attempt (none last), each with
    its recipient and case; a page past the first shows the rest in the same order."""
    case = tiered_case(session, org)
    ids = {name: _queue(session, org, username, n, WORK)
           for n, (name, username) in enumerate([("retry_late", "gz_claims"), ("failed", "sz_claims"),
                                                 ("retry_soon", "gz_claims"), ("retry_unset", "callcenter"),
                                                 ("fine", "gz_claims")])}
    errors = {"retry_late": ("queued", WORK + timedelta(hours=3)), "failed": ("failed", None),
              "retry_soon": ("queued", WORK + timedelta(hours=1)), "retry_unset": ("queued", None)}
    for name, (state, next_at) in errors.items():
        owner_session.execute(update(Notification).where(Notification.id == ids[name])
                              .values(state=state, attempts=2, last_error="SMTP: refused", next_attempt_at=next_at,
                                      case_id=case.id if name == "retry_soon" else None))
    owner_session.commit()
    admin = actor_for("admin")
    total, rows = troubled_messages(session, admin)
    assert total == 4  # the one without an error is not troubled
    assert [r.id for r in rows] == [ids[n] for n in ("failed", "retry_soon", "retry_late", "retry_unset")]
    named = {r.id: (r.username, r.case_no) for r in rows}
    assert named[ids["failed"]] == ("sz_claims", None)
    assert named[ids["retry_soon"]] == ("gz_claims", case.case_no)
    assert troubled_messages(session, admin, limit=2, offset=2) == (4, rows[2:])
    assert troubled_messages(session, admin, limit=2, offset=2, total=4)[1] == rows[2:]


def test_a_message_holds_only_a_channel_the_system_knows(owner_session, org, session):
    """The channel a message went by is outbox, email, webhook or not yet set: anything else (a
    'robot' typed by hand broke 消息投递 for everyone) is refused by the database, in every month."""
    first = _queue(session, org, "gz_claims", 1, WORK)
    later = _queue(session, org, "gz_claims", 2, WORK + timedelta(days=62))  # another month's partition
    for channel in ("outbox", "email", "webhook", None):
        owner_session.execute(update(Notification).where(Notification.id == first).values(channel=channel))
        owner_session.commit()
        assert _row(session, first).channel == channel
    for message in (first, later):
        with pytest.raises(IntegrityError, match="ck_notification_channel"):
            owner_session.execute(update(Notification).where(Notification.id == message).values(channel="robot"))
        owner_session.rollback()
        assert _row(session, message).channel in (None, "outbox", "email", "webhook")


# ---------------------------------------------------------------- quiet hours and digests


def _busy_evening(session, org, actor_for) -> dict[str, object]:
    """A day's work that leaves each of three people messages outside working hours: a breach found
    at 21:00 (the surveyor and the first responsible of case A), an HQ opinion at 20:00 (the branch
    manager's points to answer), and case B's clocks due tomorrow at 12:00."""
    case_a = tiered_case(session, org, "gz", at=shanghai("2026-12-01 19:00"))
    queue_tiered_cases(session, shanghai("2026-12-02 09:00"))
    post_review_opinion(session, actor_for("reviewer"), case_a.id, ["核实驾驶员身份", "调取事故现场监控"],
                        now=shanghai("2026-12-02 20:00"))
    record_violations(session, shanghai("2026-12-02 21:00"))
    session.commit()
    case_b = tiered_case(session, org, "gz", at=shanghai("2026-12-02 12:00"))
    session.commit()
    return {"a": case_a, "b": case_b}


def test_outside_working_hours_messages_wait_and_the_first_working_run_folds_them_into_one_digest_each(
        session, org, actor_for, db_url):
    cases = _busy_evening(session, org, actor_for)
    page = Recording()
    night = _drain(db_url, NIGHT, NOTHING, page)
    assert night.sent == 0 and night.held > 0 and page.sent == []
    assert _drain(db_url, shanghai("2026-12-03 08:29"), NOTHING, page)[:4] == (0, 0, 0, 0)  # before 08:30
    held = dict(session.execute(select(Notification.id, Notification.recipient_person_id)
                                .where(Notification.state == "held")).tuples().all())
    people = set(held.values())
    assert {org.person("gd_manager"), org.person("gz_surveyor1")} <= people

    morning = _drain(db_url, shanghai("2026-12-03 08:30"), NOTHING, page)
    assert morning.digests == len(people)
    digests = session.execute(select(Notification).where(Notification.kind == "digest")).scalars().all()
    assert sorted(d.recipient_person_id for d in digests) == sorted(people)  # one each
    assert {d.state for d in digests} == {"sent"} and set(page.sent) >= {d.id for d in digests}
    by_person = {d.recipient_person_id: d for d in digests}
    session.expire_all()
    for nid, person in held.items():
        row = session.get(Notification, nid)
        assert (row.state, row.digest_id) == ("digested", by_person[person].id)
    # The branch manager's digest: the held opinion, and its two points to answer.
    manager = by_person[org.person("gd_manager")].body
    assert "【工作时间汇总】2026-12-03" in manager and "待您答复的审核意见（2 条）" in manager
    assert f"案件{cases['a'].case_no}第 1 条：核实驾驶员身份" in manager
    # The surveyor's: the breach of case A, and case B's scene material due today at 12:00.
    surveyor = by_person[org.person("gz_surveyor1")].body
    assert "新增超时违规（1 项）" in surveyor and cases["a"].case_no in surveyor
    assert "今天到期的时限（1 项）" in surveyor and f"案件{cases['b'].case_no}" in surveyor and "12:00 到期" in surveyor
    # Run again, and again later: nothing held, no second digest.
    assert _drain(db_url, shanghai("2026-12-03 08:31"), NOTHING, page).digests == 0
    assert session.scalar(select(func.count()).where(Notification.kind == "digest")) == len(people)


def test_two_runs_at_the_same_moment_fold_one_digest_per_person(session, org, db_url):
    for username in ("gz_claims", "sz_claims", "gd_manager"):
        for n in range(3):
            _queue(session, org, username, n, NIGHT + timedelta(minutes=n))
    assert _drain(db_url, NIGHT).held == 9
    start, results = threading.Barrier(2), []

    def run() -> None:
        engine = job_engine(db_url)
        try:
            with engine.connect() as conn:
                start.wait()
                results.append(drain(conn, LogSender(log), log, now=WORK, config=NOTHING))
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.digests for r in results) == 3
    per_person = dict(session.execute(select(Notification.recipient_person_id, func.count())
                                      .where(Notification.kind == "digest")
                                      .group_by(Notification.recipient_person_id)).tuples().all())
    assert per_person == {org.person(u): 1 for u in ("gz_claims", "sz_claims", "gd_manager")}
    assert sum(r.sent for r in results) == 3  # each digest sent once, by one of the runs
    assert session.scalar(select(func.count()).where(Notification.state == "held")) == 0


@pytest.mark.parametrize("moment", ["2026-12-05 10:00", "2026-10-01 10:00", "2026-12-03 18:00", "2026-12-03 08:29"],
                         ids=["saturday", "national_day", "at_18_00", "before_08_30"])
def test_weekends_holidays_and_the_edges_of_the_day_hold(session, org, db_url, moment):
    nid = _queue(session, org, "gz_claims", 1, shanghai(moment))
    assert _drain(db_url, shanghai(moment)).held == 1
    assert _row(session, nid).state == "held"


def test_a_make_up_working_saturday_delivers(session, org, db_url):
    nid = _queue(session, org, "gz_claims", 1, shanghai("2026-10-10 10:00"))  # 调休: the Saturday after National Day
    assert _drain(db_url, shanghai("2026-10-10 10:00")).sent == 1
    assert _row(session, nid).state == "sent"


def test_a_breach_of_a_big_tiered_case_goes_out_at_night_the_rest_waits(session, org, actor_for, db_url):
    big = tiered_case(session, org, "gz", amount="1200000", at=shanghai("2026-12-01 21:00"))  # T4
    small = tiered_case(session, org, "sz", amount="86000", at=shanghai("2026-12-01 21:00"))  # T1
    session.execute(update(Notification).values(state="sent"))  # the dispatch messages went at the time
    session.commit()
    record_violations(session, shanghai("2026-12-02 23:00"))
    session.commit()
    urgent = dict(session.execute(select(Notification.id, Notification.case_id)
                                  .where(Notification.kind == "deadline_violation", Notification.urgent)).tuples().all())
    assert urgent and set(urgent.values()) == {big.id}
    assert session.scalar(select(func.count()).where(Notification.kind == "deadline_violation",
                                                     Notification.case_id == small.id,
                                                     Notification.urgent.is_(False))) > 0
    # The superiors' digests count the big case's breach: urgent too.
    assert session.scalar(select(func.count()).where(Notification.kind == "deadline_violation_digest",
                                                     Notification.urgent)) > 0
    page = Recording()
    result = _drain(db_url, shanghai("2026-12-02 23:00"), NOTHING, page)
    session.expire_all()
    assert set(urgent) <= set(page.sent) and result.sent == len(page.sent)
    assert all(session.scalars(select(Notification.urgent).where(Notification.id.in_(page.sent))))  # only urgent
    assert result.held > 0
    assert set(session.scalars(select(Notification.case_id).where(Notification.state == "held"))) <= {small.id, None}
