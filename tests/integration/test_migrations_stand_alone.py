"""Migrations stand alone (issue 17): each holds its own data, so replaying one later seeds what it
seeded then; together they seed today's defaults, and a new default needs a migration."""
from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from dashboard.settings import DEFAULT_RULE_SETTINGS, DEFAULT_TIERS
from db.models import RuleSetting, TierRule, TierRuleSet

VERSIONS = Path(__file__).resolve().parents[2] / "db" / "migrations" / "versions"


def test_no_migration_imports_the_application():
    for path in sorted(VERSIONS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] in ("dashboard", "db", "jobs") for n in names), (path.name, names)


def test_a_fresh_database_holds_every_default_setting_and_the_default_tier_table(session):
    stored = dict(session.execute(select(RuleSetting.key, RuleSetting.value)).tuples().all())
    assert stored == DEFAULT_RULE_SETTINGS
    active = session.scalar(select(TierRuleSet.id).where(TierRuleSet.branch_id.is_(None), TierRuleSet.status == "active"))
    rules = session.execute(select(TierRule.code, TierRule.lower_exclusive, TierRule.upper_inclusive, TierRule.positions,
                                   TierRule.hq_notice).where(TierRule.rule_set_id == active)
                            .order_by(TierRule.rank)).tuples().all()
    assert rules == [(t.code, Decimal(t.lower_exclusive), None if t.upper_inclusive is None else Decimal(t.upper_inclusive),
                      list(t.positions), t.hq_notice) for t in DEFAULT_TIERS]
