"""Test databases: each test gets its own PostgreSQL database, cloned from a migrated template (with
the demo organisation already in it for a test that uses `org`).

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

import copy
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
from tests.memory_tablespace import (
    MemoryTablespace, admin_execute, close_memory_tablespace, open_memory_tablespace,
)


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
    admin_execute(_admin_url(), sql)


@pytest.fixture(scope="session")
def memory_tablespace() -> Iterator[MemoryTablespace | None]:
    """Where this worker's templates, and so every test database cloned from them, are kept: in
    memory where the server allows it (tests/memory_tablespace.py), else None (the default)."""
    space = open_memory_tablespace(_admin_url())
    try:
        yield space
    finally:
        if space is not None:
            close_memory_tablespace(_admin_url(), space)


@pytest.fixture(scope="session")
def template_database(memory_tablespace: MemoryTablespace | None) -> Iterator[str]:
    """The migrated template, in the memory tablespace when there is one: a database cloned from it
    is made in the template's tablespace."""
    name = f"tmpl_{uuid.uuid4().hex[:12]}"
    where = f' TABLESPACE "{memory_tablespace.name}"' if memory_tablespace is not None else ""
    _admin_execute(f'CREATE DATABASE "{name}"{where}')
    try:
        upgrade_to_head(_url_for(name))
        yield name
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The moment the template's organisation is built at: each test's copy is moved to the test's own
# moment (`org`), as if built when the test started, the way it was built before there was a template.
_ORG_BUILT_AT = "2001-01-01 00:00"
_WITH_ORG: set[str] = set()  # the test databases cloned with the organisation in them


@pytest.fixture(scope="session")
def org_template(template_database: str, demo_password_hash: str) -> Iterator[tuple[str, DemoOrg, list[tuple[str, str]]]]:
    """The template with the demo organisation built in, once per worker: building it in every
    test (hundreds of people, units and roles) cost a quarter of a test's fixed cost on this machine.
    Gives the template's name, the organisation, and the (table, column) stamped with the moment it
    was built at."""
    from db.engine import dispose_engines, session_factory
    from db.scope import NATIONAL, set_base_scope

    name = f"tmplorg_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    url = _url_for(name)
    try:
        with travel_to(_ORG_BUILT_AT):
            with session_factory(url)() as s:
                set_base_scope(s, NATIONAL)
                built = build_org(s, demo_password_hash, surveyors_per_sub_branch=2)
                s.commit()
        engine = create_engine(normalise_url(url))
        with engine.connect() as conn:
            columns = conn.execute(text(
                "SELECT c.table_name, c.column_name FROM information_schema.columns c "
                "JOIN pg_class r ON r.relname = c.table_name AND r.relnamespace = 'public'::regnamespace "
                "WHERE c.table_schema = 'public' AND c.data_type = 'timestamp with time zone' "
                "AND r.relkind IN ('r', 'p') AND NOT r.relispartition")).all()
            stamped = [(table, column) for table, column in columns if conn.scalar(text(
                f'SELECT EXISTS (SELECT 1 FROM "{table}" WHERE {_on_build_day(column)})'),
                {"at": _org_built_at()})]
        engine.dispose()
        dispose_engines(url)
        yield name, built, stamped
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _on_build_day(column: str) -> str:
    """`column` holds a time of the day the template's organisation was built (bound as `at`)."""
    return f'"{column}" >= :at AND "{column}" < :at + interval \'1 day\''


def _org_built_at() -> datetime:
    from tests.clock_pin import parse_moment

    return parse_moment(_ORG_BUILT_AT)


@pytest.fixture
def db_url(template_database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
           request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database for one test; DATABASE_URL points at it for app code. A test that
    uses the organisation gets it cloned in (`org_template`)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with_org = "org" in request.fixturenames
    source = request.getfixturevalue("org_template")[0] if with_org else template_database
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    url = _url_for(name)
    if with_org:
        _WITH_ORG.add(url)
    monkeypatch.setenv("DATABASE_URL", url)
    # Uploaded material goes to the test's own evidence folder, never the project's .evidence/.
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
    try:
        yield url
    finally:
        from db.engine import dispose_engines

        dispose_engines(url)
        _WITH_ORG.discard(url)
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
def org(db_url: str, session: Session, demo_password_hash: str, request: pytest.FixtureRequest) -> DemoOrg:
    """The demo organisation (4 branches × 3 sub-branches, every role), committed, as built at the
    test's own moment: cloned in with the database and its build time moved to now, or built here
    where a module's own `db_url` (a private server) did not clone it."""
    if db_url not in _WITH_ORG:
        built = build_org(session, demo_password_hash, surveyors_per_sub_branch=2)
        session.commit()
        return built
    _, built, stamped = request.getfixturevalue("org_template")
    engine = create_engine(normalise_url(db_url))
    try:
        with engine.begin() as conn:
            for table, column in stamped:
                conn.execute(text(f'UPDATE "{table}" SET "{column}" = :now + ("{column}" - :at) '
                                  f'WHERE {_on_build_day(column)}'),
                             {"now": clock.now(), "at": _org_built_at()})
    finally:
        engine.dispose()
    return copy.deepcopy(built)


@pytest.fixture
def actor_for(session: Session, org: DemoOrg):
    def _actor(username: str) -> Actor:
        actor = load_actor(session, org.person(username))
        assert actor is not None
        return actor

    return _actor
