"""Dispatches by the delegate who goes in the responsible person's place.

Everyone's landing page lists their own open clocks, including the D2/D3 of dispatches they were
named delegate for; without this index that check read every dispatch ever made (70,000 at
1,000,000 cases), twice per visit, even for people who never were a delegate (bench/RESULTS.md).

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_dispatch_delegate", "dispatch", ["delegate_person_id"],
                    postgresql_where=sa.text("delegate_person_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_dispatch_delegate", table_name="dispatch")
