"""Weekly summary: each branch's pending tiered cases, sent by the branch tracker to HQ review every
Friday before 17:00 (分级管理办法 第四章 一.6; D6). This week's and past weeks', with export."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.services.review.weekly import (
    cutoff_moved, pending_tiered_now, refresh_current_week, submit_weekly_summary, weekly_branch_choices, weekly_summaries,
    weekly_summary_content,
)
from dashboard.ui.db import read_session
from dashboard.ui.format import local_time, money, plain, wan, tier_label
from dashboard.ui.risk_view import badge_text, colour_tones
from dashboard.ui.review_view import left_text, run_action, show_flash
from dashboard.ui.session import require_page
from dashboard.ui.tables import download_buttons, empty_note, paged, pager
from dashboard.ui.tones import RED, tagged

actor = require_page("weekly_summary")
PAGE_SIZE = 20
# The chosen summary's cases are shown a page at a time (a big branch has hundreds; colouring
# every cell of them cost more than the rest of the page) and downloaded whole.
CASES_PAGE_SIZE = 50
now = clock.now()
is_tracker = actor.may("weekly.submit")
st.title(t("review.page.weekly_summary"))
show_flash()

with read_session() as session:
    branches = dict(weekly_branch_choices(session, actor))
f1, f2 = st.columns([3, 2], vertical_alignment="bottom")
# A person of one branch gets no 全部 (it would mean the same one branch).
branch_id = f1.selectbox(t("review.filter.branch"), ([None] if len(branches) != 1 else []) + list(branches),
                         key="wk_branch", placeholder=t("common.all"),
                         format_func=lambda b: t("common.all") if b is None else branches[b])
if is_tracker:
    f2.button(t("review.wk.refresh"), key="wk_refresh", on_click=run_action, kwargs=dict(
        action=lambda s: refresh_current_week(s, actor), success=t("review.wk.refreshed")))

st.subheader(t("review.wk.list") if len(branches) != 1 else t("review.wk.list_own"))
with read_session() as session:
    _, rows = paged(lambda offset: weekly_summaries(session, actor, branch_id=branch_id, limit=PAGE_SIZE,
                                                    offset=offset),
                    PAGE_SIZE, key="wk_page", filters=branch_id)
if not rows:
    st.info(t("review.no_rows"))
    st.stop()
statuses = [r.status(now) for r in rows]
frame = pd.DataFrame({
    t("review.col.branch"): [r.branch for r in rows],
    t("review.col.week"): [r.week_start.isoformat() for r in rows],
    t("review.col.report_due"): [local_time(r.due_at) for r in rows],
    t("review.col.status"): [t(f"review.wk.status.{s}") for s in statuses],
    t("review.col.submitted_at"): [local_time(r.submitted_at) for r in rows],
    t("review.col.submitted_by"): [r.submitted_by or "—" for r in rows],
    t("review.col.cases"): [r.cases for r in rows],
    t("review.col.open_points"): [r.open_points for r in rows],
    t("review.col.overdue"): [r.overdue_deadlines for r in rows],
})
shown, tag_columns = tagged(frame, {t("review.col.status"): [RED if s in ("late", "missing") else None
                                                               for s in statuses]})
if not empty_note(shown):
    st.dataframe(shown, hide_index=True, width="stretch", key="wk_table", column_config=tag_columns)
download_buttons(frame, "weekly_summaries", key="wk_list_dl", page_only=True)

labels = {r.id: t("review.wk.option", branch=r.branch, week=r.week_start.isoformat(),
                  status=t(f"review.wk.status.{s}")) for r, s in zip(rows, statuses)}
summary_id = st.selectbox(t("review.wk.pick"), list(labels), key="wk_pick", format_func=labels.get,
                          placeholder=t("common.choose") if labels else t("common.no_options"))
# Only the shown page of the case list is read (PostgreSQL cuts it out of the document); the
# whole list is read when a download is asked for.
detail_key = f"wk_detail_page_{summary_id}"
wanted_offset = max(int(st.session_state.get(detail_key, 1)) - 1, 0) * CASES_PAGE_SIZE
with read_session() as session:
    row, content = weekly_summary_content(session, actor, summary_id, cases_offset=wanted_offset,
                                          cases_limit=CASES_PAGE_SIZE)
totals = content["totals"]
st.subheader(plain(labels[summary_id]))  # the branch's name as written (issue 18)
st.caption(t("review.wk.due", due=local_time(row.due_at), left=left_text(row.due_at, now)
             if row.submitted_at is None else t(f"review.wk.status.{row.status(now)}")))
with read_session() as session:
    moved = cutoff_moved(session, actor, row.due_at)
if moved is not None:
    st.info(t("review.wk.cutoff_moved", day=moved.configured_day.strftime("%m-%d"),
              holiday=t("review.wk.holiday_named", name=moved.holiday) if moved.holiday else t("review.wk.holiday"),
              due=local_time(row.due_at)))
st.caption(t("review.wk.as_of", at=local_time(datetime.fromisoformat(content["as_of"]))))
st.markdown(t("review.wk.totals", cases=totals["cases"], amount=wan(Decimal(totals["estimate"])),
              points=totals["open_points"], overdue=totals["overdue_deadlines"]))
case_offset = pager(content["case_count"], CASES_PAGE_SIZE, key=detail_key)
shown_cases = content["cases"]
if case_offset != wanted_offset:  # the page number was out of range and the input kept it in
    with read_session() as session:
        shown_cases = weekly_summary_content(session, actor, summary_id, cases_offset=case_offset,
                                             cases_limit=CASES_PAGE_SIZE)[1]["cases"]


def detail_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({
        t("review.col.case_no"): [c["case_no"] for c in rows],
        # Summaries built before the colours were kept have none: "—".
        t("risk.col"): [badge_text(c.get("risk_colour")) for c in rows],
        t("review.col.sub_branch"): [c["sub_branch"] for c in rows],
        t("review.col.tier"): [tier_label(c['tier']) for c in rows],
        t("review.col.state"): [t(f"state.{c['state']}") for c in rows],
        t("review.col.estimate"): [money(Decimal(c["estimate"])) if c["estimate"] else "—" for c in rows],
        t("review.col.report_time"): [local_time(datetime.fromisoformat(c["report_time"])) for c in rows],
        t("review.col.days_pending"): [c["days_pending"] for c in rows],
        t("review.col.open_points"): [c["open_points"] for c in rows],
        t("review.col.overdue"): [c["overdue_deadlines"] for c in rows],
    })


def whole_list(summary_id: int = summary_id) -> pd.DataFrame:
    with read_session() as session:
        return detail_frame(weekly_summary_content(session, actor, summary_id)[1]["cases"])


if not shown_cases:  # an empty table says "empty" in English: say it in the person's words
    st.caption(t("review.wk.no_case_list") if totals["cases"] else t("review.wk.no_cases"))
else:
    # Counts stay numbers (right-aligned, sorted as numbers): the case's overdue clocks are a count.
    detail, badges = tagged(detail_frame(shown_cases),
                            {t("risk.col"): colour_tones(c.get("risk_colour") for c in shown_cases)})
    st.dataframe(detail, hide_index=True, width="stretch", key="wk_detail_table", column_config=badges)
    download_buttons(whole_list, f"weekly_{row.branch}_{row.week_start.isoformat()}",
                     key="wk_detail_dl")

if is_tracker and row.submitted_at is None and row.branch_id in actor.branch_ids_for("branch_tracker"):
    with read_session() as session:
        live = pending_tiered_now(session, actor, row.branch_id)
    shown_at = local_time(datetime.fromisoformat(content["as_of"]))
    if now <= row.due_at:
        # Before the cut-off the summary is rebuilt as it is sent: say so, and when the draft on
        # screen is behind, by how much.
        if live != totals["cases"]:
            st.warning(t("review.wk.behind", shown=totals["cases"], at=shown_at, live=live))
        else:
            st.caption(t("review.wk.sends_current"))
    else:
        st.warning(t("review.wk.sends_snapshot", shown=totals["cases"], at=shown_at, live=live))

    def _success(sent) -> str:
        key = "review.wk.submitted_on_time" if sent.on_time else "review.wk.submitted_late"
        return t(key, cases=sent.cases, at=local_time(sent.as_of))

    st.button(t("review.wk.submit"), key="wk_submit", type="primary", on_click=run_action, kwargs=dict(
        action=lambda s, drawn=summary_id: submit_weekly_summary(s, actor, drawn), success=_success))
