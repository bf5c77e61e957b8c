"""Seed the defaults of the time: national tier table v1 and rule settings.

The data is written here as literals: a migration replayed later seeds what it seeded then, not
whatever dashboard.settings says that day (later defaults come with later migrations, e.g. 0025).

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import json

from alembic import op
import sqlalchemy as sa

# (code, lower exclusive, upper inclusive, positions, HQ notified)
DEFAULT_TIERS = (
    ("T1", "50000", "120000", ["sub_claims_head"], False),
    ("T2", "120000", "500000", ["sub_head", "sub_finance_head"], False),
    ("T3", "500000", "1000000", ["branch_claims_head", "branch_finance_head"], False),
    ("T4", "1000000", None, ["branch_gm", "branch_claims_head"], True),
)
DEFAULT_RULE_SETTINGS = {
    "deadline.D1.hours": 24,
    "deadline.D2.hours": 24,
    "deadline.D3.hours": 72,
    "deadline.D4.day_end_offset_days": 1,
    "deadline.D5.hours": 48,
    "deadline.D6.weekday": 4,
    "deadline.D6.time": "17:00",
    "deadline.D7.hours": 48,
    "deadline.due_soon_hours": 24,
    "session.idle_minutes": 30,
}
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    rule_set_id = conn.execute(sa.text(
        "INSERT INTO tier_rule_set (version, branch_id, status, note, decided_at) "
        "VALUES (1, NULL, 'active', 'docs/DOMAIN.md §3 default tier table', now()) RETURNING id"
    )).scalar_one()
    for rank, (code, lower, upper, positions, hq_notice) in enumerate(DEFAULT_TIERS, start=1):
        conn.execute(sa.text(
            "INSERT INTO tier_rule (rule_set_id, code, lower_exclusive, upper_inclusive, positions, hq_notice, rank) "
            "VALUES (:rs, :code, :lo, :hi, :pos, :hq, :rank)"
        ), {"rs": rule_set_id, "code": code, "lo": lower, "hi": upper, "pos": positions, "hq": hq_notice,
            "rank": rank})
    for key, value in DEFAULT_RULE_SETTINGS.items():
        conn.execute(sa.text("INSERT INTO rule_setting (key, value) VALUES (:k, CAST(:v AS jsonb))"),
                     {"k": key, "v": json.dumps(value)})


def downgrade() -> None:
    op.execute("DELETE FROM tier_rule")
    op.execute("DELETE FROM tier_rule_set")
    op.execute("DELETE FROM rule_setting")
