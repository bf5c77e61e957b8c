"""Demo data: the demo organisation and about 2,000 cases across states, lines and tiers.

    python -m dashboard.demo.load [--seed 42] [--cases 2000]

Deterministic for a seed (times are relative to now, so deadlines are open or overdue as a
person opening the dashboard today expects). Estimates go through the real dispatch service,
so tiers, dispatches, copies, notifications and deadline clocks are what production makes. A case
marked paid carries the amount paid, one closed without payment is a zero closure, some were forced
registrations (the scorecard's facts, each case on its own stream: dashboard/demo/scorecard.py).
Feature areas add their rows through `dashboard/demo/<area>.py: populate(session, org, rng, now)`.
"""
from __future__ import annotations

import argparse
import importlib
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.services.actor import load_actor
from dashboard.services.auth import hash_password
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.cases.history import record_event
from dashboard.services.partitions import ensure_partitions_for
from dashboard.services.cases.risk import active_risk_rules, classify_case
from dashboard.demo.org import DEMO_PASSWORD, DemoOrg, build_org
from dashboard.demo.scorecard import LATER_STATES, Habits, habits_of, intake_facts, settlement, skewed_small_estimate
from db.engine import OWNER, get_engine, normalise_url, owner_engine, session_factory
from db.models import ClaimCase, Person

# Feature areas that add demo rows, in the order they run (each optional until it exists).
POPULATE_MODULES = ("dashboard.demo.intake", "dashboard.demo.deadlines", "dashboard.demo.review",
                    "dashboard.demo.major", "dashboard.demo.special", "dashboard.demo.complaints",
                    "dashboard.demo.scorecard", "dashboard.demo.appeals")

_STREETS = ("人民路", "解放路", "中山路", "建设大道", "滨江路", "长江路", "环城北路", "天府大道", "科技园路",
            "东风路", "学府路", "工业大道", "新华街", "迎宾大道", "高新区创业路")
_MODELS = ("丰田凯美瑞", "大众帕萨特", "本田雅阁", "比亚迪汉", "特斯拉Model 3", "宝马5系", "奔驰E级",
           "别克GL8", "日产轩逸", "吉利星越L", "长安CS75", "理想L9", "解放J6重卡", "福田欧曼")
_PLATE_PREFIX = {"gd": "粤", "zj": "浙", "js": "苏", "sc": "川"}
_LINE_WEIGHTS = (("motor", 70), ("property", 8), ("liability", 6), ("cargo", 5), ("health", 5),
                 ("accident", 4), ("life", 2))
_MOTOR_ACCIDENTS = (("collision", 50), ("single_vehicle", 15), ("injury", 10), ("flood", 5), ("fire", 3),
                    ("self_ignition", 3), ("theft", 3), ("total_loss", 6), ("death", 5))
_OTHER_ACCIDENTS = {"property": "fire", "liability": "injury", "cargo": "property_damage", "health": "illness",
                    "accident": "injury", "life": "death"}
# Whole-case estimate bands: T0 / T1 / T2 / T3 / T4 (docs/DOMAIN.md §3 defaults).
_ESTIMATE_BANDS = ((Decimal("3000"), Decimal("50000"), 40), (Decimal("50000.01"), Decimal("120000"), 27),
                   (Decimal("120000.01"), Decimal("500000"), 20), (Decimal("500000.01"), Decimal("1000000"), 9),
                   (Decimal("1000000.01"), Decimal("4000000"), 4))
_LATER_STATES = LATER_STATES
# How far back the demo's history goes: the oldest pending cases of dashboard/demo/scorecard.py are
# reported up to 480 days ago.
DEMO_HISTORY_REACH = timedelta(days=500)


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights, k=1)[0]


def _estimate(rng: random.Random) -> Decimal:
    low, high, _ = rng.choices(_ESTIMATE_BANDS, weights=[b[2] for b in _ESTIMATE_BANDS], k=1)[0]
    cents = rng.randint(int(low * 100), int(high * 100))
    if low == _ESTIMATE_BANDS[0][0]:  # below the first tier most claims are small (the scorecard's 万元以下)
        cents = skewed_small_estimate(cents, low, high)
    return (Decimal(cents) / 100).quantize(Decimal("1")) if cents % 7 else Decimal(cents) / 100


def _case_row(rng: random.Random, org: DemoOrg, n: int, now: datetime) -> ClaimCase:
    branch = rng.choice(org.branches)
    sub = rng.choice(org.sub_branches[branch.code])
    line = _weighted(rng, _LINE_WEIGHTS)
    # Older cases are more numerous than today's: a pending book of ~4 months.
    age_hours = rng.choice((rng.uniform(0.5, 72), rng.uniform(72, 24 * 30), rng.uniform(24 * 30, 24 * 120)))
    report = now - timedelta(hours=age_hours)
    accident = report - timedelta(hours=rng.choice((0.3, 1, 2, 6, 20, 60)))
    motor = line == "motor"
    insured = org_names_insured(rng)
    driver = insured if rng.random() < 0.8 else org_names_insured(rng)
    return ClaimCase(
        case_no=f"R{report.astimezone(timezone(timedelta(hours=8))):%Y%m%d}{branch.code.upper()}{n:06d}",
        report_time=report, accident_time=accident, province=sub.province, city=sub.city,
        address=f"{rng.choice(_STREETS)}{rng.randint(1, 999)}号", business_line=line,
        policy_no=f"P{line[:2].upper()}{report.year}{rng.randint(10**9, 10**10 - 1)}",
        policy_start_date=(report - timedelta(days=rng.randint(3, 360))).date(),
        insured_name=insured, driver_name=driver if motor else None, reporter_name=rng.choice((insured, driver)),
        reporter_phone=f"1{rng.choice('3589')}{rng.randint(10**8, 10**9 - 1)}",
        plate_no=f"{_PLATE_PREFIX[branch.code]}{rng.choice('ABCDE')}{rng.randint(10000, 99999)}" if motor else None,
        vehicle_model=rng.choice(_MODELS) if motor else None,
        vehicle_age_years=rng.randint(0, 15) if motor else None, vehicle_imported=motor and rng.random() < 0.12,
        vehicle_sum_insured=Decimal(rng.randint(8, 150) * 10000) if motor else None,
        vehicle_use=_weighted(rng, (("private", 80), ("taxi", 8), ("motorcycle", 4), ("agricultural", 3),
                                    ("special", 5))) if motor else None,
        accident_type=_weighted(rng, _MOTOR_ACCIDENTS) if motor else _OTHER_ACCIDENTS[line],
        compulsory_only=motor and rng.random() < 0.05, branch_id=branch.id, sub_branch_id=sub.id,
        surveyor_id=rng.choice(sub.surveyors), state="reported",
        description=rng.choice(("雨天路滑追尾", "路口左转与直行车辆相撞", "停车场刮擦", "仓库夜间起火",
                                "货物运输途中受潮", "高速公路多车连环碰撞", "暴雨导致车辆涉水熄火",
                                "施工现场第三者受伤", "车辆行驶中自燃")),
        created_at=report,
    )


_DOUBT_REASONS = {"marks_mismatch": "碰撞痕迹高度与对方车辆不符", "old_damage": "左前翼子板有旧凹痕、锈迹",
                  "story_inconsistent": "报案称追尾，现场口述为倒车刮擦", "driver_swapped": "驾驶员与监控画面不一致",
                  "other": "维修厂与被保险人关系待核实"}


def _risk_facts(rng: random.Random, case: ClaimCase) -> None:
    """What the red / yellow / blue rule reads, for a motor case: mostly ordinary, some clearly
    fast-track, some with the surveyor's doubts (a real book has all three colours)."""
    if case.business_line != "motor":
        return
    fast = rng.random() < 0.3
    # Ages and imports as a branch's book has them (the case row's own draw was not made for this).
    case.vehicle_age_years = rng.randint(1, 8) if fast else rng.randint(0, 11)
    case.vehicle_imported = not fast and rng.random() < 0.05
    if fast:  # reported from the scene, in the half hour after
        case.accident_time = case.report_time - timedelta(minutes=rng.randint(10, 40))
        case.vehicle_use = "private"
    case.vehicle_sum_insured = Decimal(rng.randint(100, 1500) * 1000 if rng.random() < 0.04
                                       else rng.randint(60, 600) * 1000)
    big = not fast and rng.random() < 0.08
    case.vehicle_damage = Decimal(rng.randint(5, 48) * 100 if fast else rng.randint(500, 2000) * 100 if big
                                  else rng.randint(20, 450) * 100)
    case.property_damage = Decimal(rng.choice((0, 0, 300, 800))) if fast else Decimal(rng.choice((0, 500, 2000, 8000)))
    case.loss_ratio_pct = Decimal(rng.randint(0, 28)) if fast else Decimal(rng.randint(0, 90))
    case.claim_count = rng.randint(0, 2) if fast else _weighted(rng, ((0, 30), (1, 35), (2, 20), (3, 10), (4, 5)))
    case.accident_handling = rng.choice(("insurer_at_scene", "police")) if fast else _weighted(
        rng, (("insurer_at_scene", 35), ("police", 35), ("other", 20), ("private", 7), ("left_scene", 3)))
    if not fast and rng.random() < 0.06:
        doubt = rng.choice(tuple(_DOUBT_REASONS))
        case.surveyor_doubts, case.doubt_reason = [doubt], _DOUBT_REASONS[doubt]


_INSURED_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
_INSURED_GIVEN = ("建军", "秀珍", "国华", "丽娟", "志刚", "玉兰", "海涛", "小红", "振华", "美华", "家豪", "子轩")
_COMPANIES = ("宏达物流有限公司", "新世纪建材有限公司", "华南电子科技有限公司", "锦程运输有限公司",
              "天成食品有限公司", "恒通机械制造有限公司")


def org_names_insured(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return rng.choice(_COMPANIES)
    return rng.choice(_INSURED_SURNAMES) + rng.choice(_INSURED_GIVEN)


def _advance(session: Session, case: ClaimCase, rng: random.Random, now: datetime, actor_id: int,
             facts: random.Random, habits: Habits) -> None:
    """Move older cases along the life cycle, writing each transition to the history: the amount
    paid when marked paid, a zero closure (零结案) when closed without one (dashboard/demo/scorecard)."""
    age_days = (now - case.report_time).total_seconds() / 86400
    if age_days < 0.25:
        return
    gaps, reopen_draw = None, None
    if age_days >= 2:  # the case's draws on the demo's stream, as they always were
        steps = min(len(_LATER_STATES), int(age_days / 6) + rng.randint(0, 2))
        gaps = [rng.uniform(1, 6) for _ in range(steps)]
        reopen_draw = rng.random() if steps == len(_LATER_STATES) else None
    way = settlement(facts, case, habits, gaps, reopen_draw, now)
    if not way.moves and gaps is None:
        return
    for state, at in way.moves:
        paid = {"paid_amount": way.paid} if state == "paid" else {}
        record_event(session, case_id=case.id, actor_id=actor_id, kind="state_changed", at=at,
                     before=case.state, after=state, **paid)
        case.state = state
        if state == "paid":
            case.paid_amount = way.paid
        if state == "closed":
            case.closed_at = at
            if case.paid_amount is None:
                case.paid_amount, case.zero_closed = Decimal(0), True
    if way.reopened_at is not None:
        record_event(session, case_id=case.id, actor_id=actor_id, kind="state_changed", at=way.reopened_at,
                     before="closed", after="reopened")
        case.state, case.closed_at, case.reopen_count = "reopened", None, case.reopen_count + 1
    case.version += 1


def build_demo_org(session: Session) -> DemoOrg:
    """The demo organisation with each person's password hashed on its own (its own salt): one
    cracked hash must not show that every demo person has the same password (issue 25)."""
    return build_org(session, lambda: hash_password(DEMO_PASSWORD))


def generate(session: Session, *, seed: int = 42, cases: int = 2000, now: datetime | None = None,
             progress: bool = True) -> DemoOrg:
    now = clock.or_now(now)
    rng = random.Random(seed)
    org = build_demo_org(session)
    session.commit()
    call_center = load_actor(session, org.person("callcenter"))
    assert call_center is not None
    started = time.monotonic()
    risk_rules = active_risk_rules(session)
    branch_codes = {b.id: b.code for b in org.branches}
    for n in range(1, cases + 1):
        case = _case_row(rng, org, n, now)
        _risk_facts(random.Random(f"{seed}:risk:{n}"), case)  # its own stream: the cases stay as they were
        facts, habits = random.Random(f"{seed}:claim:{n}"), habits_of(branch_codes.get(case.branch_id))
        intake_facts(facts, case, habits)
        session.add(case)
        session.flush()
        classify_case(session, case, actor_id=call_center.person_id, now=case.report_time, rules=risk_rules,
                      record=False)
        record_event(session, case_id=case.id, actor_id=call_center.person_id, kind="case_registered",
                     at=case.report_time, case_no=case.case_no, risk_colour=case.risk_colour,
                     risk_criteria=list(case.risk_criteria or []))
        session.commit()
        fresh = now - case.report_time < timedelta(hours=12)
        if not (fresh and rng.random() < 0.4):  # some of today's cases still wait for the surveyor's estimate
            estimate_at = min(now - timedelta(minutes=5), case.report_time + timedelta(hours=rng.uniform(0.5, 8)))
            record_estimate(session, call_center, case.id, _estimate(rng), now=estimate_at)
            if rng.random() < 0.08:  # the surveyor revises the estimate upwards later
                later = min(now - timedelta(minutes=1), estimate_at + timedelta(hours=rng.uniform(2, 48)))
                record_estimate(session, call_center, case.id, (case.current_estimate * Decimal("1.8")).quantize(Decimal("0.01")), now=later,
                                note="补充查勘后上调估损")
            session.refresh(case)
            _advance(session, case, rng, now, call_center.person_id, facts, habits)
            session.commit()
        if progress and n % 500 == 0:
            print(f"[demo] {n} cases ({time.monotonic() - started:.0f} s)", flush=True)
    for name in POPULATE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.populate(session, org, random.Random(f"{seed}:{name}"), now)
        session.commit()
        if progress:  # the minutes after the cases are not silent: each part says when it is in
            print(f"[demo] {name.rsplit('.', 1)[-1]} ({time.monotonic() - started:.0f} s)", flush=True)
    return org


def database_is_empty(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(Person)) == 0


def load_demo_if_empty(url: str, *, seed: int = 42, cases: int = 2000) -> bool:
    """Load the demo only into an empty database (never over someone's data)."""
    # A lock held on its own connection: two launchers starting at once load the demo once.
    # As the tables' owner: the demo writes every branch's cases at once, history included.
    with owner_engine(url).connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(4242001)"))
        try:
            with session_factory(url, OWNER)() as session:
                if not database_is_empty(session):
                    return False
                # The months the demo back-dates into get their partitions first (the history's and
                # the outbox's), so its rows land in their months rather than in a default.
                now = clock.now()
                ensure_partitions_for(session, now - DEMO_HISTORY_REACH, now)
                session.commit()
                generate(session, seed=seed, cases=cases, now=now)
                return True
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(4242001)"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--url", default=None, help="database URL (default: DATABASE_URL)")
    args = parser.parse_args(argv)
    url = normalise_url(args.url) if args.url else get_engine().url.render_as_string(hide_password=False)
    loaded = load_demo_if_empty(url, seed=args.seed, cases=args.cases)
    print("demo data loaded" if loaded else "the database already holds data: nothing loaded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
