"""Each review point keeps the due time of its newest answer round (the round's D5 clock).

The branch inbox lists a branch's waiting points soonest due first. Sorting by due time meant,
for every waiting point of the branch, counting its send-backs (the round it is in) and looking up
that round's D5 clock by subject, each row of both checked by row-level security through the
point, its opinion and its case: at 10,000,000 cases a big branch's 818 waiting points cost 27,000
buffer reads and 12 ms to put 25 of them on a page (bench/RESULTS.md).

A round's clock is started once, when the round begins (the opinion's posting, a send-back), and
its due time never changes afterwards; a later round's clock is always started after an earlier
one's. So the database writes the clock's due time and round onto its point when the clock is
inserted, whoever inserts it (the review service, an import, a data fix), and keeps the newest
round: a point's `due_at` is its current round's due time, read with the point. The existing
clocks are written once here.

A point with no D5 clock (a supervision opinion's, which runs on its opinion's D7) keeps NULL, as
the lookup found nothing for it before.

Revision ID: 0049
Revises: 0048
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0049"
down_revision = "0048"
branch_labels = None
depends_on = None

FUNCTION = "deadline_keeps_point_due"

# Each point's newest round's clock: what the backfill writes (and bench.generate, which loads
# with triggers off, writes and checks).
NEWEST_ROUND = """
    SELECT DISTINCT ON (point_id) point_id, round_no, due_at
      FROM (SELECT claims_d5_part(kind, subject_key, 2) AS point_id, claims_d5_part(kind, subject_key, 4) AS round_no,
                   due_at
              FROM deadline WHERE kind = 'D5') k
     WHERE point_id IS NOT NULL
     ORDER BY point_id, round_no DESC"""

# The point and round of a D5 clock come from its subject point:<id>:round:<n> (claims_d5_part,
# migration 0027: NULL for anything else). An older round's clock, inserted late by an import,
# does not overwrite a newer round's due time.
KEEP_DUE = f"""
CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    point_id integer := claims_d5_part(NEW.kind, NEW.subject_key, 2);
    round_no integer := claims_d5_part(NEW.kind, NEW.subject_key, 4);
BEGIN
    IF point_id IS NOT NULL THEN
        UPDATE opinion_point SET due_at = NEW.due_at, due_round = round_no
         WHERE id = point_id AND (due_round IS NULL OR due_round <= round_no);
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.add_column("opinion_point", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("opinion_point", sa.Column("due_round", sa.Integer(), nullable=True))
    op.execute(f"UPDATE opinion_point p SET due_at = d.due_at, due_round = d.round_no FROM ({NEWEST_ROUND}) d "
               "WHERE d.point_id = p.id")
    op.execute(KEEP_DUE)
    op.execute(f"""
        CREATE TRIGGER {FUNCTION} AFTER INSERT OR UPDATE OF due_at, subject_key ON deadline
        FOR EACH ROW WHEN (NEW.kind = 'D5') EXECUTE FUNCTION {FUNCTION}()
    """)


def downgrade() -> None:
    op.execute(f"DROP TRIGGER {FUNCTION} ON deadline")
    op.execute(f"DROP FUNCTION {FUNCTION}()")
    op.drop_column("opinion_point", "due_round")
    op.drop_column("opinion_point", "due_at")
