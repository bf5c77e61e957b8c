"""Prepared reads (statements.Prepared): the same rows as the plain statement, prepared once per
connection, kept across rollbacks and sessions, prepared again on a new connection."""
from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from dashboard.services.cases.detail import COVERED_EVENT_KINDS, ROWS_PER_SOURCE
from dashboard.services.cases.timeline_query import TIMELINE
from dashboard.services.statements import Prepared, read_prepared
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
