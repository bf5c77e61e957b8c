"""A branch's opinions still open, oldest first.

The branch feedback page's answer form lists the branch's open HQ opinions. Without this index
PostgreSQL read every opinion the branch was ever sent (4,144 for a big branch at 1,000,000 cases,
growing with history) to keep the ~50 still open. Open opinions stay a small slice however long
the history grows (bench/RESULTS.md, issue 7).

Revision ID: 0016
Revises: 0015
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_opinion_open", "opinion", ["branch_id", "posted_at"],
                    postgresql_where=sa.text("closed_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_opinion_open", table_name="opinion")
