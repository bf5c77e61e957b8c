"""The HQ review queue's cases still waiting for their initial review.

The review page opens on the waiting cases and counts them; without this index both reads scanned
every case ever queued (49,945 at 1,000,000 cases, growing by every tiered case) to find the ~300
waiting: 1.5 ms each, half of the page's SQL (bench/RESULTS.md). The waiting cases stay a small
slice however long the history grows.

Revision ID: 0013
Revises: 0012
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_review_queue_entry_waiting", "review_queue_entry", ["case_id"],
                    postgresql_where=sa.text("reviewed_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_review_queue_entry_waiting", table_name="review_queue_entry")
