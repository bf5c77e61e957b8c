"""Planner cost for SSD-backed servers: random_page_cost 1.1 on this database.

Measured at 1,000,000 cases (bench/RESULTS.md): with the default 4.0 the planner scanned every
deadline for an overview chart (210 ms instead of 20 ms). Skipped with a notice when the
migrating role may not alter the database (a managed server sets it in its own parameters).

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        DO $$
        BEGIN
            EXECUTE format('ALTER DATABASE %I SET random_page_cost = 1.1', current_database());
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'random_page_cost not set: the migrating role does not own the database';
        END $$;
    """)


def downgrade() -> None:
    op.execute("""
        DO $$
        BEGIN
            EXECUTE format('ALTER DATABASE %I RESET random_page_cost', current_database());
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;
        END $$;
    """)
