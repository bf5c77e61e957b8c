"""The notification outbox, `notification`, and case material's metadata, `upload`, range-partitioned
by month (on `created_at`, `uploaded_at`), as the case history is (migration 0034; docs/SCALING.md
step 3, issue 23).

## The outbox

The outbox only grows: every dispatch, copy, warning, violation and digest adds rows (0.09 per
case in the bench, before the warnings and digests of a case's life), and after a few days a row
is only read again as history (a case's timeline, a person's 我的消息). Partitioned by Asia/Shanghai calendar month, old months leave the live table
whole: jobs/maintain_partitions.py creates the months ahead and detaches the months older than the
retention into the `archive` schema, as for the history (services/partitions.py).

Why 0034 left it out, and what answers it here:
- Every sender relies on the dedupe key to queue a message once, over all time, and a partitioned
  table's unique keys must hold the partition key (unique per month only). The keys move to their
  own small table, `notification_key` (dedupe_key primary key, the message's id and month), and a
  BEFORE INSERT trigger on the outbox claims the key first: a key already claimed skips the row
  (RETURN NULL), which is what `ON CONFLICT (dedupe_key) DO NOTHING` did, concurrency included (a
  second writer of the same key waits for the first on the key's primary key, then skips or, if the
  first rolled back, inserts). The trigger is SECURITY DEFINER: no role of the product reads or
  writes the key table itself. A row moved by the partition upkeep (out of the default into its
  month) finds its own key and is kept.
- `digest_id` referenced `notification(id)`; a foreign key into a partitioned table must name its
  whole key (id, created_at). The reference is dropped; the one writer of digest_id (the digest
  fold, services/delivery/quiet.py) sets it to the id its own INSERT returned, in the same statement
  pair. The primary key becomes (id, created_at); `id` stays unique in practice (one sequence), and
  the ORM keeps addressing a message by id.

Downgrade puts every row back into one plain table, archived months included, with the unique
dedupe key and the digest reference back, and drops the key table. It refuses (rolls back) if two
rows share a dedupe key, which only a key released by archiving can allow.

## Material

A case's material is kept at least five years (docs/DOMAIN.md §2) and never changes once uploaded:
the rows only grow, and a month past is frozen. Partitioned by Asia/Shanghai calendar month, a
month older than the retention leaves the live table whole, detached into the `archive` schema
(jobs/maintain_partitions.py, services/partitions.py), never deleted. The bytes themselves are in
the evidence store (docs/EVIDENCE.md), addressed by the row's storage_key, and stay there.

0034 left the table out ("it does not pay": a few rows per tiered case, opened by id alone). What
changed the answer is the archive: material is what the five-year rule is about, and detaching a
month is the only way to archive it without deleting rows. The reads by case (the case detail's
materials, the review queue's photo / report marks, the timeline) probe each month's small index;
bench/RESULTS.md has what that costs at 10,000,000 cases.

No other table references an upload, and no unique key but the primary one is on it.

## The conversion

Written here, not shared: a migration stands alone (0034 has its own, older copy for case_event).
A table `t` with an `id` column (from its own sequence) and a timestamp column becomes `t`
partitioned by Asia/Shanghai calendar month on that column: `t_pYYYY_MM` for every month its rows
fall in and this month and MONTHS_AHEAD after it, and `t_default` for any other. The rows are
copied in the caller's transaction (the table locked in SHARE mode first: no insert slips in) and
counted before the old table is dropped. Read from the catalogue and put back on the new table, so
that whatever a migration added is carried: columns, defaults and storage (LIKE), check and foreign
key constraints (but those named in `leave_out`), secondary indexes (on the parent, so on every
partition), triggers, row-level security and its policies, grants, the sequence's ownership. The
primary key becomes (id, column). A partition has no grant of its own: the parent's row-level
security is the only way in. `to_plain` is the way back, archived months (schema `archive`)
included.

Revision ID: 0047
Revises: 0046
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None

ARCHIVE_SCHEMA = "archive"
ROLES = ("claims_app", "claims_job")
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
MONTHS_AHEAD = 3


def _months_in(conn: sa.Connection, table: str, column: str) -> list[date]:
    return sorted(conn.execute(sa.text(f"""
        SELECT DISTINCT date_trunc('month', {column} AT TIME ZONE 'Asia/Shanghai')::date FROM {table}
        UNION
        SELECT (date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') + n * interval '1 month')::date
          FROM generate_series(0, {MONTHS_AHEAD}) n""")).scalars())


def _bound(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=BUSINESS_TZ).isoformat(sep=" ")


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def seal(name: str) -> None:
    """No grant on `name` for any role of the product (a partition, a table only a trigger writes)."""
    op.execute(f"REVOKE ALL ON {name} FROM PUBLIC, {', '.join(ROLES)}")


def _capture(conn: sa.Connection, table: str, leave_out: tuple[str, ...]) -> dict:
    oid = conn.execute(sa.text(f"SELECT 'public.{table}'::regclass::oid")).scalar()
    one = {"t": oid}
    return {
        "triggers": conn.execute(sa.text(
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = :t AND NOT tgisinternal AND tgparentid = 0 "
            "AND NOT tgname = ANY(:out) ORDER BY tgname"), {**one, "out": list(leave_out)}).scalars().all(),
        "indexes": conn.execute(sa.text(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = :t AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
            "ORDER BY c.relname"), one).scalars().all(),
        "constraints": conn.execute(sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = :t "
            "AND contype IN ('c', 'f') AND NOT conname = ANY(:out) ORDER BY conname"),
            {**one, "out": list(leave_out)}).all(),
        "policies": conn.execute(sa.text(
            "SELECT policyname, permissive, roles::text[], cmd, qual, with_check FROM pg_policies "
            "WHERE schemaname = 'public' AND tablename = :n ORDER BY policyname"), {"n": table}).all(),
        "grants": conn.execute(sa.text(
            "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, "
            "a.privilege_type FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = :t AND a.grantee <> c.relowner "
            "ORDER BY 1, 2"), one).all(),
        "rls": tuple(conn.execute(sa.text(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = :t"), one).one()),
        "columns": ", ".join(conn.execute(sa.text(
            "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = :t AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum"), one).scalars()),
    }


def _restore(table: str, kept: dict, primary_key: str) -> None:
    """The keys and indexes after the copy: built once per partition, not row by row."""
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY ({primary_key})")
    for definition in kept["indexes"]:
        op.execute(definition)
    for name, definition in kept["constraints"]:
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    for definition in kept["triggers"]:
        op.execute(definition)
    enabled, forced = kept["rls"]
    if enabled:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    if forced:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    for name, permissive, roles, cmd, qual, with_check in kept["policies"]:
        to = ", ".join("PUBLIC" if r == "public" else f'"{r}"' for r in roles)
        op.execute(f'CREATE POLICY "{name}" ON {table} AS {permissive} FOR {cmd} TO {to}'
                   + (f" USING ({qual})" if qual is not None else "")
                   + (f" WITH CHECK ({with_check})" if with_check is not None else ""))
    for grantee, privilege in kept["grants"]:
        op.execute(f"GRANT {privilege} ON {table} TO {grantee}")


def _copy_checked(conn: sa.Connection, table: str, target: str, sources: list[str], columns: str) -> None:
    """Every row of `sources` into `target`; refuses (the whole migration rolls back) on any difference."""
    expected = sum(conn.execute(sa.text(f"SELECT count(*) FROM {s}")).scalar() for s in sources)
    for source in sources:
        conn.execute(sa.text(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {source}"))
    copied = conn.execute(sa.text(f"SELECT count(*) FROM {target}")).scalar()
    if copied != expected:
        raise RuntimeError(f"{table} conversion copied {copied} rows of {expected}: nothing changed")


def to_monthly(table: str, column: str, *, leave_out: tuple[str, ...] = ()) -> None:
    """Convert `table` to monthly partitions on `column` (see the module's docstring); the
    constraints and triggers named in `leave_out` are not carried."""
    conn = op.get_bind()
    op.execute(f"LOCK TABLE {table} IN SHARE MODE")
    kept = _capture(conn, table, leave_out)
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")  # kept when the old table goes
    staged = f"{table}_partitioned"
    op.execute(f"CREATE TABLE {staged} (LIKE {table} INCLUDING DEFAULTS INCLUDING STORAGE) "
               f"PARTITION BY RANGE ({column})")
    for month in _months_in(conn, table, column):
        name = f"{table}_p{month:%Y_%m}"
        op.execute(f"CREATE TABLE {name} PARTITION OF {staged} "
                   f"FOR VALUES FROM ('{_bound(month)}') TO ('{_bound(_next(month))}')")
        seal(name)
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {staged} DEFAULT")
    seal(f"{table}_default")
    _copy_checked(conn, table, staged, [table], kept["columns"])
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {staged} RENAME TO {table}")
    _restore(table, kept, f"id, {column}")


def to_plain(table: str, *, leave_out: tuple[str, ...] = ()) -> None:
    """One plain table again, with every row of the partitions and of the archived months; the
    caller puts back what `to_monthly` left out. Drops the archive schema when nothing is left in it."""
    conn = op.get_bind()
    op.execute(f"LOCK TABLE {table} IN SHARE MODE")
    kept = _capture(conn, table, leave_out)
    archived = conn.execute(sa.text(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = :s "
        "AND tablename ~ :pattern ORDER BY tablename"),
        {"s": ARCHIVE_SCHEMA, "pattern": f"^{table}_p[0-9]{{4}}_[0-9]{{2}}$"}).scalars().all()
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    staged = f"{table}_plain"
    op.execute(f"CREATE TABLE {staged} (LIKE {table} INCLUDING DEFAULTS INCLUDING STORAGE)")
    _copy_checked(conn, table, staged, [table, *archived], kept["columns"])
    op.execute(f"DROP TABLE {table}")  # with its partitions
    for archived_table in archived:
        op.execute(f"DROP TABLE {archived_table}")
    op.execute(f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = '{ARCHIVE_SCHEMA}')) THEN
            DROP SCHEMA IF EXISTS {ARCHIVE_SCHEMA};
          END IF;
        END $$""")
    op.execute(f"ALTER TABLE {staged} RENAME TO {table}")
    _restore(table, kept, "id")


# ---------------------------------------------------------------- the two tables

TABLE = "notification"
KEYS = "notification_key"
SELF_REFERENCE = "notification_digest_id_fkey"
UNIQUE_KEY = "notification_dedupe_key_key"
TRIGGER = "notification_claim_key"

CLAIM_KEY = f"""
CREATE FUNCTION {TRIGGER}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.dedupe_key IS NULL THEN
        RETURN NEW;
    END IF;
    INSERT INTO {KEYS} (dedupe_key, notification_id, created_at)
    VALUES (NEW.dedupe_key, NEW.id, NEW.created_at)
    ON CONFLICT (dedupe_key) DO NOTHING;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    -- The same message inserted again by the partition upkeep (moved out of the default): kept.
    IF EXISTS (SELECT 1 FROM {KEYS} WHERE dedupe_key = NEW.dedupe_key AND notification_id = NEW.id) THEN
        RETURN NEW;
    END IF;
    RETURN NULL;  -- queued before: skipped, as ON CONFLICT (dedupe_key) DO NOTHING did
END $$
"""


MATERIAL = "upload"


def upgrade() -> None:
    to_monthly(MATERIAL, "uploaded_at")
    to_monthly(TABLE, "created_at", leave_out=(SELF_REFERENCE,))
    op.execute(f"""
        CREATE TABLE {KEYS} (
            dedupe_key varchar(128) PRIMARY KEY,
            notification_id bigint NOT NULL,
            created_at timestamptz NOT NULL
        )""")
    seal(KEYS)
    op.execute(f"INSERT INTO {KEYS} (dedupe_key, notification_id, created_at) "
               f"SELECT dedupe_key, id, created_at FROM {TABLE} WHERE dedupe_key IS NOT NULL")
    op.execute(f"CREATE INDEX ix_notification_key_created_at ON {KEYS} (created_at)")
    op.execute(CLAIM_KEY)
    op.execute(f"REVOKE ALL ON FUNCTION {TRIGGER}() FROM PUBLIC")
    op.execute(f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON {TABLE} FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()")


def downgrade() -> None:
    to_plain(TABLE, leave_out=(TRIGGER,))
    op.execute(f"DROP FUNCTION {TRIGGER}()")
    op.execute(f"DROP TABLE {KEYS}")
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {UNIQUE_KEY} UNIQUE (dedupe_key)")
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {SELF_REFERENCE} FOREIGN KEY (digest_id) REFERENCES {TABLE} (id)")
    to_plain(MATERIAL)
