"""The claim quality scorecard of branches (理赔质量考核分类评价管理办法; docs/DOMAIN.md §9). Pure.

Sixteen indicators in four groups; a branch's total is Σ weight × the indicator's score, the score a
share of its weight (0–100 %; the overall loss ratio may earn 18 of its 15 points, as the source
gives). Weights, targets and scoring bands are configuration (table scorecard_indicator, seeded
from settings.DEFAULT_SCORECARD); this module scores a value by them.

- The overall loss ratio follows the source's formula and bands: its improvement against the
  budget target (budget − actual, percentage points): ≥ 2 → 18 points, 0 to 2 → 15, −5 to 0 → 10,
  below −5 → 0 (lower bounds inclusive: "下降在2%〔含〕以上得18分").
- Every other indicator is scored linearly between the value that earns it all (`full`) and the
  value that earns nothing (`zero`), which also says which way is better; "closeness" indicators
  (reserve adequacy, target 100 %) score the distance from their target the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

GROUPS = ("cost", "management", "service", "special")
LOSS_RATIO = "loss_ratio"
# The source's bands for the loss ratio: (lowest improvement in points, points earned), best first.
LOSS_RATIO_BANDS: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal(2), Decimal(18)), (Decimal(0), Decimal(15)), (Decimal(-5), Decimal(10)))
LOSS_RATIO_FULL_POINTS = Decimal(15)  # the 15 % weight: 18 points is 120 % of it
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class IndicatorRule:
    """How one indicator is weighed and scored (a row of scorecard_indicator)."""

    key: str
    group: str
    weight_pct: Decimal
    source: str  # "computed" from case data or "entered" per branch and period
    scoring: str  # "linear", "closeness" (to target), "loss_ratio_bands"
    full: Decimal | None = None  # linear: the value that earns the whole weight
    zero: Decimal | None = None  # linear: the value that earns nothing; closeness: the distance that does
    target: Decimal | None = None  # closeness: the aim (reserve adequacy 100 %); shown as the target
    unit: str = "pct"  # pct, days, yuan, score


def loss_ratio_pct(*, paid: Decimal, reserve_change: Decimal, reinsurance_paid: Decimal, reinsurance_recovered: Decimal,
                   subrogation: Decimal, premium: Decimal, ceded: Decimal, assumed: Decimal,
                   unearned_change: Decimal) -> Decimal | None:
    """综合赔付率 = (本年度已决赔款 + 未决赔款准备金提转差 + 分保赔款支出 − 摊回分保赔款 − 追偿款收入)
    / (当期保费收入 − 分出保费 + 分入保费 + 未到期责任准备金提转差) × 100%; None when the earned
    premium is not positive (no ratio can be stated)."""
    earned = premium - ceded + assumed + unearned_change
    if earned <= 0:
        return None
    incurred = paid + reserve_change + reinsurance_paid - reinsurance_recovered - subrogation
    return incurred / earned * HUNDRED


def loss_ratio_points(actual_pct: Decimal, budget_pct: Decimal) -> Decimal:
    """Points by the source's bands for the improvement against the budget (budget − actual)."""
    improvement = budget_pct - actual_pct
    for lowest, points in LOSS_RATIO_BANDS:
        if improvement >= lowest:
            return points
    return Decimal(0)


def score_pct(rule: IndicatorRule, value: Decimal | None, *, budget_pct: Decimal | None = None) -> Decimal | None:
    """The share of its weight the indicator earns (0–100; up to 120 for the loss ratio), None when
    the value (or, for the loss ratio, the budget) is missing: an indicator without data is shown
    as such and earns nothing, never a guess."""
    if value is None:
        return None
    if rule.scoring == "loss_ratio_bands":
        if budget_pct is None:
            return None
        return loss_ratio_points(value, budget_pct) / LOSS_RATIO_FULL_POINTS * HUNDRED
    if rule.scoring == "closeness":
        assert rule.target is not None and rule.zero is not None and rule.zero > 0
        distance = abs(value - rule.target)
        return max(Decimal(0), HUNDRED - distance / rule.zero * HUNDRED)
    assert rule.full is not None and rule.zero is not None and rule.full != rule.zero
    share = (value - rule.zero) / (rule.full - rule.zero)
    return min(HUNDRED, max(Decimal(0), share * HUNDRED))


def points(rule: IndicatorRule, score: Decimal | None) -> Decimal:
    """What the indicator adds to the branch's total: weight × score (0 without a score)."""
    return Decimal(0) if score is None else rule.weight_pct * score / HUNDRED


def weights_problem(rules: list[IndicatorRule]) -> str | None:
    """None when the weights are whole: every weight ≥ 0 and the sixteen sum to 100 %; else the
    i18n key of what is wrong."""
    if any(r.weight_pct < 0 for r in rules):
        return "scorecard.error.negative_weight"
    if sum((r.weight_pct for r in rules), Decimal(0)) != HUNDRED:
        return "scorecard.error.weights_sum"
    return None


# ---------------------------------------------------------------- periods

PERIOD_KINDS = ("year", "quarter", "month")


def period_start(kind: str, day: date) -> date:
    """The first day of the year / quarter / month holding `day`."""
    if kind == "year":
        return date(day.year, 1, 1)
    if kind == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if kind == "month":
        return date(day.year, day.month, 1)
    raise ValueError(f"unknown period kind {kind!r}")


def period_end(kind: str, start: date) -> date:
    """The first day after the period starting on `start`."""
    months = {"year": 12, "quarter": 3, "month": 1}[kind]
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def previous_periods(kind: str, start: date, n: int) -> list[date]:
    """The starts of the `n` periods ending with the one starting on `start`, oldest first."""
    months = {"year": 12, "quarter": 3, "month": 1}[kind]
    index = start.year * 12 + start.month - 1
    return [date((index - months * k) // 12, (index - months * k) % 12 + 1, 1) for k in range(n - 1, -1, -1)]


def period_label(kind: str, start: date) -> str:
    """2026 · 2026 Q4 · 2026-11: the same in both languages."""
    if kind == "year":
        return f"{start.year}"
    if kind == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return f"{start:%Y-%m}"
