"""时效设置: the rule settings form, which writes only what the person changed, as of what they saw.

Why (issue 27): admin A saved D7 = 40; admin B, whose form was older, changed only D5 and saved,
and D7 went back to 36 — the form wrote every field it showed, from stale values. Here each field
remembers the value and version it was drawn with (its baseline, kept in session_state when the
field is first drawn); the save sends only the fields whose text differs from their baseline,
each with its baseline version, and a setting a colleague saved since is refused with who/when.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.i18n import t
from dashboard.services.actor import Actor
from dashboard.services.admin.rule_settings import (
    CHOICES, EDITABLE_SETTINGS, SettingView, editable_settings, range_params, update_rule_settings,
)
from dashboard.services.stale import shown_time
from dashboard.ui.db import db_session
from dashboard.ui.format import local_time, plain
from dashboard.ui.forms import run_write, set_outcome, show_outcome

SLOT = "admin_settings"
_BASE = "admin_settings_base"  # key -> Baseline: what each field showed when it was drawn


@dataclass(frozen=True)
class Baseline:
    text: str
    version: int


def field_key(key: str) -> str:
    return f"admin_set_{key}"


def value_text(value: object) -> str:
    return str(value)


def range_text(key: str) -> str:
    if EDITABLE_SETTINGS[key].kind in CHOICES:
        return t(f"admin.settings.range.{EDITABLE_SETTINGS[key].kind}")
    return t(f"admin.settings.range.{EDITABLE_SETTINGS[key].kind}", **range_params(key))


def _forget_form() -> None:
    """Draw the form again from the database (after a save, or on request)."""
    for key in EDITABLE_SETTINGS:
        st.session_state.pop(field_key(key), None)
    st.session_state.pop(_BASE, None)


def render_settings_form(actor: Actor) -> None:
    with db_session() as session:
        views = editable_settings(session, actor)
    base: dict[str, Baseline] = st.session_state.setdefault(_BASE, {})
    for key, view in views.items():
        if field_key(key) not in st.session_state or key not in base:
            st.session_state[field_key(key)] = value_text(view.value)
            base[key] = Baseline(value_text(view.value), view.version)
    st.caption(t("admin.settings.help"))
    moved = [views[k] for k in EDITABLE_SETTINGS if views[k].version != base[k].version]
    for view in moved:
        st.warning(t("admin.settings.moved", label=t(f"admin.setting.{view.key}"), who=plain(view.updated_by or "—"),
                     at=local_time(view.updated_at), value=plain(value_text(view.value))))
    if moved:
        st.button(t("admin.settings.reload"), key="admin_settings_reload", on_click=_forget_form)
    with st.form("admin_settings"):
        for key in EDITABLE_SETTINGS:
            left, right = st.columns([3, 2], vertical_alignment="bottom")
            kind = EDITABLE_SETTINGS[key].kind
            if kind in CHOICES:
                left.selectbox(t(f"admin.setting.{key}"), CHOICES[kind], key=field_key(key),
                               format_func=lambda v, kind=kind: t(f"admin.choice.{kind}.{v}"))
            else:
                left.text_input(t(f"admin.setting.{key}"), key=field_key(key))
            right.caption(_beside(key, views[key]))
        st.form_submit_button(t("admin.settings.submit"), type="primary", on_click=_save,
                              args=(actor, dict(base)))
    show_outcome(SLOT)  # under the button the admin pressed, at the end of a long form


def _beside(key: str, view: SettingView) -> str:
    """The range, and who changed the setting last: shown beside the field, not only after a refusal."""
    text = range_text(key)
    if view.updated_by and view.updated_at:
        text += "  \n" + t("admin.settings.last_change", who=plain(view.updated_by), at=shown_time(view.updated_at))
    return text


def _save(actor: Actor, base: dict[str, Baseline]) -> None:
    typed = {key: str(st.session_state.get(field_key(key), "")).strip() for key in EDITABLE_SETTINGS}
    changes = {key: text for key, text in typed.items() if text != base[key].text}
    if not changes:
        set_outcome(SLOT, "info", t("admin.settings.unchanged"))
        return

    def saved(changed: list[str]) -> str:
        if not changed:
            return t("admin.settings.unchanged")
        items = "；".join(t("admin.settings.item", label=t(f"admin.setting.{key}"), before=base[key].text,
                            after=changes[key]) for key in changed)
        return t("admin.settings.saved_items", n=len(changed), items=items)

    run_write(lambda s: update_rule_settings(s, actor, changes,
                                             expected_versions={key: base[key].version for key in changes}),
              success=saved, slot=SLOT, heading_key="admin.settings.not_saved",
              on_success=lambda _changed: _forget_form())
