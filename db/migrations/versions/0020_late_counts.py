"""Clocks met late and violations per branch and deadline type, kept by the database.

The overdue tracker's national view counts every clock ever met late (56,000 at 1,000,000 cases,
~7 ms) and draws every violation ever recorded by branch and type (58,000, ~7 ms) on each first
visit, and both grow with every day of history. Here each statement that writes clocks or
violations adds one row per branch and type it changed (+n / -n), as `case_count` does for cases
(migration 0015): rows are only ever added, so no writer waits on another, and
`jobs.compact_case_counts` folds them. Kept by trigger, whoever writes; the upgrade counts what
is there. The tracker reads them for national people whose filters are branch and type only;
every other view is counted live from the clocks, as before.

A clock's branch is its own `branch_id` (the tracker's branch; the case's only when the clock
has none). Every clock the application starts has one; the upgrade gives the clocks of a case
that have none their case's branch and then requires one, so a kept count never depends on
where a case is now.

Revision ID: 0020
Revises: 0019
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# Per source: the kept column, and which of its rows count.
SOURCES = {
    "deadline": ("clocks_met_late", "t.cancelled_at IS NULL AND t.met_at > t.due_at"),
    "violation": ("violations", "TRUE"),
}
TRIGGERS = (("INSERT", "REFERENCING NEW TABLE AS new_rows", (("new_rows", "+"),)),
            ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows", (("new_rows", "+"), ("old_rows", "-"))),
            ("DELETE", "REFERENCING OLD TABLE AS old_rows", (("old_rows", "-"),)))


def _add(table: str, parts: tuple[tuple[str, str], ...]) -> str:
    column, counts = SOURCES[table]
    rows = " UNION ALL ".join(f"SELECT t.branch_id, t.kind, {sign}1 FROM {source} t WHERE {counts}"
                              for source, sign in parts)
    return f"""
        INSERT INTO late_count (branch_id, kind, {column})
        SELECT branch_id, kind, sum(n) FROM ({rows}) AS d (branch_id, kind, n)
         GROUP BY branch_id, kind HAVING sum(n) <> 0
    """


def upgrade() -> None:
    op.execute("""
        UPDATE deadline d SET branch_id = c.branch_id FROM claim_case c
         WHERE d.branch_id IS NULL AND c.id = d.case_id
    """)
    op.alter_column("deadline", "branch_id", nullable=False)
    op.create_table(
        "late_count",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("branch_id", sa.Integer(), nullable=True),  # a violation may have none
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("clocks_met_late", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("violations", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_index("ix_late_count_unit", "late_count", ["branch_id", "kind"],
                    postgresql_include=["clocks_met_late", "violations"])
    for table in SOURCES:
        op.execute(_add(table, ((table, "+"),)))
        for event, referencing, parts in TRIGGERS:
            name = f"late_count_{table}_{event.lower()}"
            op.execute(f"""
                CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    {_add(table, parts)};
                    RETURN NULL;
                END $$
            """)
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} {referencing} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")


def downgrade() -> None:
    for table in SOURCES:
        for event, _referencing, _parts in TRIGGERS:
            name = f"late_count_{table}_{event.lower()}"
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_index("ix_late_count_unit", table_name="late_count")
    op.drop_table("late_count")
    op.alter_column("deadline", "branch_id", nullable=True)
