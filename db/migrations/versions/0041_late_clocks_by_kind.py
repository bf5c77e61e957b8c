"""Late clocks of one type, newest due first: the late head of an on-time rate's list.

The list behind the overview's 到场及时率 / 结案及时率 (the decided D2 or D3 clocks of the period's
cases) opens on the clocks that missed, newest due first. It was one statement over every decided
clock of the period (57,000 D2 clocks for 90 days at 10,000,000 cases), which the planner read
through a BitmapAnd of three clock indexes and sorted for 50: 140 ms (bench/RESULTS.md). The
service now reads the late clocks apart, from this index (a type's late clocks, 9,600 in those 90
days, read from the index alone), and the on-time ones only for a page past the late ones.

Revision ID: 0041
Revises: 0040
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None

# As ix_deadline_tracker's: not cancelled, and open or met after the due time.
LATE_OR_OPEN = "cancelled_at IS NULL AND (met_at IS NULL OR met_at > due_at)"


def upgrade() -> None:
    op.create_index("ix_deadline_late_kind", "deadline", ["kind", sa.text("due_at DESC"), sa.text("id DESC")],
                    postgresql_include=["case_id", "met_at", "responsible_person_id", "branch_id"],
                    postgresql_where=sa.text(LATE_OR_OPEN))


def downgrade() -> None:
    op.drop_index("ix_deadline_late_kind", table_name="deadline")
