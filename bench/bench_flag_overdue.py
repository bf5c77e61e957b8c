"""Benchmark of `jobs.flag_overdue` at scale: 1,000,000 cases, 100,000 pending deadline clocks.

    .venv/bin/python -m bench.bench_flag_overdue [--cases 1000000] [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

Creates a scratch database on the server (dropped at the end unless --keep), brings the schema to
head, builds the demo organisation, generates the cases and clocks set-based (generate_series),
then times: the first run (no watermark: the full pass, everything overdue so far), an immediate
re-run (nothing new), incremental runs 5 minutes later, after 1,000 more clocks fall due and after
1,000 old late clocks are charged to a second person (第三章 五), the nightly full pass (`--full`),
and the job as a real subprocess with its start-up cost. The job's log line says which pass ran and
how many late clocks it read. Prints the timings; never part of the test run.

The clocks are stamped as written a day before (deadline.updated_at, migration 0036), as history
is: a bulk load a minute before the first run would make the next runs re-read all of it (a change
within the safety margin of a run's start is read again), which no production run sees.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)  # 10:00 Asia/Shanghai


def _say(message: str) -> None:
    print(message, flush=True)


def _timed(label: str, func):
    started = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - started
    _say(f"  {label:<58} {elapsed:8.2f} s   {result if result is not None else ''}")
    return result, elapsed


def generate(url: str, cases: int) -> None:
    from dashboard.demo.org import build_org

    engine = create_engine(url)
    with Session(engine) as session:
        org = build_org(session, "not-a-real-hash", surveyors_per_sub_branch=2)
        session.commit()
        subs = [(s.id, b.id, s.surveyors[0], s.people[f"{s.code}_claims"])
                for b in org.branches for s in org.sub_branches[b.code]]
    values = ", ".join(f"({i}, {sid}, {bid}, {surv}, {head})" for i, (sid, bid, surv, head) in enumerate(subs))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE bench_sub (idx int, sub_id int, branch_id int, surveyor_id int, head_id int);"
                          f"INSERT INTO bench_sub VALUES {values}"))
    # One case in five is tiered (T1) and pending; the rest are small and closed.
    _timed(f"generate {cases:,} cases (generate_series)", lambda: _exec(engine, f"""
        INSERT INTO claim_case (case_no, report_time, accident_time, province, city, address, business_line,
                                policy_no, insured_name, reporter_name, accident_type, branch_id, sub_branch_id,
                                surveyor_id, state, tier, tiered_at, current_estimate)
        SELECT 'B' || lpad(g::text, 10, '0'), ts, ts - interval '1 hour', '广东省', '广州市', '天河路' || g,
               'motor', 'P' || g, '张三', '张三', 'collision', s.branch_id, s.sub_id, s.surveyor_id,
               CASE WHEN g % 5 = 0 THEN 'dispatched' ELSE 'closed' END,
               CASE WHEN g % 5 = 0 THEN 'T1' ELSE 'T0' END,
               CASE WHEN g % 5 = 0 THEN ts END,
               CASE WHEN g % 5 = 0 THEN 80000 ELSE 8000 END
          FROM generate_series(1, {cases}) g
          CROSS JOIN LATERAL (SELECT TIMESTAMPTZ '{AS_OF.isoformat()}' - (g % 43200) * interval '1 minute'
                                     - interval '1 hour' AS ts) t
          JOIN bench_sub s ON s.idx = g % {len(subs)}
    """))
    # D1 (surveyor), D2 and D3 (the sub-branch claims head) per tiered case: one clock in six is
    # still open (the pending ones), of the met ones one in ten was met late.
    _timed("generate D1-D3 clocks of the tiered cases", lambda: _exec(engine, """
        INSERT INTO deadline (case_id, branch_id, kind, subject_key, responsible_person_id, started_at, due_at,
                              met_at, met_by, updated_at)
        SELECT c.id, c.branch_id, k.kind,
               CASE WHEN k.kind = 'D1' THEN 'case:' || c.id || ':' || 'survey' ELSE 'dispatch:' || c.id END,
               CASE WHEN k.kind = 'D1' THEN c.surveyor_id ELSE s.head_id END,
               c.tiered_at, c.tiered_at + k.hours * interval '1 hour',
               CASE WHEN (c.id * 3 + k.n) % 6 = 0 THEN NULL
                    WHEN (c.id * 3 + k.n) % 10 = 1 THEN c.tiered_at + (k.hours + 5) * interval '1 hour'
                    ELSE c.tiered_at + (k.hours - 2) * interval '1 hour' END,
               CASE WHEN (c.id * 3 + k.n) % 6 = 0 THEN NULL ELSE c.surveyor_id END,
               now() - interval '1 day'
          FROM claim_case c
          JOIN bench_sub s ON s.sub_id = c.sub_branch_id
          CROSS JOIN (VALUES ('D1', 24, 0), ('D2', 24, 1), ('D3', 72, 2)) AS k(kind, hours, n)
         WHERE c.tier = 'T1'
    """))
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        _timed("VACUUM ANALYZE", lambda: conn.execute(text("VACUUM ANALYZE")) and None)
        counts = conn.execute(text("""
            SELECT (SELECT count(*) FROM claim_case),
                   (SELECT count(*) FROM deadline),
                   (SELECT count(*) FROM deadline WHERE met_at IS NULL),
                   (SELECT count(*) FROM deadline WHERE met_at IS NULL AND due_at < :as_of),
                   (SELECT count(*) FROM deadline WHERE met_at > due_at)"""), {"as_of": AS_OF}).one()
    _say(f"  data: {counts[0]:,} cases, {counts[1]:,} clocks, {counts[2]:,} pending "
         f"({counts[3]:,} past due as of {AS_OF:%Y-%m-%d %H:%M} UTC), {counts[4]:,} met late")
    engine.dispose()


def _exec(engine, sql: str) -> int:
    with engine.begin() as conn:
        return conn.execute(text(sql)).rowcount


def run_job(url: str, as_of: datetime, *extra: str) -> str:
    from jobs import flag_overdue

    code = flag_overdue.main(["--as-of", as_of.isoformat(), *extra], url=url)
    if code != 0:
        raise SystemExit(f"flag_overdue exited with {code}")
    engine = create_engine(url)
    with engine.connect() as conn:
        v, n = conn.execute(text("SELECT (SELECT count(*) FROM violation), (SELECT count(*) FROM notification)")).one()
    engine.dispose()
    return f"violations={v:,} notifications={n:,}"


def add_more_clocks(url: str, count: int) -> None:
    engine = create_engine(url)
    _exec(engine, f"""
        INSERT INTO deadline (case_id, branch_id, kind, subject_key, responsible_person_id, started_at, due_at)
        SELECT c.id, c.branch_id, 'D7', 'bench-extra:' || c.id, c.surveyor_id,
               TIMESTAMPTZ '{AS_OF.isoformat()}' - interval '48 hours',
               TIMESTAMPTZ '{AS_OF.isoformat()}' + interval '1 minute'
          FROM claim_case c WHERE c.tier = 'T1' ORDER BY c.id LIMIT {count}""")
    engine.dispose()


def charge_second_persons(url: str, count: int) -> None:
    """Old D2 clocks met late (due a day or more before, recorded for the sub-branch's claims head)
    charged to the case's surveyor too now: 第三章 五. Each adds one violation."""
    engine = create_engine(url)
    changed = _exec(engine, f"""
        UPDATE deadline d SET also_charged_person_id = c.surveyor_id
          FROM claim_case c
         WHERE c.id = d.case_id AND d.id IN (
               SELECT id FROM deadline WHERE kind = 'D2' AND met_at > due_at AND cancelled_at IS NULL
                  AND due_at < TIMESTAMPTZ '{AS_OF.isoformat()}' - interval '1 day'
                  AND also_charged_person_id IS NULL ORDER BY id LIMIT {count})""")
    engine.dispose()
    if changed != count:
        raise SystemExit(f"charged {changed} clocks to a second person, not {count}")


def violations_alone(url: str, as_of: datetime, *, full: bool) -> str:
    """The violation statement alone (no early warnings, no job start-up), as the job's role, rolled back."""
    from dashboard.services.clocks.violations import record_violations_since_last_run
    from jobs._common import job_engine

    engine = job_engine(url)
    try:
        with engine.connect() as conn, Session(bind=conn) as session:
            record_violations_since_last_run(session, as_of, full=full)  # warm the caches, as a running server is
            session.rollback()
            started = time.perf_counter()
            result = record_violations_since_last_run(session, as_of, full=full)
            elapsed = time.perf_counter() - started
            session.rollback()
    finally:
        engine.dispose()
    return f"{elapsed:.3f} s, {result.late_read:,} late clocks read"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--admin-url", default=os.environ.get("TEST_ADMIN_DATABASE_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--generate-only", action="store_true", help="generate the data, run nothing (implies --keep)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench.scratch import scratch_database

    with scratch_database(args.admin_url, "bench_flag", keep=args.keep) as scratch:
        url = scratch.url
        _say(f"scratch database {scratch.name}")
        generate(url, args.cases)
        if args.generate_only:
            scratch.keep = True
            _say(f"data left in {scratch.name}")
            return 0
        _say("flag_overdue:")
        _timed("first run (all overdue so far)", lambda: run_job(url, AS_OF))
        _timed("re-run at the same moment (nothing new)", lambda: run_job(url, AS_OF))
        _timed("incremental run 5 min later", lambda: run_job(url, AS_OF + timedelta(minutes=5)))
        add_more_clocks(url, 1000)
        _timed("incremental run after 1,000 more clocks fell due", lambda: run_job(url, AS_OF + timedelta(minutes=10)))
        charge_second_persons(url, 1000)
        _timed("incremental run after 1,000 old clocks charged a 2nd person",
               lambda: run_job(url, AS_OF + timedelta(minutes=15)))
        _timed("incremental run 5 min later (nothing new)", lambda: run_job(url, AS_OF + timedelta(minutes=20)))
        _timed("nightly full pass (--full; what every run cost before)",
               lambda: run_job(url, AS_OF + timedelta(minutes=25), "--full"))
        _say("the violation statement alone (warm, rolled back):")
        _timed("incremental", lambda: violations_alone(url, AS_OF + timedelta(minutes=30), full=False))
        _timed("full pass", lambda: violations_alone(url, AS_OF + timedelta(minutes=30), full=True))
        env = {**os.environ, "DATABASE_URL": url}
        _timed("`python -m jobs.flag_overdue` as a subprocess (start-up included)", lambda: subprocess.run(
            [sys.executable, "-m", "jobs.flag_overdue", "--as-of", (AS_OF + timedelta(minutes=30)).isoformat()],
            cwd=ROOT, env=env, check=True, capture_output=True).returncode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
