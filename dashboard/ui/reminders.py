"""The landing page's reminders of work waiting in the registers beside the clocks: special-case
requests waiting for the person's decision, complaints / disputes assigned to them still owing a
return visit. Each with the way to the page where it is done."""
from __future__ import annotations

import streamlit as st

from dashboard.i18n import t
from dashboard.services.actor import Actor
from dashboard.services.complaints.register import complaint_items
from dashboard.services.special_cases.approvals import special_cases
from dashboard.ui.db import read_session
from dashboard.ui.special_view import holds_an_approval_post


def render_reminders(actor: Actor) -> None:
    waiting = items = overdue = 0
    with read_session() as session:
        if actor.may("special.approve") and holds_an_approval_post(actor):
            waiting, _ = special_cases(session, actor, mine_only=True, limit=0)
        if actor.may("complaint.handle"):
            items, _ = complaint_items(session, actor, mine_only=True, limit=0)
            if items:
                overdue, _ = complaint_items(session, actor, mine_only=True, visit_overdue_only=True, limit=0)
    if waiting:
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.warning(t("home.remind.special", n=waiting))
        if right.button(t("home.remind.open"), key="home_remind_special"):
            st.switch_page("pages/special_cases.py")
    if items:
        left, right = st.columns([4, 1], vertical_alignment="center")
        text = t("home.remind.complaints", n=items) + (t("home.remind.overdue", n=overdue) if overdue else "")
        (left.error if overdue else left.info)(text)
        if right.button(t("home.remind.open"), key="home_remind_complaints"):
            st.switch_page("pages/complaints.py")
