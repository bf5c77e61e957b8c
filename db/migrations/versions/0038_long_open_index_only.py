"""The stale cases behind a branch's scorecard indicator, counted from their index alone.

The scorecard's 积压 indicator opens on the branch's cases still open at the period's end and
reported more than stale_days before it, read through the (branch, report time) index of long-open
cases (0035). That index carried the close time the query reads but not the columns claim_case's
row-level policy reads (sub-branch, and `claims_works_on(id, surveyor_id)`), so each of the branch's
stale cases was fetched from the table to be checked: 16,000 cases, 21,700 pages read from disk,
62 ms at 10,000,000 cases for the count alone (bench/RESULTS.md). With them, the count is an
index-only scan.

Revision ID: 0038
Revises: 0037
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None

# As 0035 wrote it: a migration may not import another.
LONG_OPEN = "closed_at IS NULL OR closed_at - report_time > interval '90 days'"


def _index(include: list[str]) -> None:
    op.drop_index("ix_claim_case_long_open_branch", table_name="claim_case")
    op.create_index("ix_claim_case_long_open_branch", "claim_case", ["branch_id", "report_time"],
                    postgresql_include=include, postgresql_where=sa.text(LONG_OPEN))


def upgrade() -> None:
    _index(["closed_at", "sub_branch_id", "surveyor_id", "id"])


def downgrade() -> None:
    _index(["closed_at"])
