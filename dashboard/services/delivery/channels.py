"""The channels a notification leaves by, configured by the environment (README, "Delivery"):

- e-mail over SMTP with the standard library (`smtplib`, STARTTLS on by default): SMTP_HOST,
  SMTP_PORT (587), SMTP_USER / SMTP_PASSWORD (optional login), SMTP_FROM, SMTP_STARTTLS (on),
  SMTP_CA_FILE (a CA bundle of one's own, e.g. a company CA);
- a WeCom (企业微信) or DingTalk group robot: NOTIFY_WEBHOOK_URL, NOTIFY_WEBHOOK_KIND (wecom |
  dingtalk), NOTIFY_WEBHOOK_SECRET (DingTalk's 加签 secret: every request signed);
- the 我的消息 page, always: the pluggable NOTIFICATION_SENDER (jobs/send_notifications) gets what
  goes by it (by default the log).

Every message carries its outbox row's key (rules/delivery): the mail's Message-ID, the robot
body's `msgid`. A run killed after the server accepted a message but before the row was marked sent
sends it again under the same key, and the receiver drops the copy. A channel raises
DeliveryFailed with a one-line reason (never a password or the robot's token) when it fails.
"""
from __future__ import annotations

import json
import os
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

from dashboard import clock
from dashboard.rules.delivery import (
    WEBHOOK_KINDS,
    delivery_key,
    dingtalk_sign,
    effective_channel,
    mail_message_id,
)
from dashboard.services.outbox import kind_zh, zh

_ON, _OFF = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
DEFAULT_SENDER = "claims-noreply@claims.local"
TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class OutgoingMessage:
    """One outbox row as a channel sends it."""
    notification_id: int
    recipient_person_id: int
    recipient_name: str
    recipient_phone: str | None
    kind: str
    body: str
    case_no: str | None
    recipient_email: str | None = None
    notify_channel: str = "outbox"  # the person's choice (person.notify_channel)

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt at this outbox row: the gateway drops a repeat of it."""
        return delivery_key(self.notification_id)

    @property
    def message_id(self) -> str:
        return mail_message_id(self.notification_id)


class DeliveryFailed(Exception):
    """The channel did not take the message: the outbox keeps it and tries again later."""


class NotificationSender(Protocol):
    def send(self, message: OutgoingMessage) -> None:
        """Deliver the message or raise; the outbox records the error and retries later."""


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = DEFAULT_SENDER
    starttls: bool = True
    ca_file: str | None = None
    timeout: float = TIMEOUT_SECONDS


@dataclass(frozen=True)
class WebhookSettings:
    url: str = field(repr=False)  # its query holds the robot's token
    kind: str = "wecom"
    secret: str | None = field(default=None, repr=False)
    timeout: float = TIMEOUT_SECONDS

    @property
    def signed(self) -> bool:
        return self.kind == "dingtalk" and bool(self.secret)

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.url).hostname or "?"


@dataclass(frozen=True)
class ChannelStatus:
    """What an administrator may see of the configuration: never a password, secret or token."""
    email_ready: bool
    smtp_server: str | None  # host:port
    smtp_starttls: bool
    smtp_login: bool
    smtp_sender: str | None
    smtp_own_ca: bool
    webhook_ready: bool
    webhook_kind: str | None
    webhook_host: str | None
    webhook_signed: bool
    problems: tuple[tuple[str, dict[str, object]], ...]  # (catalog key, params): settings not understood


@dataclass(frozen=True)
class DeliveryConfig:
    smtp: SmtpSettings | None = None
    webhook: WebhookSettings | None = None
    problems: tuple[tuple[str, dict[str, object]], ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeliveryConfig:
        env = os.environ if env is None else env

        def value(name: str) -> str | None:
            return (env.get(name) or "").strip() or None

        problems: list[tuple[str, dict[str, object]]] = []
        smtp = None
        if host := value("SMTP_HOST"):
            port_text = value("SMTP_PORT") or "587"
            starttls_text = (value("SMTP_STARTTLS") or "on").lower()
            user = value("SMTP_USER")
            sender = value("SMTP_FROM") or (user if user and "@" in user else DEFAULT_SENDER)
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                problems.append(("delivery.config.bad_port", {"value": port_text[:20]}))
            elif starttls_text not in _ON | _OFF:
                problems.append(("delivery.config.bad_starttls", {"value": starttls_text[:20]}))
            else:
                smtp = SmtpSettings(host, int(port_text), user, env.get("SMTP_PASSWORD") or None, sender,
                                    starttls_text in _ON, value("SMTP_CA_FILE"))
        webhook = None
        if url := value("NOTIFY_WEBHOOK_URL"):
            kind = (value("NOTIFY_WEBHOOK_KIND") or ("dingtalk" if "dingtalk" in url else "wecom")).lower()
            if kind not in WEBHOOK_KINDS:
                problems.append(("delivery.config.bad_kind", {"value": kind[:20]}))
            elif urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                problems.append(("delivery.config.bad_url", {}))
            else:
                webhook = WebhookSettings(url, kind, value("NOTIFY_WEBHOOK_SECRET"))
        return cls(smtp, webhook, tuple(problems))

    def status(self) -> ChannelStatus:
        s, w = self.smtp, self.webhook
        return ChannelStatus(
            s is not None, f"{s.host}:{s.port}" if s else None, bool(s and s.starttls), bool(s and s.user),
            s.sender if s else None, bool(s and s.ca_file),
            w is not None, w.kind if w else None, w.host if w else None, bool(w and w.signed), self.problems)


# ---------------------------------------------------------------- e-mail


def render_email(message: OutgoingMessage, sender: str) -> EmailMessage:
    """The mail in Chinese: subject naming the kind (and the case), the body as on 我的消息."""
    mail = EmailMessage()
    subject = zh("delivery.mail.subject", kind=kind_zh(message.kind))
    if message.case_no:
        subject += zh("delivery.mail.subject_case", case_no=message.case_no)
    mail["Subject"] = subject
    mail["From"] = sender
    mail["To"] = Address(display_name=message.recipient_name, addr_spec=message.recipient_email or "")
    mail["Date"] = formatdate(clock.epoch_seconds(), localtime=False)
    mail["Message-ID"] = message.message_id
    mail["X-Claims-Notification"] = message.idempotency_key
    mail.set_content(zh("delivery.mail.body", name=message.recipient_name, body=message.body),
                     charset="utf-8")
    return mail


class EmailChannel:
    """SMTP with STARTTLS; one connection kept for the run, checked before each reuse."""

    name = "email"

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=s.ca_file))
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            try:
                if self._smtp.noop()[0] == 250:
                    return self._smtp
            except (smtplib.SMTPException, OSError):
                pass
            self.close()
        self._smtp = self._connect()
        return self._smtp

    def send(self, message: OutgoingMessage) -> None:
        if not message.recipient_email:
            raise DeliveryFailed("no e-mail address")
        mail = render_email(message, self._settings.sender)
        try:
            refused = self._connection().send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise DeliveryFailed(f"SMTP login refused ({exc.smtp_code})") from exc
        except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError is an OSError
            self.close()
            raise DeliveryFailed(f"SMTP: {type(exc).__name__}: {_first_line(exc)}") from exc
        if refused:
            raise DeliveryFailed(f"SMTP refused the recipient: {_first_line(refused)}")

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


# ---------------------------------------------------------------- group robot


def webhook_payload(message: OutgoingMessage, kind: str) -> dict[str, object]:
    """The robot's text message, @-mentioning the person by mobile when known, with `msgid`."""
    content = zh("delivery.robot.text", name=message.recipient_name, kind=kind_zh(message.kind), body=message.body)
    text: dict[str, object] = {"content": content}
    payload: dict[str, object] = {"msgtype": "text", "text": text, "msgid": message.idempotency_key}
    mobiles = [message.recipient_phone] if message.recipient_phone else []
    if kind == "wecom":
        if mobiles:
            text["mentioned_mobile_list"] = mobiles
    else:
        payload["at"] = {"atMobiles": mobiles, "isAtAll": False}
    return payload


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot's URL with DingTalk's `timestamp` and `sign` added to its query."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query += [("timestamp", str(timestamp_ms)), ("sign", dingtalk_sign(secret, timestamp_ms))]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class WebhookChannel:
    """HTTP POST of JSON to the robot; a non-2xx answer or an errcode other than 0 is a failure."""

    name = "webhook"

    def __init__(self, settings: WebhookSettings) -> None:
        self._settings = settings

    def send(self, message: OutgoingMessage) -> None:
        s = self._settings
        url = signed_url(s.url, s.secret, int(clock.epoch_seconds() * 1000)) if s.signed else s.url
        data = json.dumps(webhook_payload(message, s.kind), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=s.timeout) as response:
                status, raw = response.status, response.read(65536)
        except urllib.error.HTTPError as exc:
            raise DeliveryFailed(f"robot answered HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError) as exc:  # the URL (with its token) is never in the reason
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise DeliveryFailed(f"robot unreachable: {type(reason).__name__}: {_first_line(reason)}") from exc
        if not 200 <= status < 300:
            raise DeliveryFailed(f"robot answered HTTP {status}")
        try:
            answer = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            raise DeliveryFailed("robot answered something that is not JSON") from None
        errcode = answer.get("errcode", 0) if isinstance(answer, dict) else 0
        if errcode not in (0, "0"):
            raise DeliveryFailed(f"robot errcode {errcode}: {_first_line(answer.get('errmsg', ''))}")

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- routing


class ChannelRouter:
    """Which sender takes a message: the person's channel when configured, else the outbox page's."""

    def __init__(self, config: DeliveryConfig, outbox_sender: NotificationSender) -> None:
        self.email = EmailChannel(config.smtp) if config.smtp else None
        self.webhook = WebhookChannel(config.webhook) if config.webhook else None
        self.outbox = outbox_sender

    def route(self, message: OutgoingMessage) -> tuple[str, NotificationSender]:
        channel = effective_channel(message.notify_channel, message.recipient_email,
                                    email_ready=self.email is not None, webhook_ready=self.webhook is not None)
        return channel, {"email": self.email, "webhook": self.webhook}.get(channel) or self.outbox

    def close(self) -> None:
        for channel in (self.email, self.webhook):
            if channel is not None:
                channel.close()


def _first_line(value: object) -> str:
    text = str(value).strip()
    return (text.splitlines()[0] if text else "")[:300]
