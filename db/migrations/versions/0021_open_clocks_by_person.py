"""A person's open clocks by index.

Everyone's landing page lists the clocks they answer for (responsible, also charged, or the
delegate going to the scene). It filtered every open clock of the country for them: ~2,400 at
1,000,000 cases, 0.7-2.8 ms for a person with none, and growing with the national backlog. With
these two partial indexes (only open clocks, so they stay small and cost a writer little) and the
delegate's clocks found through the (kind, subject_key) key, the list is three index probes
whatever the backlog (~0.1 ms, bench/RESULTS.md, issue 7).

Revision ID: 0021
Revises: 0020
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

OPEN = "met_at IS NULL AND cancelled_at IS NULL"


def upgrade() -> None:
    op.create_index("ix_deadline_open_responsible", "deadline", ["responsible_person_id", "due_at"],
                    postgresql_where=sa.text(OPEN))
    op.create_index("ix_deadline_open_also_charged", "deadline", ["also_charged_person_id", "due_at"],
                    postgresql_where=sa.text(f"{OPEN} AND also_charged_person_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_deadline_open_also_charged", table_name="deadline")
    op.drop_index("ix_deadline_open_responsible", table_name="deadline")
