"""The red / yellow / blue thresholds as HQ keeps them (issue 19): versioned like the tier table.

Publishing writes a new version and supersedes the active one in one transaction; a case keeps the
version it was classified with (services/cases/risk). Two admins at once: the publish names the
version the admin's form was drawn from, and a stale one is refused naming who published since.
Each value is held to a range, and the pairs that only make sense one way round (blue stricter
than red) are checked, so no version can make every case red or none blue by a slip.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.amounts import AmountProblem, parse_amount
from dashboard.rules.risk_colour import RiskThresholds
from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.services.cases.history import record_event
from dashboard.services.errors import FieldError, ValidationFailed
from dashboard.services.stale import stale_write
from db.models import Person, RiskRuleSet

# field -> (kind, low, high): hour of day, days, hours, years, amount (yuan), percent, count.
RANGES: dict[str, tuple[str, Decimal, Decimal]] = {
    "night_from_hour": ("hour", Decimal(0), Decimal(23)), "night_to_hour": ("hour", Decimal(0), Decimal(23)),
    "day_from_hour": ("hour", Decimal(0), Decimal(23)), "day_to_hour": ("hour", Decimal(0), Decimal(23)),
    "new_policy_days": ("days", Decimal(0), Decimal(366)),
    "late_report_hours": ("hours", Decimal(1), Decimal(720)),
    "immediate_report_hours": ("hours", Decimal(1), Decimal(720)),
    "old_vehicle_years": ("years", Decimal(1), Decimal(50)),
    "luxury_sum_insured": ("amount", Decimal(1), Decimal(1_000_000_000)),
    "red_vehicle_damage": ("amount", Decimal(1), Decimal(1_000_000_000)),
    "blue_vehicle_damage": ("amount", Decimal(0), Decimal(1_000_000_000)),
    "blue_property_damage": ("amount", Decimal(0), Decimal(1_000_000_000)),
    "red_loss_ratio_pct": ("percent", Decimal(0), Decimal(1000)),
    "blue_loss_ratio_pct": ("percent", Decimal(0), Decimal(1000)),
    "red_claim_count": ("count", Decimal(1), Decimal(100)),
    "blue_claim_count": ("count", Decimal(0), Decimal(100)),
}
# (the one that must be smaller, the one it must be smaller than)
_ORDERED = (("day_from_hour", "day_to_hour"), ("immediate_report_hours", "late_report_hours"),
            ("blue_vehicle_damage", "red_vehicle_damage"), ("blue_loss_ratio_pct", "red_loss_ratio_pct"),
            ("blue_claim_count", "red_claim_count"))


@dataclass(frozen=True)
class RiskRuleVersion:
    id: int
    version: int
    status: str
    thresholds: RiskThresholds
    note: str | None
    created_by: str | None
    created_at: datetime


@requires("case.read")
def risk_rule_versions(session: Session, actor: Actor) -> list[RiskRuleVersion]:
    """Every version, newest first (the active one is the first whose status is active)."""
    rows = session.execute(
        select(RiskRuleSet.id, RiskRuleSet.version, RiskRuleSet.status, RiskRuleSet.thresholds, RiskRuleSet.note,
               Person.full_name, RiskRuleSet.created_at)
        .outerjoin(Person, Person.id == RiskRuleSet.created_by).order_by(RiskRuleSet.version.desc())).all()
    return [RiskRuleVersion(r.id, r.version, r.status, RiskThresholds.from_mapping(r.thresholds), r.note,
                            r.full_name, r.created_at) for r in rows]


def _clean(name: str, raw: object) -> tuple[Decimal | None, FieldError | None]:
    kind, low, high = RANGES[name]
    error = FieldError(f"risk.{name}", f"admin.risk.error.{kind}",
                       {"low": f"{low:,.0f}", "high": f"{high:,.0f}"})
    typed = unicodedata.normalize("NFKC", str(raw if raw is not None else "")).strip()
    try:
        number = parse_amount(typed) if kind in ("amount", "percent") else Decimal(typed)
    except (AmountProblem, InvalidOperation):
        return None, error
    if not number.is_finite() or not low <= number <= high:
        return None, error
    if kind not in ("amount", "percent") and number != number.to_integral_value():
        return None, error
    return number, None


def clean_thresholds(values: dict[str, object]) -> RiskThresholds:
    """The thresholds a form says (every field), or ValidationFailed naming each field at fault."""
    errors: list[FieldError] = []
    cleaned: dict[str, Decimal] = {}
    for f in fields(RiskThresholds):
        number, error = _clean(f.name, values.get(f.name))
        if error:
            errors.append(error)
        else:
            cleaned[f.name] = number
    for smaller, larger in _ORDERED:
        if smaller in cleaned and larger in cleaned and not cleaned[smaller] < cleaned[larger]:
            errors.append(FieldError(f"risk.{smaller}", f"admin.risk.error.order.{smaller}"))
    if errors:
        raise ValidationFailed(errors)
    return RiskThresholds.from_mapping({k: str(v) for k, v in cleaned.items()})


@requires("rules.admin")
def publish_risk_rules(session: Session, actor: Actor, values: dict[str, object], *, expected_version: int,
                       note: str | None = None, now: datetime | None = None) -> RiskRuleVersion:
    """A new active version from the form's values; the previous one is superseded."""
    now = clock.or_now(now)
    thresholds = clean_thresholds(values)
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('risk_rule_set'))"))
    active = session.scalars(select(RiskRuleSet).where(RiskRuleSet.status == "active").with_for_update()).one()
    if active.version != expected_version:
        raise stale_write(session, active.created_by, active.created_at)
    session.execute(update(RiskRuleSet).where(RiskRuleSet.id == active.id).values(status="superseded"))
    row = RiskRuleSet(version=active.version + 1, thresholds=thresholds.as_mapping(), status="active",
                      note=(note or "").strip() or None, created_by=actor.person_id, created_at=now)
    session.add(row)
    session.flush()
    record_event(session, case_id=None, actor_id=actor.person_id, kind="risk_rules_published", at=now,
                 version=row.version, thresholds=thresholds.as_mapping())
    session.commit()
    return RiskRuleVersion(row.id, row.version, row.status, thresholds, row.note, actor.full_name, now)
