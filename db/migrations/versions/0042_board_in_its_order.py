"""The dispatch board walked in its own order: the few cases waiting, then the dispatched ones.

The board lists the open cases awaiting dispatch or an estimate first (1,405 at 10,000,000 cases),
then every dispatched open case (94,848), red first, then yellow, blue and uncoloured, newest
report first within each. One statement ordering all of them by that rank sorted the 96,000 for a
page of 50 (36 ms; bench/RESULTS.md). The service now reads the waiting cases apart (this file's
first index, a few thousand entries) and walks the dispatched ones through the second, whose key
is the board's own order: the colour's rank (the expression `colour_rank()` writes, as the
statements send it), report time newest first, then id. Both carry the columns the board's filters
and claim_case's row policy read.

Revision ID: 0042
Revises: 0041
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None

# As services/cases/risk.colour_rank renders it.
COLOUR_RANK = ("CASE WHEN (risk_colour = 'red') THEN 0 WHEN (risk_colour = 'yellow') THEN 1 "
               "WHEN (risk_colour = 'blue') THEN 2 ELSE 3 END")
INCLUDE = ["tier", "state", "current_estimate", "branch_id", "sub_branch_id", "surveyor_id", "risk_colour",
           "first_dispatched_at"]


def upgrade() -> None:
    op.create_index("ix_claim_case_board_waiting", "claim_case", [sa.text("report_time DESC"), sa.text("id DESC")],
                    postgresql_include=INCLUDE,
                    postgresql_where=sa.text("state <> 'closed' AND first_dispatched_at IS NULL AND "
                                             "(tier <> 'T0' OR (state = 'reported' AND current_estimate IS NULL))"))
    op.create_index("ix_claim_case_board_dispatched", "claim_case",
                    [sa.text(f"({COLOUR_RANK})"), sa.text("report_time DESC"), sa.text("id DESC")],
                    postgresql_include=INCLUDE,
                    postgresql_where=sa.text("state <> 'closed' AND first_dispatched_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_claim_case_board_dispatched", table_name="claim_case")
    op.drop_index("ix_claim_case_board_waiting", table_name="claim_case")
