"""特殊赔案审批 (特殊赔案理赔管理办法): the requests the person may see — those waiting for them first,
for an approver — with one request's justification and chain, its decision form for the level's
holder; the raise form for the claims side; the periodic report per business unit."""
from __future__ import annotations

import streamlit as st

from dashboard.i18n import t
from dashboard.ui.session import require_page
from dashboard.ui.special_view import render_raise_form, render_report, render_requests

actor = require_page("special_cases")
st.title(t("page.special_cases"))
st.caption(t("special.caption"))

names = ["special.tab.list", *(["special.tab.raise"] if actor.may("special.raise") else []), "special.tab.report"]
tabs = dict(zip(names, st.tabs([t(n) for n in names])))
with tabs["special.tab.list"]:
    render_requests(actor)
if "special.tab.raise" in tabs:
    with tabs["special.tab.raise"]:
        render_raise_form(actor)
with tabs["special.tab.report"]:
    render_report(actor)
