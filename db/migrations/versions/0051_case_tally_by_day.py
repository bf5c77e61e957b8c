"""The tiered cases themselves counted per report day, branch and tier (case_tally_day), for the
executive overview's national view.

Migration 0045 keeps the cases' clock and review figures per report day, branch and tier; the rest
of the overview's national figures still read every tiered case of the period (41,000 for the
default 90 days at 10,000,000 cases) and aggregated them five times: the headline's reported,
pending, closed and pending estimate, the dispatched-within share, pending by branch and tier, the
ageing of pending cases and the red / yellow / blue share. 45 of the overview's 81 ms. Every
boundary those draw is again a report day, a branch or a tier, except two that depend on the time
of reading:
- the ageing buckets (days since the report, counted from now): a report day is wholly inside one
  bucket except the day each bucket's edge falls on, four days read live;
- "dispatched within N h of the estimate": a case estimated and not yet dispatched counts against
  the share only once its N hours have passed, so the few estimated in the last N hours and still
  waiting are read live (an index of the undispatched tiered cases by estimate time).
N itself is a rule setting (overview.dispatch_within_hours): the rows count the cases dispatched
within it, and a change of the setting (a trigger on rule_setting, whoever writes it) counts them
again from the cases in the same transaction, as migration 0035 does for the small-claim threshold.

Per (report day, branch, tier): the cases, the pending ones and their estimate, the estimated
ones dispatched, dispatched within N h, and waiting, and the red, yellow and blue ones.

Kept as case_count is (migration 0015): each statement that inserts, deletes or changes tiered
cases adds a row per key it touched (+n / -n); jobs.compact_case_counts folds them. The triggers
run as the tables' owner; row-level security as case_figures_day's, the scope read once (0050).

Revision ID: 0051
Revises: 0050
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None

ROLES = ("claims_app", "claims_job")
TZ = "Asia/Shanghai"
WINDOW_KEY = "overview.dispatch_within_hours"
WINDOW_DEFAULT_HOURS = 1  # dashboard/settings.py's default, when the setting's row is missing
KEYS = ("report_day", "branch_id", "tier")
TIERED = "t.tier <> 'T0'"  # the overview counts tiered cases only (services/figures/overview.case_conditions)
_PENDING = "t.state <> 'closed'"
_ESTIMATED = "t.tiered_at IS NOT NULL"
_DISPATCHED = f"{_ESTIMATED} AND t.first_dispatched_at IS NOT NULL"


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


# Column -> (type, its value for one case row `t`; `k.dispatch_window` the setting, read once per statement).
FIGURES: dict[str, tuple[str, str]] = {
    "cases": ("count", "1"),
    "pending": ("count", _flag(_PENDING)),
    "pending_amount": ("money", f"CASE WHEN {_PENDING} THEN coalesce(t.current_estimate, 0) ELSE 0 END"),
    "dispatched": ("count", _flag(_DISPATCHED)),
    "dispatched_within": ("count",
                          _flag(f"{_DISPATCHED} AND t.first_dispatched_at - t.tiered_at <= k.dispatch_window")),
    "waiting": ("count", _flag(f"{_ESTIMATED} AND t.first_dispatched_at IS NULL")),
    "red": ("count", _flag("t.risk_colour = 'red'")),
    "yellow": ("count", _flag("t.risk_colour = 'yellow'")),
    "blue": ("count", _flag("t.risk_colour = 'blue'")),
}
_TYPES = {"count": sa.Integer(), "money": sa.Numeric(18, 2)}
# What a case's key and figures are read from: an update changing none of these moves nothing.
READ_COLUMNS = ("report_time", "branch_id", "tier", "state", "current_estimate", "tiered_at", "first_dispatched_at",
                "risk_colour")
NAMES = ", ".join(FIGURES)


def _rows(source: str, sign: str, where: str = "TRUE") -> str:
    """Each tiered case row of `source` as (its key, its figures × sign)."""
    figures = ", ".join(f"{sign}({expression})" for _type, expression in FIGURES.values())
    return (f"SELECT (t.report_time AT TIME ZONE '{TZ}')::date, t.branch_id, t.tier, {figures} "
            f"FROM {source} CROSS JOIN (SELECT overview_dispatch_window() AS dispatch_window OFFSET 0) k "
            f"WHERE {TIERED} AND {where}")


def _add(rows: str) -> str:
    """Insert the summed change per key, leaving out keys it leaves as they were."""
    sums = ", ".join(f"sum({n})" for n in FIGURES)
    changed = " OR ".join(f"sum({n}) <> 0" for n in FIGURES)
    return f"""
        INSERT INTO case_tally_day ({", ".join(KEYS)}, {NAMES})
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
# The tiered cases estimated and not yet dispatched, by estimate time: those estimated within the
# last N hours are read live by the overview (the rest are decided: they count against the share).
WAITING_INDEX = "ix_claim_case_tiered_waiting"


def upgrade() -> None:
    op.execute(f"""
        CREATE FUNCTION overview_dispatch_window() RETURNS interval LANGUAGE sql STABLE AS $$
          SELECT coalesce((SELECT (value #>> '{{}}')::numeric FROM rule_setting WHERE key = '{WINDOW_KEY}'),
                          {WINDOW_DEFAULT_HOURS}) * interval '1 hour'
        $$""")
    op.create_table(
        "case_tally_day",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("report_day", sa.Date(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        *(sa.Column(name, _TYPES[kind], nullable=False, server_default="0") for name, (kind, _) in FIGURES.items()),
    )
    op.create_index("ix_case_tally_day_day", "case_tally_day", ["report_day"],
                    postgresql_include=["branch_id", "tier", *FIGURES])
    op.create_index(WAITING_INDEX, "claim_case", ["tiered_at"],
                    postgresql_include=["id", "report_time", "branch_id", "sub_branch_id", "tier", "surveyor_id"],
                    postgresql_where=sa.text("tier <> 'T0' AND tiered_at IS NOT NULL AND first_dispatched_at IS NULL"))
    # Every row again from the cases: the upgrade, a changed window, a bulk load that wrote cases
    # with triggers off. Writers of cases wait meanwhile (SHARE), and so does the folding job
    # (EXCLUSIVE). Only the tiered cases are read (one in sixty; an index of them by report time).
    op.execute(f"""
        CREATE FUNCTION case_tally_days_refill() RETURNS void LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp SET work_mem = '64MB' AS $$
        BEGIN
            LOCK TABLE claim_case IN SHARE MODE;
            LOCK TABLE case_tally_day IN EXCLUSIVE MODE;
            DELETE FROM case_tally_day;
            {_add(_rows("claim_case t", ""))};
        END $$""")
    op.execute("REVOKE EXECUTE ON FUNCTION case_tally_days_refill() FROM PUBLIC")
    op.execute("SELECT case_tally_days_refill()")
    for name, (event, referencing, rows) in TRIGGERS.items():
        op.execute(f"""
            CREATE FUNCTION case_tally_day_after_{name}() RETURNS trigger LANGUAGE plpgsql
              SECURITY DEFINER SET search_path = public, pg_temp AS $$
            BEGIN
                {_add(rows)};
                RETURN NULL;
            END $$""")
        op.execute(f"CREATE TRIGGER case_tally_day_{name} AFTER {event} ON claim_case {referencing} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION case_tally_day_after_{name}()")
    op.execute("""
        CREATE FUNCTION overview_dispatch_window_changed() RETURNS trigger LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            PERFORM case_tally_days_refill();
            RETURN NULL;
        END $$""")
    key = f"'{WINDOW_KEY}'"
    for event, when in (("INSERT", f"NEW.key = {key}"), ("DELETE", f"OLD.key = {key}"),
                        ("UPDATE", f"(OLD.key = {key} OR NEW.key = {key}) AND "
                                   "(OLD.key, OLD.value) IS DISTINCT FROM (NEW.key, NEW.value)")):
        op.execute(f"CREATE TRIGGER overview_dispatch_window_{event.lower()} AFTER {event} ON rule_setting "
                   f"FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION overview_dispatch_window_changed()")
    for role in ROLES:
        op.execute(f"GRANT SELECT ON case_tally_day TO {role}")
    # Only the folding job writes the rows itself (as for case_count, migration 0027).
    op.execute("GRANT INSERT, DELETE ON case_tally_day TO claims_job")
    op.execute("GRANT USAGE, SELECT ON SEQUENCE case_tally_day_id_seq TO claims_job")
    op.execute("ALTER TABLE case_tally_day ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY claims_scope ON case_tally_day TO claims_app USING ((SELECT claims_national()) OR "
               "branch_id = ANY ((SELECT claims_branches())::integer[]))")
    op.execute("CREATE POLICY claims_jobs ON case_tally_day TO claims_job USING (true) WITH CHECK (true)")


def downgrade() -> None:
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER overview_dispatch_window_{event} ON rule_setting")
    op.execute("DROP FUNCTION overview_dispatch_window_changed()")
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER case_tally_day_{name} ON claim_case")
        op.execute(f"DROP FUNCTION case_tally_day_after_{name}()")
    op.execute("DROP FUNCTION case_tally_days_refill()")
    op.drop_index(WAITING_INDEX, table_name="claim_case")
    op.drop_table("case_tally_day")
    op.execute("DROP FUNCTION overview_dispatch_window()")
