"""A message's delivery channel is one the system knows (outbox, email, webhook) or not yet set.

`person.notify_channel` has been held to those three since migration 0033; `notification.channel`,
the channel a message last went (or was tried) by, had no such rule. The delivery job only ever
writes one of the three, but a value written by hand (`robot`, in a walk) made 消息投递 fail with
an unexpected error for everyone who opened it. The page now shows an unknown channel as it is,
and the database refuses one from now on. The table is partitioned by month: the constraint is
added on the parent and so holds on every month, those to come included. Adding it reads every
row once; an unknown value already present stops the upgrade with PostgreSQL's own message naming
the constraint, to be mended by hand (nothing is rewritten without a person deciding what it was).

Revision ID: 0053
Revises: 0052
"""
from __future__ import annotations

from alembic import op

revision = "0053"
down_revision = "0052"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_check_constraint("ck_notification_channel", "notification",
                               "channel IN ('outbox', 'email', 'webhook')")


def downgrade() -> None:
    op.drop_constraint("ck_notification_channel", "notification", type_="check")
