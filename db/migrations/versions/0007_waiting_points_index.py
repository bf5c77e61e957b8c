"""HQ review points still waiting for the branch (open, or sent back), by opinion.

The branch inbox opens on its waiting points and the overview, review queue and tracker register
count them; without this index each read scanned every point ever posted (124k at 1M cases) to
find the ~1,400 waiting. Like the pending cases, the waiting points stay a small slice however
long the history grows (bench/RESULTS.md, issue 7).

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_opinion_point_waiting", "opinion_point", ["opinion_id"],
                    postgresql_where=sa.text("status IN ('open', 'sent_back')"))


def downgrade() -> None:
    op.drop_index("ix_opinion_point_waiting", table_name="opinion_point")
