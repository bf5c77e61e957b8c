"""Supervision: exec supervisors follow their key branches' tiered cases and write to the first
responsible person; first responsible persons report progress; HQ admin assigns key branches
(分级管理办法 第一章 二.2, 第四章 一.3–4)."""
from __future__ import annotations


import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.services.reference import due_soon_hours
from dashboard.services.review.queue import queue_branch_choices
from dashboard.services.review.supervision import (
    assign_supervisor, assignment_origin, case_first_responsibles, followed_cases, open_supervision_opinions,
    post_progress_note, post_supervision_opinion, supervision_thread, supervisor_assignments, supervisor_choices,
    thread_version, unassign_supervisor,
)
from dashboard.ui.db import db_session, read_session
from dashboard.ui.format import local_time, money, plain, tier_label
from dashboard.services.errors import StaleWrite
from dashboard.ui.forms import chosen_option, keep_choice_by_label, run_write, show_outcome
from dashboard.ui.risk_view import badge_text, colour_filter, colour_tones
from dashboard.ui.review_view import left_text, selectable_table
from dashboard.ui.session import require_page
from dashboard.ui.tones import due_tone
from dashboard.ui.tables import download_buttons, empty_note, open_case, pager

actor = require_page("supervision")
PAGE_SIZE = 25
now = clock.now()
is_supervisor = actor.may("supervision.post")
is_first = actor.has_role("first_responsible")
is_admin = actor.may("supervision.assign")
ASSIGN_NOT_SAVED = "supervision.assign_not_saved"  # each refusal's heading says what was not written
st.title(t("review.page.supervision"))


def _reply_target(key: str, offered: dict) -> int | None:
    """The opinion the reply answers, as the person chose it on the page drawn; a choice that names
    none of those drawn is refused rather than posted as general progress."""
    value = st.session_state.get(key)
    chosen = chosen_option(value, offered)
    if value is not None and chosen is None:
        raise StaleWrite()
    return chosen


# Stateful tabs: after 分配 the page stays on the tab the person was on (it jumped back to the first).
tabs = st.tabs([t("review.sup.cases"), t("review.sup.admin")] if is_admin else [t("review.sup.cases")],
               key="sup_tab", on_change="rerun")

with tabs[0]:
    f1, f2, f3, f4 = st.columns(4, vertical_alignment="bottom")
    with read_session() as session:
        all_branches = dict(queue_branch_choices(session))
        soon_hours = due_soon_hours(session)
    if is_admin:
        shown = all_branches
    elif is_supervisor:
        shown = {b: n for b, n in all_branches.items() if b in actor.supervised_branch_ids}
    else:
        shown = {}
    branch_id = f1.selectbox(t("review.filter.branch"), [None, *shown], key="sup_branch",
                             format_func=lambda b: t("common.all") if b is None else shown[b])
    include_closed = f2.toggle(t("review.filter.include_closed"), key="sup_closed")
    case_no = f3.text_input(t("review.filter.case_no"), key="sup_case_no")
    colour = colour_filter(f4, "sup_colour")
    query = dict(include_closed=include_closed, branch_id=branch_id, case_no=case_no, colour=colour)
    with read_session() as session:
        total, _ = followed_cases(session, actor, **query, limit=0)
        offset = pager(total, PAGE_SIZE, key="sup_page", filters=query)
        _, rows = followed_cases(session, actor, **query, limit=PAGE_SIZE, offset=offset, total=total)
    frame = pd.DataFrame({
        t("review.col.case_no"): [r.case_no for r in rows],
        t("risk.col"): [badge_text(r.risk_colour) for r in rows],
        t("review.col.branch"): [r.branch for r in rows],
        t("review.col.sub_branch"): [r.sub_branch for r in rows],
        t("review.col.tier"): [tier_label(r.tier) for r in rows],
        t("review.col.state"): [t(f"state.{r.state}") for r in rows],
        t("review.col.estimate"): [money(r.estimate) for r in rows],
        t("review.col.first_responsible"): [r.first_responsible for r in rows],
        t("review.col.supervision_opinions"): [r.supervision_opinions for r in rows],
        t("review.col.reply_due"): [local_time(r.awaiting_reply_due) for r in rows],
        t("review.col.time_left"): [left_text(r.awaiting_reply_due, now) for r in rows],
        t("review.col.last_progress"): [local_time(r.last_progress_at) for r in rows],
    })
    if not rows:
        st.info(t("review.no_rows"))
    else:
        selectable_table(frame, "sup_table", [r.case_id for r in rows], "sup_case", tones={
            t("review.col.time_left"): [due_tone(r.awaiting_reply_due, now, soon_hours) for r in rows],
            t("risk.col"): colour_tones(r.risk_colour for r in rows)})
        download_buttons(frame, "supervision_cases", key="sup_dl", page_only=True)
        labels = {r.case_id: f"{r.case_no} · {r.branch}" for r in rows}
        case_id = st.selectbox(t("review.pick_case"), list(labels), key="sup_case", format_func=labels.get,
                               index=None, placeholder=t("review.pick_placeholder"))
        if case_id is not None:
            with db_session() as session:
                thread = supervision_thread(session, actor, case_id)
                drawn = thread_version(session, case_id)  # what this person has read: the writes name it
                persons = dict(case_first_responsibles(session, actor, case_id))
                mine = open_supervision_opinions(session, actor, case_id) if is_first else []
            case_no = next((r.case_no for r in rows if r.case_id == case_id), "")
            st.subheader(t("review.sup.thread"))
            for entry in thread:
                if entry.kind == "supervision":
                    # What people wrote reads as typed (format.plain, issue 18).
                    st.markdown(t("review.sup.opinion_line", author=plain(entry.author), to=plain(entry.addressed_to),
                                  at=local_time(entry.at), body=plain(entry.body)))
                    state = (t("review.sup.replied", at=local_time(entry.met_at)) if entry.met_at
                             else f"{t('review.sup.not_replied')}（{left_text(entry.due_at, now)}）")
                    st.caption(t("review.sup.reply_state", due=local_time(entry.due_at), state=state))
                else:
                    st.caption(t("review.sup.progress_line", author=plain(entry.author), at=local_time(entry.at),
                                 body=plain(entry.body)))
            if st.button(t("review.open_detail"), key="sup_open_detail"):
                open_case(case_id)
            show_outcome("sup_thread")
            if is_supervisor and case_id and persons:
                st.subheader(t("review.sup.new_opinion"))
                keep_choice_by_label("sup_to", persons)
                st.selectbox(t("review.sup.addressee"), list(persons), key="sup_to", format_func=persons.get)
                st.text_area(t("review.sup.body"), key="sup_body", height=100)
                # The case, its thread as read and the addressee chosen are bound when the button is drawn.
                st.button(t("review.sup.post"), key="sup_post", type="primary", on_click=run_write, kwargs=dict(
                    action=lambda s, cid=case_id, seen=drawn: post_supervision_opinion(
                        s, actor, cid, st.session_state.get("sup_body", ""), st.session_state.get("sup_to"),
                        expected_thread=seen),
                    success=lambda _id, names=persons, no=case_no: t(
                        "supervision.posted_named", person=names.get(st.session_state.get("sup_to"), ""), case_no=no),
                    slot="sup_thread", heading_key="supervision.opinion_not_sent",
                    on_success=lambda _id: st.session_state.update(sup_body="")))
            if is_first and actor.person_id in persons:
                st.subheader(t("review.sup.progress"))
                answered = t("supervision.replied_mark")
                replies = {None: t("review.sup.no_reply_to"),
                           **{o.opinion_id: f"{local_time(o.posted_at)} · {o.body[:40]}"
                                            + (f"（{answered}）" if o.replied_at else "") for o in mine}}
                # One picker per thread as drawn: after a reply (or a new opinion) the picker is drawn
                # afresh, preselecting the opinion awaiting a reply that is due first, never one answered.
                reply_key = f"sup_reply_to_{case_id}_{drawn}"
                keep_choice_by_label(reply_key, replies)
                waiting = [o.opinion_id for o in mine if o.replied_at is None]
                st.selectbox(t("review.sup.reply_to"), list(replies), key=reply_key, format_func=replies.get,
                             index=list(replies).index(waiting[0]) if waiting else 0)
                st.text_area(t("review.sup.progress_body"), key="sup_progress", height=100)
                posted_of = {o.opinion_id: o.posted_at for o in mine}

                def _progress_message(_note_id: int, no: str = case_no, posted: dict = posted_of,
                                      offered: dict = replies, key: str = reply_key) -> str:
                    opinion = chosen_option(st.session_state.get(key), offered)
                    if opinion in posted:
                        return t("supervision.replied_named", at=local_time(posted[opinion]), case_no=no)
                    return t("supervision.progress_named", case_no=no)

                def _after_progress(_note_id: int) -> None:
                    st.session_state["sup_progress"] = ""

                st.button(t("review.sup.post_progress"), key="sup_progress_post", type="primary", on_click=run_write,
                          kwargs=dict(action=lambda s, cid=case_id, seen=drawn, offered=replies, key=reply_key:
                                      post_progress_note(s, actor, cid, st.session_state.get("sup_progress", ""),
                                                         opinion_id=_reply_target(key, offered), expected_thread=seen),
                              success=_progress_message, slot="sup_thread", heading_key="supervision.progress_not_sent",
                              on_success=_after_progress))

if is_admin:
    with tabs[1]:
        with db_session() as session:
            assignments = supervisor_assignments(session, actor)
            people, branches = supervisor_choices(session, actor)
        frame = pd.DataFrame({
            t("review.sup.person"): [a.person for a in assignments],
            t("review.col.branch"): [a.branch for a in assignments],
            t("review.sup.assigned_at"): [local_time(a.assigned_at) for a in assignments],
        })
        if not empty_note(frame):
            st.dataframe(frame, hide_index=True, width="stretch", key="sup_admin_table")
        download_buttons(frame, "supervisor_assignments", key="sup_admin_dl")
        people_d, branches_d = dict(people), dict(branches)
        shown_pairs = frozenset((a.person_id, a.branch_id) for a in assignments)  # what this admin sees
        show_outcome("sup_admin")
        a1, a2 = st.columns(2)
        a1.selectbox(t("review.sup.person"), list(people_d), key="sup_admin_person", format_func=people_d.get)
        a2.selectbox(t("review.col.branch"), list(branches_d), key="sup_admin_branch", format_func=branches_d.get)

        def _pair() -> tuple[int, int]:
            return st.session_state["sup_admin_person"], st.session_state["sup_admin_branch"]

        def _assign(session) -> tuple[bool, tuple[str | None, str | None]]:
            person_id, branch_id = _pair()
            added = assign_supervisor(session, actor, person_id, branch_id)
            return added, ((None, None) if added else assignment_origin(session, actor, person_id, branch_id))

        def _assigned(result, names=people_d, units=branches_d):
            added, (who, at) = result
            person, branch = names.get(_pair()[0], ""), units.get(_pair()[1], "")
            if added:
                return t("supervision.assigned_named", person=person, branch=branch)
            origin = t("supervision.origin_by", who=who, at=at) if who else t("supervision.origin_at", at=at)
            return "info", t("supervision.already", person=person, branch=branch, origin=origin)

        def _unassigned(removed: bool, names=people_d, units=branches_d):
            person, branch = names.get(_pair()[0], ""), units.get(_pair()[1], "")
            if removed:
                return t("supervision.unassigned_named", person=person, branch=branch)
            return "info", t("supervision.not_assigned", person=person, branch=branch)

        b1, b2 = st.columns(2)
        b1.button(t("review.sup.assign"), key="sup_assign", on_click=run_write,
                  kwargs=dict(action=_assign, success=_assigned, slot="sup_admin", heading_key=ASSIGN_NOT_SAVED))
        b2.button(t("review.sup.unassign"), key="sup_unassign", on_click=run_write, kwargs=dict(
            action=lambda s, seen=shown_pairs: unassign_supervisor(s, actor, *_pair(), expected_assigned=_pair() in seen),
            success=_unassigned, slot="sup_admin", heading_key=ASSIGN_NOT_SAVED))
