"""Due times of the deadlines D1–D7 (docs/DOMAIN.md §4), computed in Asia/Shanghai, and when a clock is late.

Each rule about a clock's state has two forms here: a Python function (for one clock, and the
rule as people read it) and the SQL expression the services run over millions of clocks
(`sql_*`, SQLAlchemy expressions over the columns they are given, no database access). Pages and
the violation job use only the SQL forms; tests/integration/test_deadline_rules_sql.py evaluates
both on real PostgreSQL over the same clocks, boundaries included, so they cannot drift apart.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, cast, extract, func, literal, or_

from dashboard.rules.work_calendar import (
    LONGEST_SEARCH_DAYS, MONDAY_TO_FRIDAY, WorkCalendar, add_working_time, end_of_working_day, parse_clock_time,
)
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


def _week_cutoff(monday: date, weekday: int, at: time, calendar: WorkCalendar, shift: bool) -> datetime | None:
    """The cut-off of the week starting `monday`: its `weekday` at `at`; with `shift`, when that day
    is not a working day, the last working day of the same week before it; None when the week has
    no working day before it (a Spring Festival week: the next week's summary covers it)."""
    day = monday + timedelta(days=weekday)
    if shift:
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
            if day < monday:
                return None
    return datetime.combine(day, at, tzinfo=BUSINESS_TZ)


def weekly_due(moment: datetime, weekday: int = 4, at: str = "17:00", calendar: WorkCalendar = MONDAY_TO_FRIDAY,
               shift: bool = False) -> datetime:
    """D6: the first weekly cut-off (Friday 17:00 by default) at or after `moment`.

    A moment exactly at the cut-off belongs to that week; a Friday 17:01 belongs to next week. With
    `shift` (the default setting), a cut-off on a holiday moves to the last working day before it
    in the same week, at the same time (docs/DOMAIN.md §4).
    """
    local = _require_aware(moment).astimezone(BUSINESS_TZ)
    monday = local.date() - timedelta(days=local.weekday())
    for week in range(LONGEST_SEARCH_DAYS // 7):
        cutoff = _week_cutoff(monday + timedelta(days=7 * week), weekday, parse_clock_time(at), calendar, shift)
        if cutoff is not None and cutoff >= local:
            return cutoff
    raise ValueError(f"no weekly cut-off within {LONGEST_SEARCH_DAYS} days of {moment}")


def previous_weekly_due(due: datetime, weekday: int = 4, at: str = "17:00",
                        calendar: WorkCalendar = MONDAY_TO_FRIDAY, shift: bool = False) -> datetime:
    """The last cut-off before the week of `due` (a week without one is passed over)."""
    local = _require_aware(due).astimezone(BUSINESS_TZ)
    monday = local.date() - timedelta(days=local.weekday())
    for week in range(1, LONGEST_SEARCH_DAYS // 7):
        cutoff = _week_cutoff(monday - timedelta(days=7 * week), weekday, parse_clock_time(at), calendar, shift)
        if cutoff is not None:
            return cutoff
    raise ValueError(f"no weekly cut-off within {LONGEST_SEARCH_DAYS} days before {due}")


def shifted_from(due: datetime, weekday: int = 4) -> date | None:
    """The configured cut-off day a shifted cut-off was moved from (None when it was not moved)."""
    local = due.astimezone(BUSINESS_TZ).date()
    if local.weekday() == weekday:
        return None
    return local + timedelta(days=weekday - local.weekday())


def week_start_for(due: datetime) -> date:
    """The Monday of the week whose cut-off is `due` (the weekly summary's key)."""
    local = due.astimezone(BUSINESS_TZ)
    return local.date() - timedelta(days=local.weekday())


# How each clock counts its time (docs/DOMAIN.md §4): D1–D3 are the source's calendar hours; D4 is
# "end of the next day", read as working days by default; D5 and D7 may count working time.
TIME_MODES = ("calendar", "working")
MODE_KINDS = ("D4", "D5", "D7")


def weekly_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """weekly_due's arguments from the rule settings (besides the calendar)."""
    return {"weekday": int(settings["deadline.D6.weekday"]), "at": str(settings["deadline.D6.time"]),
            "shift": str(settings.get("deadline.D6.holiday_shift", "previous")) == "previous"}


def needs_calendar(kind: str, settings: Mapping[str, Any]) -> bool:
    """Whether compute_due reads the working calendar for `kind` (D6 always, a clock counting
    working time; the calendar-hour clocks never, so starting one reads no calendar)."""
    return kind == "D6" or (kind in MODE_KINDS and str(settings.get(f"deadline.{kind}.mode")) == "working")


def compute_due(kind: str, started_at: datetime, settings: Mapping[str, Any],
                calendar: WorkCalendar = MONDAY_TO_FRIDAY) -> datetime:
    """Due time of deadline `kind` started by an event at `started_at`, from rule settings and the
    working calendar."""
    mode = str(settings.get(f"deadline.{kind}.mode", "calendar"))
    if kind in HOURLY_KINDS:
        hours = settings[f"deadline.{kind}.hours"]
        if kind in MODE_KINDS and mode == "working":
            return add_working_time(_require_aware(started_at), hours, calendar)
        return due_after_hours(started_at, hours)
    if kind == "D4":
        offset = int(settings["deadline.D4.day_end_offset_days"])
        if mode == "working":
            return end_of_working_day(_require_aware(started_at), offset, calendar)
        return end_of_next_day(started_at, offset)
    if kind == "D6":
        return weekly_due(started_at, calendar=calendar, **weekly_settings(settings))
    raise ValueError(f"unknown deadline kind {kind!r}")


def is_violation(due_at: datetime, met_at: datetime | None, now: datetime) -> bool:
    """Late stays late: met after the due time is still a violation (docs/DOMAIN.md §4). Met exactly at the
    due time is on time; open exactly at the due time is not late yet."""
    if met_at is not None:
        return met_at > due_at
    return now > due_at


def sql_open_late(due_at: ColumnElement, met_at: ColumnElement, now: ColumnElement) -> ColumnElement[bool]:
    """is_violation for a clock not met: past its due time."""
    return and_(met_at.is_(None), due_at < now)


def sql_met_late(due_at: ColumnElement, met_at: ColumnElement) -> ColumnElement[bool]:
    """is_violation for a met clock: met after its due time (false, not NULL, for an open one)."""
    return and_(met_at.is_not(None), met_at > due_at)


def sql_is_violation(due_at: ColumnElement, met_at: ColumnElement, now: ColumnElement) -> ColumnElement[bool]:
    return or_(sql_open_late(due_at, met_at, now), sql_met_late(due_at, met_at))


def sql_decided(due_at: ColumnElement, met_at: ColumnElement, now: ColumnElement) -> ColumnElement[bool]:
    """Whether a clock's outcome is known: met, or past due (what an on-time rate counts)."""
    return or_(met_at.is_not(None), due_at < now)


def sql_on_time(due_at: ColumnElement, met_at: ColumnElement) -> ColumnElement[bool]:
    """Met no later than its due time (never NULL: an open clock is not on time)."""
    return func.coalesce(met_at <= due_at, False)


# --- which event each clock is for: its subject key, unique per kind (uq_deadline_subject) ----------

def survey_subject(case_id: int) -> str:
    """D1: the case's survey material (started by the first dispatch)."""
    return f"case:{case_id}:survey"


def dispatch_subject(dispatch_id: int) -> str:
    """D2 and D3: one dispatch of a first responsible person."""
    return f"dispatch:{dispatch_id}"


def initial_review_subject(case_id: int) -> str:
    """D4: HQ's initial review of a tiered case."""
    return f"case:{case_id}:initial_review"


D5_SUBJECT_FORMAT = r"^point:[0-9]+:round:[0-9]+$"  # what point_subject writes, as a regex


def point_subject(point_id: int, round_no: int) -> str:
    """D5: one answer round of one HQ review point (a send-back opens the next round)."""
    return f"point:{point_id}:round:{round_no}"


def weekly_subject(branch_id: int, week_start: date) -> str:
    """D6: a branch's weekly summary of the week starting `week_start` (a Monday)."""
    return f"weekly:{branch_id}:{week_start.isoformat()}"


def supervision_subject(opinion_id: int) -> str:
    """D7: the progress reply to one supervision opinion."""
    return f"supervision:{opinion_id}"


# The SQL forms call the database's key functions (migration 0027), not concat(): those are declared
# LEAKPROOF, so a clock can be found by its key through its index under row-level security.
def sql_initial_review_subject(case_id: ColumnElement) -> ColumnElement[str]:
    return func.claims_subject("case:", case_id, ":initial_review")


def sql_supervision_subject(opinion_id: ColumnElement) -> ColumnElement[str]:
    return func.claims_subject("supervision:", opinion_id)


def sql_dispatch_subject(dispatch_id: ColumnElement) -> ColumnElement[str]:
    return func.claims_subject("dispatch:", dispatch_id)


def sql_point_subject(point_id: ColumnElement, rounds_before: ColumnElement) -> ColumnElement[str]:
    """point_subject(point_id, rounds_before + 1): the clock of the round after that many sent back."""
    return func.claims_point_subject(point_id, rounds_before)


def sql_d5_part(kind: ColumnElement, subject_key: ColumnElement, index: int) -> ColumnElement[int]:
    """Part `index` (2: point id, 4: round) of a D5 clock's subject (D5_SUBJECT_FORMAT); NULL else."""
    return func.claims_d5_part(kind, subject_key, index)


# --- what meets which clock (分级管理办法 第三章 三、四、五) ---------------------------------

DEADLINE_KINDS = ("D1", "D2", "D3", "D4", "D5", "D6", "D7")
# 第三章 三: the surveyor uploads 事故照片、查勘报告、调查笔录 within 24 h of the dispatch.
SURVEY_MATERIAL = ("scene_photos", "survey_report", "interview_notes")
# 第三章 四/五: the first responsible's 人车合影 (24 h) and 调查报告 (72 h), usually uploaded for
# them by the surveyor (客服经理代为上传).
FIRST_RESPONSIBLE_MATERIAL = {"person_vehicle_photo": "D2", "investigation_report": "D3"}
UPLOAD_KINDS = SURVEY_MATERIAL + tuple(FIRST_RESPONSIBLE_MATERIAL)


def survey_material_complete(kinds_present: set[str] | frozenset[str]) -> bool:
    """D1 is met only when all three kinds of survey material are in the system."""
    return all(kind in kinds_present for kind in SURVEY_MATERIAL)


def deadline_status(due_at: datetime, met_at: datetime | None, now: datetime, due_soon_hours: float) -> str:
    """overdue / due_soon / open / met_late / met — what the tracker shows for one clock."""
    if met_at is not None:
        return "met_late" if met_at > due_at else "met"
    if now > due_at:
        return "overdue"
    if due_at - now <= timedelta(hours=float(due_soon_hours)):
        return "due_soon"
    return "open"


STATUS_RANK = {"overdue": 0, "due_soon": 1, "open": 1, "met_late": 2, "met": 3}  # the tracker's order


def sql_deadline_status(due_at: ColumnElement, met_at: ColumnElement, now: ColumnElement,
                        soon_until: ColumnElement) -> ColumnElement[str]:
    """deadline_status in SQL; `soon_until` is now + the due-soon window."""
    return case((sql_met_late(due_at, met_at), literal("met_late")),
                (met_at.is_not(None), literal("met")),
                (due_at < now, literal("overdue")),
                (due_at <= soon_until, literal("due_soon")), else_=literal("open"))


def sql_status_rank(due_at: ColumnElement, met_at: ColumnElement, now: ColumnElement) -> ColumnElement[int]:
    """STATUS_RANK of a clock (overdue first, then due soon or open, then met late, then met)."""
    return case((sql_met_late(due_at, met_at), STATUS_RANK["met_late"]),
                (met_at.is_not(None), STATUS_RANK["met"]),
                (due_at < now, STATUS_RANK["overdue"]), else_=STATUS_RANK["due_soon"])


def sql_status_is(status: str, due_at: ColumnElement, met_at: ColumnElement, now: ColumnElement,
                  soon_until: ColumnElement) -> ColumnElement[bool]:
    """One status of deadline_status as a condition an index can serve (no CASE over every clock)."""
    return {
        "overdue": sql_open_late(due_at, met_at, now),
        "due_soon": and_(met_at.is_(None), due_at >= now, due_at <= soon_until),
        "open": and_(met_at.is_(None), due_at > soon_until),
        "met_late": sql_met_late(due_at, met_at),
        "met": and_(met_at.is_not(None), met_at <= due_at),
    }[status]


def hours_late(due_at: datetime, met_at: datetime | None, now: datetime) -> float:
    """Hours past the due time (negative: hours left); a met clock stops counting when met."""
    end = met_at if met_at is not None else now
    return (end - due_at).total_seconds() / 3600


def sql_lateness(due_at: ColumnElement, met_at: ColumnElement, now: ColumnElement) -> ColumnElement:
    """hours_late as an interval (orders the list without dividing per clock)."""
    return func.coalesce(met_at, now) - due_at


def sql_hours_late(due_at: ColumnElement, met_at: ColumnElement, now: ColumnElement) -> ColumnElement[float]:
    return cast(extract("epoch", sql_lateness(due_at, met_at, now)), Float) / 3600.0


# How long an open clock has been overdue: (key, more than `low` hours, at most `high` hours).
OVERDUE_AGE_BUCKETS = (("lt1d", 0, 24), ("1to3d", 24, 72), ("3to7d", 72, 168), ("gt7d", 168, None))


def overdue_age_bucket(hours_overdue: float) -> str:
    """The ageing bucket of an overdue clock (hours past due > 0); exactly 24 h is still lt1d."""
    for key, low, high in OVERDUE_AGE_BUCKETS:
        if hours_overdue > low and (high is None or hours_overdue <= high):
            return key
    return OVERDUE_AGE_BUCKETS[0][0]


def sql_overdue_age_bucket(due_at: ColumnElement, now: ColumnElement) -> ColumnElement[str]:
    """overdue_age_bucket of an open overdue clock: at most `high` hours late is due no earlier than
    `high` hours before now (timestamps compared, not an epoch computed and divided per clock)."""
    whens = [(due_at >= now - func.make_interval(0, 0, 0, 0, high), literal(key))
             for key, _low, high in OVERDUE_AGE_BUCKETS if high is not None]
    return case(*whens, else_=literal(OVERDUE_AGE_BUCKETS[-1][0]))


def charged_for_late_material(responsible_id: int | None, first_responsible_id: int,
                              uploader_id: int, surveyor_id: int) -> int | None:
    """Who else is charged when the first responsible's material is uploaded late.

    第三章 四/五: the surveyor must upload the first responsible's photo and report in time, and a
    late upload is charged to the first responsible person as well. So a late upload by the
    surveyor charges both; the one who is not already the clock's responsible person is returned.
    """
    charged = {first_responsible_id}
    if uploader_id == surveyor_id:
        charged.add(surveyor_id)
    others = sorted(p for p in charged if p != responsible_id)
    return others[0] if others else None
