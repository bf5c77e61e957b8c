"""The cases' kept figures (case_figures, migration 0019) summed per report day, branch and tier
(case_figures_day), for the executive overview's national view.

The overview's headline (clocks met on time, HQ review points and answers, violations by type) and
its ranking of branches sum the figures of every tiered case reported in the period. Read per case,
that joined one case_figures row per case: 43 ms of the overview's 140 at 10,000,000 cases for the
default 90 days (41,000 cases), and as much again for the list behind any figure. With no branch
chosen, every boundary those figures draw is a report day in Asia/Shanghai, a branch (the ranking's
unit) or a tier: per (report day, branch, tier), a few thousand rows for 90 days whatever the number
of cases. Once a branch is chosen the ranking is per sub-branch and the cases are few: read per case.

Kept as violation_week is (migration 0044): rows are only ever added (+n / -n) and
jobs.compact_case_counts folds them. What moves a sum:
- case_figures inserted, changed or deleted (statement triggers: each statement's new rows minus
  its old ones, per key);
- a case whose report time, branch or tier changes (a row trigger moves its figures).
A case_figures statement locks its cases FOR SHARE (in id order) before reading their key, for the
reason migration 0044 gives: a re-tiering either commits first and is read, or waits and then moves.

`answered_cases` counts the cases with at least one answered HQ review point (the list behind the
average answer time). The triggers run as the tables' owner; row-level security as late_count's.

Revision ID: 0045
Revises: 0044
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None

ROLES = ("claims_app", "claims_job")
TZ = "Asia/Shanghai"
KEYS = ("report_day", "branch_id", "tier")
KINDS = ("D1", "D2", "D3", "D4", "D5", "D6", "D7")
# Column -> its value for one case_figures row `f`.
FIGURES: dict[str, str] = {
    **{c: f"f.{c}" for c in ("d2_clocks", "d2_on_time", "d3_clocks", "d3_on_time", "clocks", "clocks_on_time",
                             "hq_open_points", "hq_answer_count", "hq_answer_seconds")},
    "answered_cases": "(f.hq_answer_count > 0)::int",
    **{f"violations_{k.lower()}": f"f.violations_{k.lower()}" for k in KINDS},
}
NAMES = ", ".join(FIGURES)


def _key(case: str) -> str:
    return f"({case}.report_time AT TIME ZONE '{TZ}')::date, {case}.branch_id, {case}.tier"


# A row's case, as a probe of claim_case's primary key per row (migration 0044 says why).
CASE_OF = ("CROSS JOIN LATERAL (SELECT report_time, branch_id, tier FROM claim_case WHERE id = f.case_id LIMIT 1) c")


def _rows(source: str, sign: str, case: str = "c", join: str = CASE_OF) -> str:
    """Each case_figures row of `source` as (its case's key, its figures × sign)."""
    figures = ", ".join(f"{sign}{expression}" for expression in FIGURES.values())
    return f"SELECT {_key(case)}, {figures} FROM {source} f {join}"


def _changed_rows() -> str:
    """An update's change per case (new − old), only for the cases whose figures changed: each
    changed case's key is read once, not once for its old row and once for its new."""
    figures = ", ".join(f"{expression} - {expression.replace('f.', 'o.')}" for expression in FIGURES.values())
    changed = (f"({', '.join(f'f.{c}' for c in FIGURES if c != 'answered_cases')}) IS DISTINCT FROM "
               f"({', '.join(f'o.{c}' for c in FIGURES if c != 'answered_cases')})")
    return (f"SELECT {_key('c')}, {figures} FROM new_rows f JOIN old_rows o ON o.case_id = f.case_id "
            f"{CASE_OF} WHERE {changed}")


def _add(rows: str) -> str:
    """Insert the summed change per key, leaving out keys it leaves as they were."""
    keys = ", ".join(KEYS)
    sums = ", ".join(f"sum({n})" for n in FIGURES)
    changed = " OR ".join(f"sum({n}) <> 0" for n in FIGURES)
    return f"""
        INSERT INTO case_figures_day ({keys}, {NAMES})
        SELECT {keys}, {sums} FROM ({rows}) AS d ({keys}, {NAMES}) GROUP BY {keys} HAVING {changed}
    """


def _lock(*sources: str) -> str:
    ids = " UNION ".join(f"SELECT case_id FROM {s}" for s in sources)
    return f"PERFORM 1 FROM claim_case WHERE id = ANY (ARRAY({ids})) ORDER BY id FOR SHARE"


TRIGGERS = {
    "insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows", ("new_rows",), _rows("new_rows", "")),
    "delete": ("DELETE", "REFERENCING OLD TABLE AS old_rows", ("old_rows",), _rows("old_rows", "-")),
    # case_figures' key never changes (an update is the same case's figures moving).
    "update": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows", ("new_rows",), _changed_rows()),
}


def upgrade() -> None:
    op.create_table(
        "case_figures_day",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("report_day", sa.Date(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        *(sa.Column(name, sa.Float() if name == "hq_answer_seconds" else sa.Integer(), nullable=False,
                    server_default="0") for name in FIGURES),
    )
    op.create_index("ix_case_figures_day_day", "case_figures_day", ["report_day"],
                    postgresql_include=["branch_id", "tier", *FIGURES])
    op.execute(f"""
        CREATE FUNCTION case_figures_days_refill() RETURNS void LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp SET work_mem = '64MB' AS $$
        BEGIN
            LOCK TABLE case_figures IN SHARE MODE;
            LOCK TABLE claim_case IN SHARE ROW EXCLUSIVE MODE;
            LOCK TABLE case_figures_day IN EXCLUSIVE MODE;
            DELETE FROM case_figures_day;
            {_add(_rows("case_figures", ""))};
        END $$""")
    op.execute("REVOKE EXECUTE ON FUNCTION case_figures_days_refill() FROM PUBLIC")
    op.execute("SELECT case_figures_days_refill()")
    for name, (event, referencing, sources, rows) in TRIGGERS.items():
        op.execute(f"""
            CREATE FUNCTION case_figures_day_after_{name}() RETURNS trigger LANGUAGE plpgsql
              SECURITY DEFINER SET search_path = public, pg_temp AS $$
            BEGIN
                {_lock(*sources)};
                {_add(rows)};
                RETURN NULL;
            END $$""")
        op.execute(f"CREATE TRIGGER case_figures_day_{name} AFTER {event} ON case_figures {referencing} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION case_figures_day_after_{name}()")
    # Written as PostgreSQL prints it back: a row comparison of three is printed as nested ORs that
    # read back flat, so a dump and restore would not give the same trigger.
    moved = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in ("report_time", "branch_id", "tier"))
    op.execute(f"""
        CREATE FUNCTION case_figures_day_case_moved() RETURNS trigger LANGUAGE plpgsql
          SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            {_add(_rows("case_figures", "", "NEW", "WHERE f.case_id = NEW.id") + " UNION ALL "
                  + _rows("case_figures", "-", "OLD", "WHERE f.case_id = OLD.id"))};
            RETURN NULL;
        END $$""")
    op.execute(f"CREATE TRIGGER case_figures_day_case_moved AFTER UPDATE OF report_time, branch_id, tier "
               f"ON claim_case FOR EACH ROW WHEN ({moved}) EXECUTE FUNCTION case_figures_day_case_moved()")
    for role in ROLES:
        op.execute(f"GRANT SELECT ON case_figures_day TO {role}")
    op.execute("GRANT INSERT, DELETE ON case_figures_day TO claims_job")
    op.execute("GRANT USAGE, SELECT ON SEQUENCE case_figures_day_id_seq TO claims_job")
    op.execute("ALTER TABLE case_figures_day ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY claims_scope ON case_figures_day TO claims_app USING (claims_national() OR "
               "branch_id = ANY (claims_branches()))")
    op.execute("CREATE POLICY claims_jobs ON case_figures_day TO claims_job USING (true) WITH CHECK (true)")


def downgrade() -> None:
    op.execute("DROP TRIGGER case_figures_day_case_moved ON claim_case")
    op.execute("DROP FUNCTION case_figures_day_case_moved()")
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER case_figures_day_{name} ON case_figures")
        op.execute(f"DROP FUNCTION case_figures_day_after_{name}()")
    op.execute("DROP FUNCTION case_figures_days_refill()")
    op.drop_table("case_figures_day")
