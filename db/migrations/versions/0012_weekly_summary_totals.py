"""A weekly summary's totals as columns the database computes from its content.

The weekly list shows each summary's case, open-point and overdue-clock counts. They were read out
of `content`, a document of every pending case of the branch (up to ~40 kB compressed at 1,000,000
cases): a page of 50 summaries unpacked 150 documents, ~7 ms of the page's 9 ms of SQL
(bench/RESULTS.md). Generated columns are kept by PostgreSQL from `content` on every write,
whoever writes, so they cannot disagree with it; adding them fills them for existing rows.

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TOTALS = ("cases", "open_points", "overdue_deadlines")


def upgrade() -> None:
    for name in TOTALS:
        op.add_column("weekly_summary", sa.Column(
            f"total_{name}", sa.Integer(), sa.Computed(f"((content -> 'totals') ->> '{name}')::integer", persisted=True),
            nullable=True))


def downgrade() -> None:
    for name in TOTALS:
        op.drop_column("weekly_summary", f"total_{name}")
