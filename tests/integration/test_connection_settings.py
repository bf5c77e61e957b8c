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
