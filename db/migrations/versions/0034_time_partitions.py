"""The case history, `case_event`, range-partitioned by month on `at` (docs/SCALING.md step 3, issue 23).

The history only grows (hundreds of millions of rows at national volume) and is read by case and
time; a month never changes once past. Partitioned by Asia/Shanghai calendar month, old months can
leave the live table whole: jobs/maintain_partitions.py detaches the months older than the
retention (docs/DOMAIN.md §2: claim material kept at least five years) into the `archive` schema, never a
DELETE, and creates the months ahead. `case_event_default` takes any row whose month has no
partition yet, so an insert never fails; the job moves such rows into their month's partition.

The conversion copies every row into a new partitioned table in this migration's transaction and
checks the count before the old table is dropped. Kept as they were: the columns, the `id`
sequence (new rows go on from the last id), the index (case_id, at) (on the parent, so on every
partition), the foreign keys to claim_case and person, the append-only triggers (0001, 0027),
row-level security and its policies (FORCE too when set), the grants. Taken from the catalogue
before the old table goes, so whatever a later migration added to them is carried too. The
primary key becomes (id, at): a partitioned table's keys must include the partition key; `id` stays
unique in practice (one sequence).

What a partition gets beyond the parent's (the same in dashboard/services/cases/history_partitions.py,
which creates them from now on; a migration keeps its own copy, it may not import the application):
no grant to claims_app / claims_job (the default privileges of 0027 would let them read a partition
straight, past the parent's row-level security), and its own TRUNCATE trigger (a TRUNCATE of a
partition does not fire the parent's).

Left unpartitioned, on purpose:
- `notification`: its `dedupe_key` is unique across the whole table and every sender relies on
  ON CONFLICT (dedupe_key) to send a message once; a partitioned table's unique keys must include
  the partition key, which would make the key unique per month only. Its rows are also updated
  (state, read_at) and a digest references other rows by id.
- `violation`: recorded exactly once per (deadline, person) by ON CONFLICT on
  uq_violation_deadline_person, over all time; violation_appeal references it by id.
- `upload` (material metadata): a few rows per tiered case (0.06 of history's size), and material
  is opened by id alone, which would probe every partition. It does not pay.

Downgrade puts every row back into one plain table, those archived included (the archive tables it
emptied are dropped, and the `archive` schema when nothing else is in it).

Revision ID: 0034
Revises: 0033
"""
from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

TABLE = "case_event"
DEFAULT_PARTITION = "case_event_default"
ARCHIVE_SCHEMA = "archive"
ROLES = ("claims_app", "claims_job")
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
MONTHS_AHEAD = 3
_SETTINGS = {"partitions.months_ahead": MONTHS_AHEAD, "partitions.retention_months": 60}
_COLUMNS = "id, case_id, actor_id, at, kind, payload"


def _months_in(conn: sa.Connection, table: str) -> list[date]:
    """The business months the rows of `table` fall in, and this month and the MONTHS_AHEAD after it."""
    return sorted(conn.execute(sa.text(f"""
        SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'Asia/Shanghai')::date FROM {table}
        UNION
        SELECT (date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') + n * interval '1 month')::date
          FROM generate_series(0, {MONTHS_AHEAD}) n""")).scalars())


def _bound(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=BUSINESS_TZ).isoformat(sep=" ")


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _seal_partition(name: str) -> None:
    # Read through the parent only (its row-level security), and never truncated on its own.
    op.execute(f"REVOKE ALL ON {name} FROM PUBLIC, {', '.join(ROLES)}")
    op.execute(f"CREATE TRIGGER case_event_no_truncate BEFORE TRUNCATE ON {name} "
               "FOR EACH STATEMENT EXECUTE FUNCTION case_event_is_append_only()")


def _capture(conn: sa.Connection) -> dict:
    """What the live table carries besides its rows and columns: triggers, policies, grants, RLS flags."""
    oid = conn.execute(sa.text("SELECT 'public.case_event'::regclass::oid")).scalar()
    triggers = conn.execute(sa.text(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = :t AND NOT tgisinternal AND tgparentid = 0 "
        "ORDER BY tgname"), {"t": oid}).scalars().all()
    policies = conn.execute(sa.text(
        "SELECT policyname, permissive, roles::text[], cmd, qual, with_check FROM pg_policies "
        "WHERE schemaname = 'public' AND tablename = :n ORDER BY policyname"), {"n": TABLE}).all()
    grants = conn.execute(sa.text(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, "
        "a.privilege_type FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = :t AND a.grantee <> c.relowner "
        "ORDER BY 1, 2"), {"t": oid}).all()
    enabled, forced = conn.execute(sa.text(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = :t"), {"t": oid}).one()
    return {"triggers": triggers, "policies": policies, "grants": grants, "rls": enabled, "force": forced}


def _restore(kept: dict, primary_key: str) -> None:
    """Put back on the (new) case_event what `_capture` read from the old one."""
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT case_event_pkey PRIMARY KEY ({primary_key})")
    op.execute(f"CREATE INDEX ix_case_event_case_at ON {TABLE} (case_id, at)")
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT case_event_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES person (id)")
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT case_event_case_id_fkey FOREIGN KEY (case_id) REFERENCES claim_case (id)")
    op.execute(f"ALTER SEQUENCE case_event_id_seq OWNED BY {TABLE}.id")
    for definition in kept["triggers"]:
        op.execute(definition)
    if kept["rls"]:
        op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
    if kept["force"]:
        op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
    for name, permissive, roles, cmd, qual, with_check in kept["policies"]:
        to = ", ".join("PUBLIC" if r == "public" else f'"{r}"' for r in roles)
        op.execute(f'CREATE POLICY "{name}" ON {TABLE} AS {permissive} FOR {cmd} TO {to}'
                   + (f" USING ({qual})" if qual is not None else "")
                   + (f" WITH CHECK ({with_check})" if with_check is not None else ""))
    for grantee, privilege in kept["grants"]:
        op.execute(f"GRANT {privilege} ON {TABLE} TO {grantee}")


def _copy_checked(conn: sa.Connection, target: str, sources: list[str]) -> None:
    """Every row of `sources` into `target`; refuses (the whole migration rolls back) on any difference."""
    expected = sum(conn.execute(sa.text(f"SELECT count(*) FROM {s}")).scalar() for s in sources)
    for source in sources:
        conn.execute(sa.text(f"INSERT INTO {target} ({_COLUMNS}) SELECT {_COLUMNS} FROM {source}"))
    copied = conn.execute(sa.text(f"SELECT count(*) FROM {target}")).scalar()
    if copied != expected:
        raise RuntimeError(f"case_event conversion copied {copied} rows of {expected}: nothing changed")


def _new_table(name: str, partitioned: bool) -> None:
    op.execute(f"""
        CREATE TABLE {name} (
            id bigint NOT NULL DEFAULT nextval('case_event_id_seq'::regclass),
            case_id integer,
            actor_id integer,
            at timestamp with time zone NOT NULL DEFAULT now(),
            kind varchar(48) NOT NULL,
            payload jsonb NOT NULL DEFAULT '{{}}'::jsonb
        ){' PARTITION BY RANGE (at)' if partitioned else ''}""")


def upgrade() -> None:
    conn = op.get_bind()
    op.execute(f"LOCK TABLE {TABLE} IN SHARE MODE")  # no insert slips in between the count and the copy
    kept = _capture(conn)
    op.execute("ALTER SEQUENCE case_event_id_seq OWNED BY NONE")  # kept when the old table goes
    _new_table("case_event_partitioned", partitioned=True)
    for month in _months_in(conn, TABLE):
        name = f"{TABLE}_p{month:%Y_%m}"
        op.execute(f"CREATE TABLE {name} PARTITION OF case_event_partitioned "
                   f"FOR VALUES FROM ('{_bound(month)}') TO ('{_bound(_next(month))}')")
        _seal_partition(name)
    op.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF case_event_partitioned DEFAULT")
    _seal_partition(DEFAULT_PARTITION)
    _copy_checked(conn, "case_event_partitioned", [TABLE])
    op.execute(f"DROP TABLE {TABLE}")
    op.execute(f"ALTER TABLE case_event_partitioned RENAME TO {TABLE}")
    _restore(kept, "id, at")  # the keys and index after the copy: built once per partition, not row by row
    for key, value in _SETTINGS.items():
        conn.execute(sa.text("INSERT INTO rule_setting (key, value) VALUES (:k, CAST(:v AS jsonb)) "
                             "ON CONFLICT (key) DO NOTHING"), {"k": key, "v": json.dumps(value)})


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM rule_setting WHERE key IN :keys").bindparams(
        sa.bindparam("keys", expanding=True)), {"keys": list(_SETTINGS)})
    op.execute(f"LOCK TABLE {TABLE} IN SHARE MODE")
    kept = _capture(conn)
    archived = conn.execute(sa.text(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = :s "
        "AND tablename ~ '^case_event_p[0-9]{4}_[0-9]{2}$' ORDER BY tablename"), {"s": ARCHIVE_SCHEMA}).scalars().all()
    op.execute("ALTER SEQUENCE case_event_id_seq OWNED BY NONE")
    _new_table("case_event_plain", partitioned=False)
    _copy_checked(conn, "case_event_plain", [TABLE, *archived])
    op.execute(f"DROP TABLE {TABLE}")  # with its partitions
    for table in archived:
        op.execute(f"DROP TABLE {table}")
    op.execute(f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = '{ARCHIVE_SCHEMA}')) THEN
            DROP SCHEMA IF EXISTS {ARCHIVE_SCHEMA};
          END IF;
        END $$""")
    op.execute(f"ALTER TABLE case_event_plain RENAME TO {TABLE}")
    _restore(kept, "id")
