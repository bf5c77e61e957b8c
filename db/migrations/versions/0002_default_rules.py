"""Seed the SPEC defaults: national tier table v1 and rule settings.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import json

from alembic import op
import sqlalchemy as sa

from dashboard.settings import DEFAULT_RULE_SETTINGS, DEFAULT_TIERS

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    rule_set_id = conn.execute(sa.text(
        "INSERT INTO tier_rule_set (version, branch_id, status, note, decided_at) "
        "VALUES (1, NULL, 'active', 'SPEC §3 default tier table', now()) RETURNING id"
    )).scalar_one()
    for rank, tier in enumerate(DEFAULT_TIERS, start=1):
        conn.execute(sa.text(
            "INSERT INTO tier_rule (rule_set_id, code, lower_exclusive, upper_inclusive, positions, hq_notice, rank) "
            "VALUES (:rs, :code, :lo, :hi, :pos, :hq, :rank)"
        ), {"rs": rule_set_id, "code": tier.code, "lo": tier.lower_exclusive, "hi": tier.upper_inclusive,
            "pos": list(tier.positions), "hq": tier.hq_notice, "rank": rank})
    for key, value in DEFAULT_RULE_SETTINGS.items():
        conn.execute(sa.text("INSERT INTO rule_setting (key, value) VALUES (:k, CAST(:v AS jsonb))"),
                     {"k": key, "v": json.dumps(value)})


def downgrade() -> None:
    op.execute("DELETE FROM tier_rule")
    op.execute("DELETE FROM tier_rule_set")
    op.execute("DELETE FROM rule_setting")
