"""Special-case approvals and the complaint / dispute / difficult-case register (issue 20;
docs/DOMAIN.md §7, §8).

- `special_case`: a case raised as special type A/B/C with the business unit's justification, the
  approval chain drawn when it was raised (and the limits it was drawn with), the level it waits
  at, and its status. One pending request per case. `special_approval`: each level's decision
  and comment, append-only.
- `complaint_item`: a complaint, dispute or difficult case, linked to a case where there is one,
  registered in a branch, assigned to a person, moved through the steps of rules/complaints.py
  with what each step records. `complaint_step`: each move, append-only.
- Row-level security: a special case is seen with its case; an item by its branch / sub-branch,
  or by the person it is assigned to.
- Settings: the approval limits and the days before a missing return visit is overdue.

Revision ID: 0030
Revises: 0029
"""
from __future__ import annotations

import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

ROLES = ("claims_app", "claims_job")
Money = sa.Numeric(14, 2)
_SETTINGS = {"special.limit.sub_claims_head": 10000, "special.limit.sub_gm": 50000,
             "special.limit.branch_line_dept": 200000, "complaint.return_visit_days": 15}
_STEPS = ("registered", "assigned", "escalated", "working_group", "mediation", "arbitration", "handled",
          "return_visited", "archived")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


_POLICIES = {
    "special_case": "EXISTS (SELECT 1 FROM claim_case c WHERE c.id = special_case.case_id)",
    "special_approval": "EXISTS (SELECT 1 FROM special_case s WHERE s.id = special_approval.special_case_id)",
    "complaint_item": ("branch_id = ANY (claims_branches()) OR sub_branch_id = ANY (claims_sub_branches()) "
                       "OR assignee_id = claims_me()"),
    "complaint_step": "EXISTS (SELECT 1 FROM complaint_item i WHERE i.id = complaint_step.item_id)",
}


def upgrade() -> None:
    op.create_table(
        "special_case",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("claim_case.id"), nullable=False),
        sa.Column("branch_id", sa.Integer(), sa.ForeignKey("org_unit.id"), nullable=False),
        sa.Column("sub_branch_id", sa.Integer(), sa.ForeignKey("org_unit.id")),
        sa.Column("special_type", sa.String(1), nullable=False),
        sa.Column("customer_kind", sa.String(16), nullable=False),
        sa.Column("circumstances", ARRAY(sa.String(24)), nullable=False, server_default="{}"),
        sa.Column("requested_amount", Money, nullable=False),
        sa.Column("normal_amount", Money, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("policy_numbers", sa.Text()),
        sa.Column("premium_written", Money),
        sa.Column("premium_collected", Money),
        sa.Column("paid_losses", Money),
        sa.Column("pending_losses", Money),
        sa.Column("past_loss_ratio_pct", sa.Numeric(7, 2)),
        sa.Column("expected_premium", Money),
        sa.Column("expected_premium_on", sa.Date()),
        sa.Column("customer_background", sa.Text()),
        sa.Column("chain", ARRAY(sa.String(24)), nullable=False),
        sa.Column("limits", JSONB(), nullable=False),
        sa.Column("next_level", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
        sa.Column("raised_by", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint("special_type IN ('A', 'B', 'C')", name="ck_special_case_type"),
        sa.CheckConstraint(_in("customer_kind", ("key_customer", "prospect", "reputation")),
                           name="ck_special_case_customer"),
        sa.CheckConstraint(_in("status", ("pending", "approved", "rejected")), name="ck_special_case_status"),
        sa.CheckConstraint("requested_amount >= 0 AND normal_amount >= 0 AND requested_amount >= normal_amount",
                           name="ck_special_case_amounts"),
        sa.CheckConstraint("next_level >= 0 AND next_level <= cardinality(chain)", name="ck_special_case_level"),
    )
    op.create_index("uq_special_case_pending", "special_case", ["case_id"], unique=True,
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index("ix_special_case_case", "special_case", ["case_id"])
    op.create_index("ix_special_case_branch_raised", "special_case", ["branch_id", "raised_at"])
    op.create_table(
        "special_approval",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("special_case_id", sa.Integer(), sa.ForeignKey("special_case.id"), nullable=False, index=True),
        sa.Column("level", sa.String(24), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("decision IN ('approved', 'rejected')", name="ck_special_approval_decision"),
    )
    op.create_table(
        "complaint_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_no", sa.String(20), nullable=False, unique=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("cause", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("claim_case.id")),
        sa.Column("branch_id", sa.Integer(), sa.ForeignKey("org_unit.id"), nullable=False),
        sa.Column("sub_branch_id", sa.Integer(), sa.ForeignKey("org_unit.id")),
        sa.Column("complainant", sa.String(100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("step", sa.String(16), nullable=False, server_default="registered"),
        sa.Column("assignee_id", sa.Integer(), sa.ForeignKey("person.id")),
        sa.Column("escalation_note", sa.Text()),
        sa.Column("minutes", sa.Text()),
        sa.Column("plan", sa.Text()),
        sa.Column("mediation_outcome", sa.String(8)),
        sa.Column("mediation_note", sa.Text()),
        sa.Column("arbitration_result", sa.Text()),
        sa.Column("justified", sa.Boolean()),
        sa.Column("apology", sa.Text()),
        sa.Column("measure", sa.Text()),
        sa.Column("handling_result", sa.Text()),
        sa.Column("outcome", sa.String(12)),
        sa.Column("handled_at", sa.DateTime(timezone=True)),
        sa.Column("return_visit", sa.Text()),
        sa.Column("return_visited_at", sa.DateTime(timezone=True)),
        sa.Column("archived_at", sa.DateTime(timezone=True)),
        sa.Column("registered_by", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint("kind IN ('complaint', 'dispute', 'difficult')", name="ck_complaint_item_kind"),
        sa.CheckConstraint(_in("step", _STEPS), name="ck_complaint_item_step"),
        sa.CheckConstraint("mediation_outcome IS NULL OR mediation_outcome IN ('agreed', 'failed')",
                           name="ck_complaint_item_mediation"),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('justified', 'unjustified', 'settled', 'mediated', 'arbitrated', 'resolved')",
            name="ck_complaint_item_outcome"),
        # 第九条: nothing is archived without a return visit, whatever path writes the row.
        sa.CheckConstraint("step <> 'archived' OR (return_visit IS NOT NULL AND return_visited_at IS NOT NULL)",
                           name="ck_complaint_item_visit_before_archive"),
    )
    op.create_index("ix_complaint_item_branch_registered", "complaint_item", ["branch_id", "registered_at"])
    op.create_index("ix_complaint_item_open", "complaint_item", ["registered_at"],
                    postgresql_where=sa.text("step NOT IN ('return_visited', 'archived')"))
    op.create_index("ix_complaint_item_case", "complaint_item", ["case_id"],
                    postgresql_where=sa.text("case_id IS NOT NULL"))
    op.create_table(
        "complaint_step",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("complaint_item.id"), nullable=False, index=True),
        sa.Column("from_step", sa.String(16)),
        sa.Column("to_step", sa.String(16), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    for role in ROLES:
        op.execute(f"GRANT SELECT ON special_case, special_approval, complaint_item, complaint_step TO {role}")
        op.execute(f"GRANT INSERT, UPDATE ON special_case, complaint_item TO {role}")
        op.execute(f"GRANT INSERT ON special_approval, complaint_step TO {role}")
    for table, visible in _POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY claims_scope ON {table} TO claims_app USING (claims_national() OR {visible})")
        op.execute(f"CREATE POLICY claims_jobs ON {table} TO claims_job USING (true) WITH CHECK (true)")
    conn = op.get_bind()
    for key, value in _SETTINGS.items():
        conn.execute(sa.text("INSERT INTO rule_setting (key, value) VALUES (:k, CAST(:v AS jsonb)) "
                             "ON CONFLICT (key) DO NOTHING"), {"k": key, "v": json.dumps(value)})


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM rule_setting WHERE key IN :keys").bindparams(
        sa.bindparam("keys", expanding=True)), {"keys": list(_SETTINGS)})
    for table in ("complaint_step", "complaint_item", "special_approval", "special_case"):
        op.drop_table(table)
