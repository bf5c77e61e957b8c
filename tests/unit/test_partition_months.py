"""The months of the history's partitions (dashboard/rules/partition_months.py): Shanghai months, and
archiving only what is wholly older than the retention (docs/DOMAIN.md §2: kept at least five years)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from dashboard.rules.partition_months import (
    add_months, archive_due, month_end, month_of, month_of_partition, month_start, months_between,
    months_to_have_ready, partition_name, retention_cutoff,
)
from dashboard.settings import BUSINESS_TZ


def test_16_30_utc_on_the_last_day_of_february_is_already_march_in_shanghai():
    assert month_of(datetime(2024, 2, 29, 16, 30, tzinfo=timezone.utc)) == date(2024, 3, 1)
    assert month_of(datetime(2024, 2, 29, 15, 59, tzinfo=timezone.utc)) == date(2024, 2, 1)


def test_a_months_bounds_are_midnight_in_shanghai_and_the_next_month_starts_where_it_ends():
    assert month_start(date(2026, 12, 1)) == datetime(2026, 12, 1, tzinfo=BUSINESS_TZ)
    assert month_end(date(2026, 12, 1)) == datetime(2027, 1, 1, tzinfo=BUSINESS_TZ)
    assert month_start(date(2026, 12, 1)).astimezone(timezone.utc) == datetime(2026, 11, 30, 16, tzinfo=timezone.utc)


def test_adding_months_crosses_years_both_ways():
    assert add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert add_months(date(2026, 12, 1), -60) == date(2021, 12, 1)


def test_this_month_and_three_ahead_are_kept_ready():
    now = datetime(2026, 12, 4, 17, 0, tzinfo=BUSINESS_TZ)
    assert months_to_have_ready(now, 3) == [date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]


def test_a_range_of_moments_covers_every_month_between_both_included():
    months = months_between(datetime(2025, 8, 20, tzinfo=BUSINESS_TZ), datetime(2026, 1, 2, tzinfo=BUSINESS_TZ))
    assert months == [date(2025, m, 1) for m in range(8, 13)] + [date(2026, 1, 1)]


def test_november_2021_is_archived_on_4_december_2026_but_december_2021_is_kept_under_60_months():
    now = datetime(2026, 12, 4, 17, 0, tzinfo=BUSINESS_TZ)
    assert retention_cutoff(now, 60) == datetime(2021, 12, 4, 17, 0, tzinfo=BUSINESS_TZ)
    assert archive_due(date(2021, 11, 1), now, 60)
    assert not archive_due(date(2021, 12, 1), now, 60)


def test_the_retention_day_is_clamped_to_the_end_of_a_shorter_month():
    assert retention_cutoff(datetime(2026, 3, 31, 9, 0, tzinfo=BUSINESS_TZ), 1) == datetime(2026, 2, 28, 9, 0,
                                                                                            tzinfo=BUSINESS_TZ)


def test_a_retention_below_five_years_archives_nothing_younger_than_five_years():
    now = datetime(2026, 12, 4, 17, 0, tzinfo=BUSINESS_TZ)
    assert not archive_due(date(2026, 1, 1), now, 0)
    assert not archive_due(date(2021, 12, 1), now, 12)
    assert archive_due(date(2021, 11, 1), now, 12)



def test_a_longer_retention_keeps_more_months():
    now = datetime(2026, 12, 4, 17, 0, tzinfo=BUSINESS_TZ)
    assert archive_due(date(2021, 1, 1), now, 60) and not archive_due(date(2021, 1, 1), now, 72)
    assert archive_due(date(2020, 11, 1), now, 72) and not archive_due(date(2020, 12, 1), now, 72)


def test_a_partitions_name_says_its_month_and_the_default_has_none():
    assert partition_name("case_event", date(2026, 5, 1)) == "case_event_p2026_05"
    assert month_of_partition("case_event", "case_event_p2026_05") == date(2026, 5, 1)
    assert month_of_partition("case_event", "case_event_default") is None
    assert month_of_partition("case_event", "case_event_p2026_13") is None
    assert month_of_partition("case_event", "other_p2026_05") is None
