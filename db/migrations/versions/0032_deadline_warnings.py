"""Early warnings of open clocks (issue 22): the two thresholds as settings HQ edits.

Revision ID: 0032
Revises: 0031
"""
from __future__ import annotations

import json

from alembic import op
import sqlalchemy as sa

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

_SETTINGS = {"deadline.warn_first_pct": 50, "deadline.warn_second_pct": 80}


def upgrade() -> None:
    conn = op.get_bind()
    for key, value in _SETTINGS.items():
        conn.execute(sa.text("INSERT INTO rule_setting (key, value) VALUES (:k, CAST(:v AS jsonb)) "
                             "ON CONFLICT (key) DO NOTHING"), {"k": key, "v": json.dumps(value)})


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM rule_setting WHERE key IN :keys").bindparams(
        sa.bindparam("keys", expanding=True)), {"keys": list(_SETTINGS)})
