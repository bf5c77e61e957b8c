"""The HQ review queue in its order from one index: each entry carries its case's colour rank and
tiered time, kept by the database.

The queue lists the waiting cases red first (以严为主, docs/DOMAIN.md §6), then newest tiered. Both
live on claim_case, so a page of 50 joined every waiting entry to its case and sorted them: 2,948
probes into claim_case and 25 ms at 10,000,000 cases, and the count joined them again (11 ms). With
the two values on the entry, the page walks ix_review_queue_entry_order and joins 50 cases; the
count reads the waiting entries' index alone.

Kept by two triggers, whoever writes:
- an entry inserted (or pointed at another case) takes its case's values, reading the case FOR
  SHARE so that a colour or tiering being changed meanwhile either commits first (and is read) or
  waits for the entry (and then updates it);
- a case whose colour or tiered time changes updates its entry.
The rank is colour_rank() (services/cases/risk) written in SQL, as migration 0042 writes it for the
dispatch board; a plan test fails if they drift apart.

Revision ID: 0046
Revises: 0045
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0046"
down_revision = "0045"
branch_labels = None
depends_on = None

RANK = ("CASE WHEN {c}.risk_colour = 'red' THEN 0 WHEN {c}.risk_colour = 'yellow' THEN 1 "
        "WHEN {c}.risk_colour = 'blue' THEN 2 ELSE 3 END")
REFILL = f"""
    UPDATE review_queue_entry e SET colour_rank = {RANK.format(c="c")}, tiered_at = c.tiered_at
      FROM claim_case c
     WHERE c.id = e.case_id AND (e.colour_rank, e.tiered_at) IS DISTINCT FROM ({RANK.format(c="c")}, c.tiered_at)
"""


def upgrade() -> None:
    op.add_column("review_queue_entry", sa.Column("colour_rank", sa.SmallInteger(), nullable=False,
                                                  server_default="3"))
    op.add_column("review_queue_entry", sa.Column("tiered_at", sa.DateTime(timezone=True)))
    # Every entry again from its case: the upgrade, a bulk load written with triggers off.
    op.execute(f"""
        CREATE FUNCTION review_queue_order_refill() RETURNS void LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            LOCK TABLE claim_case IN SHARE ROW EXCLUSIVE MODE;
            {REFILL};
        END $$""")
    op.execute("REVOKE EXECUTE ON FUNCTION review_queue_order_refill() FROM PUBLIC")
    op.execute("SELECT review_queue_order_refill()")
    op.create_index("ix_review_queue_entry_order", "review_queue_entry",
                    ["colour_rank", sa.text("tiered_at DESC NULLS LAST"), sa.text("case_id DESC")],
                    postgresql_where=sa.text("reviewed_at IS NULL"))
    op.execute(f"""
        CREATE FUNCTION review_queue_entry_of_case() RETURNS trigger LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            SELECT {RANK.format(c="c")}, c.tiered_at INTO NEW.colour_rank, NEW.tiered_at
              FROM claim_case c WHERE c.id = NEW.case_id FOR SHARE;
            RETURN NEW;
        END $$""")
    op.execute("CREATE TRIGGER review_queue_entry_of_case BEFORE INSERT OR UPDATE OF case_id ON review_queue_entry "
               "FOR EACH ROW EXECUTE FUNCTION review_queue_entry_of_case()")
    op.execute(f"""
        CREATE FUNCTION review_queue_entry_case_changed() RETURNS trigger LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            UPDATE review_queue_entry SET colour_rank = {RANK.format(c="NEW")}, tiered_at = NEW.tiered_at
             WHERE case_id = NEW.id;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER review_queue_entry_case_changed AFTER UPDATE OF risk_colour, tiered_at ON claim_case "
               "FOR EACH ROW WHEN (OLD.risk_colour IS DISTINCT FROM NEW.risk_colour OR OLD.tiered_at IS DISTINCT FROM NEW.tiered_at) "
               "EXECUTE FUNCTION review_queue_entry_case_changed()")


def downgrade() -> None:
    op.execute("DROP TRIGGER review_queue_entry_case_changed ON claim_case")
    op.execute("DROP FUNCTION review_queue_entry_case_changed()")
    op.execute("DROP TRIGGER review_queue_entry_of_case ON review_queue_entry")
    op.execute("DROP FUNCTION review_queue_entry_of_case()")
    op.execute("DROP FUNCTION review_queue_order_refill()")
    op.drop_index("ix_review_queue_entry_order", table_name="review_queue_entry")
    op.drop_column("review_queue_entry", "tiered_at")
    op.drop_column("review_queue_entry", "colour_rank")
