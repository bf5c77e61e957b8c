"""Which calendar months the case history's partitions cover, and which are old enough to archive. Pure.

`case_event` is range-partitioned by month on `at` (migration 0034, docs/SCALING.md step 3). A
month is an Asia/Shanghai calendar month (the months people report in), whatever zone the server
runs in. A partition is named `<table>_pYYYY_MM`. docs/DOMAIN.md §2 keeps claim material at least five years:
a month is archived only once every moment in it is older than the retention.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from dashboard.settings import BUSINESS_TZ

_PARTITION_MONTH = re.compile(r"_p(\d{4})_(\d{2})$")


def month_of(moment: datetime) -> date:
    """The first day of the business month `moment` falls in."""
    local = moment.astimezone(BUSINESS_TZ)
    return date(local.year, local.month, 1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (before, when negative) `month`'s."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_start(month: date) -> datetime:
    """The first moment of `month` in business time (a partition's lower bound, inclusive)."""
    return datetime(month.year, month.month, 1, tzinfo=BUSINESS_TZ)


def month_end(month: date) -> datetime:
    """The first moment after `month` (a partition's upper bound, exclusive)."""
    return month_start(add_months(month, 1))


def months_between(first: datetime, last: datetime) -> list[date]:
    """Every month from the one holding `first` to the one holding `last`, both included."""
    months, month, final = [], month_of(first), month_of(last)
    while month <= final:
        months.append(month)
        month = add_months(month, 1)
    return months


def months_to_have_ready(now: datetime, months_ahead: int) -> list[date]:
    """This month and the `months_ahead` after it: the partitions the job keeps created in advance."""
    this = month_of(now)
    return [add_months(this, n) for n in range(max(0, int(months_ahead)) + 1)]


def retention_cutoff(now: datetime, retention_months: int) -> datetime:
    """`now` moved back `retention_months` calendar months (the day clamped to the month's last)."""
    local = now.astimezone(BUSINESS_TZ)
    month = add_months(date(local.year, local.month, 1), -int(retention_months))
    last_day = (add_months(month, 1) - month).days
    return local.replace(year=month.year, month=month.month, day=min(local.day, last_day))


# docs/DOMAIN.md §2: archived case material is kept at least 5 years. The live table keeps them as long: a
# smaller setting (a slip) is read as this, so no month a case detail may still show leaves early.
MIN_RETENTION_MONTHS = 60


def archive_due(month: date, now: datetime, retention_months: int) -> bool:
    """Whether the whole of `month` is older than the retention (never less than MIN_RETENTION_MONTHS)."""
    return month_end(month) <= retention_cutoff(now, max(int(retention_months), MIN_RETENTION_MONTHS))


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y_%m}"


def month_of_partition(table: str, name: str) -> date | None:
    """The month a partition of `table` holds, from its name; None for any other table (the default)."""
    if not name.startswith(f"{table}_p"):
        return None
    found = _PARTITION_MONTH.search(name)
    if found is None or not 1 <= int(found[2]) <= 12:
        return None
    return date(int(found[1]), int(found[2]), 1)
