"""The database holds branch isolation and the record tables on its own (issues 18 and 25 #2).

Two roles that own nothing: `claims_app` (the dashboard) and `claims_job` (the scheduled jobs).
The engine connects with `role=claims_app` / `role=claims_job` (db/engine.py), so every statement
a page or a job runs is checked by these grants and policies, whatever the application does:

- Row-level security on every table holding case data. A transaction of the dashboard carries the
  signed-in person's scope in four settings (`SET LOCAL` through set_config(..., true), by
  dashboard/services/capability.requires): claims.national (on for national roles), claims.branches
  and claims.sub_branches (the units read in full), claims.person (set for the roles that also
  see the cases they work on) and claims.me (the person). A transaction without them sees no case.
  The jobs work nationally: their role's policy admits every row.
- Append-only record tables: what happened (history, estimates, contact attempts, material,
  violations, answers, verdicts, progress notes, sign-in attempts) may be inserted and read, never
  updated, deleted or truncated by either role. Neither role owns a table, so neither can disable
  a trigger or a policy; neither is a superuser, so session_replication_role stays as it is.
- The counts the database keeps (case_count, case_figures, late_count) are written by triggers that
  run as the tables' owner (SECURITY DEFINER), so they count every change whoever makes it; only the
  job that folds them writes them directly.

Roles are shared by every database of the server: they are created when missing, never dropped.

Revision ID: 0027
Revises: 0026
"""
from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

ROLES = ("claims_app", "claims_job")
# Record tables: insert and read only.
APPEND_ONLY = ("case_event", "estimate", "contact_attempt", "upload", "violation", "point_answer",
               "point_verdict", "progress_note", "sign_in_attempt")
# Kept by triggers; the compacting job folds them.
KEPT_COUNTS = ("case_count", "case_figures", "late_count")
# Rows people change.
MUTABLE = ("claim_case", "dispatch", "deadline", "review_queue_entry", "opinion", "opinion_point",
           "weekly_summary", "notification", "web_session", "person", "role_assignment",
           "supervisor_assignment", "org_unit", "rule_setting", "tier_rule_set", "tier_rule")
# Rows people remove (a draft's tier rules, a supervision assignment).
DELETABLE = ("tier_rule", "supervisor_assignment")

_CASE_VISIBLE = "EXISTS (SELECT 1 FROM claim_case c WHERE c.id = {table}.case_id)"
# Who sees which rows (the claims_app policy). claim_case's own policy applies inside the EXISTS.
POLICIES: dict[str, str] = {
    "claim_case": ("branch_id = ANY (claims_branches()) OR sub_branch_id = ANY (claims_sub_branches()) "
                   "OR claims_works_on(id, surveyor_id)"),
    **{table: _CASE_VISIBLE.format(table=table)
       for table in ("estimate", "dispatch", "contact_attempt", "upload", "review_queue_entry", "opinion",
                     "progress_note", "case_figures")},
    "opinion_point": "EXISTS (SELECT 1 FROM opinion o WHERE o.id = opinion_point.opinion_id)",
    "point_answer": "EXISTS (SELECT 1 FROM opinion_point p WHERE p.id = point_answer.point_id)",
    "point_verdict": "EXISTS (SELECT 1 FROM opinion_point p WHERE p.id = point_verdict.point_id)",
    "deadline": ("CASE WHEN case_id IS NULL THEN branch_id = ANY (claims_branches()) "
                 f"ELSE {_CASE_VISIBLE.format(table='deadline')} END"),
    "violation": ("person_id = claims_me() OR CASE WHEN case_id IS NULL THEN branch_id = ANY (claims_branches()) "
                  f"ELSE {_CASE_VISIBLE.format(table='violation')} END"),
    "case_event": ("CASE WHEN case_id IS NULL THEN actor_id = claims_me() "
                   f"ELSE {_CASE_VISIBLE.format(table='case_event')} END"),
    "weekly_summary": "branch_id = ANY (claims_branches())",
    "case_count": "branch_id = ANY (claims_branches()) OR sub_branch_id = ANY (claims_sub_branches())",
    "late_count": "branch_id = ANY (claims_branches())",
}

# The outbox: a person reads their own messages and those of the cases they see; may address anyone
# about a case they see (or about none: a branch's weekly summary told to HQ); marks their own read.
NOTIFICATION_POLICIES = (
    "FOR SELECT TO claims_app USING (claims_national() OR recipient_person_id = claims_me() OR (case_id IS NOT NULL "
    f"AND {_CASE_VISIBLE.format(table='notification')}))",
    "FOR INSERT TO claims_app WITH CHECK (claims_national() OR case_id IS NULL OR "
    f"{_CASE_VISIBLE.format(table='notification')})",
    "FOR UPDATE TO claims_app USING (claims_national() OR recipient_person_id = claims_me())",
)

_FUNCTIONS = """
CREATE FUNCTION claims_national() RETURNS boolean LANGUAGE sql STABLE AS
  $$ SELECT coalesce(current_setting('claims.national', true), '') = 'on' $$;
CREATE FUNCTION claims_branches() RETURNS integer[] LANGUAGE sql STABLE AS
  $$ SELECT coalesce(nullif(current_setting('claims.branches', true), ''), '{}')::integer[] $$;
CREATE FUNCTION claims_sub_branches() RETURNS integer[] LANGUAGE sql STABLE AS
  $$ SELECT coalesce(nullif(current_setting('claims.sub_branches', true), ''), '{}')::integer[] $$;
CREATE FUNCTION claims_me() RETURNS integer LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('claims.me', true), '')::integer $$;
-- A case a person works on (its surveyor, or dispatched to it as responsible or delegate), wherever
-- it is. It reads dispatch as the owner: dispatch's own policy reads claim_case, whose policy calls
-- this function, and a policy must not go round in a circle.
CREATE FUNCTION claims_works_on(case_id integer, surveyor_id integer) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT nullif(current_setting('claims.person', true), '') IS NOT NULL AND (
    surveyor_id = nullif(current_setting('claims.person', true), '')::integer
    OR EXISTS (SELECT 1 FROM dispatch d WHERE d.case_id = $1
               AND nullif(current_setting('claims.person', true), '')::integer IN (d.person_id, d.delegate_person_id)))
$$;
-- Which of these case numbers are taken in any branch (a number is unique nationally): intake must
-- know, and row-level security hides other branches' cases. It says which, never whose.
CREATE FUNCTION claims_case_nos_taken(numbers text[]) RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT case_no FROM claim_case WHERE case_no = ANY (numbers)
$$;
"""


# The keys a clock is found by (rules/deadlines.py's sql_* forms), as functions the planner may use
# inside a query on a table with row-level security. A policy makes every other condition on the
# table wait behind it unless its functions are LEAKPROOF (cannot reveal a row through an error or
# a side channel): concat(), split_part() and a cast are not declared so, and a clock looked up by
# concat('case:', id, ':initial_review') was read by scanning every clock (a page took 2 s, one
# 125 s, at 1,000,000 cases). These never raise and show nothing but their result; PL/pgSQL keeps
# the planner from inlining them back into the undeclared built-ins. Only a superuser may declare
# LEAKPROOF: migrating as another user creates them without it (correct, and slow at volume).
_KEY_FUNCTIONS = """
CREATE FUNCTION claims_subject(prefix text, id bigint, suffix text DEFAULT '') RETURNS text
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE {leakproof} AS $$
  BEGIN RETURN prefix || id::text || suffix; END $$;
-- The round of the clock after `rounds_before` sent-back answers (the + 1 inside: addition may
-- overflow, so it is not LEAKPROOF outside).
CREATE FUNCTION claims_point_subject(point_id bigint, rounds_before bigint) RETURNS text
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE {leakproof} AS $$
  BEGIN RETURN 'point:' || point_id::text || ':round:' || (rounds_before + 1)::text; END $$;
-- Part n (2: the point, 4: the round) of a D5 clock's subject point:<id>:round:<n>; NULL for any
-- other clock or subject, never an error.
CREATE FUNCTION claims_d5_part(kind text, subject text, n integer) RETURNS integer
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE {leakproof} AS $$
  BEGIN
    IF kind = 'D5' AND subject ~ '^point:[0-9]{{1,9}}:round:[0-9]{{1,9}}$' AND n IN (2, 4) THEN
      RETURN split_part(subject, ':', n)::integer;
    END IF;
    RETURN NULL;
  END $$;
"""


def _create_key_functions() -> None:
    superuser = op.get_bind().exec_driver_sql(
        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar()
    op.execute(_KEY_FUNCTIONS.format(leakproof="LEAKPROOF" if superuser else ""))


def _create_roles() -> None:
    for role in ROLES:
        op.execute(f"""
            DO $$ BEGIN
              -- Only when missing: CREATE ROLE checks the CREATEROLE privilege before it finds the role
              -- exists, so an owner without it failed even where a DBA had created the roles.
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
              END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$""")
        # The owner connects and switches to the role: a superuser may always; anyone else must be
        # a member (a server whose migrating user is not a superuser).
        op.execute(f"""
            DO $$ BEGIN
              IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                EXECUTE format('GRANT {role} TO %I', current_user);
              END IF;
            EXCEPTION WHEN insufficient_privilege OR duplicate_object THEN NULL;
            END $$""")


def _grant() -> None:
    for role in ROLES:
        op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        op.execute(f"GRANT INSERT ON {', '.join(MUTABLE + APPEND_ONLY)} TO {role}")
        op.execute(f"GRANT UPDATE ON {', '.join(MUTABLE)} TO {role}")
        op.execute(f"GRANT DELETE ON {', '.join(DELETABLE)} TO {role}")
    op.execute(f"GRANT INSERT, DELETE ON {', '.join(KEPT_COUNTS)} TO claims_job")
    # Tables a later migration adds can be read; what else a role may do there, it grants itself.
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {', '.join(ROLES)}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {', '.join(ROLES)}")


def _triggers_run_as_owner() -> None:
    op.execute("""
        DO $$ DECLARE f regprocedure; BEGIN
          FOR f IN SELECT DISTINCT t.tgfoid::regprocedure FROM pg_trigger t
                   JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE NOT t.tgisinternal AND n.nspname = 'public' LOOP
            EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = public, pg_temp', f);
          END LOOP;
        END $$""")


def upgrade() -> None:
    _create_roles()
    op.execute(_FUNCTIONS)
    _create_key_functions()
    _grant()
    _triggers_run_as_owner()
    for table, visible in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY claims_scope ON {table} TO claims_app "
                   f"USING (claims_national() OR {visible})")
        op.execute(f"CREATE POLICY claims_jobs ON {table} TO claims_job USING (true) WITH CHECK (true)")
    op.execute("ALTER TABLE notification ENABLE ROW LEVEL SECURITY")
    for n, policy in enumerate(NOTIFICATION_POLICIES):
        op.execute(f"CREATE POLICY claims_scope_{n} ON notification {policy}")
    op.execute("CREATE POLICY claims_jobs ON notification TO claims_job USING (true) WITH CHECK (true)")


def downgrade() -> None:
    for n in range(len(NOTIFICATION_POLICIES)):
        op.execute(f"DROP POLICY IF EXISTS claims_scope_{n} ON notification")
    for table in (*POLICIES, "notification"):
        op.execute(f"DROP POLICY IF EXISTS claims_scope ON {table}")
        op.execute(f"DROP POLICY IF EXISTS claims_jobs ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM {', '.join(ROLES)}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {', '.join(ROLES)}")
    for role in ROLES:
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
        op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
    op.execute("DROP FUNCTION claims_d5_part(text, text, integer), claims_point_subject(bigint, bigint), "
               "claims_subject(text, bigint, text)")
    op.execute("DROP FUNCTION claims_case_nos_taken(text[]), claims_works_on(integer, integer), claims_me(), claims_sub_branches(), "
               "claims_branches(), claims_national()")
