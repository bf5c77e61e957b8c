"""A motor case's red / yellow / blue colour (docs/DOMAIN.md §6), kept on the case and recomputed whenever an
input of the rule changes; each change of colour goes into the case's history.

The rule is rules/risk_colour (pure); its thresholds are the active `risk_rule_set` version, and
the case records the version it was classified with: publishing new thresholds does not repaint
old cases behind anyone's back, the next change of an input does (with the version then active).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.risk_colour import RiskInputs, RiskThresholds, classify
from dashboard.rules.risk_input import RISK_FIELDS, check_risk_facts
from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.services.cases.access import load_visible_case
from dashboard.services.cases.history import record_event
from dashboard.services.errors import ValidationFailed
from dashboard.services.stale import stale_case
from dashboard.settings import BUSINESS_TZ
from db.models import ClaimCase, RiskRuleSet

# The case columns the rule reads: a change of any of them recomputes the colour.
RISK_INPUT_COLUMNS = (
    "accident_time", "report_time", "policy_start_date", "vehicle_age_years", "vehicle_imported",
    "vehicle_sum_insured", "vehicle_use", "accident_type", "vehicle_damage", "property_damage",
    "loss_ratio_pct", "claim_count", "accident_handling", "insured_name", "driver_name", "reporter_name",
    "surveyor_doubts", "business_line",
)


@dataclass(frozen=True)
class ActiveRiskRules:
    rule_set_id: int
    version: int
    thresholds: RiskThresholds


def colour_rank():
    """SQL: 红区 first (以严为主, docs/DOMAIN.md §6), then yellow, blue, and cases without a colour;
    the dispatch board and the HQ review queue order by it before anything else of theirs."""
    return case((ClaimCase.risk_colour == "red", 0), (ClaimCase.risk_colour == "yellow", 1),
                (ClaimCase.risk_colour == "blue", 2), else_=3)


def active_risk_rules(session: Session) -> ActiveRiskRules:
    row = session.execute(select(RiskRuleSet.id, RiskRuleSet.version, RiskRuleSet.thresholds)
                          .where(RiskRuleSet.status == "active")).one()
    return ActiveRiskRules(row.id, row.version, RiskThresholds.from_mapping(row.thresholds))


def _local(at: datetime) -> datetime:
    return at.astimezone(BUSINESS_TZ).replace(tzinfo=None) if at.tzinfo else at


def risk_inputs(case: ClaimCase) -> RiskInputs:
    """What the rule reads from the case, times in Asia/Shanghai wall time."""
    return RiskInputs(
        accident_time=_local(case.accident_time), report_time=_local(case.report_time),
        policy_start_date=case.policy_start_date, vehicle_age_years=case.vehicle_age_years,
        vehicle_imported=bool(case.vehicle_imported), vehicle_sum_insured=case.vehicle_sum_insured,
        vehicle_use=case.vehicle_use, accident_type=case.accident_type,
        vehicle_damage=case.vehicle_damage, property_damage=case.property_damage,
        loss_ratio_pct=case.loss_ratio_pct, claim_count=case.claim_count, handling=case.accident_handling,
        insured_name=case.insured_name, driver_name=case.driver_name, reporter_name=case.reporter_name,
        doubts=tuple(case.surveyor_doubts or ()))


def classify_case(session: Session, case: ClaimCase, *, actor_id: int | None, now: datetime | None = None,
                  rules: ActiveRiskRules | None = None, record: bool = True) -> bool:
    """Colour the case by the active rules; True when its colour or reasons changed (then recorded
    in its history, unless `record` is False: a registration says the colour in its own entry).
    A case outside the motor line has no colour."""
    now = clock.or_now(now)
    if case.business_line != "motor":
        colour, criteria, rule_set_id = None, [], None
    else:
        rules = rules or active_risk_rules(session)
        result = classify(risk_inputs(case), rules.thresholds)
        colour, criteria, rule_set_id = result.colour, list(result.criteria), rules.rule_set_id
    before, before_criteria = case.risk_colour, list(case.risk_criteria or [])
    if colour == before and criteria == before_criteria and (colour is None or rule_set_id == case.risk_rule_set_id):
        return False
    case.risk_colour, case.risk_criteria, case.risk_rule_set_id = colour, criteria, rule_set_id
    if record and (colour != before or criteria != before_criteria):
        record_event(session, case_id=case.id, actor_id=actor_id, kind="risk_colour_changed", at=now,
                     before=before, after=colour, criteria=criteria,
                     rule_version=rules.version if rules and colour else None)
    return True


def colour_of_values(values: Mapping[str, Any], rules: ActiveRiskRules) -> tuple[str | None, list[str], int | None]:
    """(colour, criteria, rule set id) of a case not yet written, from its cleaned column values
    (the bulk import colours each row before its INSERT)."""
    if values.get("business_line") != "motor":
        return None, [], None
    stand_in = SimpleNamespace(**{name: values.get(name) for name in RISK_INPUT_COLUMNS})
    result = classify(risk_inputs(stand_in), rules.thresholds)  # type: ignore[arg-type]
    return result.colour, list(result.criteria), rules.rule_set_id


@dataclass(frozen=True)
class RiskChange:
    case_no: str
    colour: str | None
    criteria: tuple[str, ...]
    changed: bool  # the colour or its reasons moved


@requires("case.risk_facts")
def update_risk_facts(session: Session, actor: Actor, case_id: int, data: Mapping[str, Any], *,
                      expected_version: int, now: datetime | None = None) -> RiskChange:
    """The surveyor's or the branch's new facts for the rule (damages, loss ratio, handling, doubts):
    written whole or refused naming each field; the colour recomputed at once and its change
    recorded. Refused when the case changed since the person's form was drawn."""
    now = clock.or_now(now)
    case = load_visible_case(session, actor, case_id)  # NotFound for a case the actor may not see
    values, errors = check_risk_facts(data)
    if errors:
        raise ValidationFailed(errors)
    if case.version != expected_version:
        raise stale_case(session, case.id)
    before = {name: getattr(case, name) for name in RISK_FIELDS}
    changed_fields = {name: value for name, value in values.items() if _differs(before[name], value)}
    if not changed_fields:
        return RiskChange(case.case_no, case.risk_colour, tuple(case.risk_criteria or ()), False)
    for name, value in changed_fields.items():
        setattr(case, name, value)
    case.version += 1
    record_event(session, case_id=case.id, actor_id=actor.person_id, kind="risk_facts_changed", at=now,
                 fields={name: {"before": before[name], "after": value} for name, value in changed_fields.items()})
    moved = classify_case(session, case, actor_id=actor.person_id, now=now)
    session.commit()
    return RiskChange(case.case_no, case.risk_colour, tuple(case.risk_criteria or ()), moved)


def _differs(before: Any, after: Any) -> bool:
    if isinstance(before, list) or isinstance(after, list):
        return list(before or []) != list(after or [])
    if isinstance(before, Decimal) or isinstance(after, Decimal):
        return (None if before is None else Decimal(before)) != (None if after is None else Decimal(after))
    return before != after
