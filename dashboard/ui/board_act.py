"""The dispatch board's act panel: the call center acts on ONE chosen case, loaded by its id.

Why it is built this way (issue 27): the picker was rebuilt from the list's current page on the
submit's rerun, so when the case a person had chosen left the page (a colleague's 600,000 moved it
up a tier), the save fell back to the first case of the list and tiered that one. Here the chosen
case is kept by id (a row click or a typed case number, whatever page it is on), and every write
is a button callback whose arguments are the case, the dispatch and the versions that were drawn:
a colleague's change since is refused with who and when, nothing lands on another case.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.i18n import has_key, t
from dashboard.rules.contact_reasons import reasons_for
from dashboard.services.actor import Actor
from dashboard.services.dispatching.dispatch import (
    ContactResult, DelegateResult, EstimateResult, name_delegate, record_contact_attempt, record_estimate,
)
from dashboard.services.dispatching.board import (
    BoardRow, DispatchInfo, board_case, board_case_id, case_last_change, delegate_candidates, dispatch_phones,
)
from dashboard.services.errors import NeedsConfirmation, NotFound, UserError
from dashboard.ui.db import db_session
from dashboard.ui.format import money, plain, tier_label
from dashboard.ui.forms import (
    chosen_option, error_text, keep_choice_by_label, run_write, set_outcome, show_outcome,
)
from dashboard.ui.tables import open_case

CHOSEN = "bd_chosen"  # the case id the person chose; never a list position
DRAWN = "bd_drawn"  # Drawn: the case and its dispatches as the person first saw them
SLOT = "bd_act"
_PICK_SLOT = "bd_pick"
_CONFIRM_PENDING = "bd_confirm_pending"  # (case id, amount text) refused as implausible, awaiting the tick
OUTCOMES = ("reached", "unreachable", "unavailable")


@dataclass(frozen=True)
class Drawn:
    """The versions the person's work on the chosen case started from: taken when the case is first
    shown, kept across the reruns of clicking through the form (a radio click redraws the page, and
    a colleague's call logged meanwhile must not become what this person answers), renewed after
    their own save or when they ask. Every write names these versions."""

    case_id: int
    case_version: int
    dispatch_versions: dict[int, int]


def _drawn(case: BoardRow) -> Drawn:
    drawn = st.session_state.get(DRAWN)
    if drawn is None or drawn.case_id != case.case_id:
        drawn = Drawn(case.case_id, case.version, {d.dispatch_id: d.version for d in case.dispatches})
        st.session_state[DRAWN] = drawn
    return drawn


def _renew(_result: object = None) -> None:
    st.session_state.pop(DRAWN, None)


def dispatch_text(d: DispatchInfo) -> str:
    who = f"{d.person_name}·{t(f'position.{d.position}')}（{t(f'dispatch.contact.{d.contact_state}')}）"
    return f"{who}→{d.delegate_name}" if d.delegate_name else who


def dispatch_choice(d: DispatchInfo) -> str:
    """A dispatch as a picker names it: what does not change (the person, post and tier), so that a
    colleague's call does not change the label under the person's choice; the state is shown beside."""
    tier = t(f"detail.tier_short.{d.tier}") if has_key(f"detail.tier_short.{d.tier}") else d.tier
    return f"{d.person_name}·{t(f'position.{d.position}')}·{tier}"


def _dispatch_picker(case: BoardRow, dispatches: list[DispatchInfo], key: str) -> tuple[int, dict[int, str]]:
    labels = {d.dispatch_id: dispatch_choice(d) for d in dispatches}
    keep_choice_by_label(key, labels)
    chosen = st.selectbox(t("board.act.dispatch"), list(labels), format_func=labels.get, key=key)
    shown = next(d for d in dispatches if d.dispatch_id == chosen)
    state = t(f"dispatch.contact.{shown.contact_state}")
    st.caption(t("board.act.contact_state",
                 state=f"{state} → {plain(shown.delegate_name)}" if shown.delegate_name else state))
    return chosen, labels


def choose(case_id: int | None) -> None:
    if case_id is None:
        st.session_state.pop(CHOSEN, None)
    else:
        st.session_state[CHOSEN] = int(case_id)


def render_picker(actor: Actor) -> None:
    """A case number typed here chooses that case, on any page of the list, under any filter."""
    def pick() -> None:
        typed = (st.session_state.get("bd_pick_case_no") or "").strip()
        if not typed:
            return
        try:
            with db_session() as session:
                choose(board_case_id(session, actor, typed))
        except UserError as err:
            set_outcome(_PICK_SLOT, "error", error_text(err, "board.pick.refused"))
        else:
            st.session_state["bd_pick_case_no"] = ""

    st.caption(t("board.pick.help"))
    with st.form("bd_pick_form", border=False):
        left, right = st.columns([4, 1], vertical_alignment="bottom")
        left.text_input(t("board.pick.case_no"), key="bd_pick_case_no", placeholder=t("board.pick.placeholder"))
        right.form_submit_button(t("board.pick.submit"), on_click=pick)
    show_outcome(_PICK_SLOT, toast=False)


def render_act_panel(actor: Actor) -> None:
    case_id = st.session_state.get(CHOSEN)
    if case_id is None:
        st.info(t("board.pick.none"))
        return
    try:
        with db_session() as session:
            case = board_case(session, actor, case_id)
    except NotFound:
        choose(None)
        st.warning(t("common.not_found"))
        return
    estimate = money(case.estimate) if case.estimate is not None else "—"
    # Markdown: the case number, a branch's own tier code and the units read as written (format.plain).
    st.markdown("**" + plain(t("board.act.chosen", case_no=case.case_no, tier=tier_label(case.tier), estimate=estimate,
                               state=t(f"state.{case.state}"), unit=f"{case.branch} / {case.sub_branch}")) + "**")
    left, right, _rest = st.columns([2, 2, 6])
    if left.button(t("board.act.open_detail"), key="bd_open_detail", icon=":material/open_in_new:"):
        open_case(case.case_id)
    right.button(t("board.act.clear"), key="bd_clear", on_click=choose, args=(None,))
    show_outcome(SLOT)
    drawn = _drawn(case)
    moved = st.container()  # one place, moved or not: the tabs below keep their place in the page
    if drawn.case_version != case.version or drawn.dispatch_versions != {d.dispatch_id: d.version
                                                                           for d in case.dispatches}:
        with db_session() as session:
            who, at, yourself = case_last_change(session, actor, case.case_id)
        # The person's own change in another tab names them as such: it read "— 于 … 更新了它".
        moved.warning(plain(t("board.act.moved_self", at=at or "—") if yourself
                            else t("board.act.moved", who=who or "—", at=at or "—")))
        moved.button(t("board.act.refresh"), key="bd_refresh", on_click=_renew)
    contact_tab, delegate_tab, retier_tab = st.tabs(
        # A case with no estimate yet gets its first one here: 「重新估损」 would read as a second.
        [t("board.act.contact"), t("board.act.delegate"),
         t("board.act.first_estimate" if case.estimate is None else "board.act.retier")], key="bd_act_tab",
        on_change="rerun")
    with contact_tab:
        _contact_form(actor, case, drawn)
    with delegate_tab:
        _delegate_form(actor, case, drawn)
    with retier_tab:
        _retier_form(actor, case, drawn)


# ---------------------------------------------------------------- 联系结果


def _contact_form(actor: Actor, case: BoardRow, drawn: Drawn) -> None:
    if not case.dispatches:
        st.info(t("board.act.no_dispatch"))
        return
    cid = case.case_id
    chosen, labels = _dispatch_picker(case, case.dispatches, f"bd_contact_dispatch_{cid}")
    with db_session() as session:
        person_phone, delegate_phone = dispatch_phones(session, actor, cid).get(chosen, (None, None))
    st.caption(t("board.act.phone", phone=person_phone or t("board.act.no_phone"))
               + (t("board.act.delegate_phone", phone=delegate_phone) if delegate_phone else ""))
    # Nothing preselected: the outcome of a call is what the person heard, never a default.
    outcome = st.radio(t("board.act.outcome"), OUTCOMES, index=None, horizontal=True, key=f"bd_outcome_{cid}",
                       format_func=lambda o: t(f"board.outcome.{o}"))
    if outcome and reasons_for(outcome):
        st.radio(t("board.contact.reason"), reasons_for(outcome), index=None, horizontal=True,
                 key=f"bd_reason_code_{cid}_{outcome}", format_func=lambda r: t(f"board.reason.{r}"),
                 help=t("board.contact.reason_help"))
    st.text_input(t("board.contact.note"), key=f"bd_reason_{cid}", max_chars=200)
    st.button(t("common.save"), type="primary", key=f"bd_contact_save_{cid}", on_click=_save_contact,
              args=(actor, cid, drawn.case_version, drawn.dispatch_versions, labels))


def _save_contact(actor: Actor, case_id: int, case_version: int, dispatch_versions: dict[int, int],
                  labels: dict[int, str]) -> None:
    state = st.session_state
    dispatch_id = chosen_option(state.get(f"bd_contact_dispatch_{case_id}"), labels)
    if dispatch_id is None:  # the choice names no dispatch drawn here: nothing is written
        set_outcome(SLOT, "error", t("common.stale_write"))
        return
    outcome = state.get(f"bd_outcome_{case_id}")
    if outcome is None:
        set_outcome(SLOT, "error", f"{t('board.act.outcome')}：{t('dispatch.error.outcome_required')}")
        return
    reason_code = state.get(f"bd_reason_code_{case_id}_{outcome}") if reasons_for(outcome) else None
    note = (state.get(f"bd_reason_{case_id}") or "").strip() or None

    def clear(_result: object) -> None:
        # Set, not deleted: a deleted widget value leaves the browser showing the old choice.
        _renew()
        state[f"bd_reason_{case_id}"] = ""
        for key in [k for k in state if str(k).startswith((f"bd_outcome_{case_id}", f"bd_reason_code_{case_id}_"))]:
            state[key] = None

    run_write(lambda s: record_contact_attempt(
        s, actor, dispatch_id, outcome, reason_code=reason_code, reason=note,
        expected_version=dispatch_versions.get(dispatch_id, -1), expected_case_version=case_version),
        success=contact_message, slot=SLOT, heading_key="board.contact.not_saved", on_success=clear)


def _names(people) -> str:
    return "、".join(f"{p.full_name}（{t(f'position.{p.position}')}）" for p in people)


def contact_message(result: ContactResult) -> str:
    """What was recorded and what happens next, from what the service did."""
    reason = f"（{t(f'board.reason.{result.reason_code}')}）" if result.reason_code else ""
    text = t("board.contact.done", case_no=result.case_no, person=result.person_name,
             position=t(f"position.{result.position}"), outcome=t(f"dispatch.contact.{result.outcome}"), reason=reason)
    if result.next_step != "none":
        text += t(f"board.contact.next.{result.next_step}", names=_names(result.notified),
                  delegate=result.delegate_name or "")
    return text


# ---------------------------------------------------------------- 指定代理人


def _delegate_form(actor: Actor, case: BoardRow, drawn: Drawn) -> None:
    cid = case.case_id
    absent = [d for d in case.dispatches if d.contact_state in ("unreachable", "unavailable", "delegated")]
    if not absent:
        st.info(t("board.act.no_dispatch") if not case.dispatches else t("board.act.no_absent"))
        return
    dispatch_id, _labels = _dispatch_picker(case, absent, f"bd_delegate_dispatch_{cid}")
    with db_session() as session:
        people = dict(delegate_candidates(session, actor, dispatch_id))
    person_key = f"bd_delegate_person_{cid}_{dispatch_id}"
    keep_choice_by_label(person_key, people)
    st.selectbox(t("board.act.delegate_person"), list(people), format_func=people.get, index=None,
                 placeholder=t("board.contact.pick"), key=person_key, help=t("board.delegate.order"))
    st.button(t("common.save"), type="primary", key=f"bd_delegate_save_{cid}", on_click=_save_delegate,
              args=(actor, cid, drawn.case_version, dispatch_id, drawn.dispatch_versions.get(dispatch_id, -1), people))


def _save_delegate(actor: Actor, case_id: int, case_version: int, dispatch_id: int, dispatch_version: int,
                   people: dict[int, str]) -> None:
    person_id = chosen_option(st.session_state.get(f"bd_delegate_person_{case_id}_{dispatch_id}"), people)
    if person_id is None:
        set_outcome(SLOT, "error", f"{t('board.act.delegate_person')}：{t('board.delegate.required')}")
        return

    def message(result: DelegateResult) -> str:
        who = f"{result.delegate_name}（{result.delegate_title}）" if result.delegate_title else result.delegate_name
        return t("board.delegate.done", delegate=who, absent=result.absent_name, case_no=result.case_no)

    run_write(lambda s: name_delegate(s, actor, dispatch_id, person_id, expected_version=dispatch_version,
                                      expected_case_version=case_version),
              success=message, slot=SLOT, heading_key="board.delegate.not_saved",
              on_success=lambda _r: (_renew(), st.session_state.update({f"bd_delegate_person_{case_id}_{dispatch_id}": None})))


# ---------------------------------------------------------------- 重新估损


def _retier_form(actor: Actor, case: BoardRow, drawn: Drawn) -> None:
    cid = case.case_id
    amount = st.text_input(t("cases.estimate.amount"), key=f"bd_amount_{cid}")
    st.text_input(t("cases.estimate.note"), key=f"bd_note_{cid}", max_chars=200)
    if st.session_state.get(_CONFIRM_PENDING) == (cid, (amount or "").strip()):
        st.checkbox(t("amount.confirm_box"), key=f"bd_confirm_{cid}")
    # A case with an estimate gets a new one (it re-tiers, and dispatches more only if the level rises).
    label = t("cases.estimate.submit") if case.estimate is None else t("board.retier.submit")
    st.button(label, type="primary", key=f"bd_retier_save_{cid}", on_click=_save_estimate,
              args=(actor, cid, drawn.case_version))


def _save_estimate(actor: Actor, case_id: int, case_version: int) -> None:
    state = st.session_state
    amount = (state.get(f"bd_amount_{case_id}") or "").strip()
    note = (state.get(f"bd_note_{case_id}") or "").strip() or None
    confirmed = bool(state.get(f"bd_confirm_{case_id}")) and state.get(_CONFIRM_PENDING) == (case_id, amount)

    def action(session) -> EstimateResult:
        try:
            return record_estimate(session, actor, case_id, amount, note=note, expected_version=case_version,
                                   confirmed=confirmed)
        except NeedsConfirmation:
            state[_CONFIRM_PENDING] = (case_id, amount)  # the 「金额无误」 box appears for this amount
            raise

    def clear(_result: object) -> None:
        _renew()
        # The tab stays on the estimate, under its new name once the case has one (录入 → 重新估损):
        # a tab whose name changed fell back to the first one.
        state["bd_act_tab"] = t("board.act.retier")
        for key in (f"bd_amount_{case_id}", f"bd_note_{case_id}"):
            state[key] = ""
        state.pop(f"bd_confirm_{case_id}", None)
        state.pop(_CONFIRM_PENDING, None)

    run_write(action, success=estimate_message, slot=SLOT, heading_key="cases.estimate.form_errors", on_success=clear)


def estimate_message(result: EstimateResult) -> str:
    if result.escalated and result.dispatched:
        return t("board.retier.done_escalated", case_no=result.case_no, amount=money(result.amount),
                 before=tier_label(result.tier_before), after=tier_label(result.tier_after),
                 names=_names(result.dispatched))
    return t("board.retier.done", case_no=result.case_no, amount=money(result.amount),
             tier=tier_label(result.tier_after))
