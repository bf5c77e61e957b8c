"""`python -m jobs.send_notifications`: deliver the notification outbox (services/delivery).

Every minute (jobs/crontab). Inside working hours each person's held messages are first folded into
one digest; outside them every queued message that is not urgent is held. Then every message due is
sent through its person's channel — e-mail (SMTP), the WeCom / DingTalk group robot, or the 我的消息
page — one message per transaction, so a killed run loses nothing and re-sends at most the message in
flight, under the same key (services/delivery/drain). The advisory lock keeps to one copy.

What goes by the 我的消息 page is also handed to the sender named by
NOTIFICATION_SENDER=package.module:factory (default: the log), where factory() returns an object
with `send(message: OutgoingMessage) -> None` that raises on failure: an SMS gateway, say. A kill
between a gateway's acceptance and the commit looks, to the next run, like a message never sent, so
delivery is at least once: every message carries a stable idempotency key
(`OutgoingMessage.idempotency_key`, from the outbox row's id, the same on every attempt and every
run), and a gateway or sender MUST deduplicate on it (an SMS gateway's client message id, a mail
Message-ID) so that a re-sent message reaches the person once.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from sqlalchemy import Connection

from dashboard.services.delivery.channels import (
    DeliveryConfig,
    NotificationSender,
    OutgoingMessage,
)
from dashboard.services.delivery.drain import DrainResult, drain
from jobs._common import add_as_of, run_job

__all__ = ["DrainResult", "LogSender", "NotificationSender", "OutgoingMessage", "drain", "load_sender", "main"]

NAME = "send_notifications"


class LogSender:
    """Default sender of the 我的消息 channel: the page shows the message; the log keeps a line."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log

    def send(self, message: OutgoingMessage) -> None:
        self._log.debug("to %s (%s) [%s] %s", message.recipient_name, message.recipient_phone or "no phone",
                        message.kind, message.body)


def load_sender(log: logging.Logger) -> NotificationSender:
    spec = os.environ.get("NOTIFICATION_SENDER", "").strip()
    if not spec:
        return LogSender(log)
    module_name, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attr or "sender")
    return factory()


def work(conn: Connection, args: argparse.Namespace, log: logging.Logger) -> None:
    config = DeliveryConfig.from_env()
    for key, params in config.problems:  # a setting not understood: that channel stays off, loudly
        log.error("delivery setting ignored: %s %s", key, params)
    result = drain(conn, load_sender(log), log, now=args.as_of, config=config)
    log.info("%d notification(s) sent, %d failed attempt(s), %d held for working hours, %d digest(s) queued",
             *result)


def main(argv: Sequence[str] | None = None, *, url: str | None = None) -> int:
    return run_job(NAME, work, argv, url=url, configure=add_as_of)


if __name__ == "__main__":
    sys.exit(main())
