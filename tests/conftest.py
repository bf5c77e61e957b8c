"""Test databases: each test gets its own PostgreSQL database, cloned from a migrated template.

The server comes from TEST_ADMIN_DATABASE_URL (set by `python3.11 -m dashboard.launcher test`:
the embedded server, or the server of DATABASE_URL). Tests never touch the application's own
database: they create `t_<random>` databases and drop them afterwards. Parallel-safe under xdist.

The clock: `--clock "2026-12-04 16:59"` (Asia/Shanghai) pins the moment the whole product reads
(dashboard.clock) for every test; each test starts at that moment and time runs on from there.
Without it the suite runs at the real time. A test whose outcome depends on the time of day, the
weekday or the month states its moment with `@pytest.mark.moment("2026-12-03 10:00")`; the `now`
fixture is the moment a test started at.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.services.actor import Actor, load_actor
from dashboard.demo.org import DEMO_PASSWORD, DemoOrg, build_org
from db.engine import normalise_url
from db.schema import upgrade_to_head
from tests.clock_pin import start_process_pin, travel_to, travel_to_pinned_moment


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--clock", default=None, metavar="YYYY-MM-DD HH:MM",
                     help="run the suite at this moment (Asia/Shanghai) instead of the real time")


def pytest_configure(config: pytest.Config) -> None:
    # Before collection, so that what test modules compute when imported is at the pinned moment too.
    config.addinivalue_line("markers", "moment(text): run this test at a stated moment, Asia/Shanghai "
                                       "('2026-12-03 10:00'), whatever --clock says")
    try:
        start_process_pin(config.getoption("--clock"))
    except ValueError as error:
        raise pytest.UsageError(str(error)) from error


@pytest.fixture(autouse=True)
def _pinned_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts at its own stated moment (@pytest.mark.moment), else at the pinned moment
    (--clock), else at the real time; time runs on from there."""
    marker = request.node.get_closest_marker("moment")
    if marker is not None:
        with travel_to(marker.args[0]):
            yield
        return
    with travel_to_pinned_moment():
        yield


@pytest.fixture
def now(_pinned_clock: None) -> datetime:
    """The moment the test started at (its stated moment, the pinned one, or the real time)."""
    return clock.now()


def _admin_url() -> str:
    url = os.environ.get("TEST_ADMIN_DATABASE_URL", "").strip()
    if not url:
        pytest.exit("TEST_ADMIN_DATABASE_URL is not set: run the tests with "
                    "`python3.11 -m dashboard.launcher test` (README).", returncode=4)
    return normalise_url(url)


def _url_for(database: str) -> str:
    return make_url(_admin_url()).set(database=database).render_as_string(hide_password=False)


def _admin_execute(sql: str) -> None:
    engine = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def template_database() -> Iterator[str]:
    name = f"tmpl_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        upgrade_to_head(_url_for(name))
        yield name
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db_url(template_database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test; DATABASE_URL points at it for app code."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    url = _url_for(name)
    monkeypatch.setenv("DATABASE_URL", url)
    # Uploaded material goes to the test's own evidence folder, never the project's .evidence/.
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
    try:
        yield url
    finally:
        from db.engine import dispose_engines

        dispose_engines(url)
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session as the dashboard connects (role claims_app, row-level security on), whose own
    statements see every branch (a test sets up any case); a service called with it narrows it to
    its actor's scope for the call, as on a page (db/scope.py)."""
    from db.engine import session_factory
    from db.scope import NATIONAL, set_base_scope

    with session_factory(db_url)() as s:
        set_base_scope(s, NATIONAL)
        yield s


@pytest.fixture
def owner_session(db_url: str) -> Iterator[Session]:
    """A session as the tables' owner: for a test that stages what no role of the product may do
    (backdating a record, a row the migrations would hold)."""
    from db.engine import OWNER, session_factory

    with session_factory(db_url, OWNER)() as s:
        yield s


@pytest.fixture
def owner(db_url: str):
    """An engine as the tables' owner, no role switch: for a test that reads the catalogue,
    partitions or archived tables no role of the product may read."""
    engine = create_engine(normalise_url(db_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_password_hash() -> str:
    from dashboard.services.auth import hash_password

    return hash_password(DEMO_PASSWORD)


@pytest.fixture
def org(session: Session, demo_password_hash: str) -> DemoOrg:
    """The demo organisation (4 branches × 3 sub-branches, every role), committed."""
    built = build_org(session, demo_password_hash, surveyors_per_sub_branch=2)
    session.commit()
    return built


@pytest.fixture
def actor_for(session: Session, org: DemoOrg):
    def _actor(username: str) -> Actor:
        actor = load_actor(session, org.person(username))
        assert actor is not None
        return actor

    return _actor
