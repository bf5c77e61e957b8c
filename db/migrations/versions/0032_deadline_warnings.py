"""Early warnings of open clocks and the person's own messages (issue 22): the two thresholds as
settings HQ edits; `notification.read_at`, set when the person reads it on 我的消息 (unread first).

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
    op.add_column("notification", sa.Column("read_at", sa.DateTime(timezone=True)))
    op.create_index("ix_notification_recipient_unread", "notification", ["recipient_person_id", sa.text("id DESC")],
                    postgresql_where=sa.text("read_at IS NULL"))
    conn = op.get_bind()
    for key, value in _SETTINGS.items():
        conn.execute(sa.text("INSERT INTO rule_setting (key, value) VALUES (:k, CAST(:v AS jsonb)) "
                             "ON CONFLICT (key) DO NOTHING"), {"k": key, "v": json.dumps(value)})


def downgrade() -> None:
    op.drop_index("ix_notification_recipient_unread", table_name="notification")
    op.drop_column("notification", "read_at")
    op.get_bind().execute(sa.text("DELETE FROM rule_setting WHERE key IN :keys").bindparams(
        sa.bindparam("keys", expanding=True)), {"keys": list(_SETTINGS)})
