"""Deadline rules of docs/DOMAIN.md §4, computed in Asia/Shanghai. Pure: no database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dashboard.rules.deadlines import (
    charged_for_late_material, compute_due, deadline_status, end_of_next_day, hours_late,
    is_violation, overdue_age_bucket, survey_material_complete, week_start_for, weekly_due,
)
from dashboard.settings import BUSINESS_TZ, DEFAULT_RULE_SETTINGS

SH = BUSINESS_TZ


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_d1_is_24_calendar_hours_after_dispatch_across_midnight():
    assert compute_due("D1", sh(2026, 11, 24, 23, 30), DEFAULT_RULE_SETTINGS) == sh(2026, 11, 25, 23, 30)


def test_d3_is_72_hours_after_dispatch():
    assert compute_due("D3", sh(2026, 11, 24, 10, 0), DEFAULT_RULE_SETTINGS) == sh(2026, 11, 27, 10, 0)


def test_hours_come_from_configuration():
    settings = {**DEFAULT_RULE_SETTINGS, "deadline.D2.hours": 12}
    assert compute_due("D2", sh(2026, 11, 24, 10, 0), settings) == sh(2026, 11, 24, 22, 0)


def test_d4_a_case_tiered_at_2330_shanghai_is_due_at_the_end_of_the_next_shanghai_day():
    # 23:30 Shanghai is 15:30 UTC the same date; the business day is the Shanghai one.
    started = datetime(2026, 11, 24, 15, 30, tzinfo=timezone.utc)
    assert end_of_next_day(started) == sh(2026, 11, 26, 0, 0)


def test_d4_a_case_tiered_at_0030_shanghai_belongs_to_that_shanghai_day_not_the_utc_one():
    started = datetime(2026, 11, 24, 16, 30, tzinfo=timezone.utc)  # 2026-11-25 00:30 Shanghai
    assert end_of_next_day(started) == sh(2026, 11, 27, 0, 0)


def test_friday_1700_belongs_to_that_week_and_friday_1701_to_the_next():
    friday = sh(2026, 11, 27, 17, 0)
    assert weekly_due(friday) == friday
    assert weekly_due(sh(2026, 11, 27, 17, 1)) == sh(2026, 12, 4, 17, 0)
    assert week_start_for(weekly_due(sh(2026, 11, 27, 17, 1))).isoformat() == "2026-11-30"


def test_a_monday_morning_is_due_that_friday_at_1700():
    assert weekly_due(sh(2026, 11, 23, 8, 0)) == sh(2026, 11, 27, 17, 0)


def test_friday_1700_shanghai_is_0900_utc():
    assert weekly_due(datetime(2026, 11, 27, 9, 1, tzinfo=timezone.utc)) == sh(2026, 12, 4, 17, 0)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        compute_due("D1", datetime(2026, 11, 24, 10, 0), DEFAULT_RULE_SETTINGS)


def test_met_late_stays_a_violation():
    due = sh(2026, 11, 25, 10, 0)
    assert is_violation(due, due + timedelta(minutes=1), now=due + timedelta(days=30))
    assert not is_violation(due, due, now=due + timedelta(days=30))
    assert deadline_status(due, due + timedelta(hours=3), due + timedelta(days=3), 24) == "met_late"
    assert hours_late(due, due + timedelta(hours=3), due + timedelta(days=3)) == pytest.approx(3)


def test_status_overdue_due_soon_and_open():
    due = sh(2026, 11, 25, 10, 0)
    assert deadline_status(due, None, due + timedelta(seconds=1), 24) == "overdue"
    assert deadline_status(due, None, due - timedelta(hours=24), 24) == "due_soon"
    assert deadline_status(due, None, due - timedelta(hours=25), 24) == "open"
    assert deadline_status(due, due - timedelta(hours=1), due + timedelta(hours=5), 24) == "met"


def test_d1_needs_all_three_kinds_of_survey_material():
    assert not survey_material_complete({"scene_photos", "survey_report"})
    assert survey_material_complete({"scene_photos", "survey_report", "interview_notes", "person_vehicle_photo"})


@pytest.mark.parametrize("hours, bucket", [(0.5, "lt1d"), (24, "lt1d"), (24.1, "1to3d"), (72, "1to3d"),
                                           (100, "3to7d"), (168.5, "gt7d")])
def test_ageing_buckets(hours, bucket):
    assert overdue_age_bucket(hours) == bucket


def test_late_surveyor_upload_charges_the_surveyor_besides_the_first_responsible():
    # 第三章 五: the clock's responsible is the first responsible (5); the surveyor (9) uploaded late.
    assert charged_for_late_material(responsible_id=5, first_responsible_id=5, uploader_id=9, surveyor_id=9) == 9


def test_late_upload_charges_the_first_responsible_when_the_clock_names_the_surveyor():
    assert charged_for_late_material(responsible_id=9, first_responsible_id=5, uploader_id=9, surveyor_id=9) == 5


def test_a_first_responsible_uploading_late_themself_charges_no_one_else():
    assert charged_for_late_material(responsible_id=5, first_responsible_id=5, uploader_id=5, surveyor_id=9) is None
