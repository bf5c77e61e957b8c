"""The case detail's 「操作」 heading and its state change, drawn for the person and written as drawn.

Why (issue 27): a surveyor's page opened before a colleague moved the case from 已调度 to 调查中 still
offered 「变更为 调查中」, and 确认变更 moved the case to 定损/核损: the form passed the version of the
case re-read on the submit's rerun (always current), and the target fell back to the first state
still offered. Here the case, its version, its state and the states offered are the button's
callback arguments, bound when the form was drawn; a colleague's change since is refused with
who and when.
"""
from __future__ import annotations

import streamlit as st

from dashboard.i18n import t
from dashboard.services.actor import Actor
from dashboard.services.cases.detail import CaseDetail
from dashboard.services.cases.state import advance_state, may_change_state
from dashboard.ui.forms import keep_choice_offered, run_write, set_outcome, show_outcome

TARGET = "detail_target_state"  # + the case version drawn: a case that moved gets a new, empty picker
SLOT = "detail_state"


def has_actions(actor: Actor, detail: CaseDetail) -> bool:
    """Whether the 「操作」 heading has anything under it for this person: what render_state_change
    draws (the state form, or the note that no change is open). An exec supervisor, who reads and
    comments but does not run the claim, saw the heading alone; the upload form and the answer link
    have their own places further down, so they do not count."""
    return bool(detail.allowed_states) or may_change_state(actor)


def render_state_change(actor: Actor, detail: CaseDetail) -> None:
    f = detail.facts
    if detail.allowed_states:
        key = f"{TARGET}_{f.id}_{f.version}"
        keep_choice_offered(key, detail.allowed_states)  # a state no longer offered is not kept chosen
        with st.form("detail_advance"):
            # Nothing preselected: moving a case on is a decision, never a default.
            st.selectbox(t("detail.state.to"), detail.allowed_states, format_func=lambda s: t(f"state.{s}"),
                         index=None, placeholder=t("board.contact.pick"), key=key)
            if "paid" in detail.allowed_states:
                # Read only when the case is marked paid (an st.form cannot show it for that choice alone).
                st.text_input(t("detail.state.paid_amount"), key=f"{key}_paid", placeholder="86000",
                              help=t("detail.state.paid_help"))
            st.form_submit_button(t("detail.state.submit"), on_click=_advance,
                                  args=(actor, f.id, f.version, f.case_no, f.state, tuple(detail.allowed_states)))
    elif may_change_state(actor):
        st.caption(t("detail.state.none"))
    show_outcome(SLOT)


def _advance(actor: Actor, case_id: int, version: int, case_no: str, state: str, offered: tuple[str, ...]) -> None:
    target = st.session_state.get(f"{TARGET}_{case_id}_{version}")
    if target not in offered:
        set_outcome(SLOT, "error", f"{t('detail.state.to')}：{t('detail.state.pick')}")
        return
    paid = st.session_state.get(f"{TARGET}_{case_id}_{version}_paid") if target == "paid" else None
    run_write(lambda s: advance_state(s, actor, case_id, target, expected_version=version, paid_amount=paid),
              success=t("detail.state.done_case", case_no=case_no, before=t(f"state.{state}"),
                        after=t(f"state.{target}")),
              slot=SLOT)
