"""The indicators case data decides (docs/DOMAIN.md §9), for every branch of the actor's scope and
one period, in one aggregate query; and the cases behind each, for the drill-down.

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
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.scorecard import HUNDRED, period_end
from dashboard.services import reference
from dashboard.services.actor import Actor, unit_scope
from dashboard.services.capability import requires
from dashboard.services.errors import UserError
from dashboard.services.statements import count_then_page
from dashboard.settings import BUSINESS_TZ
from db.models import ClaimCase

COMPUTED = ("reserve_adequacy", "first_estimate_deviation", "motor_avg_paid_over_10k", "stale_pending_rate",
            "forced_registration_rate", "motor_zero_reopen_rate", "small_cycle_days", "motor_small_transfer_days",
            "handling_rate", "count_closure_rate", "amount_closure_rate")
DAY = 86400


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
        stale_days = int(reference.get_setting(session, "scorecard.stale_days"))
        # A period still running is judged as of now: counting back from its end in the future
        # would call a case stale months before it is.
        as_of = min(_moment(end), clock.now())
        return cls(_moment(start), _moment(end), _moment(date(start.year, 1, 1)),
                   as_of - timedelta(days=stale_days),
                   Decimal(str(reference.get_setting(session, "scorecard.small_claim"))))


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


def _scope(actor: Actor, branch_ids: list[int] | None) -> list:
    conditions = []
    if not actor.is_national:
        units = unit_scope(actor, ClaimCase.branch_id, ClaimCase.sub_branch_id)
        conditions.append(or_(*units) if units else literal(False))
    if branch_ids is not None:
        conditions.append(ClaimCase.branch_id.in_(branch_ids))
    return conditions


def _ratio(numerator, denominator) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator) * HUNDRED


def _days(seconds) -> Decimal | None:
    return None if seconds is None else Decimal(str(seconds)) / DAY


@requires("scorecard.read")
def computed_values(session: Session, actor: Actor, kind: str, start: date,
                    branch_ids: list[int] | None = None) -> dict[int, dict[str, Decimal | None]]:
    """Branch id → indicator key → value (None where the period has no case to measure it by)."""
    w = Window.of(session, kind, start)
    k = _conditions(w)
    c = ClaimCase
    n = func.count
    s = func.sum
    epoch = func.extract
    columns = [
        s(c.current_estimate).filter(k["paid"]), s(c.paid_amount).filter(k["paid"]),
        s(func.abs(c.first_estimate - c.paid_amount)).filter(and_(k["paid"], c.first_estimate.is_not(None))),
        s(c.paid_amount).filter(and_(k["paid"], c.first_estimate.is_not(None))),
        func.avg(c.paid_amount).filter(and_(k["paid"], k["motor"], c.paid_amount > w.small)),
        n().filter(and_(k["pending_end"], c.report_time < w.stale_before)), n().filter(k["pending_end"]),
        n().filter(and_(k["reported_in"], c.forced_registration)), n().filter(k["reported_in"]),
        n().filter(and_(k["reported_in"], k["motor"], c.zero_closed, c.reopen_count > 0)),
        n().filter(and_(k["reported_in"], k["motor"], c.zero_closed)),
        func.avg(epoch("epoch", c.closed_at - c.report_time)).filter(k["small"]),
        func.avg(epoch("epoch", c.closed_at - c.first_estimated_at)).filter(
            and_(k["small"], k["motor"], c.first_estimated_at.is_not(None))),
        n().filter(k["closed_in"]), n().filter(k["pending_start"]),
        n().filter(k["cohort_closed"]), n().filter(k["cohort"]),
        s(c.paid_amount).filter(k["cohort_closed"]),
        s(c.current_estimate).filter(and_(k["cohort"], ~k["cohort_closed"])),
    ]
    # Only the cases any figure reads: reported before the end, and open (or closed) after the
    # earlier of the period's and the year's start.
    earliest = min(w.start, w.year_start)
    rows = session.execute(
        select(c.branch_id, *columns)
        .where(c.report_time < w.end, or_(c.closed_at.is_(None), c.closed_at >= earliest), *_scope(actor, branch_ids))
        .group_by(c.branch_id)).all()
    out: dict[int, dict[str, Decimal | None]] = {}
    for r in rows:
        (branch, est_close, paid_close, dev, dev_base, motor_avg, stale, pending_end, forced, reported, zero_reopened,
         zero, cycle, transfer, closed, pending_start, cohort_closed, cohort, cohort_paid, cohort_pending) = r
        out[branch] = {
            "reserve_adequacy": _ratio(est_close, paid_close),
            "first_estimate_deviation": _ratio(dev, dev_base),
            "motor_avg_paid_over_10k": None if motor_avg is None else Decimal(motor_avg),
            "stale_pending_rate": _ratio(stale, pending_end),
            "forced_registration_rate": _ratio(forced, reported),
            "motor_zero_reopen_rate": _ratio(zero_reopened, zero),
            "small_cycle_days": _days(cycle),
            "motor_small_transfer_days": _days(transfer),
            "handling_rate": _ratio(closed, (pending_start or 0) + (reported or 0)),
            "count_closure_rate": _ratio(cohort_closed, cohort),
            "amount_closure_rate": _ratio(cohort_paid or 0, (cohort_paid or 0) + (cohort_pending or 0))
            if cohort else None,
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


def _behind(w: Window, key: str):
    """(condition, the case's measure, order) of the cases behind an indicator."""
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
    if key not in table:
        raise UserError("scorecard.error.not_computed")
    return table[key]


@requires("scorecard.read")
def cases_behind(session: Session, actor: Actor, kind: str, start: date, branch_id: int, key: str, *,
                 limit: int = 50, offset: int = 0, total: int | None = None) -> tuple[int, list[BehindRow]]:
    """The cases an indicator counts against the branch (the stale ones, the forced ones, the slow
    ones...), the heaviest first."""
    w = Window.of(session, kind, start)
    condition, measure = _behind(w, key)
    c = ClaimCase
    conditions = [condition, c.branch_id == branch_id, *_scope(actor, None)]
    shown = measure if measure is not None else literal(None)
    order = [measure.desc().nulls_last()] if measure is not None else []

    def page():
        return (select(c.id, c.case_no, c.report_time, c.closed_at, c.state, c.first_estimate, c.current_estimate,
                       c.paid_amount, shown).where(*conditions)
                .order_by(*order, c.report_time, c.id).limit(limit).offset(offset))

    total, rows = count_then_page(session, lambda: select(func.count()).select_from(c).where(*conditions), page,
                                  limit=limit, total=total)
    return total, [BehindRow(*r[:8], None if r[8] is None else Decimal(str(r[8]))) for r in rows]

