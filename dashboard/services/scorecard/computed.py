"""The indicators case data decides (docs/DOMAIN.md §9), for every branch of the actor's scope and
one period, summed from the cells the database keeps (migration 0035: per sub-branch, report month
and close month); and the cases behind each, for the drill-down (read live, a page at a time).

Definitions (each shown beside its value on the page, scorecard.formula.<key>), for a branch and
the period [start, end) in Asia/Shanghai; "small" is the `scorecard.small_claim` setting (10,000):
- reserve_adequacy 估损充足率 = Σ estimate held at closing / Σ paid × 100, cases closed in the period
  with a payment.
- first_estimate_deviation 初次立案估损偏差率 = Σ |first estimate − paid| / Σ paid × 100, the same cases
  with a first estimate.
- motor_avg_paid_over_10k 万元以上车险赔案案均赔款 = average paid, motor cases closed in the period paid
  above small.
- stale_pending_rate 未决滞案率 = cases pending at the period's end reported more than
  `scorecard.stale_days` (180) days before it (before now, for a period still running) / all cases
  pending at its end × 100.
- forced_registration_rate 强迫立案率 = forced registrations / cases reported in the period × 100.
- motor_zero_reopen_rate 车险零结案重开率 = motor cases reported in the period closed without payment and
  later reopened / those closed without payment × 100.
- small_cycle_days 万元以下赔案理赔周期 = average days from report to closing, cases closed in the
  period paid above 0 and at most small.
- motor_small_transfer_days 万元以下车险内部流转时效 = average days from the first estimate (立案) to
  closing, motor cases of the same kind.
- handling_rate 案件处理率 = cases closed in the period / (pending at its start + reported in it) × 100.
- count_closure_rate 当年案件件数结案率 = cases reported from 1 January to the period's end closed by
  its end / all of them × 100.
- amount_closure_rate 当年案件金额结案率 = their Σ paid of the closed / (Σ paid of the closed + Σ
  estimate of the pending) × 100.

How they are read: every boundary above is a month in Asia/Shanghai except the stale one, so each
figure is a sum over the cells on one side of the period's months. The cells are bucketed by the
small-claim amount in force (a change of the setting refills them in the same transaction); the
stale boundary, a day (a moment, for a running period), is summed from the cells for the whole
months before its month and counted live for the days of its month before it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import (
    ColumnElement, Date, DateTime, Integer, Numeric, Select, and_, bindparam, func, literal, or_, select, text,
    union_all,
)
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.partition_months import month_of
from dashboard.rules.scorecard import HUNDRED, period_end
from dashboard.services import reference
from dashboard.services.actor import Actor, unit_scope
from dashboard.services.capability import requires
from dashboard.services.errors import UserError
from dashboard.services.statements import built_once, count_then_page, read
from dashboard.settings import BUSINESS_TZ
from db.models import ClaimCase, ScorecardCell

COMPUTED = ("reserve_adequacy", "first_estimate_deviation", "motor_avg_paid_over_10k", "stale_pending_rate",
            "forced_registration_rate", "motor_zero_reopen_rate", "small_cycle_days", "motor_small_transfer_days",
            "handling_rate", "count_closure_rate", "amount_closure_rate")
DAY = 86400
# The cases open long have a partial index (migration 0035): still open, or closed more than this
# many days after their report.
LONG_OPEN_DAYS = 90


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, BUSINESS_TZ)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    year_start: datetime
    stale_before: datetime
    small: Decimal

    @classmethod
    def of(cls, session: Session, kind: str, start: date) -> Window:
        end = period_end(kind, start)
        # The kept settings (reference.rule_settings: an administrator's change shows at once on
        # their server, within a minute on others): the page builds a window per period of the
        # trend, and reading both settings afresh for each was 14 of its 45 statements.
        settings = reference.rule_settings(session)
        stale_days = int(settings["scorecard.stale_days"])
        # A period still running is judged as of now: counting back from its end in the future
        # would call a case stale months before it is.
        as_of = min(_moment(end), clock.now())
        return cls(_moment(start), _moment(end), _moment(date(start.year, 1, 1)),
                   as_of - timedelta(days=stale_days),
                   Decimal(str(settings["scorecard.small_claim"])))


def _conditions(w: Window) -> dict:
    c = ClaimCase
    closed_in = and_(c.closed_at >= w.start, c.closed_at < w.end)
    paid = and_(closed_in, c.paid_amount > 0)
    motor = c.business_line == "motor"
    small = and_(paid, c.paid_amount <= w.small)
    reported_in = and_(c.report_time >= w.start, c.report_time < w.end)
    pending_end = and_(c.report_time < w.end, or_(c.closed_at.is_(None), c.closed_at >= w.end))
    pending_start = and_(c.report_time < w.start, or_(c.closed_at.is_(None), c.closed_at >= w.start))
    cohort = and_(c.report_time >= w.year_start, c.report_time < w.end)
    cohort_closed = and_(cohort, c.closed_at.is_not(None), c.closed_at < w.end)
    return dict(closed_in=closed_in, paid=paid, motor=motor, small=small, reported_in=reported_in,
                pending_end=pending_end, pending_start=pending_start, cohort=cohort, cohort_closed=cohort_closed)


def _scope(actor: Actor, branch_ids: Sequence[int] | None, branch=ClaimCase.branch_id,
           sub_branch=ClaimCase.sub_branch_id) -> list:
    """The actor's units and the chosen branches, on the cases (default) or on the kept cells."""
    conditions = []
    if not actor.is_national:
        units = unit_scope(actor, branch, sub_branch)
        conditions.append(or_(*units) if units else literal(False))
    if branch_ids is not None:
        conditions.append(branch.in_(branch_ids))
    return conditions


def _ratio(numerator, denominator) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator) * HUNDRED


def _days(seconds) -> Decimal | None:
    return None if seconds is None else Decimal(str(seconds)) / DAY






def _long_open() -> ColumnElement[bool]:
    """The long-open indexes' condition (migration 0035)."""
    c = ClaimCase
    return or_(c.closed_at.is_(None), c.closed_at - c.report_time > text(f"interval '{LONG_OPEN_DAYS} days'"))


def _long_open_implied(w: Window, reported_before: datetime) -> bool:
    """Whether the cases pending at the period's end reported before `reported_before` all meet
    the long-open condition (reported at least LONG_OPEN_DAYS before the end)."""
    return reported_before <= w.end - timedelta(days=LONG_OPEN_DAYS)


def _period_params(i: int) -> dict[str, object]:
    """The bounds of the `i`-th period of a statement, bound at execution: one built statement
    serves every set of periods of a shape (the trend's six quarters, any six)."""
    dates = {n: bindparam(f"sc_{n}_{i}", type_=Date) for n in ("first", "last", "year", "cut_month")}
    moments = {n: bindparam(f"sc_{n}_{i}", type_=DateTime(timezone=True)) for n in ("month_start", "cut", "end")}
    return {**dates, **moments}


@built_once
def _boundary_statement(actor: Actor, branch_ids: tuple[int, ...] | None,
                        periods: tuple[tuple[int, bool], ...]) -> Select:
    """Per period (its index, whether the long-open condition is implied) and branch, the cases of
    the stale boundary's month before it: one SELECT per period, as UNION ALL branches."""
    c = ClaimCase
    parts = []
    for i, long_open in periods:
        b = _period_params(i)
        parts.append(select(literal(i).label("period"), c.branch_id, func.count())
                     .where(c.report_time >= b["month_start"], c.report_time < b["cut"],
                            or_(c.closed_at.is_(None), c.closed_at >= b["end"]),
                            *([_long_open()] if long_open else []), *_scope(actor, branch_ids))
                     .group_by(c.branch_id))
    return parts[0] if len(parts) == 1 else union_all(*parts)


def _stale_boundaries(session: Session, actor: Actor, windows: list[Window], branch_ids: list[int] | None,
                      cuts: list[datetime]) -> dict[int, dict[int, int]]:
    """Per period (its index) and branch, the cases pending at the period's end reported in the
    stale boundary's month before the boundary: the one part of an indicator not drawn at a month,
    counted live (one month's cases at most, by report time). One statement for every period."""
    periods, params = [], {}
    for i, (w, cut) in enumerate(zip(windows, cuts)):
        month_start = _moment(month_of(cut))
        if month_start >= cut:
            continue
        periods.append((i, _long_open_implied(w, cut)))
        params.update({f"sc_month_start_{i}": month_start, f"sc_cut_{i}": cut, f"sc_end_{i}": w.end})
    if not periods:
        return {}
    out: dict[int, dict[int, int]] = {}
    for period, branch, n in read(session, _boundary_statement(actor, _shape(branch_ids), tuple(periods)), params,
                                  custom=True):
        out.setdefault(period, {})[branch] = n
    return out


def _shape(branch_ids: list[int] | None) -> tuple[int, ...] | None:
    return None if branch_ids is None else tuple(branch_ids)


def _cells_select(actor: Actor, branch_ids: tuple[int, ...] | None, i: int) -> Select:
    """Every computed indicator's sums over the cells of the `i`-th period of a statement."""
    cell, b = ScorecardCell, _period_params(i)
    first, last, year, cut_month = b["first"], b["last"], b["year"], b["cut_month"]
    closed_in = and_(cell.close_month >= first, cell.close_month < last)
    reported_in = and_(cell.report_month >= first, cell.report_month < last)
    pending_end = cell.close_month >= last
    pending_start = and_(cell.report_month < first, cell.close_month >= first)
    cohort = cell.report_month >= year
    cohort_closed = and_(cohort, cell.close_month < last)

    def total(column, condition):
        return func.coalesce(func.sum(column).filter(condition), 0)

    def average(column, count, condition):
        # avg() is Σ / n in numeric: the same division of the same sum as the live average.
        return func.sum(column).filter(condition) / func.nullif(func.sum(count).filter(condition), 0)

    columns = [
        total(cell.paid_estimate_sum, closed_in), total(cell.paid_estimated, closed_in),
        total(cell.paid_sum, closed_in), total(cell.deviation_sum, closed_in), total(cell.deviation_base, closed_in),
        average(cell.motor_large_paid, cell.motor_large_cases, closed_in),
        total(cell.cases, and_(pending_end, cell.report_month < cut_month)), total(cell.cases, pending_end),
        total(cell.forced, reported_in), total(cell.cases, reported_in),
        total(cell.motor_zero_reopened, reported_in), total(cell.motor_zero, reported_in),
        average(cell.small_cycle_seconds, cell.small_cases, closed_in),
        average(cell.small_motor_transfer_seconds, cell.small_motor_transfers, closed_in),
        total(cell.cases, closed_in), total(cell.cases, pending_start),
        total(cell.cases, cohort_closed), total(cell.cases, cohort),
        total(cell.paid_sum, cohort_closed), total(cell.estimate_sum, and_(cohort, pending_end)),
    ]
    # Only the cells any figure reads: reported before the end, open (or closed) after the year's start.
    return (select(literal(i).label("period"), cell.branch_id, *columns)
            .where(cell.report_month < last, cell.close_month >= year,
                   *_scope(actor, branch_ids, cell.branch_id, cell.sub_branch_id))
            .group_by(cell.branch_id).having(func.sum(cell.cases) > 0))


@built_once
def _cells_statement(actor: Actor, branch_ids: tuple[int, ...] | None, periods: int) -> Select:
    """Every computed indicator's sums over the cells of each of `periods` periods (bounds bound at
    execution), one SELECT per period as UNION ALL branches: built once per person, branches and
    number of periods. The trend's six periods are one statement, not six (each with its own round
    trip and its Python around it: 18 of the quarter page's 26 statements were the trend's)."""
    parts = [_cells_select(actor, branch_ids, i) for i in range(periods)]
    return parts[0] if periods == 1 else union_all(*parts)


@requires("scorecard.read")
def computed_values(session: Session, actor: Actor, kind: str, start: date,
                    branch_ids: list[int] | None = None) -> dict[int, dict[str, Decimal | None]]:
    """Branch id → indicator key → value (None where the period has no case to measure it by).

    Read from the cells the database keeps per sub-branch, report month and close month (migration
    0035; bucketed there by the small-claim setting in force): every boundary but the stale one is
    a month, so each figure is a sum over the cells on one side of it."""
    return computed_values_of_periods(session, actor, kind, [start], branch_ids)[start]


@requires("scorecard.read")
def computed_values_of_periods(session: Session, actor: Actor, kind: str, starts: list[date],
                               branch_ids: list[int] | None = None) -> dict[date, dict[int, dict[str, Decimal | None]]]:
    """`computed_values` of several periods of one kind (a trend), in two statements whatever
    their number: period start → branch id → indicator key → value."""
    windows = [Window.of(session, kind, start) for start in starts]
    # Stale: reported before the boundary (and the end); the whole months before its month from the
    # cells, the rest of its month live.
    cuts = [min(w.stale_before, w.end) for w in windows]
    params: dict[str, object] = {}
    for i, (start, cut) in enumerate(zip(starts, cuts)):
        params.update({f"sc_first_{i}": start, f"sc_last_{i}": period_end(kind, start),
                       f"sc_year_{i}": date(start.year, 1, 1), f"sc_cut_month_{i}": month_of(cut)})
    # Prepared, planned for the periods given (custom): SQLAlchemy's work around a statement of six
    # UNION ALL branches and their 24 bounds was 0.8 ms of the trend's Python.
    rows = read(session, _cells_statement(actor, _shape(branch_ids), len(starts)), params, custom=True).all()
    boundaries = _stale_boundaries(session, actor, windows, branch_ids, cuts) if rows else {}
    out: dict[date, dict[int, dict[str, Decimal | None]]] = {start: {} for start in starts}
    for r in rows:
        (period, branch, est_close, estimated, paid_close, dev, dev_base, motor_avg, stale, pending_end_n, forced,
         reported, zero_reopened, zero, cycle, transfer, closed, pending_start_n, cohort_closed_n, cohort_n,
         cohort_paid, cohort_pending) = r
        boundary = boundaries.get(period, {})
        out[starts[period]][branch] = {
            "reserve_adequacy": _ratio(est_close if estimated else None, paid_close),
            "first_estimate_deviation": _ratio(dev, dev_base),
            "motor_avg_paid_over_10k": None if motor_avg is None else Decimal(motor_avg),
            "stale_pending_rate": _ratio(stale + boundary.get(branch, 0), pending_end_n),
            "forced_registration_rate": _ratio(forced, reported),
            "motor_zero_reopen_rate": _ratio(zero_reopened, zero),
            "small_cycle_days": _days(cycle),
            "motor_small_transfer_days": _days(transfer),
            "handling_rate": _ratio(closed, pending_start_n + reported),
            "count_closure_rate": _ratio(cohort_closed_n, cohort_n),
            "amount_closure_rate": _ratio(cohort_paid, cohort_paid + cohort_pending) if cohort_n else None,
        }
    return out


# ---------------------------------------------------------------- the cases behind an indicator


@dataclass(frozen=True)
class BehindRow:
    case_id: int
    case_no: str
    report_time: datetime
    closed_at: datetime | None
    state: str
    first_estimate: Decimal | None
    current_estimate: Decimal | None
    paid_amount: Decimal | None
    measure: Decimal | None  # what the indicator reads of this case (days, deviation), when it reads one


BEHIND = COMPUTED  # every computed indicator lists the cases behind it
# A period's window as parameters bound at execution: the lists behind an indicator are built once
# per person, indicator and page, not again on every call (their ~80 comparisons were most of the
# Python the quarter page spent outside its statements).
_BEHIND_WINDOW = Window(**{n: bindparam(f"sb_{n}", type_=DateTime(timezone=True))
                           for n in ("start", "end", "year_start", "stale_before")},
                        small=bindparam("sb_small", type_=Numeric()))
_BEHIND_BRANCH = bindparam("sb_branch", type_=Integer)


def _behind(w: Window, key: str):
    """(condition, the case's measure) of the cases behind an indicator."""
    k = _conditions(w)
    c = ClaimCase
    cycle = func.extract("epoch", c.closed_at - c.report_time) / DAY
    table = {
        "reserve_adequacy": (k["paid"], c.current_estimate - c.paid_amount),
        "first_estimate_deviation": (and_(k["paid"], c.first_estimate.is_not(None)),
                                     func.abs(c.first_estimate - c.paid_amount)),
        "motor_avg_paid_over_10k": (and_(k["paid"], k["motor"], c.paid_amount > w.small), c.paid_amount),
        "stale_pending_rate": (and_(k["pending_end"], c.report_time < w.stale_before),
                               func.extract("epoch", w.end - c.report_time) / DAY),
        "forced_registration_rate": (and_(k["reported_in"], c.forced_registration), None),
        "motor_zero_reopen_rate": (and_(k["reported_in"], k["motor"], c.zero_closed, c.reopen_count > 0), None),
        "small_cycle_days": (k["small"], cycle),
        "motor_small_transfer_days": (and_(k["small"], k["motor"], c.first_estimated_at.is_not(None)),
                                      func.extract("epoch", c.closed_at - c.first_estimated_at) / DAY),
        "handling_rate": (and_(or_(k["pending_start"], k["reported_in"]), k["pending_end"]), None),
        "count_closure_rate": (and_(k["cohort"], ~k["cohort_closed"]), None),
        "amount_closure_rate": (and_(k["cohort"], ~k["cohort_closed"]), c.current_estimate),
    }
    return table[key]


@built_once
def _behind_statements(actor: Actor, key: str, long_open: bool, limit: int, offset: int) -> tuple[Select, Select]:
    """(count, page) of the cases behind `key` for the branch and window bound at execution."""
    condition, measure = _behind(_BEHIND_WINDOW, key)
    c = ClaimCase
    # The long-open index's condition, when the window implies it (_long_open_implied), said
    # outright: the planner may then read that index, whose condition it cannot derive.
    conditions = [condition, c.branch_id == _BEHIND_BRANCH, *_scope(actor, None), *([_long_open()] if long_open else [])]
    shown = measure if measure is not None else literal(None)
    order = [measure.desc().nulls_last()] if measure is not None else []
    if key == "stale_pending_rate":
        # Its measure (days open at the period's end) falls as report_time rises: the same order,
        # which the (branch, report time) index of long-open cases gives, so the first page is its
        # first 50 entries rather than every stale case of the branch sorted (16,000 at 10M).
        order = []
    page = (select(c.id, c.case_no, c.report_time, c.closed_at, c.state, c.first_estimate, c.current_estimate,
                   c.paid_amount, shown).where(*conditions)
            .order_by(*order, c.report_time, c.id).limit(limit).offset(offset))
    return select(func.count()).select_from(c).where(*conditions), page


@requires("scorecard.read")
def cases_behind(session: Session, actor: Actor, kind: str, start: date, branch_id: int, key: str, *,
                 limit: int = 50, offset: int = 0, total: int | None = None) -> tuple[int, list[BehindRow]]:
    """The cases an indicator counts against the branch (the stale ones, the forced ones, the slow
    ones...), the heaviest first."""
    if key not in BEHIND:
        raise UserError("scorecard.error.not_computed")
    w = Window.of(session, kind, start)
    long_open = key == "stale_pending_rate" and _long_open_implied(w, w.stale_before)
    count, page = _behind_statements(actor, key, long_open, limit, offset)
    params = {"sb_start": w.start, "sb_end": w.end, "sb_year_start": w.year_start,
              "sb_stale_before": w.stale_before, "sb_small": w.small, "sb_branch": branch_id}
    total, rows = count_then_page(session, lambda: count, lambda: page, limit=limit, total=total, params=params)
    return total, [BehindRow(*r[:8], None if r[8] is None else Decimal(str(r[8]))) for r in rows]

