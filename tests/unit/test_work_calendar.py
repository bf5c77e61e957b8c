"""The working calendar's rules (issue 22): deadlines across a holiday, a make-up Saturday, New
Year's Eve, the Spring Festival week, and midnight in Asia/Shanghai while the server runs in UTC.
The calendar is the seed's own source (chinese-calendar), so these are the real 2025–2026 days."""
from __future__ import annotations

import os
import time as system_time
from datetime import date, datetime, timedelta, timezone

import pytest
from chinese_calendar import constants

from dashboard.rules.deadlines import compute_due, previous_weekly_due, shifted_from, weekly_due
from dashboard.rules.work_calendar import MONDAY_TO_FRIDAY, WorkCalendar, add_working_time, end_of_working_day
from dashboard.settings import BUSINESS_TZ, DEFAULT_RULE_SETTINGS

CHINA = WorkCalendar({**{d: False for d in constants.holidays}, **{d: True for d in constants.workdays}},
                     {**constants.holidays, **constants.workdays},
                     frozenset(range(2004, 2027)))
WORKING_D5 = {**DEFAULT_RULE_SETTINGS, "deadline.D5.mode": "working"}


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BUSINESS_TZ)


def test_the_seed_knows_the_make_up_days_and_the_holidays():
    assert CHINA.is_working_day(date(2026, 2, 14))  # Saturday 调休 before the Spring Festival
    assert not CHINA.is_working_day(date(2026, 2, 16))  # Monday of the Spring Festival week
    assert not CHINA.is_working_day(date(2026, 10, 1)) and CHINA.is_working_day(date(2026, 10, 10))
    assert CHINA.is_working_day(date(2026, 11, 20)) and not CHINA.is_working_day(date(2026, 11, 21))
    assert MONDAY_TO_FRIDAY.is_working_day(date(2026, 10, 1))  # without the calendar: just a Thursday
    assert not CHINA.is_known(date(2027, 1, 4))


def test_d4_crossing_a_holiday_ends_with_the_first_working_day_after_it():
    # Tiered on Thursday 24 Sep 2026; Friday 25 to Sunday 27 are off (中秋): due at the end of Monday 28.
    assert compute_due("D4", sh(2026, 9, 24, 10, 0), DEFAULT_RULE_SETTINGS, CHINA) == sh(2026, 9, 29, 0, 0)
    calendar_days = {**DEFAULT_RULE_SETTINGS, "deadline.D4.mode": "calendar"}
    assert compute_due("D4", sh(2026, 9, 24, 10, 0), calendar_days, CHINA) == sh(2026, 9, 26, 0, 0)


def test_a_make_up_saturday_is_a_working_day():
    # Friday 9 Oct 2026 after National Day; Saturday 10 Oct is worked (调休): the review is due then.
    assert compute_due("D4", sh(2026, 10, 9, 15, 0), DEFAULT_RULE_SETTINGS, CHINA) == sh(2026, 10, 11, 0, 0)
    # Plain weekend: Friday 20 Nov → end of Monday 23 Nov.
    assert compute_due("D4", sh(2026, 11, 20, 15, 0), DEFAULT_RULE_SETTINGS, CHINA) == sh(2026, 11, 24, 0, 0)


def test_new_years_eve_runs_into_the_make_up_sunday():
    # 31 Dec 2025 (Wednesday); 1–3 Jan 2026 are off, Sunday 4 Jan is worked.
    assert compute_due("D4", sh(2025, 12, 31, 23, 59), DEFAULT_RULE_SETTINGS, CHINA) == sh(2026, 1, 5, 0, 0)
    assert compute_due("D5", sh(2025, 12, 31, 12, 0), WORKING_D5, CHINA) == sh(2026, 1, 5, 12, 0)


def test_the_spring_festival_week_counts_the_saturday_and_skips_the_nine_days():
    # 48 working hours from Friday 13 Feb 2026 10:00: 14 h that Friday, 24 h on the worked Saturday
    # 14 Feb, nothing from 15 to 23 Feb, 10 h on Tuesday 24 Feb.
    started = sh(2026, 2, 13, 10, 0)
    assert compute_due("D5", started, WORKING_D5, CHINA) == sh(2026, 2, 24, 10, 0)
    assert compute_due("D5", started, DEFAULT_RULE_SETTINGS, CHINA) == sh(2026, 2, 15, 10, 0)  # calendar hours
    # D1–D3 stay calendar hours whatever the settings say.
    assert compute_due("D1", started, {**WORKING_D5, "deadline.D1.mode": "working"}, CHINA) == sh(2026, 2, 14, 10, 0)
    # The weekly cut-off: no working day in the week of 16 Feb, so that week has none.
    assert weekly_due(sh(2026, 2, 16, 9, 0), calendar=CHINA, shift=True) == sh(2026, 2, 27, 17, 0)
    assert previous_weekly_due(sh(2026, 2, 27, 17, 0), calendar=CHINA, shift=True) == sh(2026, 2, 13, 17, 0)


def test_working_time_started_on_a_holiday_starts_with_the_next_working_day():
    assert add_working_time(sh(2026, 10, 3, 14, 0), 8, CHINA) == sh(2026, 10, 8, 8, 0)
    # Ending exactly at a working day's end is that day's 24:00, not after the weekend.
    assert add_working_time(sh(2026, 11, 20, 0, 0), 24, CHINA) == sh(2026, 11, 21, 0, 0)
    assert end_of_working_day(sh(2026, 10, 3, 14, 0), 0, CHINA) == sh(2026, 10, 9, 0, 0)


def test_the_friday_cut_off_on_a_holiday_moves_to_the_working_day_before_it():
    # Friday 2 Oct 2026 is National Day (1 Oct too): the cut-off moves to Wednesday 30 Sep 17:00.
    due = weekly_due(sh(2026, 9, 28, 9, 0), calendar=CHINA, shift=True)
    assert due == sh(2026, 9, 30, 17, 0) and shifted_from(due) == date(2026, 10, 2)
    assert weekly_due(sh(2026, 9, 28, 9, 0), calendar=CHINA, shift=False) == sh(2026, 10, 2, 17, 0)
    # After the moved cut-off the moment belongs to the next week (Friday 9 Oct is worked).
    assert weekly_due(sh(2026, 9, 30, 17, 1), calendar=CHINA, shift=True) == sh(2026, 10, 9, 17, 0)
    assert shifted_from(sh(2026, 10, 9, 17, 0)) is None
    assert compute_due("D6", sh(2026, 9, 28, 9, 0), DEFAULT_RULE_SETTINGS, CHINA) == sh(2026, 9, 30, 17, 0)


@pytest.fixture
def server_in_utc():
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    system_time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    system_time.tzset()


def test_midnight_in_shanghai_is_the_next_day_while_the_server_runs_in_utc(server_in_utc):
    # 16:30 UTC on Friday 9 Oct is 00:30 on Saturday 10 Oct in Shanghai, a worked Saturday: the
    # event's day is Saturday, so the next working day is Monday 12 Oct (read as Friday in UTC, it
    # would have been Saturday).
    started = datetime(2026, 10, 9, 16, 30, tzinfo=timezone.utc)
    due = compute_due("D4", started, DEFAULT_RULE_SETTINGS, CHINA)
    assert due == sh(2026, 10, 13, 0, 0) and due == datetime(2026, 10, 12, 16, 0, tzinfo=timezone.utc)
    # 15:59 UTC is still Friday 23:59 in Shanghai: due at the end of the worked Saturday.
    assert compute_due("D4", datetime(2026, 10, 9, 15, 59, tzinfo=timezone.utc), DEFAULT_RULE_SETTINGS,
                       CHINA) == sh(2026, 10, 11, 0, 0)
    # The weekly cut-off is 17:00 Shanghai (09:00 UTC), whatever the server's zone.
    assert weekly_due(datetime(2026, 11, 27, 8, 59, tzinfo=timezone.utc), calendar=CHINA,
                      shift=True) == sh(2026, 11, 27, 17, 0)


@pytest.mark.parametrize("hours", [0.5, 1, 23.5, 24, 47.5, 48, 72, 168])
def test_working_time_never_ends_on_a_non_working_day_and_never_earlier_than_calendar_time(hours):
    for start in (sh(2026, 2, 13, 10, 0), sh(2026, 9, 30, 23, 0), sh(2026, 12, 31, 8, 0), sh(2026, 5, 1, 0, 0)):
        due = add_working_time(start, hours, CHINA)
        assert due >= compute_due("D1", start, {"deadline.D1.hours": hours})
        end_day = (due - timedelta(microseconds=1)).astimezone(BUSINESS_TZ).date()
        assert CHINA.is_working_day(end_day)
