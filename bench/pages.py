"""Each page's data calls with its default filters (as the page makes them), and the same result
computed the naive way: whole tables read into pandas and filtered there.

A `PageBench` names the person who opens the page, `ours(session)` returns the key figure the
page shows (a count), and `naive(conn)` returns the same figure from pandas, so the run can say
whether both agree.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pandas as pd
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dashboard.services.actor import Actor, load_actor
from db.models import Person

PAGE_SIZE = 50


@dataclass
class PageBench:
    key: str
    title: str
    username: str
    ours: Callable[[Session, Actor], int]
    naive: Callable[[object, Actor, dict], int]


def actor_for(session: Session, username: str) -> Actor:
    pid = session.scalar(select(Person.id).where(Person.username == username))
    actor = load_actor(session, pid)
    assert actor is not None, username
    return actor


def _now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- dispatch board (call center)
def board_ours(session: Session, actor: Actor) -> int:
    from dashboard.services.dispatching.board import (
        BoardFilter, board_count, board_page, branch_options, sub_branch_options, tier_choices,
    )

    branch_options(session, actor)
    tier_choices(session)
    sub_branch_options(session, actor, None)
    total = board_count(session, actor, BoardFilter())
    board_page(session, actor, BoardFilter(), limit=PAGE_SIZE, offset=0, now=_now(), total=total)
    return total


def board_naive(conn, actor: Actor, ctx: dict) -> int:
    cases = pd.read_sql("SELECT id, case_no, branch_id, sub_branch_id, surveyor_id, state, tier, current_estimate, "
                        "report_time FROM claim_case", conn)
    disp = pd.read_sql("SELECT case_id, dispatched_at FROM dispatch", conn)
    cases = cases[cases.state != "closed"]
    has = cases.id.isin(disp.case_id)
    awaiting_dispatch = (cases.tier != "T0") & ~has
    awaiting_estimate = (cases.state == "reported") & cases.current_estimate.isna()
    shown = cases[awaiting_dispatch | awaiting_estimate | has].copy()
    shown["rank"] = 1
    shown.loc[has[shown.index], "rank"] = 2
    shown.loc[awaiting_dispatch[shown.index], "rank"] = 0
    shown.sort_values(["rank", "report_time", "id"], ascending=[True, False, False]).head(PAGE_SIZE)
    return len(shown)


# ---------------------------------------------------------------- overdue tracker
def overdue_ours(session: Session, actor: Actor) -> int:
    from dashboard.services.clocks.overdue import (
        OverdueFilters, branch_options, overdue_page, sub_branch_options, tracker_summary,
    )
    from dashboard.services.complaints.register import complaint_items

    now, filters = _now(), OverdueFilters()
    branch_options(session, actor)
    sub_branch_options(session, actor, None)
    # As the page: the counts, the ageing, the violations by branch and the accepted appeals in one read.
    counts = tracker_summary(session, actor, filters, now=now).counts
    overdue_page(session, actor, filters, limit=PAGE_SIZE, offset=0, now=now, counts=counts)
    # The complaints waiting too long for a return visit, below the clocks (ui/complaint_view).
    if actor.may("complaint.read"):
        complaint_items(session, actor, visit_overdue_only=True, limit=20)
    return sum(counts.values())


def overdue_naive(conn, actor: Actor, ctx: dict) -> int:
    now = pd.Timestamp(_now())
    d = pd.read_sql("SELECT * FROM deadline", conn)
    c = pd.read_sql("SELECT id, case_no, tier, sub_branch_id, branch_id FROM claim_case", conn)
    v = pd.read_sql("SELECT branch_id, kind FROM violation", conn)
    d = d[d.cancelled_at.isna()].merge(c, how="left", left_on="case_id", right_on="id", suffixes=("", "_c"))
    soon = now + pd.Timedelta(hours=24)
    overdue = d.met_at.isna() & (d.due_at < now)
    due_soon = d.met_at.isna() & (d.due_at >= now) & (d.due_at <= soon)
    met_late = d.met_at > d.due_at
    shown = d[overdue | due_soon | met_late].copy()
    shown["late"] = shown.met_at.fillna(now) - shown.due_at
    shown.sort_values("late", ascending=False).head(PAGE_SIZE)
    v.groupby(["branch_id", "kind"]).size()
    return int(overdue.sum() + due_soon.sum() + met_late.sum())


# ---------------------------------------------------------------- HQ review queue
def review_ours(session: Session, actor: Actor) -> int:
    from dashboard.services.review.queue import QueueFilters, queue_branch_choices, review_queue

    queue_branch_choices(session)
    total, _ = review_queue(session, actor, QueueFilters(), limit=PAGE_SIZE, offset=0)  # its total with it (ui paged)
    return total


def review_naive(conn, actor: Actor, ctx: dict) -> int:
    q = pd.read_sql("SELECT * FROM review_queue_entry", conn)
    c = pd.read_sql("SELECT id, case_no, branch_id, sub_branch_id, tier, state, current_estimate, tiered_at "
                    "FROM claim_case", conn)
    rows = q[q.reviewed_at.isna()].merge(c, left_on="case_id", right_on="id", suffixes=("", "_c"))
    rows.sort_values(["tiered_at", "case_id"], ascending=False).head(PAGE_SIZE)
    return len(rows)


# ---------------------------------------------------------------- branch feedback inbox + register
def inbox_ours(session: Session, actor: Actor) -> int:
    from dashboard.services.review.opinions import branch_inbox, branch_opinion, tracker_register

    # The page's defaults: only open points, pending cases; the inbox's first page read with its
    # total (ui/tables.paged), the register counted first; the answer form opens the most urgent
    # listed opinion.
    total, rows = branch_inbox(session, actor, only_open=True, case_no="", limit=PAGE_SIZE, offset=0)
    if rows:
        branch_opinion(session, actor, rows[0].opinion_id)
    registered, _ = tracker_register(session, actor, include_closed=False, case_no="", limit=0)
    tracker_register(session, actor, include_closed=False, case_no="", limit=PAGE_SIZE, offset=0, total=registered)
    return total


def inbox_naive(conn, actor: Actor, ctx: dict) -> int:
    branches = sorted(actor.branch_ids_for("branch_manager", "branch_tracker"))
    o = pd.read_sql("SELECT * FROM opinion", conn)
    p = pd.read_sql("SELECT * FROM opinion_point", conn)
    c = pd.read_sql("SELECT id, case_no, branch_id, tier, state FROM claim_case", conn)
    o = o[(o.kind == "hq_review") & o.branch_id.isin(branches)]
    rows = p.merge(o, left_on="opinion_id", right_on="id", suffixes=("", "_o")).merge(
        c, left_on="case_id", right_on="id", suffixes=("", "_c"))
    rows = rows[rows.status.isin(("open", "sent_back"))]
    rows.sort_values(["posted_at"], ascending=[False]).head(PAGE_SIZE)
    c[c.branch_id.isin(branches) & (c.tier != "T0") & (c.state != "closed")]
    return len(rows)


# ---------------------------------------------------------------- weekly summary (HQ reader)
def weekly_ours(session: Session, actor: Actor) -> int:
    from dashboard.services.review.weekly import weekly_branch_choices, weekly_summaries, weekly_summary_content

    weekly_branch_choices(session, actor)
    total, rows = weekly_summaries(session, actor, branch_id=None, limit=PAGE_SIZE, offset=0)
    if rows:
        weekly_summary_content(session, actor, rows[0].id, cases_offset=0, cases_limit=PAGE_SIZE)
    return total


def weekly_naive(conn, actor: Actor, ctx: dict) -> int:
    w = pd.read_sql("SELECT * FROM weekly_summary", conn)
    u = pd.read_sql("SELECT id, code, name FROM org_unit", conn)
    rows = w.merge(u, left_on="branch_id", right_on="id", suffixes=("", "_u"))
    rows["cases"] = rows.content.map(lambda c: c["totals"]["cases"])
    rows.sort_values(["week_start", "code"], ascending=[False, True]).head(PAGE_SIZE)
    return len(rows)


# ---------------------------------------------------------------- executive overview
def overview_filter():
    from dashboard.services.figures.overview import OverviewFilter

    today = date.today()
    return OverviewFilter(report_from=today - timedelta(days=90), report_to=today)


def overview_ours(session: Session, actor: Actor) -> int:
    from dashboard.services.figures.overview import (
        overview_cases, overview_figures, overview_tiers, overview_units,
    )

    flt = overview_filter()
    overview_units(session, actor)
    overview_tiers(session, actor)
    # Every figure, chart and the ranking in one read, as on the page.
    figures = overview_figures(session, actor, flt).headline
    # As the page: the list's count is the headline's pending figure (no second count).
    overview_cases(session, actor, flt, status="pending", limit=PAGE_SIZE, offset=0,
                   total=figures.cases_with_status("pending"))
    return figures.tiered_reported


def overview_naive(conn, actor: Actor, ctx: dict) -> int:
    from dashboard.settings import BUSINESS_TZ

    flt = overview_filter()
    start = pd.Timestamp(datetime.combine(flt.report_from, datetime.min.time(), tzinfo=BUSINESS_TZ))
    end = pd.Timestamp(datetime.combine(flt.report_to + timedelta(days=1), datetime.min.time(), tzinfo=BUSINESS_TZ))
    c = pd.read_sql("SELECT id, branch_id, tier, state, current_estimate, report_time FROM claim_case", conn)
    d = pd.read_sql("SELECT case_id, kind, due_at, met_at, cancelled_at FROM deadline", conn)
    v = pd.read_sql("SELECT case_id, kind, found_at FROM violation", conn)
    e = pd.read_sql("SELECT case_id, recorded_at, tier_after FROM estimate", conn)
    sel = c[(c.tier != "T0") & (c.report_time >= start) & (c.report_time < end)]
    pending = sel[sel.state != "closed"]
    pending.groupby(["branch_id", "tier"]).agg(n=("id", "size"), amount=("current_estimate", "sum"))
    dd = d[d.case_id.isin(sel.id) & d.cancelled_at.isna()]
    for kind in ("D2", "D3"):
        k = dd[dd.kind == kind]
        (k.met_at <= k.due_at).sum()
    v[v.case_id.isin(sel.id)].groupby("kind").size()
    e[e.case_id.isin(sel.id) & (e.tier_after != "T0")].groupby("case_id").recorded_at.min()
    return len(sel)


def overview_list_ours(session: Session, actor: Actor) -> int:
    """The overview with the list behind a figure opened (到场及时率 D2: the decided D2 clocks of the
    period's cases), as the page reads it: the figures, then the list's first page."""
    from dashboard.services.figures.overview import Drill, drill_figure_count, overview_drill_rows, overview_figures

    flt = overview_filter()
    figures = overview_figures(session, actor, flt)
    # As the page: the list's count is its figure's (no second count).
    total = drill_figure_count(figures, Drill("d2"))
    overview_drill_rows(session, actor, flt, Drill("d2"), limit=PAGE_SIZE, offset=0, total=total)
    return total


def overview_list_naive(conn, actor: Actor, ctx: dict) -> int:
    from dashboard.settings import BUSINESS_TZ

    flt = overview_filter()
    start = pd.Timestamp(datetime.combine(flt.report_from, datetime.min.time(), tzinfo=BUSINESS_TZ))
    end = pd.Timestamp(datetime.combine(flt.report_to + timedelta(days=1), datetime.min.time(), tzinfo=BUSINESS_TZ))
    now = pd.Timestamp.now(tz="UTC")
    c = pd.read_sql("SELECT id, tier, report_time FROM claim_case", conn)
    d = pd.read_sql("SELECT id, case_id, kind, due_at, met_at, cancelled_at FROM deadline WHERE kind = 'D2'", conn)
    sel = c[(c.tier != "T0") & (c.report_time >= start) & (c.report_time < end)]
    dd = d[d.case_id.isin(sel.id) & d.cancelled_at.isna() & (d.met_at.notna() | (d.due_at < now))]
    dd.sort_values(["due_at", "id"], ascending=False).head(PAGE_SIZE)
    return len(dd)


# ---------------------------------------------------------------- landing page (national)
def home_ours(session: Session, actor: Actor) -> int:
    from dashboard.services.figures.home import home_figures, my_open_tasks, unit_names

    unit_names(session, actor)
    my_open_tasks(session, actor)  # the person's own open clocks, listed under the figures
    return home_figures(session, actor).pending


def home_naive(conn, actor: Actor, ctx: dict) -> int:
    c = pd.read_sql("SELECT state, tier, current_estimate FROM claim_case", conn)
    pending = c[c.state != "closed"]
    pending[pending.tier != "T0"].current_estimate.sum()
    return len(pending)


# ---------------------------------------------------------------- people and accounts (HQ admin)
def people_ours(session: Session, actor: Actor) -> int:
    from dashboard.services.admin.people import open_cases, people

    page = people(session, actor, limit=PAGE_SIZE)
    total = page.total
    if page.rows:  # the admin picks the first person: their pending cases are weighed before disabling
        open_cases(session, actor, page.rows[0].id)
    return total


def people_naive(conn, actor: Actor, ctx: dict) -> int:
    p = pd.read_sql("SELECT id, username, active FROM person", conn)
    r = pd.read_sql("SELECT person_id, role, unit_id FROM role_assignment", conn)
    p.merge(r, left_on="id", right_on="person_id", how="left").sort_values(["active", "username"]).head(PAGE_SIZE)
    return len(p)


# ---------------------------------------------------------------- major cases (HQ reviewer)
def major_ours(session: Session, actor: Actor) -> int:
    from dashboard.services.cases.major import catastrophes, major_cases

    catastrophes(session, actor)
    total, _ = major_cases(session, actor, limit=PAGE_SIZE)
    return total


def major_naive(conn, actor: Actor, ctx: dict) -> int:
    c = pd.read_sql("SELECT id, is_major, state, major_flagged_at FROM claim_case", conn)
    major = c[c.is_major & (c.state != "closed")]
    major.sort_values("major_flagged_at", ascending=False).head(PAGE_SIZE)
    return len(major)


# ---------------------------------------------------------------- 我的消息 and 违规申诉 (issue 22)
def messages_ours(session: Session, actor: Actor) -> int:
    from dashboard.services.messages import my_messages, unread_count

    unread_count(session, actor)
    total, _ = my_messages(session, actor, limit=PAGE_SIZE)
    return total


def messages_naive(conn, actor: Actor, ctx: dict) -> int:
    n = pd.read_sql("SELECT id, recipient_person_id, read_at FROM notification", conn)
    mine = n[n.recipient_person_id == actor.person_id]
    mine.assign(unread=mine.read_at.isna()).sort_values(["unread", "id"], ascending=False).head(PAGE_SIZE)
    return len(mine)


def appeals_ours(session: Session, actor: Actor) -> int:
    from dashboard.services.clocks.appeals import exempted_count, my_violations, pending_appeals

    my_violations(session, actor, limit=PAGE_SIZE)
    total, _ = pending_appeals(session, actor, limit=PAGE_SIZE)
    exempted_count(session, actor)
    return total


def appeals_naive(conn, actor: Actor, ctx: dict) -> int:
    v = pd.read_sql("SELECT id, person_id, found_at FROM violation", conn)
    a = pd.read_sql("SELECT id, violation_id, status, filed_at FROM violation_appeal", conn)
    v[v.person_id == actor.person_id].sort_values("found_at", ascending=False).head(PAGE_SIZE)
    pending = a[a.status == "pending"]
    pending.sort_values("filed_at").head(PAGE_SIZE)
    int((a.status == "accepted").sum())
    return len(pending)


def deliveries_ours(session: Session, actor: Actor) -> int:
    from dashboard.services.delivery.admin import delivery_counts, troubled_messages

    delivery_counts(session, actor)
    total, _ = troubled_messages(session, actor, limit=0)
    troubled_messages(session, actor, limit=PAGE_SIZE, total=total)
    return total


def deliveries_naive(conn, actor: Actor, ctx: dict) -> int:
    n = pd.read_sql("SELECT id, state, channel, last_error, next_attempt_at FROM notification", conn)
    n[n.state.isin(["queued", "held", "failed"])].groupby(["state", "channel"], dropna=False).size()
    troubled = n[n.last_error.notna() & n.state.isin(["queued", "failed"])]
    troubled.sort_values(["next_attempt_at", "id"]).head(PAGE_SIZE)
    return len(troubled)


# ---------------------------------------------------------------- exec supervision (key branches)
def supervision_ours(session: Session, actor: Actor) -> int:
    from dashboard.services.review.queue import queue_branch_choices
    from dashboard.services.review.supervision import followed_cases

    queue_branch_choices(session)
    query = dict(include_closed=False, branch_id=None, case_no="")
    total, _ = followed_cases(session, actor, **query, limit=0)
    followed_cases(session, actor, **query, limit=PAGE_SIZE, offset=0, total=total)
    return total


def supervision_naive(conn, actor: Actor, ctx: dict) -> int:
    c = pd.read_sql("SELECT id, branch_id, tier, state, tiered_at FROM claim_case", conn)
    d = pd.read_sql("SELECT case_id, kind, due_at, met_at, cancelled_at FROM deadline", conn)
    n = pd.read_sql("SELECT case_id, posted_at FROM progress_note", conn)
    rows = c[(c.tier != "T0") & (c.state != "closed") & c.branch_id.isin(actor.supervised_branch_ids)]
    open_d7 = d[(d.kind == "D7") & d.met_at.isna() & d.cancelled_at.isna()].groupby("case_id").due_at.min()
    rows = rows.merge(open_d7.rename("due"), left_on="id", right_index=True, how="left")
    rows = rows.merge(n.groupby("case_id").posted_at.max().rename("last"), left_on="id", right_index=True, how="left")
    rows.sort_values(["due", "tiered_at"], ascending=[True, False]).head(PAGE_SIZE)
    return len(rows)


# ---------------------------------------------------------------- special cases (branch GM, HQ reviewer)
def _last_12_months() -> tuple[date, date]:
    today = date.today()
    return today - timedelta(days=365), today


def _analysis_window() -> tuple[date, date]:
    """The complaints analysis tab's default dates (ui/complaint_view.render_analysis)."""
    today = date.today()
    return today - timedelta(days=180), today


def special_ours(session: Session, actor: Actor) -> int:
    """As the page for an approver: the list (its first page with its total), the requests waiting for the
    person, the first request opened, the periodic report (last 12 months, by month and sub-branch)."""
    from dashboard.services.special_cases.approvals import special_cases, special_detail
    from dashboard.services.special_cases.report import special_report
    from dashboard.settings import SPECIAL_APPROVER_POSITIONS

    total, rows = special_cases(session, actor, limit=PAGE_SIZE, offset=0)
    if any(a.role == "first_responsible" and a.position in SPECIAL_APPROVER_POSITIONS.values()
           for a in actor.assignments):  # the page opens an approver's list on what waits for them
        _, waiting = special_cases(session, actor, mine_only=True, limit=PAGE_SIZE, offset=0)
        rows = waiting or rows
    if rows:
        special_detail(session, actor, rows[0].id)
    date_from, date_to = _last_12_months()
    special_report(session, actor, date_from=date_from, date_to=date_to, period="month", by="sub_branch")
    return total


def special_naive(conn, actor: Actor, ctx: dict) -> int:
    from dashboard.settings import BUSINESS_TZ, SPECIAL_APPROVER_POSITIONS, SUB_BRANCH_APPROVAL_LEVELS

    s = pd.read_sql("SELECT * FROM special_case", conn)
    c = pd.read_sql("SELECT id, case_no, branch_id, sub_branch_id, surveyor_id FROM claim_case", conn)
    u = pd.read_sql("SELECT id, name FROM org_unit", conn)
    p = pd.read_sql("SELECT id, full_name FROM person", conn)
    a = pd.read_sql("SELECT * FROM special_approval", conn)
    if not actor.is_national:
        d = pd.read_sql("SELECT case_id FROM dispatch WHERE person_id = %(me)s OR delegate_person_id = %(me)s", conn,
                        params={"me": actor.person_id})
        seen = (c.branch_id.isin(list(actor.visible_branch_ids))
                | c.sub_branch_id.isin(list(actor.visible_sub_branch_ids))
                | (c.surveyor_id == actor.person_id) | c.id.isin(d.case_id))
        s = s[s.case_id.isin(c.id[seen])]
    rows = (s.merge(c, left_on="case_id", right_on="id", suffixes=("", "_c"))
            .merge(u, left_on="branch_id", right_on="id", suffixes=("", "_b"))
            .merge(p, left_on="raised_by", right_on="id", suffixes=("", "_p")))
    rows = rows.sort_values(["raised_at", "id"], ascending=False)
    rows.head(PAGE_SIZE)

    def waiting_for_me(row) -> bool:
        if row.status != "pending":
            return False
        level = row.chain[row.next_level]
        unit = (row.sub_branch_id if level in SUB_BRANCH_APPROVAL_LEVELS else row.branch_id)
        return any(x.role == "first_responsible" and x.position == SPECIAL_APPROVER_POSITIONS[level]
                   and x.unit_id == unit for x in actor.assignments)

    mine = rows[rows.apply(waiting_for_me, axis=1)] if len(rows) else rows
    first = mine if len(mine) else rows
    if len(first):
        a[a.special_case_id == first.iloc[0]["id"]]
    date_from, _ = _last_12_months()
    local = rows.raised_at.dt.tz_convert(BUSINESS_TZ)
    recent = rows[local.dt.date >= date_from].assign(month=local.dt.strftime("%Y-%m"))
    recent.groupby(["month", "sub_branch_id", "status"]).requested_amount.sum()
    return len(rows)


# ---------------------------------------------------------------- complaints register (HQ reviewer)
def complaints_ours(session: Session, actor: Actor) -> int:
    """As the page: the register (its default: open items; its first page with its total), the first item
    opened, and the analysis tab as it opens (the last 180 days by month and kind; the detail table
    behind its download is read only when downloaded). The return visits overdue are the tracker's
    section (overdue_ours reads them), not this page's."""
    from dashboard.services.complaints.analysis import DIMENSIONS, counts_by
    from dashboard.services.complaints.register import complaint_items, item_detail

    now = _now()
    total, rows = complaint_items(session, actor, open_only=True, limit=PAGE_SIZE, offset=0, now=now)
    if rows:
        item_detail(session, actor, rows[0].id, now=now)
    date_from, date_to = _analysis_window()
    counts_by(session, actor, DIMENSIONS[0], date_from=date_from, date_to=date_to)
    return total


def complaints_naive(conn, actor: Actor, ctx: dict) -> int:
    from dashboard.settings import BUSINESS_TZ

    i = pd.read_sql("SELECT * FROM complaint_item", conn)
    c = pd.read_sql("SELECT id, case_no FROM claim_case", conn)
    u = pd.read_sql("SELECT id, name FROM org_unit", conn)
    p = pd.read_sql("SELECT id, full_name FROM person", conn)
    st = pd.read_sql("SELECT * FROM complaint_step", conn)
    if not actor.is_national:
        i = i[i.branch_id.isin(list(actor.visible_branch_ids)) | i.sub_branch_id.isin(list(actor.visible_sub_branch_ids))
              | (i.assignee_id == actor.person_id)]
    rows = (i.merge(c, how="left", left_on="case_id", right_on="id", suffixes=("", "_c"))
            .merge(u, left_on="branch_id", right_on="id", suffixes=("", "_b"))
            .merge(p, how="left", left_on="assignee_id", right_on="id", suffixes=("", "_p")))
    open_rows = rows[rows.step != "archived"].sort_values(["registered_at", "id"], ascending=False)
    first = open_rows.head(PAGE_SIZE)
    if len(first):
        st[st.item_id == first.iloc[0]["id"]].sort_values(["at", "id"])
    date_from, _ = _analysis_window()
    local = rows.registered_at.dt.tz_convert(BUSINESS_TZ)
    recent = rows[local.dt.date >= date_from].assign(month=local.dt.strftime("%Y-%m"))
    recent.groupby(["month", "kind"]).size()
    return len(open_rows)


# ---------------------------------------------------------------- quality scorecard (executive)
SCORECARD_TREND_KEY = "stale_pending_rate"  # the indicator the branch card opens: its trend and its cases


def _scorecard_period(kind: str) -> date:
    from dashboard.rules.scorecard import period_start
    from dashboard.settings import BUSINESS_TZ

    return period_start(kind, _now().astimezone(BUSINESS_TZ).date())


def scorecard_ours(session: Session, actor: Actor) -> int:
    """As the page opened on the quarter: the ranking, the first branch's card with the stale-pending
    indicator picked — its trend over 6 quarters, the count of the cases behind it and their first page."""
    from dashboard.services import reference
    from dashboard.services.scorecard.card import indicator_trend, scorecards
    from dashboard.services.scorecard.computed import cases_behind

    start = _scorecard_period("quarter")
    cards = scorecards(session, actor, "quarter", start)
    branch = cards[0].branch_id
    reference.rule_settings(session)["scorecard.stale_days"]  # as the page
    indicator_trend(session, actor, "quarter", start, branch, SCORECARD_TREND_KEY, periods=6)
    total, _ = cases_behind(session, actor, "quarter", start, branch, SCORECARD_TREND_KEY, limit=0)
    cases_behind(session, actor, "quarter", start, branch, SCORECARD_TREND_KEY, limit=PAGE_SIZE, offset=0,
                 total=total)
    return total


def scorecard_year_ours(session: Session, actor: Actor) -> int:
    """The ranking for the year; the figure: Σ of the branches' totals, in tenths of a point."""
    from dashboard.services.scorecard.card import scorecards

    cards = scorecards(session, actor, "year", _scorecard_period("year"))
    return int(round(sum(c.total for c in cards) * 10))


def _scorecard_tables(conn) -> dict:
    import json

    cases = pd.read_sql("SELECT id, branch_id, business_line, report_time, closed_at, current_estimate, paid_amount, "
                        "first_estimate, first_estimated_at, zero_closed, forced_registration, reopen_count "
                        "FROM claim_case", conn)
    money = ["current_estimate", "paid_amount", "first_estimate"]
    cases[money] = cases[money].astype(float)
    return dict(
        cases=cases,
        fin=pd.read_sql("SELECT * FROM branch_financials", conn),
        rules=pd.read_sql("SELECT * FROM scorecard_indicator ORDER BY position", conn),
        branches=pd.read_sql("SELECT id, name FROM org_unit WHERE level = 'branch'", conn),
        settings={k: json.loads(v) for k, v in conn.execute(text(
            "SELECT key, value::text FROM rule_setting WHERE key LIKE 'scorecard.%'")).all()},
    )


def _scorecard_window(t: dict, kind: str, start: date) -> dict:
    from dashboard.rules.scorecard import period_end
    from dashboard.settings import BUSINESS_TZ

    def moment(day: date) -> pd.Timestamp:
        return pd.Timestamp(datetime.combine(day, datetime.min.time()), tz=BUSINESS_TZ)

    end = moment(period_end(kind, start))
    return dict(start=moment(start), end=end, year_start=moment(date(start.year, 1, 1)),
                # a running period's stale cases count back from now (services/scorecard/computed)
                stale_before=min(end, pd.Timestamp(_now())) - pd.Timedelta(days=int(t["settings"]["scorecard.stale_days"])),
                small=float(t["settings"]["scorecard.small_claim"]))


def _scorecard_masks(c: pd.DataFrame, w: dict) -> dict:
    closed = c.closed_at.notna()
    closed_in = closed & (c.closed_at >= w["start"]) & (c.closed_at < w["end"])
    paid = closed_in & (c.paid_amount > 0)
    cohort = (c.report_time >= w["year_start"]) & (c.report_time < w["end"])
    cohort_closed = cohort & closed & (c.closed_at < w["end"])
    return dict(closed_in=closed_in, paid=paid, motor=c.business_line == "motor", small=paid & (c.paid_amount <= w["small"]),
                reported_in=(c.report_time >= w["start"]) & (c.report_time < w["end"]),
                pending_end=(c.report_time < w["end"]) & (~closed | (c.closed_at >= w["end"])),
                pending_start=(c.report_time < w["start"]) & (~closed | (c.closed_at >= w["start"])),
                cohort=cohort, cohort_closed=cohort_closed)


def _scorecard_values(t: dict, w: dict, branch_ids) -> dict:
    """The computed indicators per branch, from the whole case table in pandas (computed.py's definitions)."""
    c = t["cases"]
    c = c[c.branch_id.isin(branch_ids) & (c.report_time < w["end"])
          & (c.closed_at.isna() | (c.closed_at >= min(w["start"], w["year_start"])))]
    k = _scorecard_masks(c, w)

    def ratio(num, den):
        return None if num is None or pd.isna(num) or not den else num / den * 100

    out = {}
    for branch, g in c.groupby("branch_id"):
        m = {name: mask.loc[g.index] for name, mask in k.items()}
        est, paid = g.current_estimate[m["paid"]], g.paid_amount[m["paid"]]
        first = m["paid"] & g.first_estimate.notna()
        big_motor = m["paid"] & m["motor"] & (g.paid_amount > w["small"])
        transfer = m["small"] & m["motor"] & g.first_estimated_at.notna()
        zero = m["reported_in"] & m["motor"] & g.zero_closed
        cohort_paid = g.paid_amount[m["cohort_closed"]].sum()
        cohort_pending = g.current_estimate[m["cohort"] & ~m["cohort_closed"]].sum()
        out[branch] = {
            "reserve_adequacy": ratio(est.sum() if est.notna().any() else None, paid.sum()),
            "first_estimate_deviation": ratio((g.first_estimate[first] - g.paid_amount[first]).abs().sum()
                                              if first.any() else None, g.paid_amount[first].sum()),
            "motor_avg_paid_over_10k": g.paid_amount[big_motor].mean() if big_motor.any() else None,
            "stale_pending_rate": ratio((m["pending_end"] & (g.report_time < w["stale_before"])).sum(),
                                        m["pending_end"].sum()),
            "forced_registration_rate": ratio((m["reported_in"] & g.forced_registration).sum(), m["reported_in"].sum()),
            "motor_zero_reopen_rate": ratio((zero & (g.reopen_count > 0)).sum(), zero.sum()),
            "small_cycle_days": (g.closed_at - g.report_time)[m["small"]].dt.total_seconds().mean() / 86400
            if m["small"].any() else None,
            "motor_small_transfer_days": (g.closed_at - g.first_estimated_at)[transfer].dt.total_seconds().mean()
            / 86400 if transfer.any() else None,
            "handling_rate": ratio(m["closed_in"].sum(), m["pending_start"].sum() + m["reported_in"].sum()),
            "count_closure_rate": ratio(m["cohort_closed"].sum(), m["cohort"].sum()),
            "amount_closure_rate": ratio(cohort_paid, cohort_paid + cohort_pending) if m["cohort"].any() else None,
        }
    return out


def _scorecard_cards(t: dict, kind: str, start: date) -> list[tuple[float, str, int]]:
    """(total, branch, id) for every branch, best first, scored by rules/scorecard."""
    from decimal import Decimal

    from dashboard.rules.scorecard import IndicatorRule, loss_ratio_pct, points, score_pct
    from dashboard.services.scorecard.card import ENTERED_VALUE
    from db.models import FINANCIAL_MONEY

    def dec(v):
        return None if v is None or pd.isna(v) else Decimal(str(v))

    rules = [IndicatorRule(r.key, r.group_key, dec(r.weight_pct), r.source, r.scoring, dec(r.full_value),
                           dec(r.zero_value), dec(r.target), r.unit) for r in t["rules"].itertuples()]
    values = _scorecard_values(t, _scorecard_window(t, kind, start), list(t["branches"].id))
    fin = t["fin"][(t["fin"].period_kind == kind) & (t["fin"].period_start == start)].set_index("branch_id")
    cards = []
    for b in t["branches"].itertuples():
        row = fin.loc[b.id] if b.id in fin.index else None
        total = Decimal(0)
        for rule in rules:
            budget = None
            if rule.key == "loss_ratio":
                figures = None if row is None else {n: dec(row[n]) for n in FINANCIAL_MONEY}
                value = None if figures is None or None in figures.values() else loss_ratio_pct(**figures)
                budget = None if row is None else dec(row["loss_ratio_budget_pct"])
            elif rule.source == "entered":
                value = None if row is None else dec(row[ENTERED_VALUE[rule.key]])
            else:
                value = dec(values.get(b.id, {}).get(rule.key))
            total += points(rule, score_pct(rule, value, budget_pct=budget))
        cards.append((total, b.name, b.id))
    return sorted(cards, key=lambda c: (-c[0], c[1]))


def scorecard_naive(conn, actor: Actor, ctx: dict) -> int:
    from dashboard.rules.scorecard import previous_periods

    t = _scorecard_tables(conn)
    start = _scorecard_period("quarter")
    branch = _scorecard_cards(t, "quarter", start)[0][2]
    for period in previous_periods("quarter", start, 6):  # the trend: the branch's value each quarter
        _scorecard_values(t, _scorecard_window(t, "quarter", period), [branch])
    w = _scorecard_window(t, "quarter", start)
    c = t["cases"][t["cases"].branch_id == branch]
    stale = c[_scorecard_masks(c, w)["pending_end"] & (c.report_time < w["stale_before"])]
    (w["end"] - stale.report_time).sort_values(ascending=False).head(PAGE_SIZE)
    return len(stale)


def scorecard_year_naive(conn, actor: Actor, ctx: dict) -> int:
    cards = _scorecard_cards(_scorecard_tables(conn), "year", _scorecard_period("year"))
    return int(round(sum(total for total, _, _ in cards) * 10))


# ---------------------------------------------------------------- case detail
def detail_ours(session: Session, actor: Actor, case_id: int) -> int:
    from dashboard.services.cases.detail import case_detail

    return len(case_detail(session, actor, case_id).timeline)


def detail_naive(conn, actor: Actor, ctx: dict) -> int:
    """The timeline's entries counted from whole tables filtered in pandas (same sources as the service)."""
    from dashboard.services.cases.detail import COVERED_EVENT_KINDS

    case_id = ctx["case_id"]

    def rows(table: str, cols: str = "*") -> pd.DataFrame:
        return pd.read_sql(f"SELECT {cols} FROM {table}", conn)

    def of_case(table: str, cols: str = "*") -> pd.DataFrame:
        frame = rows(table, cols)
        return frame[frame.case_id == case_id]

    dispatches = of_case("dispatch")
    deadlines = of_case("deadline")
    opinions = of_case("opinion")
    points = rows("opinion_point")
    points = points[points.opinion_id.isin(opinions.id)]
    answers = rows("point_answer")
    verdicts = rows("point_verdict")
    events = of_case("case_event")
    return int(1 + len(of_case("estimate")) + len(dispatches) + dispatches.arrived_at.notna().sum()
               + len(of_case("contact_attempt")) + len(of_case("upload", "id, case_id, kind, uploaded_at"))
               + deadlines.met_at.notna().sum() + len(of_case("violation")) + len(opinions)
               + answers.point_id.isin(points.id).sum() + verdicts.point_id.isin(points.id).sum()
               + len(of_case("progress_note")) + len(of_case("notification"))
               + (~events.kind.isin(COVERED_EVENT_KINDS)).sum())


def rich_case_id(session: Session) -> int:
    """A pending tiered case with a full thread: dispatch, opinion with answers, progress notes."""
    found = session.execute(text("""
        SELECT c.id FROM claim_case c JOIN opinion o ON o.case_id = c.id AND o.kind = 'hq_review'
         WHERE c.tier = 'T2' AND c.state <> 'closed'
           AND EXISTS (SELECT 1 FROM progress_note n WHERE n.case_id = c.id)
         ORDER BY c.id DESC LIMIT 1""")).scalar()
    return found or session.execute(text("SELECT max(id) FROM claim_case WHERE tier <> 'T0'")).scalar() or 0


def page_benches(session: Session) -> tuple[list[PageBench], dict]:
    branch_manager = session.scalar(text("SELECT username FROM person WHERE username LIKE 'b%\\_manager' "
                                         "ORDER BY username LIMIT 1")) or "gd_manager"
    branch_gm = session.scalar(text("SELECT username FROM person WHERE username LIKE 'b%\\_gm' "
                                    "ORDER BY username LIMIT 1")) or "gd_gm"
    case_id = rich_case_id(session)
    return [
        PageBench("home", "首页 landing page figures + own open clocks", "executive", home_ours, home_naive),
        PageBench("dispatch_board", "调度看板 dispatch board", "callcenter", board_ours, board_naive),
        PageBench("overdue", "超时跟踪 overdue tracker", "callcenter", overdue_ours, overdue_naive),
        PageBench("hq_review", "总公司审核队列 review queue", "reviewer", review_ours, review_naive),
        PageBench("branch_feedback", "分公司反馈 branch inbox + register", branch_manager, inbox_ours, inbox_naive),
        PageBench("weekly_summary", "周报 weekly summary", "executive", weekly_ours, weekly_naive),
        PageBench("supervision", "执委督导 followed cases (exec supervisor)", "supervisor", supervision_ours,
                  supervision_naive),
        PageBench("overview", "管理总览 executive overview (figures + charts + list)", "executive", overview_ours,
                  overview_naive),
        PageBench("overview_list", "管理总览 with a figure's list opened (D2 clocks)", "executive",
                  overview_list_ours, overview_list_naive),
        PageBench("major_cases", "重大案件 major cases (HQ reviewer)", "reviewer", major_ours, major_naive),
        PageBench("people", "人员与账号 people and accounts (HQ admin)", "admin", people_ours, people_naive),
        PageBench("messages", "我的消息 own messages, unread first (HQ reviewer)", "reviewer", messages_ours,
                  messages_naive),
        PageBench("appeals", "违规申诉 own violations, appeals to decide, exempted (HQ admin)", "admin", appeals_ours,
                  appeals_naive),
        PageBench("deliveries", "消息投递 messages not delivered yet, failed and retrying (HQ admin)", "admin",
                  deliveries_ours, deliveries_naive),
        PageBench("special_cases", "特殊赔案 special cases (branch GM: list, waiting for me, one request, report)",
                  branch_gm, special_ours, special_naive),
        PageBench("special_cases_hq", "特殊赔案 special cases (HQ reviewer: list, one request, report)", "reviewer",
                  special_ours, special_naive),
        PageBench("complaints", "投诉纠纷疑难 register, one item, visits overdue, analysis (HQ reviewer)", "reviewer",
                  complaints_ours, complaints_naive),
        PageBench("scorecard", "理赔质量考核 quarter: ranking, first branch's stale-pending trend (6) and cases",
                  "executive", scorecard_ours, scorecard_naive),
        PageBench("scorecard_year", "理赔质量考核 year: ranking", "executive", scorecard_year_ours, scorecard_year_naive),
        PageBench("case_detail", f"案件详情 case detail (case {case_id})", "executive",
                  lambda s, a: detail_ours(s, a, case_id), detail_naive),
    ], {"case_id": case_id}
