"""The complaints page's parts: the register with one item's record and the form for its next
step, the registration form, the summary analysis; the overdue tracker's list of items without a
return visit; the case page's section."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.rules.complaints import CAUSES, CHANNELS, KINDS, MEDIATION_OUTCOMES, STEPS
from dashboard.services import reference
from dashboard.services.actor import Actor
from dashboard.services.complaints.analysis import DIMENSIONS, complaint_analysis, counts_by
from dashboard.services.complaints.register import (
    TEXT_MAX, ItemDetail, ItemForm, ItemRow, StepInput, advance_item, assign_item, assignee_choices, complaint_items,
    item_detail, register_item,
)
from dashboard.services.errors import UserError
from dashboard.settings import BUSINESS_TZ
from dashboard.ui import charts
from dashboard.ui.db import db_session, read_session
from dashboard.ui.format import local_time, plain
from dashboard.ui.forms import ANY_DAY, long_text, run_write, show_outcome
from dashboard.ui.tables import download_buttons, empty_note, open_case, paged, pick_record
from dashboard.ui.tones import RED, tagged

PAGE_SIZE = 50
SLOT = "complaints"
_SELECTED = "cp_selected"


def visit_days() -> float:
    with read_session() as session:
        return float(reference.get_setting(session, "complaint.return_visit_days"))


def _frame(rows: list[ItemRow]) -> pd.DataFrame:
    return pd.DataFrame({
        "id": [r.id for r in rows],
        t("complaints.col.item_no"): [r.item_no for r in rows],
        t("complaints.col.kind"): [t(f"complaints.kind.{r.kind}") for r in rows],
        t("complaints.col.cause"): [t(f"complaints.cause.{r.cause}") for r in rows],
        t("complaints.col.step"): [t(f"complaints.step.{r.step}") for r in rows],
        t("complaints.col.overdue"): [t("complaints.overdue_flag") if r.visit_overdue else "" for r in rows],
        t("complaints.col.complainant"): [r.complainant for r in rows],
        t("complaints.col.case_no"): [r.case_no or "—" for r in rows],
        t("complaints.col.branch"): [r.branch for r in rows],
        t("complaints.col.assignee"): [r.assignee or t("complaints.unassigned") for r in rows],
        t("complaints.col.outcome"): [t(f"complaints.outcome.{r.outcome or 'open'}") for r in rows],
        t("complaints.col.received_on"): [r.received_on.isoformat() for r in rows],
        t("complaints.col.registered_at"): [local_time(r.registered_at) for r in rows],
    })


def _pickable_table(frame: pd.DataFrame, rows: list[ItemRow], key: str) -> int | None:
    """The list; the row clicked (its index), which elsewhere opens that item on the complaints page."""
    shown, tag_columns = tagged(frame.drop(columns=["id"]), {
        t("complaints.col.overdue"): [RED if r.visit_overdue else None for r in rows]},
        widths={t("complaints.col.overdue"): "small" if not any(r.visit_overdue for r in rows) else 110})
    event = st.dataframe(shown, key=key, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", column_config=tag_columns or None)
    picked = event.selection.rows if event and hasattr(event, "selection") else []
    if not picked or picked[0] >= len(rows):
        return None
    if key != "cp_table":
        st.session_state[_SELECTED] = rows[picked[0]].id
        st.switch_page("pages/complaints.py")
    return picked[0]


# ---------------------------------------------------------------- the register


def render_register(actor: Actor) -> None:
    show_outcome(SLOT)
    with read_session() as session:
        branches = reference.branch_choices(session, actor)
    names = {b.id: b.name for b in branches}
    f = st.columns([1, 1, 1, 1, 2])
    kind = f[0].selectbox(t("complaints.filter.kind"), [None, *KINDS], key="cp_kind", placeholder=t("common.all"),
                          format_func=lambda k: t("common.all") if k is None else t(f"complaints.kind.{k}"))
    step = f[1].selectbox(t("complaints.filter.step"), [None, *STEPS], key="cp_step", placeholder=t("common.all"),
                          format_func=lambda k: t("common.all") if k is None else t(f"complaints.step.{k}"))
    cause = f[2].selectbox(t("complaints.filter.cause"), [None, *CAUSES], key="cp_cause", placeholder=t("common.all"),
                           format_func=lambda k: t("common.all") if k is None else t(f"complaints.cause.{k}"))
    branch = f[3].selectbox(t("complaints.filter.branch"), [None, *names], key="cp_branch",
                            placeholder=t("common.all"),
                            format_func=lambda b: t("common.all") if b is None else names[b])
    search = f[4].text_input(t("complaints.filter.search"), key="cp_search", max_chars=60)
    g = st.columns(2)
    open_only = g[0].toggle(t("complaints.filter.open"), value=True, key="cp_open")
    overdue_only = g[1].toggle(t("complaints.filter.overdue"), value=False, key="cp_overdue")
    query = dict(kind=kind, step=step, cause=cause, branch_id=branch, search=search, open_only=open_only,
                 visit_overdue_only=overdue_only)
    with read_session() as session:
        _, rows = paged(lambda offset: complaint_items(session, actor, **query, limit=PAGE_SIZE, offset=offset),
                        PAGE_SIZE, key="cp_page", filters=query)
    frame = _frame(rows)
    clicked = None
    if not empty_note(frame):
        clicked = _pickable_table(frame, rows, "cp_table")
        download_buttons(frame.drop(columns=["id"]), "complaints", key="cp_dl", page_only=True)
    labels = {r.id: f"{r.item_no} · {t(f'complaints.kind.{r.kind}')} · {r.complainant}" for r in rows}
    selected = pick_record([r.id for r in rows], labels, "cp_pick", t("complaints.pick"), clicked_row=clicked,
                           handed=_SELECTED, filters=query)
    if selected is None:
        return
    try:
        with db_session() as session:
            detail = item_detail(session, actor, int(selected))
    except UserError as err:
        st.session_state.pop("cp_pick", None)
        st.error(t(err.key))
        return
    render_item(actor, detail)


def _recorded(detail: ItemDetail) -> list[str]:
    """What the item's steps recorded so far, one line each."""
    pairs = [("escalation_note", detail.escalation_note), ("minutes", detail.minutes), ("plan", detail.plan),
             ("mediation_outcome", t(f"complaints.mediation.{detail.mediation_outcome}")
              if detail.mediation_outcome else None),
             ("mediation_note", detail.mediation_note), ("arbitration_result", detail.arbitration_result),
             ("justified", None if detail.justified is None else
              t("complaints.justified.yes" if detail.justified else "complaints.justified.no")),
             ("apology", detail.apology), ("measure", detail.measure), ("handling_result", detail.handling_result),
             ("return_visit", detail.return_visit)]
    return [f"- {t(f'complaints.field.{name}')}：{plain(str(value))}" for name, value in pairs if value]


def render_item(actor: Actor, detail: ItemDetail) -> None:
    r = detail.row
    with st.container(border=True):
        head, button = st.columns([4, 1], vertical_alignment="center")
        head.markdown(f"**{t('complaints.detail', kind=t(f'complaints.kind.{r.kind}'), item_no=r.item_no)}** · "
                      f"{t(f'complaints.step.{r.step}')}"
                      + (f" · :red[{t('complaints.overdue_flag')}]" if r.visit_overdue else ""))
        if r.case_id and button.button(t("special.open_case"), key=f"cp_open_{r.id}"):
            open_case(r.case_id)
        st.caption(" · ".join([t(f"complaints.cause.{r.cause}"), t(f"complaints.channel.{detail.channel}"),
                               plain(r.complainant), r.branch, plain(r.assignee or t("complaints.unassigned")),
                               t("complaints.col.received_on") + " " + r.received_on.isoformat()]))
        st.markdown(f"**{t('complaints.summary')}**：{plain(detail.summary)}")
        lines = _recorded(detail)
        if lines:
            st.markdown("\n".join(lines))
        with st.expander(t("complaints.history")):
            st.dataframe(pd.DataFrame({
                t("complaints.history.step"): [t(f"complaints.step.{s.to_step}") for s in detail.steps],
                t("complaints.field.note"): [s.note or "" for s in detail.steps],
                t("complaints.history.by"): [s.person for s in detail.steps],
                t("complaints.history.at"): [local_time(s.at) for s in detail.steps],
            }), hide_index=True, width="stretch")
        if not actor.may("complaint.handle"):
            return
        if r.step == "archived":
            st.caption(t("complaints.final"))
            return
        if r.step not in ("handled", "return_visited"):
            _assign_form(actor, detail)
        if r.step == "registered":
            st.caption(t("complaints.assign_first_hint"))
            return
        _advance_form(actor, detail)


def _assign_form(actor: Actor, detail: ItemDetail) -> None:
    r = detail.row
    key = f"cp_assign_{r.id}_{r.version}"
    with db_session() as session:
        people = dict(assignee_choices(session, actor, detail.branch_id))
    with st.form(key):
        st.markdown(f"**{t('complaints.assign')}**")
        options = list(people)
        st.selectbox(t("complaints.field.assignee"), options, key=f"{key}_who",
                     index=options.index(detail.assignee_id) if detail.assignee_id in options else None,
                     format_func=people.get, placeholder=t("common.choose"))

        def _assign(item_id: int = r.id, version: int = r.version) -> None:
            who = st.session_state.get(f"{key}_who")
            run_write(lambda db: assign_item(db, actor, item_id, who, expected_version=version),
                      lambda _item: t("complaints.assigned", name=people.get(who, "")), slot=SLOT,
                      heading_key="complaints.not_saved")

        st.form_submit_button(t("complaints.assign_submit"), on_click=_assign)


_TYPED = ("target", "justified", "mediation_outcome", "note_escalation", "minutes", "plan", "mediation_note", "arbitration_result", "handling_result", "apology",
          "measure", "return_visit")


def _advance_form(actor: Actor, detail: ItemDetail) -> None:
    """Not an st.form: the fields asked for follow the next step chosen."""
    r = detail.row
    key = f"cp_adv_{r.id}_{r.version}"
    s = st.session_state
    # What a colleague's move made stale is drawn again here, in the form of the item as it is now.
    for name, value in s.pop(f"cp_typed_{r.id}", {}).items():
        if value not in (None, "") and f"{key}_{name}" not in s:
            s[f"{key}_{name}"] = value
    st.markdown(f"**{t('complaints.advance')}**")
    # Chosen on purpose where there is a choice: a pre-selected first step was saved unread.
    steps = list(detail.next_steps)
    target = st.selectbox(t("complaints.field.target"), steps, key=f"{key}_target",
                          index=0 if len(steps) == 1 else None, placeholder=t("complaints.choose_step"),
                          format_func=lambda k: t(f"complaints.step.{k}"))
    if target is None:
        return
    fields: list[str] = []
    if target == "escalated":
        fields.append("note_escalation")
    if target == "working_group":
        fields += ["minutes", "plan"]
    if r.step == "mediation":
        st.radio(t("complaints.field.mediation_outcome"), MEDIATION_OUTCOMES, key=f"{key}_mediation_outcome",
                 index=None, horizontal=True, format_func=lambda k: t(f"complaints.mediation.{k}"))
        fields.append("mediation_note")
    if target == "handled":
        if r.step == "arbitration":
            fields.append("arbitration_result")
        fields.append("handling_result")
        if r.kind == "complaint":
            st.radio(t("complaints.field.justified"), [True, False], key=f"{key}_justified", index=None,
                     horizontal=True,
                     format_func=lambda v: t("complaints.justified.yes" if v else "complaints.justified.no"))
            if s.get(f"{key}_justified"):
                fields += ["apology", "measure"]
    if target == "return_visited":
        fields.append("return_visit")
    for name in fields:
        label = "complaints.field.escalation_note" if name == "note_escalation" else f"complaints.field.{name}"
        long_text(t(label), key=f"{key}_{name}", limit=TEXT_MAX, height=80)

    def _advance(item_id: int = r.id, version: int = r.version, chosen: str = target) -> None:
        given = StepInput(
            note=s.get(f"{key}_note_escalation"), minutes=s.get(f"{key}_minutes"), plan=s.get(f"{key}_plan"),
            mediation_outcome=s.get(f"{key}_mediation_outcome"), mediation_note=s.get(f"{key}_mediation_note"),
            arbitration_result=s.get(f"{key}_arbitration_result"), justified=s.get(f"{key}_justified"),
            apology=s.get(f"{key}_apology"), measure=s.get(f"{key}_measure"),
            handling_result=s.get(f"{key}_handling_result"), return_visit=s.get(f"{key}_return_visit"))
        typed = {name: s.get(f"{key}_{name}") for name in _TYPED}
        run_write(lambda db: advance_item(db, actor, item_id, chosen, given, expected_version=version),
                  lambda item: t("complaints.advanced", item_no=item.item_no, step=t(f"complaints.step.{chosen}")),
                  slot=SLOT, heading_key="complaints.not_saved",
                  on_stale=lambda: s.update({f"cp_typed_{item_id}": typed}))

    st.button(t("complaints.advance_submit"), type="primary", key=f"{key}_go", on_click=_advance)


# ---------------------------------------------------------------- registering


def render_new_item(actor: Actor) -> None:
    show_outcome(f"{SLOT}_new")
    s = st.session_state
    with read_session() as session:
        branches = reference.branch_choices(session, actor)
    names = {b.id: b.name for b in branches}
    today = clock.now().astimezone(BUSINESS_TZ).date()
    with st.form("cp_new", clear_on_submit=False):
        a, b, c = st.columns(3)
        a.selectbox(t("complaints.field.kind"), KINDS, key="cp_new_kind", format_func=lambda k: t(f"complaints.kind.{k}"))
        b.selectbox(t("complaints.field.cause"), CAUSES, key="cp_new_cause", index=None, placeholder=t("common.choose"),
                    format_func=lambda k: t(f"complaints.cause.{k}"))
        c.selectbox(t("complaints.field.channel"), CHANNELS, key="cp_new_channel", index=None,
                    placeholder=t("common.choose"), format_func=lambda k: t(f"complaints.channel.{k}"))
        a.text_input(t("complaints.field.case_no"), key="cp_new_case_no", max_chars=40)
        b.selectbox(t("complaints.field.branch"), list(names), key="cp_new_branch",
                    index=0 if len(names) == 1 else None, placeholder=t("common.choose"), format_func=names.get)
        c.date_input(t("complaints.field.received_on"), value=today, key="cp_new_received_on", format="YYYY-MM-DD",
                     **ANY_DAY)
        st.text_input(t("complaints.field.complainant"), key="cp_new_complainant", max_chars=100)
        long_text(t("complaints.field.summary"), key="cp_new_summary", limit=TEXT_MAX, height=100)

        def _register() -> None:
            form = ItemForm(kind=s.get("cp_new_kind"), cause=s.get("cp_new_cause"), channel=s.get("cp_new_channel"),
                            case_no=s.get("cp_new_case_no"), branch_id=s.get("cp_new_branch"),
                            complainant=s.get("cp_new_complainant"), summary=s.get("cp_new_summary"),
                            received_on=s.get("cp_new_received_on"))

            def done(item) -> None:
                for k in ("cp_new_case_no", "cp_new_complainant", "cp_new_summary"):
                    s[k] = ""
                s[_SELECTED] = item.id  # the register opens the new item

            run_write(lambda db: register_item(db, actor, form), lambda item: t("complaints.registered",
                                                                                item_no=item.item_no),
                      slot=f"{SLOT}_new", heading_key="complaints.not_saved", on_success=done)

        st.form_submit_button(t("complaints.register_submit"), type="primary", on_click=_register)


# ---------------------------------------------------------------- the analysis


def _dimension_label(dimension: str, value: str) -> str:
    if dimension == "branch":
        return value
    prefix = {"kind": "complaints.kind", "cause": "complaints.cause", "outcome": "complaints.outcome"}[dimension]
    return t(f"{prefix}.{value}")


def render_analysis(actor: Actor) -> None:
    today = clock.now().astimezone(BUSINESS_TZ).date()
    a, b, c = st.columns(3)
    date_from = a.date_input(t("complaints.analysis.from"), value=today - timedelta(days=180), key="cp_an_from",
                             format="YYYY-MM-DD")
    date_to = b.date_input(t("complaints.analysis.to"), value=today, key="cp_an_to", format="YYYY-MM-DD")
    dimension = c.selectbox(t("complaints.analysis.by"), DIMENSIONS, key="cp_an_dim",
                            format_func=lambda d: t(f"complaints.dim.{d}"))
    try:
        with read_session() as session:
            counts = counts_by(session, actor, dimension, date_from=date_from, date_to=date_to)
    except UserError as err:
        st.error(t(err.key))
        return
    if not counts:
        st.caption(t("complaints.analysis.empty"))
        return
    long = pd.DataFrame({"month": [c.month.strftime("%Y-%m") for c in counts],
                         "label": [_dimension_label(dimension, c.value) for c in counts],
                         "items": [c.items for c in counts]})
    st.caption(t("complaints.analysis.total", n=f"{int(long['items'].sum()):,}"))
    st.altair_chart(charts.complaint_trend_chart(long, t(f"complaints.dim.{dimension}")), width="stretch")
    table = long.pivot_table(index="label", columns="month", values="items", aggfunc="sum", fill_value=0)
    table[t("complaints.col.total")] = table.sum(axis=1)
    table = table.sort_values(table.columns[-1], ascending=False).reset_index().rename(
        columns={"label": t(f"complaints.dim.{dimension}")})
    st.dataframe(table, hide_index=True, width="stretch")

    def detail() -> pd.DataFrame:  # read when downloaded: one row per month × kind × cause × branch × outcome
        with read_session() as session:
            cells = complaint_analysis(session, actor, date_from=date_from, date_to=date_to)
        return pd.DataFrame({
            t("complaints.col.month"): [c.month.strftime("%Y-%m") for c in cells],
            t("complaints.dim.kind"): [t(f"complaints.kind.{c.kind}") for c in cells],
            t("complaints.dim.cause"): [t(f"complaints.cause.{c.cause}") for c in cells],
            t("complaints.dim.branch"): [c.branch for c in cells],
            t("complaints.dim.outcome"): [t(f"complaints.outcome.{c.outcome}") for c in cells],
            t("complaints.col.items"): [c.items for c in cells]})

    download_buttons(detail, "complaints_analysis", key="cp_an_dl")


# ---------------------------------------------------------------- elsewhere


def render_visit_overdue(actor: Actor) -> None:
    """The overdue tracker's section: items registered too long ago without a return visit."""
    if not actor.may("complaint.read"):
        return
    with read_session() as session:
        total, rows = complaint_items(session, actor, visit_overdue_only=True, limit=20)
    st.subheader(t("complaints.overdue.heading"))
    st.caption(t("complaints.overdue.caption", days=f"{visit_days():g}", n=f"{total:,}"))
    if rows:
        _pickable_table(_frame(rows), rows, "ov_complaints")


def render_case_items(actor: Actor, case_id: int) -> None:
    """The complaints / disputes of one case, if any."""
    if not actor.may("complaint.read"):
        return
    with read_session() as session:
        _, rows = complaint_items(session, actor, case_id=case_id, limit=20)
    if not rows:
        return
    st.markdown(f"**{t('complaints.case_section')}**")
    _pickable_table(_frame(rows), rows, "detail_complaints")
