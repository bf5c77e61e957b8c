"""The special-case page's parts: the requests list with one request's form and decision, the raise
form, the periodic report; and the case page's section (the form travels with the case)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.rules.special_cases import TYPE_C_EXCLUSIONS, TYPES
from dashboard.services.actor import Actor
from dashboard.services.errors import UserError
from dashboard.services.special_cases.approvals import (
    COMMENT_MAX, DECISIONS, STATUSES, TEXT_MAX, SpecialDetail, SpecialRequest, chain_preview, decide_special,
    raise_special_by_number, special_cases, special_detail,
)
from dashboard.services.special_cases.report import PERIODS, UNITS, special_report
from dashboard.settings import BUSINESS_TZ, SPECIAL_APPROVER_POSITIONS
from dashboard.ui import charts
from dashboard.ui.db import db_session, read_session
from dashboard.ui.format import local_time, money, plain
from dashboard.ui.forms import ANY_DAY, long_text, run_write, show_outcome
from dashboard.ui.tables import download_buttons, empty_note, open_case, paged, pick_record
from db.models import CUSTOMER_KINDS

PAGE_SIZE = 50
SLOT = "special"
_SELECTED = "sp_selected"


def holds_an_approval_post(actor: Actor) -> bool:
    return any(a.role == "first_responsible" and a.position in SPECIAL_APPROVER_POSITIONS.values()
               for a in actor.assignments)


def _waiting_text(level: str | None) -> str:
    return t(f"special.level.{level}") if level else "—"


# ---------------------------------------------------------------- the list and one request


def render_requests(actor: Actor) -> None:
    show_outcome(SLOT)
    f1, f2, f3 = st.columns([2, 2, 2], vertical_alignment="bottom")
    status = f1.selectbox(t("special.filter.status"), [None, *STATUSES], key="sp_status", placeholder=t("common.all"),
                          format_func=lambda s: t("common.all") if s is None else t(f"special.status.{s}"))
    special_type = f2.selectbox(t("special.filter.type"), [None, *TYPES], key="sp_type", placeholder=t("common.all"),
                                format_func=lambda s: t("common.all") if s is None else t(f"special.type_short.{s}"))
    approver = holds_an_approval_post(actor)
    mine = f3.toggle(t("special.filter.mine"), value=approver, key="sp_mine", disabled=not approver)
    query = dict(status=status, special_type=special_type, mine_only=mine and approver)
    with read_session() as session:
        _, rows = paged(lambda offset: special_cases(session, actor, **query, limit=PAGE_SIZE, offset=offset),
                        PAGE_SIZE, key="sp_page", filters=query)
    frame = pd.DataFrame({
        "id": [r.id for r in rows],
        t("special.col.case_no"): [r.case_no for r in rows],
        t("special.col.type"): [t(f"special.type_short.{r.special_type}") for r in rows],
        t("special.col.customer"): [t(f"special.customer.{r.customer_kind}") for r in rows],
        t("special.col.sub_branch"): [r.sub_branch or r.branch for r in rows],
        t("special.col.requested"): [money(r.requested_amount) for r in rows],
        t("special.col.extra"): [money(r.extra_amount) for r in rows],
        t("special.col.status"): [t(f"special.status.{r.status}") for r in rows],
        t("special.col.waiting"): [_waiting_text(r.waiting_level) for r in rows],
        t("special.col.raised_by"): [r.raised_by for r in rows],
        t("special.col.raised_at"): [local_time(r.raised_at) for r in rows],
    })
    clicked: list[int] = []
    # An empty list still opens the request just decided (pick_record keeps it): deciding the last one
    # waiting for an approver emptied 待我审批 and took the outcome's request away with it.
    if not empty_note(frame):
        event = st.dataframe(frame.drop(columns=["id"]), key="sp_table", hide_index=True, width="stretch",
                             on_select="rerun", selection_mode="single-row")
        clicked = event.selection.rows if event and hasattr(event, "selection") else []
        download_buttons(frame.drop(columns=["id"]), "special_cases", key="sp_dl", page_only=True)
    labels = {r.id: f"{r.case_no} · {t(f'special.type_short.{r.special_type}')} · {money(r.requested_amount)} · "
                    f"{local_time(r.raised_at)}" for r in rows}
    selected = pick_record([r.id for r in rows], labels, "sp_pick", t("special.pick"),
                           clicked_row=clicked[0] if clicked else None, handed=_SELECTED, filters=query)
    if selected is None:
        return
    try:
        with db_session() as session:
            detail = special_detail(session, actor, int(selected))
    except UserError as err:
        st.session_state.pop("sp_pick", None)
        st.error(t(err.key))
        return
    render_detail(actor, detail)


def _justification_lines(detail: SpecialDetail) -> list[str]:
    lines = []
    for name, value in detail.justification.items():
        if name in ("premium_written", "premium_collected", "paid_losses", "pending_losses", "expected_premium"):
            shown = money(value)
        elif name == "past_loss_ratio_pct":
            shown = f"{value}%"
        elif name == "expected_premium_on":
            shown = value.isoformat()
        else:
            shown = plain(str(value))
        lines.append(f"- {_read_label(name)}：{shown}")
    return lines


def _read_label(name: str) -> str:
    """A form field's label as a read-only line's: without the typing hint in brackets (多张用逗号分隔,
    元), which told an approver reading a request how to fill in a form he is not shown."""
    return re.sub(r"\s*[（(][^（()）]*[）)]$", "", t(f"special.field.{name}"))


def render_detail(actor: Actor, detail: SpecialDetail) -> None:
    r = detail.row
    with st.container(border=True):
        head, button = st.columns([4, 1], vertical_alignment="center")
        head.markdown(f"**{t('special.detail', case_no=plain(r.case_no))}** · "
                      f"{t(f'special.type.{r.special_type}')} · {t(f'special.status.{r.status}')}")
        if button.button(t("special.open_case"), key=f"sp_open_{r.id}"):
            open_case(r.case_id)
        cols = st.columns(3)
        cols[0].metric(t("special.col.requested"), money(r.requested_amount))
        cols[1].metric(t("special.col.normal"), money(r.normal_amount))
        cols[2].metric(t("special.col.extra"), money(r.extra_amount))
        st.markdown(f"**{t('special.reason')}**：{plain(detail.reason)}")
        if detail.circumstances:
            st.markdown(f"**{t('special.circumstances')}**：" + "、".join(
                t(f"special.exclusion.{c}") for c in detail.circumstances))
        st.markdown(f"**{t('special.justification_for', kind=t(f'special.customer.{r.customer_kind}'))}**")
        st.markdown("\n".join(_justification_lines(detail)) or "—")
        st.markdown(f"**{t('special.chain')}**")
        for line in detail.lines:
            limit = detail.limits.get(line.level)
            bound = t("special.limit_none") if limit is None else t("special.limit_upto", limit=f"{float(limit):,.0f}")
            title = f"{t(f'special.level.{line.level}')}（{bound}）"
            holders = "、".join(line.holders) or t("special.no_holder")
            if line.decision:
                mark = ":material/check_circle:" if line.decision == "approved" else ":material/cancel:"
                st.markdown(f"{mark} {title} · **{t(f'special.decision.{line.decision}')}** · {plain(line.person or '')} · "
                            f"{local_time(line.at)}  \n{plain(line.comment or '')}")
            elif r.status == "pending" and line.level == r.waiting_level:
                st.markdown(f":material/hourglass_top: {title} · {t('special.line.waiting', holders=plain(holders))}")
            elif r.status == "pending":
                st.markdown(f":material/radio_button_unchecked: {title} · {t('special.line.later', holders=plain(holders))}")
        # A comment a colleague's decision made stale is shown to copy, never put in a form: where a
        # form follows, it is the level after (the person holds both posts), and one more click would
        # have sent the first level's comment, with its decision, as the next level's.
        kept = st.session_state.pop(f"sp_typed_{r.id}", None)
        if kept:
            st.info(t("special.comment_not_sent", comment=plain(kept)))
        if detail.i_decide:
            _decision_form(actor, detail)
        elif r.status == "pending" and detail.i_raised:
            st.caption(t("special.yours_waits", level=_waiting_text(r.waiting_level)))
        elif r.status == "pending" and actor.may("special.approve") and holds_an_approval_post(actor):
            st.caption(t("special.not_your_turn", level=_waiting_text(r.waiting_level)))


def _decision_form(actor: Actor, detail: SpecialDetail) -> None:
    r = detail.row
    # Keyed by the request and the version drawn: the form a decision was made on is not the next level's.
    key = f"sp_dec_{r.id}_{r.version}"
    with st.form(key):
        st.markdown(f"**{t('special.decide')}**（{_waiting_text(r.waiting_level)}）")
        # No decision chosen until the approver chooses one (a form drawn with 同意 already chosen
        # approved with one click what the approver had not decided).
        st.radio(t("special.field.decision"), DECISIONS, key=f"{key}_decision", horizontal=True, index=None,
                 format_func=lambda d: t(f"special.decision.{d}"))
        long_text(t("special.field.comment"), key=f"{key}_comment", limit=COMMENT_MAX, height=90)

        def _decide(special_id: int = r.id, version: int = r.version) -> None:
            s = st.session_state
            run_write(lambda db: decide_special(db, actor, special_id, s.get(f"{key}_decision"),
                                                s.get(f"{key}_comment"), expected_version=version),
                      lambda row: t("special.decided", decision=t(f"special.decision.{s.get(f'{key}_decision')}"))
                      + t(f"special.now.{row.status}", level=_waiting_text(row.chain[row.next_level]
                                                                            if row.status == "pending" else None)),
                      slot=SLOT, heading_key="special.not_saved",
                      on_stale=lambda: s.update({f"sp_typed_{special_id}": s.get(f"{key}_comment")}))

        st.form_submit_button(t("special.submit_decision"), type="primary", on_click=_decide)


# ---------------------------------------------------------------- raising


_AMOUNT_FIELDS = ("premium_written", "premium_collected", "paid_losses", "pending_losses")
_CHOICE_KEYS = ("sp_new_type", "sp_new_kind")  # select boxes: empty is no choice (None), not ""


def render_raise_form(actor: Actor) -> None:
    """Outside a form on purpose: the justification asked for follows the customer type chosen, and
    the approval chain shown follows the amount typed."""
    show_outcome(f"{SLOT}_raise")
    s = st.session_state
    left, right = st.columns(2)
    left.text_input(t("special.field.case_no"), key="sp_case_no", max_chars=40)
    right.selectbox(t("special.field.type"), TYPES, key="sp_new_type", index=None, placeholder=t("common.choose"),
                    format_func=lambda k: t(f"special.type.{k}"))
    left.selectbox(t("special.field.customer_kind"), CUSTOMER_KINDS, key="sp_new_kind", index=None,
                   placeholder=t("common.choose"), format_func=lambda k: t(f"special.customer.{k}"))
    right.multiselect(t("special.field.circumstances"), TYPE_C_EXCLUSIONS, key="sp_new_circ",
                      format_func=lambda c: t(f"special.exclusion.{c}"), placeholder=t("special.circumstances_none"))
    left.text_input(t("special.field.requested_amount"), key="sp_new_requested", placeholder="86000")
    right.text_input(t("special.field.normal_amount"), key="sp_new_normal", placeholder="0")
    long_text(t("special.field.reason"), key="sp_new_reason", limit=TEXT_MAX, height=90)
    kind = s.get("sp_new_kind")
    if kind:
        st.markdown(f"**{t('special.justification_for', kind=t(f'special.customer.{kind}'))}**")
    if kind == "key_customer":
        st.text_input(t("special.field.policy_numbers"), key="sp_new_policy_numbers", max_chars=500)
        cols = st.columns(5)
        for col, name in zip(cols, (*_AMOUNT_FIELDS, "past_loss_ratio_pct")):
            col.text_input(t(f"special.field.{name}"), key=f"sp_new_{name}")
    elif kind == "prospect":
        a, b = st.columns(2)
        a.text_input(t("special.field.expected_premium"), key="sp_new_expected_premium")
        b.date_input(t("special.field.expected_premium_on"), value=None, key="sp_new_expected_premium_on",
                     format="YYYY-MM-DD", **ANY_DAY)
    elif kind == "reputation":
        long_text(t("special.field.customer_background"), key="sp_new_customer_background", limit=TEXT_MAX,
                     height=90)
    with db_session() as session:
        preview = chain_preview(session, actor, s.get("sp_new_requested"), kind, s.get("sp_case_no"))
    if preview.levels:
        st.info(t("special.chain_preview", amount=s.get("sp_new_requested"),
                  chain=" → ".join(t(f"special.level.{level}") + (t("special.passed_by_you")
                                                                  if level in preview.passed else "")
                                   for level in preview.levels)))
    if preview.blocked:
        st.warning(t("special.error.no_other_holder"))

    def _raise() -> None:
        request = SpecialRequest(
            special_type=s.get("sp_new_type"), customer_kind=s.get("sp_new_kind"),
            circumstances=list(s.get("sp_new_circ") or []), requested_amount=s.get("sp_new_requested"),
            normal_amount=s.get("sp_new_normal"), reason=s.get("sp_new_reason"))
        chosen = s.get("sp_new_kind")
        if chosen == "key_customer":
            request.policy_numbers = s.get("sp_new_policy_numbers")
            for name in (*_AMOUNT_FIELDS, "past_loss_ratio_pct"):
                setattr(request, name, s.get(f"sp_new_{name}"))
        elif chosen == "prospect":
            request.expected_premium = s.get("sp_new_expected_premium")
            request.expected_premium_on = s.get("sp_new_expected_premium_on")
        elif chosen == "reputation":
            request.customer_background = s.get("sp_new_customer_background")
        case_no = (s.get("sp_case_no") or "").strip()

        def action(db):
            return raise_special_by_number(db, actor, case_no, request), case_no

        def cleared(result) -> None:
            s[_SELECTED] = result[0].id  # 审批单 opens the request just raised, not the one open before
            # Each box emptied by value, not its key deleted: with the key gone the browser went on
            # showing the request just raised, so it looked unsent, and a second click was refused
            # as incomplete (seen in a browser walk). Every box here starts empty: no choice, no
            # circumstance, no date, no text.
            for key in [k for k in s.keys() if str(k).startswith("sp_new_") or k == "sp_case_no"]:
                s[key] = (None if key in _CHOICE_KEYS or not isinstance(s[key], (str, list))
                          else [] if isinstance(s[key], list) else "")

        run_write(action, lambda result: t("special.raised", case_no=result[1],
                                           level=_waiting_text(result[0].chain[result[0].next_level])),
                  slot=f"{SLOT}_raise", heading_key="special.not_saved", on_success=cleared)

    st.button(t("special.raise_submit"), type="primary", key="sp_raise", on_click=_raise)


# ---------------------------------------------------------------- the periodic report


def render_report(actor: Actor) -> None:
    st.caption(t("special.report.caption"))
    today = clock.now().astimezone(BUSINESS_TZ).date()
    c1, c2, c3, c4 = st.columns(4)
    date_from = c1.date_input(t("special.report.from"), value=today - timedelta(days=365), key="sp_rep_from",
                              format="YYYY-MM-DD")
    date_to = c2.date_input(t("special.report.to"), value=today, key="sp_rep_to", format="YYYY-MM-DD")
    period = c3.selectbox(t("special.report.period"), PERIODS, key="sp_rep_period",
                          format_func=lambda p: t(f"special.period.{p}"))
    by = c4.selectbox(t("special.report.by"), UNITS, index=1, key="sp_rep_by",
                      format_func=lambda u: t(f"special.by.{u}"))
    if not isinstance(date_from, date) or not isinstance(date_to, date):
        return
    try:
        with read_session() as session:
            rows = special_report(session, actor, date_from=date_from, date_to=date_to, period=period, by=by)
    except UserError as err:
        st.error(t(err.key))
        return
    if not rows:
        st.caption(t("special.report.empty"))
        return
    label = {"month": lambda d: f"{d:%Y-%m}", "quarter": lambda d: f"{d.year} Q{(d.month - 1) // 3 + 1}",
             "year": lambda d: f"{d.year}"}[period]
    frame = pd.DataFrame({
        t("special.col.period"): [label(r.period) for r in rows],
        t("special.col.branch"): [r.branch for r in rows],
        t("special.col.unit"): [r.unit for r in rows],
        t("special.col.raised"): [r.raised for r in rows],
        t("special.col.approved"): [r.approved for r in rows],
        t("special.col.rejected"): [r.rejected for r in rows],
        t("special.col.pending"): [r.pending for r in rows],
        t("special.col.extra_paid"): [float(r.extra_paid) for r in rows],
        t("special.col.requested_approved"): [float(r.requested_approved) for r in rows],
    })
    totals = (pd.DataFrame({"unit": [r.unit for r in rows], "extra": [float(r.extra_paid) for r in rows],
                            "approved": [r.approved for r in rows]})
              .groupby("unit", as_index=False).sum())
    totals["extra_wan"] = totals["extra"] / 10000
    st.altair_chart(charts.special_extra_chart(totals), width="stretch")
    st.dataframe(frame, hide_index=True, width="stretch", column_config={
        t("special.col.extra_paid"): st.column_config.NumberColumn(format="¥%,.2f"),
        t("special.col.requested_approved"): st.column_config.NumberColumn(format="¥%,.2f")})
    download_buttons(frame, "special_cases_report", key="sp_rep_dl")


# ---------------------------------------------------------------- the case page's section


def render_case_special(actor: Actor, case_id: int) -> None:
    """The special-case requests of one case, if any (the form travels with the case)."""
    if not actor.may("special.read"):
        return
    with read_session() as session:
        _, rows = special_cases(session, actor, case_id=case_id, limit=10)
    if not rows:
        return
    st.markdown(f"**{t('special.case_section')}**")
    for r in rows:
        waiting = f" · {t('special.col.waiting')}：{_waiting_text(r.waiting_level)}" if r.waiting_level else ""
        st.markdown("- " + t("special.case_line", type=t(f"special.type_short.{r.special_type}"),
                             status=t(f"special.status.{r.status}"), requested=f"{r.requested_amount:,.2f}",
                             extra=f"{r.extra_amount:,.2f}") + waiting)
    if st.button(t("special.open_page"), key="detail_special_open"):
        st.session_state[_SELECTED] = rows[0].id
        st.switch_page("pages/special_cases.py")
