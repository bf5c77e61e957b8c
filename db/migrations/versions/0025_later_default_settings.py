"""Seed the rule settings added after 0002 (which now holds its own literal data).

Until now 0002 seeded whatever dashboard.settings held on the day it ran, so a fresh database got
these two rows from there; they are written here instead, as literals, and an older database that
never had them gets them too (the values it has been reading as defaults).

Revision ID: 0025
Revises: 0024
"""
from __future__ import annotations

import json

from alembic import op
import sqlalchemy as sa

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_SEEDED = {"overview.dispatch_within_hours": 1, "intake.earliest_date": "2000-01-01"}


def upgrade() -> None:
    conn = op.get_bind()
    for key, value in _SEEDED.items():
        conn.execute(sa.text("INSERT INTO rule_setting (key, value) VALUES (:k, CAST(:v AS jsonb)) "
                             "ON CONFLICT (key) DO NOTHING"), {"k": key, "v": json.dumps(value)})


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM rule_setting WHERE key IN :keys").bindparams(
        sa.bindparam("keys", expanding=True)), {"keys": list(_SEEDED)})
