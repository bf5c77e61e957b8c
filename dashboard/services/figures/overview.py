"""Executive overview: headline figures, charts and the case list behind them, all in SQL.

One `OverviewFilter` feeds one WHERE builder (`case_conditions`) used by every figure and by
the case list, so a number on the page and the list behind it always agree.

Branch-scoped people are refused (the overview is HQ-only: executive, hq_admin, hq_reviewer);
the service enforces it, whatever page calls it. Branch people use their own lists.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import (
    CTE, Boolean, ColumnElement, Date, DateTime, Float, Integer, Interval, Select, String, Text, and_, bindparam,
    case, cast, false, func, literal, null, or_, select, true, union_all,
)
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.deadlines import DEADLINE_KINDS, sql_decided, sql_is_violation, sql_on_time
from dashboard.rules.risk_colour import COLOURS
from dashboard.services import reference
from dashboard.services.actor import Actor, case_scope
from dashboard.services.clocks.appeals import sql_not_exempt, sql_not_exempt_many
from dashboard.services.aliases import BRANCH, SUB_BRANCH
from dashboard.services.errors import ValidationFailed, FieldError
from dashboard.services.statements import NOW, built_once, count_then_page, json_rows, read
from dashboard.services.capability import requires
from dashboard.settings import BUSINESS_TZ
from db.models import (
    CaseFigures, CaseFiguresDay, CaseTallyDay, ClaimCase, Deadline, Opinion, OpinionPoint, OrgUnit, Person, Violation,
    ViolationWeek,
)

CASE_STATUSES = ("pending", "closed", "all")
# Ageing buckets of pending cases, days since the report (upper bounds inclusive; None = open end).
PENDING_AGE_BUCKETS: tuple[tuple[str, int | None], ...] = (
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
    answered_cases: int = 0  # cases with an answered HQ review point: the list behind the average
    answers: int = 0  # the answers the average answer time is taken over

    def cases_with_status(self, status: str) -> int:
        """How many of the filtered cases the case list shows for `status` (it counts the same set)."""
        return {"pending": self.pending, "closed": self.closed, "all": self.tiered_reported}[status]


@dataclass(frozen=True)
class OverviewFigures:
    """Every figure and chart of the overview, read in one statement (`overview_figures`)."""

    headline: HeadlineFigures
    pending_by_unit: list[dict]
    violations_by_week: list[dict]
    on_time_by_unit: list[dict]
    ageing: list[dict]
    colour_share: list[dict]


@dataclass(frozen=True)
class Unit:
    id: int
    name: str
    parent_id: int | None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=BUSINESS_TZ)


def _period(flt: OverviewFilter) -> tuple[datetime | None, datetime | None]:
    start = _day_start(flt.report_from) if flt.report_from else None
    end = _day_start(flt.report_to + timedelta(days=1)) if flt.report_to else None
    return start, end


def validate_filter(flt: OverviewFilter) -> None:
    if flt.report_from and flt.report_to and flt.report_from > flt.report_to:
        raise ValidationFailed([FieldError("report_to", "overview.error.period")])


@requires("overview.read")
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


@requires("overview.read")
def overview_figures(session: Session, actor: Actor, flt: OverviewFilter,
                     now: datetime | None = None) -> OverviewFigures:
    """Every figure and chart of the overview in ONE statement: the filtered cases are read once
    with their kept figures (a materialised CTE built from `case_conditions`) and every figure,
    chart and ranking is computed from that set."""
    validate_filter(flt)
    now = clock.or_now(now)
    hours = _dispatch_within_hours(session)
    row = read(session, _figures_statement(actor, flt), {"now": now, "window": timedelta(hours=hours)}).one()
    d2_num, d2_clocks, d3_num, d3_clocks = row.clocks
    d2_ahead, d3_ahead = row.ahead
    open_points, answered_cases, answers, answer_seconds = row.review
    violations = {kind: n for kind, n in zip(DEADLINE_KINDS, row.violations) if n}
    for kind, n in row.branch_level.items():
        violations[kind] = violations.get(kind, 0) + n
    headline = HeadlineFigures(
        tiered_reported=row.reported, pending=row.pending, closed=row.closed, pending_amount=Decimal(row.amount),
        dispatched_within=Share(row.dispatched_within, row.dispatch_eligible), dispatch_within_hours=hours,
        d2_on_time=Share(d2_num, d2_clocks - d2_ahead), d3_on_time=Share(d3_num, d3_clocks - d3_ahead),
        open_review_points=open_points,
        avg_answer_hours=None if not answers else float(answer_seconds) / answers / 3600,
        violations_by_type=dict(sorted(violations.items())),
        answered_cases=answered_cases, answers=answers)
    # Amounts come through JSON as text, so no cent is lost to a float.
    ageing = {b: (c, Decimal(a)) for b, c, a in row.ageing}
    colour_totals: dict[int, int] = {}
    for unit_id, _name, _colour, n in row.colour_share:
        colour_totals[unit_id] = colour_totals.get(unit_id, 0) + n
    return OverviewFigures(
        headline=headline,
        pending_by_unit=[{"unit_id": u, "unit": n, "tier": tr, "cases": c, "amount": Decimal(a)}
                         for u, n, tr, c, a in row.pending_by_unit],
        violations_by_week=[{"week": date.fromisoformat(w), "kind": k, "violations": c} for w, k, c in row.by_week],
        on_time_by_unit=_ranked(row.ranking),
        ageing=[{"bucket": code, "cases": ageing.get(code, (0, Decimal(0)))[0],
                 "amount": ageing.get(code, (0, Decimal(0)))[1]} for code, _ in PENDING_AGE_BUCKETS],
        colour_share=[{"unit_id": u, "unit": name, "colour": colour, "cases": n, "share": n / colour_totals[u]}
                      for u, name, colour, n in row.colour_share])


@requires("overview.read")
def headline_figures(session: Session, actor: Actor, flt: OverviewFilter,
                     now: datetime | None = None) -> HeadlineFigures:
    return overview_figures(session, actor, flt, now).headline


@requires("overview.read")
def pending_by_unit_and_tier(session: Session, actor: Actor, flt: OverviewFilter) -> list[dict]:
    """Pending cases and their estimate per unit and tier, by unit name."""
    return overview_figures(session, actor, flt).pending_by_unit


@requires("overview.read")
def violations_by_week(session: Session, actor: Actor, flt: OverviewFilter) -> list[dict]:
    """Violations per week (Monday, Asia/Shanghai) in which the deadline was missed (its due time;
    the job may find a missed deadline later, e.g. on a back-fill), by deadline type."""
    return overview_figures(session, actor, flt).violations_by_week


@requires("overview.read")
def on_time_by_unit(session: Session, actor: Actor, flt: OverviewFilter, now: datetime | None = None) -> list[dict]:
    """Share of the filtered cases' deadlines met on time, per unit, best first (ranking)."""
    return overview_figures(session, actor, flt, now).on_time_by_unit


@requires("overview.read")
def pending_ageing(session: Session, actor: Actor, flt: OverviewFilter, now: datetime | None = None) -> list[dict]:
    """Pending cases by days since the report, in the PENDING_AGE_BUCKETS (every bucket listed)."""
    return overview_figures(session, actor, flt, now).ageing


@requires("overview.read")
def colour_share_by_unit(session: Session, actor: Actor, flt: OverviewFilter) -> list[dict]:
    """Red / yellow / blue (docs/DOMAIN.md §6) of the filtered tiered motor cases, per unit (branch,
    or sub-branch once one branch is chosen): cases and share of the unit's coloured cases, by unit
    name. Read with every other figure (overview_figures), from the same filtered cases."""
    return overview_figures(session, actor, flt).colour_share


def _ranked(rows: list) -> list[dict]:
    result = [{"unit_id": u, "unit": n, "on_time": a, "decided": b, "rate": (a / b) if b else None}
              for u, n, a, b in rows]
    result.sort(key=lambda r: (r["rate"] is None, -(r["rate"] or 0), r["unit"]))
    return result


def _open_ahead(cases: CTE, now) -> Select:
    """Open clocks of the filtered cases still ahead of their due time, with the case's unit: the
    only clocks not yet decided. Read live (case_figures cannot keep what depends on the time of
    reading) from the index of open clocks by due time, a few thousand nationally, and matched to the
    materialised filtered cases by a hash: no probe per clock into claim_case."""
    return (select(Deadline.kind, cases.c.unit_id).join(cases, cases.c.id == Deadline.case_id)
            .where(*_still_ahead(now)))


def _open_ahead_probed(conditions: list, unit_col, now) -> Select:
    """`_open_ahead` where the filtered cases are counted kept per day and not read: each open clock
    still ahead (two thousand nationally at 10,000,000 cases) looks its case up by primary key."""
    return (select(Deadline.kind, unit_col.label("unit_id")).join(ClaimCase, ClaimCase.id == Deadline.case_id)
            .where(*_still_ahead(now), *conditions))


def _still_ahead(now) -> list[ColumnElement[bool]]:
    """A clock neither met nor cancelled, not yet at its due time: the one kind not yet decided."""
    return [Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None), Deadline.due_at >= now]


@dataclass(frozen=True)
class _Tallies:
    """What the overview counts of the filtered cases themselves, as columns of one SELECT over
    `source`: the headline's totals, and the pending by unit and tier, ageing and colour share as JSON."""

    source: object
    reported: ColumnElement
    pending: ColumnElement
    amount: ColumnElement
    dispatched_within: ColumnElement
    dispatch_eligible: ColumnElement
    pending_by_unit: ColumnElement
    ageing: ColumnElement
    colour_share: ColumnElement


def _total(column) -> ColumnElement:
    return func.coalesce(func.sum(column), 0)


def _named(units: Select) -> Select:
    """A (unit_id, ...) result with the unit's name second, for the charts' labels."""
    rows = units.subquery()
    return select(rows.c.unit_id, OrgUnit.name, *list(rows.c)[1:]).join(OrgUnit, OrgUnit.id == rows.c.unit_id)


def _live_tallies(fc: CTE, now, window) -> _Tallies:
    """Counted from the materialised filtered cases, one row each (a branch chosen, or a scope)."""
    pending = fc.c.state != "closed"
    # Dispatched within N h of the estimate that made the case tiered: claim_case.tiered_at is that
    # estimate's time (record_estimate sets both from one `now`) and first_dispatched_at is set by
    # the database with the case's first dispatch (migration 0009): no dispatch or estimate is read.
    # A case not yet dispatched counts against the share only once its window has passed.
    estimated, dispatched = fc.c.tiered_at, fc.c.first_dispatched_at
    eligible = and_(estimated.is_not(None), or_(dispatched.is_not(None), estimated <= now - window))
    within = and_(estimated.is_not(None), dispatched.is_not(None), dispatched - estimated <= window)
    # Pending cases per unit and tier, and by days since the report (amounts as text: exact).
    pending_units = _named(select(fc.c.unit_id, fc.c.tier, func.count().label("cases"),
                                  cast(_total(fc.c.current_estimate), Text).label("amount"))
                           .where(pending).group_by(fc.c.unit_id, fc.c.tier)).subquery()
    # Reported at most `upper` whole days (of 86,400 s) before now: timestamps compared, no
    # arithmetic per case.
    bucket = _age_bucket(fc.c.report_time)
    ageing = select(bucket, func.count().label("cases"), cast(_total(fc.c.current_estimate), Text).label("amount")) \
        .where(pending).group_by(bucket)
    # Red / yellow / blue per unit: the coloured (motor) cases among the same filtered cases.
    colours = _named(select(fc.c.unit_id, fc.c.risk_colour.label("colour"), func.count().label("cases"))
                     .where(fc.c.risk_colour.is_not(None)).group_by(fc.c.unit_id, fc.c.risk_colour)).subquery()
    return _Tallies(
        source=fc, reported=func.count(), pending=func.count().filter(pending),
        amount=func.coalesce(func.sum(fc.c.current_estimate).filter(pending), 0),
        dispatched_within=func.count().filter(within), dispatch_eligible=func.count().filter(eligible),
        pending_by_unit=json_rows(pending_units, pending_units.c.name, pending_units.c.tier),
        ageing=json_rows(ageing.subquery()),
        colour_share=json_rows(colours, colours.c.name, colours.c.colour))


def _age_bucket(report_time) -> ColumnElement:
    """The ageing bucket of a case reported at `report_time`, now (as the drill's ageing list bounds it)."""
    return case(*[(report_time >= _days_before_now(upper), code)
                  for code, upper in PENDING_AGE_BUCKETS if upper is not None],
                else_=PENDING_AGE_BUCKETS[-1][0]).label("bucket")


def _kept_tallies(flt: OverviewFilter, conditions: list, now, window) -> _Tallies:
    """Counted from the rows kept per report day, branch and tier (case_tally_day, migration 0051):
    a few thousand rows for 90 days, where the cases were 41,000 at 10,000,000 cases. What depends
    on the time of reading is read live and small: the pending cases of the four report days an
    ageing bucket's edge falls on (every other day is wholly inside one bucket), and the estimated
    cases still waiting for a dispatch within the last N hours (not yet counted against the share)."""
    t = CaseTallyDay
    rows = (select(t.report_day, t.branch_id.label("unit_id"), t.tier, *(getattr(t, n) for n in t.FIGURES))
            .where(*_kept_days(t, flt)).cte("tally").prefix_with("MATERIALIZED"))
    waiting_recent = (select(func.count()).select_from(ClaimCase)
                      .where(*conditions, ClaimCase.tiered_at.is_not(None), ClaimCase.first_dispatched_at.is_(None),
                             ClaimCase.tiered_at > now - window).scalar_subquery())
    pending_units = _named(select(rows.c.unit_id, rows.c.tier, func.sum(rows.c.pending).label("cases"),
                                  cast(_total(rows.c.pending_amount), Text).label("amount"))
                           .group_by(rows.c.unit_id, rows.c.tier).having(func.sum(rows.c.pending) != 0)).subquery()
    # Ageing: a kept day after an edge's day is wholly inside the bucket, before it wholly outside;
    # the edge days themselves (one per bucket bound) are read case by case.
    bounds = [upper for _code, upper in PENDING_AGE_BUCKETS if upper is not None]
    # Each edge day worked out once per statement (an InitPlan), not for every kept row.
    edges = [select(cast(func.timezone(str(BUSINESS_TZ), _days_before_now(upper)), Date)).scalar_subquery()
             for upper in bounds]
    kept_bucket = case(*[(rows.c.report_day > edge, code) for edge, (code, _u) in zip(edges, PENDING_AGE_BUCKETS)],
                       else_=PENDING_AGE_BUCKETS[-1][0])
    kept_days = select(kept_bucket.label("bucket"), rows.c.pending.label("cases"),
                       rows.c.pending_amount.label("amount")).where(*(rows.c.report_day != edge for edge in edges))
    edge_days = [select(_age_bucket(ClaimCase.report_time), literal(1).label("cases"),
                        ClaimCase.current_estimate.label("amount"))
                 .where(*conditions, ClaimCase.state != "closed", ClaimCase.report_time >= start,
                        ClaimCase.report_time < start + timedelta(days=1))
                 for start in (_day_start_of(_days_before_now(upper)) for upper in bounds)]
    aged = kept_days.union_all(*edge_days).subquery()
    ageing = (select(aged.c.bucket, _total(aged.c.cases).label("cases"),
                     cast(_total(aged.c.amount), Text).label("amount"))
              .group_by(aged.c.bucket).having(_total(aged.c.cases) != 0))
    per_unit = (select(rows.c.unit_id, *(func.sum(rows.c[c]).label(c) for c in COLOURS))
                .group_by(rows.c.unit_id).cte("colour_units"))
    by_colour = union_all(*(select(per_unit.c.unit_id, literal(c).label("colour"), per_unit.c[c].label("cases"))
                            .where(per_unit.c[c] != 0) for c in COLOURS))
    colours = _named(select(*by_colour.subquery().c)).subquery()
    return _Tallies(
        source=rows, reported=_total(rows.c.cases), pending=_total(rows.c.pending),
        amount=_total(rows.c.pending_amount),
        dispatched_within=_total(rows.c.dispatched_within),
        dispatch_eligible=_total(rows.c.dispatched) + _total(rows.c.waiting) - waiting_recent,
        pending_by_unit=json_rows(pending_units, pending_units.c.name, pending_units.c.tier),
        ageing=json_rows(ageing.subquery()),
        colour_share=json_rows(colours, colours.c.name, colours.c.colour))


def _day_start_of(moment) -> ColumnElement:
    """The start (Asia/Shanghai) of the day `moment` falls in, as a time."""
    zone = str(BUSINESS_TZ)
    return func.timezone(zone, func.date_trunc("day", func.timezone(zone, moment)), type_=DateTime(timezone=True))


@built_once
def _figures_statement(actor: Actor, flt: OverviewFilter) -> Select:
    """One statement: the filtered cases counted (kept per report day, branch and tier for a
    national view, migration 0051; else read once as a materialised CTE), their clock, violation and
    review figures summed per unit from the rows kept per report day, branch and tier (migration
    0045) for a national view, or from their own kept rows (migration 0019: one per case, not a
    probe per case into the clocks, violations and review points) once a branch is chosen; every
    figure, chart and the ranking are aggregates of those, plus small reads: the open clocks still
    ahead of their due time, the violations by week and the branch-level violations."""
    now, window = NOW, WINDOW
    conditions = case_conditions(flt, actor)
    unit_col = _unit_column(flt)
    kept = _kept_figures_apply(actor, flt)
    fc = None if kept else _filtered_cases(actor, conditions, unit_col)
    tallies = _kept_tallies(flt, conditions, now, window) if kept else _live_tallies(fc, now, window)

    def scalar(query: Select) -> ColumnElement:
        return query.scalar_subquery()

    # On time: met by the due time, out of the decided clocks (met, or already past due): every
    # clock but the open ones still ahead of their due time, read live.
    ahead = (_open_ahead_probed(conditions, unit_col, now) if kept else _open_ahead(fc, now)) \
        .cte("ahead").prefix_with("MATERIALIZED")
    ahead_counts = scalar(select(func.json_build_array(func.count().filter(ahead.c.kind == "D2"),
                                                       func.count().filter(ahead.c.kind == "D3"))))
    # The cases' kept figures per unit (kept by day, or summed from the cases'), and from them the
    # headline's totals and the ranking, the few units named after.
    units = _unit_figures(flt, fc, kept)

    def summed(*names: str) -> ColumnElement:
        return scalar(select(func.json_build_array(*[_total(units.c[n]) for n in names])))

    per_unit = (select(units.c.unit_id, units.c.clocks_on_time.label("on_time"), units.c.clocks)
                .where(units.c.clocks > 0).subquery())
    ahead_per_unit = select(ahead.c.unit_id, func.count().label("n")).group_by(ahead.c.unit_id).subquery()
    ranking = (select(per_unit.c.unit_id, OrgUnit.name, per_unit.c.on_time,
                      (per_unit.c.clocks - func.coalesce(ahead_per_unit.c.n, 0)).label("decided"))
               .join(OrgUnit, OrgUnit.id == per_unit.c.unit_id)
               .outerjoin(ahead_per_unit, ahead_per_unit.c.unit_id == per_unit.c.unit_id))

    # Violations by the week their deadline was missed: the filtered cases' and the branch-level
    # ones (no case), as the branches of a UNION ALL of (week, type, count) (an OR of the two
    # scanned every violation). The cases' are kept per report day, branch, tier and week
    # (_kept_weeks) unless a sub-branch is chosen.
    counted = sql_not_exempt(Violation.id)  # an accepted appeal exempts it (services/clocks/appeals)
    branch_level_rows = select(_week(Violation.due_at), Violation.kind, literal(1)) \
        .where(_branch_level_violations(flt), counted)
    both = _case_weeks(actor, flt, fc).union_all(branch_level_rows).subquery()
    weeks = (select(both.c.week, both.c.kind, func.sum(both.c.n).label("n")).group_by(both.c.week, both.c.kind)
             .having(func.sum(both.c.n) != 0).subquery())
    by_week = select(func.to_char(weeks.c.week, "YYYY-MM-DD").label("week"), weeks.c.kind, weeks.c.n).subquery()

    # Violations with no case (the D6 weekly summary), by type, for the headline.
    branch_level = (select(Violation.kind, func.count().label("n")).where(_branch_level_violations(flt), counted)
                    .group_by(Violation.kind).subquery())
    return select(
        tallies.reported.label("reported"),
        tallies.pending.label("pending"),
        (tallies.reported - tallies.pending).label("closed"),
        tallies.amount.label("amount"),
        tallies.dispatched_within.label("dispatched_within"),
        tallies.dispatch_eligible.label("dispatch_eligible"),
        summed("d2_on_time", "d2_clocks", "d3_on_time", "d3_clocks").label("clocks"),
        ahead_counts.label("ahead"),
        summed("hq_open_points", "answered_cases", "hq_answer_count", "hq_answer_seconds").label("review"),
        summed(*(f"violations_{k.lower()}" for k in DEADLINE_KINDS)).label("violations"),
        scalar(select(func.coalesce(func.json_object_agg(branch_level.c.kind, branch_level.c.n),
                                    func.json_build_object()))).label("branch_level"),
        json_rows(ranking.subquery()).label("ranking"),
        tallies.pending_by_unit.label("pending_by_unit"),
        tallies.ageing.label("ageing"),
        json_rows(by_week, by_week.c.week, by_week.c.kind).label("by_week"),
        tallies.colour_share.label("colour_share"),
    ).select_from(tallies.source)


def _week(due_at) -> ColumnElement:
    """The Monday (Asia/Shanghai) of the week `due_at` falls in, as migration 0044 keeps it."""
    return cast(func.date_trunc("week", func.timezone(str(BUSINESS_TZ), due_at)), Date).label("week")


def _case_weeks(actor: Actor, flt: OverviewFilter, fc: CTE) -> Select:
    """(week, type, count) of the filtered cases' violations (an accepted appeal's left out).

    A national reader without a sub-branch reads them kept per report day, branch, tier and week
    (violation_week, migration 0044): a few thousand rows for 90 days, where joining every
    violation of the period's cases took half the overview at 10,000,000 cases. Otherwise live: for
    a national reader over one range of case ids joined by a hash, as its figures are
    (_period_cases); for anyone else an index probe per case that has any, as case_figures says
    (= ANY(ARRAY(...)) keeps the probes, where IN (subquery) hashed every violation ever recorded)."""
    if actor.is_national and flt.sub_branch_id is None:
        return select(ViolationWeek.week, ViolationWeek.kind, ViolationWeek.violations.label("n")) \
            .where(*_kept_days(ViolationWeek, flt))
    one = literal(1).label("n")
    if actor.is_national:
        return (select(_week(Violation.due_at), Violation.kind, one).select_from(Violation)
                .join(fc, fc.c.id == Violation.case_id)
                .where(_within_ids(fc, Violation.case_id), sql_not_exempt_many(Violation.id)))
    has_violations = or_(*(fc.c[f"violations_{k.lower()}"] > 0 for k in DEADLINE_KINDS))
    with_violations = func.array(select(fc.c.id).where(has_violations).scalar_subquery())
    return select(_week(Violation.due_at), Violation.kind, one).where(
        Violation.case_id == func.any(with_violations), sql_not_exempt(Violation.id))


def _kept_days(kept, flt: OverviewFilter) -> list[ColumnElement[bool]]:
    """The rows of a table kept per report day, branch and tier (violation_week, case_figures_day,
    case_tally_day: migrations 0044, 0045, 0051) that the filter's period, branch and tier select,
    as `case_conditions` selects the cases themselves."""
    where = [kept.tier != "T0"]
    if flt.report_from:
        where.append(kept.report_day >= flt.report_from)
    if flt.report_to:
        where.append(kept.report_day <= flt.report_to)
    if flt.branch_id is not None:
        where.append(kept.branch_id == flt.branch_id)
    if flt.tier:
        where.append(kept.tier == flt.tier)
    return where


def _kept_figures_apply(actor: Actor, flt: OverviewFilter) -> bool:
    """Whether the filtered cases' figures are read kept per report day, branch and tier
    (case_figures_day, migration 0045): for a national reader with no branch chosen, when the
    ranking's unit is the branch. Otherwise the cases are few and their figures read per case."""
    return actor.is_national and flt.branch_id is None and flt.sub_branch_id is None


def _unit_figures(flt: OverviewFilter, fc: CTE, kept: bool) -> CTE:
    """The filtered cases' kept figures summed per unit (CaseFiguresDay.FIGURES): from the rows kept
    per report day, branch and tier when `kept`, else from the cases' own rows in `fc`."""
    if kept:
        d = CaseFiguresDay
        columns = [func.sum(getattr(d, n)).label(n) for n in d.FIGURES]
        return select(d.branch_id.label("unit_id"), *columns).where(*_kept_days(d, flt)).group_by(d.branch_id) \
            .cte("unit_figures").prefix_with("MATERIALIZED")
    columns = [(func.count().filter(fc.c.hq_answer_count > 0) if n == "answered_cases" else func.sum(fc.c[n]))
               .label(n) for n in CaseFiguresDay.FIGURES]
    return select(fc.c.unit_id, *columns).group_by(fc.c.unit_id).cte("unit_figures").prefix_with("MATERIALIZED")


def _filtered_cases(actor: Actor, conditions: list, unit_col) -> CTE:
    """The filtered cases with their kept figures, materialised once for every aggregate.

    For a national reader the period's cases are read first and their figures joined over one
    range of case_figures' primary key (_period_cases): a few hundred pages instead of a probe per
    case (16,600 buffers for 4,155 cases at 1M, ten times that at 10M; bench/RESULTS.md). Anyone
    else keeps the probe per case: case_figures' row-level policy looks up each row's case, and a
    range read would check every case of the period nationwide. (A national view with no branch
    chosen reads neither: its cases are counted kept per day, _kept_tallies and _unit_figures.)"""
    columns = (ClaimCase.id, unit_col.label("unit_id"), ClaimCase.tier, ClaimCase.state, ClaimCase.report_time,
               ClaimCase.current_estimate, ClaimCase.tiered_at, ClaimCase.first_dispatched_at, ClaimCase.risk_colour)
    if not actor.is_national:
        figures = _case_figures()
        return (select(*columns, *figures.c).select_from(ClaimCase).outerjoin(figures, true()).where(*conditions)
                .cte("filtered_case").prefix_with("MATERIALIZED"))
    cases, in_range = _period_cases(columns, conditions, CaseFigures.case_id)
    return (select(*cases.c, *CaseFigures.__table__.c)
            .select_from(cases.outerjoin(CaseFigures, and_(CaseFigures.case_id == cases.c.id, in_range)))
            .cte("filtered_case").prefix_with("MATERIALIZED"))


def _period_cases(columns: tuple, conditions: list, case_id) -> tuple[CTE, ColumnElement[bool]]:
    """The filtered cases, read once (a materialised CTE of `columns`, the first being the case id),
    and a condition keeping `case_id` of another table between their smallest and largest id.

    Rows kept per case (figures, clocks) are written as the case goes, so a period's sit together
    in that table's case_id index: joined by a hash over that one range, they cost a few pages per
    few hundred cases, where a probe per case descends the index each time. The range only bounds
    the read; the join's equality decides, so a case outside the period is never counted."""
    cases = select(*columns).where(*conditions).cte("period_case").prefix_with("MATERIALIZED")
    return cases, _within_ids(cases, case_id)


def _within_ids(cases: CTE, case_id) -> ColumnElement[bool]:
    """`case_id` between the smallest and the largest id of the materialised `cases`."""
    return case_id.between(select(func.min(cases.c.id)).scalar_subquery(),
                           select(func.max(cases.c.id)).scalar_subquery())


def _case_figures():
    """A filtered case's kept figures, as a LATERAL subquery: a primary-key probe per case. The
    planner preferred hashing the whole table (every case with a clock), twice the time at 1M;
    LIMIT 1 (one row per case anyway) keeps it from turning the subquery back into that join."""
    return select(CaseFigures).where(CaseFigures.case_id == ClaimCase.id).limit(1).lateral("figures")


def _unit_column(flt: OverviewFilter):
    """Group by branch at the top, by sub-branch once a branch is chosen (drill-down)."""
    return ClaimCase.sub_branch_id if flt.branch_id is not None or flt.sub_branch_id is not None \
        else ClaimCase.branch_id


def _cases_conditions(actor: Actor, flt: OverviewFilter, status: str,
                      colour: str | None = None) -> list[ColumnElement[bool]]:
    conditions = case_conditions(flt, actor)
    extra = _status_condition(status)
    if extra is not None:
        conditions.append(extra)
    if colour:
        conditions.append(ClaimCase.risk_colour == colour)
    return conditions


@built_once
def _cases_count_statement(actor: Actor, flt: OverviewFilter, status: str, colour: str | None = None) -> Select:
    return select(func.count()).select_from(ClaimCase).where(*_cases_conditions(actor, flt, status, colour))


@built_once
def _cases_page_statement(actor: Actor, flt: OverviewFilter, status: str, limit: int, offset: int,
                          colour: str | None = None) -> Select:
    """Pending first (when both are listed), newest report first. The page of cases is chosen
    before names are joined, and a list of one status is ordered by report time alone, which the
    index of tiered cases by report time gives: naming and sorting all of the period's ~2,900
    pending cases for 50 was most of the list's time."""
    branch, sub = BRANCH, SUB_BRANCH
    newest = (ClaimCase.report_time.desc(), ClaimCase.id.desc())
    order = newest if status != "all" else ((ClaimCase.state == "closed").asc(), *newest)
    page = (select(ClaimCase.id).where(*_cases_conditions(actor, flt, status, colour)).order_by(*order)
            .limit(min(limit, MAX_EXPORT_ROWS)).offset(offset).subquery("page"))
    return (
        select(ClaimCase.id, ClaimCase.case_no, branch.name, sub.name, ClaimCase.tier, ClaimCase.state,
               ClaimCase.current_estimate, ClaimCase.report_time, ClaimCase.tiered_at, Person.full_name,
               ClaimCase.closed_at, ClaimCase.risk_colour)
        .select_from(page).join(ClaimCase, ClaimCase.id == page.c.id)
        .join(branch, branch.id == ClaimCase.branch_id).join(sub, sub.id == ClaimCase.sub_branch_id)
        .join(Person, Person.id == ClaimCase.surveyor_id)
        .order_by(*order))


@requires("overview.read")
def overview_cases(session: Session, actor: Actor, flt: OverviewFilter, *, status: str = "pending",
                   limit: int = 50, offset: int = 0, total: int | None = None,
                   colour: str | None = None) -> tuple[int, list[dict]]:
    """(count, one page) of the cases behind the figures: pending first, newest report first.
    A caller that already knows the count (the headline figures count the same set) passes `total`."""
    validate_filter(flt)
    if status not in CASE_STATUSES:
        raise ValidationFailed([FieldError("status", "overview.error.status")])
    total, rows = count_then_page(session, lambda: _cases_count_statement(actor, flt, status, colour),
                                  lambda: _cases_page_statement(actor, flt, status, limit, offset, colour),
                                  limit=max(limit, 0), total=total)
    keys = ("case_id", "case_no", "branch", "sub_branch", "tier", "state", "estimate", "report_time",
            "tiered_at", "surveyor", "closed_at", "risk_colour")
    return total, [dict(zip(keys, row)) for row in rows]


@requires("overview.read")
def overview_units(session: Session, actor: Actor) -> tuple[list[Unit], list[Unit]]:
    """(branches, sub-branches) to choose from, by name."""
    global _units_of_tree
    tree = reference.org_tree(session)
    kept = _units_of_tree
    if kept is None or kept[0] is not tree:  # the kept tree is read again once a minute (reference.TTL_S)
        kept = _units_of_tree = (tree, tuple(Unit(u.id, u.name, u.parent_id) for u in tree.branches),
                                 tuple(Unit(u.id, u.name, u.parent_id) for u in tree.sub_branches))
    return list(kept[1]), list(kept[2])


# The units of the last org tree read, made once per tree rather than on every rerun (330 units
# at the bench's scale: 0.25 ms of Python each time).
_units_of_tree: tuple[reference.OrgTree, tuple[Unit, ...], tuple[Unit, ...]] | None = None


@requires("overview.read")
def overview_tiers(session: Session, actor: Actor) -> list[str]:
    """Tier codes to filter by: those of rule sets that are or were in force (national ones and
    approved branch sub-tiers); a sub-tier still awaiting approval or rejected was never given to a case."""
    return list(reference.tier_filter_codes(session))


# ---------------------------------------------------------------- the list behind each figure
# Figures whose list is the case list of a status (reported: all, pending and its amount: pending).
STATUS_OF_FIGURE = {"reported": "all", "pending": "pending", "pending_amount": "pending", "closed": "closed"}
# Figures whose list is drawn by `overview_drill_rows` (what one row is: a case, a clock, a violation
# or an HQ review point), with the value each needs (violation type, ageing bucket, unit id).
DRILL_ITEMS = {"dispatch": "case", "ageing": "case", "d2": "clock", "d3": "clock", "unit": "clock",
               "violations": "violation", "open_points": "point", "avg_answer": "point"}


@dataclass(frozen=True)
class Drill:
    """The list behind one figure of the overview: `figure` a key of DRILL_ITEMS, `value` which
    row or bar of it (a violation type, an ageing bucket code, a unit id) where it has several."""

    figure: str
    value: str | int | None = None

    @property
    def item(self) -> str:
        return DRILL_ITEMS[self.figure]


def _validate_drill(drill: Drill) -> None:
    valid = drill.figure in DRILL_ITEMS and (
        (drill.figure == "violations" and drill.value in DEADLINE_KINDS)
        or (drill.figure == "ageing" and drill.value in {code for code, _ in PENDING_AGE_BUCKETS})
        or (drill.figure == "unit" and isinstance(drill.value, int))
        or (drill.figure not in ("violations", "ageing", "unit") and drill.value is None))
    if not valid:
        raise ValidationFailed([FieldError("drill", "overview.error.drill")])


def _days_before_now(days: int) -> ColumnElement:
    return NOW - func.make_interval(0, 0, 0, 0, 0, 0, days * 86400)


def _no(type_) -> ColumnElement:
    return cast(null(), type_)


def _case_items(conditions: list) -> Select:
    return select(ClaimCase.id.label("case_id"), ClaimCase.branch_id.label("branch_id"),
                  _no(String).label("item"), _no(Integer).label("person_id"), _no(DateTime(timezone=True)).label("due_at"),
                  _no(DateTime(timezone=True)).label("done_at"), _no(Boolean).label("on_time"),
                  _no(Integer).label("answers"), _no(Float).label("answer_seconds"),
                  ClaimCase.report_time.label("sort_at"), ClaimCase.id.label("item_id")).where(*conditions)


def _clock_part(part: str | None, now) -> ColumnElement[bool]:
    """Decided clocks (met, or past their due time; cancelled ones never count), or one of the two
    parts `_clock_page` reads apart: "late" (a violation: met after the due time, or open past it;
    what ix_deadline_late_kind of 0041 holds) or "on_time" (met by it)."""
    due, met = Deadline.due_at, Deadline.met_at
    which = {"late": sql_is_violation(due, met, now), "on_time": sql_on_time(due, met)}.get(part)
    return and_(Deadline.cancelled_at.is_(None), which if which is not None else sql_decided(due, met, now))


def _drill_items(actor: Actor, flt: OverviewFilter, drill: Drill, part: str | None = None) -> Select:
    """The rows behind `drill`, in the shape every list shares (case, item, person, due, done,
    on time, answers): the same sets the figures count (see `_figures_statement`). `part`: only the
    late or only the on-time clocks of a clock list (`_clock_part`)."""
    conditions = case_conditions(flt, actor)
    now = NOW
    if drill.figure == "dispatch":
        estimated, dispatched = ClaimCase.tiered_at, ClaimCase.first_dispatched_at
        eligible = and_(estimated.is_not(None), or_(dispatched.is_not(None), estimated <= now - WINDOW))
        within = and_(dispatched.is_not(None), dispatched - estimated <= WINDOW)
        return select(ClaimCase.id.label("case_id"), ClaimCase.branch_id.label("branch_id"),
                      _no(String).label("item"), ClaimCase.surveyor_id.label("person_id"),
                      (estimated + WINDOW).label("due_at"), dispatched.label("done_at"),
                      func.coalesce(within, false()).label("on_time"), _no(Integer).label("answers"),
                      _no(Float).label("answer_seconds"), ClaimCase.report_time.label("sort_at"),
                      ClaimCase.id.label("item_id")).where(*conditions, eligible)
    if drill.figure == "ageing":
        bounds = [upper for _, upper in PENDING_AGE_BUCKETS]
        at = [code for code, _ in PENDING_AGE_BUCKETS].index(drill.value)
        upper, lower = bounds[at], (bounds[at - 1] if at else None)
        age = [ClaimCase.state != "closed"]
        if upper is not None:
            age.append(ClaimCase.report_time >= _days_before_now(upper))
        if lower is not None:
            age.append(ClaimCase.report_time < _days_before_now(lower))
        return _case_items([*conditions, *age])
    if drill.item == "clock":
        decided = _clock_part(part, now)
        clock_columns = (Deadline.kind.label("item"),
                         Deadline.responsible_person_id.label("person_id"), Deadline.due_at,
                         Deadline.met_at.label("done_at"), sql_on_time(Deadline.due_at, Deadline.met_at).label("on_time"),
                         _no(Integer).label("answers"), _no(Float).label("answer_seconds"),
                         Deadline.due_at.label("sort_at"), Deadline.id.label("item_id"))
        by_kind = drill.figure in ("d2", "d3")
        # A probe per case: for a reader with a scope (see _filtered_cases), and for the late clocks,
        # walked newest due first through their index (0041, or the tracker's for a unit's) until the
        # page is full, each clock's case looked up (the first 50 at 10,000,000 cases: 0.4 ms).
        if not actor.is_national or part == "late":
            which = Deadline.kind == drill.figure.upper() if by_kind else _unit_column(flt) == drill.value
            return (select(Deadline.case_id, ClaimCase.branch_id.label("branch_id"), *clock_columns)
                    .join(ClaimCase, ClaimCase.id == Deadline.case_id).where(*conditions, decided, which))
        cases, in_range = _period_cases((ClaimCase.id, ClaimCase.branch_id, _unit_column(flt).label("unit_id")),
                                        conditions, Deadline.case_id)
        which = Deadline.kind == drill.figure.upper() if by_kind else cases.c.unit_id == drill.value
        return (select(Deadline.case_id, cases.c.branch_id.label("branch_id"), *clock_columns)
                .select_from(Deadline).join(cases, cases.c.id == Deadline.case_id).where(in_range, decided, which))
    if drill.item == "violation":
        counted = sql_not_exempt(Violation.id)  # as the headline (case_figures drops an exempt one)

        def violations(*where) -> Select:
            return select(Violation.case_id, Violation.branch_id, Violation.kind.label("item"),
                          Violation.person_id, Violation.due_at, Violation.found_at.label("done_at"),
                          false().label("on_time"), _no(Integer).label("answers"),
                          _no(Float).label("answer_seconds"), Violation.due_at.label("sort_at"),
                          Violation.id.label("item_id")).where(Violation.kind == drill.value, counted, *where)
        # The filtered cases' violations and those of no case (the D6 weekly summary), as the headline.
        return violations(Violation.case_id.in_(select(ClaimCase.id).where(*conditions))) \
            .union_all(violations(_branch_level_violations(flt)))
    if drill.figure == "avg_answer":
        # The cases whose HQ review points were answered, with their answers and the time they took
        # (kept per case, as the figure sums them: its average is answer_seconds / answers over the list).
        kept = _case_figures()
        return (select(ClaimCase.id.label("case_id"), ClaimCase.branch_id.label("branch_id"), _no(String).label("item"),
                       _no(Integer).label("person_id"), _no(DateTime(timezone=True)).label("due_at"),
                       _no(DateTime(timezone=True)).label("done_at"), _no(Boolean).label("on_time"),
                       kept.c.hq_answer_count.label("answers"), kept.c.hq_answer_seconds.label("answer_seconds"),
                       ClaimCase.report_time.label("sort_at"), ClaimCase.id.label("item_id"))
                .select_from(ClaimCase).join(kept, true()).where(*conditions, kept.c.hq_answer_count > 0))
    # HQ review points of the filtered cases still waiting for an answer (open or sent back).
    return (select(Opinion.case_id, ClaimCase.branch_id.label("branch_id"),
                   cast(OpinionPoint.seq, String).label("item"), Opinion.addressed_to_person_id.label("person_id"),
                   _no(DateTime(timezone=True)).label("due_at"), _no(DateTime(timezone=True)).label("done_at"),
                   _no(Boolean).label("on_time"), OpinionPoint.answer_count.label("answers"),
                   OpinionPoint.answer_seconds.label("answer_seconds"), Opinion.posted_at.label("sort_at"),
                   OpinionPoint.id.label("item_id"))
            .join(Opinion, Opinion.id == OpinionPoint.opinion_id).join(ClaimCase, ClaimCase.id == Opinion.case_id)
            .where(Opinion.kind == "hq_review", *conditions, OpinionPoint.status.in_(("open", "sent_back"))))


@built_once
def _drill_count_statement(actor: Actor, flt: OverviewFilter, drill: Drill, part: str | None = None) -> Select:
    return select(func.count()).select_from(_drill_items(actor, flt, drill, part).subquery())


@built_once
def _drill_page_statement(actor: Actor, flt: OverviewFilter, drill: Drill, limit: int, offset: int,
                          part: str | None = None) -> Select:
    """Late first (a rate's list opens on what missed it), then newest first (report, due time or
    posting); the page is chosen before names are joined."""
    branch, sub = BRANCH, SUB_BRANCH
    items = _drill_items(actor, flt, drill, part).subquery("items")
    # Within one part of a clock list every row is late, or every one on time: ordered by due time
    # alone, which the late clocks' index gives without a sort.
    order = (items.c.sort_at.desc(), items.c.item_id.desc())
    if part is None:
        order = (items.c.on_time.asc().nulls_last(), *order)
    page = select(items).order_by(*order).limit(min(limit, MAX_EXPORT_ROWS)).offset(offset).subquery("page")
    surveyor, person = Person.__table__.alias("surveyor"), Person.__table__.alias("item_person")
    return (
        select(page.c.case_id, ClaimCase.case_no, branch.name, sub.name, ClaimCase.tier, ClaimCase.state,
               ClaimCase.current_estimate, ClaimCase.report_time, ClaimCase.tiered_at, surveyor.c.full_name,
               ClaimCase.closed_at, page.c.item, person.c.full_name, page.c.due_at, page.c.done_at, page.c.on_time,
               page.c.answers, page.c.answer_seconds, ClaimCase.risk_colour)
        .select_from(page).outerjoin(ClaimCase, ClaimCase.id == page.c.case_id)
        .join(branch, branch.id == page.c.branch_id).outerjoin(sub, sub.id == ClaimCase.sub_branch_id)
        .outerjoin(surveyor, surveyor.c.id == ClaimCase.surveyor_id)
        .outerjoin(person, person.c.id == page.c.person_id)
        .order_by(page.c.on_time.asc().nulls_last(), page.c.sort_at.desc(), page.c.item_id.desc()))


DRILL_ROW_KEYS = ("case_id", "case_no", "branch", "sub_branch", "tier", "state", "estimate", "report_time",
                  "tiered_at", "surveyor", "closed_at", "item", "person", "due_at", "done_at", "on_time",
                  "answers", "answer_seconds", "risk_colour")


@requires("overview.read")
def overview_drill_rows(session: Session, actor: Actor, flt: OverviewFilter, drill: Drill, *, limit: int = 50,
                        offset: int = 0, total: int | None = None,
                        now: datetime | None = None) -> tuple[int, list[dict]]:
    """(count, one page) of the rows behind a figure, a violation type or a bar: counted in SQL
    over the same set the figure counts, so the list's count is the figure's."""
    validate_filter(flt)
    _validate_drill(drill)
    params = {"now": clock.or_now(now), "window": timedelta(hours=_dispatch_within_hours(session))}
    if total is None:
        total = read(session, _drill_count_statement(actor, flt, drill), params).scalar() or 0
    if limit <= 0:
        return total, []
    if drill.item == "clock":
        rows = _clock_page(session, actor, flt, drill, limit, offset, params)
    else:
        rows = read(session, _drill_page_statement(actor, flt, drill, limit, offset), params).all()
    return total, [dict(zip(DRILL_ROW_KEYS, row)) for row in rows]


def _clock_page(session: Session, actor: Actor, flt: OverviewFilter, drill: Drill, limit: int, offset: int,
                params: dict) -> list:
    """One page of a clock list: its late clocks first, newest due first, then those met in time,
    each part read in its own statement and only as far as the page reaches. One statement over
    every decided clock of the period sorted them all for 50 (57,000 D2 clocks for 90 days at
    10,000,000 cases, 140 ms); the late ones alone come from their own index (0041)."""
    late = read(session, _drill_page_statement(actor, flt, drill, limit, offset, "late"), params).all()
    if len(late) == min(limit, MAX_EXPORT_ROWS):
        return late
    # Where the late clocks ran out within the page, they are `offset + len(late)`; a page wholly
    # past them must count them to know where the on-time clocks begin.
    late_total = offset + len(late) if late or not offset else \
        read(session, _drill_count_statement(actor, flt, drill, "late"), params).scalar() or 0
    on_time = read(session, _drill_page_statement(actor, flt, drill, limit - len(late),
                                                  max(0, offset - late_total), "on_time"), params).all()
    return late + on_time


def drill_figure_count(figures: OverviewFigures, drill: Drill) -> int:
    """How many rows the figure says its list holds (the count shown on its button)."""
    h = figures.headline
    if drill.figure == "dispatch":
        return h.dispatched_within.denominator
    if drill.figure in ("d2", "d3"):
        return (h.d2_on_time if drill.figure == "d2" else h.d3_on_time).denominator
    if drill.figure == "violations":
        return h.violations_by_type.get(str(drill.value), 0)
    if drill.figure == "ageing":
        return next((r["cases"] for r in figures.ageing if r["bucket"] == drill.value), 0)
    if drill.figure == "unit":
        return next((r["decided"] for r in figures.on_time_by_unit if r["unit_id"] == drill.value), 0)
    if drill.figure == "open_points":
        return h.open_review_points
    return h.answered_cases
