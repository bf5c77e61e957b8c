"""The case history's monthly partitions (migration 0034, docs/SCALING.md step 3): the one place
that creates them ahead, moves what the default partition caught into its month, and archives the
months older than the retention.

DDL on the history is the tables' owner's work, as a migration's: call these with a session of the
owner (jobs/maintain_partitions.py, the demo loader, bench, test fixtures), never claims_app /
claims_job. Each function is one transaction of the caller's (commit after it); none deletes an
event. Every new partition is read only through the parent (no grant of its own, so the parent's
row-level security holds) and refuses TRUNCATE itself (a TRUNCATE of a partition skips the
parent's trigger).

Moving rows out of the default: the append-only trigger refuses DELETE on the history, rightly.
The move detaches the default (no trigger of the parent's applies to a detached table; the lock
taken holds every insert into case_event until commit), creates the months, copies each month's
rows into its partition and deletes exactly those from the detached default (the counts must
match, or everything rolls back), and attaches the default again, whose attach checks that no row
it keeps belongs to another partition. One transaction: a row is in the default or in its month,
never both, never neither.
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

HISTORY = "case_event"
DEFAULT_PARTITION = "case_event_default"
ARCHIVE_SCHEMA = "archive"
# How long a step waits for the history's lock before giving up until the next run: a long report
# reading case_event must not have every insert queue behind the job's exclusive lock.
LOCK_TIMEOUT = "5s"


class PartitionMoveMismatch(RuntimeError):
    """The rows copied into a month and those removed from the default differ: nothing is kept."""


@dataclass(frozen=True)
class PartitionUpkeep:
    created: tuple[str, ...]  # partitions made (months ahead, and months the default held rows for)
    moved: int  # rows moved out of the default into their month
    archived: tuple[str, ...]  # partitions detached into the archive schema


def history_partitions(session: Session) -> dict[date, str]:
    """The month partitions attached to case_event (the default left out), by month."""
    names = session.scalars(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = CAST(:parent AS regclass)"), {"parent": f"public.{HISTORY}"})
    months = {month_of_partition(HISTORY, name): name for name in names}
    months.pop(None, None)
    return months  # type: ignore[return-value]


def months_in_default(session: Session) -> list[date]:
    """The business months of the rows the default partition holds (none, normally)."""
    return sorted(session.scalars(text(
        f"SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'Asia/Shanghai')::date FROM {DEFAULT_PARTITION}")))


def _columns(session: Session) -> str:
    return ", ".join(session.scalars(text(
        "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum"), {"t": f"public.{HISTORY}"}))


def _create_month(session: Session, month: date) -> str:
    name = partition_name(HISTORY, month)
    session.execute(text(
        f"CREATE TABLE public.{name} PARTITION OF public.{HISTORY} "
        f"FOR VALUES FROM ('{month_start(month).isoformat(sep=' ')}') TO ('{month_end(month).isoformat(sep=' ')}')"))
    session.execute(text(f"REVOKE ALL ON public.{name} FROM PUBLIC, {APP_ROLE}, {JOB_ROLE}"))
    session.execute(text(f"CREATE TRIGGER case_event_no_truncate BEFORE TRUNCATE ON public.{name} "
                         "FOR EACH STATEMENT EXECUTE FUNCTION case_event_is_append_only()"))
    return name


def _move_month_out_of_default(session: Session, month: date, name: str, columns: str) -> int:
    bounds = {"low": month_start(month), "high": month_end(month)}
    where = "at >= :low AND at < :high"
    copied = session.execute(text(
        f"INSERT INTO public.{name} ({columns}) SELECT {columns} FROM public.{DEFAULT_PARTITION} WHERE {where}"),
        bounds).rowcount
    removed = session.execute(text(f"DELETE FROM public.{DEFAULT_PARTITION} WHERE {where}"), bounds).rowcount
    if copied != removed:
        raise PartitionMoveMismatch(f"{name}: {copied} row(s) copied, {removed} removed from the default")
    return copied


def ensure_history_partitions(session: Session, months: Iterable[date]) -> tuple[list[str], int]:
    """Create the partitions of `months` that are missing, and of every month the default holds
    rows for, moving those rows into them. Returns (partitions created, rows moved). Idempotent."""
    existing = history_partitions(session)
    caught = set(months_in_default(session))
    wanted = sorted((set(months) | caught) - set(existing))
    if not wanted:
        return [], 0
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    moving = [m for m in wanted if m in caught]
    if moving:
        session.execute(text(f"ALTER TABLE public.{HISTORY} DETACH PARTITION public.{DEFAULT_PARTITION}"))
    created = [_create_month(session, month) for month in wanted]
    moved = 0
    if moving:
        columns = _columns(session)
        moved = sum(_move_month_out_of_default(session, m, partition_name(HISTORY, m), columns) for m in moving)
        session.execute(text(f"ALTER TABLE public.{HISTORY} ATTACH PARTITION public.{DEFAULT_PARTITION} DEFAULT"))
    return created, moved


def ensure_history_partitions_for(session: Session, first: datetime, last: datetime) -> list[str]:
    """Partitions for every month from `first` to `last`: a bulk load (the demo, bench) that
    back-dates history calls this first, so its rows land in their months, not in the default."""
    created, _ = ensure_history_partitions(session, months_between(first, last))
    return created


def _archive_partition(session: Session, name: str, columns: str) -> None:
    session.execute(text(f"ALTER TABLE public.{HISTORY} DETACH PARTITION public.{name}"))
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
    # Detached, it lost the parent's row trigger: an archived month is as append-only as it was.
    session.execute(text(f"CREATE TRIGGER case_event_append_only BEFORE UPDATE OR DELETE ON {ARCHIVE_SCHEMA}.{name} "
                         "FOR EACH ROW EXECUTE FUNCTION public.case_event_is_append_only()"))


def archive_history_partitions(session: Session, now: datetime, retention_months: int) -> list[str]:
    """Detach every month partition wholly older than the retention into the `archive` schema, rows
    and all (readable by the owner as archive.case_event_pYYYY_MM; no role of the product reads it)."""
    due = [name for month, name in sorted(history_partitions(session).items())
           if archive_due(month, now, retention_months)]
    if not due:
        return []
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    session.execute(text(f"CREATE SCHEMA IF NOT EXISTS {ARCHIVE_SCHEMA}"))
    session.execute(text(f"REVOKE ALL ON SCHEMA {ARCHIVE_SCHEMA} FROM PUBLIC"))
    columns = _columns(session)
    for name in due:
        _archive_partition(session, name, columns)
    return due


def maintain_history_partitions(session: Session, now: datetime, *, commit: bool = True) -> PartitionUpkeep:
    """The daily upkeep: the months ahead (setting partitions.months_ahead), the default emptied into
    its months, then the archive (partitions.retention_months). Each step its own transaction."""
    months_ahead = int(reference.get_setting(session, "partitions.months_ahead"))
    retention = int(reference.get_setting(session, "partitions.retention_months"))
    created, moved = ensure_history_partitions(session, months_to_have_ready(now, months_ahead))
    if commit:
        session.commit()
    archived = archive_history_partitions(session, now, retention)
    if commit:
        session.commit()
    return PartitionUpkeep(tuple(created), moved, tuple(archived))
