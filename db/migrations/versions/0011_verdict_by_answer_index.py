"""Verdicts by the answer they judge.

Every opinion thread (branch feedback, case detail, the review page) shows each answer with its
verdict; without this index PostgreSQL read all verdicts ever given (135,000 at 1,000,000 cases)
to find the few of one thread's answers: ~15 ms of the branch feedback page (bench/RESULTS.md).

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_point_verdict_answer_id", "point_verdict", ["answer_id"])


def downgrade() -> None:
    op.drop_index("ix_point_verdict_answer_id", table_name="point_verdict")
