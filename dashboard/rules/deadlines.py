"""Due times of the deadlines D1–D7 (SPEC §4), computed in Asia/Shanghai. Pure functions."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from dashboard.settings import BUSINESS_TZ

HOURLY_KINDS = ("D1", "D2", "D3", "D5", "D7")


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("deadline times must be timezone-aware")
    return value


def due_after_hours(started_at: datetime, hours: float) -> datetime:
    """Calendar hours after the event (分级管理办法 第三章: 24 h / 72 h after dispatch)."""
    return _require_aware(started_at) + timedelta(hours=float(hours))


def end_of_next_day(started_at: datetime, offset_days: int = 1) -> datetime:
    """D4: the end (24:00) of the business day `offset_days` after the event, Asia/Shanghai."""
    local = _require_aware(started_at).astimezone(BUSINESS_TZ)
    day = local.date() + timedelta(days=offset_days + 1)
    return datetime.combine(day, time(0, 0), tzinfo=BUSINESS_TZ)


def weekly_due(moment: datetime, weekday: int = 4, at: str = "17:00") -> datetime:
    """D6: the first weekly cut-off (Friday 17:00 by default) at or after `moment`.

    A moment exactly at the cut-off belongs to that week; a Friday 17:01 belongs to next week.
    """
    local = _require_aware(moment).astimezone(BUSINESS_TZ)
    hour, minute = (int(part) for part in at.split(":"))
    days_ahead = (weekday - local.weekday()) % 7
    candidate = datetime.combine(local.date() + timedelta(days=days_ahead), time(hour, minute),
                                 tzinfo=BUSINESS_TZ)
    if candidate < local:
        candidate += timedelta(days=7)
    return candidate


def week_start_for(due: datetime) -> date:
    """The Monday of the week whose cut-off is `due` (the weekly summary's key)."""
    local = due.astimezone(BUSINESS_TZ)
    return local.date() - timedelta(days=local.weekday())


def compute_due(kind: str, started_at: datetime, settings: Mapping[str, Any]) -> datetime:
    """Due time of deadline `kind` started by an event at `started_at`, from rule settings."""
    if kind in HOURLY_KINDS:
        return due_after_hours(started_at, settings[f"deadline.{kind}.hours"])
    if kind == "D4":
        return end_of_next_day(started_at, int(settings["deadline.D4.day_end_offset_days"]))
    if kind == "D6":
        return weekly_due(started_at, int(settings["deadline.D6.weekday"]), str(settings["deadline.D6.time"]))
    raise ValueError(f"unknown deadline kind {kind!r}")


def is_violation(due_at: datetime, met_at: datetime | None, now: datetime) -> bool:
    """Late stays late: met after the due time is still a violation (SPEC §4)."""
    if met_at is not None:
        return met_at > due_at
    return now > due_at
