"""How amounts and time left look to claims staff (DESIGN: What people see)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from dashboard.ui.format import local_time, money, time_left, wan

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def test_money_and_wan():
    assert money(Decimal("1234567")) == "¥1,234,567.00"
    assert wan(Decimal("1235000")) == "123.5万元"


def test_times_are_shown_in_shanghai():
    assert local_time(NOW) == "2026-11-24 17:00"


def test_time_left_in_hours_then_days():
    assert time_left(NOW + timedelta(hours=5, minutes=30), NOW) == "剩余 5 小时"
    assert time_left(NOW - timedelta(hours=2, minutes=10), NOW) == "超时 3 小时"
    assert time_left(NOW - timedelta(minutes=5), NOW) == "超时 5 分钟"
    assert time_left(NOW + timedelta(minutes=21, seconds=30), NOW) == "剩余 21 分钟"  # was "剩余 0 小时"
    assert time_left(NOW - timedelta(minutes=59, seconds=30), NOW) == "超时 60 分钟"
    assert time_left(NOW - timedelta(minutes=61), NOW) == "超时 2 小时"
    assert time_left(NOW - timedelta(days=110, hours=3), NOW) == "超时 110 天"
    assert time_left(NOW + timedelta(days=3, hours=1), NOW) == "剩余 3 天"
