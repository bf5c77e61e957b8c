"""违规申诉: a person charged with a violation appeals it (reason, evidence); HQ admin decides each
appeal with a comment. An accepted appeal exempts the violation from every ranking and count; the
violation itself stays on record (services/clocks/appeals). The decider sees what waits for them
first; a list is paged only when it is longer than a page."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.services.clocks.appeals import (
    COMMENT_MAX, EVIDENCE_MAX, REASON_MAX, decide_appeal, exempted_count, file_appeal, my_violations, pending_appeals,
)
from dashboard.ui.db import read_session
from dashboard.ui.format import local_time, plain, point_label
from dashboard.ui.forms import long_text, run_write, show_outcome
from dashboard.ui.session import require_page
from dashboard.ui.tables import pager, pick_record

PAGE = 50
actor = require_page("appeals")


def _offset(total: int, key: str) -> int:
    """A page number box only when the list is longer than a page."""
    return pager(total, PAGE, key=key) if total > PAGE else 0


def _also(name: str | None) -> str:
    """A violation charged too (第三章 五) names whose clock it was: a surveyor of a case dispatched to
    two people has two, alike but for this."""
    return f" · {t('appeals.also_for', name=name)}" if name else ""


def _status(status: str | None) -> str:
    return t(f"appeals.status.{status or 'none'}")


def render_mine() -> None:
    """The actor's own violations, and the form to appeal one not appealed yet."""
    st.subheader(t("appeals.mine"))
    with read_session() as session:
        total, _ = my_violations(session, actor, limit=0)
        offset = _offset(total, "ap_mine_page")
        _, mine = my_violations(session, actor, limit=PAGE, offset=offset, total=total)
    if not mine:
        st.info(t("appeals.none_mine"))
        return
    st.dataframe(pd.DataFrame({
        t("appeals.col.kind"): [t(f"deadlines.kind.{v.kind}") for v in mine],
        t("appeals.col.case_no"): [v.case_no or "—" for v in mine],
        t("appeals.col.item"): [point_label(v.point_seq, v.point_round) for v in mine],
        t("appeals.col.also_for"): [v.also_for or "" for v in mine],
        t("appeals.col.branch"): [v.branch or "—" for v in mine],
        t("appeals.col.due"): [local_time(v.due_at) for v in mine],
        t("appeals.col.found"): [local_time(v.found_at) for v in mine],
        t("appeals.col.status"): [_status(v.appeal_status) for v in mine],
        t("appeals.col.comment"): [v.comment or "" for v in mine],
    }), hide_index=True, key="ap_mine")
    open_ones = [v for v in mine if v.appeal_id is None]
    if not open_ones:
        return
    labels = {v.violation_id: t("appeals.option", kind=v.kind, case=v.case_no or v.branch or "—",
                                item=point_label(v.point_seq, v.point_round), due=local_time(v.due_at))
                              + _also(v.also_for)
              for v in open_ones}
    # Only the list's rows can be appealed here: one just appealed gives way to the next (outside=False).
    chosen = pick_record([v.violation_id for v in open_ones], labels, "ap_pick", t("appeals.pick"),
                         clicked_row=None, handed="ap_handed", outside=False)
    if chosen is None:
        return
    reason_key, evidence_key = f"ap_reason_{chosen}", f"ap_evidence_{chosen}"
    with st.form(f"ap_form_{chosen}"):
        long_text(t("appeals.field.reason"), key=reason_key, limit=REASON_MAX,
                     placeholder=t("appeals.placeholder.reason"))
        long_text(t("appeals.field.evidence"), key=evidence_key, limit=EVIDENCE_MAX,
                     placeholder=t("appeals.placeholder.evidence"))

        def _file() -> None:
            state = st.session_state
            run_write(lambda s: file_appeal(s, actor, chosen, state.get(reason_key), state.get(evidence_key)),
                      t("appeals.filed"), slot="appeals_mine", heading_key="appeals.not_filed")

        st.form_submit_button(t("appeals.submit"), type="primary", on_click=_file)


def render_pending() -> None:
    """HQ admin: the appeals waiting, the one chosen with its reason and evidence, accept or reject."""
    st.subheader(t("appeals.pending"))
    with read_session() as session:
        waiting, _ = pending_appeals(session, actor, limit=0)
        offset = _offset(waiting, "ap_pending_page")
        _, pending = pending_appeals(session, actor, limit=PAGE, offset=offset, total=waiting)
        exempted = exempted_count(session, actor) if actor.may("overdue.read") else None
    if exempted is not None:
        st.caption(t("appeals.exempted", n=f"{exempted:,}"))
    if not pending:
        st.info(t("appeals.none_pending"))
        return
    st.dataframe(pd.DataFrame({
        t("appeals.col.person"): [a.person for a in pending],
        t("appeals.col.branch"): [a.branch or "—" for a in pending],
        t("appeals.col.kind"): [t(f"deadlines.kind.{a.kind}") for a in pending],
        t("appeals.col.case_no"): [a.case_no or "—" for a in pending],
        t("appeals.col.also_for"): [a.also_for or "" for a in pending],
        t("appeals.col.due"): [local_time(a.due_at) for a in pending],
        t("appeals.col.found"): [local_time(a.found_at) for a in pending],
        t("appeals.col.filed"): [local_time(a.filed_at) for a in pending],
        t("appeals.col.reason"): [a.reason for a in pending],
    }), hide_index=True, key="ap_pending")
    by_id = {a.appeal_id: a for a in pending}
    labels = {a.appeal_id: t("appeals.pending_option", person=a.person, kind=a.kind,
                             case=a.case_no or a.branch or "—") + _also(a.also_for) for a in pending}
    # The appeal decided leaves the list; the next waiting one opens (outside=False: an appeal is its row).
    chosen = pick_record(list(by_id), labels, "ap_decide_pick", t("appeals.pick_pending"), clicked_row=None,
                         handed="ap_decide_handed", outside=False)
    if chosen is None:
        return
    appeal = by_id[chosen]
    st.markdown(t("appeals.detail", reason=plain(appeal.reason), evidence=plain(appeal.evidence or "—")))
    # The comment's key names the version drawn: a colleague's decision since gives a fresh field.
    key = f"ap_comment_{appeal.appeal_id}_{appeal.version}"
    long_text(t("appeals.field.comment"), key=key, limit=COMMENT_MAX)

    def _decide(accept: bool) -> None:
        run_write(lambda s: decide_appeal(s, actor, appeal.appeal_id, accept, st.session_state.get(key),
                                          expected_version=appeal.version),
                  lambda outcome: t(f"appeals.decided.{outcome}"), slot="appeals_decide",
                  heading_key="appeals.not_decided")

    left, right = st.columns(2)
    left.button(t("appeals.accept"), key=f"ap_accept_{chosen}", type="primary", on_click=_decide, args=(True,))
    right.button(t("appeals.reject"), key=f"ap_reject_{chosen}", on_click=_decide, args=(False,))


st.title(t("page.appeals"))
st.caption(t("appeals.caption"))
if actor.may("violation.decide"):
    render_pending()
    show_outcome("appeals_decide")
render_mine()
show_outcome("appeals_mine")
