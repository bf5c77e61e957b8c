"""How many cases each sub-branch has, kept by the database as cases are written.

The landing page says how many cases a person may see. For a national role that counted every
case ever reported: 42 ms at 1,000,000 cases (the slowest part of the landing page), growing with
every case. Here each statement that inserts or deletes cases adds one row per sub-branch it
touched with the change (+n / -n), and a case moved between units adds a -1 and a +1: the count
is a sum over a few hundred rows. Rows are only ever added, never updated, so no two writers
wait on the same counter (a 50,000-row import does not hold up the call center's intake); the
`compact_case_counts` job folds them into one row per sub-branch every few minutes. Kept by
trigger, whoever writes; the upgrade counts the cases already there. (Cases are never truncated:
the append-only case history refuses it.)

Revision ID: 0015
Revises: 0014
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_count",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("sub_branch_id", sa.Integer(), nullable=False),
        sa.Column("cases", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_case_count_unit", "case_count", ["branch_id", "sub_branch_id"],
                    postgresql_include=["cases"])
    op.execute("""
        INSERT INTO case_count (branch_id, sub_branch_id, cases)
        SELECT branch_id, sub_branch_id, count(*) FROM claim_case GROUP BY branch_id, sub_branch_id
    """)
    for event, table, sign in (("INSERT", "new_cases", "+"), ("DELETE", "old_cases", "-")):
        op.execute(f"""
            CREATE FUNCTION case_count_after_{event.lower()}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO case_count (branch_id, sub_branch_id, cases)
                SELECT branch_id, sub_branch_id, {sign}count(*) FROM {table} GROUP BY branch_id, sub_branch_id;
                RETURN NULL;
            END $$
        """)
        op.execute(f"""
            CREATE TRIGGER case_count_{event.lower()} AFTER {event} ON claim_case
            REFERENCING {"NEW" if sign == "+" else "OLD"} TABLE AS {table}
            FOR EACH STATEMENT EXECUTE FUNCTION case_count_after_{event.lower()}()
        """)
    op.execute("""
        CREATE FUNCTION case_count_after_move() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO case_count (branch_id, sub_branch_id, cases)
            VALUES (OLD.branch_id, OLD.sub_branch_id, -1), (NEW.branch_id, NEW.sub_branch_id, 1);
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER case_count_move AFTER UPDATE OF branch_id, sub_branch_id ON claim_case
        FOR EACH ROW WHEN (OLD.branch_id IS DISTINCT FROM NEW.branch_id
                           OR OLD.sub_branch_id IS DISTINCT FROM NEW.sub_branch_id)
        EXECUTE FUNCTION case_count_after_move()
    """)


def downgrade() -> None:
    for name in ("insert", "delete", "move"):
        op.execute(f"DROP TRIGGER case_count_{name} ON claim_case")
        op.execute(f"DROP FUNCTION case_count_after_{name}()")
    op.drop_index("ix_case_count_unit", table_name="case_count")
    op.drop_table("case_count")
