"""Case detail: the facts, deadlines and ONE timeline of everything that happened; act from here."""

import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import has_key, t
from dashboard.services.cases.detail import case_detail, find_case_id
from dashboard.services.errors import UserError
from dashboard.services.reference import due_soon_hours
from dashboard.ui.case_timeline import clock_card, describe, who
from dashboard.ui.db import read_session
from dashboard.ui.format import local_time, money, plain, point_label, tier_label, time_left
from dashboard.ui.complaint_view import render_case_items
from dashboard.ui.major_view import render_major
from dashboard.ui.my_tasks import render_my_tasks
from dashboard.ui.risk_view import render_risk_form, render_risk_summary
from dashboard.ui.session import require_page
from dashboard.ui.special_view import render_case_special
from dashboard.ui.tables import download_buttons
from dashboard.ui.tones import RED, due_tone, tagged

actor = require_page("case_detail")
st.title(t("page.case_detail"))


def _open_by_number(case_no: str) -> None:
    try:
        with read_session() as session:
            st.session_state["case_id"] = find_case_id(session, actor, case_no)
    except UserError as err:
        st.session_state.pop("case_id", None)
        st.error(t(err.key))
        st.stop()


with st.form("detail_search"):
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    typed = left.text_input(t("detail.search"), key="detail_case_no", placeholder=t("detail.search_placeholder"))
    searched = right.form_submit_button(t("detail.search_button"))
if searched and typed.strip():
    _open_by_number(typed)
elif st.query_params.get("case_no") and st.session_state.get("detail_qp") != st.query_params["case_no"]:
    st.session_state["detail_qp"] = st.query_params["case_no"]  # ?case_no=... opens the case once
    _open_by_number(st.query_params["case_no"])

case_id = st.session_state.get("case_id")
if not case_id:
    st.info(t("detail.search_hint"))
    render_my_tasks(actor, "detail_tasks")  # a way in without knowing a case number
    st.stop()
try:
    with read_session() as session:
        detail = case_detail(session, actor, int(case_id))
        soon_hours = due_soon_hours(session)
except UserError as err:  # NotFound also for another branch's case: nothing of it is shown
    st.error(t(err.key))
    st.stop()

f = detail.facts
# The address names the case shown, however it was opened (a list, a task, the search), so it can
# be bookmarked or sent to a colleague; remembered as opened, so the same address does not reopen it.
if st.query_params.get("case_no") != f.case_no:
    st.query_params["case_no"] = f.case_no
st.session_state["detail_qp"] = f.case_no


def _with_phone(name: str, phone: str | None) -> str:
    """A name with the number to call (masked for a role that calls nobody: the service decides)."""
    return f"{name}（{phone}）" if phone else name


def _label(prefix: str, code: str) -> str:  # a branch's own sub-tier codes have no catalog entry
    return t(f"{prefix}.{code}") if has_key(f"{prefix}.{code}") else code


_CLOCKS_CSS = """<style>
div.st-key-detail_clocks_cards { display: none !important; }
@media (max-width: 640px) {
  div.st-key-detail_clocks_table { display: none !important; }
  div.st-key-detail_clocks_cards { display: flex !important; }
}
</style>"""
now = clock.now()
st.subheader(t("detail.title", case_no=plain(f.case_no)))
cols = st.columns(4)
cols[0].metric(t("detail.field.state"), t(f"state.{f.state}"))
# A branch's own sub-tier shows its code, as the admin typed it (format.plain).
cols[1].metric(t("detail.field.tier"), plain(_label("detail.tier_short", f.tier)), help=plain(tier_label(f.tier)))
cols[2].metric(t("detail.field.estimate"), money(f.current_estimate))
rule = "—" if f.tier_rule_version is None else t(
    "detail.field.rule_branch" if f.tier_rule_branch_specific else "detail.field.rule_national", v=f.tier_rule_version)
cols[3].metric(t("detail.field.rule_version"), rule)
render_risk_summary(f)

yes_no = {True: t("detail.yes"), False: t("detail.no")}
facts = [
    ("detail.field.case_no", f.case_no), ("detail.field.unit", f"{f.branch_name} / {f.sub_branch_name}"),
    ("detail.field.report_time", local_time(f.report_time)), ("detail.field.accident_time", local_time(f.accident_time)),
    ("detail.field.place", f"{f.province}{f.city} {f.address}"), ("detail.field.line", t(f"line.{f.business_line}")),
    ("detail.field.policy", f.policy_no), ("detail.field.insured", f.insured_name),
    ("detail.field.driver", f.driver_name or "—"), ("detail.field.reporter", f.reporter_name),
    ("detail.field.reporter_phone", f.reporter_phone or "—"),
    ("detail.field.vehicle", " ".join(x for x in (f.plate_no, f.vehicle_model) if x) or "—"),
    ("detail.field.accident_type", t(f"accident.{f.accident_type}")),
    ("detail.field.compulsory_only", yes_no[f.compulsory_only]),
    ("detail.field.surveyor", _with_phone(f.surveyor_name, f.surveyor_phone)),
    ("detail.field.first_responsible", "、".join(n for _, n in detail.dispatched) or "—"),
    ("detail.field.tiered_at", local_time(f.tiered_at)), ("detail.field.major", yes_no[f.is_major]),
    ("detail.field.closed_at", local_time(f.closed_at)), ("detail.field.reopen_count", str(f.reopen_count)),
    ("detail.field.description", f.description or "—"),
]
with st.expander(t("detail.facts"), expanded=True):
    st.dataframe(pd.DataFrame({t("detail.col.item"): [t(k) for k, _ in facts],
                               t("detail.col.value"): [v for _, v in facts]}),
                 hide_index=True, width="stretch")

render_risk_form(actor, f)
render_major(actor, f)
render_case_special(actor, f.id)
render_case_items(actor, f.id)

st.subheader(t("detail.deadlines"))
if detail.deadlines:
    # What a manager on the road reads first (a phone shows the first columns): the clock, its
    # status, the time left and the due time; who and when it started come after (issue 27).
    frame = pd.DataFrame([{
        t("detail.col.deadline"): " ".join(filter(None, (t(f"detail.deadline.{d.kind}"),
                                                          point_label(d.point_seq, d.answer_round)))),
        t("detail.col.status"): t(f"detail.deadline_status.{d.status}"),
        t("detail.col.left"): time_left(d.due_at, now) if d.status in ("open", "overdue") else "",
        t("detail.col.due"): local_time(d.due_at), t("detail.col.responsible"): d.responsible_name or "—",
        t("detail.col.also_charged"): d.also_charged_name or "", t("detail.col.started"): local_time(d.started_at),
        t("detail.col.met"): local_time(d.met_at),
    } for d in detail.deadlines])
    # The status red when late (overdue, or done late); the time left also amber when an open
    # clock is due soon (the due-soon window is a rule setting). "进行中" stays neutral: a label's
    # colour belongs to its text, and most open clocks are not due soon.
    late = [RED if d.status in ("overdue", "met_late") else None for d in detail.deadlines]
    left = [tone or (due_tone(d.due_at, now, soon_hours) if d.status == "open" else None)
            for tone, d in zip(late, detail.deadlines)]
    shown, tag_columns = tagged(frame, {t("detail.col.status"): late, t("detail.col.left"): left})
    # A phone (below 640 px) gets one card of text per clock instead of the table, whose later
    # columns lie off to the side of a 390 px screen (issue 27); the page's style picks one.
    st.html(_CLOCKS_CSS)
    with st.container(key="detail_clocks_table"):
        st.dataframe(shown, hide_index=True, width="stretch", column_config=tag_columns, key="detail_deadlines")
    with st.container(key="detail_clocks_cards", gap="small"):
        for d, status_tone, left_tone in zip(detail.deadlines, late, left):
            with st.container(border=True):
                st.markdown(clock_card(d, status_tone, left_tone, now))
else:
    st.caption(t("detail.deadlines_empty"))

st.subheader(t("detail.timeline"))
if detail.timeline:
    rows = []
    for entry in detail.timeline:  # in time order, oldest first
        name, role = who(entry)
        rows.append({t("detail.col.at"): local_time(entry.at), t("detail.col.who"): name,
                     t("detail.col.role"): role, t("detail.col.what"): describe(entry)})
    timeline = pd.DataFrame(rows)
    st.caption(t("common.count", n=len(rows)))
    st.dataframe(timeline, hide_index=True, width="stretch", key="detail_timeline",
                 height=min(38 + 35 * len(rows), 740),
                 column_config={t("detail.col.what"): st.column_config.TextColumn(width="large")})
    download_buttons(timeline, f"case_{f.case_no}_timeline", key="detail_timeline_dl")
else:
    st.caption(t("detail.timeline_empty"))

# 操作: the heading only when something is under it; the state change writes the case, version and
# target drawn here (a button callback), never what the submit's rerun reads (issue 27).
from dashboard.ui.case_state_form import has_actions, render_state_change  # noqa: E402

if has_actions(actor, detail):
    st.subheader(t("detail.actions"))
render_state_change(actor, detail)
if notice := st.session_state.pop("detail_notice", None):
    st.success(notice)

# The case's material for everyone who may see the case; the upload form for those who may add it.
from dashboard.ui.materials import render_materials  # noqa: E402

render_materials(actor, detail)

if detail.may_answer and "branch_feedback" in st.session_state.get("nav_pages", []):
    st.page_link("pages/branch_feedback.py", label=t("detail.answer_link"), icon=":material/reply:")
