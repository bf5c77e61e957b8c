"""消息发送 (HQ admin, issue 22): whether e-mail and the group robot are configured (never a password
or secret), how many messages are in each state by channel, and the messages that failed or are
being retried, with their recipient, channel, attempts, last error and next attempt. A failed one is
sent again from here (services/delivery/admin: a colleague's retry at the same moment queues it once)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import has_key, t
from dashboard.rules.delivery import CHANNELS
from dashboard.services.delivery.admin import (
    STATES,
    RetryOutcome,
    TroubledMessage,
    channel_status,
    delivery_counts,
    retry_failed,
    troubled_messages,
)
from dashboard.services.delivery.channels import ChannelStatus
from dashboard.ui.db import read_session
from dashboard.ui.format import local_time
from dashboard.ui.forms import run_write, show_outcome
from dashboard.ui.session import require_page
from dashboard.ui.tables import download_buttons, pager

actor = require_page("deliveries")
PAGE_SIZE = 50
SLOT = "deliveries"


def _channel(code: str | None) -> str:
    return t(f"delivery.channel.{code}") if code else t("delivery.admin.not_tried")


def _kind(code: str) -> str:
    key = f"detail.notification_kind.{code}"
    return t(key) if has_key(key) else t("messages.kind_other")


def render_config(status: ChannelStatus) -> None:
    st.subheader(t("delivery.admin.config"))
    st.caption(t("delivery.admin.config_note"))
    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown(f"**{t('delivery.admin.email')}**")
        st.write(t("delivery.admin.email_ready", server=status.smtp_server, sender=status.smtp_sender,
                   tls=t("delivery.admin.tls_on" if status.smtp_starttls else "delivery.admin.tls_off"),
                   login=t("delivery.admin.login_on" if status.smtp_login else "delivery.admin.login_off"),
                   ca=t("delivery.admin.own_ca") if status.smtp_own_ca else "")
                 if status.email_ready else t("delivery.admin.not_configured"))
    with right.container(border=True):
        st.markdown(f"**{t('delivery.admin.webhook')}**")
        st.write(t("delivery.admin.webhook_ready", kind=t(f"delivery.admin.kind.{status.webhook_kind}"),
                   host=status.webhook_host,
                   signed=t("delivery.admin.signed" if status.webhook_signed else "delivery.admin.unsigned"))
                 if status.webhook_ready else t("delivery.admin.not_configured"))
    for key, params in status.problems:
        st.warning(t(key, **params))


def render_counts() -> None:
    st.subheader(t("delivery.admin.counts"))
    with read_session() as session:
        counts = delivery_counts(session, actor)
    channels = sorted({c.channel for c in counts}, key=lambda c: ("", *CHANNELS).index(c or ""))  # ck_notification_channel
    table = {t("delivery.admin.col.state"): [t(f"delivery.admin.state.{s}") for s in STATES]}
    for channel in channels:
        table[_channel(channel)] = [sum(c.n for c in counts if c.state == s and c.channel == channel) for s in STATES]
    table[t("delivery.admin.total")] = [sum(c.n for c in counts if c.state == s) for s in STATES]
    st.dataframe(pd.DataFrame(table), hide_index=True, key="dl_counts")


def _frame(rows: list[TroubledMessage]) -> pd.DataFrame:
    return pd.DataFrame({
        t("delivery.admin.col.id"): [r.id for r in rows],
        t("delivery.admin.col.recipient"): [f"{r.recipient}（{r.username}）" for r in rows],
        t("delivery.admin.col.channel"): [_channel(r.channel or r.chosen_channel) for r in rows],
        t("delivery.admin.col.state_now"): [t("delivery.state.failed") if r.state == "failed"
                                            else t("delivery.admin.retrying") for r in rows],
        t("delivery.admin.col.attempts"): [r.attempts for r in rows],
        t("delivery.admin.col.error"): [r.last_error or "—" for r in rows],
        t("delivery.admin.col.next"): [local_time(r.next_attempt_at) if r.next_attempt_at
                                       else t("delivery.admin.waits_for_admin") if r.state == "failed" else "—"
                                       for r in rows],
        t("delivery.admin.col.kind"): [_kind(r.kind) for r in rows],
        t("delivery.admin.col.case_no"): [r.case_no or "—" for r in rows],
        t("delivery.admin.col.created"): [local_time(r.created_at) for r in rows],
    })


def _retried(outcome: RetryOutcome, notification_id: int) -> str | tuple[str, str]:
    if outcome.requeued:
        return t("delivery.admin.requeued", id=notification_id, recipient=outcome.recipient)
    return "info", t("delivery.admin.already", id=notification_id, recipient=outcome.recipient)


def _retry(notification_id: int) -> None:
    """The message chosen when the button was drawn (never re-read on the click's rerun)."""
    run_write(lambda s: retry_failed(s, actor, notification_id), lambda o: _retried(o, notification_id), slot=SLOT)


def render_troubled() -> None:
    st.subheader(t("delivery.admin.troubled"))
    show_outcome(SLOT)
    with read_session() as session:
        total, _ = troubled_messages(session, actor, limit=0)
        offset = pager(total, PAGE_SIZE, key="dl_page") if total > PAGE_SIZE else 0
        _, rows = troubled_messages(session, actor, limit=PAGE_SIZE, offset=offset, total=total)
    if not rows:
        st.info(t("delivery.admin.none"))
        return
    st.caption(t("common.page_of", n=f"{total:,}", page=offset // PAGE_SIZE + 1, pages=-(-total // PAGE_SIZE)))
    frame = _frame(rows)
    st.dataframe(frame, hide_index=True, key="dl_troubled")
    download_buttons(frame, t("delivery.admin.file"), key="dl_download", page_only=total > len(rows))
    failed = {r.id: t("delivery.admin.option", id=r.id, recipient=r.recipient, kind=_kind(r.kind))
              for r in rows if r.state == "failed"}
    if not failed:
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox(t("delivery.admin.pick"), list(failed), key="dl_pick", format_func=failed.get)
    if chosen in failed:
        right.button(t("delivery.admin.retry"), key=f"dl_retry_{chosen}", type="primary", icon=":material/send:",
                     on_click=_retry, args=(chosen,))


st.title(t("page.deliveries"))
st.caption(t("delivery.admin.caption"))
render_config(channel_status(actor))
render_counts()
render_troubled()
