"""The followed cases (执委督导) walked in the list's own order, and counted from kept figures.

The supervision list puts cases awaiting a supervisor's reply first, then every other pending
tiered case newest first. For hq_admin that is every pending tiered case in the country (95,000 at
10,000,000 cases): the planner, which multiplies "tiered" by "open" and misjudges the rows 6×,
read them through a BitmapAnd of two partial indexes and fetched each from the table to sort them
for 50: 0.4 s to count and 0.5 s for the page (bench/RESULTS.md). The service now reads the few
cases awaiting a reply apart, and the rest by walking this index in the list's order (tiered time
newest first, then id), stopping at the page: with the row policy's columns and the list's
filters (branch, sub-branch, colour, case number) carried, the walk needs the table only for the
50 rows shown.

Revision ID: 0040
Revises: 0039
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None

PENDING_TIERED = "tier <> 'T0' AND state <> 'closed'"


def upgrade() -> None:
    op.drop_index("ix_claim_case_tiered_pending_time", table_name="claim_case")
    op.create_index("ix_claim_case_tiered_pending_time", "claim_case",
                    [sa.text("tiered_at DESC NULLS LAST"), sa.text("id DESC")],
                    postgresql_include=["branch_id", "sub_branch_id", "surveyor_id", "risk_colour", "case_no"],
                    postgresql_where=sa.text(PENDING_TIERED))


def downgrade() -> None:
    op.drop_index("ix_claim_case_tiered_pending_time", table_name="claim_case")
    op.create_index("ix_claim_case_tiered_pending_time", "claim_case", ["tiered_at"],
                    postgresql_where=sa.text(PENDING_TIERED))
