"""Weekly summary of each branch's pending tiered cases (分级管理办法 第四章 一.6): the branch tracker
sends it to HQ review every Friday before 17:00 (D6)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, literal_column, select, true
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.deadlines import (
    previous_weekly_due, shifted_from, week_start_for, weekly_due, weekly_settings, weekly_subject,
)
from dashboard.services.clocks.calendar import load_calendar
from dashboard.services import reference
from dashboard.services.actor import Actor
from dashboard.services.aliases import SUB_BRANCH
from dashboard.services.clocks.deadlines import meet_deadline, start_deadline
from dashboard.services.errors import NotFound, PermissionDenied, UserError
from dashboard.services.cases.history import record_event
from dashboard.services.outbox import branch_people, notify, zh
from dashboard.services.reference import all_settings
from dashboard.services.statements import as_rows, built_once, count_then_page, read
from dashboard.services.capability import requires
from db.models import (
    ClaimCase, Deadline, Opinion, OpinionPoint, OrgUnit, Person, RoleAssignment, WeeklySummary,
)



def week_cutoffs(session: Session, now: datetime) -> tuple[datetime, datetime]:
    """(the latest cut-off strictly before `now`, the current week's cut-off at or after `now`), on
    the working calendar: a Friday holiday moves the cut-off to the working day before it."""
    weekly = weekly_settings(all_settings(session))
    calendar = load_calendar(session, now)
    current = weekly_due(now, calendar=calendar, **weekly)
    return previous_weekly_due(current, calendar=calendar, **weekly), current


@dataclass(frozen=True)
class MovedCutoff:
    configured_day: date  # the Friday (the configured weekday) the cut-off was moved from
    holiday: str  # its name in the calendar ("" when unnamed)


@requires("weekly.read")
def cutoff_moved(session: Session, actor: Actor, due: datetime) -> MovedCutoff | None:
    """Whether this week's cut-off was moved off a holiday, from which day and why (the page says so)."""
    weekday = int(all_settings(session)["deadline.D6.weekday"])
    configured = shifted_from(due, weekday)
    if configured is None:
        return None
    return MovedCutoff(configured, load_calendar(session, due).names.get(configured, ""))


def previous_cutoff(session: Session, due: datetime) -> datetime:
    """The cut-off before the week of `due`: where that week's D6 clock starts."""
    return previous_weekly_due(due, calendar=load_calendar(session, due), **weekly_settings(all_settings(session)))


def build_content(session: Session, branch_ids: list[int], now: datetime) -> dict[int, dict[str, Any]]:
    """Per branch: every pending tiered case with state, days pending, open review points and
    overdue deadlines, plus totals. Set-based: one query for all branches."""
    sub = SUB_BRANCH
    open_points = (select(func.count()).select_from(OpinionPoint).join(Opinion, Opinion.id == OpinionPoint.opinion_id)
                   .where(Opinion.case_id == ClaimCase.id, Opinion.kind == "hq_review",
                          OpinionPoint.status != "accepted").scalar_subquery())
    overdue_by_case = (select(Deadline.case_id, func.count().label("n"))
                       .where(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None), Deadline.due_at < now,
                              Deadline.case_id.is_not(None))
                       .group_by(Deadline.case_id).subquery())
    overdue = func.coalesce(overdue_by_case.c.n, 0)
    rows = session.execute(
        select(ClaimCase.branch_id, ClaimCase.id, ClaimCase.case_no, sub.name, ClaimCase.tier, ClaimCase.state,
               ClaimCase.current_estimate, ClaimCase.report_time, ClaimCase.tiered_at, open_points, overdue,
               ClaimCase.risk_colour)
        .join(sub, sub.id == ClaimCase.sub_branch_id)
        .outerjoin(overdue_by_case, overdue_by_case.c.case_id == ClaimCase.id)
        .where(ClaimCase.branch_id.in_(branch_ids or [-1]), ClaimCase.tier != "T0", ClaimCase.state != "closed",
               ClaimCase.report_time <= now)
        .order_by(ClaimCase.branch_id, ClaimCase.report_time, ClaimCase.id)).all()
    cases: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for branch_id, case_id, case_no, sub_name, tier, state, estimate, reported, tiered, points, late, colour in rows:
        cases[branch_id].append({
            "risk_colour": colour,
            "case_id": case_id, "case_no": case_no, "sub_branch": sub_name, "tier": tier, "state": state,
            "estimate": str(estimate) if estimate is not None else None,
            "report_time": reported.isoformat(), "tiered_at": tiered.isoformat() if tiered else None,
            "days_pending": max(0, (now - reported).days), "open_points": int(points),
            "overdue_deadlines": int(late),
        })
    content = {}
    for branch_id in branch_ids:
        items = cases.get(branch_id, [])
        content[branch_id] = {
            "as_of": now.isoformat(),
            "cases": items,
            "totals": {
                "cases": len(items),
                "estimate": str(sum((Decimal(c["estimate"]) for c in items if c["estimate"]), Decimal("0"))),
                "open_points": sum(c["open_points"] for c in items),
                "overdue_deadlines": sum(c["overdue_deadlines"] for c in items),
                "cases_with_overdue": sum(1 for c in items if c["overdue_deadlines"]),
            },
        }
    return content


def _ensure_week(session: Session, branch_ids: list[int], due: datetime, now: datetime) -> tuple[int, int]:
    """Create (or refresh the draft of) each branch's summary for the week ending at `due`.

    A draft is refreshed until it is submitted or until its first build after the cut-off, which
    is the snapshot HQ keeps. Returns (created, refreshed).
    """
    week_start = week_start_for(due)
    existing = {s.branch_id: s for s in session.scalars(
        select(WeeklySummary).where(WeeklySummary.week_start == week_start,
                                    WeeklySummary.branch_id.in_(branch_ids)).with_for_update())}
    stale = [b for b in branch_ids if b not in existing
             or (existing[b].submitted_at is None and existing[b].generated_at <= existing[b].due_at)]
    content = build_content(session, stale, min(now, due)) if stale else {}
    # D6 runs over the week: started just after the previous cut-off (read once), due at this one.
    week_opened = previous_cutoff(session, due) + timedelta(seconds=1) if stale else None
    created = refreshed = 0
    for branch_id in stale:
        if branch_id in existing:
            existing[branch_id].content = content[branch_id]
            existing[branch_id].generated_at = now
            refreshed += 1
        else:
            result = session.execute(insert(WeeklySummary).values(
                branch_id=branch_id, week_start=week_start, due_at=due, generated_at=now,
                content=content[branch_id]).on_conflict_do_nothing(constraint="uq_weekly_summary_week")
                .returning(WeeklySummary.id)).first()
            created += 1 if result else 0
        trackers = branch_people(session, branch_id, "branch_tracker")
        start_deadline(session, kind="D6", subject_key=weekly_subject(branch_id, week_start),
                       started_at=week_opened,
                       responsible_person_id=trackers[0] if trackers else None, branch_id=branch_id)
    return created, refreshed


@dataclass(frozen=True)
class WeeklyRun:
    closed_week: date
    current_week: date
    created: int
    refreshed: int


def build_weekly_summaries(session: Session, now: datetime | None = None,
                           branch_ids: list[int] | None = None) -> WeeklyRun:
    """The Friday 17:00 job: snapshot the week just ended for every branch and open the next
    week's draft with its D6 clock. Idempotent (unique per branch and week)."""
    now = clock.or_now(now)
    ids = branch_ids or list(session.scalars(select(OrgUnit.id).where(OrgUnit.level == "branch")
                                             .order_by(OrgUnit.id)))
    previous, current = week_cutoffs(session, now)
    created = refreshed = 0
    for due in (previous, current):
        c, r = _ensure_week(session, ids, due, now)
        created, refreshed = created + c, refreshed + r
    session.commit()
    return WeeklyRun(week_start_for(previous), week_start_for(current), created, refreshed)


@requires("weekly.submit")
def refresh_current_week(session: Session, actor: Actor, now: datetime | None = None) -> None:
    """The tracker brings this week's draft up to date for their branch(es) before submitting."""
    now = clock.or_now(now)
    ids = sorted(actor.branch_ids_for("branch_tracker"))
    _, current = week_cutoffs(session, now)
    _ensure_week(session, ids, current, now)
    session.commit()


@dataclass(frozen=True)
class Submitted:
    on_time: bool
    cases: int
    as_of: datetime


@requires("weekly.submit")
def submit_weekly_summary(session: Session, actor: Actor, summary_id: int, now: datetime | None = None) -> Submitted:
    """The branch tracker submits the summary to HQ review; D6 is met (late when after the cut-off).

    Before the cut-off the summary is rebuilt from the data of this moment, so what HQ gets is
    today's list, never an older draft; after it, the snapshot taken at the cut-off is what is
    due and is sent as it is (the page says so before the person submits). A summary is
    submitted once; what was sent is kept as sent, and the result says what and as of when.
    """
    now = clock.or_now(now)
    summary = session.scalars(select(WeeklySummary).where(WeeklySummary.id == summary_id).with_for_update()).first()
    if summary is None or summary.branch_id not in actor.branch_ids_for("branch_tracker"):
        raise NotFound()
    if summary.submitted_at is not None:
        raise UserError("review.weekly.already_submitted")
    if now <= summary.due_at:
        summary.content = build_content(session, [summary.branch_id], now)[summary.branch_id]
        summary.generated_at = now
    summary.submitted_at = now
    summary.submitted_by = actor.person_id
    on_time = now <= summary.due_at
    meet_deadline(session, kind="D6", subject_key=weekly_subject(summary.branch_id, summary.week_start), met_at=now,
                  met_by=actor.person_id)
    record_event(session, case_id=None, actor_id=actor.person_id, kind="weekly_submitted", at=now,
                 role="branch_tracker", summary_id=summary.id, branch_id=summary.branch_id,
                 week_start=summary.week_start, on_time=on_time, cases=summary.content["totals"]["cases"])
    branch_name = session.scalar(select(OrgUnit.name).where(OrgUnit.id == summary.branch_id))
    reviewers = list(session.scalars(select(RoleAssignment.person_id).where(RoleAssignment.role == "hq_reviewer")
                                     .distinct()))
    notify(session, recipients=reviewers, case_id=None, kind="weekly_submitted",
           body=zh("review.notify.weekly", branch=branch_name, week=summary.week_start.isoformat()),
           dedupe_prefix=f"weekly:{summary.id}", now=now)
    sent = Submitted(on_time, int(summary.content["totals"]["cases"]), datetime.fromisoformat(summary.content["as_of"]))
    session.commit()
    return sent


@dataclass(frozen=True)
class SummaryRow:
    id: int
    branch_id: int
    branch: str
    week_start: date
    due_at: datetime
    generated_at: datetime
    submitted_at: datetime | None
    submitted_by: str | None
    cases: int
    open_points: int
    overdue_deadlines: int

    def status(self, now: datetime) -> str:
        if self.submitted_at is not None:
            return "on_time" if self.submitted_at <= self.due_at else "late"
        return "open" if now <= self.due_at else "missing"


def _branch_filter(actor: Actor) -> list[int] | None:
    if not actor.may("weekly.read"):
        raise PermissionDenied()
    if actor.is_national:
        return None
    return sorted(actor.branch_ids_for("branch_tracker", "branch_manager")) or [-1]


def _summary_rows() -> Select:
    """The columns of a SummaryRow (list and single summary alike)."""
    # The totals are columns PostgreSQL keeps from `content` (migration 0012), not read out of it.
    return (select(WeeklySummary.id, WeeklySummary.branch_id, OrgUnit.name, WeeklySummary.week_start,
                   WeeklySummary.due_at, WeeklySummary.generated_at, WeeklySummary.submitted_at, Person.full_name,
                   WeeklySummary.total_cases, WeeklySummary.total_open_points, WeeklySummary.total_overdue_deadlines)
            .join(OrgUnit, OrgUnit.id == WeeklySummary.branch_id)
            .outerjoin(Person, Person.id == WeeklySummary.submitted_by))


@requires("weekly.read")
def weekly_summaries(session: Session, actor: Actor, *, branch_id: int | None = None, limit: int = 50,
                     offset: int = 0, total: int | None = None) -> tuple[int, list[SummaryRow]]:
    """Summaries the actor may read, newest week first, then by branch.

    `limit=0` only counts; pass the `total` a first call returned to fetch a page without counting again.
    """
    allowed = _branch_filter(actor)
    shape = (None if allowed is None else tuple(allowed), branch_id or None)
    total, rows = count_then_page(session, lambda: _summaries_count_statement(*shape),
                                  lambda: _summaries_page_statement(*shape, limit, offset), limit=limit, total=total,
                                  prepared=True)
    return total, as_rows(SummaryRow, rows)


def _summary_conditions(allowed: tuple[int, ...] | None, branch_id: int | None) -> list:
    conditions = []
    if allowed is not None:
        conditions.append(WeeklySummary.branch_id.in_(allowed))
    if branch_id:
        conditions.append(WeeklySummary.branch_id == branch_id)
    return conditions


@built_once
def _summaries_count_statement(allowed: tuple[int, ...] | None, branch_id: int | None) -> Select:
    return select(func.count()).select_from(WeeklySummary).where(*_summary_conditions(allowed, branch_id))


@built_once
def _summaries_page_statement(allowed: tuple[int, ...] | None, branch_id: int | None, limit: int,
                              offset: int) -> Select:
    return (_summary_rows().where(*_summary_conditions(allowed, branch_id))
            .order_by(WeeklySummary.week_start.desc(), OrgUnit.code).limit(limit).offset(offset))


@built_once
def _content_statement(allowed: tuple[int, ...] | None, paged: bool) -> Select:
    # The document read out of its TOAST storage once: each reference to the stored column would
    # fetch and decompress it again (a big branch's week: ~440 KB, four references: 13.6 -> 5.2 ms).
    # `|| '{}'` makes the in-memory copy the outer expressions share; OFFSET 0 keeps the planner
    # from folding the subquery back into them.
    copy = WeeklySummary.content.op("||", return_type=JSONB)(literal_column("'{}'::jsonb"))
    doc = select(copy.label("doc")).correlate(WeeklySummary).offset(0).lateral("document")
    whole = func.coalesce(doc.c.doc["cases"], func.jsonb_build_array())
    cases = whole
    if paged:
        # PostgreSQL cuts the page out of the document: a big branch's week lists ~600 cases
        # (~180 KB of JSON to send and decode) and the page shows 50 of them.
        cases = func.jsonb_path_query_array(whole, "$[$first to $last]",
                                            func.jsonb_build_object("first", bindparam("first", type_=Integer),
                                                                    "last", bindparam("last", type_=Integer)))
    return (_summary_rows().add_columns(doc.c.doc["as_of"], doc.c.doc["totals"], func.jsonb_array_length(whole), cases)
            .join(doc, true())
            .where(WeeklySummary.id == bindparam("summary_id"), *_summary_conditions(allowed, None)))


@requires("weekly.read")
def weekly_summary_content(session: Session, actor: Actor, summary_id: int, *, cases_offset: int = 0,
                           cases_limit: int | None = None) -> tuple[SummaryRow, dict[str, Any]]:
    """One summary and its document: `as_of`, `totals`, `cases`, and `case_count` (the whole list's length).

    With `cases_limit`, `cases` holds only that page of the list (the page shows 50; a download
    asks for the whole list)."""
    allowed = _branch_filter(actor)
    paged = cases_limit is not None
    params: dict[str, Any] = {"summary_id": summary_id}
    if paged:
        params.update(first=max(cases_offset, 0), last=max(cases_offset, 0) + max(cases_limit, 0) - 1)
    found = read(session, _content_statement(None if allowed is None else tuple(allowed), paged), params,
                 prepared=True).first()
    if found is None:
        raise NotFound()
    *row, as_of, totals, case_count, cases = found
    cases = cases if not paged or cases_limit > 0 else []
    return SummaryRow(*row), {"as_of": as_of, "totals": totals, "cases": cases, "case_count": case_count}


@requires("weekly.read")
def pending_tiered_now(session: Session, actor: Actor, branch_id: int) -> int:
    """How many pending tiered cases the branch holds now: what a summary built now would list,
    so the page can say when the one shown is behind."""
    allowed = _branch_filter(actor)
    if allowed is not None and branch_id not in allowed:
        raise NotFound()
    return session.scalar(select(func.count()).select_from(ClaimCase).where(
        ClaimCase.branch_id == branch_id, ClaimCase.tier != "T0", ClaimCase.state != "closed"))


@requires("weekly.read")
def weekly_branch_choices(session: Session, actor: Actor) -> list[tuple[int, str]]:
    allowed = _branch_filter(actor)
    return [(u.id, u.name) for u in reference.branches(session, None if allowed is None else set(allowed))]
