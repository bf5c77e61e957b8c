"""The working calendar in the database: read for the clocks, shown and edited by HQ admin.

Read (load_calendar): the named days around a moment and the known years, for rules/work_calendar.
Edit (set_calendar_day, confirm_year): HQ admin enters the holidays and 调休 of a year the
chinese-calendar package does not cover (the State Council publishes them each November), then
confirms the year; until then the year is listed as unknown, the admin page warns, and the clocks
fall back to Monday–Friday for it.
"""
from __future__ import annotations

import unicodedata
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.typed_fields import read_text
from dashboard.rules.work_calendar import LONGEST_SEARCH_DAYS, WorkCalendar
from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.services.cases.history import record_event
from dashboard.services.errors import FieldError, UserError, ValidationFailed
from dashboard.settings import BUSINESS_TZ
from db.models import WorkCalendarDay, WorkCalendarYear

# Years an admin may enter: no calendar is published further ahead, and none before the seed.
EDITABLE_YEARS_AHEAD = 2


def load_calendar(session: Session, around: datetime | date | None = None) -> WorkCalendar:
    """The calendar for clocks starting near `around` (default now): the named days from a week
    before it to well past the longest clock, and every known year."""
    moment = around if around is not None else clock.now()
    day = moment.astimezone(BUSINESS_TZ).date() if isinstance(moment, datetime) else moment
    low, high = day - timedelta(days=LONGEST_SEARCH_DAYS + 7), day + timedelta(days=2 * LONGEST_SEARCH_DAYS)
    rows = session.execute(select(WorkCalendarDay.day, WorkCalendarDay.working, WorkCalendarDay.name)
                           .where(WorkCalendarDay.day >= low, WorkCalendarDay.day <= high)).all()
    years = frozenset(session.scalars(select(WorkCalendarYear.year)))
    return WorkCalendar({r.day: r.working for r in rows}, {r.day: r.name or "" for r in rows}, years)


@dataclass(frozen=True)
class YearStatus:
    year: int
    known: bool
    source: str | None  # seed / admin / None (unknown)
    holidays: int  # named non-working days
    makeup_days: int  # 调休 working days


@dataclass(frozen=True)
class CalendarDayView:
    day: date
    working: bool
    name: str
    source: str


def _years_to_watch(today: date) -> list[int]:
    return [today.year, today.year + 1]


@requires("settings.edit")
def calendar_years(session: Session, actor: Actor, today: date | None = None) -> list[YearStatus]:
    """This year and next (the ones clocks will run into), and every year entered: whether known."""
    today = today or clock.business_today()
    known = {row.year: row for row in session.scalars(select(WorkCalendarYear))}
    counts: dict[tuple[int, bool], int] = {}
    for day, working in session.execute(select(WorkCalendarDay.day, WorkCalendarDay.working)
                                        .where(WorkCalendarDay.day >= date(today.year - 1, 1, 1))):
        counts[(day.year, working)] = counts.get((day.year, working), 0) + 1
    years = sorted(set(_years_to_watch(today)) | {y for y, _ in counts} | {y for y in known if y >= today.year - 1})
    return [YearStatus(y, y in known, known[y].source if y in known else None,
                       counts.get((y, False), 0), counts.get((y, True), 0)) for y in years]


@requires("settings.edit")
def unknown_years(session: Session, actor: Actor, today: date | None = None) -> list[int]:
    """The years clocks will run into whose calendar nobody has entered: the admin page's warning."""
    return [s.year for s in calendar_years(session, actor, today) if not s.known]


@requires("settings.edit")
def calendar_days(session: Session, actor: Actor, year: int) -> list[CalendarDayView]:
    rows = session.scalars(select(WorkCalendarDay).where(WorkCalendarDay.day >= date(year, 1, 1),
                                                         WorkCalendarDay.day < date(year + 1, 1, 1))
                           .order_by(WorkCalendarDay.day))
    return [CalendarDayView(r.day, r.working, r.name or "", r.source) for r in rows]


def _typed_day(value: date | str | None, errors: list[FieldError]) -> date | None:
    """The day typed as YYYY-MM-DD (None when empty); a problem appended to `errors` otherwise."""
    if value is None or isinstance(value, date):
        return value
    typed = unicodedata.normalize("NFKC", str(value)).strip()
    if not typed:
        return None
    if len(typed) == 10:  # fromisoformat also reads 20270101: only the ten-character form shown
        with suppress(ValueError):
            return date.fromisoformat(typed)
    errors.append(FieldError("calendar.calendar_day", "calendar.error.day_format", {"value": typed[:20]}))
    return None


def _year_problem(year: int, today: date) -> FieldError | None:
    """A year an admin may not enter: before last year, or further ahead than any calendar published."""
    if today.year - 1 <= year <= today.year + EDITABLE_YEARS_AHEAD:
        return None
    return FieldError("calendar.calendar_day", "calendar.error.year_out_of_range",
                      {"low": str(today.year - 1), "high": str(today.year + EDITABLE_YEARS_AHEAD)})


@requires("calendar.edit")
def set_calendar_day(session: Session, actor: Actor, day: date | str | None, working: bool | None, name: object,
                     *, now: datetime | None = None) -> CalendarDayView:
    """Name one day a holiday (working=False) or a make-up working day (working=True). A day set back
    to its weekday rule is removed (working=None). The day may be typed (2027-01-01). Recorded in
    the history; all or nothing."""
    now = clock.or_now(now)
    today = now.astimezone(BUSINESS_TZ).date()
    errors: list[FieldError] = []
    day = _typed_day(day, errors)
    if day is None:
        if not errors:
            errors.append(FieldError("calendar.calendar_day", "calendar.error.day_required"))
    elif (problem := _year_problem(day.year, today)) is not None:
        errors.append(problem)
    label = read_text(errors, "calendar.calendar_name", name, required=working is not None, max_len=32) \
        if working is not None else None
    if errors:
        raise ValidationFailed(errors)
    assert day is not None
    if working is None:
        session.execute(WorkCalendarDay.__table__.delete().where(WorkCalendarDay.day == day))
    else:
        session.execute(insert(WorkCalendarDay).values(day=day, working=working, name=label, source="admin",
                                                       changed_by=actor.person_id, changed_at=now)
                        .on_conflict_do_update(index_elements=["day"], set_=dict(
                            working=working, name=label, source="admin", changed_by=actor.person_id,
                            changed_at=now)))
    record_event(session, case_id=None, actor_id=actor.person_id, kind="calendar_day_set", at=now,
                 day=day.isoformat(), working=working, name=label or None)
    session.commit()
    weekday_rule = day.weekday() < 5
    return CalendarDayView(day, weekday_rule if working is None else working, label or "",
                           "weekday" if working is None else "admin")


@requires("calendar.edit")
def confirm_year(session: Session, actor: Actor, year: int, *, now: datetime | None = None) -> None:
    """HQ admin says the year's holidays and 调休 are all entered: the warning goes."""
    now = clock.or_now(now)
    today = now.astimezone(BUSINESS_TZ).date()
    if (problem := _year_problem(year, today)) is not None:
        raise ValidationFailed([problem])
    holidays = session.scalar(select(func.count()).select_from(WorkCalendarDay).where(
        WorkCalendarDay.day >= date(year, 1, 1), WorkCalendarDay.day < date(year + 1, 1, 1),
        WorkCalendarDay.working.is_(False)))
    if not holidays:  # every year has 元旦 and 春节: a year confirmed empty is a slip
        raise UserError("calendar.error.confirm_empty", year=str(year))
    session.execute(insert(WorkCalendarYear).values(year=year, source="admin", confirmed_by=actor.person_id,
                                                    confirmed_at=now).on_conflict_do_nothing())
    record_event(session, case_id=None, actor_id=actor.person_id, kind="calendar_year_confirmed", at=now, year=year)
    session.commit()
