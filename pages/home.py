"""Landing page: who you are, your own open deadlines, and the headline figures you may see."""
import streamlit as st

from dashboard.i18n import t
from dashboard.services.figures.home import home_figures, unit_names
from dashboard.ui.db import read_session
from dashboard.ui.format import plain, wan
from dashboard.ui.my_tasks import render_my_tasks
from dashboard.ui.read_cache import cached_figures, figures_freshness
from dashboard.ui.reminders import render_reminders
from dashboard.ui.session import require_page

actor = require_page("home")
st.title(t("home.welcome", name=plain(actor.full_name)))
with read_session() as session:
    units = unit_names(session, actor)
figures, read_at = cached_figures(actor, home_figures)
st.caption(t("home.your_units", units="、".join(plain(u) for u in units)))

render_reminders(actor)
render_my_tasks(actor, "home_tasks")

cols = st.columns(4)
cols[0].metric(t("home.kpi.cases_visible"), f"{figures.cases_visible:,}")
cols[1].metric(t("home.kpi.pending_all"), f"{figures.pending:,}")
cols[2].metric(t("home.kpi.pending_tiered"), f"{figures.pending_tiered:,}")
cols[3].metric(t("home.kpi.pending_amount"), wan(figures.pending_tiered_amount))
st.caption(t("home.kpi.scope_note"))
figures_freshness(read_at, key="home_refresh")
