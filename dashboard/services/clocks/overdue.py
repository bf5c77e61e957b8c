"""The overdue tracker: clocks overdue, due soon, or met late — filtered, counted, paged in SQL.

Branch people see only their branch's clocks (case scope, or the branch of a clock without a
case such as D6); HQ roles and executives see all. Most overdue first.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    ColumnElement, DateTime, Select, and_, bindparam, false, func, literal, or_, select,
)
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.deadlines import (
    DEADLINE_KINDS, OVERDUE_AGE_BUCKETS, sql_deadline_status, sql_hours_late, sql_lateness, sql_overdue_age_bucket,
    sql_status_is, sql_status_rank,
)
from dashboard.services import reference
from dashboard.services.actor import Actor, case_scope
from dashboard.services.aliases import ALSO_CHARGED, BRANCH, CHARGED, RESPONSIBLE, SUB_BRANCH
from dashboard.services.clocks.deadlines import d5_point_id, d5_round
from dashboard.services.statements import NOW, as_rows, built_once, json_rows, read
from dashboard.services.capability import requires
from dashboard.settings import BUSINESS_TZ
from dashboard.services.clocks.appeals import exempted_count_statement, sql_not_exempt
from db.models import ClaimCase, Deadline, LateCount, OpinionPoint, Violation

STATUSES = ("overdue", "due_soon", "met_late")
EXPORT_MAX_ROWS = 50_000


@dataclass(frozen=True)
class OverdueFilters:
    branch_id: int | None = None
    sub_branch_id: int | None = None
    kinds: tuple[str, ...] = ()
    person: str | None = None  # part of the responsible (or also charged) person's name
    tiers: tuple[str, ...] = ()
    due_from: date | None = None  # Asia/Shanghai calendar dates, inclusive
    due_to: date | None = None
    statuses: tuple[str, ...] = STATUSES
    colour: str | None = None  # the case's red / yellow / blue (docs/DOMAIN.md §6)


@dataclass(frozen=True)
class OverdueRow:
    deadline_id: int
    case_id: int | None
    case_no: str | None
    kind: str
    responsible: str | None
    also_charged: str | None
    due_at: datetime
    met_at: datetime | None
    hours_late: float  # negative: hours left
    status: str
    branch: str | None
    sub_branch: str | None
    tier: str | None
    # Of a D5 clock (a branch's answer to one point of an HQ review): which point, which round.
    # A case's points share their person and due time; without these they read as duplicates.
    point_seq: int | None = None
    round_no: int | None = None
    risk_colour: str | None = None


@dataclass(frozen=True)
class OverduePage:
    rows: list[OverdueRow]
    total: int


# A branch or sub-branch to filter by (id, code, name, parent_id): the reference data's own
# immutable units, not a copy of each of ~300 per page run.
UnitOption = reference.UnitRef


def _scope(actor: Actor, branch_col: ColumnElement) -> ColumnElement[bool] | None:
    """A clock is visible with its case; a clock without a case (D6) with its branch."""
    if actor.is_national:
        return None
    scope = case_scope(actor)
    branches = sorted(actor.visible_branch_ids)
    by_branch = and_(Deadline.case_id.is_(None), branch_col.in_(branches)) if branches else false()
    return or_(and_(ClaimCase.id.is_not(None), scope), by_branch)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=BUSINESS_TZ)


# The end of the due-soon window is bound at execution, as the time now (statements.NOW).
SOON_UNTIL = bindparam("soon_until", type_=DateTime(timezone=True))


def _times(session: Session, now: datetime | None) -> dict[str, datetime]:
    now = clock.or_now(now)
    return {"now": now, "soon_until": now + timedelta(hours=reference.due_soon_hours(session))}


class _Query:
    """The tracker's FROM/WHERE, shared by the page, the counts, the export and the charts."""

    def __init__(self, actor: Actor, filters: OverdueFilters) -> None:
        self.responsible, self.also, self.branch, self.sub = RESPONSIBLE, ALSO_CHARGED, BRANCH, SUB_BRANCH
        self.branch_id = func.coalesce(Deadline.branch_id, ClaimCase.branch_id)
        due, met = Deadline.due_at, Deadline.met_at
        # The rules' own SQL (rules/deadlines): the list holds only these three statuses.
        self.status = sql_deadline_status(due, met, NOW, SOON_UNTIL)
        self.status_rank = sql_status_rank(due, met, NOW)
        self.lateness = sql_lateness(due, met, NOW)
        self.hours_late = sql_hours_late(due, met, NOW)
        self.status_conditions: dict[str, ColumnElement[bool]] = {
            status: sql_status_is(status, due, met, NOW, SOON_UNTIL) for status in STATUSES}
        self.conditions = self._conditions(actor, filters)

    def _conditions(self, actor: Actor, f: OverdueFilters) -> list[ColumnElement[bool]]:
        status_conditions = self.status_conditions
        chosen = [status_conditions[s] for s in f.statuses if s in status_conditions]
        conditions: list[ColumnElement[bool]] = [Deadline.cancelled_at.is_(None), or_(*chosen) if chosen else false()]
        scope = _scope(actor, self.branch_id)
        if scope is not None:
            conditions.append(scope)
        conditions.extend(self._common_filters(f, self.branch_id, Deadline.kind, Deadline.due_at))
        if f.person and f.person.strip():
            pattern = f"%{f.person.strip()}%"
            conditions.append(or_(self.responsible.full_name.ilike(pattern), self.also.full_name.ilike(pattern)))
        return conditions

    @staticmethod
    def _common_filters(f: OverdueFilters, branch_col, kind_col, due_col) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if f.branch_id is not None:
            out.append(branch_col == f.branch_id)
        if f.sub_branch_id is not None:
            out.append(ClaimCase.sub_branch_id == f.sub_branch_id)
        if f.kinds:
            out.append(kind_col.in_([k for k in f.kinds if k in DEADLINE_KINDS]))
        if f.tiers:
            out.append(ClaimCase.tier.in_(list(f.tiers)))
        if f.colour:
            out.append(ClaimCase.risk_colour == f.colour)
        if f.due_from is not None:
            out.append(due_col >= _local_midnight(f.due_from))
        if f.due_to is not None:
            out.append(due_col < _local_midnight(f.due_to + timedelta(days=1)))
        return out

    def joined(self, query: Select, *, people: bool = True, units: bool = False) -> Select:
        query = query.select_from(Deadline).outerjoin(ClaimCase, ClaimCase.id == Deadline.case_id)
        if people:
            query = (query.outerjoin(self.responsible, self.responsible.id == Deadline.responsible_person_id)
                     .outerjoin(self.also, self.also.id == Deadline.also_charged_person_id))
        if units:
            query = (query.outerjoin(self.branch, self.branch.id == self.branch_id)
                     .outerjoin(self.sub, self.sub.id == ClaimCase.sub_branch_id))
        return query.where(*self.conditions)

    def _columns(self) -> Select:
        return select(
            Deadline.id, Deadline.case_id, ClaimCase.case_no, Deadline.kind, self.responsible.full_name,
            self.also.full_name, Deadline.due_at, Deadline.met_at, self.hours_late, self.status,
            self.branch.name, self.sub.name, ClaimCase.tier,
            # A subquery per listed row, not a join: one more join cost the list ~2 ms of planning.
            select(OpinionPoint.seq).where(OpinionPoint.id == d5_point_id()).scalar_subquery(), d5_round(),
            ClaimCase.risk_colour,
        )

    def rows(self) -> Select:
        """Every matching clock: overdue, then due soon, then met late; most late first in each."""
        return self.joined(self._columns(), units=True).order_by(self.status_rank, self.lateness.desc(), Deadline.id)

    def rows_of(self, status: str) -> Select:
        """The clocks of one status in the list's order. Within "overdue" and "due soon", most late
        first is earliest due first, which the due-time indexes give without sorting every clock."""
        order = (Deadline.due_at, Deadline.id) if status != "met_late" else (self.lateness.desc(), Deadline.id)
        return (self.joined(self._columns(), units=True).where(self.status_conditions[status])
                .order_by(*order))


@built_once
def _query(actor: Actor, filters: OverdueFilters) -> _Query:
    return _Query(actor, filters)


@built_once
def _rows_of_statement(actor: Actor, filters: OverdueFilters, status: str, limit: int, offset: int) -> Select:
    return _query(actor, filters).rows_of(status).limit(limit).offset(offset)


@built_once
def _export_statement(actor: Actor, filters: OverdueFilters, max_rows: int) -> Select:
    return _query(actor, filters).rows().limit(max_rows)


@built_once
def _counts_statement(actor: Actor, filters: OverdueFilters) -> Select:
    """One row, a count per status (in STATUSES order): counted in one pass with FILTER, where
    grouping by the status expression hashed each of the ~58k shown clocks at 1M cases."""
    q = _query(actor, filters)
    counts = [func.count().filter(q.status_conditions[status]) for status in STATUSES]
    return q.joined(select(*counts), people=bool(filters.person))


@built_once
def _ageing_statement(actor: Actor, filters: OverdueFilters) -> Select:
    # The overdue clocks of the filtered view: none when the status filter leaves "overdue" out
    # (the chart beside the list then agrees with its 超时未完成 count).
    q = _query(actor, replace(filters, statuses=("overdue",) if "overdue" in filters.statuses else ()))
    bucket = sql_overdue_age_bucket(Deadline.due_at, NOW)
    return q.joined(select(bucket, func.count()), people=bool(filters.person)).group_by(bucket)


def _to_rows(result) -> list[OverdueRow]:
    return as_rows(OverdueRow, result.all())


@requires("overdue.read")
def overdue_page(session: Session, actor: Actor, filters: OverdueFilters, *, limit: int = 50, offset: int = 0,
                 now: datetime | None = None, counts: dict[str, int] | None = None) -> OverduePage:
    """One page of the tracker list, most overdue first, and the total matching.

    The list is three runs in a row (overdue, due soon, met late). Counting each run first says
    which runs the page falls in, so the page is read from those alone, in index order: sorting
    every shown clock (58k at 1M cases) to return 50 was most of the page's time.
    `counts`: what overdue_counts returned for the same filters and `now` (not counted again)."""
    times = _times(session, now)
    if counts is None:
        counts = _status_counts(session, actor, filters, times)
    rows: list[OverdueRow] = []
    skip, wanted = offset, limit
    for status in STATUSES:  # the list's order (status_rank)
        n = counts[status]
        if wanted <= 0:
            break
        if skip >= n:
            skip -= n
            continue
        take = min(wanted, n - skip)
        rows += _to_rows(read(session, _rows_of_statement(actor, filters, status, take, skip), times, custom=True))
        wanted -= take
        skip = 0
    return OverduePage(rows, sum(counts.values()))


def _status_counts(session: Session, actor: Actor, filters: OverdueFilters,
                   times: dict[str, datetime]) -> dict[str, int]:
    live, kept = _live_and_kept(actor, filters)
    row = read(session, _counts_statement(actor, live), times).one()
    return _counts(row, read(session, _kept_met_late_statement(filters)).scalar_one() if kept else None)


# How a row of each statement becomes what the page shows: the same whether the statement ran on
# its own (overdue_counts, ageing, violations_by_branch_and_kind) or inside tracker_summary.
def _counts(per_status: Sequence[int], kept_met_late: int | None) -> dict[str, int]:
    counts = {status: int(n) for status, n in zip(STATUSES, per_status)}
    if kept_met_late is not None:
        counts["met_late"] = int(kept_met_late)
    return counts


def _ageing_buckets(found: dict[str, int]) -> list[tuple[str, int]]:
    return [(key, int(found.get(key, 0))) for key, _low, _high in OVERDUE_AGE_BUCKETS]


def _violation_rows(rows) -> list[tuple[str, str, int]]:
    return [(name or "—", kind, int(n)) for name, kind, n in rows]


def _live_and_kept(actor: Actor, filters: OverdueFilters) -> tuple[OverdueFilters, bool]:
    """The filters whose counts are read from the clocks, and whether the clocks met late come from
    the kept counts: the open clocks live (a few thousand, by their own index), those met late,
    every one since the first case, kept (when `_reads_kept_counts`)."""
    if not (_reads_kept_counts(actor, filters) and "met_late" in filters.statuses):
        return filters, False
    return replace(filters, statuses=tuple(s for s in filters.statuses if s != "met_late")), True


def _reads_kept_counts(actor: Actor, filters: OverdueFilters) -> bool:
    """Whether the clocks met late and the violations come from the counts the database keeps per
    branch and type (migration 0020): for national people filtering by branch and type alone.
    A sub-branch, tier, colour, due window or person, or a narrower scope, is counted live."""
    return (actor.is_national and filters.sub_branch_id is None and not filters.tiers and not filters.colour
            and filters.due_from is None
            and filters.due_to is None and not (filters.person and filters.person.strip()))


def _kept_conditions(filters: OverdueFilters) -> list[ColumnElement[bool]]:
    conditions = []
    if filters.branch_id is not None:
        conditions.append(LateCount.branch_id == filters.branch_id)
    if filters.kinds:
        conditions.append(LateCount.kind.in_([k for k in filters.kinds if k in DEADLINE_KINDS]))
    return conditions


@built_once
def _kept_met_late_statement(filters: OverdueFilters) -> Select:
    return select(func.coalesce(func.sum(LateCount.clocks_met_late), 0)).where(*_kept_conditions(filters))


@dataclass(frozen=True)
class TrackerSummary:
    """What the tracker shows above and beside its list: the count per status, the overdue clocks
    by how late they are, and the recorded violations by branch and deadline type."""

    counts: dict[str, int]
    ageing: list[tuple[str, int]]
    violations: list[tuple[str, str, int]]
    exempted: int  # violations the actor can see exempted by an accepted appeal (appeals.exempted_count)


@requires("overdue.read")
def tracker_summary(session: Session, actor: Actor, filters: OverdueFilters, *,
                    now: datetime | None = None) -> TrackerSummary:
    """`overdue_counts`, `ageing`, `violations_by_branch_and_kind` and `appeals.exempted_count` in
    ONE statement (one round trip instead of five), all read live: the tracker is a work page."""
    # Planned for the time now on every run (`custom`; nor the list's runs generic): with the time
    # unknown, their generic plans ran a third slower at 10,000,000 cases than planning each time
    # (bench/RESULTS.md, thirteenth session). Prepared all the same: SQLAlchemy's work around a
    # plain read was a third of what the tracker added to its SQL (sixteenth session).
    row = read(session, _summary_statement(actor, filters), _times(session, now), custom=True).one()
    return TrackerSummary(counts=_counts(row.counts, row.met_late), ageing=_ageing_buckets(dict(row.ageing)),
                          violations=_violation_rows(row.violations), exempted=int(row.exempted))


@built_once
def _summary_statement(actor: Actor, filters: OverdueFilters) -> Select:
    live, kept = _live_and_kept(actor, filters)
    counts = _counts_statement(actor, live).subquery("counts")
    met_late = _kept_met_late_statement(filters).scalar_subquery() if kept else literal(None)
    violations = _violations_source(actor, filters).subquery("violations")
    name, kind = list(violations.c)[:2]
    return select(
        select(func.json_build_array(*counts.c)).select_from(counts).scalar_subquery().label("counts"),
        met_late.label("met_late"),
        json_rows(_ageing_statement(actor, filters).subquery("ageing")).label("ageing"),
        json_rows(violations, name.asc().nulls_last(), kind).label("violations"),
        exempted_count_statement(of_branch=False).scalar_subquery().label("exempted"),
    )


@requires("overdue.read")
def overdue_export(session: Session, actor: Actor, filters: OverdueFilters, *, now: datetime | None = None,
                   max_rows: int = EXPORT_MAX_ROWS) -> list[OverdueRow]:
    """The filtered list for CSV / Excel, capped at `max_rows`."""
    return _to_rows(read(session, _export_statement(actor, filters, max_rows), _times(session, now)))


@requires("overdue.read")
def overdue_counts(session: Session, actor: Actor, filters: OverdueFilters, *,
                   now: datetime | None = None) -> dict[str, int]:
    """How many clocks of each status match the filters (statuses not filtered out count 0)."""
    return _status_counts(session, actor, filters, _times(session, now))


@requires("overdue.read")
def ageing(session: Session, actor: Actor, filters: OverdueFilters, *,
           now: datetime | None = None) -> list[tuple[str, int]]:
    """Overdue, not yet met clocks by how long they have been overdue (OVERDUE_AGE_BUCKETS)."""
    return _ageing_buckets(dict(read(session, _ageing_statement(actor, filters), _times(session, now)).tuples().all()))


@requires("overdue.read")
def violations_by_branch_and_kind(session: Session, actor: Actor, filters: OverdueFilters) -> list[tuple[str, str, int]]:
    """Recorded violations (one per charged person) by branch and deadline type, within the filters.

    Counted by branch id first, then named: naming each of three years' violations (58k at 1M
    cases) before grouping them was most of the statement (bench/RESULTS.md). The case and the
    person are joined only when a filter or the actor's scope needs them."""
    return _violation_rows(read(session, _violations_source(actor, filters)))


def _violations_source(actor: Actor, filters: OverdueFilters) -> Select:
    """The violations by branch and type: from the kept counts where they serve, else the rows."""
    return _kept_violations_statement(filters) if _reads_kept_counts(actor, filters) \
        else _violations_statement(actor, filters)


@built_once
def _kept_violations_statement(filters: OverdueFilters) -> Select:
    """The same figures from the counts kept per branch and type (migration 0020)."""
    branch = BRANCH
    n = func.sum(LateCount.violations)
    counted = (select(LateCount.branch_id, LateCount.kind, n.label("n")).where(*_kept_conditions(filters))
               .group_by(LateCount.branch_id, LateCount.kind).having(n != 0).subquery("counted"))
    return (select(branch.name, counted.c.kind, counted.c.n).select_from(counted)
            .outerjoin(branch, branch.id == counted.c.branch_id).order_by(branch.name, counted.c.kind))


@built_once
def _violations_statement(actor: Actor, filters: OverdueFilters) -> Select:
    branch, person = BRANCH, CHARGED
    counted = select(Violation.branch_id, Violation.kind, func.count().label("n")).select_from(Violation)
    conditions = _Query._common_filters(filters, Violation.branch_id, Violation.kind, Violation.due_at)
    conditions.append(sql_not_exempt(Violation.id))  # an accepted appeal exempts it (services/clocks/appeals)
    needs_case = (filters.sub_branch_id is not None or bool(filters.tiers) or bool(filters.colour)
                  or not actor.is_national)
    if needs_case:
        counted = counted.outerjoin(ClaimCase, ClaimCase.id == Violation.case_id)
    if filters.person and filters.person.strip():
        counted = counted.join(person, person.id == Violation.person_id)
        conditions.append(person.full_name.ilike(f"%{filters.person.strip()}%"))
    if not actor.is_national:
        branches = sorted(actor.visible_branch_ids)
        by_branch = and_(Violation.case_id.is_(None), Violation.branch_id.in_(branches)) if branches else false()
        conditions.append(or_(and_(ClaimCase.id.is_not(None), case_scope(actor)), by_branch))
    counted = counted.where(*conditions).group_by(Violation.branch_id, Violation.kind).subquery("counted")
    return (select(branch.name, counted.c.kind, counted.c.n).select_from(counted)
            .outerjoin(branch, branch.id == counted.c.branch_id).order_by(branch.name, counted.c.kind))


@requires("overdue.read")
def branch_options(session: Session, actor: Actor) -> list[UnitOption]:
    """Branches the actor may filter by: all for national roles, otherwise their own."""
    return reference.branch_choices(session, actor)


@requires("overdue.read")
def sub_branch_options(session: Session, actor: Actor, branch_id: int | None) -> list[UnitOption]:
    """Sub-branches under the branches the actor may filter by (only their own for sub-branch staff)."""
    return reference.sub_branch_choices(session, actor, branch_id)


def tier_codes(session: Session) -> Sequence[str]:
    """Tiers to filter clocks by (rule data: branch sub-tiers and retired tiers included)."""
    return reference.tier_filter_codes(session)
