"""我的消息: everything addressed to the signed-in person — dispatches, warnings, violations, review
opinions, special cases, complaints — unread first. The unread ones shown are marked read when the
person reads them here (one press), and a message about a case opens it. Each message says how it
left (or that it waits for working hours, or went in a digest); the 接收方式 form above the list
chooses the channel (issue 22)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import has_key, t
from dashboard.services.messages import Message, mark_read, my_messages, unread_count
from dashboard.ui.db import read_session
from dashboard.ui.format import local_time
from dashboard.ui.forms import run_write, show_outcome
from dashboard.ui.notify_preferences import render_notify_preferences
from dashboard.ui.session import require_page
from dashboard.ui.tables import case_table, paged

actor = require_page("messages")
st.title(t("page.messages"))
with read_session() as session:
    unread = unread_count(session, actor)
st.caption(t("messages.caption", n=f"{unread:,}"))
render_notify_preferences(actor)
show_outcome("messages")
unread_only = st.toggle(t("messages.unread_only"), value=False, key="msg_unread")
with read_session() as session:
    _, rows = paged(lambda offset: my_messages(session, actor, unread_only=unread_only, limit=50, offset=offset),
                    50, key="msg_page", filters=unread_only)


def _delivery(m: Message) -> str:
    if m.state == "sent":
        return t("delivery.state.sent", channel=t(f"delivery.channel.{m.channel or 'outbox'}"))
    if m.state == "digested":
        return t("delivery.state.digested", id=m.digest_id)
    return t(f"delivery.state.{m.state}") if has_key(f"delivery.state.{m.state}") else m.state


frame = pd.DataFrame({
    "case_id": [m.case_id for m in rows],
    t("messages.col.state"): [t("messages.unread") if m.read_at is None else t("messages.read") for m in rows],
    t("messages.col.delivery"): [_delivery(m) for m in rows],
    t("messages.col.kind"): [t(f"detail.notification_kind.{m.kind}") if has_key(f"detail.notification_kind.{m.kind}")
                             else t("messages.kind_other") for m in rows],
    t("messages.col.body"): [m.body for m in rows],
    t("messages.col.case_no"): [m.case_no or "—" for m in rows],
    t("messages.col.at"): [local_time(m.created_at) for m in rows],
})
case_table(frame, key="msg_table")
shown_unread = [m.id for m in rows if m.read_at is None]
if shown_unread:
    st.button(t("messages.mark_read", n=len(shown_unread)), key="msg_mark", type="primary",
              on_click=lambda: run_write(lambda db: mark_read(db, actor, shown_unread),
                                         lambda n: t("messages.marked", n=n), slot="messages"))
