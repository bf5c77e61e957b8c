"""Red / yellow / blue motor claims and major cases (issue 19; docs/DOMAIN.md §6, §8).

- `risk_rule_set`: the thresholds of the colour rule, versioned like the tier table (one active
  version; a case keeps the version it was classified with). Version 1 holds docs/DOMAIN.md §6's values.
- `claim_case` gains what the rule reads and the intake did not capture (vehicle and property
  damage, the policy's earned loss ratio and claim count, how the accident was handled, the
  surveyor's doubts and why) and the result: colour, the criteria behind it, the rule version.
- Major cases: why a case is major, its named owner, and the catastrophe event it is tagged to;
  `catastrophe_event` (a typhoon, a flood) tags many cases; `org_unit.claim_authority` is a
  branch's highest authority (NULL: the `major.branch_authority` setting, 500,000 by docs/DOMAIN.md §3).

Revision ID: 0029
Revises: 0028
"""
from __future__ import annotations

import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

ROLES = ("claims_app", "claims_job")
_THRESHOLDS_V1 = {
    "night_from_hour": 22, "night_to_hour": 5, "day_from_hour": 8, "day_to_hour": 19, "new_policy_days": 7,
    "late_report_hours": 48, "immediate_report_hours": 2, "old_vehicle_years": 10, "luxury_sum_insured": "1000000",
    "red_vehicle_damage": "50000", "blue_vehicle_damage": "5000", "blue_property_damage": "1000",
    "red_loss_ratio_pct": "60", "red_claim_count": 3, "blue_loss_ratio_pct": "30", "blue_claim_count": 2,
}
_SETTINGS = {"major.branch_authority": 500000}
Money = sa.Numeric(14, 2)
_BOARD_INCLUDE = ["tier", "state", "current_estimate", "first_dispatched_at", "branch_id", "sub_branch_id"]
_BOARD_WHERE = "state <> 'closed' AND (tier <> 'T0' OR (state = 'reported' AND current_estimate IS NULL))"


def upgrade() -> None:
    op.create_table(
        "risk_rule_set",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False, unique=True),
        sa.Column("thresholds", JSONB(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("person.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("status IN ('active', 'superseded')", name="ck_risk_rule_set_status"),
    )
    op.create_index("uq_risk_rule_set_active", "risk_rule_set", ["status"], unique=True,
                    postgresql_where=sa.text("status = 'active'"))
    op.execute(sa.text("INSERT INTO risk_rule_set (version, thresholds, status, note) "
                       "VALUES (1, CAST(:t AS jsonb), 'active', 'docs/DOMAIN.md §6')").bindparams(t=json.dumps(_THRESHOLDS_V1)))
    op.create_table(
        "catastrophe_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("region", sa.String(100)),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("person.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('typhoon', 'flood', 'rainstorm', 'earthquake', 'hail', 'other')",
                           name="ck_catastrophe_event_kind"),
    )
    op.add_column("org_unit", sa.Column("claim_authority", Money))
    for column in (
        sa.Column("vehicle_damage", Money), sa.Column("property_damage", Money),
        sa.Column("loss_ratio_pct", sa.Numeric(7, 2)), sa.Column("claim_count", sa.Integer()),
        sa.Column("accident_handling", sa.String(16)),
        sa.Column("surveyor_doubts", ARRAY(sa.String(24)), nullable=False, server_default="{}"),
        sa.Column("doubt_reason", sa.Text()),
        sa.Column("risk_colour", sa.String(8)),
        sa.Column("risk_criteria", ARRAY(sa.String(32)), nullable=False, server_default="{}"),
        sa.Column("risk_rule_set_id", sa.Integer(), sa.ForeignKey("risk_rule_set.id")),
        sa.Column("major_reason", sa.String(16)),
        sa.Column("major_owner_id", sa.Integer(), sa.ForeignKey("person.id")),
        sa.Column("major_flagged_at", sa.DateTime(timezone=True)),
        sa.Column("catastrophe_event_id", sa.Integer(), sa.ForeignKey("catastrophe_event.id")),
    ):
        op.add_column("claim_case", column)
    op.create_check_constraint("ck_claim_case_risk_colour", "claim_case",
                               "risk_colour IS NULL OR risk_colour IN ('red', 'yellow', 'blue')")
    op.create_check_constraint(
        "ck_claim_case_handling", "claim_case",
        "accident_handling IS NULL OR accident_handling IN "
        "('insurer_at_scene', 'police', 'private', 'left_scene', 'other')")
    op.create_check_constraint(
        "ck_claim_case_major_reason", "claim_case",
        "major_reason IS NULL OR major_reason IN ('over_authority', 'social_impact', 'catastrophe')")
    op.create_check_constraint("ck_claim_case_major_flag", "claim_case",
                               "major_reason IS NULL OR is_major")
    op.create_check_constraint("ck_claim_case_damage", "claim_case",
                               "(vehicle_damage IS NULL OR vehicle_damage >= 0) AND "
                               "(property_damage IS NULL OR property_damage >= 0) AND "
                               "(loss_ratio_pct IS NULL OR loss_ratio_pct >= 0) AND "
                               "(claim_count IS NULL OR claim_count >= 0)")
    # Lists filter and order by colour; the major-case section lists major cases.
    op.create_index("ix_claim_case_colour_pending", "claim_case", ["risk_colour", "branch_id"],
                    postgresql_where=sa.text("state <> 'closed'"))
    # The dispatch board orders red first within each status: its covering index carries the colour.
    op.drop_index("ix_claim_case_board", table_name="claim_case")
    op.create_index("ix_claim_case_board", "claim_case", [sa.text("report_time DESC"), sa.text("id DESC")],
                    postgresql_include=_BOARD_INCLUDE + ["risk_colour"], postgresql_where=sa.text(_BOARD_WHERE))
    op.create_index("ix_claim_case_major", "claim_case", ["major_flagged_at"],
                    postgresql_where=sa.text("is_major"))
    op.create_index("ix_claim_case_catastrophe", "claim_case", ["catastrophe_event_id"],
                    postgresql_where=sa.text("catastrophe_event_id IS NOT NULL"))
    for role in ROLES:
        op.execute(f"GRANT SELECT ON risk_rule_set, catastrophe_event TO {role}")
    op.execute("GRANT INSERT, UPDATE ON risk_rule_set, catastrophe_event TO claims_app")
    conn = op.get_bind()
    for key, value in _SETTINGS.items():
        conn.execute(sa.text("INSERT INTO rule_setting (key, value) VALUES (:k, CAST(:v AS jsonb)) "
                             "ON CONFLICT (key) DO NOTHING"), {"k": key, "v": json.dumps(value)})


def downgrade() -> None:
    op.drop_index("ix_claim_case_board", table_name="claim_case")
    op.create_index("ix_claim_case_board", "claim_case", [sa.text("report_time DESC"), sa.text("id DESC")],
                    postgresql_include=_BOARD_INCLUDE, postgresql_where=sa.text(_BOARD_WHERE))
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM rule_setting WHERE key IN :keys").bindparams(
        sa.bindparam("keys", expanding=True)), {"keys": list(_SETTINGS)})
    for name in ("ix_claim_case_catastrophe", "ix_claim_case_major", "ix_claim_case_colour_pending"):
        op.drop_index(name, table_name="claim_case")
    for name in ("ck_claim_case_damage", "ck_claim_case_major_flag", "ck_claim_case_major_reason",
                 "ck_claim_case_handling", "ck_claim_case_risk_colour"):
        op.drop_constraint(name, "claim_case", type_="check")
    for column in ("catastrophe_event_id", "major_flagged_at", "major_owner_id", "major_reason", "risk_rule_set_id",
                   "risk_criteria", "risk_colour", "doubt_reason", "surveyor_doubts", "accident_handling",
                   "claim_count", "loss_ratio_pct", "property_damage", "vehicle_damage"):
        op.drop_column("claim_case", column)
    op.drop_column("org_unit", "claim_authority")
    op.drop_table("catastrophe_event")
    op.drop_index("uq_risk_rule_set_active", table_name="risk_rule_set")
    op.drop_table("risk_rule_set")
