"""Versions for the records people edit beside the case, and why a first responsible was not reached
(issue 27, issue 26, issue 25 item 9).

- rule_setting.version: two HQ admins editing the settings at once both succeeded and the later
  silently won (a colleague's D7 = 40 went back to 36). Each setting now carries a version the
  page draws and the save checks.
- Every editable setting gets a row (estimate.confirm_above came after the seed of 0002), so every
  one has a version to check and a who/when to name.
- contact_attempt.reason_code: 无法联系 was saved with no reason. Which of 关机 / 无法接通 / 无人接听
  (unreachable) or 出差 / 开会 (unavailable) is now a required choice and stored. Rows from before
  keep NULL (their reason, if any, is in the free-text column).

Revision ID: 0023
Revises: 0022
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# Frozen here (a migration must not change when the application's lists do).
_UNREACHABLE = ("phone_off", "cannot_connect", "no_answer")
_UNAVAILABLE = ("business_trip", "meeting")
_SEEDED = {"estimate.confirm_above": 50_000_000}


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.add_column("rule_setting", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False))
    conn = op.get_bind()
    for key, value in _SEEDED.items():
        conn.execute(sa.text("INSERT INTO rule_setting (key, value) VALUES (:k, CAST(:v AS jsonb)) "
                             "ON CONFLICT (key) DO NOTHING"), {"k": key, "v": json.dumps(value)})
    op.add_column("contact_attempt", sa.Column("reason_code", sa.String(16), nullable=True))
    op.create_check_constraint(
        "ck_contact_reason_code", "contact_attempt",
        "reason_code IS NULL"
        f" OR (outcome = 'unreachable' AND reason_code IN ({_quoted(_UNREACHABLE)}))"
        f" OR (outcome = 'unavailable' AND reason_code IN ({_quoted(_UNAVAILABLE)}))")


def downgrade() -> None:
    op.drop_constraint("ck_contact_reason_code", "contact_attempt", type_="check")
    op.drop_column("contact_attempt", "reason_code")
    op.drop_column("rule_setting", "version")
