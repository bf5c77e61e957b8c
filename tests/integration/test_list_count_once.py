"""List pages count once: `limit=0` only counts, and a page fetched with that count passed back is
the same page as one counted again (review queue, exec supervision, weekly summaries, the branch
inbox and the tracker's register)."""
from __future__ import annotations

from datetime import datetime, timedelta

from dashboard.services.review.opinions import branch_inbox, post_review_opinion, tracker_register
from dashboard.services.review.queue import QueueFilters, queue_tiered_cases, review_queue
from dashboard.services.review.supervision import followed_cases
from dashboard.services.review.weekly import build_weekly_summaries, weekly_summaries, weekly_summary_content
from dashboard.settings import BUSINESS_TZ
from tests.factories import T0
from tests.review_support import tiered_case

FRIDAY_17 = datetime(2026, 11, 27, 17, 0, tzinfo=BUSINESS_TZ)


def test_review_queue_count_call_returns_no_rows_and_the_page_with_the_count_passed_is_the_same(
        session, org, actor_for):
    for n, sub in enumerate(("gz", "sz", "hz")):
        tiered_case(session, org, sub, at=T0 + timedelta(hours=n))
    queue_tiered_cases(session, T0 + timedelta(hours=4))
    session.commit()
    reviewer = actor_for("reviewer")
    total, rows = review_queue(session, reviewer, QueueFilters(), limit=0)
    assert (total, rows) == (3, [])
    assert review_queue(session, reviewer, QueueFilters(), limit=2, offset=1, total=total) == review_queue(
        session, reviewer, QueueFilters(), limit=2, offset=1)


def test_followed_cases_count_call_returns_no_rows_and_the_page_with_the_count_passed_is_the_same(
        session, org, actor_for):
    tiered_case(session, org, "gz", at=T0)
    tiered_case(session, org, "sz", at=T0 + timedelta(hours=1))
    supervisor = actor_for("supervisor")  # 广东
    total, rows = followed_cases(session, supervisor, limit=0)
    assert (total, rows) == (2, [])
    paged = followed_cases(session, supervisor, limit=1, offset=1, total=total)
    assert paged == followed_cases(session, supervisor, limit=1, offset=1) and len(paged[1]) == 1


def test_weekly_count_call_returns_no_rows_and_one_summary_reads_as_its_list_row(session, org, actor_for):
    build_weekly_summaries(session, FRIDAY_17 - timedelta(days=1))
    executive = actor_for("executive")
    total, rows = weekly_summaries(session, executive, limit=0)
    assert (total, rows) == (2 * len(org.branches), [])  # last week's and this week's
    paged = weekly_summaries(session, executive, limit=3, offset=1, total=total)
    assert paged == weekly_summaries(session, executive, limit=3, offset=1) and len(paged[1]) == 3
    listed = paged[1][0]
    row, content = weekly_summary_content(session, executive, listed.id)
    assert row == listed and content["totals"]["cases"] == listed.cases


def test_branch_inbox_and_register_count_calls_return_no_rows_and_pages_with_the_count_are_the_same(
        session, org, actor_for):
    reviewer = actor_for("reviewer")
    for n, sub in enumerate(("gz", "sz")):
        case = tiered_case(session, org, sub, at=T0 + timedelta(hours=n))
        post_review_opinion(session, reviewer, case.id, ["核实损失范围", "补充现场照片"], now=T0 + timedelta(hours=3))
    manager = actor_for("gd_manager")
    total, rows = branch_inbox(session, manager, only_open=True, limit=0)
    assert (total, rows) == (4, [])
    paged = branch_inbox(session, manager, only_open=True, limit=2, offset=1, total=total)
    assert paged == branch_inbox(session, manager, only_open=True, limit=2, offset=1) and len(paged[1]) == 2
    registered, rows = tracker_register(session, manager, limit=0)
    assert (registered, rows) == (2, [])
    paged = tracker_register(session, manager, limit=1, offset=1, total=registered)
    assert paged == tracker_register(session, manager, limit=1, offset=1) and len(paged[1]) == 1
