"""The quality scorecard's case figures, kept by the database per sub-branch, report month and close
month (scorecard_cell).

The scorecard's computed indicators (services/scorecard/computed) aggregated every case reported
before the period's end and open after its year began (about a third of claim_case) with twenty
FILTERed aggregates, once for the ranking and once per period of a branch's trend: 1.4 s at
1,000,000 cases for a quarter, growing with every case. Every boundary those indicators draw is a
month in Asia/Shanghai (a period, its year) except the stale one, so a case's contribution to every
indicator of every period is decided by its unit, the month it was reported in, the month it was
closed in (`infinity` while open) and its own figures: a period's indicators are sums over the
cells of a few hundred units × the months, whatever the number of cases.

Per cell: the cases, and of them the forced registrations, the motor zero closures (and those
reopened), the closed ones paid above 0 (their paid, their estimate held, how many held one, their
first-estimate deviation and its base), the motor ones paid above `scorecard.small_claim` (count
and paid), the ones paid at most that (count and Σ seconds from report to closing; the motor ones
with a first estimate: count and Σ seconds from it to closing) and the estimate held. Seconds are
`extract(epoch ...)` summed as numeric, as the live average summed them: a period's average is the
same division of the same sum.

The small-claim threshold is a rule setting HQ may change: the cells are bucketed by it, and a
change of the setting (a trigger on rule_setting, whoever writes it) refills them from the cases in
the same transaction (claim_case locked against writes meanwhile: seconds at 1,000,000 cases, on a
setting changed a few times a year). The stale boundary (stale_days before the period's end, or
before now) is not a month: the reader sums the whole months before it and counts the rest of its
month live.

Kept as case_count is (migration 0015): each statement that inserts, deletes or changes the cases'
figures adds a row per cell it touched (+n / −n); rows are only ever added, so no two writers wait
on one counter row, and jobs.compact_case_counts folds them. The triggers run as the tables' owner
(migration 0027); row-level security as case_count's: a branch reads its own units' cells.

Revision ID: 0035
Revises: 0034
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

ROLES = ("claims_app", "claims_job")
TZ = "Asia/Shanghai"
SMALL_CLAIM_DEFAULT = 10000  # the setting's default (migration 0031) when its row is missing
KEYS = ("branch_id", "sub_branch_id", "report_month", "close_month")
LONG_OPEN_DAYS = 90  # dashboard/services/scorecard/computed.LONG_OPEN_DAYS
LONG_OPEN = f"closed_at IS NULL OR closed_at - report_time > interval '{LONG_OPEN_DAYS} days'"

# A row `t` of claim_case; `k.small` is the small-claim threshold, read once per statement (OFFSET 0
# keeps the planner from calling the function per row).
_PAID = "t.closed_at IS NOT NULL AND t.paid_amount > 0"
_MOTOR = "t.business_line = 'motor'"
_SMALL = f"{_PAID} AND t.paid_amount <= k.small"
_TRANSFER = f"{_SMALL} AND {_MOTOR} AND t.first_estimated_at IS NOT NULL"
_DEVIATION = f"{_PAID} AND t.first_estimate IS NOT NULL"


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _when(condition: str, value: str) -> str:
    return f"CASE WHEN {condition} THEN {value} ELSE 0 END"


# Column -> (type, its value for one case row `t`).
FIGURES: dict[str, tuple[str, str]] = {
    "cases": ("count", "1"),
    "forced": ("count", _flag("t.forced_registration")),
    "motor_zero": ("count", _flag(f"{_MOTOR} AND t.zero_closed")),
    "motor_zero_reopened": ("count", _flag(f"{_MOTOR} AND t.zero_closed AND t.reopen_count > 0")),
    "paid_cases": ("count", _flag(_PAID)),
    "paid_sum": ("money", _when(_PAID, "t.paid_amount")),
    "paid_estimated": ("count", _flag(f"{_PAID} AND t.current_estimate IS NOT NULL")),
    "paid_estimate_sum": ("money", _when(_PAID, "coalesce(t.current_estimate, 0)")),
    "deviation_sum": ("money", _when(_DEVIATION, "abs(t.first_estimate - t.paid_amount)")),
    "deviation_base": ("money", _when(_DEVIATION, "t.paid_amount")),
    "motor_large_cases": ("count", _flag(f"{_PAID} AND {_MOTOR} AND t.paid_amount > k.small")),
    "motor_large_paid": ("money", _when(f"{_PAID} AND {_MOTOR} AND t.paid_amount > k.small", "t.paid_amount")),
    "small_cases": ("count", _flag(_SMALL)),
    "small_cycle_seconds": ("seconds", _when(_SMALL, "extract(epoch FROM t.closed_at - t.report_time)")),
    "small_motor_transfers": ("count", _flag(_TRANSFER)),
    "small_motor_transfer_seconds": ("seconds", _when(_TRANSFER, "extract(epoch FROM t.closed_at - t.first_estimated_at)")),
    "estimate_sum": ("money", "coalesce(t.current_estimate, 0)"),
}
_TYPES = {"count": sa.BigInteger(), "money": sa.Numeric(18, 2), "seconds": sa.Numeric()}
# What a case's cell and figures are read from: an update changing none of these moves nothing.
READ_COLUMNS = ("branch_id", "sub_branch_id", "report_time", "closed_at", "business_line", "paid_amount",
                "current_estimate", "first_estimate", "first_estimated_at", "forced_registration", "zero_closed",
                "reopen_count")
NAMES = ", ".join(FIGURES)


def _rows(source: str, sign: str, where: str = "TRUE") -> str:
    """Each case row of `source` as (its cell, its figures × sign)."""
    figures = ", ".join(f"{sign}({expression})" for _type, expression in FIGURES.values())
    return (f"SELECT t.branch_id, t.sub_branch_id, "
            f"date_trunc('month', t.report_time AT TIME ZONE '{TZ}')::date, "
            f"coalesce(date_trunc('month', t.closed_at AT TIME ZONE '{TZ}')::date, 'infinity'::date), {figures} "
            f"FROM {source} CROSS JOIN (SELECT scorecard_small_claim() AS small OFFSET 0) k WHERE {where}")


def _add(rows: str) -> str:
    """Insert the summed change per cell, leaving out cells it leaves as they were."""
    sums = ", ".join(f"sum({n})" for n in FIGURES)
    changed = " OR ".join(f"sum({n}) <> 0" for n in FIGURES)
    return f"""
        INSERT INTO scorecard_cell ({", ".join(KEYS)}, {NAMES})
        SELECT {", ".join(KEYS)}, {sums} FROM ({rows}) AS d ({", ".join(KEYS)}, {NAMES})
         GROUP BY {", ".join(KEYS)} HAVING {changed}
    """




def _changed(old: str, new: str) -> str:
    return (f"({', '.join(f'{old}.{c}' for c in READ_COLUMNS)}) IS DISTINCT FROM "
            f"({', '.join(f'{new}.{c}' for c in READ_COLUMNS)})")


TRIGGERS = {
    "insert": ("INSERT", "REFERENCING NEW TABLE AS new_cases", _rows("new_cases t", "")),
    "delete": ("DELETE", "REFERENCING OLD TABLE AS old_cases", _rows("old_cases t", "-")),
    "update": ("UPDATE", "REFERENCING OLD TABLE AS old_cases NEW TABLE AS new_cases",
               _rows("old_cases t JOIN new_cases n ON n.id = t.id", "-", _changed("t", "n"))
               + " UNION ALL "
               + _rows("new_cases t JOIN old_cases o ON o.id = t.id", "", _changed("o", "t"))),
}


def upgrade() -> None:
    op.create_table(
        "scorecard_cell",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("sub_branch_id", sa.Integer(), nullable=False),
        sa.Column("report_month", sa.Date(), nullable=False),
        sa.Column("close_month", sa.Date(), nullable=False),  # 'infinity' while the case is open
        *(sa.Column(name, _TYPES[kind], nullable=False, server_default="0") for name, (kind, _) in FIGURES.items()),
    )
    # A branch's trend reads its own cells of a few months.
    op.create_index("ix_scorecard_cell_branch", "scorecard_cell", ["branch_id", "close_month", "report_month"])
    # The cases open long: still open, or closed more than LONG_OPEN_DAYS after their report (a tenth
    # of the cases). A case pending at a period's end reported more than that before it is one, so
    # the stale cases are all here while the stale days are at least that: the live count of the
    # stale boundary's month (by report time) and a branch's stale cases (by branch) read these
    # instead of every case of the month or of the branch.
    for name, columns, include in (("ix_claim_case_long_open", ["report_time"], ["branch_id", "closed_at"]),
                                   ("ix_claim_case_long_open_branch", ["branch_id", "report_time"], ["closed_at"])):
        op.create_index(name, "claim_case", columns, postgresql_include=include, postgresql_where=sa.text(LONG_OPEN))
    op.execute(f"""
        CREATE FUNCTION scorecard_small_claim() RETURNS numeric LANGUAGE sql STABLE AS $$
          SELECT coalesce((SELECT (value #>> '{{}}')::numeric FROM rule_setting WHERE key = 'scorecard.small_claim'),
                          {SMALL_CLAIM_DEFAULT})
        $$""")
    # Every cell again from the cases: the upgrade, a changed small-claim threshold, a bulk load that
    # wrote cases with triggers off. Writers of cases wait meanwhile (SHARE), and so does the folding
    # job (EXCLUSIVE): both statements below see every change committed before them. The work memory
    # keeps the grouping (some 60,000 cells at 1,000,000 cases) off the disk.
    op.execute(f"""
        CREATE FUNCTION scorecard_cells_refill() RETURNS void LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp SET work_mem = '64MB' AS $$
        BEGIN
            LOCK TABLE claim_case IN SHARE MODE;
            LOCK TABLE scorecard_cell IN EXCLUSIVE MODE;
            DELETE FROM scorecard_cell;
            {_add(_rows("claim_case t", ""))};
        END $$""")
    op.execute("REVOKE EXECUTE ON FUNCTION scorecard_cells_refill() FROM PUBLIC")
    op.execute("SELECT scorecard_cells_refill()")
    for name, (event, referencing, rows) in TRIGGERS.items():
        op.execute(f"""
            CREATE FUNCTION scorecard_cell_after_{name}() RETURNS trigger LANGUAGE plpgsql
              SECURITY DEFINER SET search_path = public, pg_temp AS $$
            BEGIN
                {_add(rows)};
                RETURN NULL;
            END $$""")
        op.execute(f"CREATE TRIGGER scorecard_cell_{name} AFTER {event} ON claim_case {referencing} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION scorecard_cell_after_{name}()")
    op.execute("""
        CREATE FUNCTION scorecard_small_claim_changed() RETURNS trigger LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            PERFORM scorecard_cells_refill();
            RETURN NULL;
        END $$""")
    key = "'scorecard.small_claim'"
    for event, when in (("INSERT", f"NEW.key = {key}"), ("DELETE", f"OLD.key = {key}"),
                        ("UPDATE", f"(OLD.key = {key} OR NEW.key = {key}) AND "
                                   "(OLD.key, OLD.value) IS DISTINCT FROM (NEW.key, NEW.value)")):
        op.execute(f"CREATE TRIGGER scorecard_small_claim_{event.lower()} AFTER {event} ON rule_setting "
                   f"FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION scorecard_small_claim_changed()")
    for role in ROLES:
        op.execute(f"GRANT SELECT ON scorecard_cell TO {role}")
    # Only the folding job writes the cells itself (as for case_count, migration 0027).
    op.execute("GRANT INSERT, DELETE ON scorecard_cell TO claims_job")
    op.execute("GRANT USAGE, SELECT ON SEQUENCE scorecard_cell_id_seq TO claims_job")
    op.execute("ALTER TABLE scorecard_cell ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY claims_scope ON scorecard_cell TO claims_app USING (claims_national() OR "
               "branch_id = ANY (claims_branches()) OR sub_branch_id = ANY (claims_sub_branches()))")
    op.execute("CREATE POLICY claims_jobs ON scorecard_cell TO claims_job USING (true) WITH CHECK (true)")


def downgrade() -> None:
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER scorecard_small_claim_{event} ON rule_setting")
    op.execute("DROP FUNCTION scorecard_small_claim_changed()")
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER scorecard_cell_{name} ON claim_case")
        op.execute(f"DROP FUNCTION scorecard_cell_after_{name}()")
    op.execute("DROP FUNCTION scorecard_cells_refill()")
    op.execute("DROP FUNCTION scorecard_small_claim()")
    op.drop_table("scorecard_cell")
    for name in ("ix_claim_case_long_open_branch", "ix_claim_case_long_open"):
        op.drop_index(name, table_name="claim_case")
