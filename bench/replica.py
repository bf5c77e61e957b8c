"""The pages read through a real streaming replica, against the same pages on its primary.

    .venv/bin/python -m bench.replica --cases 1000000 --repeat 10
    .venv/bin/python -m bench.replica --cases 10000000 --repeat 5 --no-naive

Starts a private primary of the embedded default's binaries (PostgreSQL 18, tests/private_postgres)
in a temporary folder, generates the benchmark data into it (`bench.generate`), copies it to a
streaming replica with `pg_basebackup -R`, then times every page's data calls (`bench.run`'s part 1)
on the primary and on the replica, one after the other. Prints both; writes nothing. Both servers
and their folders are removed at the end.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def _say(message: str) -> None:
    print(message, flush=True)


def _settings(cluster) -> None:
    """The benchmark server's memory settings, so both servers cache the data as bench.run's does."""
    for name, value in (("shared_buffers", "2GB"), ("effective_cache_size", "8GB"), ("work_mem", "32MB"),
                        ("max_wal_size", "8GB"), ("random_page_cost", "1.1")):
        cluster.sql(f"ALTER SYSTEM SET {name} = '{value}'")


def _wait_caught_up(primary_url: str, replica_url: str, seconds: float = 600) -> float:
    with create_engine(primary_url).connect() as conn:
        lsn = conn.scalar(text("SELECT pg_current_wal_lsn()::text"))
    started = time.monotonic()
    engine = create_engine(replica_url)
    try:
        while True:
            with engine.connect() as conn:
                if conn.scalar(text("SELECT pg_last_wal_replay_lsn() >= CAST(:l AS pg_lsn)"), {"l": lsn}):
                    return time.monotonic() - started
            if time.monotonic() - started > seconds:
                raise SystemExit("the replica did not catch up")
            time.sleep(0.5)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--db", default="bench_claims")
    parser.add_argument("--no-naive", action="store_true",
                        help="skip the naive pandas reference (minutes a page at 10M cases)")
    parser.add_argument("--pages", default="", help="comma-separated page keys (default: every page)")
    args = parser.parse_args(argv)
    only = {p.strip() for p in args.pages.split(",") if p.strip()} or None

    from bench.run import bench_pages
    from tests.private_postgres import PrivateCluster

    primary = PrivateCluster()
    standby = None
    try:
        primary.start()
        _settings(primary)
        primary.stop()
        primary.start()
        _say(f"primary: PostgreSQL in {primary.folder}, port {primary.port}")
        env = {**os.environ, "DATABASE_URL": primary.url()}
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "bench.generate", "--cases", str(args.cases), "--db", args.db],
                       cwd=ROOT, env=env, check=True)
        _say(f"generated {args.cases:,} cases in {time.monotonic() - started:.0f} s")
        url = make_url(primary.url()).set(database=args.db).render_as_string(hide_password=False)
        started = time.monotonic()
        standby = primary.replica()
        replica_url = make_url(standby.url()).set(database=args.db).render_as_string(hide_password=False)
        _say(f"replica: pg_basebackup -R and start in {time.monotonic() - started:.0f} s, port {standby.port}")
        _wait_caught_up(url, replica_url)
        results = {}
        for where, read_url in (("primary", None), ("replica", replica_url)):
            _say(f"pages on the {where}")
            results[where], _ = bench_pages(url, args.repeat, only, read_url=read_url, naive=not args.no_naive)
        _say("\n| page | primary median ms | primary p95 ms | replica median ms | replica p95 ms | figures agree |")
        _say("|---|---:|---:|---:|---:|---|")
        replica_rows = {r["key"]: r for r in results["replica"]}
        for row in results["primary"]:
            other = replica_rows[row["key"]]
            _say(f"| {row['key']} | {row['median_ms']:.1f} | {row['p95_ms']:.1f} | {other['median_ms']:.1f} | "
                 f"{other['p95_ms']:.1f} | {'yes' if row['ours_value'] == other['ours_value'] else 'NO'} |")
    finally:
        if standby is not None:
            standby.remove()
        primary.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
