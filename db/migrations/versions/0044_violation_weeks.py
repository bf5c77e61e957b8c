"""The executive overview's violations by week, kept by the database per report day, branch, tier,
week and deadline type (violation_week).

The overview charts the violations of the tiered cases reported in a period by the week (Monday,
Asia/Shanghai) their deadline was missed. Read live, that joined every violation of the period's
cases to them, computed each one's week and sorted them: 85 ms of the overview's 180 at 10,000,000
cases for the default 90 days (56,000 violations of 41,000 cases), and as much again for the list
behind any of its figures. Every boundary that chart draws is a report day in Asia/Shanghai, a case's
branch or tier, so per (report day, branch, tier, week, type) the count is all it needs: a few
thousand rows for 90 days, whatever the number of cases. A sub-branch filter stays live (a
sub-branch's cases are few).

Kept as scorecard_cell is (migration 0035): rows are only ever added (+n / -n), so no two writers
wait on one counter row, and jobs.compact_case_counts folds them. What moves a count:
- a violation inserted, changed or deleted (a statement trigger; one whose appeal was accepted is
  not counted, as case_figures does not count it);
- an appeal accepted (or, should that ever happen, no longer accepted): a row trigger;
- a case whose report time, branch or tier changes (a tier changes with each estimate): a row
  trigger moves the case's violations from the old key to the new one.
A violation statement locks its cases FOR SHARE (in id order) before reading their key: an estimate
changing the case's tier meanwhile either commits first (and is read) or waits for the violation
to commit (and then moves it), so no violation is left under a tier its case no longer has.

The triggers run as the tables' owner (migration 0027); row-level security as late_count's: a
branch reads its own branch's rows.

Revision ID: 0044
Revises: 0043
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None

ROLES = ("claims_app", "claims_job")
TZ = "Asia/Shanghai"
KEYS = ("report_day", "branch_id", "tier", "week", "kind")
# Whether a violation `t` is exempt: an accepted appeal (migration 0033).
EXEMPT = "EXISTS (SELECT 1 FROM violation_appeal a WHERE a.violation_id = t.id AND a.status = 'accepted')"


def _key(case: str, violation: str) -> str:
    """The key columns of `violation`'s row, its case being `case`."""
    return (f"({case}.report_time AT TIME ZONE '{TZ}')::date, {case}.branch_id, {case}.tier, "
            f"date_trunc('week', {violation}.due_at AT TIME ZONE '{TZ}')::date, {violation}.kind")


# A row's case, as a probe of claim_case's primary key per row. A plain join let the planner, told
# a transition table holds tens of thousands of rows (the violation job's first pass), read every
# case in the table's order instead: 0.6 s at 1,000,000 cases for one statement, ten times that at
# 10,000,000. LIMIT 1 keeps the subquery a probe.
CASE_OF = "CROSS JOIN LATERAL (SELECT report_time, branch_id, tier FROM claim_case WHERE id = {row}.case_id LIMIT 1) c"


def _rows(source: str, sign: str) -> str:
    """Each counted violation of `source` (a table or a transition table) as (its key, ±1)."""
    return f"SELECT {_key('c', 't')}, {sign}1 FROM {source} t {CASE_OF.format(row='t')} WHERE NOT {EXEMPT}"


def _add(rows: str) -> str:
    """Insert the summed change per key, leaving out keys it leaves as they were."""
    keys = ", ".join(KEYS)
    return f"""
        INSERT INTO violation_week ({keys}, violations)
        SELECT {keys}, sum(n) FROM ({rows}) AS d ({keys}, n) GROUP BY {keys} HAVING sum(n) <> 0
    """


def _lock(*sources: str) -> str:
    """Lock the cases of the violations in `sources` FOR SHARE, in id order (see the docstring)."""
    ids = " UNION ".join(f"SELECT case_id FROM {s}" for s in sources)
    # = ANY(ARRAY(...)): an index probe per case; IN (subquery) hashed them against every case.
    return f"PERFORM 1 FROM claim_case WHERE id = ANY (ARRAY({ids})) ORDER BY id FOR SHARE"


TRIGGERS = {
    "insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows", ("new_rows",), _rows("new_rows", "")),
    "delete": ("DELETE", "REFERENCING OLD TABLE AS old_rows", ("old_rows",), _rows("old_rows", "-")),
    "update": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows", ("old_rows", "new_rows"),
               _rows("new_rows", "") + " UNION ALL " + _rows("old_rows", "-")),
}


def upgrade() -> None:
    op.create_table(
        "violation_week",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("report_day", sa.Date(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("violations", sa.Integer(), nullable=False),
    )
    # The overview reads a period's report days with every other column from the index alone.
    op.create_index("ix_violation_week_day", "violation_week", ["report_day"],
                    postgresql_include=["branch_id", "tier", "week", "kind", "violations"])
    # Every row again from the violations: the upgrade, a bulk load written with triggers off.
    # Writers of violations and cases wait meanwhile, and so does the folding job.
    op.execute(f"""
        CREATE FUNCTION violation_weeks_refill() RETURNS void LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp SET work_mem = '64MB' AS $$
        BEGIN
            LOCK TABLE violation, violation_appeal IN SHARE MODE;
            LOCK TABLE claim_case IN SHARE ROW EXCLUSIVE MODE;
            LOCK TABLE violation_week IN EXCLUSIVE MODE;
            DELETE FROM violation_week;
            {_add(_rows("violation", ""))};
        END $$""")
    op.execute("REVOKE EXECUTE ON FUNCTION violation_weeks_refill() FROM PUBLIC")
    op.execute("SELECT violation_weeks_refill()")
    for name, (event, referencing, sources, rows) in TRIGGERS.items():
        op.execute(f"""
            CREATE FUNCTION violation_week_after_{name}() RETURNS trigger LANGUAGE plpgsql
              SECURITY DEFINER SET search_path = public, pg_temp AS $$
            BEGIN
                {_lock(*sources)};
                {_add(rows)};
                RETURN NULL;
            END $$""")
        op.execute(f"CREATE TRIGGER violation_week_{name} AFTER {event} ON violation {referencing} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION violation_week_after_{name}()")
    # An appeal accepted takes its violation out; one no longer accepted puts it back.
    op.execute(f"""
        CREATE FUNCTION violation_week_appeal() RETURNS trigger LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            was boolean := TG_OP <> 'INSERT' AND OLD.status = 'accepted';
            now_is boolean := TG_OP <> 'DELETE' AND NEW.status = 'accepted';
            subject integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.violation_id ELSE NEW.violation_id END;
        BEGIN
            IF was <> now_is THEN
                INSERT INTO violation_week ({", ".join(KEYS)}, violations)
                SELECT {_key('c', 'v')}, CASE WHEN now_is THEN -1 ELSE 1 END
                  FROM violation v JOIN claim_case c ON c.id = v.case_id WHERE v.id = subject;
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER violation_week_appeal AFTER INSERT OR DELETE OR UPDATE OF status "
               "ON violation_appeal FOR EACH ROW EXECUTE FUNCTION violation_week_appeal()")
    # A case whose key changes takes its counted violations from the old key to the new one.
    # Written as PostgreSQL prints it back: a row comparison of three is printed as nested ORs that
    # read back flat, so a dump and restore would not give the same trigger.
    moved = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in ("report_time", "branch_id", "tier"))
    op.execute(f"""
        CREATE FUNCTION violation_week_case_moved() RETURNS trigger LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            {_add(f'''SELECT {_key('NEW', 't')}, 1 FROM violation t WHERE t.case_id = NEW.id AND NOT {EXEMPT}
                      UNION ALL
                      SELECT {_key('OLD', 't')}, -1 FROM violation t WHERE t.case_id = OLD.id AND NOT {EXEMPT}''')};
            RETURN NULL;
        END $$""")
    op.execute(f"CREATE TRIGGER violation_week_case_moved AFTER UPDATE OF report_time, branch_id, tier "
               f"ON claim_case FOR EACH ROW WHEN ({moved}) EXECUTE FUNCTION violation_week_case_moved()")
    for role in ROLES:
        op.execute(f"GRANT SELECT ON violation_week TO {role}")
    # Only the folding job writes the rows itself (as for case_count, migration 0027).
    op.execute("GRANT INSERT, DELETE ON violation_week TO claims_job")
    op.execute("GRANT USAGE, SELECT ON SEQUENCE violation_week_id_seq TO claims_job")
    op.execute("ALTER TABLE violation_week ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY claims_scope ON violation_week TO claims_app USING (claims_national() OR "
               "branch_id = ANY (claims_branches()))")
    op.execute("CREATE POLICY claims_jobs ON violation_week TO claims_job USING (true) WITH CHECK (true)")


def downgrade() -> None:
    op.execute("DROP TRIGGER violation_week_case_moved ON claim_case")
    op.execute("DROP FUNCTION violation_week_case_moved()")
    op.execute("DROP TRIGGER violation_week_appeal ON violation_appeal")
    op.execute("DROP FUNCTION violation_week_appeal()")
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER violation_week_{name} ON violation")
        op.execute(f"DROP FUNCTION violation_week_after_{name}()")
    op.execute("DROP FUNCTION violation_weeks_refill()")
    op.drop_table("violation_week")
