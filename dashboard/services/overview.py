"""Executive overview: headline figures, charts and the case list behind them, all in SQL.

One `OverviewFilter` feeds one WHERE builder (`case_conditions`) used by every figure and by
the case list, so a number on the page and the list behind it always agree.

Branch-scoped people are refused (the overview is HQ-only: executive, hq_admin, hq_reviewer);
the service enforces it, whatever page calls it. Branch people use their own lists.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import (
    ColumnElement, Interval, Select, and_, bindparam, case, extract, false, func, or_, select,
)
from sqlalchemy.orm import Session

from dashboard.services import reference
from dashboard.services.actor import Actor, case_scope
from dashboard.services.aliases import BRANCH, SUB_BRANCH
from dashboard.services.errors import PermissionDenied, ValidationFailed, FieldError
from dashboard.services.statements import NOW, built_once, count_then_page, read
from dashboard.settings import BUSINESS_TZ
from db.models import (
    ClaimCase, Deadline, Opinion, OpinionPoint, OrgUnit, Person, Violation,
)

OVERVIEW_ROLES = frozenset({"executive", "hq_admin", "hq_reviewer"})
CASE_STATUSES = ("pending", "closed", "all")
# Ageing buckets of pending cases, days since the report (upper bounds inclusive; None = open end).
AGEING_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("d0_7", 7), ("d8_30", 30), ("d31_90", 90), ("d91_180", 180), ("d181_plus", None))
DISPATCH_WITHIN_KEY = "overview.dispatch_within_hours"
DEFAULT_DISPATCH_WITHIN_HOURS = 1  # the "dispatched within 1 h of the estimate"
MAX_EXPORT_ROWS = 50_000


@dataclass(frozen=True)
class OverviewFilter:
    """Period (report date, Asia/Shanghai, both ends inclusive) and scope of every figure and list."""

    report_from: date | None = None
    report_to: date | None = None
    branch_id: int | None = None
    sub_branch_id: int | None = None
    tier: str | None = None


@dataclass(frozen=True)
class Share:
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator


@dataclass(frozen=True)
class HeadlineFigures:
    tiered_reported: int
    pending: int
    closed: int
    pending_amount: Decimal
    dispatched_within: Share
    dispatch_within_hours: float
    d2_on_time: Share
    d3_on_time: Share
    open_review_points: int
    avg_answer_hours: float | None
    violations_by_type: dict[str, int] = field(default_factory=dict)

    def cases_with_status(self, status: str) -> int:
        """How many of the filtered cases the case list shows for `status` (it counts the same set)."""
        return {"pending": self.pending, "closed": self.closed, "all": self.tiered_reported}[status]


@dataclass(frozen=True)
class Unit:
    id: int
    name: str
    parent_id: int | None


def _require_overview(actor: Actor) -> None:
    if not actor.has_role(*OVERVIEW_ROLES):
        raise PermissionDenied()


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=BUSINESS_TZ)


def _period(flt: OverviewFilter) -> tuple[datetime | None, datetime | None]:
    start = _day_start(flt.report_from) if flt.report_from else None
    end = _day_start(flt.report_to + timedelta(days=1)) if flt.report_to else None
    return start, end


def validate_filter(flt: OverviewFilter) -> None:
    if flt.report_from and flt.report_to and flt.report_from > flt.report_to:
        raise ValidationFailed([FieldError("report_to", "overview.error.period")])


def case_conditions(flt: OverviewFilter, actor: Actor) -> list[ColumnElement[bool]]:
    """THE filter: tiered cases reported in the period, in the chosen unit and tier, that the actor may see."""
    conditions: list[ColumnElement[bool]] = [ClaimCase.tier != "T0"]
    start, end = _period(flt)
    if start is not None:
        conditions.append(ClaimCase.report_time >= start)
    if end is not None:
        conditions.append(ClaimCase.report_time < end)
    if flt.branch_id is not None:
        conditions.append(ClaimCase.branch_id == flt.branch_id)
    if flt.sub_branch_id is not None:
        conditions.append(ClaimCase.sub_branch_id == flt.sub_branch_id)
    if flt.tier:
        conditions.append(ClaimCase.tier == flt.tier)
    scope = case_scope(actor)
    if scope is not None:
        conditions.append(scope)
    return conditions


def _status_condition(status: str) -> ColumnElement[bool] | None:
    if status == "pending":
        return ClaimCase.state != "closed"
    if status == "closed":
        return ClaimCase.state == "closed"
    return None


def _filtered_case_ids(flt: OverviewFilter, actor: Actor) -> Select:
    return select(ClaimCase.id).where(*case_conditions(flt, actor))


def _branch_level_violations(flt: OverviewFilter) -> ColumnElement[bool]:
    """Violations with no case (D6 weekly summary) count when the filter is not narrower than a
    branch; they are dated by their due time. (Only HQ roles reach here: no case scope applies.)"""
    if flt.sub_branch_id is not None or flt.tier:
        return false()
    branch_level = [Violation.case_id.is_(None)]
    start, end = _period(flt)
    if start is not None:
        branch_level.append(Violation.due_at >= start)
    if end is not None:
        branch_level.append(Violation.due_at < end)
    if flt.branch_id is not None:
        branch_level.append(Violation.branch_id == flt.branch_id)
    return and_(*branch_level)


def _dispatch_within_hours(session: Session) -> float:
    stored = reference.rule_settings(session).get(DISPATCH_WITHIN_KEY)
    return float(stored) if stored is not None else float(DEFAULT_DISPATCH_WITHIN_HOURS)


# Bound at execution, as the time now (statements.NOW).
WINDOW = bindparam("window", type_=Interval())


def headline_figures(session: Session, actor: Actor, flt: OverviewFilter,
                     now: datetime | None = None) -> HeadlineFigures:
    """Every headline figure in ONE statement: the filtered cases are selected once (a materialised
    CTE built from `case_conditions`) and every figure is computed from that set."""
    _require_overview(actor)
    validate_filter(flt)
    now = now or datetime.now(timezone.utc)
    hours = _dispatch_within_hours(session)
    row = read(session, _headline_statement(actor, flt), {"now": now, "window": timedelta(hours=hours)}).one()
    d_num, d_den = row.dispatch
    d2_num, d2_den, d3_num, d3_den = row.clocks
    return HeadlineFigures(
        tiered_reported=row.reported, pending=row.pending, closed=row.closed, pending_amount=Decimal(row.amount),
        dispatched_within=Share(d_num, d_den), dispatch_within_hours=hours,
        d2_on_time=Share(d2_num, d2_den), d3_on_time=Share(d3_num, d3_den),
        open_review_points=row.open_points or 0,
        avg_answer_hours=None if row.avg_seconds is None else float(row.avg_seconds) / 3600,
        violations_by_type=dict(sorted(row.violations.items())))


@built_once
def _headline_statement(actor: Actor, flt: OverviewFilter) -> Select:
    now, window = NOW, WINDOW
    fc = (select(ClaimCase.id, ClaimCase.state, ClaimCase.current_estimate, ClaimCase.tiered_at,
                 ClaimCase.first_dispatched_at)
          .where(*case_conditions(flt, actor)).cte("filtered_case").prefix_with("MATERIALIZED"))
    pending = fc.c.state != "closed"

    def scalar(query) -> ColumnElement:
        return query.scalar_subquery()

    # Dispatched within N h of the estimate that made the case tiered: claim_case.tiered_at is that
    # estimate's time (record_estimate sets both from one `now`) and first_dispatched_at is set by
    # the database with the case's first dispatch (migration 0009): no dispatch or estimate is read.
    timing = (select(fc.c.tiered_at.label("estimated"), fc.c.first_dispatched_at.label("dispatched"))
              .where(fc.c.tiered_at.is_not(None)).subquery())
    # A case not yet dispatched counts against the share only once its window has passed.
    eligible = and_(timing.c.estimated.is_not(None),
                    or_(timing.c.dispatched.is_not(None), timing.c.estimated <= now - window))
    within = and_(timing.c.dispatched.is_not(None), timing.c.dispatched - timing.c.estimated <= window)

    # D2 / D3 on time: met by the due time / decided (met, or already past due).
    clocks = (select(Deadline.kind, Deadline.met_at, Deadline.due_at).join(fc, fc.c.id == Deadline.case_id)
              .where(Deadline.kind.in_(("D2", "D3")), Deadline.cancelled_at.is_(None)).subquery())
    c_decided = or_(clocks.c.met_at.is_not(None), clocks.c.due_at < now)
    c_on_time = and_(clocks.c.met_at.is_not(None), clocks.c.met_at <= clocks.c.due_at)

    # The filtered cases' HQ review points, read once for both figures below.
    hq_points = (select(OpinionPoint.id, OpinionPoint.status, OpinionPoint.answer_count, OpinionPoint.answer_seconds)
                 .join(Opinion, Opinion.id == OpinionPoint.opinion_id)
                 # = ANY(ARRAY(...)): the filtered cases' opinions by their case index, instead of
                 # hashing every opinion ever posted (a join to the CTE planned that way).
                 .where(Opinion.case_id == func.any(func.array(select(fc.c.id).scalar_subquery())),
                        Opinion.kind == "hq_review")
                 .cte("hq_point").prefix_with("MATERIALIZED"))
    # Points still waiting for the branch (open, or sent back for a new answer).
    open_points = select(func.count()).select_from(hq_points).where(hq_points.c.status.in_(("open", "sent_back")))
    # Answer time: from the opinion (or from the send-back the answer responds to) to the answer;
    # each point keeps its answers' count and total wait (migration 0008), so no answer is read here.
    avg_answer = select(func.sum(hq_points.c.answer_seconds) / func.nullif(func.sum(hq_points.c.answer_count), 0))

    violations = (select(Violation.kind).where(Violation.case_id.in_(select(fc.c.id)))
                  .union_all(select(Violation.kind).where(_branch_level_violations(flt)))).subquery()
    by_kind = select(violations.c.kind, func.count().label("n")).group_by(violations.c.kind).subquery()

    return select(
        scalar(select(func.count()).select_from(fc)).label("reported"),
        scalar(select(func.count()).select_from(fc).where(pending)).label("pending"),
        scalar(select(func.count()).select_from(fc).where(fc.c.state == "closed")).label("closed"),
        scalar(select(func.coalesce(func.sum(fc.c.current_estimate), 0)).where(pending)).label("amount"),
        scalar(select(func.json_build_array(func.count().filter(within), func.count().filter(eligible)))
               .select_from(timing)).label("dispatch"),
        scalar(select(func.json_build_array(
            func.count().filter(clocks.c.kind == "D2", c_on_time), func.count().filter(clocks.c.kind == "D2", c_decided),
            func.count().filter(clocks.c.kind == "D3", c_on_time), func.count().filter(clocks.c.kind == "D3", c_decided)))
            .select_from(clocks)).label("clocks"),
        scalar(open_points).label("open_points"),
        scalar(avg_answer).label("avg_seconds"),
        scalar(select(func.coalesce(func.json_object_agg(by_kind.c.kind, by_kind.c.n), func.json_build_object()))
               .select_from(by_kind)).label("violations"),
    )


def _unit_column(flt: OverviewFilter):
    """Group by branch at the top, by sub-branch once a branch is chosen (drill-down)."""
    return ClaimCase.sub_branch_id if flt.branch_id is not None or flt.sub_branch_id is not None \
        else ClaimCase.branch_id


def pending_by_unit_and_tier(session: Session, actor: Actor, flt: OverviewFilter) -> list[dict]:
    _require_overview(actor)
    rows = read(session, _pending_by_unit_statement(actor, flt))
    return [{"unit_id": u, "unit": n, "tier": tr, "cases": c, "amount": Decimal(a)} for u, n, tr, c, a in rows]


@built_once
def _pending_by_unit_statement(actor: Actor, flt: OverviewFilter) -> Select:
    unit_col = _unit_column(flt)
    return (select(unit_col.label("unit_id"), OrgUnit.name, ClaimCase.tier, func.count(),
                   func.coalesce(func.sum(ClaimCase.current_estimate), 0))
            .join(OrgUnit, OrgUnit.id == unit_col)
            .where(ClaimCase.state != "closed", *case_conditions(flt, actor))
            .group_by(unit_col, OrgUnit.name, ClaimCase.tier).order_by(OrgUnit.name, ClaimCase.tier))


def violations_by_week(session: Session, actor: Actor, flt: OverviewFilter) -> list[dict]:
    """Violations per week (Monday, Asia/Shanghai) in which the deadline was missed (its due time;
    the job may find a missed deadline later, e.g. on a back-fill), by deadline type."""
    _require_overview(actor)
    return [{"week": w.date(), "kind": k, "violations": c} for w, k, c in read(session, _by_week_statement(actor, flt))]


@built_once
def _by_week_statement(actor: Actor, flt: OverviewFilter) -> Select:
    # The filtered cases' violations (an index probe per case) and the branch-level ones, as two
    # branches of a UNION ALL: an OR of the two made PostgreSQL scan every violation ever found.
    # = ANY(ARRAY(...)) keeps the probes: with IN (subquery) the planner hashed the cases and
    # scanned all violations ever recorded (58k at 1M cases, growing with history).
    cases = func.array(_filtered_case_ids(flt, actor).scalar_subquery())
    both = (select(Violation.kind, Violation.due_at).where(Violation.case_id == func.any(cases))
            .union_all(select(Violation.kind, Violation.due_at).where(_branch_level_violations(flt))).subquery())
    week = func.date_trunc("week", func.timezone(str(BUSINESS_TZ), both.c.due_at))
    return select(week.label("week"), both.c.kind, func.count()).group_by(week, both.c.kind).order_by(week, both.c.kind)


def on_time_by_unit(session: Session, actor: Actor, flt: OverviewFilter, now: datetime | None = None) -> list[dict]:
    """Share of the filtered cases' deadlines met on time, per unit, best first (ranking)."""
    _require_overview(actor)
    rows = read(session, _on_time_statement(actor, flt), {"now": now or datetime.now(timezone.utc)})
    result = [{"unit_id": u, "unit": n, "on_time": a, "decided": b, "rate": (a / b) if b else None}
              for u, n, a, b in rows]
    result.sort(key=lambda r: (r["rate"] is None, -(r["rate"] or 0), r["unit"]))
    return result


@built_once
def _on_time_statement(actor: Actor, flt: OverviewFilter) -> Select:
    unit_col = _unit_column(flt)
    decided = or_(Deadline.met_at.is_not(None), Deadline.due_at < NOW)
    on_time = and_(Deadline.met_at.is_not(None), Deadline.met_at <= Deadline.due_at)
    # Count per unit first, name the few units after (not a name lookup per clock).
    per_unit = (select(unit_col.label("unit_id"), func.count().filter(on_time).label("on_time"),
                       func.count().filter(decided).label("decided"))
                .select_from(Deadline).join(ClaimCase, ClaimCase.id == Deadline.case_id)
                .where(Deadline.cancelled_at.is_(None), *case_conditions(flt, actor))
                .group_by(unit_col).subquery())
    return (select(per_unit.c.unit_id, OrgUnit.name, per_unit.c.on_time, per_unit.c.decided)
            .join(OrgUnit, OrgUnit.id == per_unit.c.unit_id))


def pending_ageing(session: Session, actor: Actor, flt: OverviewFilter, now: datetime | None = None) -> list[dict]:
    """Pending cases by days since the report, in the AGEING_BUCKETS (every bucket listed)."""
    _require_overview(actor)
    counts = dict((b, (c, Decimal(a))) for b, c, a in read(
        session, _ageing_statement(actor, flt), {"now": now or datetime.now(timezone.utc)}))
    return [{"bucket": code, "cases": counts.get(code, (0, Decimal(0)))[0],
             "amount": counts.get(code, (0, Decimal(0)))[1]} for code, _ in AGEING_BUCKETS]


@built_once
def _ageing_statement(actor: Actor, flt: OverviewFilter) -> Select:
    age_days = extract("epoch", NOW - ClaimCase.report_time) / 86400
    whens = [(age_days <= upper, code) for code, upper in AGEING_BUCKETS if upper is not None]
    bucket = case(*whens, else_=AGEING_BUCKETS[-1][0])
    return (select(bucket, func.count(), func.coalesce(func.sum(ClaimCase.current_estimate), 0))
            .where(ClaimCase.state != "closed", *case_conditions(flt, actor)).group_by(bucket))


def _cases_conditions(actor: Actor, flt: OverviewFilter, status: str) -> list[ColumnElement[bool]]:
    conditions = case_conditions(flt, actor)
    extra = _status_condition(status)
    if extra is not None:
        conditions.append(extra)
    return conditions


@built_once
def _cases_count_statement(actor: Actor, flt: OverviewFilter, status: str) -> Select:
    return select(func.count()).select_from(ClaimCase).where(*_cases_conditions(actor, flt, status))


@built_once
def _cases_page_statement(actor: Actor, flt: OverviewFilter, status: str, limit: int, offset: int) -> Select:
    branch, sub = BRANCH, SUB_BRANCH
    return (
        select(ClaimCase.id, ClaimCase.case_no, branch.name, sub.name, ClaimCase.tier, ClaimCase.state,
               ClaimCase.current_estimate, ClaimCase.report_time, ClaimCase.tiered_at, Person.full_name,
               ClaimCase.closed_at)
        .join(branch, branch.id == ClaimCase.branch_id).join(sub, sub.id == ClaimCase.sub_branch_id)
        .join(Person, Person.id == ClaimCase.surveyor_id)
        .where(*_cases_conditions(actor, flt, status))
        .order_by((ClaimCase.state == "closed").asc(), ClaimCase.report_time.desc(), ClaimCase.id.desc())
        .limit(min(limit, MAX_EXPORT_ROWS)).offset(offset))


def overview_cases(session: Session, actor: Actor, flt: OverviewFilter, *, status: str = "pending",
                   limit: int = 50, offset: int = 0, total: int | None = None) -> tuple[int, list[dict]]:
    """(count, one page) of the cases behind the figures: pending first, newest report first.
    A caller that already knows the count (the headline figures count the same set) passes `total`."""
    _require_overview(actor)
    validate_filter(flt)
    if status not in CASE_STATUSES:
        raise ValidationFailed([FieldError("status", "overview.error.status")])
    total, rows = count_then_page(session, lambda: _cases_count_statement(actor, flt, status),
                                  lambda: _cases_page_statement(actor, flt, status, limit, offset),
                                  limit=max(limit, 0), total=total)
    keys = ("case_id", "case_no", "branch", "sub_branch", "tier", "state", "estimate", "report_time",
            "tiered_at", "surveyor", "closed_at")
    return total, [dict(zip(keys, row)) for row in rows]


def overview_units(session: Session, actor: Actor) -> tuple[list[Unit], list[Unit]]:
    """(branches, sub-branches) to choose from, by name."""
    _require_overview(actor)
    tree = reference.org_tree(session)
    return ([Unit(u.id, u.name, u.parent_id) for u in tree.branches],
            [Unit(u.id, u.name, u.parent_id) for u in tree.sub_branches])


def overview_tiers(session: Session, actor: Actor) -> list[str]:
    """Tier codes to filter by: those of rule sets that are or were in force (national ones and
    approved branch sub-tiers); a sub-tier still awaiting approval or rejected was never given to a case."""
    _require_overview(actor)
    return list(reference.tier_filter_codes(session))
