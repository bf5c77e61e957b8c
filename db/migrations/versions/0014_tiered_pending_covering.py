"""A branch's pending tiered cases read from their index alone.

The branch feedback page's register lists every pending tiered case of the branch (570 for a big
branch at 1,000,000 cases). Without the list's columns in the branch's index, PostgreSQL preferred
walking all pending tiered cases of the country in tiering order (9,257, each read from the table)
and dropping the other branches': 4 ms of the page's 15 ms of SQL (bench/RESULTS.md). With them
the branch's cases are read from the index alone. The index covers only pending tiered cases, a
small slice however long the history grows.

Revision ID: 0014
Revises: 0013
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

WHERE = sa.text("tier <> 'T0' AND state <> 'closed'")


def upgrade() -> None:
    op.drop_index("ix_claim_case_tiered_pending", table_name="claim_case")
    op.create_index("ix_claim_case_tiered_pending", "claim_case", ["branch_id", "tiered_at"], postgresql_where=WHERE,
                    postgresql_include=["id", "case_no", "sub_branch_id", "tier", "state", "current_estimate"])


def downgrade() -> None:
    op.drop_index("ix_claim_case_tiered_pending", table_name="claim_case")
    op.create_index("ix_claim_case_tiered_pending", "claim_case", ["branch_id", "tiered_at"], postgresql_where=WHERE)
