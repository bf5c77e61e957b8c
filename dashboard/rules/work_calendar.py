"""The working calendar of mainland China as a value: which days are working days. Pure.

A day is a working day when it is Monday–Friday, unless the calendar names it: a public holiday
(休, also a weekend day inside a holiday run) is not, a make-up working day (调休, e.g. a working
Saturday) is. The days come from the table `work_calendar_day` (seeded from the PyPI package
chinese-calendar, edited by HQ admin for later years); `known_years` are the years whose calendar
is known. A day in an unknown year falls back to Monday–Friday, and the admin page warns about
that year (services/calendar.py), so the fallback is never silent.

All days are Asia/Shanghai days: callers convert a moment with `.astimezone(BUSINESS_TZ)` first,
whatever time zone the server runs in.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from dashboard.settings import BUSINESS_TZ

# No run of non-working days is longer than this (the Spring Festival's 9 days with the weekends):
# a search that finds no working day within it has a broken calendar, not a long holiday.
LONGEST_SEARCH_DAYS = 60


@dataclass(frozen=True)
class WorkCalendar:
    """The days that break the Monday–Friday rule (day -> working?), their names, the known years."""

    exceptions: Mapping[date, bool] = field(default_factory=dict)
    names: Mapping[date, str] = field(default_factory=dict)
    known_years: frozenset[int] = frozenset()

    def is_working_day(self, day: date) -> bool:
        named = self.exceptions.get(day)
        return day.weekday() < 5 if named is None else named

    def is_known(self, day: date) -> bool:
        return day.year in self.known_years

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        for step in range(1, LONGEST_SEARCH_DAYS + 1):
            candidate = day + timedelta(days=step)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {LONGEST_SEARCH_DAYS} days after {day}")

    def working_day_on_or_after(self, day: date) -> date:
        return day if self.is_working_day(day) else self.next_working_day(day)

    def nth_working_day_after(self, day: date, n: int) -> date:
        """The n-th working day after `day` (n = 0: `day` itself if working, else the next one)."""
        current = self.working_day_on_or_after(day) if n == 0 else day
        for _ in range(n):
            current = self.next_working_day(current)
        return current


MONDAY_TO_FRIDAY = WorkCalendar()


def parse_clock_time(value: object) -> time:
    """A setting such as "08:30" or "17:00" as a time of day (the weekly cut-off, delivery hours)."""
    hours, _, minutes = str(value).strip().partition(":")
    return time(int(hours), int(minutes or 0))


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=BUSINESS_TZ)


def add_working_time(started_at: datetime, hours: float, calendar: WorkCalendar) -> datetime:
    """`hours` counted only on working days (each counts its whole 24 h, Asia/Shanghai), skipping
    holidays and weekends and counting make-up Saturdays.

    The clock runs on the day it starts if that is a working day; started on a non-working day it
    starts at 00:00 of the next working day. A due time that falls exactly at the end of a working
    day is that day's 24:00 (00:00 of the next calendar day), never pushed past the holiday after it.
    """
    local = started_at.astimezone(BUSINESS_TZ)
    remaining = timedelta(hours=float(hours))
    if not calendar.is_working_day(local.date()):
        local = local_midnight(calendar.next_working_day(local.date()))
    while True:
        day_end = local_midnight(local.date() + timedelta(days=1))
        available = day_end - local
        if remaining <= available:
            return local + remaining
        remaining -= available
        local = local_midnight(calendar.next_working_day(local.date()))


def end_of_working_day(started_at: datetime, offset_days: int, calendar: WorkCalendar) -> datetime:
    """D4 in working time: the end (24:00) of the `offset_days`-th working day after the event's day
    (1: "end of the next working day"; 0: the end of the event's day, or of the next working day
    when the event falls on a holiday)."""
    local = started_at.astimezone(BUSINESS_TZ)
    target = calendar.nth_working_day_after(local.date(), offset_days)
    return local_midnight(target + timedelta(days=1))
