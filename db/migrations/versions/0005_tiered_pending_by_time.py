"""Pending tiered cases by the time they became tiered: the national supervision list and other
'all pending tiered cases, newest first' reads walk 9,000 index entries instead of 50,000 tiered
rows (bench/RESULTS.md, issue 7).

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_claim_case_tiered_pending_time", "claim_case", ["tiered_at"],
                    postgresql_where=sa.text("tier <> 'T0' AND state <> 'closed'"))


def downgrade() -> None:
    op.drop_index("ix_claim_case_tiered_pending_time", table_name="claim_case")
