"""The case page's major-case section (docs/DOMAIN.md §8): whether the case is major, why, who owns
it; a form to flag it (social impact, catastrophe) or to name another owner.

The form's writes name the case version drawn (button callbacks): a colleague's change since is
refused with who and when."""
from __future__ import annotations

import streamlit as st

from dashboard.i18n import t
from dashboard.services.actor import Actor
from dashboard.services.cases.detail import DetailFacts
from dashboard.services.cases.major import PERSON_REASONS, catastrophes, flag_major, owner_choices
from dashboard.ui.db import db_session
from dashboard.ui.format import local_time, plain
from dashboard.ui.forms import run_write, show_outcome

SLOT = "detail_major"


def render_major(actor: Actor, f: DetailFacts) -> None:
    may_flag = actor.may("major.flag")
    if not f.is_major and not may_flag:
        return
    st.subheader(t("major.detail.title"))
    show_outcome(SLOT)
    if f.is_major:
        reason = t(f"major.reason.{f.major_reason or 'over_authority'}")
        st.markdown(plain(t("major.detail.is_major", reason=reason, owner=f.major_owner_name or t("major.no_owner"),
                            at=local_time(f.major_flagged_at))))
        if f.catastrophe_name:
            st.caption(plain(t("major.detail.catastrophe", name=f.catastrophe_name)))
    if not may_flag:
        return
    # Drawn only when opened (the expander reruns the page as it opens): most visits to a case only
    # read it, and the owners and catastrophes behind the form were read on every one of them.
    panel = st.expander(t("major.detail.change_owner" if f.is_major else "major.detail.flag"), expanded=False,
                        key=f"major_open_{f.id}", on_change="rerun")
    if not panel.open:
        return
    key = f"major_{f.id}_{f.version}"
    # The catastrophes are asked for (and read) only when that is the reason chosen.
    asks_event = not f.is_major and st.session_state.get(f"{key}_reason") == "catastrophe"
    with db_session() as session:
        owners = dict(owner_choices(session, actor, f.id))
        events = {e.id: e.name for e in catastrophes(session, actor)} if asks_event else {}
    with panel:
        if not f.is_major:
            # Nothing chosen at first: a case is not flagged for a reason nobody picked. Outside the
            # form, so that choosing it redraws the form: the catastrophe is asked for only when the
            # reason is one (the walk found the box offered whatever the reason).
            st.radio(t("major.field.major_reason"), PERSON_REASONS, key=f"{key}_reason", horizontal=True,
                     index=None, format_func=lambda r: t(f"major.reason.{r}"))
        with st.form(f"major_form_{f.id}"):
            if asks_event:
                st.selectbox(t("major.field.catastrophe"), list(events), key=f"{key}_event", index=None,
                             format_func=events.get, placeholder=t("major.pick_event"))
            st.selectbox(t("major.field.major_owner"), list(owners), key=f"{key}_owner", index=None,
                         format_func=owners.get, placeholder=t("major.detail.pick_owner"))
            st.form_submit_button(t("major.detail.change_owner" if f.is_major else "major.detail.flag"),
                                  type="primary", on_click=_save, args=(actor, f.id, f.version, f.case_no, key,
                                                                        f.is_major, owners))


def _save(actor: Actor, case_id: int, version: int, case_no: str, key: str, is_major: bool,
          owners: dict[int, str]) -> None:
    state = st.session_state
    reason = state.get(f"{key}_reason") if not is_major else None
    event_id = state.get(f"{key}_event") if reason == "catastrophe" else None
    owner = state.get(f"{key}_owner")
    done = "major.detail.owner_changed" if is_major else "major.detail.flagged"
    run_write(lambda s: flag_major(s, actor, case_id, reason or "", owner, expected_version=version,
                                   catastrophe_event_id=event_id),
              t(done, case_no=case_no, owner=owners.get(owner, "—")), slot=SLOT, heading_key="major.not_saved")
