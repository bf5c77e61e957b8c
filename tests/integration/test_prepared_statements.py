"""Prepared reads (statements.Prepared, and built-once statements read `generic`): the same rows as
the plain statement, prepared once per connection, kept across rollbacks and sessions, prepared
again on a new connection."""
from __future__ import annotations

import pytest
from sqlalchemy import bindparam, create_engine, func, select, text
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from dashboard.services.cases.detail import COVERED_EVENT_KINDS, ROWS_PER_SOURCE
from dashboard.services.cases.timeline_query import TIMELINE
from dashboard.services.statements import Prepared, read_prepared
from db.models import Notification
from tests.review_support import tiered_case

COUNT = Prepared("test_count_cases", "SELECT count(*) FROM claim_case WHERE branch_id = :branch AND id > :after"
                 " AND case_no::text <> :branch::text", (("after", "integer"), ("branch", "integer")))


def _prepared_here(session) -> set[str]:
    return set(session.execute(text("SELECT name FROM pg_prepared_statements")).scalars())


def test_parameters_become_positions_in_the_declared_order_and_casts_stay():
    assert COUNT.prepare_sql() == (
        "PREPARE test_count_cases (integer, integer) AS SELECT count(*) FROM claim_case WHERE branch_id = $2"
        " AND id > $1 AND case_no::text <> $2::text")
    assert COUNT.execute_sql() == "EXECUTE test_count_cases (%(after)s, %(branch)s)"


def test_the_timeline_prepared_gives_the_rows_of_the_plain_statement(session, org):
    case = tiered_case(session, org, "gz")
    session.commit()
    params = {"case_id": case.id, "lim": ROWS_PER_SOURCE, "covered": sorted(COVERED_EVENT_KINDS)}
    prepared_rows = [tuple(r) for r in read_prepared(session, TIMELINE, params)]
    plain = text(TIMELINE.sql.replace(":covered", "CAST(:covered AS text[])"))
    plain_rows = [tuple(r) for r in session.execute(plain, params)]
    assert prepared_rows == plain_rows and len(prepared_rows) > 3  # reported, estimate, dispatch, clocks...


def test_the_timeline_runs_its_generic_plan_and_leaves_other_transactions_as_they_were(session, org):
    """Planning the timeline over every month's partition cost more than running it (~13 ms against
    ~2 at 10,000,000 cases) and PostgreSQL kept planning it: it is told to keep its generic plan,
    for that transaction only."""
    case = tiered_case(session, org, "gz")
    session.commit()
    params = {"case_id": case.id, "lim": ROWS_PER_SOURCE, "covered": sorted(COVERED_EVENT_KINDS)}
    for _ in range(3):
        assert len(read_prepared(session, TIMELINE, params).all()) > 3
        assert session.scalar(text("SHOW plan_cache_mode")) == "force_generic_plan"
        session.commit()
        assert session.scalar(text("SHOW plan_cache_mode")) == "auto"
    generic, custom = session.execute(text(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = :n"), {"n": TIMELINE.name}).one()
    assert (generic, custom) == (3, 0)


def test_prepared_once_per_connection_and_kept_across_rollbacks_and_sessions(db_url):
    engine = create_engine(db_url, pool_size=1, max_overflow=0)  # every session gets the one connection
    factory = sessionmaker(engine)
    try:
        with factory() as first:
            assert read_prepared(first, COUNT, {"after": 0, "branch": 0}).scalar() == 0
            first.rollback()
            assert "test_count_cases" in _prepared_here(first)  # a rollback does not take it away
        with factory() as second:
            # The pooled connection: not prepared again (a second PREPARE of the name would fail).
            assert read_prepared(second, COUNT, {"after": 0, "branch": 0}).scalar() == 0
            second.connection().invalidate()  # a broken connection is replaced by a new one
        with factory() as third:
            assert "test_count_cases" not in _prepared_here(third)
            assert read_prepared(third, COUNT, {"after": 0, "branch": 0}).scalar() == 0
            assert "test_count_cases" in _prepared_here(third)
    finally:
        engine.dispose()


def test_with_prepared_statements_off_the_same_rows_come_from_the_plain_statement(session, org, monkeypatch):
    """Behind a transaction-mode pooler (docs/SCALING.md) nothing is prepared."""
    case = tiered_case(session, org, "gz")
    session.commit()
    params = {"case_id": case.id, "lim": ROWS_PER_SOURCE, "covered": sorted(COVERED_EVENT_KINDS)}
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "off")
    plain_rows = [tuple(r) for r in read_prepared(session, TIMELINE, params)]
    assert not _prepared_here(session)
    monkeypatch.delenv("DATABASE_PREPARED_STATEMENTS")
    assert [tuple(r) for r in read_prepared(session, TIMELINE, params)] == plain_rows
    assert TIMELINE.name in _prepared_here(session)


# ---------------------------------------------------------------- built-once statements, generic plans


def test_a_generic_statement_carries_its_own_values_as_literals_and_takes_only_the_given_ones_as_positions(session):
    from dashboard.services.delivery.admin import _troubled_page
    from dashboard.services.messages import _messages_page
    from dashboard.services.statements import generic_form

    dialect = session.connection().dialect
    mine = generic_form(_messages_page(True, 50, 100), dialect, frozenset({"person_id"}))
    assert mine.params == ("person_id",)
    assert mine.prepare.startswith(f"PREPARE {mine.name} (INTEGER) AS SELECT")
    assert "recipient_person_id = $1" in mine.prepare and "LIMIT 50 OFFSET 100" in mine.prepare
    troubled = generic_form(_troubled_page(50, 0), dialect, frozenset())
    # The states the list is about are in the plan (an IN list of the statement's own), so the
    # partial index on them stays usable by the generic plan.
    assert troubled.params == () and "IN ('queued', 'failed')" in troubled.prepare and "'failed'" in troubled.prepare
    with pytest.raises(ValueError, match="ANY"):
        generic_form(select(func.count()).where(Notification.id.in_(bindparam("ids", expanding=True))), dialect,
                     frozenset({"ids"}))


def test_generic_reads_give_the_plain_statements_rows_with_their_names_and_run_the_generic_plan(session, org, now):
    """The outbox and the material are partitioned by month (migration 0047): a person's messages
    and the review queue's photo marks read every month, whose planning cost more than the read."""
    from dashboard.services.messages import _messages_count, _messages_page
    from dashboard.services.outbox import queue_notification
    from dashboard.services.statements import read

    person = org.person("gz_head")
    for n in range(3):
        queue_notification(session, case_id=None, recipient_id=person, kind="note", body=f"消息{n}",
                           dedupe_key=f"generic:{n}", now=now)
    session.commit()
    for statement in (_messages_page(False, 50, 0), _messages_page(True, 2, 1), _messages_count(False)):
        plain = read(session, statement, {"person_id": person}).all()
        generic = read(session, statement, {"person_id": person}, generic=True).all()
        assert generic == plain and plain
    rows = read(session, _messages_page(False, 50, 0), {"person_id": person}, generic=True).all()
    assert [r.body for r in rows] == ["消息2", "消息1", "消息0"]  # by name, newest first
    assert session.scalar(text("SHOW plan_cache_mode")) == "force_generic_plan"
    session.commit()
    assert session.scalar(text("SHOW plan_cache_mode")) == "auto"
    assert session.scalar(text("SELECT sum(custom_plans) FROM pg_prepared_statements WHERE name LIKE 'g\\_%'")) == 0


def test_with_prepared_statements_off_a_generic_read_is_the_plain_statement(session, org, monkeypatch):
    from dashboard.services.messages import _messages_count
    from dashboard.services.statements import read

    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "off")
    assert read(session, _messages_count(False), {"person_id": org.person("gz_head")}, generic=True).scalar() == 0
    assert not {n for n in _prepared_here(session) if n.startswith("g_")}


def test_a_statement_with_percent_signs_of_its_own_reads_the_same_prepared_generic_and_plain(session, org):
    """`%` in the statement (a modulo, a LIKE of its own) and in a value given (a typed pattern)."""
    from dashboard.services.statements import read
    from db.models import ClaimCase
    from tests.factories import make_case

    for sub in ("gz", "sz", "gz", "hz"):
        make_case(session, org, sub)
    session.commit()
    statement = select(func.count()).where(ClaimCase.id % 2 == 0, ClaimCase.case_no.like("%0%"),
                                           ClaimCase.case_no.like(bindparam("pattern")))
    counts = {mode: read(session, statement, {"pattern": "%"}, **{mode: True}).scalar()
              for mode in ("generic", "prepared")}
    plain = read(session, statement, {"pattern": "%"}).scalar()
    assert counts == {"generic": plain, "prepared": plain} and plain == 2


def test_a_connection_keeps_a_bounded_number_of_prepared_statements(session, org, monkeypatch):
    """Statements kept per person would pile up on a pooled connection that lives as long as the
    server: past the bound they are all let go and prepared again as used, with the same rows."""
    from dashboard.services import statements

    monkeypatch.setattr(statements, "MAX_PREPARED", 3)
    before = _prepared_here(session)
    reads = [Prepared(f"test_bound_{n}", f"SELECT {n} + :x", (("x", "integer"),)) for n in range(5)]
    for n, statement in enumerate(reads):
        assert read_prepared(session, statement, {"x": 100}).scalar() == n + 100
        assert len(_prepared_here(session) - before) <= 3
    assert read_prepared(session, reads[0], {"x": 1}).scalar() == 1  # let go, prepared again
    assert "test_bound_0" in _prepared_here(session)


def test_a_custom_read_is_prepared_once_but_planned_for_the_values_of_every_run(session, org):
    """`custom`: parsed once per connection, planned each run for the values given (a generic
    plan ran a read whose best plan depends on them slower), the mode ending with the transaction."""
    from dashboard.services.statements import read
    from db.models import ClaimCase
    from tests.factories import make_case

    for sub in ("gz", "sz", "gz"):
        make_case(session, org, sub)
    session.commit()
    statement = select(func.count()).where(ClaimCase.sub_branch_id == bindparam("sub"))
    subs = [org.sub_branch(code).id for code in ("gz", "sz", "hz")] * 3
    counts = [read(session, statement, {"sub": sub}, custom=True).scalar() for sub in subs]
    assert counts == [read(session, statement, {"sub": sub}).scalar() for sub in subs] == [2, 1, 0] * 3
    assert session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    plans = session.execute(text("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                                 "WHERE name LIKE 'g\\_%'")).all()
    assert [tuple(p) for p in plans] == [(0, 9)]
    session.commit()
    assert session.scalar(text("SHOW plan_cache_mode")) == "auto"
    # The same statement read `prepared` lets PostgreSQL settle on its generic plan after five runs.
    for sub in subs:
        read(session, statement, {"sub": sub}, prepared=True).scalar()
    assert session.scalar(text("SELECT generic_plans FROM pg_prepared_statements WHERE name LIKE 'g\\_%'")) > 0


def test_a_prepared_read_that_fails_raises_sqlalchemys_error_and_the_session_can_roll_back(session):
    """Prepared reads run on the driver's cursor (statements._on_cursor): a failing one must still
    raise SQLAlchemy's own error, as every other read does, which the pages' error handling names
    (a cancelled statement is an OperationalError, not psycopg2's QueryCanceled)."""
    from sqlalchemy.exc import OperationalError

    slow = Prepared("test_sleep", "SELECT pg_sleep(:seconds)", (("seconds", "float8"),))
    session.execute(text("SET LOCAL statement_timeout = 50"))
    with pytest.raises(OperationalError, match="statement timeout"):
        read_prepared(session, slow, {"seconds": 2})
    session.rollback()
    assert read_prepared(session, COUNT, {"after": 0, "branch": 0}).scalar() == 0


def test_a_prepared_read_on_a_lost_connection_invalidates_it_and_the_next_session_gets_a_new_one(db_url):
    """A database restarted under the dashboard: the read says the connection is gone (SQLAlchemy's
    error, marked invalidated) and the pool hands the next session a fresh connection."""
    from sqlalchemy.exc import OperationalError

    engine = create_engine(db_url, pool_size=1, max_overflow=0)
    killer = create_engine(db_url, poolclass=NullPool)
    factory = sessionmaker(engine)
    try:
        with factory() as first:
            pid = first.scalar(text("SELECT pg_backend_pid()"))
            assert read_prepared(first, COUNT, {"after": 0, "branch": 0}).scalar() == 0  # prepared here
            first.commit()
            with killer.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(OperationalError) as raised:
                read_prepared(first, COUNT, {"after": 0, "branch": 0})
            assert raised.value.connection_invalidated
        with factory() as second:
            assert read_prepared(second, COUNT, {"after": 0, "branch": 0}).scalar() == 0
            assert second.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        engine.dispose()
        killer.dispose()


def test_a_prepared_read_is_seen_by_the_statement_events_and_gives_rows_by_name(session, org):
    """The driver's cursor still goes through SQLAlchemy's statement events: the bench's capture and
    the scope that rides with a transaction's first statement (db/scope.py) both rely on them."""
    from sqlalchemy import event

    case = tiered_case(session, org, "gz")
    session.commit()
    seen: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        seen.append(statement)

    connection = session.connection()
    event.listen(connection, "after_cursor_execute", capture)
    try:
        row = read_prepared(session, COUNT, {"after": case.id - 1, "branch": case.branch_id}).one()
    finally:
        event.remove(connection, "after_cursor_execute", capture)
    assert [s for s in seen if "EXECUTE" in s] == ["EXECUTE test_count_cases (%(after)s, %(branch)s)"]
    assert row.count == row[0] == 1
