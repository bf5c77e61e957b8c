"""Signed-in sessions that survive a reload (issue 26): the web_session table.

Pressing F5 or opening a case link in a new tab signed the person out: who was signed in lived
only in one browser tab's memory. A session is now a row here, reached from the browser by an
HttpOnly cookie. The database keeps only SHA-256 digests (of the cookie's token, and of the
one-time ticket that hands the token to the browser), never the secrets themselves, so a read of
this table cannot be replayed; several servers share the rows, and ending a row (sign-out, idle
timeout, a new sign-in in the same browser) ends the session in every tab and on every server.

Revision ID: 0022
Revises: 0021
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("ticket_sha256", sa.String(64), nullable=True),
        sa.Column("ticket_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_sha256", sa.String(64), nullable=True),
        sa.Column("language", sa.String(8), nullable=False, server_default="zh"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("established_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(16), nullable=True),
        sa.CheckConstraint("end_reason IS NULL OR end_reason IN ('signed_out', 'idle', 'replaced')",
                           name="ck_web_session_end_reason"),
        sa.CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ck_web_session_ended"),
    )
    op.create_index("ix_web_session_ticket", "web_session", ["ticket_sha256"], unique=True,
                    postgresql_where=sa.text("ticket_sha256 IS NOT NULL"))
    op.create_index("ix_web_session_token", "web_session", ["token_sha256"], unique=True,
                    postgresql_where=sa.text("token_sha256 IS NOT NULL"))
    op.create_index("ix_web_session_person_id", "web_session", ["person_id"])


def downgrade() -> None:
    op.drop_table("web_session")
