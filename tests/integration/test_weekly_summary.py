"""Weekly summary of pending tiered cases, due every Friday 17:00 Asia/Shanghai (D6)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dashboard.services.errors import NotFound, PermissionDenied, UserError
from dashboard.services.review.opinions import post_review_opinion
from dashboard.services.review.weekly import (
    build_weekly_summaries, pending_tiered_now, refresh_current_week, submit_weekly_summary, weekly_summaries, weekly_summary_content,
)
from dashboard.settings import BUSINESS_TZ
from db.models import Deadline, WeeklySummary
from tests.review_support import tiered_case

FRIDAY_17 = datetime(2026, 11, 27, 17, 0, tzinfo=BUSINESS_TZ)  # week of Monday 2026-11-23


def _summary(session, branch_id, week_start):
    return session.scalars(select(WeeklySummary).where(WeeklySummary.branch_id == branch_id,
                                                       WeeklySummary.week_start == week_start)).one()


def test_at_exactly_friday_17_the_week_is_still_open(session, org):
    run = build_weekly_summaries(session, FRIDAY_17)
    assert run.current_week == date(2026, 11, 23)
    summary = _summary(session, org.branch("gd").id, date(2026, 11, 23))
    assert summary.due_at == FRIDAY_17 and summary.submitted_at is None


def test_one_minute_after_friday_17_the_week_is_snapshotted_and_next_week_opened(session, org):
    run = build_weekly_summaries(session, FRIDAY_17 + timedelta(minutes=1))
    assert (run.closed_week, run.current_week) == (date(2026, 11, 23), date(2026, 11, 30))
    gd = org.branch("gd").id
    assert _summary(session, gd, date(2026, 11, 30)).due_at == FRIDAY_17 + timedelta(days=7)
    clocks = session.execute(select(Deadline.subject_key, Deadline.due_at, Deadline.responsible_person_id)
                             .where(Deadline.kind == "D6", Deadline.branch_id == gd)
                             .order_by(Deadline.due_at)).all()
    assert clocks == [(f"weekly:{gd}:2026-11-23", FRIDAY_17, org.person("gd_tracker")),
                      (f"weekly:{gd}:2026-11-30", FRIDAY_17 + timedelta(days=7), org.person("gd_tracker"))]


def test_job_is_idempotent_one_summary_per_branch_and_week(session, org):
    build_weekly_summaries(session, FRIDAY_17 + timedelta(seconds=30))
    build_weekly_summaries(session, FRIDAY_17 + timedelta(minutes=2))
    assert session.scalar(select(func.count()).select_from(WeeklySummary)) == 2 * len(org.branches)
    assert session.scalar(select(func.count()).select_from(Deadline).where(Deadline.kind == "D6")) == 2 * len(
        org.branches)


def test_summary_lists_pending_tiered_cases_with_open_points_and_overdue_deadlines(session, org, actor_for):
    case = tiered_case(session, org, "gz", at=FRIDAY_17 - timedelta(days=3))
    post_review_opinion(session, actor_for("reviewer"), case.id, ["核实驾驶员", "调取监控"],
                        now=FRIDAY_17 - timedelta(days=3))
    tiered_case(session, org, "hz", at=FRIDAY_17 - timedelta(days=1))  # another branch
    build_weekly_summaries(session, FRIDAY_17 + timedelta(minutes=1))
    content = _summary(session, org.branch("gd").id, date(2026, 11, 23)).content
    (row,) = content["cases"]
    assert row["case_no"] == case.case_no and row["days_pending"] == 3 and row["open_points"] == 2
    # The D5 answers (48 h) and the dispatch clocks (24 h) are past due and still open.
    assert row["overdue_deadlines"] >= 2
    assert content["totals"]["cases"] == 1 and content["totals"]["estimate"] == "86000.00"


def test_tracker_submits_before_the_deadline_on_time(session, org, actor_for):
    build_weekly_summaries(session, FRIDAY_17 - timedelta(days=4))
    tracker = actor_for("gd_tracker")
    summary = _summary(session, org.branch("gd").id, date(2026, 11, 23))
    assert submit_weekly_summary(session, tracker, summary.id, now=FRIDAY_17 - timedelta(minutes=1)).on_time
    d6 = session.scalars(select(Deadline).where(Deadline.kind == "D6", Deadline.subject_key ==
                                                f"weekly:{org.branch('gd').id}:2026-11-23")).one()
    assert d6.met_at == FRIDAY_17 - timedelta(minutes=1)
    with pytest.raises(UserError, match="review.weekly.already_submitted"):
        submit_weekly_summary(session, tracker, summary.id, now=FRIDAY_17)
    session.rollback()
    _, rows = weekly_summaries(session, actor_for("reviewer"))
    statuses = {(r.branch, r.status(FRIDAY_17 + timedelta(hours=1))) for r in rows}
    assert ("广东分公司", "on_time") in statuses and ("浙江分公司", "missing") in statuses


def test_submitting_after_friday_17_is_recorded_late(session, org, actor_for):
    build_weekly_summaries(session, FRIDAY_17 + timedelta(minutes=1))
    summary = _summary(session, org.branch("gd").id, date(2026, 11, 23))
    sent = submit_weekly_summary(session, actor_for("gd_tracker"), summary.id, now=FRIDAY_17 + timedelta(hours=2))
    assert not sent.on_time and sent.as_of <= FRIDAY_17  # the cut-off's snapshot, said as of when
    session.refresh(summary)
    assert summary.submitted_at > summary.due_at


def test_a_summary_submitted_before_the_cut_off_holds_the_cases_of_that_moment_not_an_older_draft(
        session, org, actor_for):
    """A draft of 1 case was built on Monday; two more cases were tiered since. Submitting on Friday
    sends all three and says so (181 were sent while the branch held 187, with no warning)."""
    tiered_case(session, org, "gz", at=FRIDAY_17 - timedelta(days=5))
    build_weekly_summaries(session, FRIDAY_17 - timedelta(days=4))
    for hours in (30, 20):
        tiered_case(session, org, "sz", at=FRIDAY_17 - timedelta(hours=hours))
    tracker = actor_for("gd_tracker")
    summary = _summary(session, org.branch("gd").id, date(2026, 11, 23))
    assert summary.content["totals"]["cases"] == 1
    assert pending_tiered_now(session, tracker, org.branch("gd").id) == 3
    sent = submit_weekly_summary(session, tracker, summary.id, now=FRIDAY_17 - timedelta(minutes=5))
    assert sent.cases == 3 and sent.as_of == FRIDAY_17 - timedelta(minutes=5)
    session.refresh(summary)
    assert summary.content["totals"]["cases"] == 3
    with pytest.raises(NotFound):
        pending_tiered_now(session, actor_for("zj_tracker"), org.branch("gd").id)


def test_only_the_branchs_own_tracker_submits_and_branches_read_only_their_own(session, org, actor_for):
    build_weekly_summaries(session, FRIDAY_17 - timedelta(days=1))
    gd_summary = _summary(session, org.branch("gd").id, date(2026, 11, 23))
    with pytest.raises(NotFound):
        submit_weekly_summary(session, actor_for("zj_tracker"), gd_summary.id, now=FRIDAY_17 - timedelta(hours=1))
    session.rollback()
    with pytest.raises(PermissionDenied):
        submit_weekly_summary(session, actor_for("gd_manager"), gd_summary.id, now=FRIDAY_17 - timedelta(hours=1))
    session.rollback()
    with pytest.raises(NotFound):
        weekly_summary_content(session, actor_for("zj_manager"), gd_summary.id)
    total, rows = weekly_summaries(session, actor_for("zj_tracker"))
    assert total == 2 and {r.branch for r in rows} == {"浙江分公司"}  # last week's and this week's
    assert weekly_summaries(session, actor_for("executive"))[0] == 2 * len(org.branches)


def test_tracker_can_bring_this_weeks_draft_up_to_date(session, org, actor_for):
    tracker = actor_for("gd_tracker")
    now = FRIDAY_17 - timedelta(days=2)
    refresh_current_week(session, tracker, now)
    assert _summary(session, org.branch("gd").id, date(2026, 11, 23)).content["totals"]["cases"] == 0
    tiered_case(session, org, "gz", at=now)
    refresh_current_week(session, tracker, now + timedelta(hours=1))
    assert _summary(session, org.branch("gd").id, date(2026, 11, 23)).content["totals"]["cases"] == 1
    assert session.scalar(select(func.count()).select_from(WeeklySummary)) == 1  # only the tracker's branch


def test_weekly_job_module_runs_and_exits_zero(session, org, db_url):
    from jobs.weekly_summary import main

    assert main(["--as-of", "2026-11-27T17:00:30"]) == 0
    assert session.scalar(select(func.count()).select_from(WeeklySummary)) == 2 * len(org.branches)


def test_a_page_of_the_case_list_is_cut_from_the_document_and_says_the_whole_lists_length(session, org, actor_for):
    for n in range(7):
        tiered_case(session, org, "gz" if n % 2 else "sz", at=FRIDAY_17 - timedelta(hours=3, minutes=n))
    build_weekly_summaries(session, FRIDAY_17 - timedelta(minutes=1))
    summary = _summary(session, org.branch("gd").id, date(2026, 11, 23))
    tracker = actor_for("gd_tracker")
    row, whole = weekly_summary_content(session, tracker, summary.id)
    assert whole["case_count"] == len(whole["cases"]) == 7 and whole["totals"] == summary.content["totals"]
    assert whole["as_of"] == summary.content["as_of"]
    for offset, limit in ((0, 3), (3, 3), (6, 3), (7, 3), (2, 0)):
        paged_row, paged = weekly_summary_content(session, tracker, summary.id, cases_offset=offset, cases_limit=limit)
        assert paged_row == row and paged["case_count"] == 7
        assert paged["cases"] == whole["cases"][offset:offset + limit], (offset, limit)
    with pytest.raises(NotFound):  # another branch's summary, paged or not
        weekly_summary_content(session, actor_for("zj_manager"), summary.id, cases_offset=0, cases_limit=3)
