"""The signed-in person's own open deadlines as a table whose rows open the case."""
from __future__ import annotations


import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.services.actor import Actor
from dashboard.services.figures.home import my_open_tasks
from dashboard.services.reference import due_soon_hours
from dashboard.ui.risk_view import badge_text, colour_tones
from dashboard.ui.db import read_session
from dashboard.ui.format import local_time, point_label, tier_label, time_left
from dashboard.ui.tables import case_table
from dashboard.ui.tones import due_tone


def render_my_tasks(actor: Actor, key: str) -> None:
    now = clock.now()
    with read_session() as session:
        total, tasks = my_open_tasks(session, actor)
        soon_hours = due_soon_hours(session)
    st.subheader(t("home.tasks.title"))
    if not tasks:
        st.success(t("home.tasks.none"))
        return
    st.caption(t("home.tasks.caption", n=f"{total:,}", shown=len(tasks)))
    frame = pd.DataFrame({
        "case_id": [task.case_id for task in tasks],
        t("home.tasks.case_no"): [task.case_no or "—" for task in tasks],
        t("risk.col"): [badge_text(task.risk_colour) if task.case_no else "" for task in tasks],
        t("home.tasks.kind"): [t(f"deadlines.kind.{task.kind}") for task in tasks],
        t("home.tasks.item"): [point_label(task.point_seq, task.answer_round) for task in tasks],
        t("home.tasks.due"): [local_time(task.due_at) for task in tasks],
        t("home.tasks.left"): [time_left(task.due_at, now) for task in tasks],
        t("home.tasks.tier"): [tier_label(task.tier) for task in tasks],
    })
    case_table(frame, key, tones={t("home.tasks.left"): [due_tone(task.due_at, now, soon_hours) for task in tasks],
                                  t("risk.col"): colour_tones(task.risk_colour for task in tasks)})
