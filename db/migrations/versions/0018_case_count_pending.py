"""The kept case counts also say how many cases are pending, how many of those are tiered, and
their tiered estimate.

The landing page shows each person those three figures over every case they may see. For a
national role that read every pending case (87,000 at 1,000,000 cases, ~15 ms, growing with the
backlog) on the first visit of each minute. Now the same rows that count cases (migration 0015)
carry the change in the pending figures too, and a sum over a few hundred rows gives them.

What changes them: a case inserted or deleted (its figures +/-), and an update of a case's unit,
state, tier or estimate (the old figures out of the old unit, the new ones into the new unit).
The update trigger is per statement, reading the statement's old and new rows once: a bulk
re-tiering writes a row per sub-branch, not per case. It replaces 0015's trigger for moves.

Revision ID: 0018
Revises: 0017
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

PENDING = "CASE WHEN {t}.state <> 'closed' THEN 1 ELSE 0 END"
TIERED = "CASE WHEN {t}.state <> 'closed' AND {t}.tier <> 'T0' THEN 1 ELSE 0 END"
AMOUNT = "CASE WHEN {t}.state <> 'closed' AND {t}.tier <> 'T0' THEN coalesce({t}.current_estimate, 0) ELSE 0 END"
COLUMNS = "branch_id, sub_branch_id, cases, pending, pending_tiered, pending_tiered_amount"


def _figures(t: str, sign: str) -> str:
    """One case's row in case_count: its unit, 1 case, and its pending figures, all times `sign`."""
    return (f"{t}.branch_id, {t}.sub_branch_id, {sign}1, {sign}({PENDING.format(t=t)}), "
            f"{sign}({TIERED.format(t=t)}), {sign}({AMOUNT.format(t=t)})")


def _summed(rows: str) -> str:
    return (f"SELECT branch_id, sub_branch_id, sum(c), sum(p), sum(pt), sum(a) "
            f"FROM ({rows}) AS d (branch_id, sub_branch_id, c, p, pt, a) GROUP BY branch_id, sub_branch_id")


def upgrade() -> None:
    for column in ("pending", "pending_tiered"):
        op.add_column("case_count", sa.Column(column, sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("case_count", sa.Column("pending_tiered_amount", sa.Numeric(18, 2), nullable=False,
                                          server_default="0"))
    op.drop_index("ix_case_count_unit", table_name="case_count")
    op.create_index("ix_case_count_unit", "case_count", ["branch_id", "sub_branch_id"],
                    postgresql_include=["cases", "pending", "pending_tiered", "pending_tiered_amount"])
    # The cases already there: their pending figures, in rows that add no case (0015 counted them).
    op.execute(f"""
        INSERT INTO case_count ({COLUMNS})
        SELECT branch_id, sub_branch_id, 0, sum(p), sum(pt), sum(a)
          FROM (SELECT branch_id, sub_branch_id, {PENDING.format(t='c')}, {TIERED.format(t='c')},
                       {AMOUNT.format(t='c')} FROM claim_case c WHERE c.state <> 'closed') AS d (branch_id,
                sub_branch_id, p, pt, a)
         GROUP BY branch_id, sub_branch_id
    """)
    for event, table, sign in (("insert", "new_cases", ""), ("delete", "old_cases", "-")):
        op.execute(f"""
            CREATE OR REPLACE FUNCTION case_count_after_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO case_count ({COLUMNS})
                {_summed(f"SELECT {_figures('x', sign)} FROM {table} x")};
                RETURN NULL;
            END $$
        """)
    op.execute("DROP TRIGGER case_count_move ON claim_case")
    op.execute("DROP FUNCTION case_count_after_move()")
    changed = ("(o.branch_id, o.sub_branch_id, o.state, o.tier, o.current_estimate) IS DISTINCT FROM "
               "(n.branch_id, n.sub_branch_id, n.state, n.tier, n.current_estimate)")
    op.execute(f"""
        CREATE FUNCTION case_count_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO case_count ({COLUMNS})
            {_summed(f"SELECT {_figures('o', '-')} FROM old_cases o JOIN new_cases n ON n.id = o.id WHERE {changed} "
                     f"UNION ALL SELECT {_figures('n', '')} FROM old_cases o JOIN new_cases n ON n.id = o.id "
                     f"WHERE {changed}")}
            HAVING sum(c) <> 0 OR sum(p) <> 0 OR sum(pt) <> 0 OR sum(a) <> 0;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER case_count_update AFTER UPDATE ON claim_case
        REFERENCING OLD TABLE AS old_cases NEW TABLE AS new_cases
        FOR EACH STATEMENT EXECUTE FUNCTION case_count_after_update()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER case_count_update ON claim_case")
    op.execute("DROP FUNCTION case_count_after_update()")
    for event, table, sign in (("insert", "new_cases", "+"), ("delete", "old_cases", "-")):
        op.execute(f"""
            CREATE OR REPLACE FUNCTION case_count_after_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO case_count (branch_id, sub_branch_id, cases)
                SELECT branch_id, sub_branch_id, {sign}count(*) FROM {table} GROUP BY branch_id, sub_branch_id;
                RETURN NULL;
            END $$
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
    op.drop_index("ix_case_count_unit", table_name="case_count")
    op.create_index("ix_case_count_unit", "case_count", ["branch_id", "sub_branch_id"], postgresql_include=["cases"])
    for column in ("pending_tiered_amount", "pending_tiered", "pending"):
        op.drop_column("case_count", column)
