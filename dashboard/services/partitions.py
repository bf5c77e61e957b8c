"""The tables kept in monthly partitions (docs/SCALING.md step 3): the case history `case_event`
(migration 0034), the notification outbox `notification` and the material's metadata `upload`
(0047). The one place that creates their months ahead, moves what a default partition caught into
its month, and archives the months older than the retention.

DDL on these tables is the tables' owner's work, as a migration's: call these with a session of the
owner (jobs/maintain_partitions.py, the demo loader, bench, test fixtures), never claims_app /
claims_job. Each function is one transaction of the caller's (commit after it); none deletes a
row of a table it keeps. Every new partition is read only through the parent (no grant of its own,
so the parent's row-level security holds); the history's also refuses TRUNCATE itself (a TRUNCATE
of a partition skips the parent's trigger).

Moving rows out of the default: the history's append-only trigger refuses DELETE, rightly. The move
detaches the default (no trigger of the parent's applies to a detached table; the lock taken holds
every insert into the table until commit), creates the months, copies each month's rows into its
partition and deletes exactly those from the detached default (the counts must match, or
everything rolls back), and attaches the default again, whose attach checks that no row it keeps
belongs to another partition. One transaction: a row is in the default or in its month, never
both, never neither. An outbox row copied so finds its own dedupe key already claimed by its own id
and is kept (migration 0047's trigger).

Archiving the outbox's month also releases its messages' dedupe keys (notification_key): the key
table is what a sender checks, and it would otherwise grow for ever beside the archived rows.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard.rules.partition_months import (
    archive_due, month_end, month_of_partition, month_start, months_between, months_to_have_ready, partition_name,
)
from dashboard.services import reference
from db.engine import APP_ROLE, JOB_ROLE

ARCHIVE_SCHEMA = "archive"
# How long a step waits for a table's lock before giving up until the next run: a long report
# reading the table must not have every insert queue behind the job's exclusive lock.
LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class MonthlyTable:
    """A table range-partitioned by business month on `column`."""

    name: str
    column: str
    # The append-only guard's trigger function, put on a partition against TRUNCATE and on an
    # archived month against UPDATE / DELETE; None for a table whose rows change (the outbox).
    guard: str | None = None
    # The table of dedupe keys whose rows point into this one (released when their month is archived).
    keys: str | None = None

    @property
    def default(self) -> str:
        return f"{self.name}_default"


HISTORY = MonthlyTable("case_event", "at", guard="case_event_is_append_only")
OUTBOX = MonthlyTable("notification", "created_at", keys="notification_key")
MATERIAL = MonthlyTable("upload", "uploaded_at")
MONTHLY_TABLES = (HISTORY, OUTBOX, MATERIAL)


class PartitionMoveMismatch(RuntimeError):
    """The rows copied into a month and those removed from the default differ: nothing is kept."""


@dataclass(frozen=True)
class PartitionUpkeep:
    created: tuple[str, ...]  # partitions made (months ahead, and months a default held rows for)
    moved: int  # rows moved out of a default into their month
    archived: tuple[str, ...]  # partitions detached into the archive schema


def partitions_of(session: Session, table: MonthlyTable) -> dict[date, str]:
    """The month partitions attached to `table` (the default left out), by month."""
    names = session.scalars(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = CAST(:parent AS regclass)"), {"parent": f"public.{table.name}"})
    months = {month_of_partition(table.name, name): name for name in names}
    months.pop(None, None)
    return months  # type: ignore[return-value]


def months_in_default(session: Session, table: MonthlyTable) -> list[date]:
    """The business months of the rows the default partition holds (none, normally)."""
    return sorted(session.scalars(text(
        f"SELECT DISTINCT date_trunc('month', {table.column} AT TIME ZONE 'Asia/Shanghai')::date "
        f"FROM public.{table.default}")))


def _columns(session: Session, table: MonthlyTable) -> str:
    return ", ".join(session.scalars(text(
        "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum"), {"t": f"public.{table.name}"}))


def _create_month(session: Session, table: MonthlyTable, month: date) -> str:
    name = partition_name(table.name, month)
    session.execute(text(
        f"CREATE TABLE public.{name} PARTITION OF public.{table.name} "
        f"FOR VALUES FROM ('{month_start(month).isoformat(sep=' ')}') TO ('{month_end(month).isoformat(sep=' ')}')"))
    session.execute(text(f"REVOKE ALL ON public.{name} FROM PUBLIC, {APP_ROLE}, {JOB_ROLE}"))
    if table.guard:
        session.execute(text(f"CREATE TRIGGER {table.name}_no_truncate BEFORE TRUNCATE ON public.{name} "
                             f"FOR EACH STATEMENT EXECUTE FUNCTION {table.guard}()"))
    return name


def _move_month_out_of_default(session: Session, table: MonthlyTable, month: date, name: str, columns: str) -> int:
    bounds = {"low": month_start(month), "high": month_end(month)}
    where = f"{table.column} >= :low AND {table.column} < :high"
    copied = session.execute(text(
        f"INSERT INTO public.{name} ({columns}) SELECT {columns} FROM public.{table.default} WHERE {where}"),
        bounds).rowcount
    removed = session.execute(text(f"DELETE FROM public.{table.default} WHERE {where}"), bounds).rowcount
    if copied != removed:
        raise PartitionMoveMismatch(f"{name}: {copied} row(s) copied, {removed} removed from the default")
    return copied


def ensure_partitions(session: Session, months: Iterable[date], table: MonthlyTable) -> tuple[list[str], int]:
    """Create `table`'s partitions of `months` that are missing, and of every month its default
    holds rows for, moving those rows into them. Returns (partitions created, rows moved). Idempotent."""
    existing = partitions_of(session, table)
    caught = set(months_in_default(session, table))
    wanted = sorted((set(months) | caught) - set(existing))
    if not wanted:
        return [], 0
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    moving = [m for m in wanted if m in caught]
    if moving:
        session.execute(text(f"ALTER TABLE public.{table.name} DETACH PARTITION public.{table.default}"))
    created = [_create_month(session, table, month) for month in wanted]
    moved = 0
    if moving:
        columns = _columns(session, table)
        moved = sum(_move_month_out_of_default(session, table, m, partition_name(table.name, m), columns)
                    for m in moving)
        session.execute(text(f"ALTER TABLE public.{table.name} ATTACH PARTITION public.{table.default} DEFAULT"))
    return created, moved


def ensure_every_table(session: Session, months: Iterable[date]) -> list[str]:
    """Every monthly table's partitions of `months` (ensure_partitions); the partitions made."""
    months = list(months)
    return [name for table in MONTHLY_TABLES for name in ensure_partitions(session, months, table)[0]]


def ensure_partitions_for(session: Session, first: datetime, last: datetime) -> list[str]:
    """Every monthly table's partitions for every month from `first` to `last`: a bulk load (the
    demo) that back-dates rows calls this first, so they land in their months, not in a default."""
    return ensure_every_table(session, months_between(first, last))


def _archive_partition(session: Session, table: MonthlyTable, month: date, name: str, columns: str) -> None:
    session.execute(text(f"ALTER TABLE public.{table.name} DETACH PARTITION public.{name}"))
    if table.keys:
        session.execute(text(f"DELETE FROM public.{table.keys} WHERE created_at >= :low AND created_at < :high"),
                        {"low": month_start(month), "high": month_end(month)})
    already = session.scalar(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": f"{ARCHIVE_SCHEMA}.{name}"})
    if already:  # the month was archived before and a late row re-created it: add the rows to the archive's
        copied = session.execute(text(
            f"INSERT INTO {ARCHIVE_SCHEMA}.{name} ({columns}) SELECT {columns} FROM public.{name}")).rowcount
        held = session.scalar(text(f"SELECT count(*) FROM public.{name}"))
        if copied != held:
            raise PartitionMoveMismatch(f"{name}: {copied} of {held} row(s) copied into the archive")
        session.execute(text(f"DROP TABLE public.{name}"))
        return
    session.execute(text(f"ALTER TABLE public.{name} SET SCHEMA {ARCHIVE_SCHEMA}"))
    if table.guard:  # detached, it lost the parent's row trigger: an archived month is as append-only as it was
        session.execute(text(f"CREATE TRIGGER {table.name}_append_only BEFORE UPDATE OR DELETE ON {ARCHIVE_SCHEMA}.{name} "
                             f"FOR EACH ROW EXECUTE FUNCTION public.{table.guard}()"))


def archive_partitions(session: Session, now: datetime, retention_months: int, table: MonthlyTable) -> list[str]:
    """Detach every month partition of `table` wholly older than the retention into the `archive`
    schema, rows and all (readable by the owner as archive.<table>_pYYYY_MM; no role of the product
    reads it)."""
    due = [(month, name) for month, name in sorted(partitions_of(session, table).items())
           if archive_due(month, now, retention_months)]
    if not due:
        return []
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    session.execute(text(f"CREATE SCHEMA IF NOT EXISTS {ARCHIVE_SCHEMA}"))
    session.execute(text(f"REVOKE ALL ON SCHEMA {ARCHIVE_SCHEMA} FROM PUBLIC"))
    columns = _columns(session, table)
    for month, name in due:
        _archive_partition(session, table, month, name, columns)
    return [name for _, name in due]


def maintain_partitions(session: Session, now: datetime, *, commit: bool = True) -> PartitionUpkeep:
    """The daily upkeep of every monthly table: the months ahead (setting partitions.months_ahead),
    the default emptied into its months, then the archive (partitions.retention_months). Each step
    of each table its own transaction."""
    months_ahead = int(reference.get_setting(session, "partitions.months_ahead"))
    retention = int(reference.get_setting(session, "partitions.retention_months"))
    created: list[str] = []
    archived: list[str] = []
    moved = 0
    for table in MONTHLY_TABLES:
        made, count = ensure_partitions(session, months_to_have_ready(now, months_ahead), table)
        created += made
        moved += count
        if commit:
            session.commit()
        archived += archive_partitions(session, now, retention, table)
        if commit:
            session.commit()
    return PartitionUpkeep(tuple(created), moved, tuple(archived))
