"""The claim quality scorecard of branches (issue 21; docs/DOMAIN.md §9).

- `claim_case` gains what the computed indicators read and nothing kept before: the amount paid
  (recorded when the case is marked paid; a case closed without a payment is a zero closure, 零结案,
  kept as `zero_closed` through a reopening), whether the registration was forced (强迫立案,
  recorded at intake), and the first estimate with its time (kept by a trigger on `estimate`, so
  every writer of estimates keeps it). Closed cases of before this migration have no payment on
  record: their last estimate stands in for it (the best figure there is), which makes their
  deviation and adequacy read perfect — the page's cases from now on carry the real amount.
- `scorecard_indicator`: the sixteen indicators' groups, weights and scoring (rules/scorecard),
  seeded with the source's weights and our bands.
- `branch_financials`: the financial figures HQ enters per branch and period (premium, reserves,
  reinsurance, subrogation, the loss-ratio budget, expense execution, the special-work scores).
  Row-level security: a branch reads its own.

Revision ID: 0031
Revises: 0030
"""
from __future__ import annotations

import json

from alembic import op
import sqlalchemy as sa

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

ROLES = ("claims_app", "claims_job")
Money = sa.Numeric(16, 2)
_SETTINGS = {"scorecard.stale_days": 180, "scorecard.small_claim": 10000}
# key, group, weight, source, scoring, full, zero, target, unit (dashboard/settings.DEFAULT_SCORECARD)
_INDICATORS = (
    ("loss_ratio", "cost", 15, "entered", "loss_ratio_bands", None, None, None, "pct"),
    ("reserve_adequacy", "cost", 10, "computed", "closeness", None, 20, 100, "pct"),
    ("indirect_expense", "cost", 10, "entered", "linear", 100, 120, 100, "pct"),
    ("motor_avg_paid_over_10k", "cost", 5, "computed", "linear", 30000, 60000, None, "yuan"),
    ("first_estimate_deviation", "management", 5, "computed", "linear", 10, 50, None, "pct"),
    ("stale_pending_rate", "management", 5, "computed", "linear", 5, 30, None, "pct"),
    ("forced_registration_rate", "management", 5, "computed", "linear", 0, 10, None, "pct"),
    ("motor_zero_reopen_rate", "management", 5, "computed", "linear", 1, 10, None, "pct"),
    ("small_cycle_days", "service", 5, "computed", "linear", 10, 45, None, "days"),
    ("motor_small_transfer_days", "service", 5, "computed", "linear", 3, 15, None, "days"),
    ("handling_rate", "service", 5, "computed", "linear", 95, 60, None, "pct"),
    ("count_closure_rate", "service", 5, "computed", "linear", 90, 50, None, "pct"),
    ("amount_closure_rate", "service", 5, "computed", "linear", 80, 40, None, "pct"),
    ("anti_fraud", "special", 5, "entered", "linear", 100, 0, None, "score"),
    ("cross_region", "special", 5, "entered", "linear", 100, 0, None, "score"),
    ("parts_selection_rate", "special", 5, "entered", "linear", 95, 50, None, "pct"),
)
FINANCIAL_MONEY = ("premium", "ceded", "assumed", "unearned_change", "paid", "reserve_change", "reinsurance_paid",
                   "reinsurance_recovered", "subrogation")
FINANCIAL_PCT = ("loss_ratio_budget_pct", "indirect_expense_pct", "anti_fraud_score", "cross_region_score",
                 "parts_selection_pct")


def upgrade() -> None:
    for column in (sa.Column("paid_amount", sa.Numeric(14, 2)),
                   sa.Column("zero_closed", sa.Boolean(), nullable=False, server_default=sa.text("false")),
                   sa.Column("forced_registration", sa.Boolean(), nullable=False, server_default=sa.text("false")),
                   sa.Column("first_estimate", sa.Numeric(14, 2)),
                   sa.Column("first_estimated_at", sa.DateTime(timezone=True))):
        op.add_column("claim_case", column)
    op.create_check_constraint("ck_claim_case_paid", "claim_case", "paid_amount IS NULL OR paid_amount >= 0")
    op.execute("""
        UPDATE claim_case c SET first_estimate = e.amount, first_estimated_at = e.recorded_at
          FROM (SELECT DISTINCT ON (case_id) case_id, amount, recorded_at FROM estimate
                 ORDER BY case_id, recorded_at, id) e
         WHERE e.case_id = c.id""")
    op.execute("""
        UPDATE claim_case SET paid_amount = coalesce(current_estimate, 0),
                              zero_closed = coalesce(current_estimate, 0) = 0
         WHERE state IN ('paid', 'closed')""")
    op.execute("""
        CREATE FUNCTION estimate_sets_first_estimate() RETURNS trigger LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            UPDATE claim_case SET first_estimate = NEW.amount, first_estimated_at = NEW.recorded_at
             WHERE id = NEW.case_id AND first_estimate IS NULL;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER estimate_first_estimate AFTER INSERT ON estimate FOR EACH ROW "
               "EXECUTE FUNCTION estimate_sets_first_estimate()")
    # The scorecard reads the cases closed in a period.
    op.create_index("ix_claim_case_closed_at", "claim_case", ["closed_at"],
                    postgresql_include=["branch_id", "business_line", "paid_amount", "report_time"],
                    postgresql_where=sa.text("closed_at IS NOT NULL"))
    # The complaint register lists the unarchived items, newest first (issue 20's bench: the list
    # read and sorted every open item).
    op.create_index("ix_complaint_item_unarchived", "complaint_item", [sa.text("registered_at DESC"), sa.text("id DESC")],
                    postgresql_where=sa.text("step <> 'archived'"))
    op.create_table(
        "scorecard_indicator",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("group_key", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("weight_pct", sa.Numeric(5, 2), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("scoring", sa.String(20), nullable=False),
        sa.Column("full_value", sa.Numeric(14, 2)),
        sa.Column("zero_value", sa.Numeric(14, 2)),
        sa.Column("target", sa.Numeric(14, 2)),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("person.id")),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("group_key IN ('cost', 'management', 'service', 'special')", name="ck_scorecard_group"),
        sa.CheckConstraint("weight_pct >= 0 AND weight_pct <= 100", name="ck_scorecard_weight"),
        sa.CheckConstraint("source IN ('computed', 'entered')", name="ck_scorecard_source"),
        sa.CheckConstraint("scoring IN ('linear', 'closeness', 'loss_ratio_bands')", name="ck_scorecard_scoring"),
    )
    table = sa.table("scorecard_indicator", *(sa.column(c) for c in (
        "key", "group_key", "position", "weight_pct", "source", "scoring", "full_value", "zero_value", "target", "unit")))
    op.bulk_insert(table, [dict(key=k, group_key=g, position=i, weight_pct=w, source=src, scoring=sc, full_value=f,
                                zero_value=z, target=tg, unit=u)
                           for i, (k, g, w, src, sc, f, z, tg, u) in enumerate(_INDICATORS)])
    op.create_table(
        "branch_financials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("branch_id", sa.Integer(), sa.ForeignKey("org_unit.id"), nullable=False),
        sa.Column("period_kind", sa.String(8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        *(sa.Column(name, Money) for name in FINANCIAL_MONEY),
        *(sa.Column(name, sa.Numeric(7, 2)) for name in FINANCIAL_PCT),
        sa.Column("entered_by", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint("period_kind IN ('year', 'quarter', 'month')", name="ck_branch_financials_kind"),
        sa.UniqueConstraint("branch_id", "period_kind", "period_start", name="uq_branch_financials_period"),
    )
    for role in ROLES:
        op.execute(f"GRANT SELECT ON scorecard_indicator, branch_financials TO {role}")
    op.execute("GRANT INSERT, UPDATE ON scorecard_indicator, branch_financials TO claims_app")
    op.execute("ALTER TABLE branch_financials ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY claims_scope ON branch_financials TO claims_app "
               "USING (claims_national() OR branch_id = ANY (claims_branches()))")
    op.execute("CREATE POLICY claims_jobs ON branch_financials TO claims_job USING (true) WITH CHECK (true)")
    conn = op.get_bind()
    for key, value in _SETTINGS.items():
        conn.execute(sa.text("INSERT INTO rule_setting (key, value) VALUES (:k, CAST(:v AS jsonb)) "
                             "ON CONFLICT (key) DO NOTHING"), {"k": key, "v": json.dumps(value)})


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM rule_setting WHERE key IN :keys").bindparams(
        sa.bindparam("keys", expanding=True)), {"keys": list(_SETTINGS)})
    op.drop_table("branch_financials")
    op.drop_table("scorecard_indicator")
    op.drop_index("ix_claim_case_closed_at", table_name="claim_case")
    op.drop_index("ix_complaint_item_unarchived", table_name="complaint_item")
    op.execute("DROP TRIGGER IF EXISTS estimate_first_estimate ON estimate")
    op.execute("DROP FUNCTION IF EXISTS estimate_sets_first_estimate()")
    op.drop_constraint("ck_claim_case_paid", "claim_case", type_="check")
    for column in ("first_estimated_at", "first_estimate", "forced_registration", "zero_closed", "paid_amount"):
        op.drop_column("claim_case", column)
