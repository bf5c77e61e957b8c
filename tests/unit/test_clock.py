"""The business clock: one reader of the time for the whole product, pinned for the test suite."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from dashboard import clock
from dashboard.settings import BUSINESS_TZ
from tests.clock_pin import parse_moment

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.moment("2026-12-03 01:59")
def test_the_business_day_is_shanghais_not_the_servers_utc_day():
    # 01:59 in Shanghai is still 17:59 of the day before in UTC.
    assert clock.now().date() == date(2026, 12, 2)
    assert clock.business_today() == date(2026, 12, 3)
    assert clock.business_now().utcoffset() == timedelta(hours=8)


@pytest.mark.moment("2027-02-28 23:59")
def test_a_stated_moment_moves_the_products_clock_and_time_runs_on_from_it(now):
    assert now == datetime(2027, 2, 28, 15, 59, tzinfo=timezone.utc)
    assert clock.now() - now < timedelta(minutes=1)
    assert clock.now() >= now


def test_a_caller_may_pass_its_own_moment_but_never_a_naive_one():
    as_of = datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)
    assert clock.or_now(as_of) is as_of
    assert clock.or_now(None).tzinfo is not None
    with pytest.raises(ValueError):
        clock.or_now(datetime(2026, 12, 4, 9, 0))


def test_a_moment_without_an_offset_is_read_in_shanghai():
    assert parse_moment("2026-12-04 16:59") == datetime(2026, 12, 4, 16, 59, tzinfo=BUSINESS_TZ)
    assert parse_moment("2026-12-04T08:59+00:00") == datetime(2026, 12, 4, 8, 59, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="YYYY-MM-DD HH:MM"):
        parse_moment("Friday afternoon")


def test_the_clock_option_pins_the_product_and_the_tests_for_a_whole_run():
    """`launcher test --clock ...` passes --clock to pytest: a run of its own sees the moment."""
    env = {k: v for k, v in os.environ.items() if k != "CLAIMS_TEST_CLOCK"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-n", "0", "-p", "no:cacheprovider",
                          "tests/clock_probe.py", "--clock", "2026-12-31 23:30"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    seen = dict(part.split("=", 1) for part in next(line for line in run.stdout.splitlines()
                                                    if line.startswith("PRODUCT=")).split())
    product = datetime.fromisoformat(seen["PRODUCT"])
    assert product.strftime("%Y-%m-%d %H:%M") == "2026-12-31 23:30"
    assert abs(datetime.fromisoformat(seen["PLAIN"]) - product) < timedelta(minutes=1)


def test_a_bad_clock_option_is_refused_with_the_expected_form():
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                          "tests/clock_probe.py", "--clock", "next friday"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "YYYY-MM-DD HH:MM" in run.stdout + run.stderr


@pytest.mark.moment("2026-11-01 08:00")
def test_the_servers_own_zone_and_its_daylight_saving_decide_nothing(monkeypatch):
    """08:00 in Shanghai on 2026-11-01 is 20:00 of 31 October in New York, on the night its daylight
    saving ends: a server set to that zone still reads the business day in Shanghai."""
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert clock.business_today() == date(2026, 11, 1)
        assert clock.now().utcoffset() == timedelta(0)
        assert clock.business_now().strftime("%H:%M") == "08:00"
        assert datetime.fromtimestamp(clock.epoch_seconds()).date() == date(2026, 10, 31)  # the server's own
    finally:
        monkeypatch.undo()
        time.tzset()
