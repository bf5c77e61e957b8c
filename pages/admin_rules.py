"""Tier rules administration: national table versions, branch sub-tier requests, deadline hours.

Every write names what the admin's screen was drawn from (the table version edited, the request
decided, each setting's version) and a colleague's change since is refused with who and when.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.rules.tiers import TierBand
from dashboard.services.errors import UserError
from dashboard.services.admin.tier_admin import (
    branch_request_base, branches_for_requests, decide_branch_request, publish_national_table,
    request_branch_subtiers, rule_sets,
)
from dashboard.settings import BRANCH_SUBTIER_RANGE
from dashboard.ui.db import db_session
from dashboard.ui.format import local_time, plain
from dashboard.ui.forms import error_text, run_write, set_outcome, show_outcome
from dashboard.ui.session import require_page
from dashboard.ui.calendar_admin import render_calendar
from dashboard.ui.settings_form import render_settings_form
from dashboard.ui.risk_admin import render_risk_rules
from dashboard.ui.tables import download_buttons
from dashboard.ui.tier_editor import bands_frame, edit_bands

actor = require_page("admin_rules")
is_admin = actor.may("rules.admin")
NOT_SAVED = "admin.rules.not_saved"
st.title(t("admin.title"))


def history_frame(views) -> pd.DataFrame:
    return pd.DataFrame([{
        t("admin.col.version"): v.version, t("admin.col.branch"): v.branch or t("unit.hq"),
        t("admin.col.status"): t(f"admin.status.{v.status}"), t("admin.col.note"): v.note or "",
        t("admin.col.requested_by"): v.requested_by or "", t("admin.col.requested_at"): local_time(v.requested_at),
        t("admin.col.decided_by"): v.decided_by or "", t("admin.col.decided_at"): local_time(v.decided_at),
        t("admin.col.decision_note"): v.decision_note or "",
        t("admin.col.bands"): "；".join(b.code for b in v.bands),
    } for v in views])


def forget(*keys: str) -> None:
    for key in keys:
        st.session_state.pop(key, None)


with db_session() as session:
    national = rule_sets(session, actor, national=True)
    requests = rule_sets(session, actor, national=False)
    request_branches = dict(branches_for_requests(session, actor))
active = next((v for v in national if v.status == "active"), None)

tab_names = ([t("admin.tab.national"), t("admin.tab.requests")]
             + ([t("admin.tab.deadlines"), t("admin.tab.calendar")] if is_admin else [])
             + [t("admin.tab.risk")])
# Stateful tabs: a save's rerun stays on the tab the admin was on.
tabs = st.tabs(tab_names, key="admin_tab", on_change="rerun")

with tabs[0]:
    if active:
        st.caption(t("admin.active_version", version=active.version, at=local_time(active.decided_at)))
        st.dataframe(bands_frame(active.bands), hide_index=True, width="stretch")
    st.subheader(t("admin.history"))
    history = history_frame(national)
    st.dataframe(history, hide_index=True, width="stretch")
    download_buttons(history, "全国分级标准版本", key="admin_national_dl")
    if is_admin and active:
        st.subheader(t("admin.publish.title"))
        st.caption(t("admin.publish.help"))
        show_outcome("admin_national")
        # The version the admin edits is kept from when the editor was first drawn: a publication
        # by a colleague meanwhile shows here and refuses this one (never silently the later wins).
        base = st.session_state.setdefault("admin_publish_base", active.version)
        edited = next((v for v in national if v.version == base), active)
        if base != active.version:
            st.warning(t("admin.publish.moved", version=active.version, who=plain(active.decided_by or "—"),
                         at=local_time(active.decided_at)))
            st.button(t("admin.reload_table"), key="admin_publish_reload", on_click=forget,
                      args=("admin_publish_base", f"admin_national_editor_{base}"))
        else:
            st.caption(t("admin.publish.base", version=base))
        rows = edit_bands(edited.bands, key=f"admin_national_editor_{base}")
        note = st.text_input(t("admin.publish.note"), key="admin_publish_note")
        if st.button(t("admin.publish.submit"), type="primary", key="admin_publish"):
            try:
                with db_session() as session:
                    publish_national_table(session, actor, rows, note=note, expected_version=base)
            except UserError as err:
                st.error(error_text(err, NOT_SAVED))
            else:
                forget("admin_publish_base", f"admin_national_editor_{base}", "admin_publish_note")
                set_outcome("admin_national", "success", t("admin.publish.done", version=base + 1))
                st.rerun()

with tabs[1]:
    pending = [v for v in requests if v.status == "pending"]
    st.subheader(t("admin.request.pending"))
    show_outcome("admin_requests")
    if not pending:
        st.info(t("admin.request.none_pending"))
    low, high = BRANCH_SUBTIER_RANGE

    def decided_message(approve: bool):
        key = "admin.request.approved_named" if approve else "admin.request.rejected_named"
        return lambda result: t(key, branch=result[0], version=result[1])

    for view in pending:
        with st.container(border=True):
            # The request's note as the branch typed it (format.plain, issue 18).
            st.markdown(f"**{plain(view.branch)}** · v{view.version} · {plain(view.requested_by)} · "
                        f"{local_time(view.requested_at)}  \n{plain(view.note)}")
            st.dataframe(bands_frame(view.bands), hide_index=True, width="stretch")
            if is_admin:
                st.text_input(t("admin.request.decision_note"), key=f"admin_note_{view.id}")
                c1, c2 = st.columns(2)
                for column, approve, label in ((c1, True, "admin.request.approve"), (c2, False, "admin.request.reject")):
                    # The request decided is the one drawn here (its id bound to the button).
                    column.button(t(label), key=f"admin_{'ok' if approve else 'no'}_{view.id}",
                                  type="primary" if approve else "secondary", on_click=run_write, kwargs=dict(
                                      action=lambda s, rid=view.id, ok=approve: decide_branch_request(
                                          s, actor, rid, approve=ok, note=st.session_state.get(f"admin_note_{rid}")),
                                      success=decided_message(approve), slot="admin_requests",
                                      heading_key="admin.request.not_decided"))
    st.subheader(t("admin.request.all"))
    all_requests = history_frame(requests)
    st.dataframe(all_requests, hide_index=True, width="stretch")
    download_buttons(all_requests, "分公司细分申请", key="admin_requests_dl")
    if request_branches and active:
        st.subheader(t("admin.request.title"))
        st.caption(t("admin.request.help"))
        show_outcome("admin_request_new")
        branch_id = st.selectbox(t("admin.request.branch"), list(request_branches), format_func=request_branches.get,
                                 key="admin_request_branch", placeholder=t("common.choose"))
        base_key = f"admin_request_base_{branch_id}"
        if base_key not in st.session_state:
            with db_session() as session:
                st.session_state[base_key] = branch_request_base(session, actor, branch_id)
        request_base = st.session_state[base_key]
        seed_table = next((v for v in national if v.version == request_base[0]), active)
        seed = [TierBand(b.code, max(b.lower_exclusive, low), min(b.upper_inclusive, high), b.positions)
                for b in seed_table.bands if b.upper_inclusive is not None and low <= b.lower_exclusive < high]
        editor_key = f"admin_request_editor_{branch_id}_{request_base[0]}_{request_base[1]}"
        rows = edit_bands(seed, key=editor_key)
        note = st.text_input(t("admin.request.note"), key="admin_request_note")
        if st.button(t("admin.request.submit"), type="primary", key="admin_request_submit"):
            try:
                with db_session() as session:
                    request_branch_subtiers(session, actor, branch_id, rows, note=note, expected_base=request_base)
            except UserError as err:
                st.error(error_text(err, NOT_SAVED))
                if err.key.startswith("common.stale_write"):
                    st.button(t("admin.reload_table"), key="admin_request_reload", on_click=forget,
                              args=(base_key, editor_key))
            else:
                forget(base_key, editor_key, "admin_request_note")
                set_outcome("admin_request_new", "success", t("admin.request.done_named",
                            branch=plain(request_branches[branch_id]), version=request_base[1] + 1))
                st.rerun()

if is_admin:
    with tabs[2]:
        render_settings_form(actor)
    with tabs[3]:
        render_calendar(actor)

with tabs[-1]:
    render_risk_rules(actor)
