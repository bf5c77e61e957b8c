"""Major cases (车险理赔重大案管理办法): every major case HQ and the branch follow, with its reason and
named owner; catastrophe events (a typhoon, a flood) and the cases tagged to them.

A row opens the case, where its owner is named or changed. HQ creates a catastrophe event and tags
many cases to it at once by pasting their numbers."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.services.cases.major import (
    CATASTROPHE_KINDS, REASONS, TagResult, catastrophes, create_catastrophe, major_cases, tag_catastrophe,
)
from dashboard.ui.db import read_session
from dashboard.ui.format import local_time, money, tier_label
from dashboard.ui.forms import ANY_DAY, run_write, set_outcome, show_outcome
from dashboard.ui.risk_view import badge_text, colour_filter, colour_tones
from dashboard.ui.session import require_page
from dashboard.ui.tables import case_table, download_buttons, paged

actor = require_page("major_cases")
PAGE_SIZE = 50
st.title(t("page.major_cases"))
st.caption(t("major.caption"))

with read_session() as session:
    events = catastrophes(session, actor)
event_names = {e.id: e.name for e in events}

f1, f2, f4, f3 = st.columns([2, 3, 2, 2], vertical_alignment="bottom")
reason = f1.selectbox(t("major.filter.reason"), [None, *REASONS], key="mj_reason", placeholder=t("common.all"),
                      format_func=lambda r: t("common.all") if r is None else t(f"major.reason.{r}"))
event_id = f2.selectbox(t("major.filter.catastrophe"), [None, *event_names], key="mj_event",
                        placeholder=t("common.all"),
                        format_func=lambda e: t("common.all") if e is None else event_names[e])
colour = colour_filter(f4, "mj_colour")
pending_only = f3.toggle(t("major.filter.pending"), value=True, key="mj_pending")
query = dict(reason=reason, event_id=event_id, pending_only=pending_only, colour=colour)

with read_session() as session:
    _, rows = paged(lambda offset: major_cases(session, actor, **query, limit=PAGE_SIZE, offset=offset),
                    PAGE_SIZE, key="mj_page", filters=query)
frame = pd.DataFrame({
    "case_id": [r.case_id for r in rows],
    t("major.col.case_no"): [r.case_no for r in rows],
    t("risk.col"): [badge_text(r.risk_colour) for r in rows],
    t("major.col.reason"): [t(f"major.reason.{r.reason}") for r in rows],
    t("major.col.catastrophe"): [r.catastrophe or "—" for r in rows],
    t("major.col.owner"): [r.owner or t("major.no_owner") for r in rows],
    t("major.col.branch"): [r.branch for r in rows],
    t("major.col.tier"): [tier_label(r.tier) for r in rows],
    t("major.col.estimate"): [money(r.estimate) for r in rows],
    t("major.col.state"): [t(f"state.{r.state}") for r in rows],
    t("major.col.flagged_at"): [local_time(r.flagged_at) for r in rows],
})
case_table(frame, key="mj_table", tones={t("risk.col"): colour_tones(r.risk_colour for r in rows)})
if rows:
    download_buttons(frame.drop(columns=["case_id"]), "major_cases", key="mj_dl", page_only=True)

st.subheader(t("major.catastrophes"))
if events:
    st.dataframe(pd.DataFrame({
        t("major.col.catastrophe"): [e.name for e in events],
        t("major.col.kind"): [t(f"major.kind.{e.kind}") for e in events],
        t("major.col.occurred_on"): [e.occurred_on.isoformat() for e in events],
        t("major.col.region"): [e.region or "—" for e in events],
        t("major.col.cases"): [e.cases for e in events],
    }), hide_index=True, width="stretch")
else:
    st.caption(t("major.no_catastrophes"))

if not actor.may("catastrophe.manage"):
    st.stop()

show_outcome("major_catastrophe")
left, right = st.columns(2)
with left.form("mj_new_event", clear_on_submit=False):
    st.markdown(f"**{t('major.new_event')}**")
    st.text_input(t("major.field.catastrophe_name"), key="mj_ev_name", max_chars=100,
                  placeholder=t("major.name_hint"))
    st.selectbox(t("major.field.catastrophe_kind"), CATASTROPHE_KINDS, key="mj_ev_kind",
                 format_func=lambda k: t(f"major.kind.{k}"))
    st.date_input(t("major.field.catastrophe_on"), value=None, format="YYYY-MM-DD", key="mj_ev_on", **ANY_DAY)
    st.text_input(t("major.field.catastrophe_region"), key="mj_ev_region", max_chars=100)


    def _clear_event_form(s) -> None:
        """Every field back to its start once an event is registered: a kind or date left from the last
        event was easily taken for the next one's."""
        s.update({"mj_ev_name": "", "mj_ev_region": "", "mj_ev_on": None, "mj_ev_kind": CATASTROPHE_KINDS[0]})

    def _create() -> None:
        s = st.session_state
        run_write(lambda db: create_catastrophe(db, actor, s.get("mj_ev_name") or "", s.get("mj_ev_kind"),
                                                s.get("mj_ev_on"), s.get("mj_ev_region")),
                  lambda view: t("major.event_created", name=view.name), slot="major_catastrophe",
                  heading_key="major.not_saved",
                  on_success=lambda _v: _clear_event_form(s))

    st.form_submit_button(t("major.create_event"), type="primary", on_click=_create)

with right.form("mj_tag", clear_on_submit=False):
    st.markdown(f"**{t('major.tag_cases')}**")
    st.selectbox(t("major.field.catastrophe"), list(event_names), key="mj_tag_event", index=None,
                 format_func=event_names.get, placeholder=t("major.pick_event"))
    st.text_area(t("major.field.case_nos"), key="mj_tag_numbers", height=120, placeholder=t("major.case_nos_hint"))


    def _tag() -> None:
        s = st.session_state
        chosen = s.get("mj_tag_event")
        if chosen is None:
            set_outcome("major_catastrophe", "error", f"{t('major.field.catastrophe')}：{t('major.pick_event')}")
            return

        def said(result: TagResult) -> tuple[str, str]:
            text = t("major.tagged", n=len(result.tagged), name=event_names[chosen])
            if result.already:  # "0 件此前已关联" said nothing
                text += t("major.tagged_already", already=len(result.already))
            if result.not_found:
                text += "\n\n" + t("major.not_found", numbers="、".join(result.not_found[:20]),
                                   n=len(result.not_found))
            return ("success" if result.tagged else "info"), text

        run_write(lambda db: tag_catastrophe(db, actor, chosen, s.get("mj_tag_numbers") or ""), said,
                  slot="major_catastrophe", heading_key="major.not_saved",
                  on_success=lambda _r: s.update({"mj_tag_numbers": ""}))

    st.form_submit_button(t("major.tag"), type="primary", on_click=_tag)
