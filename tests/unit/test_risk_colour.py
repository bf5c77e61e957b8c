"""The red / yellow / blue rule (docs/DOMAIN.md §6): any red criterion → red, every blue criterion → blue,
else yellow; each boundary the rule's docstring states, on both sides."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from dashboard.rules.risk_colour import (
    BLUE, BLUE_CRITERIA, RED, RED_CRITERIA, YELLOW, RiskInputs, RiskThresholds, classify,
)

AT = datetime(2026, 12, 3, 10, 0)
# Every blue criterion holds; nothing red: the fast-track case the others are varied from.
BLUE_CASE = RiskInputs(
    accident_time=AT, report_time=AT + timedelta(minutes=30), policy_start_date=date(2026, 3, 1),
    vehicle_age_years=3, vehicle_imported=False, vehicle_sum_insured=Decimal(150_000), vehicle_use="private",
    accident_type="collision", vehicle_damage=Decimal(3_000), property_damage=Decimal(500),
    loss_ratio_pct=Decimal(20), claim_count=1, handling="police",
    insured_name="张三", driver_name="张三", reporter_name="张三",
)


def at_time(hour: int, minute: int = 0) -> dict:
    accident = AT.replace(hour=hour, minute=minute)
    return dict(accident_time=accident, report_time=accident + timedelta(minutes=30))


CASES = [
    # (what changes, expected colour, the criterion that must be named)
    ("the fast-track case", {}, BLUE, None),
    ("22:00 is night", at_time(22, 0), RED, "night_accident"),
    ("21:59 is not night (nor day)", at_time(21, 59), YELLOW, None),
    ("05:00 is still night", at_time(5, 0), RED, "night_accident"),
    ("05:01 is not night", at_time(5, 1), YELLOW, None),
    ("08:00 is day", at_time(8, 0), BLUE, "day_accident"),
    ("07:59 is not day", at_time(7, 59), YELLOW, None),
    ("19:00 is day", at_time(19, 0), BLUE, "day_accident"),
    ("19:01 is not day", at_time(19, 1), YELLOW, None),
    ("7 days after the policy start", dict(policy_start_date=date(2026, 11, 26)), RED, "new_policy"),
    ("8 days after the policy start", dict(policy_start_date=date(2026, 11, 25)), BLUE, None),
    ("on the policy start day", dict(policy_start_date=date(2026, 12, 3)), RED, "new_policy"),
    ("reported 48 h after: not late, not immediate", dict(report_time=AT + timedelta(hours=48)), YELLOW, None),
    ("reported 48 h 1 min after", dict(report_time=AT + timedelta(hours=48, minutes=1)), RED, "late_report"),
    ("reported 2 h after is immediate", dict(report_time=AT + timedelta(hours=2)), BLUE, "immediate_report"),
    ("reported 2 h 1 min after is not", dict(report_time=AT + timedelta(hours=2, minutes=1)), YELLOW, None),
    ("a vehicle of 10 years is old", dict(vehicle_age_years=10), RED, "old_vehicle"),
    ("a vehicle of 9 years is not", dict(vehicle_age_years=9), BLUE, None),
    ("an imported vehicle", dict(vehicle_imported=True), RED, "imported_vehicle"),
    ("sum insured 1,000,000", dict(vehicle_sum_insured=Decimal(1_000_000)), RED, "luxury_vehicle"),
    ("sum insured 999,999.99", dict(vehicle_sum_insured=Decimal("999999.99")), BLUE, None),
    ("a special vehicle", dict(vehicle_use="special"), RED, "special_vehicle"),
    ("a taxi is not blue", dict(vehicle_use="taxi"), YELLOW, None),
    ("a motorcycle is not blue", dict(vehicle_use="motorcycle"), YELLOW, None),
    ("vehicle damage 50,000", dict(vehicle_damage=Decimal(50_000)), RED, "large_vehicle_damage"),
    ("vehicle damage 49,999.99 (yellow)", dict(vehicle_damage=Decimal("49999.99")), YELLOW, None),
    ("vehicle damage 5,000 is small", dict(vehicle_damage=Decimal(5_000)), BLUE, "small_damage"),
    ("vehicle damage 5,000.01 is not", dict(vehicle_damage=Decimal("5000.01")), YELLOW, None),
    ("property damage 1,000 is small", dict(property_damage=Decimal(1_000)), BLUE, "small_damage"),
    ("property damage 1,000.01 is not", dict(property_damage=Decimal("1000.01")), YELLOW, None),
    ("self-ignition", dict(accident_type="self_ignition"), RED, "self_ignition"),
    ("theft", dict(accident_type="theft"), RED, "theft"),
    ("fire", dict(accident_type="fire"), RED, "fire"),
    ("total loss", dict(accident_type="total_loss"), RED, "total_loss"),
    ("loss ratio 60 % and 3 claims", dict(loss_ratio_pct=Decimal(60), claim_count=3), RED, "high_loss_ratio"),
    ("loss ratio 60 % and 2 claims (yellow)", dict(loss_ratio_pct=Decimal(60), claim_count=2), YELLOW, None),
    ("loss ratio 59.99 % and 5 claims (yellow)", dict(loss_ratio_pct=Decimal("59.99"), claim_count=5), YELLOW, None),
    ("loss ratio 30 % and 2 claims is low", dict(loss_ratio_pct=Decimal(30), claim_count=2), BLUE, "low_loss_ratio"),
    ("loss ratio 30.01 % is not low", dict(loss_ratio_pct=Decimal("30.01")), YELLOW, None),
    ("settled privately", dict(handling="private"), RED, "settled_privately"),
    ("left the scene", dict(handling="left_scene"), RED, "left_scene"),
    ("reported to the insurer at the first scene", dict(handling="insurer_at_scene"), BLUE, "handled_at_scene"),
    ("handled some other way", dict(handling="other"), YELLOW, None),
    ("insured ≠ driver, reporter neither", dict(driver_name="李四", reporter_name="王五"), RED, "outsider_reported"),
    ("insured ≠ driver, the driver reported", dict(driver_name="李四", reporter_name="李四"), BLUE, None),
    ("names differ only by spaces", dict(driver_name=" 张三 ", reporter_name="张三"), BLUE, None),
    ("a surveyor's doubt", dict(doubts=("old_damage",)), RED, "surveyor_doubt"),
    ("nothing known of the policy's losses", dict(loss_ratio_pct=None, claim_count=None), YELLOW, None),
]


@pytest.mark.parametrize("what, change, colour, criterion", CASES, ids=[c[0] for c in CASES])
def test_each_criterion_and_its_boundary(what, change, colour, criterion):
    result = classify(replace(BLUE_CASE, **change))
    assert result.colour == colour, (what, result)
    if criterion:
        assert criterion in result.criteria, (what, result)
    if colour == RED:
        assert result.red and set(result.red) <= set(RED_CRITERIA)
    if colour == YELLOW:
        assert not result.red and result.missing_blue


def test_a_red_criterion_outweighs_every_blue_one():
    result = classify(replace(BLUE_CASE, doubts=("driver_swapped",)))
    assert result.colour == RED and result.blue == BLUE_CRITERIA  # all blue held, still red


def test_every_red_criterion_that_fires_is_named_in_order():
    night = AT.replace(hour=23, minute=30)
    night_theft = replace(BLUE_CASE, accident_time=night, report_time=night + timedelta(days=3),
                          accident_type="theft", vehicle_imported=True)
    assert classify(night_theft).red == ("night_accident", "late_report", "imported_vehicle", "theft")


def test_the_thresholds_are_data():
    strict = RiskThresholds(old_vehicle_years=3)
    assert classify(BLUE_CASE, strict).red == ("old_vehicle",)
    stored = RiskThresholds.from_mapping({"luxury_sum_insured": "100000", "late_report_hours": 24})
    assert stored.luxury_sum_insured == Decimal(100000) and stored.late_report_hours == 24
    assert RiskThresholds.from_mapping(stored.as_mapping()) == stored
    assert len(CASES) >= 25
