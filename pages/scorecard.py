"""理赔质量考核 (理赔质量考核分类评价管理办法): each branch's card for a year, quarter or month — the
ranking, one branch's sixteen indicators with their formulas, trends and the cases behind them — and,
for HQ admin, the financial figures and the weights."""
from __future__ import annotations

import streamlit as st

from dashboard.i18n import t
from dashboard.services.scorecard.card import scorecards
from dashboard.ui.db import read_session
from dashboard.ui.scorecard_view import pick_period, render_branch, render_entry, render_ranking, render_weights
from dashboard.ui.session import require_page

actor = require_page("scorecard")
st.title(t("page.scorecard"))
st.caption(t("scorecard.caption"))
kind, start = pick_period()
with read_session() as session:
    cards = scorecards(session, actor, kind, start)

names = ["scorecard.tab.ranking", "scorecard.tab.branch",
         *(["scorecard.tab.enter", "scorecard.tab.weights"] if actor.may("scorecard.enter") else [])]
tabs = dict(zip(names, st.tabs([t(n) for n in names])))
with tabs["scorecard.tab.ranking"]:
    render_ranking(cards, kind, start)
with tabs["scorecard.tab.branch"]:
    render_branch(actor, cards, kind, start)
if "scorecard.tab.enter" in tabs:
    with tabs["scorecard.tab.enter"]:
        render_entry(actor, kind, start)
    with tabs["scorecard.tab.weights"]:
        render_weights(actor)
