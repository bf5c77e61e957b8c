"""Partial index of pending cases (about 9% of a national book), covering the landing page's
figures and the pending filters of the lists (bench/RESULTS.md, issue 7).

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_claim_case_pending", "claim_case", ["branch_id", "sub_branch_id"],
                    postgresql_include=["tier", "current_estimate", "surveyor_id"],
                    postgresql_where=sa.text("state <> 'closed'"))


def downgrade() -> None:
    op.drop_index("ix_claim_case_pending", table_name="claim_case")
