"""What every connection of the product starts with (db.engine.connect_options): the business time
zone, its role, and no JIT compilation (the row-level policies inflate cost estimates, and a page's
list of a hundred rows spent 0.46 s compiling at 10,000,000 cases; bench/RESULTS.md), and room for
the executive overview's period to be aggregated in memory."""
from __future__ import annotations

from sqlalchemy import text

from db.engine import APP_ROLE, JOB_ROLE, get_engine


def test_a_page_connection_acts_as_the_app_in_business_time_without_jit(session):
    row = session.execute(text("SELECT current_user, current_setting('TimeZone'), current_setting('jit'), "
                               "current_setting('work_mem')")).one()
    assert tuple(row) == (APP_ROLE, "Asia/Shanghai", "off", "32MB")  # the overview's period held in memory


def test_a_job_connection_compiles_nothing_either(db_url):
    with get_engine(db_url, JOB_ROLE).connect() as conn:
        row = conn.execute(text("SELECT current_user, current_setting('jit')")).one()
    assert tuple(row) == (JOB_ROLE, "off")


def test_a_connection_is_pinged_only_after_resting_and_a_dead_one_is_replaced(db_url, monkeypatch):
    """One page run checks a connection out for each of its parts: none of those is pinged (a round
    trip each); one that rested in the pool is, and one found dead is replaced before it is used."""
    import db.engine as engines

    engine = engines.build_engine(db_url, APP_ROLE)
    pings: list[int] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_connection: pings.append(1) or real_ping(dbapi_connection))
    try:
        def backend() -> int:
            with engine.connect() as conn:
                return conn.execute(text("SELECT pg_backend_pid()")).scalar()

        first = backend()  # a new connection
        assert [backend() for _ in range(5)] == [first] * 5 and pings == []  # given back moments ago

        monkeypatch.setattr(engines, "PING_AFTER_RESTING_SECONDS", 0.0)
        assert backend() == first and pings == [1]  # rested: pinged, alive, kept

        with engines.owner_engine(db_url).connect() as owner:  # ended while it rests, as by a restart
            assert owner.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar()
        replaced = backend()
        assert replaced != first and len(pings) == 2  # pinged, found dead, a new one used
    finally:
        engine.dispose()
