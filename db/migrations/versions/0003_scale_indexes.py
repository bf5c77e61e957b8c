"""Indexes for 1,000,000 cases (bench/RESULTS.md, issue 7): partial and covering indexes that
let the dispatch board, the overdue tracker and the executive overview read only the rows they show.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Dispatch board: cases reported and still waiting for the surveyor's estimate (a handful).
    op.create_index("ix_claim_case_awaiting_estimate", "claim_case", ["report_time"],
                    postgresql_where=sa.text("state = 'reported' AND current_estimate IS NULL"))
    # Overview and review lists: tiered cases by report time (5% of the table).
    op.create_index("ix_claim_case_tiered_report", "claim_case", ["report_time"],
                    postgresql_where=sa.text("tier <> 'T0'"))
    # Overdue tracker: only the clocks it can show (open, or met late), with what it sorts and
    # counts by, so counts and the first page are index-only scans.
    op.create_index("ix_deadline_tracker", "deadline", ["due_at"],
                    postgresql_include=["met_at", "id", "kind", "case_id", "branch_id", "responsible_person_id",
                                        "also_charged_person_id"],
                    postgresql_where=sa.text("cancelled_at IS NULL AND (met_at IS NULL OR met_at > due_at)"))
    # A case's clocks with their state, for on-time shares over a set of cases (index-only).
    op.create_index("ix_deadline_case_cover", "deadline", ["case_id"],
                    postgresql_include=["kind", "due_at", "met_at", "cancelled_at"])


def downgrade() -> None:
    op.drop_index("ix_deadline_case_cover", table_name="deadline")
    op.drop_index("ix_deadline_tracker", table_name="deadline")
    op.drop_index("ix_claim_case_tiered_report", table_name="claim_case")
    op.drop_index("ix_claim_case_awaiting_estimate", table_name="claim_case")
