"""HQ review: the daily queue of tiered cases, the case at a glance, opinions posted point by point
and the verdict on each answer (分级管理办法 第四章 一.1–2)."""
from __future__ import annotations


import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.rules.review import MAX_OPINION_TEXT, MAX_TEXT, split_points
from dashboard.services.reference import due_soon_hours, tier_filter_codes
from dashboard.ui.forms import long_text
from dashboard.services.review.opinions import case_facts, case_opinions, decide_point, post_review_opinion
from dashboard.services.review.queue import QueueFilters, queue_branch_choices, review_queue
from dashboard.ui.db import db_session, read_session
from dashboard.ui.format import local_time, money, plain, tier_label, tier_text
from dashboard.ui.review_view import left_text, render_opinion, run_action, selectable_table, show_flash
from dashboard.ui.risk_view import badge_text, colour_filter, colour_tones
from dashboard.ui.session import require_page
from dashboard.ui.tones import due_tone
from dashboard.ui.tables import download_buttons, open_case, paged

actor = require_page("hq_review")
PAGE_SIZE = 25
now = clock.now()
can_write = actor.may("review.post")
st.title(t("review.page.hq_review"))
show_flash()
if not can_write:
    st.info(t("review.hq.read_only"))

with read_session() as session:
    branches = dict(queue_branch_choices(session))
    soon_hours = due_soon_hours(session)
    tier_choices = tier_filter_codes(session)
f1, f2, f3, f4, f5 = st.columns(5)
status = f1.selectbox(t("review.filter.status"), ["pending", "answered", "reviewed", "all"], key="hq_status",
                      format_func=lambda s: t(f"review.filter.{s}"), placeholder=t("common.choose"))
branch_id = f2.selectbox(t("review.filter.branch"), [None, *branches], key="hq_branch",
                         format_func=lambda b: t("common.all") if b is None else branches[b], placeholder=t("common.all"))
tier = f3.selectbox(t("review.filter.tier"), [None, *tier_choices], key="hq_tier",
                    format_func=lambda c: t("common.all") if c is None else tier_label(c), placeholder=t("common.all"))
colour = colour_filter(f4, "hq_colour")
case_no = f5.text_input(t("review.filter.case_no"), key="hq_case_no")
filters = QueueFilters(status=status, branch_id=branch_id, tier=tier, case_no=case_no, colour=colour)

st.subheader(t("review.hq.queue"))
with read_session() as session:
    _, rows = paged(lambda offset: review_queue(session, actor, filters, limit=PAGE_SIZE, offset=offset),
                    PAGE_SIZE, key="hq_page", filters=filters)
frame = pd.DataFrame({
    t("review.col.case_no"): [r.case_no for r in rows],
    t("risk.col"): [badge_text(r.risk_colour) for r in rows],
    t("review.col.branch"): [r.branch for r in rows],
    t("review.col.sub_branch"): [r.sub_branch for r in rows],
    t("review.col.tier"): [tier_text(r.tier, r.compulsory_only) for r in rows],
    t("review.col.estimate"): [money(r.estimate) for r in rows],
    t("review.col.state"): [t(f"state.{r.state}") for r in rows],
    t("review.col.tiered_at"): [local_time(r.tiered_at) for r in rows],
    t("review.col.d4_due"): [local_time(r.d4_due) for r in rows],
    t("review.col.time_left"): [left_text(r.d4_due, now) if r.reviewed_at is None else "—" for r in rows],
    t("review.col.reviewed_at"): [local_time(r.reviewed_at) for r in rows],
    t("review.col.first_responsible"): [r.first_responsible for r in rows],
    t("review.col.photo"): [t("review.yes") if r.photo_uploaded else t("review.no") for r in rows],
    t("review.col.report"): [t("review.yes") if r.report_uploaded else t("review.no") for r in rows],
    t("review.col.open_points"): [r.open_points for r in rows],
})
if rows:
    dues = [r.d4_due if r.reviewed_at is None else None for r in rows]
    selectable_table(frame, "hq_queue_table", [r.case_id for r in rows], "hq_case",
                     tones={t("review.col.time_left"): [due_tone(d, now, soon_hours) for d in dues],
                            t("risk.col"): colour_tones(r.risk_colour for r in rows)})
    download_buttons(frame, "review_queue", key="hq_queue_dl", page_only=True)
else:
    st.info(t("review.no_rows"))

# Labels are remembered so the chosen case stays chosen after it leaves the filtered queue.
labels = st.session_state.setdefault("hq_case_labels", {})
labels.update({r.case_id: f"{r.case_no} · {r.branch} · {tier_text(r.tier, r.compulsory_only)}" for r in rows})
chosen = st.session_state.get("hq_case")
labels = {**{r.case_id: labels[r.case_id] for r in rows},
          **({chosen: labels.get(chosen, str(chosen))} if chosen is not None else {})}
case_id = st.selectbox(t("review.pick_case"), list(labels), key="hq_case", format_func=labels.get,
                       index=None, placeholder=t("review.pick_placeholder"))
if case_id is None:
    st.stop()

with db_session() as session:
    facts = case_facts(session, actor, case_id)
    opinions = case_opinions(session, actor, case_id)

st.subheader(f"{plain(facts.case_no)} · {plain(facts.branch)} {plain(facts.sub_branch)}")
for col, (label, value) in zip(st.columns(4), (
        (t("review.col.tier"), tier_text(facts.tier, facts.compulsory_only)), (t("review.col.estimate"), money(facts.estimate)),
        (t("review.col.state"), t(f"state.{facts.state}")), (t("review.col.tiered_at"), local_time(facts.tiered_at)))):
    col.caption(label)
    col.markdown(f"**{plain(value)}**")
# What was typed at intake reads as typed (format.plain, issue 18).
st.caption(f"{local_time(facts.accident_time)} · {plain(facts.place)} · {plain(facts.insured)} · "
           f"{plain(facts.plate_no)} · {plain(facts.description)}")
st.caption(t("review.hq.materials",
             photo=local_time(facts.uploads.get("person_vehicle_photo")) if facts.uploads.get(
                 "person_vehicle_photo") else t("review.no"),
             report=local_time(facts.uploads.get("investigation_report")) if facts.uploads.get(
                 "investigation_report") else t("review.no")))
c1, c2 = st.columns(2)
with c1:
    st.markdown(f"**{t('review.hq.estimates')}**")
    st.dataframe(pd.DataFrame([(local_time(at), money(a), f"{tier_label(b)} → {tier_label(c)}") for at, a, b, c in facts.estimates],
                              columns=[t("review.col.at"), t("review.col.amount"), t("review.col.tier_change")]), hide_index=True, key="hq_estimates")
with c2:
    st.markdown(f"**{t('review.hq.dispatches')}**")
    st.dataframe(pd.DataFrame([(n, tier_label(tier_), t(f"position.{pos}"), t(f"dispatch.contact.{state}"), local_time(at),
                                local_time(arr))
                               for n, tier_, pos, state, at, arr in facts.dispatches],
                              columns=[t("review.col.first_responsible"), t("review.col.tier"), t("review.col.position"),
                                       t("review.col.contact"), t("review.col.dispatched_at"),
                                       t("review.col.arrived_at")]),
                 hide_index=True, key="hq_dispatches")
if st.button(t("review.open_detail"), key="hq_open_detail"):
    open_case(case_id)


def _verdict_widgets(point) -> None:
    if not can_write or point.status != "answered":
        return
    cols = st.columns([2, 4, 2], vertical_alignment="bottom")
    # Nothing is preselected: a verdict is a decision, never a default.
    cols[0].radio(t("review.hq.verdict"), ["accepted", "sent_back"], key=f"verdict_{point.id}", horizontal=True,
                  index=None,
                  format_func=lambda v: t("review.hq.accept") if v == "accepted" else t("review.hq.send_back"))
    cols[1].text_input(t("review.hq.reason"), key=f"reason_{point.id}", max_chars=MAX_TEXT)
    # The point and its version are the ones drawn here, not whatever a rerun reads.
    cols[2].button(t("review.hq.decide"), key=f"decide_{point.id}", on_click=run_action, kwargs=dict(
        action=lambda s, pid=point.id, version=point.version: decide_point(
            s, actor, pid, st.session_state.get(f"verdict_{pid}"), st.session_state.get(f"reason_{pid}"),
            expected_version=version),
        success=lambda verdict, seq=point.seq, case_no=facts.case_no: t(
            "review.hq.decided_on", case_no=case_no, n=seq,
            verdict=t("review.hq.accept") if verdict == "accepted" else t("review.hq.send_back")),
        clear=(f"reason_{point.id}",)))


st.subheader(t("review.hq.opinions"))
if not opinions:
    st.caption(t("review.no_rows"))
for view in opinions:
    with st.container(border=True):
        render_opinion(view, now, point_widget=_verdict_widgets)

if can_write:
    st.subheader(t("review.hq.new_opinion"))
    long_text(t("review.hq.points_label"), key="hq_points", height=140, limit=MAX_OPINION_TEXT)
    st.button(t("review.hq.post"), key="hq_post", type="primary", on_click=run_action, kwargs=dict(
        action=lambda s, drawn=case_id: post_review_opinion(s, actor, drawn,
                                                            split_points(st.session_state.get("hq_points", ""))),
        success=lambda _, case_no=facts.case_no: t("review.hq.posted_on", case_no=case_no,
                                                    n=len(split_points(st.session_state.get("hq_points", "")))),
        clear=("hq_points",)))
