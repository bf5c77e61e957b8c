"""Weekly summaries by week.

The weekly page lists summaries newest week first. Without this index PostgreSQL sorted every
summary ever generated (30 branches x 52 weeks a year: 4,710 after three years) to show the first
twenty, ~2.4 ms and growing every Friday; with it, it reads the newest week and sorts its thirty
branches by code (~0.15 ms, bench/RESULTS.md, issue 7).

Revision ID: 0017
Revises: 0016
"""
from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_weekly_summary_week", "weekly_summary", ["week_start"])


def downgrade() -> None:
    op.drop_index("ix_weekly_summary_week", table_name="weekly_summary")
