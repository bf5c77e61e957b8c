"""How amounts and times look on screen (DESIGN: ¥1,234,567.00, 123.5万元, Asia/Shanghai)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from dashboard.i18n import t
from dashboard.settings import BUSINESS_TZ


def money(amount: Decimal | float | int | None) -> str:
    if amount is None:
        return "—"
    return f"¥{Decimal(amount):,.2f}"


def wan(amount: Decimal | float | int | None) -> str:
    if amount is None:
        return "—"
    return f"{Decimal(amount) / Decimal(10000):,.1f}万元"


def local_time(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def time_left(due: datetime, now: datetime) -> str:
    hours = (due - now).total_seconds() / 3600
    if hours >= 0:
        return t("common.remaining_hours", h=int(hours))
    return t("common.overdue_hours", h=int(-hours) if -hours >= 1 else 1)
