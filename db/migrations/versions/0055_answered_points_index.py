"""HQ review points answered by their branch and waiting for HQ's verdict, indexed by opinion.

总公司案件初审 lists the cases whose branch answers wait for a verdict (the queue's 待审核反馈 filter,
services/review/queue.py). Answered points are the few between a branch's answer and HQ's verdict;
a partial index holds only them, so the filter reads those and not every point ever written.

Revision ID: 0055
Revises: 0054
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0055"
down_revision = "0054"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_opinion_point_answered", "opinion_point", ["opinion_id"],
                    postgresql_where=sa.text("status = 'answered'"))


def downgrade() -> None:
    op.drop_index("ix_opinion_point_answered", table_name="opinion_point")
