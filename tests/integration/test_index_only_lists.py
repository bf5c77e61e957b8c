"""The open-case lists can be counted from their index alone, row-level security included (migrations
0037-0039; the executive overview's period read, 0039).

At volume these counts read every open case of the reader's scope; if the list's index misses a
column the query or claim_case's row-level policy reads (branch, sub-branch, `claims_works_on(id,
surveyor_id)`), PostgreSQL fetches each case's row from the table to check it (thousands of
scattered pages at 1,000,000 cases). Each test leaves claim_case only the list's index (in a
transaction rolled back), switches plain and bitmap scans off and reads the plan of the count as
the dashboard runs it (role claims_app, the person's scope): an index-only scan is only possible
if the index covers everything."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import psycopg2

from dashboard.services.actor import db_scope
from dashboard.services.cases.major import _major_count
from dashboard.services.clocks.overdue import OverdueFilters
from dashboard.services.clocks.overdue import _summary_statement as tracker_summary_statement
from dashboard.services.figures.overview import (
    Drill, OverviewFilter, _drill_page_statement, _figures_statement,
)
from dashboard.services.scorecard.computed import cases_behind
from dashboard.services.dispatching.board import BoardFilter
from dashboard.services.dispatching.board import _count_statement as board_count
from dashboard.services.dispatching.board import _dispatched_statement as board_dispatched
from dashboard.services.review.opinions import _register_count_statement as register_count
from dashboard.services.review.supervision import _followed_count_statement as followed_count
from dashboard.services.review.supervision import _rest_statement as followed_rest
from db.engine import APP_ROLE
from db.scope import send_scope


def _plan_with_only(owner_session, index: str, actor, statement, params: dict | None = None,
                    also: dict[str, str] | None = None) -> str:
    """The plan of `statement` with only `index` left on claim_case (and, per table in `also`, only
    that table's index); `params` binds what the statement leaves to execution (the time now)."""
    if params is None:
        sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    else:
        expanded = statement.compile(dialect=psycopg2.dialect()).construct_expanded_state(params)
        sql = owner_session.connection().connection.cursor().mogrify(expanded.statement, expanded.parameters).decode()
    others = []
    for table, keep in {"claim_case": index, **(also or {})}.items():
        others += owner_session.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = :table AND indexname <> :keep "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = CAST(:table AS regclass))"),
            {"table": table, "keep": keep}).scalars().all()
    try:
        for name in others:
            owner_session.execute(text(f'DROP INDEX "{name}"'))
        owner_session.execute(text("SET LOCAL enable_seqscan = off"))
        owner_session.execute(text("SET LOCAL enable_bitmapscan = off"))
        owner_session.execute(text(f"SET LOCAL ROLE {APP_ROLE}"))
        send_scope(owner_session.connection(), db_scope(actor))
        # Sent as it is: a literal such as ':initial_review' is not a parameter.
        return "\n".join(row[0] for row in owner_session.connection().exec_driver_sql("EXPLAIN " + sql))
    finally:
        owner_session.rollback()


@pytest.mark.parametrize("username", ["callcenter", "gd_manager", "gz_claims"])
def test_the_dispatch_boards_count_can_read_its_index_alone(owner_session, org, actor_for, username):
    actor = actor_for(username)
    plan = _plan_with_only(owner_session, "ix_claim_case_board", actor, board_count(actor, BoardFilter()))
    assert "Index Only Scan using ix_claim_case_board" in plan, plan


@pytest.mark.parametrize("colour", [None, "red"])
def test_the_followed_cases_count_can_read_the_pending_index_alone(owner_session, org, actor_for, colour):
    actor = actor_for("supervisor")
    plan = _plan_with_only(owner_session, "ix_claim_case_tiered_pending", actor,
                           followed_count(actor, False, None, None, colour))
    assert "Index Only Scan using ix_claim_case_tiered_pending" in plan, plan


@pytest.mark.parametrize("colour", [None, "red"])
def test_a_branch_registers_count_can_read_the_pending_index_alone(owner_session, org, actor_for, colour):
    actor = actor_for("gd_manager")
    branches = tuple(sorted(actor.branch_ids_for("branch_manager", "branch_tracker")))
    plan = _plan_with_only(owner_session, "ix_claim_case_tiered_pending", actor,
                           register_count(branches, False, None, colour))
    assert "Index Only Scan using ix_claim_case_tiered_pending" in plan, plan


@pytest.mark.parametrize(("username", "colour"), [("reviewer", None), ("reviewer", "red"), ("gd_manager", None)])
def test_the_open_major_cases_count_can_read_their_index_alone(owner_session, org, actor_for, username, colour):
    actor = actor_for(username)
    plan = _plan_with_only(owner_session, "ix_claim_case_major_open", actor, _major_count(actor, None, False, True, colour))
    assert "Index Only Scan using ix_claim_case_major_open" in plan, plan


def test_a_branchs_stale_cases_behind_its_scorecard_can_be_counted_from_their_index_alone(
        session, owner_session, org, actor_for):
    """The count cases_behind sends (captured as sent), planned with only the long-open index left."""
    actor, gd = actor_for("executive"), org.branch("gd").id
    sent: list[tuple[str, dict]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT COUNT"):
            sent.append((statement, parameters))
    connection = session.connection()
    event.listen(connection, "before_cursor_execute", capture)
    try:
        cases_behind(session, actor, "quarter", date(2026, 10, 1), gd, "stale_pending_rate", limit=0)
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    session.rollback()
    (statement, parameters), = sent
    sql = owner_session.connection().connection.cursor().mogrify(statement, parameters).decode()
    plan = _plan_with_only(owner_session, "ix_claim_case_long_open_branch", actor, text(sql))
    assert "Index Only Scan using ix_claim_case_long_open_branch" in plan, plan


@pytest.mark.parametrize("username", ["executive", "reviewer"])
def test_the_overviews_period_cases_and_their_violations_can_be_read_from_two_indexes_alone(
        owner_session, org, actor_for, username):
    """Migration 0039: the tiered cases of the period from the tiered-by-report-time index, and (for
    a national reader, who reads them over one range of case ids) their violations from the
    violations' case index; a reader with a scope probes per case, from the same index."""
    actor = actor_for(username)
    flt = OverviewFilter(report_from=date(2026, 9, 1), report_to=date(2026, 11, 30))
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    plan = _plan_with_only(owner_session, "ix_claim_case_tiered_report", actor, _figures_statement(actor, flt),
                           {"now": now, "window": timedelta(hours=1)}, also={"violation": "ix_violation_case_id"})
    assert "Index Only Scan using ix_claim_case_tiered_report" in plan, plan
    assert "Index Only Scan using ix_violation_case_id" in plan, plan


@pytest.mark.parametrize(("username", "colour"), [("admin", None), ("supervisor", None), ("supervisor", "red")])
def test_the_followed_cases_beyond_those_awaiting_a_reply_are_walked_in_the_lists_order(
        owner_session, org, actor_for, username, colour):
    """Migration 0040: the index gives the list's order (newest tiered first, then id), so a page is
    read by walking it and stopping, never by sorting every pending tiered case of the scope."""
    actor = actor_for(username)
    plan = _plan_with_only(owner_session, "ix_claim_case_tiered_pending_time", actor,
                           followed_rest(actor, False, None, None, colour), {"limit": 50, "offset": 0})
    assert "Index Only Scan using ix_claim_case_tiered_pending_time" in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize("figure", ["d2", "d3"])
def test_a_rates_late_clocks_are_walked_newest_due_first_from_their_index(owner_session, org, actor_for, figure):
    """Migration 0041: the late head of an on-time rate's list is read from the late clocks' index
    in the list's order, each clock's case probed, and never sorted."""
    actor = actor_for("executive")
    flt = OverviewFilter(report_from=date(2026, 9, 1), report_to=date(2026, 11, 30))
    statement = _drill_page_statement(actor, flt, Drill(figure), 50, 0, "late")
    plan = _plan_with_only(owner_session, "claim_case_pkey", actor, statement,
                           {"now": datetime(2026, 12, 1, tzinfo=timezone.utc), "window": timedelta(hours=1)},
                           also={"deadline": "ix_deadline_late_kind"})
    assert "Index Only Scan using ix_deadline_late_kind" in plan, plan
    assert "Sort Key: deadline" not in plan and "due_at DESC" not in plan.split("Limit")[-1], plan


@pytest.mark.parametrize("username", ["callcenter", "gd_manager"])
def test_the_boards_dispatched_cases_are_walked_in_its_order(owner_session, org, actor_for, username):
    """Migration 0042: the index's key is the board's order (colour rank, newest report, id), so a
    page of dispatched cases is a walk that stops, never a sort of every open dispatched case."""
    actor = actor_for(username)
    plan = _plan_with_only(owner_session, "ix_claim_case_board_dispatched", actor,
                           board_dispatched(actor, BoardFilter()), {"limit": 50, "offset": 0})
    assert "using ix_claim_case_board_dispatched" in plan and "Sort" not in plan, plan


@pytest.mark.parametrize(("username", "kinds", "reads"), [("admin", (), 2), ("admin", ("D2",), 2),
                                                       ("gd_manager", (), 1)])
def test_the_trackers_open_clock_counts_and_ageing_read_their_index_alone(owner_session, org, actor_for, username,
                                                                        kinds, reads):
    """Migration 0043: the open clocks by status and the overdue ones by age never fetch a clock's
    row, with a type filter too. A branch's counts also hold its clocks met late (counted live, by
    another index), so there only the ageing chart reads the open clocks, with the policy's columns."""
    actor = actor_for(username)
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    plan = _plan_with_only(owner_session, "claim_case_pkey", actor, tracker_summary_statement(
        actor, OverdueFilters(kinds=kinds)), {"now": now, "soon_until": now + timedelta(hours=4)},
        also={"deadline": "ix_deadline_open_due"})
    assert plan.count("Index Only Scan using ix_deadline_open_due") == reads, plan
    assert "Index Scan using ix_deadline_open_due" not in plan, plan


def test_the_review_queue_walks_its_order_index_and_counts_the_waiting_entries_alone(owner_session, org, actor_for):
    """Migration 0046: the queue's page is a walk of ix_review_queue_entry_order (no sort of every
    waiting entry joined to its case) and its count never reads claim_case."""
    from dashboard.services.review.queue import QueueFilters, _queue_count_statement, _queue_page_statement

    actor = actor_for("reviewer")
    page = _plan_with_only(owner_session, "claim_case_pkey", actor, _queue_page_statement(QueueFilters(), 50, 0),
                           params={}, also={"review_queue_entry": "ix_review_queue_entry_order"})
    assert "Index Scan using ix_review_queue_entry_order" in page and "Sort" not in page.split("SubPlan")[0], page
    count = _plan_with_only(owner_session, "claim_case_pkey", actor, _queue_count_statement(QueueFilters()),
                            also={"review_queue_entry": "ix_review_queue_entry_waiting"})
    # (claim_case appears only in the row policy's subplan, which a national reader never runs.)
    assert "Index Only Scan using ix_review_queue_entry_waiting" in count and "Join" not in count \
        and "Nested Loop" not in count, count
