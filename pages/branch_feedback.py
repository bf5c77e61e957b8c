"""Branch feedback: the inbox of HQ opinion points (open first, by time left or newest first), answered point by
point by the branch manager; the tracker's register of every tiered case with its progress
(分级管理办法 第四章 一.5–6, 二)."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.services.reference import due_soon_hours
from dashboard.rules.review import MAX_TEXT
from dashboard.services.errors import UserError
from dashboard.services.review.opinions import answer_points, branch_inbox, branch_opinion, case_opinions, tracker_register
from dashboard.services.review.supervision import post_progress_note, supervision_thread
from dashboard.ui.db import db_session, read_session
from dashboard.ui.format import local_time, money, plain, tier_label
from dashboard.ui.forms import long_text
from dashboard.ui.risk_view import badge_text, colour_filter, colour_tones
from dashboard.ui.review_view import left_text, render_opinion, run_action, selectable_table, show_flash
from dashboard.ui.segmented import segmented_choice
from dashboard.ui.session import require_page
from dashboard.ui.tones import due_tone
from dashboard.ui.tables import download_buttons, open_case, paged, pager

actor = require_page("branch_feedback")
PAGE_SIZE = 25
# What the register's widgets hold, kept while the inbox is open (see _keep below).
REGISTER_KEYS, REGISTER_PREFIXES = (("fb_reg_closed", "fb_reg_case_no", "fb_reg_colour", "fb_reg_case", "fb_progress"),
                                    ("fb_reg_page_",))
now = clock.now()
is_manager = actor.may("review.answer")
is_tracker = actor.has_role("branch_tracker")
st.title(t("review.page.branch_feedback"))
show_flash()
# The register runs only when open (on_change="rerun"): it counts opinions, answers and notes of
# every tiered case of the branch, which the inbox, where a manager lands, does not need.
# A tracker's work is the register, so a tracker who does not answer opens there.
tab_labels = [t("review.fb.inbox"), t("review.fb.register")]
inbox_tab, register_tab = st.tabs(tab_labels, key="fb_tab", on_change="rerun",
                                  default=tab_labels[1] if is_tracker and not is_manager else tab_labels[0])


def _keep(keys: tuple[str, ...], prefixes: tuple[str, ...], drawn: frozenset[str] = frozenset()) -> None:
    """Streamlit forgets the state of a widget not drawn in a run (its widget clean-up): re-assigning
    such a value to itself keeps what the person typed or chose (an answer half written, a filter,
    the chosen case) for when they come back. Never a widget drawn in this run: a value assigned
    through st.session_state is pushed back into the browser's field, which would wipe what the
    person is typing there when a rerun (leaving the previous answer box) lands meanwhile."""
    for key in [k for k in st.session_state if isinstance(k, str) and (k in keys or k.startswith(prefixes))]:
        if key not in drawn:
            st.session_state[key] = st.session_state[key]


if inbox_tab.open:
    _keep(REGISTER_KEYS, REGISTER_PREFIXES)


def inbox() -> None:
    f1, f2, f3, f4 = st.columns([4, 3, 3, 5], vertical_alignment="bottom")  # the order: two choices side by side
    only_open = f1.toggle(t("review.filter.only_open"), key="fb_only_open", value=True)
    case_no = f2.text_input(t("review.filter.case_no"), key="fb_case_no")
    colour = colour_filter(f3, "fb_colour")
    with f4:
        order = segmented_choice(t("review.fb.order"), ("due", "newest"), key="fb_order", default="due",
                                 format_func=lambda o: t(f"review.fb.order.{o}"))
    newest_first = order == "newest"
    with read_session() as session:
        total, rows = paged(lambda offset: branch_inbox(session, actor, only_open=only_open, case_no=case_no,
                                                        colour=colour, limit=PAGE_SIZE, offset=offset,
                                                        newest_first=newest_first),
                            PAGE_SIZE, key="fb_page", filters=(only_open, case_no, colour, order))
        soon_hours = due_soon_hours(session)
    is_open = [r.status in ("open", "sent_back") for r in rows]
    frame = pd.DataFrame({
        t("review.col.case_no"): [r.case_no for r in rows],
        t("risk.col"): [badge_text(r.risk_colour) for r in rows],
        t("review.col.seq"): [r.seq for r in rows],
        t("review.col.point"): [r.body for r in rows],
        t("review.col.status"): [t(f"review.point_status.{r.status}") for r in rows],
        t("review.col.posted_at"): [local_time(r.posted_at) for r in rows],
        t("review.col.due_at"): [local_time(r.due_at) if o else "—" for r, o in zip(rows, is_open)],
        t("review.col.time_left"): [left_text(r.due_at, now) if o else "—" for r, o in zip(rows, is_open)],
        t("review.col.latest_answer"): [r.latest_answer or "" for r in rows],
        t("review.col.last_reason"): [r.last_reason or "" for r in rows],
    })
    if rows:
        st.caption(t("review.fb.inbox_hint_newest" if newest_first else "review.fb.inbox_hint", n=f"{total:,}"))
        # A click on any row opens its opinion below, whatever its age or page of the list.
        selectable_table(frame, "fb_inbox_table", [r.opinion_id for r in rows], "fb_opinion",
                         tones={t("review.col.time_left"): [due_tone(r.due_at if o else None, now, soon_hours)
                                                            for r, o in zip(rows, is_open)],
                                t("risk.col"): colour_tones(r.risk_colour for r in rows)})
        download_buttons(frame, "review_inbox", key="fb_inbox_dl", page_only=True)
    else:
        st.info(t("review.fb.nothing_open") if only_open and not case_no else t("review.no_rows"))
    answer_form(rows)


def _opinion_to_show(rows) -> int | None:
    """The opinion chosen by a click, else the first open one listed: the most urgent (the list by
    time left) or the newest (newest first): the manager lands on what the order asked for."""
    chosen = st.session_state.get("fb_opinion")
    if chosen is not None:
        return chosen
    return next((r.opinion_id for r in rows if r.status in ("open", "sent_back")), None)


_UNSENT = "fb_unsent"  # answers refused because their points were answered meanwhile: shown to copy


def _keep_unsent(case_no: str, points: Sequence[tuple[int, int]]) -> None:
    """What was typed for `points` ((id, seq)) when the answers were refused as stale: the points are
    no longer open, so their boxes are not drawn again, and the text would be gone without a word."""
    typed = [(seq, text) for pid, seq in points if (text := st.session_state.get(f"answer_{pid}", "")).strip()]
    if typed:
        st.session_state[_UNSENT] = (case_no, typed)


def answer_form(rows) -> None:
    st.subheader(t("review.fb.answer_title"))
    unsent = st.session_state.pop(_UNSENT, None)
    if unsent:
        case_no, answers = unsent
        st.info(t("review.fb.unsent", case_no=plain(case_no),
                  answers="\n".join(f"- {t('review.fb.answer_label', n=seq)}：{plain(text)}" for seq, text in answers)))
    opinion_id = _opinion_to_show(rows)
    if opinion_id is None:
        st.caption(t("review.fb.pick_hint"))
        return
    try:
        with db_session() as session:
            view = branch_opinion(session, actor, opinion_id)
    except UserError as err:  # gone from the branch's view (never another branch's)
        st.session_state.pop("fb_opinion", None)
        st.warning(t(err.key))
        return
    open_points = [p for p in view.points if p.status in ("open", "sent_back")]
    # Half-written answers of other opinions stay for when the manager comes back to them.
    _keep((), ("answer_",), drawn=frozenset(f"answer_{p.id}" for p in open_points) if is_manager else frozenset())
    st.markdown(t("review.fb.answering", case_no=plain(view.case_no), at=local_time(view.posted_at),
                  author=plain(view.author), open=len(open_points)))
    if not is_manager:
        st.caption(t("review.fb.manager_only"))
    elif not open_points:  # some may be accepted already: "all answered" alone read as none judged
        st.info(t("review.fb.all_accepted" if all(p.status == "accepted" for p in view.points)
                  else "review.fb.all_answered"))

    def _answer_box(point) -> None:
        if is_manager and point.status in ("open", "sent_back"):
            long_text(t("review.fb.answer_label", n=point.seq), key=f"answer_{point.id}", height=90, limit=MAX_TEXT)

    if not (is_manager and open_points):
        with st.container(border=True):
            render_opinion(view, now)
        return
    # What was drawn is what is written: this opinion's points at the versions shown.
    drawn = {p.id: p.version for p in open_points}

    def _submit(session, drawn=drawn, opinion_id=view.id):
        # The opinion answered stays open below, with what was sent, even when it was opened by
        # itself as the most urgent: it left the list of open points and the page fell back to the
        # next one, or to "click a row" (walk, issue 23).
        st.session_state["fb_opinion"] = opinion_id
        typed = {pid: st.session_state.get(f"answer_{pid}", "") for pid in drawn}
        filled = {pid: text for pid, text in typed.items() if text.strip()}
        return answer_points(session, actor, filled, {pid: v for pid, v in drawn.items() if pid in filled})

    # A form: the answers go together on 提交反馈, and leaving one box reruns nothing, so no rerun
    # can land while the manager types the next answer (one did, and that answer was not sent).
    with st.form(f"fb_answers_{view.id}", enter_to_submit=False):
        render_opinion(view, now, point_widget=_answer_box)
        st.form_submit_button(t("review.fb.submit"), key="fb_submit", type="primary", on_click=run_action, kwargs=dict(
            action=_submit, success=lambda ids, case_no=view.case_no: t("review.fb.submitted", n=len(ids),
                                                                         case_no=case_no),
            clear=tuple(f"answer_{pid}" for pid in drawn),
            on_stale=lambda case_no=view.case_no, points=tuple((p.id, p.seq) for p in open_points):
                _keep_unsent(case_no, points)))


def register() -> None:
    f1, f2, f3 = st.columns(3, vertical_alignment="bottom")
    include_closed = f1.toggle(t("review.filter.include_closed"), key="fb_reg_closed")
    reg_case_no = f2.text_input(t("review.filter.case_no"), key="fb_reg_case_no")
    colour = colour_filter(f3, "fb_reg_colour")
    with read_session() as session:
        total, _ = tracker_register(session, actor, include_closed=include_closed, case_no=reg_case_no, colour=colour,
                                    limit=0)
        offset = pager(total, PAGE_SIZE, key="fb_reg_page", filters=(include_closed, reg_case_no, colour))
        _, reg = tracker_register(session, actor, include_closed=include_closed, case_no=reg_case_no, colour=colour,
                                  limit=PAGE_SIZE, offset=offset, total=total)
    frame = pd.DataFrame({
        t("review.col.case_no"): [r.case_no for r in reg],
        t("risk.col"): [badge_text(r.risk_colour) for r in reg],
        t("review.col.sub_branch"): [r.sub_branch for r in reg],
        t("review.col.tier"): [tier_label(r.tier) for r in reg],
        t("review.col.state"): [t(f"state.{r.state}") for r in reg],
        t("review.col.estimate"): [money(r.estimate) for r in reg],
        t("review.col.tiered_at"): [local_time(r.tiered_at) for r in reg],
        t("review.col.opinions"): [r.opinions for r in reg],
        t("review.col.open_points"): [r.open_points for r in reg],
        t("review.col.answers"): [r.answers for r in reg],
        t("review.col.progress_notes"): [r.progress_notes for r in reg],
        t("review.col.last_progress"): [local_time(r.last_progress_at) for r in reg],
    })
    if not reg:
        st.info(t("review.no_rows"))
        return
    selectable_table(frame, "fb_register_table", [r.case_id for r in reg], "fb_reg_case",
                     tones={t("risk.col"): colour_tones(r.risk_colour for r in reg)})
    download_buttons(frame, "tracker_register", key="fb_register_dl", page_only=True)
    labels = {r.case_id: r.case_no for r in reg}
    case_id = st.selectbox(t("review.pick_case"), list(labels), key="fb_reg_case", format_func=labels.get,
                           index=None, placeholder=t("review.pick_placeholder"))
    if case_id is not None:
        st.subheader(t("review.fb.thread"))
        with db_session() as session:
            views = case_opinions(session, actor, case_id)
            thread = supervision_thread(session, actor, case_id)
        for view in views:
            with st.container(border=True):
                render_opinion(view, now)
        for entry in thread:
            line = "review.sup.opinion_line" if entry.kind == "supervision" else "review.sup.progress_line"
            st.caption(t(line, author=plain(entry.author), to=plain(entry.addressed_to), at=local_time(entry.at),
                         body=plain(entry.body)))
        if st.button(t("review.open_detail"), key="fb_open_detail"):
            open_case(case_id)
        if is_tracker:
            long_text(t("review.fb.progress_label"), key="fb_progress", height=90, limit=MAX_TEXT)
            st.button(t("review.fb.add_progress"), key="fb_progress_save", on_click=run_action, kwargs=dict(
                action=lambda s, drawn=case_id: post_progress_note(s, actor, drawn,
                                                                   st.session_state.get("fb_progress", "")),
                success=t("review.fb.progress_saved_on", case_no=labels[case_id]), clear=("fb_progress",)))


with inbox_tab:
    # A manager's inbox is drawn even behind the register: the answers being typed live in the
    # browser's form until 提交反馈, and stay there while the manager looks at the register.
    if inbox_tab.open or is_manager:
        inbox()
with register_tab:
    if register_tab.open:
        register()
