"""Row-level security works the person's scope out once per statement (migration 0050): every
policy of the application role calls the scope functions as scalar subqueries, a read's plan shows
them as InitPlans rather than in each row's filter, and what a branch person reads is what the
policies allowed before; the downgrade gives the bare calls back and the upgrade rewrites them again."""
from __future__ import annotations

import re

from alembic import command
from sqlalchemy import create_engine, text

from db.engine import APP_ROLE, connect_options, normalise_url
from db.schema import alembic_config
from tests.factories import make_case

SCOPE_CALL = re.compile(r"claims_(national|me|branches|sub_branches)\(\)")
ONCE = re.compile(r"\(\s*SELECT claims_(national|me|branches|sub_branches)\(\) AS claims_\w+\)")


def _policies(conn) -> list[tuple[str, str, str]]:
    rows = conn.execute(text(
        "SELECT tablename, policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '') FROM pg_policies "
        "WHERE schemaname = 'public' AND :role = ANY (roles) ORDER BY 1, 2"), {"role": APP_ROLE}).all()
    return [tuple(r) for r in rows]


def _bare_calls(expression: str) -> int:
    return len(SCOPE_CALL.findall(expression)) - len(ONCE.findall(expression))


def test_every_policy_reads_the_scope_once_and_the_downgrade_gives_the_bare_calls_back(db_url, owner_session):
    conn = owner_session.connection()
    policies = _policies(conn)
    assert len(policies) >= 28  # every table of case data (test_database_holds_isolation.CASE_TABLES)
    assert [p[:2] for p in policies if _bare_calls(p[2])] == []
    assert all(ONCE.search(p[2]) for p in policies), "each policy tests the scope"
    owner_session.rollback()

    command.downgrade(alembic_config(db_url), "0049")
    try:
        with create_engine(normalise_url(db_url)).connect() as plain:
            before = _policies(plain)
        # The same policies (less those of tables added after 0050), each with its bare calls back.
        assert {p[:2] for p in before} <= {p[:2] for p in policies} and len(before) >= 28
        assert all(_bare_calls(p[2]) and not ONCE.search(p[2]) for p in before)
    finally:
        command.upgrade(alembic_config(db_url), "head")
    with create_engine(normalise_url(db_url)).connect() as again:
        assert _policies(again) == policies


def test_a_read_works_the_scope_out_once_and_a_branch_sees_only_its_own(db_url, session, org):
    mine = make_case(session, org, "gz")
    theirs = make_case(session, org, "hz")
    session.commit()
    engine = create_engine(normalise_url(db_url), connect_args={"options": connect_options(APP_ROLE)})
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT set_config('claims.branches', :b, true)"), {"b": f"{{{mine.branch_id}}}"})
            plan = "\n".join(conn.scalars(text("EXPLAIN SELECT id FROM claim_case")))
            assert "InitPlan" in plan and "current_setting" not in plan.split("InitPlan")[0]
            seen = set(conn.scalars(text("SELECT id FROM claim_case WHERE id IN (:a, :b)"),
                                    {"a": mine.id, "b": theirs.id}))
            assert seen == {mine.id}
    finally:
        engine.dispose()
