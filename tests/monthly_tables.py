"""What the tests of the monthly partitioned tables share (migrations 0034 and 0047: case_event,
notification, upload): a table's fingerprint, its partitions, the job, a role's engine, and the
checks that a conversion put every row in its month."""
from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from db.engine import connect_options, normalise_url
from jobs import maintain_partitions


def fingerprint(engine: Engine, table: str) -> tuple[int, str]:
    """The row count and an md5 of every row in id order: equal before and after a conversion."""
    with engine.connect() as conn:
        return tuple(conn.execute(text(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY id), '')) FROM {table} t")).one())


def partitions(engine: Engine, table: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(text("SELECT inhrelid::regclass::text FROM pg_inherits "
                                     "WHERE inhparent = CAST(:t AS regclass)"), {"t": table}))


def partition_of(engine: Engine, table: str, row_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(text(f"SELECT tableoid::regclass::text FROM {table} WHERE id = :i"), {"i": row_id})


def run_job(db_url: str, now) -> int:
    return maintain_partitions.main(["--as-of", now.isoformat()], url=db_url)


def role_engine(db_url: str, role: str) -> Engine:
    return create_engine(normalise_url(db_url), isolation_level="AUTOCOMMIT",
                         connect_args={"options": connect_options(role)})


def misplaced(table: str, column: str) -> str:
    """Rows not in the partition of their own business month (the default counts as wrong)."""
    return (f"SELECT count(*) FROM {table} WHERE tableoid::regclass::text <> "
            f"'{table}_p' || to_char({column} AT TIME ZONE 'Asia/Shanghai', 'YYYY_MM')")


def assert_every_row_in_its_month(engine: Engine, table: str, column: str, *, months: int) -> None:
    """`table` is partitioned, each row in its month's partition, the default empty, and the rows
    spread over at least `months` partitions."""
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT relkind FROM pg_class WHERE relname = :t"), {"t": table}) == "p"
        assert conn.scalar(text(misplaced(table, column))) == 0
        assert conn.scalar(text(f"SELECT count(*) FROM {table}_default")) == 0
        assert conn.scalar(text(f"SELECT count(DISTINCT tableoid) FROM {table}")) >= months
