"""Red / yellow / blue motor claims (车险理赔“红、黄、蓝”案件操作细则; docs/DOMAIN.md §6). Pure.

Any red criterion → red; every blue criterion → blue; otherwise yellow. The result names the
criteria that fired (red) or held (blue), so a person sees why a case has its colour.

Boundaries, decided here from the source's words ("≥"/"等于或大于" and "≤"/"小于或等于" inclusive):
- Times are the accident's local time (Asia/Shanghai) to the minute, seconds ignored.
  Night (red) "22 时至凌晨 5 时": 22:00 ≤ t or t ≤ 05:00, both ends inclusive.
  Day (blue) "早上 8 时至下午 19 时": 08:00 ≤ t ≤ 19:00, both ends inclusive.
- New policy (red) "保险责任起期 7 天内出险": 0 ≤ accident date − policy start date ≤ 7 days
  (calendar days, inclusive); an accident before the policy start is not this criterion.
- Late report (red) "报案时间超过 48 小时": report − accident > 48 h (exactly 48 h is not late).
  Immediate report (blue) "立即报案": report − accident ≤ `immediate_report_hours` (default 2 h:
  the source gives no number; configurable).
- Old vehicle: age ≥ `old_vehicle_years` (default 10: the source says only 老旧车型; configurable).
  Luxury: sum insured ≥ 1,000,000 ("100 万元以上" read as ≥). Rare or special vehicles are
  recorded as use `special`.
- Vehicle damage (red) "车损金额等于或大于 5 万": ≥ 50,000. Blue "小于或等于 5000 元": ≤ 5,000,
  and property damage ≤ 1,000.
- Loss ratio (red) "满期赔付率大于或等于 60% 且出险频度大于或等于 3 次": ≥ 60 % and ≥ 3 claims.
  Blue: ≤ 30 % and ≤ 2 claims.
- Who reported (red) "被保险人与驾驶人不同人，且非以上人员报案": insured ≠ driver and the reporter
  is neither (names compared after trimming spaces).
- What is not known cannot fire a red criterion and cannot meet a blue one: a case missing an
  input is yellow unless something known makes it red. So a case becomes blue only on evidence.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal

RED, YELLOW, BLUE = "red", "yellow", "blue"
COLOURS = (RED, YELLOW, BLUE)

RED_CRITERIA = (
    "night_accident", "new_policy", "late_report", "old_vehicle", "imported_vehicle", "luxury_vehicle",
    "special_vehicle", "large_vehicle_damage", "self_ignition", "theft", "fire", "total_loss",
    "high_loss_ratio", "settled_privately", "left_scene", "outsider_reported", "surveyor_doubt",
)
BLUE_CRITERIA = ("day_accident", "immediate_report", "ordinary_vehicle", "small_damage", "low_loss_ratio",
                 "handled_at_scene")
# How the accident was handled (处理方式).
HANDLINGS = ("insurer_at_scene", "police", "private", "left_scene", "other")
# What the surveyor doubted (查勘定损人员发现的一切有疑问的案件).
DOUBTS = ("marks_mismatch", "old_damage", "story_inconsistent", "driver_swapped", "other")
# Accident types that are red by themselves (自燃、盗抢、火灾、全损).
_RED_ACCIDENTS = {"self_ignition": "self_ignition", "theft": "theft", "fire": "fire", "total_loss": "total_loss"}
_NOT_ORDINARY_USES = frozenset({"taxi", "motorcycle", "agricultural", "special"})


@dataclass(frozen=True)
class RiskThresholds:
    """The numbers of the rule (docs/DOMAIN.md §6 defaults); HQ edits them as a versioned rule set."""

    night_from_hour: int = 22
    night_to_hour: int = 5
    day_from_hour: int = 8
    day_to_hour: int = 19
    new_policy_days: int = 7
    late_report_hours: int = 48
    immediate_report_hours: int = 2
    old_vehicle_years: int = 10
    luxury_sum_insured: Decimal = Decimal(1_000_000)
    red_vehicle_damage: Decimal = Decimal(50_000)
    blue_vehicle_damage: Decimal = Decimal(5_000)
    blue_property_damage: Decimal = Decimal(1_000)
    red_loss_ratio_pct: Decimal = Decimal(60)
    red_claim_count: int = 3
    blue_loss_ratio_pct: Decimal = Decimal(30)
    blue_claim_count: int = 2

    @classmethod
    def from_mapping(cls, values: dict) -> RiskThresholds:
        """From stored JSON (numbers or text); keys not given keep their default."""
        kinds = {f.name: f.type for f in fields(cls)}
        return cls(**{k: (Decimal(str(v)) if kinds[k] == "Decimal" else int(v))
                      for k, v in values.items() if k in kinds})

    def as_mapping(self) -> dict[str, str | int]:
        return {f.name: (str(getattr(self, f.name)) if isinstance(getattr(self, f.name), Decimal)
                         else getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class RiskInputs:
    """What the rule reads from a motor case; None where the case does not say."""

    accident_time: datetime  # local (Asia/Shanghai) wall time
    report_time: datetime
    policy_start_date: date | None = None
    vehicle_age_years: int | None = None
    vehicle_imported: bool = False
    vehicle_sum_insured: Decimal | None = None
    vehicle_use: str | None = None
    accident_type: str | None = None
    vehicle_damage: Decimal | None = None
    property_damage: Decimal | None = None
    loss_ratio_pct: Decimal | None = None
    claim_count: int | None = None
    handling: str | None = None
    insured_name: str | None = None
    driver_name: str | None = None
    reporter_name: str | None = None
    doubts: tuple[str, ...] = ()


@dataclass(frozen=True)
class RiskResult:
    colour: str
    red: tuple[str, ...]  # red criteria that fired, in RED_CRITERIA order
    blue: tuple[str, ...]  # blue criteria that held (all of them for a blue case)

    @property
    def criteria(self) -> tuple[str, ...]:
        """Why the case has its colour, as the case keeps it: the red criteria that fired, the blue
        ones that all held, or for yellow the blue criteria it lacks."""
        if self.colour == RED:
            return self.red
        return self.blue if self.colour == BLUE else self.missing_blue

    @property
    def missing_blue(self) -> tuple[str, ...]:
        return tuple(c for c in BLUE_CRITERIA if c not in self.blue)


def _minute_of_day(at: datetime) -> int:
    return at.hour * 60 + at.minute


def _night(at: datetime, t: RiskThresholds) -> bool:
    m = _minute_of_day(at)
    return m >= t.night_from_hour * 60 or m <= t.night_to_hour * 60


def _day(at: datetime, t: RiskThresholds) -> bool:
    return t.day_from_hour * 60 <= _minute_of_day(at) <= t.day_to_hour * 60


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").strip() == (b or "").strip()


def _red(i: RiskInputs, t: RiskThresholds) -> list[str]:
    fired: list[str] = []
    delay = i.report_time - i.accident_time
    if _night(i.accident_time, t):
        fired.append("night_accident")
    if i.policy_start_date is not None and \
            0 <= (i.accident_time.date() - i.policy_start_date).days <= t.new_policy_days:
        fired.append("new_policy")
    if delay > timedelta(hours=t.late_report_hours):
        fired.append("late_report")
    if i.vehicle_age_years is not None and i.vehicle_age_years >= t.old_vehicle_years:
        fired.append("old_vehicle")
    if i.vehicle_imported:
        fired.append("imported_vehicle")
    if i.vehicle_sum_insured is not None and i.vehicle_sum_insured >= t.luxury_sum_insured:
        fired.append("luxury_vehicle")
    if i.vehicle_use == "special":
        fired.append("special_vehicle")
    if i.vehicle_damage is not None and i.vehicle_damage >= t.red_vehicle_damage:
        fired.append("large_vehicle_damage")
    if i.accident_type in _RED_ACCIDENTS:
        fired.append(_RED_ACCIDENTS[i.accident_type])
    if i.loss_ratio_pct is not None and i.claim_count is not None and \
            i.loss_ratio_pct >= t.red_loss_ratio_pct and i.claim_count >= t.red_claim_count:
        fired.append("high_loss_ratio")
    if i.handling == "private":
        fired.append("settled_privately")
    if i.handling == "left_scene":
        fired.append("left_scene")
    if i.insured_name and i.driver_name and i.reporter_name and not _same(i.insured_name, i.driver_name) \
            and not _same(i.reporter_name, i.insured_name) and not _same(i.reporter_name, i.driver_name):
        fired.append("outsider_reported")
    if i.doubts:
        fired.append("surveyor_doubt")
    return sorted(fired, key=RED_CRITERIA.index)


def _blue(i: RiskInputs, t: RiskThresholds) -> list[str]:
    held: list[str] = []
    if _day(i.accident_time, t):
        held.append("day_accident")
    if timedelta(0) <= i.report_time - i.accident_time <= timedelta(hours=t.immediate_report_hours):
        held.append("immediate_report")
    if i.vehicle_age_years is not None and i.vehicle_age_years < t.old_vehicle_years and \
            i.vehicle_use is not None and i.vehicle_use not in _NOT_ORDINARY_USES:
        held.append("ordinary_vehicle")
    if i.vehicle_damage is not None and i.property_damage is not None and \
            i.vehicle_damage <= t.blue_vehicle_damage and i.property_damage <= t.blue_property_damage:
        held.append("small_damage")
    if i.loss_ratio_pct is not None and i.claim_count is not None and \
            i.loss_ratio_pct <= t.blue_loss_ratio_pct and i.claim_count <= t.blue_claim_count:
        held.append("low_loss_ratio")
    if i.handling in ("insurer_at_scene", "police"):
        held.append("handled_at_scene")
    return held


def classify(inputs: RiskInputs, thresholds: RiskThresholds = RiskThresholds()) -> RiskResult:
    """The case's colour and the criteria behind it."""
    red, blue = _red(inputs, thresholds), _blue(inputs, thresholds)
    if red:
        return RiskResult(RED, tuple(red), tuple(blue))
    if len(blue) == len(BLUE_CRITERIA):
        return RiskResult(BLUE, (), tuple(blue))
    return RiskResult(YELLOW, (), tuple(blue))
