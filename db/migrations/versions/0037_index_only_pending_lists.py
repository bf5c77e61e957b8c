"""The open-case lists counted and sorted from their indexes alone, row-level security included.

The dispatch board (ix_claim_case_board), the exec supervisor's followed cases and a branch's
register (ix_claim_case_tiered_pending) count and sort every open case of their scope before
showing 50. Their indexes carried every column the lists read but not every column the row-level
policy of claim_case reads (migration 0027: branch, sub-branch, and `claims_works_on(id,
surveyor_id)` for a person's own cases), so PostgreSQL fetched each case's row from the table to
check it: at 1,000,000 cases 4,400 to 4,600 table pages per count, scattered over three years of
cases, and ten times that at 10,000,000, where the table no longer fits in memory. With the policy's
columns (and the colour the supervisor's list shows and filters) in the index, those reads are
index-only scans: the board's count 4,383 -> 2,040 buffers, the followed cases' 4,584 -> 1,153
(bench/RESULTS.md).

The open major cases, the list HQ and the branches follow, were found by ANDing the index of every
major case ever flagged with the index of every open case (87,000 entries at 1,000,000 cases) and
then read from the table; their own partial index, in the list's order and with the policy's
columns, gives the count index-only and the first page as the first 50 entries.

Revision ID: 0037
Revises: 0036
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

BOARD_WHERE = sa.text("state <> 'closed' AND (tier <> 'T0' OR (state = 'reported' AND current_estimate IS NULL))")
BOARD_INCLUDE = ["tier", "state", "current_estimate", "first_dispatched_at", "branch_id", "sub_branch_id",
                 "risk_colour"]
PENDING_WHERE = sa.text("tier <> 'T0' AND state <> 'closed'")
PENDING_INCLUDE = ["id", "case_no", "sub_branch_id", "tier", "state", "current_estimate"]


def _indexes(board_include: list[str], pending_include: list[str]) -> None:
    op.drop_index("ix_claim_case_board", table_name="claim_case")
    op.create_index("ix_claim_case_board", "claim_case", [sa.text("report_time DESC"), sa.text("id DESC")],
                    postgresql_include=board_include, postgresql_where=BOARD_WHERE)
    op.drop_index("ix_claim_case_tiered_pending", table_name="claim_case")
    op.create_index("ix_claim_case_tiered_pending", "claim_case", ["branch_id", "tiered_at"],
                    postgresql_include=pending_include, postgresql_where=PENDING_WHERE)


def upgrade() -> None:
    _indexes(BOARD_INCLUDE + ["surveyor_id"], PENDING_INCLUDE + ["surveyor_id", "risk_colour"])
    op.create_index("ix_claim_case_major_open", "claim_case",
                    [sa.text("major_flagged_at DESC NULLS LAST"), sa.text("id DESC")],
                    postgresql_include=["branch_id", "sub_branch_id", "surveyor_id", "major_reason", "risk_colour",
                                        "catastrophe_event_id"],
                    postgresql_where=sa.text("is_major AND state <> 'closed'"))


def downgrade() -> None:
    op.drop_index("ix_claim_case_major_open", table_name="claim_case")
    _indexes(BOARD_INCLUDE, PENDING_INCLUDE)
