"""Delivery decisions (issue 22), pure: working hours on the working calendar, the back-off, what
may be saved as an e-mail address, which channel a message really takes, the ids a receiver drops a
repeat by, and what leaves the system (mail, robot body, configuration shown without secrets)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard.rules.delivery import (
    check_preferences,
    dingtalk_sign,
    effective_channel,
    in_working_hours,
    mail_message_id,
    read_email,
    retry_delay,
)
from dashboard.rules.work_calendar import WorkCalendar, parse_clock_time
from dashboard.services.delivery.channels import (
    DeliveryConfig,
    OutgoingMessage,
    render_email,
    signed_url,
    webhook_payload,
)

# 2026-10-01 National Day (休); 2026-10-10 a Saturday worked instead (调休).
CALENDAR = WorkCalendar({date(2026, 10, 1): False, date(2026, 10, 10): True})
FROM, UNTIL = time(8, 30), time(18, 0)


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00")


@pytest.mark.parametrize(("moment", "working"), [
    ("2026-12-03 08:29:59", False), ("2026-12-03 08:30", True), ("2026-12-03 17:59:59", True),
    ("2026-12-03 18:00", False), ("2026-12-05 10:00", False),  # a Saturday
    ("2026-10-01 10:00", False),  # National Day
    ("2026-10-10 10:00", True),  # the make-up Saturday
])
def test_working_hours_are_working_days_from_0830_until_1800(moment, working):
    assert in_working_hours(at(moment), CALENDAR, FROM, UNTIL) is working


def test_the_hour_is_read_in_shanghai_whatever_zone_the_moment_is_in():
    utc = datetime(2026, 12, 3, 0, 30, tzinfo=timezone.utc)  # 08:30 in Asia/Shanghai
    assert in_working_hours(utc, CALENDAR, FROM, UNTIL)
    assert not in_working_hours(utc - timedelta(seconds=1), CALENDAR, FROM, UNTIL)
    # 23:30 UTC on Friday is 07:30 Saturday in Shanghai: not a working day there
    assert not in_working_hours(datetime(2026, 12, 4, 23, 30, tzinfo=timezone.utc), CALENDAR, time(0, 0), UNTIL)


def test_settings_read_as_times_of_day():
    assert parse_clock_time("08:30") == time(8, 30) and parse_clock_time(" 18:00 ") == time(18, 0)


def test_the_back_off_doubles_from_the_base():
    assert [retry_delay(n, 1) for n in range(1, 6)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert retry_delay(3, 2.5) == timedelta(minutes=10)


def test_full_width_addresses_are_read_and_the_domain_lowered():
    assert read_email([], "e", "  ZhangSan＠Example.COM ", required=True) == "ZhangSan@example.com"


@pytest.mark.parametrize("typed", ["zhangsan", "zhangsan@", "@example.com", "zhang san@example.com",
                                   "zhangsan@example", "张三@example.com", "a@b..com"])
def test_what_is_not_an_address_is_refused_naming_what_was_typed(typed):
    errors: list = []
    assert read_email(errors, "delivery.email", typed, required=False) is None
    assert [(e.field, e.key) for e in errors] == [("delivery.email", "delivery.error.email_format")]
    assert errors[0].params["value"] == typed.strip()


def test_email_needs_an_address_and_another_channel_keeps_one():
    chosen, address, errors = check_preferences("email", "")
    assert (chosen, address, [(e.field, e.key) for e in errors]) == (
        "email", None, [("delivery.email", "delivery.error.email_required")])
    assert check_preferences("webhook", "a@example.com") == ("webhook", "a@example.com", [])
    assert check_preferences("outbox", None) == ("outbox", None, [])
    assert [e.field for e in check_preferences("sms", None)[2]] == ["delivery.channel"]


def test_a_channel_the_server_cannot_use_is_the_page():
    assert effective_channel("email", "a@example.com", email_ready=True, webhook_ready=False) == "email"
    assert effective_channel("email", "a@example.com", email_ready=False, webhook_ready=True) == "outbox"
    assert effective_channel("email", None, email_ready=True, webhook_ready=True) == "outbox"
    assert effective_channel("webhook", None, email_ready=False, webhook_ready=True) == "webhook"
    assert effective_channel("webhook", None, email_ready=True, webhook_ready=False) == "outbox"
    assert effective_channel("outbox", "a@example.com", email_ready=True, webhook_ready=True) == "outbox"


def test_dingtalk_signature_is_base64_of_hmac_sha256_of_timestamp_and_secret():
    expected = base64.b64encode(hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()).decode()
    assert dingtalk_sign("SECabc", 1700000000000) == expected
    query = parse_qs(urlsplit(signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", "SECabc",
                                         1700000000000)).query)
    assert query == {"access_token": ["t"], "timestamp": ["1700000000000"], "sign": [expected]}


MESSAGE = OutgoingMessage(123, 7, "王伟", "13800138000", "deadline_violation", "【时效提醒】案件C1的查勘资料上传已超时。",
                          "C1", "wangwei@example.com", "email")


def test_the_mail_is_chinese_and_carries_the_rows_message_id():
    mail = render_email(MESSAGE, "claims@example.com")
    assert mail["Message-ID"] == mail_message_id(123) == "<claims-notification-123@claims.local>"
    assert mail["Subject"] == "【理赔案件分级管理】超时违规提醒（案件C1）"
    assert mail["To"].addresses[0].display_name == "王伟"
    assert mail.get_content().startswith("王伟，您好：\n\n【时效提醒】案件C1")
    assert render_email(MESSAGE, "x@example.com")["Message-ID"] == mail["Message-ID"]  # every attempt alike


def test_the_robot_body_mentions_the_person_and_carries_the_msgid():
    wecom = webhook_payload(MESSAGE, "wecom")
    assert wecom["msgid"] == "claims-notification-123" and wecom["msgtype"] == "text"
    assert wecom["text"]["mentioned_mobile_list"] == ["13800138000"] and "致王伟" in wecom["text"]["content"]
    assert webhook_payload(MESSAGE, "dingtalk")["at"] == {"atMobiles": ["13800138000"], "isAtAll": False}


def test_the_configuration_is_read_from_the_environment_and_shown_without_secrets():
    env = {"SMTP_HOST": "mail.example.com", "SMTP_USER": "robot@example.com", "SMTP_PASSWORD": "pw-123",
           "NOTIFY_WEBHOOK_URL": "https://oapi.dingtalk.com/robot/send?access_token=tok-9",
           "NOTIFY_WEBHOOK_SECRET": "SEC-9"}
    config = DeliveryConfig.from_env(env)
    assert (config.smtp.port, config.smtp.starttls, config.smtp.sender) == (587, True, "robot@example.com")
    assert (config.webhook.kind, config.webhook.signed) == ("dingtalk", True)
    shown = repr(config) + repr(config.status())
    assert not any(secret in shown for secret in ("pw-123", "SEC-9", "tok-9"))
    assert config.status().webhook_host == "oapi.dingtalk.com"
    assert DeliveryConfig.from_env({}) == DeliveryConfig()
    off = DeliveryConfig.from_env({"SMTP_HOST": "h", "SMTP_PORT": "smtp", "NOTIFY_WEBHOOK_URL": "x",
                                   "NOTIFY_WEBHOOK_KIND": "slack"})
    assert (off.smtp, off.webhook) == (None, None)
    assert [key for key, _ in off.problems] == ["delivery.config.bad_port", "delivery.config.bad_kind"]
    assert DeliveryConfig.from_env({"SMTP_HOST": "h", "SMTP_STARTTLS": "off"}).smtp.starttls is False
