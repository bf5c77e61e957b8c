"""Dispatch board: cases awaiting dispatch and who was dispatched; the call center acts from here."""
from __future__ import annotations


import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.services.dispatch import name_delegate, record_contact_attempt, record_estimate
from dashboard.services.dispatch_board import (
    ACT_ROLES, VIEWS, BoardFilter, BoardRow, board_count, board_page, branch_options, case_dispatches,
    delegate_candidates, sub_branch_options, tier_choices,
)
from dashboard.services.errors import UserError
from dashboard.ui.db import db_session
from dashboard.ui.format import local_time, money
from dashboard.ui.forms import flash_and_rerun, keep_choice_offered, show_error, show_flash
from dashboard.ui.format import tier_label
from dashboard.ui.session import require_page
from dashboard.ui.tables import case_table, download_buttons, pager

actor = require_page("dispatch_board")
PAGE_SIZE = 50
now = clock.now()
st.title(t("board.title"))
show_flash()


def dispatch_text(d) -> str:
    who = f"{d.person_name}·{t(f'position.{d.position}')}（{t(f'dispatch.contact.{d.contact_state}')}）"
    return f"{who}→{d.delegate_name}" if d.delegate_name else who


with db_session() as session:
    branches = dict(branch_options(session, actor))
    tiers = tier_choices(session)
    # Two rows, so that the view's and the dates' texts are not cut off.
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    c5, c6, _rest = st.columns([2, 2, 5])
    view = c1.selectbox(t("board.view"), VIEWS, format_func=lambda v: t(f"board.view.{v}"), key="bd_view")
    branch_id = c2.selectbox(t("board.filter.branch"), ([None] if len(branches) != 1 else []) + list(branches),
                             format_func=lambda b: t("common.all") if b is None else branches[b], key="bd_branch",
                             placeholder=t("common.all"))
    subs = dict(sub_branch_options(session, actor, branch_id))
    keep_choice_offered("bd_sub", [None, *subs])
    sub_id = c3.selectbox(t("board.filter.sub_branch"), [None] + list(subs),
                          format_func=lambda s: t("common.all") if s is None else subs[s], key="bd_sub",
                          placeholder=t("common.all"))
    tier = c4.selectbox(t("board.filter.tier"), [None] + tiers,
                        format_func=lambda c: t("common.all") if c is None else tier_label(c), key="bd_tier",
                        placeholder=t("common.all"))
    date_from = c5.date_input(t("board.filter.from"), value=None, format="YYYY-MM-DD", key="bd_from")
    date_to = c6.date_input(t("board.filter.to"), value=None, format="YYYY-MM-DD", key="bd_to")
    filters = BoardFilter(view=view, branch_id=branch_id, sub_branch_id=sub_id, tier=tier,
                          reported_from=date_from, reported_to=date_to)
    total = board_count(session, actor, filters)
    offset = pager(total, PAGE_SIZE, key="bd_page", filters=filters)
    page = board_page(session, actor, filters, limit=PAGE_SIZE, offset=offset, now=now, total=total)


def _since_text(hours: int | None) -> str:
    """Hours while they matter to the D2/D3 clocks (up to 72 h); days and hours after that."""
    if hours is None:
        return "—"
    if hours < 72:
        return t("board.hours", h=hours)
    return t("board.days_hours", d=hours // 24, h=hours % 24)


def _tier_text(row: BoardRow) -> str:
    """The level, and why for a compulsory-only case (T1 over 50,000 whatever the amount, SPEC §3)."""
    if row.estimate is None:
        return "—"
    if row.compulsory_only and row.tier != "T0":
        return t("board.tier_compulsory", tier=tier_label(row.tier))
    return tier_label(row.tier)


frame = pd.DataFrame([{
    "case_id": r.case_id,
    t("board.col.case_no"): r.case_no,
    t("board.col.status"): t(f"board.status.{r.status}"),
    t("board.col.tier"): _tier_text(r),
    t("board.col.estimate"): money(r.estimate),
    t("board.col.dispatched"): "；".join(dispatch_text(d) for d in r.dispatches) or "—",
    t("board.col.since"): _since_text(r.hours_since_dispatch),
    t("board.col.branch"): r.branch,
    t("board.col.sub_branch"): r.sub_branch,
    t("board.col.state"): t(f"state.{r.state}"),
    t("board.col.report_time"): local_time(r.report_time),
    t("board.col.surveyor"): r.surveyor,
} for r in page.rows])
if frame.empty:
    st.info(t("board.empty"))
else:
    # Widths for the columns people read first: sized by the browser alone, the level, the amount
    # and who was sent were cut off ("二级（", "¥452,325.0") beside twelve columns.
    case_table(frame, key="bd_table", column_config={
        t("board.col.case_no"): st.column_config.TextColumn(width=170),
        t("board.col.tier"): st.column_config.TextColumn(width=210),
        t("board.col.estimate"): st.column_config.TextColumn(width=130),
        t("board.col.dispatched"): st.column_config.TextColumn(width="large"),
        t("board.col.since"): st.column_config.TextColumn(width=110),
    })
    download_buttons(frame.drop(columns=["case_id"]), "调度看板", key="bd_download", page_only=True)

if actor.has_role(*ACT_ROLES) and page.rows:
    st.divider()
    st.subheader(t("board.act.title"))
    cases = {r.case_id: f"{r.case_no}（{tier_label(r.tier)}）" for r in page.rows}
    case_id = st.selectbox(t("board.act.case"), list(cases), format_func=cases.get, key="bd_act_case")
    with db_session() as session:
        dispatches = case_dispatches(session, actor, case_id)
    contact_tab, delegate_tab, retier_tab = st.tabs([t("board.act.contact"), t("board.act.delegate"),
                                                     t("board.act.retier")])
    labels = {d.dispatch_id: dispatch_text(d) for d in dispatches}
    with contact_tab:
        if not dispatches:
            st.info(t("board.act.no_dispatch"))
        else:
            with st.form("bd_contact"):
                dispatch_id = st.selectbox(t("board.act.dispatch"), list(labels), format_func=labels.get,
                                           key="bd_contact_dispatch")
                outcome = st.radio(t("board.act.outcome"), ["reached", "unreachable", "unavailable"],
                                   format_func=lambda o: t(f"board.outcome.{o}"), key="bd_outcome")
                reason = st.text_input(t("board.act.reason"), key="bd_reason")
                if st.form_submit_button(t("common.save"), type="primary"):
                    try:
                        with db_session() as session:
                            record_contact_attempt(session, actor, dispatch_id, outcome, reason=reason or None)
                    except UserError as err:
                        show_error(err)
                    else:
                        flash_and_rerun(t("board.act.saved"))
    with delegate_tab:
        absent = {k: v for k, v in labels.items()
                  if next(d for d in dispatches if d.dispatch_id == k).contact_state != "notified"}
        if not absent:
            st.info(t("board.act.no_dispatch") if not dispatches else t("board.act.no_absent"))
        else:
            dispatch_id = st.selectbox(t("board.act.dispatch"), list(absent), format_func=absent.get,
                                       key="bd_delegate_dispatch")
            with db_session() as session:
                people = dict(delegate_candidates(session, actor, dispatch_id))
            with st.form("bd_delegate"):
                person_id = st.selectbox(t("board.act.delegate_person"), list(people), format_func=people.get,
                                         key="bd_delegate_person")
                if st.form_submit_button(t("common.save"), type="primary"):
                    try:
                        with db_session() as session:
                            name_delegate(session, actor, dispatch_id, person_id)
                    except UserError as err:
                        show_error(err)
                    else:
                        flash_and_rerun(t("board.act.saved"))
    with retier_tab:
        with st.form("bd_retier"):
            amount = st.text_input(t("cases.estimate.amount"), key="bd_amount")
            note = st.text_input(t("cases.estimate.note"), key="bd_note")
            if st.form_submit_button(t("cases.estimate.submit"), type="primary"):
                try:
                    with db_session() as session:
                        result = record_estimate(session, actor, case_id, amount.strip(), note=note or None)
                except UserError as err:
                    show_error(err)
                else:
                    flash_and_rerun(t("cases.estimate.done", amount=money(result.amount),
                                      tier=tier_label(result.tier_after)))
