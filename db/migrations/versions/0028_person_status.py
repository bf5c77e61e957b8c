"""Who disabled (or restored) a person and when (issue 18: HQ admin can disable a person); a web
session ended by that is marked `disabled`.

Revision ID: 0028
Revises: 0027
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

_REASONS_BEFORE = ("signed_out", "idle", "replaced")
_REASONS = _REASONS_BEFORE + ("disabled",)


def _reason_check(reasons: tuple[str, ...]) -> None:
    op.drop_constraint("ck_web_session_end_reason", "web_session", type_="check")
    listed = ", ".join(f"'{r}'" for r in reasons)
    op.create_check_constraint("ck_web_session_end_reason", "web_session",
                               f"end_reason IS NULL OR end_reason IN ({listed})")


def upgrade() -> None:
    op.add_column("person", sa.Column("status_changed_by", sa.Integer(), sa.ForeignKey("person.id"), nullable=True))
    op.add_column("person", sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True))
    _reason_check(_REASONS)


def downgrade() -> None:
    op.execute("UPDATE web_session SET end_reason = 'signed_out' WHERE end_reason = 'disabled'")
    _reason_check(_REASONS_BEFORE)
    op.drop_column("person", "status_changed_at")
    op.drop_column("person", "status_changed_by")
