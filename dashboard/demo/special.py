"""Demo special cases (特殊赔案), made through the real services in time order: about thirty requests
across the four branches over the months the case book covers, types A/B/C for key customers,
prospects and reputation cases, each chain length, approved, rejected at some level, and still
waiting at every level (some for gz_claims, gz_head, gd_line and gd_gm, so a newcomer signing in
as one of them finds a request to decide)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.demo.org import DemoOrg
from dashboard.services.actor import Actor, load_actor
from dashboard.services.errors import UserError
from dashboard.services.special_cases.approvals import SpecialRequest, decide_special, raise_special
from dashboard.settings import BUSINESS_TZ
from db.models import ClaimCase


@dataclass(frozen=True)
class _Planned:
    sub: str  # the sub-branch whose case is raised (its chain's holders follow from it)
    special_type: str
    customer_kind: str
    band: int  # 1: up to 1万 (one level), 2: up to 5万, 3: up to 20万, 4: above (the branch GM); 0: reputation
    outcome: str  # "approved", "rejected:<level index>", "pending:<level index>"
    amount: Decimal | None = None  # a payment on a limit itself (the limit is inclusive)
    circumstances: tuple[str, ...] = ()
    long_waiting: bool = False  # pending for a month: the chain stalls at a level


# 15 approved, 6 rejected, 9 pending at every level; every chain length; all four branches.
_PLAN: tuple[_Planned, ...] = (
    _Planned("gz", "B", "key_customer", 3, "pending:2"),  # waits for gd_line
    _Planned("gz", "A", "key_customer", 4, "pending:3"),  # waits for gd_gm
    _Planned("gz", "B", "prospect", 2, "pending:0"),  # waits for gz_claims
    _Planned("gz", "C", "key_customer", 3, "pending:1"),  # waits for gz_head
    _Planned("sz", "A", "reputation", 0, "pending:0", circumstances=("media_attention",)),  # waits for gd_gm
    _Planned("gz", "B", "key_customer", 2, "approved", amount=Decimal("50000.00")),
    _Planned("sz", "B", "key_customer", 3, "approved"),
    _Planned("fs", "A", "prospect", 1, "approved"),
    _Planned("gz", "A", "key_customer", 4, "approved"),
    _Planned("sz", "C", "key_customer", 2, "rejected:1"),
    _Planned("hz", "B", "key_customer", 3, "approved"),
    _Planned("hz", "A", "key_customer", 2, "approved"),
    _Planned("nb", "B", "prospect", 4, "rejected:3"),
    _Planned("wz", "C", "key_customer", 1, "approved"),
    _Planned("hz", "B", "key_customer", 1, "pending:0"),
    _Planned("nb", "A", "reputation", 0, "approved"),
    _Planned("wz", "B", "key_customer", 3, "pending:1", long_waiting=True),
    _Planned("nj", "B", "key_customer", 2, "approved"),
    _Planned("su", "A", "key_customer", 3, "approved"),
    _Planned("su", "B", "prospect", 2, "rejected:0"),
    _Planned("wx", "C", "key_customer", 4, "approved"),
    _Planned("nj", "B", "key_customer", 3, "rejected:2"),
    _Planned("nj", "A", "key_customer", 2, "pending:1"),
    _Planned("su", "B", "key_customer", 1, "approved"),
    _Planned("cd", "B", "key_customer", 2, "approved"),
    _Planned("cd", "A", "reputation", 0, "rejected:0"),
    _Planned("my", "B", "key_customer", 3, "approved"),
    _Planned("dy", "C", "key_customer", 2, "approved"),
    _Planned("cd", "B", "prospect", 3, "pending:2"),
    _Planned("my", "A", "key_customer", 1, "rejected:0"),
)
# The requested payment's range per band (yuan), inside the default limits 10,000 / 50,000 / 200,000.
_BANDS = {0: (5_000, 300_000), 1: (2_000, 10_000), 2: (10_100, 50_000), 3: (50_100, 200_000), 4: (200_100, 900_000)}
# The case estimates that fit a band (a special payment is of the size of the claim).
_FITTING_ESTIMATE = {0: (3_000, 1_000_000), 1: (3_000, 15_000), 2: (10_000, 70_000), 3: (45_000, 260_000),
                     4: (180_000, 1_500_000)}

_CUSTOMERS = ("宏达物流有限公司", "新世纪建材有限公司", "华南电子科技有限公司", "锦程运输有限公司", "天成食品有限公司",
              "恒通机械制造有限公司", "顺安客运集团", "金桥汽车销售服务有限公司", "东方冷链物流有限公司", "长兴建设集团")
_REASONS = {
    "A": ("驾驶员驾驶证逾期未审验，按条款属责任免除；{customer}为我司车队业务重点客户，建议通融赔付车损部分。",
          "车辆使用性质变更未通知保险人，按条款可拒赔；{customer}系本地车商渠道合作方，建议按核定损失通融赔付。",
          "车辆未按规定年检，属免责情形；{customer}连续五年在我司投保，历年赔付率低，建议通融赔付。",
          "货物损失系包装不当所致，属除外责任；{customer}货运险保费规模较大，建议给予部分通融。"),
    "B": ("{customer}要求按4S店原厂配件价格赔付，超出核定配件价格，经多次沟通仍坚持原诉求。",
          "{customer}要求赔偿车辆贬值损失，条款不予赔偿，客户表示否则将不再续保。",
          "{customer}要求赔付停运损失及代步车费用，超出正常核定范围。",
          "伤者家属要求按城镇居民标准计算赔偿，核定按农村居民标准，{customer}出面协调要求按高标准赔付。"),
    "C": ("{customer}为重点客户，事故现场未报警，无法提供事故认定书；经查勘核实事故真实，建议在缺少认定书的情况下赔付。",
          "{customer}拒绝提供维修发票，要求按定损金额直接赔付；经核实损失真实，金额合理。",
          "{customer}车辆驾驶员已离职，无法配合制作询问笔录；现场痕迹与报案经过一致，建议按核定金额赔付。"),
}
_BACKGROUNDS = ("省属重点国有企业，当地媒体关注度高，处理不当可能引发负面舆情。",
                "客户为当地知名企业家，已在社交媒体发文质疑理赔时效，需妥善处理以维护公司声誉。",
                "涉事车辆属校车运营单位，社会关注度高，当地监管部门已电话了解情况。")
_APPROVALS = {
    "sub_claims_head": ("情况属实，客户业务贡献已核实，同意上报。", "同意，请做好与客户的沟通记录并留存资料。"),
    "sub_gm": ("同意，业务部门需跟进续保及保费到账情况。", "经与业务部门核实，同意通融，上报分公司。"),
    "branch_line_dept": ("经车险部核实客户保费贡献属实，同意。", "同意，纳入本季度特殊赔案考核，与受益部门费用挂钩。"),
    "branch_gm": ("同意按申请金额赔付，此类案件今后须从严掌握。", "同意，请理赔部门做好客户回访并跟踪续保。"),
}
_REJECTIONS = ("客户历年赔付率已超过70%，通融理由不充分，不同意。", "超出条款责任范围过大，建议按正常理赔流程处理。",
               "预期保费无书面承诺，不同意通融。", "该客户今年已有一起特殊赔案，不同意再次通融。")


def _yuan(rng: random.Random, low: int, high: int) -> Decimal:
    """A payment in whole hundreds of yuan between the bounds."""
    return Decimal(rng.randint(low // 100 + (low % 100 > 0), high // 100) * 100)


def _hundreds(amount: Decimal) -> Decimal:
    return Decimal(int(amount) // 100 * 100)


def _request(rng: random.Random, plan: _Planned, raised_at: datetime) -> SpecialRequest:
    low, high = _BANDS[plan.band]
    requested = plan.amount if plan.amount is not None else _yuan(rng, low, high)
    if plan.special_type == "A":  # clearly excluded: the normal flow pays nothing
        normal = Decimal(0)
    elif plan.special_type == "B":  # covered: the customer asks for more than the normal payment
        normal = _hundreds(requested * Decimal(str(round(rng.uniform(0.55, 0.85), 2))))
    else:  # documents missing: the normal flow could pay part at most
        normal = Decimal(0) if rng.random() < 0.5 else _hundreds(requested / 2)
    customer = rng.choice(_CUSTOMERS)
    request = SpecialRequest(special_type=plan.special_type, customer_kind=plan.customer_kind,
                             circumstances=list(plan.circumstances), requested_amount=str(requested),
                             normal_amount=str(normal),
                             reason=rng.choice(_REASONS[plan.special_type]).format(customer=customer))
    if plan.customer_kind == "key_customer":
        written = rng.randint(30, 500) * 10_000
        request.policy_numbers = ", ".join(f"PDAA{raised_at.year}{rng.randint(10**9, 10**10 - 1)}"
                                           for _ in range(rng.randint(1, 3)))
        request.premium_written = str(written)
        request.premium_collected = str(int(written * rng.uniform(0.85, 1.0)) // 100 * 100)
        request.paid_losses = str(int(written * rng.uniform(0.15, 0.55)) // 100 * 100)
        request.pending_losses = str(int(written * rng.uniform(0.02, 0.12)) // 100 * 100)
        request.past_loss_ratio_pct = f"{rng.uniform(25, 68):.1f}"
    elif plan.customer_kind == "prospect":
        request.expected_premium = str(rng.randint(20, 300) * 10_000)
        request.expected_premium_on = raised_at.astimezone(BUSINESS_TZ).date() + timedelta(days=rng.randint(30, 120))
        request.reason += f"{customer}正与我司洽谈团体车险业务，预计年内签约。"
    else:
        request.customer_background = rng.choice(_BACKGROUNDS)
    return request


def _raise_times(rng: random.Random, now: datetime, oldest_case: datetime) -> list[datetime]:
    """One raising moment per planned request: decided ones spread evenly over the months the case
    book covers (so the report ranks units month by month), pending ones in the last two weeks
    (one left waiting for a month)."""
    span_days = max(8.0, min(115.0, (now - oldest_case).total_seconds() / 86400 - 5))
    decided = [p for p in _PLAN if not p.outcome.startswith("pending")]
    ages = [6 + (span_days - 6) * (i + rng.random()) / len(decided) for i in range(len(decided))]
    rng.shuffle(ages)
    out, spread = [], iter(ages)
    for plan in _PLAN:
        if plan.outcome.startswith("pending"):
            age = rng.uniform(24, 30) if plan.long_waiting else rng.uniform(0.3, 12)
        else:
            age = next(spread)
        out.append(now - timedelta(days=min(age, span_days)))
    return out


class _Cases:
    """The demo's cases with an estimate, to pick one per request: of the planned sub-branch,
    reported before the request, its estimate of the payment's size where there is one."""

    def __init__(self, session: Session) -> None:
        self.rows = session.execute(
            select(ClaimCase.id, ClaimCase.sub_branch_id, ClaimCase.branch_id, ClaimCase.report_time,
                   ClaimCase.current_estimate, ClaimCase.state)
            .where(ClaimCase.current_estimate.is_not(None)).order_by(ClaimCase.id)).all()
        self.used: set[int] = set()

    def pick(self, rng: random.Random, sub_id: int, branch_id: int, plan: _Planned, raised_at: datetime):
        low, high = _FITTING_ESTIMATE[plan.band]
        pending = plan.outcome.startswith("pending")

        def fits(row, *, size: bool, unit: bool, recent: bool) -> bool:
            return (row.id not in self.used and row.report_time < raised_at - timedelta(hours=20)
                    and (not unit or row.sub_branch_id == sub_id) and row.branch_id == branch_id
                    and (not recent or row.report_time > raised_at - timedelta(days=45))
                    and (not size or low <= row.current_estimate <= high)
                    and (not pending or row.state != "closed"))

        for strict in ((True, True, True), (False, True, True), (False, True, False), (False, False, False)):
            found = [r for r in self.rows if fits(r, size=strict[0], unit=strict[1], recent=strict[2])]
            if found:
                row = rng.choice(found)
                self.used.add(row.id)
                return row
        return None


def populate(session: Session, org: DemoOrg, rng: random.Random, now: datetime) -> None:
    cases = _Cases(session)
    if not cases.rows:
        return
    actors: dict[str, Actor] = {}

    def actor(username: str) -> Actor:
        if username not in actors:
            found = load_actor(session, org.person(username))
            assert found is not None, username
            actors[username] = found
        return actors[username]

    sub_code = {s.id: s.code for subs in org.sub_branches.values() for s in subs}
    branch_code = {b.id: b.code for b in org.branches}
    holders = {"sub_claims_head": "{sub}_claims", "sub_gm": "{sub}_head", "branch_line_dept": "{branch}_line",
               "branch_gm": "{branch}_gm"}
    oldest = min(r.report_time for r in cases.rows)
    planned = sorted(zip(_raise_times(rng, now, oldest), _PLAN), key=lambda pair: pair[0])
    for raised_at, plan in planned:
        sub = org.sub_branch(plan.sub)
        branch_id = next(b.id for b in org.branches if sub in org.sub_branches[b.code])
        row = cases.pick(rng, sub.id, branch_id, plan, raised_at)
        if row is None:
            continue
        branch = branch_code[row.branch_id]
        raiser = actor(f"{branch}_{rng.choice(('manager', 'tracker'))}")
        try:
            special = raise_special(session, raiser, row.id, _request(rng, plan, raised_at), now=raised_at)
        except UserError:
            session.rollback()
            continue
        status, _, level = plan.outcome.partition(":")
        decisions = len(special.chain) if status == "approved" else min(int(level), len(special.chain) - 1)
        rejected_at = int(level) if status == "rejected" else None
        # Each level decides a few hours to two days after the one before, all before now.
        gaps = [rng.uniform(3, 48) for _ in range(decisions + (rejected_at is not None))]
        room = (now - raised_at).total_seconds() / 3600 * 0.9
        scale = min(1.0, room / sum(gaps)) if gaps else 1.0
        at = raised_at
        for n, gap in enumerate(gaps):
            at += timedelta(hours=gap * scale)
            level_name = special.chain[special.next_level]
            username = holders[level_name].format(sub=sub_code[row.sub_branch_id], branch=branch)
            rejecting = rejected_at is not None and n == len(gaps) - 1
            comment = rng.choice(_REJECTIONS) if rejecting else rng.choice(_APPROVALS[level_name])
            special = decide_special(session, actor(username), special.id, "rejected" if rejecting else "approved",
                                     comment, expected_version=special.version, now=at)
