"""Default business rules (docs/DOMAIN.md values), seeded into the database as configuration.

Nothing here is read directly by a page to make a decision: the database copy (tier rule
sets, rule settings) is the authority at run time, so HQ can change it without a release.
These values are what a fresh database starts with.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")

# Positions a first responsible person can hold (分级管理办法 第一章 二.8).
SUB_CLAIMS_HEAD = "sub_claims_head"  # 三级机构理赔负责人
SUB_HEAD = "sub_head"  # 三级机构负责人
SUB_FINANCE_HEAD = "sub_finance_head"  # 三级机构财务负责人
BRANCH_CLAIMS_HEAD = "branch_claims_head"  # 分公司理赔负责人
BRANCH_FINANCE_HEAD = "branch_finance_head"  # 分公司财务负责人
BRANCH_GM = "branch_gm"  # 分公司总经理
# Not a tier post: the branch's motor / non-motor business department, a level of the special-case
# approval chain (特殊赔案理赔管理办法 四.2).
BRANCH_LINE_HEAD = "branch_line_head"  # 分公司车险/非车险管理部负责人

SUB_BRANCH_POSITIONS = (SUB_CLAIMS_HEAD, SUB_HEAD, SUB_FINANCE_HEAD)
BRANCH_POSITIONS = (BRANCH_CLAIMS_HEAD, BRANCH_FINANCE_HEAD, BRANCH_GM)
ALL_POSITIONS = SUB_BRANCH_POSITIONS + BRANCH_POSITIONS


@dataclass(frozen=True)
class DefaultTier:
    code: str
    lower_exclusive: Decimal
    upper_inclusive: Decimal | None
    positions: tuple[str, ...]
    hq_notice: bool = False


# docs/DOMAIN.md §3 tier table: lower bound exclusive, upper inclusive ("5万元<X≤12万元").
DEFAULT_TIERS: tuple[DefaultTier, ...] = (
    DefaultTier("T1", Decimal("50000"), Decimal("120000"), (SUB_CLAIMS_HEAD,)),
    DefaultTier("T2", Decimal("120000"), Decimal("500000"), (SUB_HEAD, SUB_FINANCE_HEAD)),
    DefaultTier("T3", Decimal("500000"), Decimal("1000000"), (BRANCH_CLAIMS_HEAD, BRANCH_FINANCE_HEAD)),
    DefaultTier("T4", Decimal("1000000"), None, (BRANCH_GM, BRANCH_CLAIMS_HEAD), hq_notice=True),
)
# 单保交强险: a tiered compulsory-only case always goes to T1's person.
COMPULSORY_ONLY_TIER = "T1"
# 分级管理办法 注意3: branches may split 50,000–500,000 into their own tiers.
BRANCH_SUBTIER_RANGE = (Decimal("50000"), Decimal("500000"))

# Rule settings stored in table rule_setting (key -> JSON value), docs/DOMAIN.md §4 hours.
# Special-case approval (特殊赔案理赔管理办法 四; docs/DOMAIN.md §8): the levels in order, and the
# highest payment each may approve. The source's table of limits is missing: these are defaults,
# to be kept as configuration HQ edits (issue 20); the branch GM approves whatever is left.
SPECIAL_APPROVAL_LEVELS = ("sub_claims_head", "sub_gm", "branch_line_dept", "branch_gm")
DEFAULT_SPECIAL_APPROVAL_LIMITS: dict[str, Decimal | None] = {
    "sub_claims_head": Decimal(10_000), "sub_gm": Decimal(50_000), "branch_line_dept": Decimal(200_000),
    "branch_gm": None,
}
# Who holds each level: the post, in the case's sub-branch (the first two) or its branch.
SPECIAL_APPROVER_POSITIONS: dict[str, str] = {
    "sub_claims_head": SUB_CLAIMS_HEAD, "sub_gm": SUB_HEAD, "branch_line_dept": BRANCH_LINE_HEAD,
    "branch_gm": BRANCH_GM,
}
SUB_BRANCH_APPROVAL_LEVELS = ("sub_claims_head", "sub_gm")

# The claim quality scorecard (理赔质量考核分类评价管理办法; docs/DOMAIN.md §9): per indicator its group,
# weight (%), where its value comes from, and how it is scored (rules/scorecard). The weights are the
# source's; the bands of all but the loss ratio are ours (the source's own are missing), stated on
# the page and kept in table scorecard_indicator for HQ to change.
# (key, group, weight, source, scoring, full, zero, target, unit)
DEFAULT_SCORECARD: tuple[tuple[str, str, int, str, str, object, object, object, str], ...] = (
    ("loss_ratio", "cost", 15, "entered", "loss_ratio_bands", None, None, None, "pct"),
    ("reserve_adequacy", "cost", 10, "computed", "closeness", None, 20, 100, "pct"),
    ("indirect_expense", "cost", 10, "entered", "linear", 100, 120, 100, "pct"),
    ("motor_avg_paid_over_10k", "cost", 5, "computed", "linear", 30000, 60000, None, "yuan"),
    ("first_estimate_deviation", "management", 5, "computed", "linear", 10, 50, None, "pct"),
    ("stale_pending_rate", "management", 5, "computed", "linear", 5, 30, None, "pct"),
    ("forced_registration_rate", "management", 5, "computed", "linear", 0, 10, None, "pct"),
    ("motor_zero_reopen_rate", "management", 5, "computed", "linear", 1, 10, None, "pct"),
    ("small_cycle_days", "service", 5, "computed", "linear", 10, 45, None, "days"),
    ("motor_small_transfer_days", "service", 5, "computed", "linear", 3, 15, None, "days"),
    ("handling_rate", "service", 5, "computed", "linear", 95, 60, None, "pct"),
    ("count_closure_rate", "service", 5, "computed", "linear", 90, 50, None, "pct"),
    ("amount_closure_rate", "service", 5, "computed", "linear", 80, 40, None, "pct"),
    ("anti_fraud", "special", 5, "entered", "linear", 100, 0, None, "score"),
    ("cross_region", "special", 5, "entered", "linear", 100, 0, None, "score"),
    ("parts_selection_rate", "special", 5, "entered", "linear", 95, 50, None, "pct"),
)

DEFAULT_RULE_SETTINGS: dict[str, object] = {
    "deadline.D1.hours": 24,  # surveyor uploads after dispatch
    "deadline.D2.hours": 24,  # first responsible on scene, photo uploaded
    "deadline.D3.hours": 72,  # investigation report
    "deadline.D4.day_end_offset_days": 1,  # HQ initial review: end of the next day
    "deadline.D5.hours": 48,  # branch answer per opinion point
    "deadline.D6.weekday": 4,  # Friday (Monday = 0)
    "deadline.D6.time": "17:00",
    "deadline.D7.hours": 48,  # progress reply to a supervision opinion
    "deadline.due_soon_hours": 24,  # amber on lists
    # How a clock counts (issue 22; docs/DOMAIN.md §4): "calendar" hours, or "working" time on the
    # working calendar. D1–D3 are always calendar hours (the source's 24 h / 72 h).
    "deadline.D4.mode": "working",  # end of the next *working* day
    "deadline.D5.mode": "calendar",
    "deadline.D7.mode": "calendar",
    # A Friday cut-off on a holiday moves to the last working day before it ("previous") or stays ("none").
    "deadline.D6.holiday_shift": "previous",
    # Early warnings (issue 22): a clock warns its responsible person when this share of its time
    # has gone, once per threshold (the breach is the violation's own message).
    "deadline.warn_first_pct": 50,
    "deadline.warn_second_pct": 80,
    # Delivery (issue 22): messages leave in working hours (working days of the calendar, from-until,
    # Asia/Shanghai); outside them they wait and go as one digest per person. A breach of a tiered
    # case estimated at or above the urgent amount goes at any hour. A failed delivery is retried
    # after retry_base_minutes × 2^(attempts − 1), up to max_attempts, then waits for HQ on the
    # delivery page (never dropped).
    "notify.work_from": "08:30",
    "notify.work_until": "18:00",
    "notify.urgent_amount": 1_000_000,
    "notify.retry_base_minutes": 1,
    "notify.max_attempts": 6,
    "overview.dispatch_within_hours": 1,  # share of cases dispatched within 1 h of the estimate
    "session.idle_minutes": 30,
    # A branch's highest claim authority (docs/DOMAIN.md §3: 500,000 is the top of the branch's own
    # range); an estimate above it makes the case major (§8). A branch may have its own (org_unit).
    "major.branch_authority": 500000,
    # An estimate above this (CNY) is saved only once the person confirms it: a real catastrophe
    # can be this large, a slip of the keyboard (1e9 for 1e5) usually is.
    "estimate.confirm_above": 50_000_000,
    # No report, accident or policy start date before this day is accepted (YYYY-MM-DD), on the
    # form or in an import: 1900-01-01 is a slip, not a case (rules/intake_fields.py).
    "intake.earliest_date": "2000-01-01",
    # Sign-in lockout: this many failures for one user name within the window lock it this long.
    "sign_in.max_failures": 5,
    "sign_in.window_minutes": 15,
    "sign_in.lock_minutes": 15,
    # Special-case approval limits (docs/DOMAIN.md §8; whole yuan, inclusive): the highest payment
    # each level approves; the branch GM approves whatever is above the last.
    "special.limit.sub_claims_head": 10_000,
    "special.limit.sub_gm": 50_000,
    "special.limit.branch_line_dept": 200_000,
    # A complaint, dispute or difficult case registered this many days ago without a return visit
    # appears on the overdue tracker (投诉处理制度 第九条: 处理结束后，须进行回访).
    "complaint.return_visit_days": 15,
    # The scorecard: a case pending longer than this is 滞案; "万元以下 / 以上" is this amount.
    "scorecard.stale_days": 180,
    "scorecard.small_claim": 10_000,
    # The case history's monthly partitions (migration 0034, jobs/maintain_partitions.py): made this
    # many months ahead; a month wholly older than the retention is detached into the `archive`
    # schema (docs/DOMAIN.md §2: claim material is kept at least five years; never deleted).
    "partitions.months_ahead": 3,
    "partitions.retention_months": 60,
}

# Business lines, vehicle uses, accident types and case states (docs/DOMAIN.md §2).
BUSINESS_LINES = ("motor", "property", "liability", "cargo", "life", "health", "accident")
VEHICLE_USES = ("private", "taxi", "motorcycle", "agricultural", "special")
ACCIDENT_TYPES = (
    "collision", "single_vehicle", "fire", "self_ignition", "theft", "flood",
    "total_loss", "injury", "death", "property_damage", "illness", "other",
)
CASE_STATES = (
    "reported", "surveyed", "dispatched", "investigating", "assessed", "approved", "paid",
    "closed", "reopened",
)


# Aggregate figures and charts (landing figures, executive overview) are kept this
# long per person before they are read again; work lists are always read live. See ui/read_cache.py.
FIGURES_CACHE_SECONDS = 60
