"""The business clock: the one place the product reads the time.

Services, pages and jobs never call `datetime.now()` themselves. Every deadline, colour and
"time left" depends on the moment, so one reader lets a test (or a back-fill) pin that moment
for the whole product at once: the test suite pins it with `time-machine`, which moves what
`datetime.now()` answers here, and jobs keep their `--as-of`. The database's own `now()` is
never used for a business time: every stored time is passed in from here (db/models.py gives
each time column a Python default from `now`, the server default is only a fallback for
hand-written SQL).
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from dashboard.settings import BUSINESS_TZ


def now() -> datetime:
    """This moment, timezone-aware in UTC (stored and compared in UTC, shown in BUSINESS_TZ)."""
    return datetime.now(timezone.utc)


def or_now(moment: datetime | None) -> datetime:
    """`moment` when a caller passes one (jobs' --as-of, tests), otherwise now; never naive."""
    if moment is None:
        return now()
    if moment.tzinfo is None:
        raise ValueError("a moment must be timezone-aware")
    return moment


def business_now() -> datetime:
    """This moment in the business time zone (Asia/Shanghai), for what people read."""
    return now().astimezone(BUSINESS_TZ)


def business_today() -> date:
    """Today's date in the business time zone: the server's own zone never decides a day."""
    return business_now().date()


def epoch_seconds() -> float:
    """Seconds since the epoch on the same clock (idle timeouts, ages of kept values)."""
    return now().timestamp()
