"""A branch's open HQ review opinions, without its supervision opinions (index ix_opinion_open).

Migration 0016 indexed the opinions still open (closed_at IS NULL), reasoning that open opinions
stay a small slice however long history grows. HQ review opinions do: one closes once every point
is accepted. A supervision opinion (执委督导, a remark on a followed case) is never closed, so the
index held every one ever written: at 10,000,000 cases a big branch's 545 open review opinions sat
among 9,722 supervision ones, which the branch inbox's three reads of its open points filtered
out one by one (bench/RESULTS.md). Every read of the index asks for `kind = 'hq_review'`
(services/review/opinions.py); the predicate now says so.

Revision ID: 0048
Revises: 0047
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0048"
down_revision = "0047"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_opinion_open", table_name="opinion")
    op.create_index("ix_opinion_open", "opinion", ["branch_id", "posted_at"],
                    postgresql_where=sa.text("closed_at IS NULL AND kind = 'hq_review'"))


def downgrade() -> None:
    op.drop_index("ix_opinion_open", table_name="opinion")
    op.create_index("ix_opinion_open", "opinion", ["branch_id", "posted_at"],
                    postgresql_where=sa.text("closed_at IS NULL"))
