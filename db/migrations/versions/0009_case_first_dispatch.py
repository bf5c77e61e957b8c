"""A case keeps when it was first dispatched; the dispatch board reads its cases from one index.

The board puts cases awaiting dispatch first, and the overview measures "dispatched within N h of
tiering": both asked, case by case, whether any dispatch row existed and when the first was. At
1,000,000 cases the board hashed every dispatch ever made twice and read 7,500 heap pages to sort
its 9,000 open cases (85 ms of a 90 ms page). A dispatch is never moved or deleted, so the first
one's time is fixed once written: the database sets it on the case when a dispatch is inserted,
whoever inserts it, and the board's covering partial index holds everything its sort needs.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("claim_case", sa.Column("first_dispatched_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("""
        UPDATE claim_case c SET first_dispatched_at = d.at
          FROM (SELECT case_id, min(dispatched_at) AS at FROM dispatch GROUP BY case_id) d
         WHERE d.case_id = c.id
    """)
    op.execute("""
        CREATE FUNCTION dispatch_sets_first_dispatched_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE claim_case SET first_dispatched_at = NEW.dispatched_at
             WHERE id = NEW.case_id AND (first_dispatched_at IS NULL OR first_dispatched_at > NEW.dispatched_at);
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER dispatch_first_dispatched_at AFTER INSERT ON dispatch
        FOR EACH ROW EXECUTE FUNCTION dispatch_sets_first_dispatched_at()
    """)
    # The board's cases (open, and tiered or awaiting an estimate) newest first, with what it sorts
    # and filters on: an index-only scan instead of a heap page per case.
    op.create_index("ix_claim_case_board", "claim_case", [sa.text("report_time DESC"), sa.text("id DESC")],
                    postgresql_include=["tier", "state", "current_estimate", "first_dispatched_at", "branch_id",
                                        "sub_branch_id"],
                    postgresql_where=sa.text("state <> 'closed' AND (tier <> 'T0' OR "
                                             "(state = 'reported' AND current_estimate IS NULL))"))


def downgrade() -> None:
    op.drop_index("ix_claim_case_board", table_name="claim_case")
    op.execute("DROP TRIGGER dispatch_first_dispatched_at ON dispatch")
    op.execute("DROP FUNCTION dispatch_sets_first_dispatched_at()")
    op.drop_column("claim_case", "first_dispatched_at")
