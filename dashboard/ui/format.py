"""How amounts and times look on screen (DESIGN: ¥1,234,567.00, 123.5万元, Asia/Shanghai)."""
from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

from dashboard.i18n import current_language, has_key, t
from dashboard.settings import BUSINESS_TZ


def money(amount: Decimal | float | int | None) -> str:
    if amount is None:
        return "—"
    return f"¥{Decimal(amount):,.2f}"


def wan(amount: Decimal | float | int | None) -> str:
    """A headline amount: 123.5万元 in Chinese; in English as English readers count, ¥352.3M (¥12.0K
    below a million): "35,234.8万元" was left untranslated on the English page."""
    if amount is None:
        return "—"
    value = Decimal(amount)
    if current_language() == "en":
        if abs(value) >= 999_950:  # what would round to ¥1,000.0K reads ¥1.0M
            return f"¥{value / Decimal(1_000_000):,.1f}M"
        if abs(value) >= Decimal("999.5"):
            return f"¥{value / Decimal(1_000):,.1f}K"
        return f"¥{value:,.0f}"
    return f"{value / Decimal(10000):,.1f}万元"


def local_time(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def time_left(due: datetime, now: datetime) -> str:
    """"剩余 5 小时" / "超时 3 小时"; beyond two days in days ("超时 110 天"), under an hour in minutes
    ("剩余 20 分钟": "剩余 0 小时" read as already due), as people count them."""
    hours = (due - now).total_seconds() / 3600
    if hours >= 0:
        if hours < 1:
            return t("common.remaining_minutes", m=int(hours * 60))
        return t("common.remaining_days", d=int(hours // 24)) if hours >= 48 else t("common.remaining_hours", h=int(hours))
    late = -hours
    if late >= 48:
        return t("common.overdue_days", d=int(late // 24))
    if late < 1:
        return t("common.overdue_minutes", m=max(1, math.ceil(late * 60)))
    return t("common.overdue_hours", h=math.ceil(late))


def tier_label(code: str | None) -> str:
    """"二级（12–50万）" for the default tiers; a branch's own sub-tier shows its code."""
    if not code:
        return "—"
    return t(f"tier.{code}") if has_key(f"tier.{code}") else code


def point_label(seq: int | None, round_no: int | None) -> str:
    """Which review point a D5 clock is for, and which answer after a send-back; blank for others
    (a case's points share their person and due time: without it they read as duplicates)."""
    if seq is None:
        return ""
    if round_no and round_no > 1:
        return t("home.tasks.point_round", seq=seq, round=round_no)
    return t("home.tasks.point", seq=seq)
