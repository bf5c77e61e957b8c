"""A level's decision on a special case marks every holder's "待您审批" for it read.

When a level is reached, every holder of its post is told (services/special_cases/approvals
`_tell_next`): two sub-branch claims heads, say. One decides; the request moves on. Until now only
the decider's own message was marked read: row-level security lets a person mark only their own
messages, so the colleague's stayed unread in 我的消息, asking for a decision nobody could take any
more (the request is no longer theirs).

A trigger on special_approval, running as the tables' owner like the product's other triggers,
marks read every unread "approve" message of that request and level when a decision is inserted,
whoever inserts it. The level's position is read from the request's chain (a level appears once in
a chain), not from `next_level`, which the same flush may already have moved on. The messages are
found by their case (ix_notification_case_id in each month) and their dedupe key, whose form the
service writes: `special:<request>:level:<position>:to:<person>`.

Revision ID: 0054
Revises: 0053
"""
from __future__ import annotations

from alembic import op

revision = "0054"
down_revision = "0053"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION special_level_decided() RETURNS trigger
          LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
          UPDATE notification n SET read_at = NEW.at
            FROM special_case s
           WHERE s.id = NEW.special_case_id
             AND n.case_id = s.case_id AND n.kind = 'special_approval' AND n.read_at IS NULL
             AND n.dedupe_key LIKE 'special:' || s.id || ':level:'
                                   || (array_position(s.chain, NEW.level) - 1) || ':to:%';
          RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER special_level_decided AFTER INSERT ON special_approval "
               "FOR EACH ROW EXECUTE FUNCTION special_level_decided()")


def downgrade() -> None:
    op.execute("DROP TRIGGER special_level_decided ON special_approval")
    op.execute("DROP FUNCTION special_level_decided()")
