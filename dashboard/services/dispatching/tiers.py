"""Load tier tables from configuration: the active one for a branch, or a stored version."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.rules.tiers import TierBand
from db.models import TierRule, TierRuleSet


@dataclass(frozen=True)
class TierTable:
    rule_set_id: int
    version: int
    branch_id: int | None
    bands: tuple[TierBand, ...]


def tier_table_by_id(session: Session, rule_set_id: int) -> TierTable:
    rule_set = session.get(TierRuleSet, rule_set_id)
    if rule_set is None:
        raise LookupError(f"tier rule set {rule_set_id} does not exist")
    rows = session.scalars(select(TierRule).where(TierRule.rule_set_id == rule_set_id)
                           .order_by(TierRule.lower_exclusive)).all()
    bands = tuple(TierBand(r.code, r.lower_exclusive, r.upper_inclusive, tuple(r.positions), r.hq_notice, r.rank)
                  for r in rows)
    return TierTable(rule_set.id, rule_set.version, rule_set.branch_id, bands)


def active_tier_table(session: Session, branch_id: int | None) -> TierTable:
    """The branch's own approved table (national bands with its sub-tiers) if any, else national."""
    query = select(TierRuleSet.id).where(TierRuleSet.status == "active")
    if branch_id is not None:
        own = session.scalar(query.where(TierRuleSet.branch_id == branch_id)
                             .order_by(TierRuleSet.version.desc()).limit(1))
        if own is not None:
            return tier_table_by_id(session, own)
    national = session.scalar(query.where(TierRuleSet.branch_id.is_(None))
                              .order_by(TierRuleSet.version.desc()).limit(1))
    if national is None:
        raise LookupError("no active national tier table: run the migrations")
    return tier_table_by_id(session, national)
