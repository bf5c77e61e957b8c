"""Each review point keeps how many answers it has had and how long the branch took for them.

The overview's "average answer time" went answer by answer: for every answer of the filtered
cases' points, find the send-back it responds to (or the opinion's posting) — ~20,000 index
probes for one quarter at 1,000,000 cases, the largest share of the overview's headline
statement. The wait of an answer is fixed once the answer is written (the round it answers began
before it), so the database adds it to the point when the answer is inserted, whoever inserts it
(the answer service, an import, a data fix), and the overview sums two columns of points it reads
anyway. The existing answers are counted once here.

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The wait of one answer: from the latest send-back of its point decided before it, else from the
# opinion's posting, to the answer.
_WAIT = """extract(epoch FROM {answer}.answered_at - coalesce(
        (SELECT max(v.decided_at) FROM point_verdict v
          WHERE v.point_id = {answer}.point_id AND v.verdict = 'sent_back' AND v.decided_at <= {answer}.answered_at),
        (SELECT o.posted_at FROM opinion_point p JOIN opinion o ON o.id = p.opinion_id WHERE p.id = {answer}.point_id)))"""


def upgrade() -> None:
    op.add_column("opinion_point", sa.Column("answer_count", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.add_column("opinion_point", sa.Column("answer_seconds", sa.Float(), server_default=sa.text("0"), nullable=False))
    op.execute(f"""
        UPDATE opinion_point p SET answer_count = t.n, answer_seconds = t.seconds
          FROM (SELECT pa.point_id, count(*) AS n, sum({_WAIT.format(answer="pa")}) AS seconds
                  FROM point_answer pa GROUP BY pa.point_id) t
         WHERE t.point_id = p.id
    """)
    op.execute(f"""
        CREATE FUNCTION point_answer_add_to_totals() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE opinion_point
               SET answer_count = answer_count + 1,
                   answer_seconds = answer_seconds + {_WAIT.format(answer="NEW")}
             WHERE id = NEW.point_id;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER point_answer_totals AFTER INSERT ON point_answer
        FOR EACH ROW EXECUTE FUNCTION point_answer_add_to_totals()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER point_answer_totals ON point_answer")
    op.execute("DROP FUNCTION point_answer_add_to_totals()")
    op.drop_column("opinion_point", "answer_seconds")
    op.drop_column("opinion_point", "answer_count")
