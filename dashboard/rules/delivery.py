"""How a notification leaves the system (issue 22), as pure decisions: which channel a person's
message goes by, whether it may go now (working hours on working days), how long a failed one waits
before the next try, what may be saved as an e-mail address, and the ids a receiver drops a repeat by.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from datetime import datetime, time, timedelta

from dashboard.rules.problems import FieldError
from dashboard.rules.work_calendar import WorkCalendar
from dashboard.settings import BUSINESS_TZ

# Where a person's messages go: the 我的消息 page only, e-mail (SMTP), or the group robot's webhook.
CHANNELS = ("outbox", "email", "webhook")
WEBHOOK_KINDS = ("wecom", "dingtalk")
# The id a receiver deduplicates on: the same for every attempt at one outbox row, on every run.
MESSAGE_ID_DOMAIN = "claims.local"
EMAIL_MAX_LEN = 254  # RFC 5321's longest forward path, and person.email's width
_LOCAL_PART = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_LOCAL_PART}@{_LABEL}(?:\.{_LABEL})+", re.ASCII)


def delivery_key(notification_id: int) -> str:
    """The key of one outbox row: a webhook body's `msgid`, an SMS gateway's client message id."""
    return f"claims-notification-{notification_id}"


def mail_message_id(notification_id: int) -> str:
    """The mail's Message-ID header: a resend after a crash carries the same one."""
    return f"<{delivery_key(notification_id)}@{MESSAGE_ID_DOMAIN}>"


def effective_channel(preferred: str, email: str | None, *, email_ready: bool, webhook_ready: bool) -> str:
    """The channel a message really goes by: the person's choice when the server can use it (an
    SMTP server and an address for e-mail, a robot's URL for the webhook), else the outbox page."""
    if preferred == "email" and email_ready and email:
        return "email"
    if preferred == "webhook" and webhook_ready:
        return "webhook"
    return "outbox"


def in_working_hours(moment: datetime, calendar: WorkCalendar, work_from: time, work_until: time) -> bool:
    """Whether a message may go out at `moment`: a working day of the calendar, from `work_from`
    (included) until `work_until` (excluded), Asia/Shanghai whatever zone the server runs in."""
    local = moment.astimezone(BUSINESS_TZ)
    return calendar.is_working_day(local.date()) and work_from <= local.time().replace(tzinfo=None) < work_until


def retry_delay(attempts: int, base_minutes: float) -> timedelta:
    """The wait before the next try after `attempts` failed ones: base × 2^(attempts − 1)."""
    return timedelta(minutes=float(base_minutes) * 2 ** (max(attempts, 1) - 1))


def read_email(errors: list[FieldError], name: str, value: object, *, required: bool) -> str | None:
    """An e-mail address as typed (full-width ＠ and letters read as their ASCII forms, the domain in
    lower case), None when empty; a problem naming the field appended to `errors` otherwise."""
    typed = unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()
    if not typed:
        if required:
            errors.append(FieldError(name, "delivery.error.email_required"))
        return None
    if len(typed) > EMAIL_MAX_LEN:
        errors.append(FieldError(name, "delivery.error.email_too_long", {"max": EMAIL_MAX_LEN}))
        return None
    if not _EMAIL.fullmatch(typed):
        errors.append(FieldError(name, "delivery.error.email_format", {"value": typed[:60]}))
        return None
    local, _, domain = typed.rpartition("@")
    return f"{local}@{domain.lower()}"


def check_preferences(channel: object, email: object) -> tuple[str | None, str | None, list[FieldError]]:
    """A person's choice of channel and address, read and checked: (channel, email, problems).
    E-mail needs an address; an address given with another channel is kept for later."""
    errors: list[FieldError] = []
    chosen = channel if channel in CHANNELS else None
    if chosen is None:
        errors.append(FieldError("delivery.channel", "delivery.error.channel"))
    address = read_email(errors, "delivery.email", email, required=chosen == "email")
    return chosen, address, errors


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature: Base64 of HMAC-SHA256(secret, "<timestamp>\\n<secret>"), sent
    URL-encoded as the `sign` query parameter beside `timestamp` (the robot's 加签 setting)."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
