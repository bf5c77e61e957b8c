"""Pinning the product's clock for the test suite (`--clock`), with the `time-machine` package.

time-machine moves what `datetime.now()` and `time.time()` answer in this process (and in the
threads AppTest runs pages in); the browser tests' Streamlit server is another process, started
through `tests.e2e.pinned_streamlit` with the same moment. PostgreSQL's own `now()` is not
moved: the product never uses it for a business time (dashboard/clock.py).
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime

import time_machine

from dashboard.settings import BUSINESS_TZ

# The pinned moment travels to xdist workers and subprocesses through the environment.
CLOCK_ENV = "CLAIMS_TEST_CLOCK"
_process_pin: time_machine.travel | None = None


def parse_moment(text: str) -> datetime:
    """'2026-12-04 16:59' (Asia/Shanghai unless an offset is given) as an aware datetime."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise ValueError(f"--clock wants 'YYYY-MM-DD HH:MM' in Asia/Shanghai, not {text!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=BUSINESS_TZ)


def pinned_moment() -> datetime | None:
    text = os.environ.get(CLOCK_ENV, "").strip()
    return parse_moment(text) if text else None


def start_process_pin(option: str | None) -> None:
    """From --clock (the controller) or the inherited environment (xdist workers): pin this process."""
    global _process_pin
    if option:
        os.environ[CLOCK_ENV] = parse_moment(option).isoformat()
    moment = pinned_moment()
    if moment is not None and _process_pin is None:
        _process_pin = time_machine.travel(moment, tick=True)
        _process_pin.start()


@contextlib.contextmanager
def travel_to_pinned_moment() -> Iterator[None]:
    moment = pinned_moment()
    if moment is None:
        yield
        return
    with time_machine.travel(moment, tick=True):
        yield


@contextlib.contextmanager
def travel_to(text: str) -> Iterator[datetime]:
    """Run a block at a stated moment ('2026-12-03 10:00', Asia/Shanghai), time running on from it;
    for a test whose outcome depends on the time of day, the weekday or the month."""
    moment = parse_moment(text)
    with time_machine.travel(moment, tick=True):
        yield moment
