"""Sign-in attempts per user name, for the lockout after repeated failures (issue 18), and its
three settings.

Revision ID: 0026
Revises: 0025
"""
from __future__ import annotations

import json

from alembic import op
import sqlalchemy as sa

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_SEEDED = {"sign_in.max_failures": 5, "sign_in.window_minutes": 15, "sign_in.lock_minutes": 15}


def upgrade() -> None:
    op.create_table(
        "sign_in_attempt",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_sign_in_attempt_name_time", "sign_in_attempt", ["username", "attempted_at"])
    conn = op.get_bind()
    for key, value in _SEEDED.items():
        conn.execute(sa.text("INSERT INTO rule_setting (key, value) VALUES (:k, CAST(:v AS jsonb)) "
                             "ON CONFLICT (key) DO NOTHING"), {"k": key, "v": json.dumps(value)})


def downgrade() -> None:
    op.drop_index("ix_sign_in_attempt_name_time", table_name="sign_in_attempt")
    op.drop_table("sign_in_attempt")
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM rule_setting WHERE key IN :keys").bindparams(
        sa.bindparam("keys", expanding=True)), {"keys": list(_SEEDED)})
