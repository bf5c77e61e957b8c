"""投诉纠纷疑难案件 (投诉、纠纷、疑难案件处理制度; 保险理赔纠纷管理制度): the register of every item, each
with its record and the form for its next step; registering a new one; the summary analysis."""
from __future__ import annotations

import streamlit as st

from dashboard.i18n import t
from dashboard.ui.complaint_view import render_analysis, render_new_item, render_register, visit_days
from dashboard.ui.session import require_page

actor = require_page("complaints")
st.title(t("page.complaints"))
st.caption(t("complaints.caption", days=f"{visit_days():g}"))

names = ["complaints.tab.register", *(["complaints.tab.new"] if actor.may("complaint.handle") else []),
         "complaints.tab.analysis"]
tabs = dict(zip(names, st.tabs([t(n) for n in names])))
with tabs["complaints.tab.register"]:
    render_register(actor)
if "complaints.tab.new" in tabs:
    with tabs["complaints.tab.new"]:
        render_new_item(actor)
with tabs["complaints.tab.analysis"]:
    render_analysis(actor)
