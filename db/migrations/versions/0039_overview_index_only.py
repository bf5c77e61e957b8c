"""The executive overview's period read from two indexes alone.

The overview reads every tiered case reported in the period (41,000 for the default 90 days at
10,000,000 cases) and the violations of those cases (56,000). Both were fetched row by row from
their tables: the tiered cases of a period are one in sixty of its cases, so 41,000 of them sat
on 26,700 pages of claim_case (100 ms); violations are written as the job finds them, not in
case order, so 56,000 of them sat on 44,000 pages (57 ms) (bench/RESULTS.md).

With the columns the overview reads, and those claim_case's and violation's row-level policies
read (sub-branch, surveyor; person, branch), both become index-only scans. The colour chart and
the case list of the period read the same index.

Revision ID: 0039
Revises: 0038
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None

TIERED = "tier <> 'T0'"
CASE_COLUMNS = ["id", "branch_id", "sub_branch_id", "tier", "state", "current_estimate", "tiered_at",
                "first_dispatched_at", "risk_colour", "surveyor_id"]
VIOLATION_COLUMNS = ["id", "kind", "due_at", "person_id", "branch_id"]


def _indexes(case_include: list[str], violation_include: list[str]) -> None:
    op.drop_index("ix_claim_case_tiered_report", table_name="claim_case")
    op.create_index("ix_claim_case_tiered_report", "claim_case", ["report_time"],
                    postgresql_include=case_include, postgresql_where=sa.text(TIERED))
    op.drop_index("ix_violation_case_id", table_name="violation")
    op.create_index("ix_violation_case_id", "violation", ["case_id"], postgresql_include=violation_include)


def upgrade() -> None:
    _indexes(CASE_COLUMNS, VIOLATION_COLUMNS)


def downgrade() -> None:
    _indexes([], [])
