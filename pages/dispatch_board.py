"""Dispatch board: cases awaiting dispatch and who was dispatched; the call center acts from here.

Clicking a row chooses the case to act on (the act panel below, dashboard/ui/board_act.py); the
act panel opens the case detail with its own button.
"""
from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.services.dispatching.board import (
    VIEWS, BoardFilter, BoardRow, board_count, board_page, branch_options, sub_branch_options,
    tier_choices,
)
from dashboard.ui.board_act import CHOSEN, dispatch_text, render_act_panel, render_picker
from dashboard.ui.db import read_session
from dashboard.ui.format import local_time, money, tier_label, tier_text
from dashboard.ui.forms import keep_choice_offered
from dashboard.ui.review_view import apply_row_click
from dashboard.ui.risk_view import badge_text, colour_filter, colour_tones
from dashboard.ui.tones import tagged
from dashboard.ui.session import require_page
from dashboard.ui.tables import case_table, download_buttons, pager

actor = require_page("dispatch_board")
PAGE_SIZE = 50
now = clock.now()
may_act = actor.may("dispatch.act")
st.title(t("board.title"))


with read_session() as session:
    branches = dict(branch_options(session, actor))
    tiers = tier_choices(session)
    # Two rows, so that the view's and the dates' texts are not cut off.
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    c5, c6, c7, _rest = st.columns([2, 2, 2, 3])
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
    colour = colour_filter(c7, "bd_colour")
    filters = BoardFilter(view=view, branch_id=branch_id, sub_branch_id=sub_id, tier=tier,
                          reported_from=date_from, reported_to=date_to, colour=colour)
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
    """The level, and why for a compulsory-only case (T1 over 50,000 whatever the amount, docs/DOMAIN.md §3)."""
    if row.estimate is None:
        return "—"
    return tier_text(row.tier, row.compulsory_only)


frame = pd.DataFrame([{
    "case_id": r.case_id,
    t("board.col.case_no"): r.case_no,
    t("board.col.status"): t(f"board.status.{r.status}"),
    t("risk.col"): badge_text(r.risk_colour),
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
row_colours = colour_tones(r.risk_colour for r in page.rows)
if frame.empty:
    st.info(t("board.empty"))
else:
    # Widths for the columns people read first: sized by the browser alone, the level, the amount
    # and who was sent were cut off ("二级（", "¥452,325.0") beside twelve columns.
    widths = {
        t("board.col.case_no"): st.column_config.TextColumn(width=170),
        t("board.col.tier"): st.column_config.TextColumn(width=210),
        t("board.col.estimate"): st.column_config.TextColumn(width=130),
        t("board.col.dispatched"): st.column_config.TextColumn(width="large"),
        t("board.col.since"): st.column_config.TextColumn(width=110),
    }
    if may_act:
        # A row click chooses the case to act on, by its id (issue 26: it opened the case detail). The
        # table's key follows the cases it lists: when the list changes under a ticked row (the case
        # chosen moved up a tier and left the page), the tick goes rather than mark another case.
        ids = [r.case_id for r in page.rows]
        table_key = "bd_table_" + hashlib.blake2s(repr(ids).encode(), digest_size=6).hexdigest()
        # A click on any cell of a row chooses it, as does its tick box (a cell click alone only
        # framed the cell: the walk clicked a case number and nothing was chosen).
        shown, badges = tagged(frame.drop(columns=["case_id"]), {t("risk.col"): row_colours})
        event = st.dataframe(shown, key=table_key, hide_index=True, width="stretch", on_select="rerun",
                             selection_mode=["single-row", "single-cell"], column_config={**widths, **badges})
        selection = event.selection if event is not None and hasattr(event, "selection") else None
        rows = list(selection.rows) if selection is not None else []
        cell_rows = [cell[0] for cell in selection.cells] if selection is not None else []
        # Each kind of click is applied when it changes: the latest click chooses, whichever it was.
        apply_row_click(st.session_state, table_key, rows, ids, CHOSEN)
        apply_row_click(st.session_state, table_key + "_cell", cell_rows, ids, CHOSEN)
    else:  # those who only read: a row opens the case
        case_table(frame, key="bd_table", column_config=widths, tones={t("risk.col"): row_colours})
    download_buttons(frame.drop(columns=["case_id"]), "调度看板", key="bd_download", page_only=True)

if may_act:
    st.divider()
    st.subheader(t("board.act.title"))
    render_picker(actor)
    render_act_panel(actor)
