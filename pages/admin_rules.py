"""Tier rules administration: national table versions, branch sub-tier requests, deadline hours."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.rules.tiers import TierBand
from dashboard.services.errors import UserError
from dashboard.services.tier_admin import (
    EDITABLE_SETTINGS, branches_for_requests, decide_branch_request, editable_settings, publish_national_table,
    request_branch_subtiers, rule_sets, update_rule_settings,
)
from dashboard.settings import BRANCH_SUBTIER_RANGE
from dashboard.ui.db import db_session
from dashboard.ui.format import local_time
from dashboard.ui.forms import flash_and_rerun, show_error, show_flash
from dashboard.ui.session import require_page
from dashboard.ui.tables import download_buttons
from dashboard.ui.tier_editor import bands_frame, edit_bands

actor = require_page("admin_rules")
is_admin = actor.has_role("hq_admin")
st.title(t("admin.title"))
show_flash()


def history_frame(views) -> pd.DataFrame:
    return pd.DataFrame([{
        t("admin.col.version"): v.version, t("admin.col.branch"): v.branch or t("unit.hq"),
        t("admin.col.status"): t(f"admin.status.{v.status}"), t("admin.col.note"): v.note or "",
        t("admin.col.requested_by"): v.requested_by or "", t("admin.col.requested_at"): local_time(v.requested_at),
        t("admin.col.decided_by"): v.decided_by or "", t("admin.col.decided_at"): local_time(v.decided_at),
        t("admin.col.decision_note"): v.decision_note or "",
        t("admin.col.bands"): "；".join(b.code for b in v.bands),
    } for v in views])


with db_session() as session:
    national = rule_sets(session, actor, national=True)
    requests = rule_sets(session, actor, national=False)
    request_branches = dict(branches_for_requests(session, actor))
active = next((v for v in national if v.status == "active"), None)

tab_names = [t("admin.tab.national"), t("admin.tab.requests")] + ([t("admin.tab.deadlines")] if is_admin else [])
tabs = st.tabs(tab_names)

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
        rows = edit_bands(active.bands, key="admin_national_editor")
        note = st.text_input(t("admin.publish.note"), key="admin_publish_note")
        if st.button(t("admin.publish.submit"), type="primary", key="admin_publish"):
            try:
                with db_session() as session:
                    publish_national_table(session, actor, rows, note=note)
            except UserError as err:
                show_error(err)
            else:
                flash_and_rerun(t("admin.publish.done", version=active.version + 1))

with tabs[1]:
    pending = [v for v in requests if v.status == "pending"]
    st.subheader(t("admin.request.pending"))
    if not pending:
        st.info(t("admin.request.none_pending"))
    low, high = BRANCH_SUBTIER_RANGE
    for view in pending:
        with st.container(border=True):
            st.markdown(f"**{view.branch}** · v{view.version} · {view.requested_by or ''} · "
                        f"{local_time(view.requested_at)}  \n{view.note or ''}")
            st.dataframe(bands_frame(view.bands), hide_index=True, width="stretch")
            if is_admin:
                decision_note = st.text_input(t("admin.request.decision_note"), key=f"admin_note_{view.id}")
                c1, c2 = st.columns(2)
                for column, approve, label in ((c1, True, "admin.request.approve"), (c2, False, "admin.request.reject")):
                    if column.button(t(label), key=f"admin_{'ok' if approve else 'no'}_{view.id}",
                                     type="primary" if approve else "secondary"):
                        try:
                            with db_session() as session:
                                decide_branch_request(session, actor, view.id, approve=approve, note=decision_note)
                        except UserError as err:
                            show_error(err)
                        else:
                            flash_and_rerun(t("admin.request.approved" if approve else "admin.request.rejected"))
    st.subheader(t("admin.request.all"))
    all_requests = history_frame(requests)
    st.dataframe(all_requests, hide_index=True, width="stretch")
    download_buttons(all_requests, "分公司细分申请", key="admin_requests_dl")
    if request_branches and active:
        st.subheader(t("admin.request.title"))
        st.caption(t("admin.request.help"))
        branch_id = st.selectbox(t("admin.request.branch"), list(request_branches), format_func=request_branches.get,
                                 key="admin_request_branch")
        seed = [TierBand(b.code, max(b.lower_exclusive, low), min(b.upper_inclusive, high), b.positions)
                for b in active.bands if b.upper_inclusive is not None and low <= b.lower_exclusive < high]
        rows = edit_bands(seed, key="admin_request_editor")
        note = st.text_input(t("admin.request.note"), key="admin_request_note")
        if st.button(t("admin.request.submit"), type="primary", key="admin_request_submit"):
            try:
                with db_session() as session:
                    request_branch_subtiers(session, actor, branch_id, rows, note=note)
            except UserError as err:
                show_error(err)
            else:
                flash_and_rerun(t("admin.request.done"))

if is_admin:
    with tabs[2]:
        st.caption(t("admin.settings.help"))
        with db_session() as session:
            current = editable_settings(session, actor)
        with st.form("admin_settings"):
            typed = {key: st.text_input(t(f"admin.setting.{key}"), value=str(current[key]), key=f"admin_set_{key}")
                     for key in EDITABLE_SETTINGS}
            if st.form_submit_button(t("admin.settings.submit"), type="primary"):
                try:
                    with db_session() as session:
                        changed = update_rule_settings(session, actor, typed)
                    st.success(t("admin.settings.saved", n=len(changed)) if changed else t("admin.settings.unchanged"))
                except UserError as err:
                    show_error(err)
