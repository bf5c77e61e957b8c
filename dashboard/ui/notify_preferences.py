"""The 接收方式 form on 我的消息 (issue 22): the person chooses the site only, e-mail (with their
address) or the work group's robot. The fields are keyed by the version of the person's record the
form drew: a refused save (a bad address) keeps what was typed, a saved one draws fresh fields, and a
second tab's older form is refused (services/delivery/preferences) with what it held kept."""
from __future__ import annotations

import streamlit as st

from dashboard.i18n import t
from dashboard.rules.delivery import CHANNELS
from dashboard.services.actor import Actor
from dashboard.services.delivery.preferences import (
    PreferencesSaved,
    my_notify_preferences,
    save_notify_preferences,
)
from dashboard.services.reference import rule_settings
from dashboard.ui.db import db_session
from dashboard.ui.forms import run_write, show_outcome

SLOT = "notify_preferences"
_KEPT = "np_kept"  # what a stale form held, for the fields drawn with the record's new version


def _said(saved: PreferencesSaved) -> str | tuple[str, str]:
    if not saved.changed:
        return "info", t("delivery.prefs.unchanged")
    return t("delivery.prefs.saved", channel=t(f"delivery.channel.{saved.preferences.effective}"))


def render_notify_preferences(actor: Actor) -> None:
    with db_session() as session:
        prefs = my_notify_preferences(session, actor)
        settings = rule_settings(session)
    show_outcome(SLOT)
    channel_key, email_key = f"np_channel_{prefs.version}", f"np_email_{prefs.version}"
    state = st.session_state
    kept = state.pop(_KEPT, None)
    if channel_key not in state:
        state[channel_key] = kept[0] if kept and kept[0] in CHANNELS else prefs.channel
    if email_key not in state:
        state[email_key] = kept[1] if kept else (prefs.email or "")

    def save(version: int, channel_key: str, email_key: str) -> None:
        """The version and the fields bound when the form was drawn (never re-read on the rerun)."""
        channel, email = state.get(channel_key), state.get(email_key)
        run_write(lambda s: save_notify_preferences(s, actor, channel, email, expected_version=version), _said,
                  slot=SLOT, heading_key="delivery.prefs.not_saved",
                  on_stale=lambda: state.__setitem__(_KEPT, (channel, email)))

    label = t("delivery.prefs.expander", channel=t(f"delivery.channel.{prefs.channel}"))
    with st.expander(label):
        st.caption(t("delivery.prefs.caption", start=settings["notify.work_from"], end=settings["notify.work_until"]))
        with st.form(f"np_form_{prefs.version}", border=False):
            st.radio(t("delivery.field.channel"), CHANNELS, key=channel_key, horizontal=True,
                     format_func=lambda c: t(f"delivery.channel.{c}"), help=t("delivery.prefs.channel_help"))
            st.text_input(t("delivery.field.email"), key=email_key, help=t("delivery.prefs.email_help"))
            st.form_submit_button(t("delivery.prefs.save"), type="primary", on_click=save,
                                  args=(prefs.version, channel_key, email_key))
        if prefs.channel == "email" and not prefs.email_ready:
            st.info(t("delivery.prefs.fallback_email"))
        elif prefs.channel == "webhook" and not prefs.webhook_ready:
            st.info(t("delivery.prefs.fallback_webhook"))
