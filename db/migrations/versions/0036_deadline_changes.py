"""Which clocks changed since a moment, and where the violation job left off (docs/SCALING.md step 5).

jobs.flag_overdue re-read every clock open past due or met late on each run (~60,000 at 1,000,000
cases, ~600,000 at 10,000,000: about 2 s every 5 minutes, growing with history). With these, a run
reads only the clocks that fell due since the previous run's moment or changed since it started.

- `deadline.updated_at`: when a column that decides a violation last changed (due_at, met_at,
  cancelled_at, responsible_person_id, also_charged_person_id: a clock charged to a second person
  later, 分级管理办法 第三章 五, must be seen again). Kept by the database whoever writes: a BEFORE
  UPDATE row trigger sets it to clock_timestamp() when one of those changes; an INSERT that does not
  name it (a bulk load with triggers off too) gets now(). The database's time, never a business time
  (dashboard/clock.py is the business clock): it is only compared with the database's time at which
  the job's previous run started. Rows already there get '-infinity' (the first run after the upgrade
  has no watermark: it reads them all), not the upgrade's time, which the next runs would re-read.
- `ix_deadline_changed`: the clocks that can be late (the tracker's predicate) by updated_at.
- `job_watermark`: one row per job, where its previous run left off: the business moment it ran as
  of (`as_of`) and the database's time its transaction started (`started_at`). No case data, so no
  row-level security; the jobs' role writes it, the dashboard's may read it.

Revision ID: 0036
Revises: 0035
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

ROLES = ("claims_app", "claims_job")
# The columns whose values decide whether a clock is a violation and whom it charges.
DECIDING = ("due_at", "met_at", "cancelled_at", "responsible_person_id", "also_charged_person_id")
CAN_BE_LATE = "cancelled_at IS NULL AND (met_at IS NULL OR met_at > due_at)"  # as ix_deadline_tracker


def upgrade() -> None:
    # The rows already there: changed before any run ('-infinity'; the first run after the upgrade has
    # no watermark and reads them all). A constant default is stored once, no table rewrite; then
    # the default for the rows to come.
    op.add_column("deadline", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                                        server_default=sa.text("'-infinity'")))
    op.alter_column("deadline", "updated_at", server_default=sa.text("now()"))
    op.create_index("ix_deadline_changed", "deadline", ["updated_at"], postgresql_where=sa.text(CAN_BE_LATE))
    op.execute("""
        CREATE FUNCTION deadline_touch() RETURNS trigger LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            NEW.updated_at := clock_timestamp();
            RETURN NEW;
        END $$""")
    # Column by column, not (OLD.a, ...) IS DISTINCT FROM (NEW.a, ...): PostgreSQL shows that form
    # expanded into these ORs, and a dump restores it with different parentheses than it was made with.
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in DECIDING)
    op.execute(f"CREATE TRIGGER deadline_updated_at BEFORE UPDATE ON deadline FOR EACH ROW "
               f"WHEN ({changed}) EXECUTE FUNCTION deadline_touch()")
    op.create_table(
        "job_watermark",
        sa.Column("job", sa.Text(), primary_key=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    )
    for role in ROLES:
        op.execute(f"GRANT SELECT ON job_watermark TO {role}")
    op.execute("GRANT INSERT, UPDATE ON job_watermark TO claims_job")


def downgrade() -> None:
    op.drop_table("job_watermark")
    op.execute("DROP TRIGGER deadline_updated_at ON deadline")
    op.execute("DROP FUNCTION deadline_touch()")
    op.drop_index("ix_deadline_changed", table_name="deadline")
    op.drop_column("deadline", "updated_at")
