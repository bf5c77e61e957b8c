"""Pages read from a real streaming replica (issue 23, docs/SCALING.md step 2).

A private primary of this test's own (tests/private_postgres) and a replica of it made with
`pg_basebackup -R`, both the embedded default's binaries: the pages' read-only blocks run on the
replica, every write on the primary; a person who just acted sees it at once although the replica
has not replayed it; a stopped or lagging replica is left for the primary with one log line and
nothing on the page.
"""
from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from dashboard import clock
from dashboard.demo import review as demo_review
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.special_cases.approvals import SpecialRequest, raise_special
from dashboard.ui.navigation import PAGES
from db import replica
from db.engine import get_engine
from tests.app.helpers import TIMEOUT, signed_in_app
from tests.factories import make_case
from tests.private_postgres import PrivateCluster, running_cluster, wait_until_accepting

ROLE_USERS = {
    "hq_admin": "admin", "hq_reviewer": "reviewer", "exec_supervisor": "supervisor",
    "call_center": "callcenter", "branch_manager": "gd_manager", "branch_tracker": "gd_tracker",
    "first_responsible": "gz_claims", "surveyor": "gz_surveyor1", "executive": "executive",
}


def _wait_replayed(url: str, seconds: float = 30) -> None:
    """Until the replica at `url` has replayed everything the primary has written so far."""
    lsn = replica.primary_lsn(get_engine())
    deadline = time.monotonic() + seconds
    while not replica.caught_up(url, lsn):
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[PrivateCluster, PrivateCluster, str]]:
    """A private primary with a migrated template database, and a streaming replica of it, for the
    whole module: each test's database is made on the primary and reaches the replica by streaming."""
    from db.engine import dispose_engines
    from db.schema import upgrade_to_head

    with running_cluster() as primary:
        template = primary.create_database("replica_template")
        upgrade_to_head(template)
        dispose_engines(template)
        standby = primary.replica()
        try:
            yield primary, standby, "replica_template"
        finally:
            standby.remove()


@pytest.fixture
def db_url(servers, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[str]:
    """In place of tests/conftest.py's: a fresh migrated database on the module's primary."""
    from db.engine import dispose_engines

    primary, _, template = servers
    name = f"t_{uuid.uuid4().hex[:12]}"
    primary.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = primary.url(name)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
    try:
        yield url
    finally:
        dispose_engines(url)
        primary.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _replica_running(server: PrivateCluster) -> None:
    if not server.running():
        server.start()
    wait_until_accepting(server.url())
    server.sql("SELECT pg_wal_replay_resume()")


@contextmanager
def _pointed_at_replica(servers, db_url: str, session, monkeypatch) -> Iterator[tuple[PrivateCluster, str]]:
    """What `session` holds, committed and replayed; the dashboard is pointed at the replica with
    DATABASE_REPLICA_URL. A test may stop the replica or pause its replay: it is running and
    replaying again after it."""
    _, server, _ = servers
    session.commit()
    _replica_running(server)
    url = server.url(make_url(db_url).database)
    try:
        wait_until_accepting(url)
        monkeypatch.setenv("DATABASE_REPLICA_URL", url)
        replica.MONITOR.forget()
        _wait_replayed(url)
        yield server, url
    finally:
        replica.MONITOR.forget()
        replica.replica_engine(url).dispose()
        _replica_running(server)


@pytest.fixture
def standby(servers, db_url: str, session, org, monkeypatch) -> Iterator[tuple[PrivateCluster, str]]:
    """The demo organisation, then the replica."""
    with _pointed_at_replica(servers, db_url, session, monkeypatch) as pair:
        yield pair


@pytest.fixture
def busy_standby(servers, db_url: str, session, org, actor_for, monkeypatch) -> Iterator[tuple[PrivateCluster, str]]:
    """Cases in every review state (tiered, queued, opinions, answers, send-backs), then a replica:
    the pages show lists, not empty states."""
    now = clock.now()
    call = actor_for("callcenter")
    rng = random.Random(23)
    for _ in range(30):
        sub = rng.choice(["gz", "sz", "hz", "nb", "nj", "cd"])
        at = now - timedelta(hours=rng.uniform(2, 24 * 40))
        case = make_case(session, org, sub, report_time=at - timedelta(hours=1), accident_time=at - timedelta(hours=2))
        record_estimate(session, call, case.id, rng.choice([80000, 300000, 700000]), now=at)
    demo_review.populate(session, org, random.Random(2), now)
    with _pointed_at_replica(servers, db_url, session, monkeypatch) as pair:
        yield pair


def _where_reads_go() -> None:
    import streamlit as st
    from sqlalchemy import text

    from dashboard.ui.db import db_session, read_session

    with read_session() as s:
        st.write(f"read in recovery: {s.scalar(text('SELECT pg_is_in_recovery()'))}")
    with db_session() as s:
        st.write(f"write in recovery: {s.scalar(text('SELECT pg_is_in_recovery()'))}")


def _said(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def test_read_blocks_run_on_the_replica_and_the_rest_on_the_primary(standby):
    at = AppTest.from_function(_where_reads_go, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    assert _said(at) == ["read in recovery: True", "write in recovery: False"]


def test_without_a_replica_configured_every_block_reads_the_primary(db_url, monkeypatch):
    monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
    at = AppTest.from_function(_where_reads_go, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    assert _said(at) == ["read in recovery: False", "write in recovery: False"]


def _unread(at: AppTest) -> str:
    return next(c.value for c in at.caption if "未读" in c.value)


def test_a_person_sees_their_own_action_at_once_while_others_read_the_replica(standby, session, org, actor_for):
    server, url = standby
    raise_special(session, actor_for("gd_manager"), make_case(session, org, "gz").id, SpecialRequest(
        special_type="B", customer_kind="reputation", requested_amount="9000", normal_amount="0", reason="声誉",
        customer_background="省重点企业"))
    session.commit()
    _wait_replayed(url)
    mine = signed_in_app("", "gd_gm", "messages")
    # Another tab of the same person, which will do nothing. Signing in wrote (the session row), so
    # each tab reads the primary until the replica has that: let it catch up first.
    other = signed_in_app("", "gd_gm", "messages")
    _wait_replayed(url)
    for tab in (mine, other):
        tab.run()
        assert "您有 1 条未读" in _unread(tab)
        assert "_own_write_lsn" not in tab.session_state

    # The replica stops replaying: from now on it shows the world as it was.
    server.sql("SELECT pg_wal_replay_pause()")
    next(b for b in mine.button if b.label == "本页 1 条未读标为已读").click()
    mine.run()
    assert not mine.exception, mine.exception
    # The rerun right after the press reads the primary: the press is there.
    assert "您有 0 条未读" in _unread(mine)
    mine.run()
    assert "您有 0 条未读" in _unread(mine), "a later rerun, replica still behind, must still show the write"
    # The other tab did nothing: it reads the replica, which has not replayed the press.
    other.run()
    assert "您有 1 条未读" in _unread(other)

    server.sql("SELECT pg_wal_replay_resume()")
    _wait_replayed(url)
    other.run()
    assert "您有 0 条未读" in _unread(other)
    mine.run()
    assert "您有 0 条未读" in _unread(mine)
    assert "_own_write_lsn" not in mine.session_state, "once replayed, the person reads the replica again"


def test_every_page_of_every_role_reads_the_replica_without_trying_to_write(busy_standby):
    """A read block that wrote would fail on the replica (read-only transaction): every page of
    every role is opened, and each one's reads reached the replica."""
    _, url = busy_standby
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        statements.append(statement)

    engine = replica.replica_engine(url)
    event.listen(engine, "before_cursor_execute", count)
    opened = 0
    try:
        for role, username in sorted(ROLE_USERS.items()):
            at = signed_in_app("", username)
            _wait_replayed(url)  # signing in wrote: until the replica has it, this person reads the primary
            for page in PAGES:
                if page.key not in at.session_state["nav_pages"]:
                    continue
                statements.clear()
                at.switch_page(f"pages/{page.key}.py")
                at.run()
                assert not at.exception, (role, page.key, at.exception)
                assert not at.error, (role, page.key, [e.value for e in at.error])
                if page.key != "admin_rules":  # rules admin: every block feeds a form, so the primary
                    assert statements, f"{role}: {page.key} read nothing from the replica"
                opened += 1
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert opened >= 40, opened


def test_a_stopped_replica_leaves_reads_to_the_primary_with_one_log_line(standby, caplog):
    server, _ = standby
    server.stop()
    replica.MONITOR.forget()
    with caplog.at_level(logging.INFO, logger="claims.replica"):
        at = AppTest.from_function(_where_reads_go, default_timeout=TIMEOUT)
        at.run()
        page = signed_in_app("", "executive", "overview")
    assert not at.exception, at.exception
    assert _said(at) == ["read in recovery: False", "write in recovery: False"]
    assert not page.exception and not page.error and not page.warning
    warnings = [r.getMessage() for r in caplog.records if r.name == "claims.replica" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "read replica not usable" in warnings[0], warnings

    server.start()
    replica.MONITOR.forget()
    again = AppTest.from_function(_where_reads_go, default_timeout=TIMEOUT)
    again.run()
    assert _said(again) == ["read in recovery: True", "write in recovery: False"]


def test_a_replica_dying_between_checks_costs_one_page_at_most(standby):
    """The health check is kept a few seconds: a replica stopped inside that window is found at the
    session's first connection, and the block reads the primary."""
    server, url = standby
    at = AppTest.from_function(_where_reads_go, default_timeout=TIMEOUT)
    at.run()
    assert _said(at)[0] == "read in recovery: True"
    server.stop()
    assert replica.MONITOR.health(url).usable, "the kept check still says usable"
    at.run()
    assert not at.exception, at.exception
    assert _said(at)[0] == "read in recovery: False"
    assert not replica.MONITOR.health(url).usable


def test_a_replica_lagging_past_the_limit_is_left_for_the_primary(standby, session, org, monkeypatch, caplog):
    server, url = standby
    monkeypatch.setenv("DATABASE_REPLICA_MAX_LAG_SECONDS", "1")
    make_case(session, org, "gz")  # the replica's last replayed transaction, at a known moment
    _wait_replayed(url)
    server.sql("SELECT pg_wal_replay_pause()")
    make_case(session, org, "gz")  # a write the replica receives but does not replay
    time.sleep(1.5)
    replica.MONITOR.forget()
    with caplog.at_level(logging.INFO, logger="claims.replica"):
        health = replica.MONITOR.health(url)
    assert not health.usable and health.reason == "lag" and health.lag_seconds > 1
    assert any("lags" in r.getMessage() for r in caplog.records)
    at = AppTest.from_function(_where_reads_go, default_timeout=TIMEOUT)
    at.run()
    assert _said(at)[0] == "read in recovery: False"

    server.sql("SELECT pg_wal_replay_resume()")
    _wait_replayed(url)
    replica.MONITOR.forget()
    assert replica.MONITOR.health(url).usable
