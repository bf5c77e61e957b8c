"""People and accounts (HQ admin): find a person, see their roles, disable or restore the account.

Disabling ends the person's access at their next action in every browser they are signed in
(services/admin/people). The change names the account version this page drew, so a colleague's
change in between is refused naming who and when, never silently undone."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.services.admin.people import STATUSES, PersonRow, StatusChange, open_cases, people, set_person_active
from dashboard.ui.db import db_session, read_session
from dashboard.ui.format import local_time, plain
from dashboard.ui.forms import keep_choice_by_label, run_write, show_outcome
from dashboard.ui.segmented import segmented_choice
from dashboard.ui.session import require_page
from dashboard.ui.tables import paged

actor = require_page("people")
PAGE_SIZE = 50
SLOT = "people"
st.title(t("page.people"))
st.caption(t("people.caption"))

f1, f2 = st.columns([3, 2], vertical_alignment="bottom")
search = f1.text_input(t("people.search"), key="pp_search", max_chars=64, placeholder=t("people.search_hint"))
status = segmented_choice(t("people.status"), STATUSES, key="pp_status", default="all",
                          format_func=lambda s: t(f"people.status.{s}"))

with read_session() as session:
    def _page_at(offset: int) -> tuple[int, list[PersonRow]]:
        found = people(session, actor, search=search, status=status, limit=PAGE_SIZE, offset=offset)
        return found.total, found.rows
    _, rows = paged(_page_at, PAGE_SIZE, key="pp_page", filters=(search, status))


def _roles(row: PersonRow) -> str:
    return "；".join(f"{t(f'role.{role}')}（{unit}）" for role, unit in row.roles) or "—"


def _changed(row: PersonRow) -> str:
    if row.status_changed_at is None:
        return "—"
    return t("people.changed_by", who=row.status_changed_by or "—", at=local_time(row.status_changed_at))


if not rows:
    st.info(t("people.none"))
    st.stop()

st.dataframe(pd.DataFrame({
    t("people.col.username"): [r.username for r in rows],
    t("people.col.name"): [r.full_name for r in rows],
    t("people.col.title"): [r.title or "—" for r in rows],
    t("people.col.roles"): [_roles(r) for r in rows],
    t("people.col.phone"): [r.phone or "—" for r in rows],
    t("people.col.status"): [t("people.status.active" if r.active else "people.status.disabled") for r in rows],
    t("people.col.changed"): [_changed(r) for r in rows],
}), hide_index=True, width="stretch", key="pp_table")

st.subheader(t("people.act.title"))
show_outcome(SLOT)
labels = {r.id: f"{r.full_name}（{r.username}）" for r in rows}
keep_choice_by_label("pp_person", labels)
person_id = st.selectbox(t("people.act.person"), list(labels), index=None, key="pp_person",
                         format_func=labels.get, placeholder=t("people.act.pick"))
chosen = next((r for r in rows if r.id == person_id), None)
if chosen is None:
    st.stop()


def _message(change: StatusChange) -> tuple[str, str]:
    if not change.changed:
        return "info", t("people.act.already_active" if change.active else "people.act.already_disabled",
                         name=change.full_name)
    if change.active:
        return "success", t("people.act.enabled", name=change.full_name)
    return "success", t("people.act.disabled", name=change.full_name, sessions=change.sessions_ended)


def _save(person: int, active: bool, version: int) -> None:
    """The person and version bound when the button was drawn (never re-read on the submit's rerun)."""
    st.session_state.pop(f"pp_confirm_{person}", None)
    run_write(lambda s: set_person_active(s, actor, person, active, expected_version=version), _message,
              slot=SLOT, heading_key="people.not_saved")


state_text = t("people.status.active" if chosen.active else "people.status.disabled")
# Markdown: the bold is ours, the name and units read as typed (format.plain).
st.markdown(t("people.act.now", name=plain(chosen.full_name), state=state_text, roles=plain(_roles(chosen))))
if chosen.active:
    with db_session() as session:
        pending = open_cases(session, actor, chosen.id)
    if pending:
        st.warning(t("people.act.open_cases", n=pending))
    if chosen.id == actor.person_id:
        st.info(t("people.error.self"))
    else:
        confirm = st.checkbox(t("people.act.confirm", name=plain(chosen.full_name)), key=f"pp_confirm_{chosen.id}")
        st.button(t("people.act.disable"), type="primary", key=f"pp_disable_{chosen.id}", disabled=not confirm,
                  icon=":material/person_off:", on_click=_save, args=(chosen.id, False, chosen.version))
else:
    st.button(t("people.act.enable"), type="primary", key=f"pp_enable_{chosen.id}", icon=":material/person_check:",
              on_click=_save, args=(chosen.id, True, chosen.version))
