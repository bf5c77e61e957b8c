"""The database server stops and starts again (issue 18, "nothing lost"): every job run meanwhile
exits 3 with one log line and no traceback, the next run after it is back does the work; what
counts as an outage is told from other database errors on real ones; the pages' connection pool
hands out live connections after the restart.

On a private PostgreSQL server of this test's own (tests/private_postgres), which the test stops
and starts; the shared test server is never touched.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from dashboard.services.dispatching.dispatch import record_estimate
from db.engine import PING_AFTER_RESTING_SECONDS, get_engine
from db.models import Violation
from db.outage import database_unavailable
from jobs._common import EXIT_DB_UNAVAILABLE, EXIT_OK
from tests.factories import T0, make_case
from tests.private_postgres import (  # noqa: F401 - the two fixtures
    PrivateCluster, cluster_fixture, db_url_fixture, wait_until_accepting,
)

ROOT = Path(__file__).resolve().parents[2]
JOBS = ("flag_overdue", "daily_review_queue", "weekly_summary", "send_notifications", "compact_case_counts",
        "maintain_partitions")




def _run_job(name: str, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m jobs.<name>` as cron or the scheduler starts it."""
    return subprocess.run([sys.executable, "-m", f"jobs.{name}", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url}, timeout=120)


def _first_error(url: str, sql: str, **connect_args) -> BaseException:
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    except Exception as error:  # noqa: BLE001 - the error is what the test looks at
        return error
    finally:
        engine.dispose()
    raise AssertionError(f"{sql!r} did not fail")


def test_every_job_run_while_the_database_is_stopped_exits_3_with_one_line_and_the_next_run_does_its_work(
        cluster, db_url, session, org, actor_for):
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, 80000, now=T0)  # T1: D1 and D2 start at T0
    session.commit()
    session.close()
    past_due = (T0 + timedelta(hours=24, minutes=1)).isoformat()

    cluster.stop()
    for name in JOBS:
        run = _run_job(name, db_url, *(["--as-of", past_due] if name == "flag_overdue" else []))
        assert run.returncode == EXIT_DB_UNAVAILABLE == 3, (name, run.stderr)
        lines = (run.stdout + run.stderr).splitlines()
        assert len(lines) == 1, (name, lines)
        assert "database unavailable" in lines[0] and f"{name} not run" in lines[0], lines[0]
        assert "Connection refused" in lines[0]  # what libpq said, on the same line

    cluster.start()
    wait_until_accepting(db_url)
    run = _run_job("flag_overdue", db_url, "--as-of", past_due)
    assert run.returncode == EXIT_OK, run.stderr
    assert "database unavailable" not in run.stderr
    # The violations the run during the outage could not record are recorded now, once.
    assert sorted(session.execute(select(Violation.kind, Violation.person_id)).tuples()) == sorted(
        [("D1", case.surveyor_id), ("D2", org.person("gz_claims"))])


def test_an_outage_is_told_from_other_database_errors(cluster, db_url):
    engine = create_engine(db_url)
    held, victim = engine.connect(), engine.connect()
    held.execute(text("SELECT 1"))
    pid = victim.execute(text("SELECT pg_backend_pid()")).scalar()
    victim.commit()
    # An administrator ends a session (as a restart does to each): 57P01 admin_shutdown.
    with engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(Exception) as terminated:
        victim.execute(text("SELECT 1"))
    assert database_unavailable(terminated.value)

    cluster.stop()
    with pytest.raises(Exception) as refused:
        create_engine(db_url).connect()
    assert database_unavailable(refused.value)  # connection refused
    cluster.start()
    wait_until_accepting(db_url)
    with pytest.raises(Exception) as cut:
        held.execute(text("SELECT 1"))
    assert database_unavailable(cut.value)  # server closed the connection unexpectedly

    # Not outages: waiting would not fix these (the jobs exit 1 with a traceback, pages show a reference).
    assert not database_unavailable(_first_error(db_url, "SELECT FROM no_such_table"))
    assert not database_unavailable(_first_error(db_url, "SELECT pg_sleep(1)", options="-c statement_timeout=10"))
    assert not database_unavailable(_first_error(cluster.url("no_such_database"), "SELECT 1"))
    assert not database_unavailable(_first_error(db_url.replace("postgres@", "nobody@"), "SELECT 1"))
    assert not database_unavailable(ValueError("not a database error"))
    engine.dispose()


def test_the_pages_pool_hands_out_live_connections_after_a_restart(cluster, db_url):
    engine = get_engine(db_url)
    held = [engine.connect() for _ in range(3)]
    for conn in held:
        conn.execute(text("SELECT 1"))
        conn.close()  # back to the pool, alive
    assert engine.pool.checkedin() >= 3

    cluster.stop()
    cluster.start()
    wait_until_accepting(db_url)
    # A connection given back moments ago is not pinged (db.engine.ping_rested_connections); these
    # rested through the restart (0.2 s on this machine's private cluster, longer on a real server).
    time.sleep(PING_AFTER_RESTING_SECONDS)

    # Each pooled connection died with the server: the ping finds that at checkout and reconnects.
    again = [engine.connect() for _ in range(3)]
    try:
        assert [conn.execute(text("SELECT current_user")).scalar() for conn in again] == ["claims_app"] * 3
    finally:
        for conn in again:
            conn.close()
