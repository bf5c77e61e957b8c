"""Landing page: who you are, your own open deadlines, and the headline figures you may see."""
from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.services.home import home_figures, my_open_tasks, unit_names
from dashboard.ui.db import db_session
from dashboard.ui.format import local_time, time_left, wan, tier_label
from dashboard.ui.session import require_page
from dashboard.ui.tables import case_table

actor = require_page("home")
now = datetime.now(timezone.utc)
st.title(t("home.welcome", name=actor.full_name))
with db_session() as session:
    figures = home_figures(session, actor)
    units = unit_names(session, actor)
    task_total, tasks = my_open_tasks(session, actor)
st.caption(t("home.your_units", units="、".join(units)))

st.subheader(t("home.tasks.title"))
if tasks:
    st.caption(t("home.tasks.caption", n=f"{task_total:,}", shown=len(tasks)))
    frame = pd.DataFrame({
        "case_id": [task.case_id for task in tasks],
        t("home.tasks.case_no"): [task.case_no or "—" for task in tasks],
        t("home.tasks.kind"): [t(f"deadlines.kind.{task.kind}") for task in tasks],
        t("home.tasks.due"): [local_time(task.due_at) for task in tasks],
        t("home.tasks.left"): [time_left(task.due_at, now) for task in tasks],
        t("home.tasks.tier"): [tier_label(task.tier) if task.tier else "—" for task in tasks],
    })
    case_table(frame, "home_tasks")
else:
    st.success(t("home.tasks.none"))

cols = st.columns(4)
cols[0].metric(t("home.kpi.cases_visible"), f"{figures.cases_visible:,}")
cols[1].metric(t("home.kpi.pending_all"), f"{figures.pending:,}")
cols[2].metric(t("home.kpi.pending_tiered"), f"{figures.pending_tiered:,}")
cols[3].metric(t("home.kpi.pending_amount"), wan(figures.pending_tiered_amount))
st.caption(t("home.kpi.scope_note"))
