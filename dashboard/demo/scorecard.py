"""Demo rows of the claim quality scorecard (理赔质量考核, docs/DOMAIN.md §9): what a branch's book
needs for every indicator to have a value, and the branches to differ as real ones do.

- At intake and along the life cycle (called by dashboard/demo/load.py for every demo case, on each
  case's own random stream so the cases stay as they were): forced registrations (强迫立案, 1.5–5 %
  by branch); the amount paid, recorded when the case is marked paid, the estimate held at closing
  give or take each branch's habit (some over-reserve, some under-reserve); zero closures (零结案)
  — claims refused after investigation, and small motor claims withdrawn within days of the report
  — some of them reopened when the customer comes back (零结案重开); small claims (≤ 10,000) most
  branches pay in days (快赔) and the rest on the long way.
- `populate` (last of the demo areas): cases pending for more than 180 days (未决滞案: the customer
  never sent the documents, an injury still in treatment, a suit waiting for the court), a handful
  per branch, registered and moved through the real services at their past moments; and the
  financial figures HQ enters (branch_financials, through save_financials as the HQ admin) for
  every branch, the last 12 months, the last 4 quarters and this and last year: premium in the
  hundreds of millions a year, loss ratios between 50 and 75 % against budgets of 58–65 %, each
  branch in its own band of the loss-ratio scoring (18 / 15 / 10 / 0 points).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.demo.org import DemoOrg
from dashboard.rules.scorecard import period_end, period_start, previous_periods
from dashboard.services.actor import load_actor
from dashboard.services.cases.intake import CaseInput, register_case
from dashboard.services.cases.state import advance_state
from dashboard.services.scorecard.card import save_financials
from dashboard.settings import BUSINESS_TZ
from db.models import BranchFinancials, ClaimCase

CENT = Decimal("0.01")
SMALL_FAST_LIMIT = Decimal("12000")  # an estimate this small may be paid the fast way (快赔)
DEMO_BOOK = 2000  # the demo's usual number of cases: the stale cases below are for a book this size


@dataclass(frozen=True)
class Habits:
    """How a branch handles its claims (shares are of the cases they apply to)."""

    forced: float  # registrations forced by the customer
    withdrawn: float  # small motor claims withdrawn within days, the no-claim discount kept (a zero closure)
    refused: float  # claims closed without payment after the investigation (a zero closure)
    zero_reopen: float  # zero closures of motor claims the customer has reopened
    fast: float  # small claims paid the fast way
    speed: float  # days per step of the fast way
    paid_mean: float  # paid / estimate held at closing
    paid_spread: float
    stale: int  # cases pending over 180 days, in a book of DEMO_BOOK cases


HABITS = {
    "gd": Habits(forced=0.015, withdrawn=0.1, refused=0.04, zero_reopen=0.03, fast=0.85, speed=0.7,
                 paid_mean=0.97, paid_spread=0.05, stale=4),
    "zj": Habits(forced=0.025, withdrawn=0.12, refused=0.05, zero_reopen=0.08, fast=0.75, speed=0.9,
                 paid_mean=0.91, paid_spread=0.08, stale=10),
    "js": Habits(forced=0.04, withdrawn=0.14, refused=0.06, zero_reopen=0.14, fast=0.65, speed=1.0,
                 paid_mean=1.05, paid_spread=0.10, stale=20),
    "sc": Habits(forced=0.05, withdrawn=0.15, refused=0.07, zero_reopen=0.22, fast=0.6, speed=1.1,
                 paid_mean=0.85, paid_spread=0.14, stale=36),
}
_USUAL = Habits(forced=0.03, withdrawn=0.12, refused=0.05, zero_reopen=0.1, fast=0.7, speed=1.0, paid_mean=0.95,
                paid_spread=0.08, stale=10)


def habits_of(branch_code: str | None) -> Habits:
    return HABITS.get(branch_code or "", _USUAL)


# ---------------------------------------------------------------- along each demo case's life


def intake_facts(facts: random.Random, case: ClaimCase, habits: Habits) -> None:
    """What intake records for the scorecard: whether the customer forced the registration."""
    case.forced_registration = facts.random() < habits.forced


@dataclass(frozen=True)
class Settlement:
    moves: list[tuple[str, datetime]]  # the states the case went through, in order, with their moments
    paid: Decimal | None  # recorded on the move to "paid"
    zero: bool  # closed without payment
    reopened_at: datetime | None


LATER_STATES = ("investigating", "assessed", "approved", "paid", "closed")
_ZERO_STATES = ("investigating", "assessed", "closed")  # refused: closed after the investigation


def settlement(facts: random.Random, case: ClaimCase, habits: Habits, gaps: list[float] | None,
               reopen_draw: float | None, now: datetime) -> Settlement:
    """The way a demo case went after its estimate. `gaps`: the demo's days between its usual
    steps (None for a case under two days old, which only a withdrawal or the fast way moves);
    `reopen_draw`: the demo's draw for reopening a closed case (2 %: a supplementary payment)."""
    motor = case.business_line == "motor"
    estimate = case.current_estimate or Decimal(0)
    not_tiered = case.tier == "T0"
    w, z, f, r = facts.random(), facts.random(), facts.random(), facts.random()
    factor = min(1.35, max(0.45, facts.gauss(habits.paid_mean, habits.paid_spread)))
    # A forced registration is the doubtful claim: far more often refused in the end.
    refused_share = habits.refused * (1 if motor else 0.7) * (4 if case.forced_registration else 1)
    withdrawn = not_tiered and motor and w < habits.withdrawn
    zero = withdrawn or z < refused_share
    fast = not zero and estimate <= SMALL_FAST_LIMIT and f < habits.fast
    paid = None if zero else (estimate * Decimal(str(round(factor, 4)))).quantize(CENT)
    latest = now - timedelta(hours=1)
    started = case.first_estimated_at or case.report_time
    moves: list[tuple[str, datetime]] = []
    if withdrawn:
        at = started + timedelta(days=facts.uniform(0.05, 1.5))
        if at < latest:
            moves.append(("closed", at))
    elif fast:
        at = started + timedelta(days=facts.uniform(0.15, 0.8) * habits.speed)
        for state in LATER_STATES:
            at += timedelta(days=facts.uniform(0.3, 1.3) * habits.speed)
            if at >= latest:
                break
            moves.append((state, at))
    elif gaps is not None:
        at = case.report_time + timedelta(days=1)
        for state, gap in zip(LATER_STATES, gaps):
            at = min(latest, at + timedelta(days=gap))
            if not zero or state in _ZERO_STATES:
                moves.append((state, at))
    reopened_at = None
    if moves and moves[-1][0] == "closed":
        closed_at = moves[-1][1]
        if zero:
            if r < habits.zero_reopen * (1 if motor else 0.5):
                at = closed_at + timedelta(days=facts.uniform(2, 25))
                reopened_at = at if at < now - timedelta(minutes=30) else None
        elif reopen_draw is not None and reopen_draw < 0.02:
            reopened_at = min(now - timedelta(minutes=30), closed_at + timedelta(days=3))
    return Settlement(moves, paid, zero, reopened_at)


def skewed_small_estimate(cents: int, low: Decimal, high: Decimal) -> int:
    """An estimate below the first tier drawn uniformly (`cents`), made as a branch's small claims
    are: most of a few thousand yuan, few near the tier's bound (the same draw, the same band)."""
    low_c, high_c = int(low * 100), int(high * 100)
    share = (cents - low_c) / (high_c - low_c)
    return low_c + int((high_c - low_c) * share ** 3)


# ---------------------------------------------------------------- stale pending cases

_STALE_STORIES = (
    ("motor", "injury", "伤者仍在住院治疗，医疗费用尚未终结，待伤残鉴定后理算。"),
    ("motor", "collision", "客户未提交维修发票及索赔材料，已三次书面催告未果。"),
    ("motor", "collision", "双方对事故责任有争议，已起诉至法院，等待判决。"),
    ("motor", "theft", "车辆被盗，公安机关尚未出具未破案证明。"),
    ("liability", "injury", "第三者人伤诉讼中，法院尚未开庭。"),
    ("property", "fire", "火灾原因待消防部门认定，损失清单未确认。"),
    ("cargo", "property_damage", "货损责任在承运人之间有争议，等待追偿结果。"),
)
_STALE_NAMES = ("孙国强", "钱丽萍", "周海龙", "吴桂芳", "郑永胜", "冯晓红", "陈建伟", "褚秀英", "卫志明", "蒋春梅")
_PLATE = {"广东省": "粤", "浙江省": "浙", "江苏省": "苏", "四川省": "川"}


def _stale_cases(session: Session, org: DemoOrg, rng: random.Random, now: datetime) -> None:
    """A few cases per branch reported 6–16 months ago and still pending, as many as a branch of
    its habits has in a book of the demo's size (at least one each)."""
    book = session.scalar(select(func.count()).select_from(ClaimCase)) or 0
    call_center = load_actor(session, org.person("callcenter"))
    n = 0
    for branch in org.branches:
        manager = load_actor(session, org.person(f"{branch.code}_manager"))
        count = max(1, round(habits_of(branch.code).stale * book / DEMO_BOOK))
        for _ in range(count):
            n += 1
            sub = rng.choice(org.sub_branches[branch.code])
            line, accident, story = rng.choice(_STALE_STORIES)
            reported = now - timedelta(days=rng.uniform(185, 480), hours=rng.uniform(0, 12))
            name = rng.choice(_STALE_NAMES)
            motor = line == "motor"
            registered = register_case(session, call_center, CaseInput(
                case_no=f"R{reported.astimezone(BUSINESS_TZ):%Y%m%d}{branch.code.upper()}9{n:05d}",
                report_time=reported, accident_time=reported - timedelta(hours=rng.uniform(0.5, 30)),
                province=sub.province, city=sub.city, address=f"{sub.city}人民路{rng.randint(1, 400)}号",
                business_line=line, policy_no=f"P{line[:2].upper()}{reported.year}{rng.randint(10**9, 10**10 - 1)}",
                insured_name=name, driver_name=name if motor else None, reporter_name=name,
                reporter_phone=f"13{rng.randint(100000000, 999999999)}",
                plate_no=f"{_PLATE.get(sub.province or '', '粤')}{rng.choice('ABCDE')}{rng.randint(10000, 99999)}"
                if motor else None,
                vehicle_model=rng.choice(("丰田凯美瑞", "大众帕萨特", "比亚迪汉")) if motor else None,
                vehicle_age_years=rng.randint(1, 10) if motor else None, vehicle_use="private" if motor else None,
                accident_type=accident, sub_branch=sub.code, surveyor=rng.choice(sub.surveyors),
                forced_registration=rng.random() < 0.25, description=story,
                initial_estimate=str(rng.randint(20, 450) * 100)), now=reported + timedelta(minutes=25))
            case = session.get(ClaimCase, registered.case_id)
            at = reported + timedelta(days=rng.uniform(2, 10))
            case = advance_state(session, manager, case.id, "investigating", case.version, now=at)
            if rng.random() < 0.5:
                advance_state(session, manager, case.id, "assessed", case.version,
                              now=at + timedelta(days=rng.uniform(15, 90)))


# ---------------------------------------------------------------- the financial figures


@dataclass(frozen=True)
class Book:
    """A branch's finances: its premium a year (CNY, last year), growth, the loss-ratio budget (%)
    and how far its actual ratio runs from it (points, + worse; `drift` a month back), and its
    other entered figures."""

    premium: int
    growth: float
    budget: float
    off_budget: float
    drift: float
    noise: float
    ceded: float
    indirect_expense: float
    anti_fraud: float
    cross_region: float
    parts: float


BOOKS = {
    # 18 points: ≥ 2 better than budget; 15: 0–2 better; 10: 0–5 worse; 0: more than 5 worse.
    "gd": Book(860_000_000, 0.06, 60.0, -3.4, 0.0, 0.6, 0.09, 96, 88, 90, 92),
    "zj": Book(640_000_000, 0.09, 62.0, -1.0, -0.03, 0.45, 0.11, 103, 76, 84, 85),
    "js": Book(520_000_000, 0.04, 58.5, 2.6, 0.12, 1.1, 0.08, 108, 82, 71, 77),
    "sc": Book(310_000_000, 0.12, 64.0, 7.6, 0.08, 1.2, 0.14, 116, 63, 79, 69),
}
_USUAL_BOOK = Book(400_000_000, 0.06, 62.0, 0.0, 0.0, 1.0, 0.1, 102, 80, 80, 85)
# Premium by month (开门红 in the first quarter, a strong December), averaging 1.
_SEASON = (1.35, 0.8, 1.15, 0.9, 0.92, 1.1, 0.88, 0.9, 1.0, 0.85, 0.95, 1.2)
MONEY = ("premium", "ceded", "assumed", "unearned_change", "paid", "reserve_change", "reinsurance_paid",
         "reinsurance_recovered", "subrogation")


def _month_figures(book: Book, rng: random.Random, month: date, months_back: int, this_year: int,
                   share: float) -> dict[str, float]:
    """One month's figures by the loss-ratio formula (rules/scorecard.loss_ratio_pct), `share` of
    the month elapsed."""
    grown = (1 + book.growth) ** (month.year - this_year + 1)
    premium = book.premium / 12 * _SEASON[month.month - 1] * grown * rng.uniform(0.96, 1.04) * share
    ceded = premium * book.ceded * rng.uniform(0.9, 1.1)
    assumed = premium * rng.uniform(0.004, 0.02)
    unearned_change = premium * rng.uniform(-0.035, 0.02)
    earned = premium - ceded + assumed + unearned_change
    ratio = (book.budget + book.off_budget + book.drift * months_back
             + rng.uniform(-book.noise, book.noise)) / 100
    incurred = earned * ratio
    reserve_change = incurred * rng.uniform(-0.06, 0.1)
    reinsurance_paid = assumed * rng.uniform(0.4, 0.7)
    recovered = ceded * ratio * rng.uniform(0.85, 1.05)
    subrogation = incurred * rng.uniform(0.008, 0.025)
    paid = incurred - reserve_change - reinsurance_paid + recovered + subrogation
    return dict(premium=premium, ceded=ceded, assumed=assumed, unearned_change=unearned_change, paid=paid,
                reserve_change=reserve_change, reinsurance_paid=reinsurance_paid, reinsurance_recovered=recovered,
                subrogation=subrogation,
                indirect_expense_pct=book.indirect_expense + rng.uniform(-3, 3),
                anti_fraud_score=book.anti_fraud + rng.uniform(-5, 5),
                cross_region_score=book.cross_region + rng.uniform(-5, 5),
                parts_selection_pct=book.parts + rng.uniform(-3, 3))


def _typed(figures: dict[str, float], budget: float) -> dict[str, str]:
    """As HQ types them into the form: yuan to the cent, percentages to two places."""
    typed = {name: f"{Decimal(str(figures[name])).quantize(CENT)}" for name in MONEY}
    typed["loss_ratio_budget_pct"] = f"{budget:.2f}"
    typed["indirect_expense_pct"] = f"{figures['indirect_expense_pct']:.2f}"
    for name in ("anti_fraud_score", "cross_region_score", "parts_selection_pct"):  # out of 100
        typed[name] = f"{min(100.0, figures[name]):.2f}"
    return typed


def _entered_at(kind: str, start: date, now: datetime, rng: random.Random) -> datetime:
    """Figures of a closed period are entered in the first weeks after it; the current one's (to
    date) a little before now."""
    end = period_end(kind, start)
    moment = datetime.combine(end + timedelta(days=rng.randint(5, 15)), time(rng.randint(9, 17), rng.randint(0, 59)),
                              BUSINESS_TZ)
    return moment if moment < now - timedelta(hours=3) else now - timedelta(hours=rng.uniform(1, 3))


def financial_rows(org: DemoOrg, rng: random.Random, now: datetime) -> list[tuple[datetime, int, str, date, dict]]:
    """(entered at, branch id, period kind, period start, typed figures) for every branch: the last
    12 months, the last 4 quarters, this year and last; a quarter or year is the sum of its months."""
    today = now.astimezone(BUSINESS_TZ).date()
    this_month = period_start("month", today)
    elapsed = ((now.astimezone(BUSINESS_TZ).replace(tzinfo=None) - datetime.combine(this_month, time.min))
               / (datetime.combine(period_end("month", this_month), time.min) - datetime.combine(this_month, time.min)))
    months = previous_periods("month", this_month, 12 + today.month)  # all of last year and this year so far
    wanted = [("month", m) for m in previous_periods("month", this_month, 12)]
    wanted += [("quarter", q) for q in previous_periods("quarter", period_start("quarter", today), 4)]
    wanted += [("year", y) for y in previous_periods("year", period_start("year", today), 2)]
    rows = []
    for branch in org.branches:
        book = BOOKS.get(branch.code, _USUAL_BOOK)
        monthly = {m: _month_figures(book, rng, m, len(months) - 1 - i, today.year,
                                     max(0.05, elapsed) if m == this_month else 1.0)
                   for i, m in enumerate(months)}
        for kind, start in wanted:
            end = period_end(kind, start)
            parts = [f for m, f in monthly.items() if start <= m < end]
            summed = {name: sum(p[name] for p in parts) for name in MONEY}
            for name in ("indirect_expense_pct", "anti_fraud_score", "cross_region_score", "parts_selection_pct"):
                summed[name] = sum(p[name] for p in parts) / len(parts)
            rows.append((_entered_at(kind, start, now, rng), branch.id, kind, start, _typed(summed, book.budget)))
    rows.sort(key=lambda row: (row[0], row[1]))
    return rows


def _financials(session: Session, org: DemoOrg, rng: random.Random, now: datetime) -> None:
    admin = load_actor(session, org.person("admin"))
    for entered_at, branch_id, kind, start, typed in financial_rows(org, rng, now):
        version = session.scalar(select(BranchFinancials.version).where(
            BranchFinancials.branch_id == branch_id, BranchFinancials.period_kind == kind,
            BranchFinancials.period_start == start)) or 0
        save_financials(session, admin, kind, start, branch_id, typed, expected_version=version, now=entered_at)


def populate(session: Session, org: DemoOrg, rng: random.Random, now: datetime) -> None:
    _stale_cases(session, org, rng, now)
    _financials(session, org, rng, now)
