"""Benchmark of the executive overview and the case detail at scale (never part of the test run).

    .venv/bin/python -m bench.bench_overview [--cases 1000000] [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

Creates a scratch database (dropped at the end unless --keep), builds the demo organisation and
generates, set-based: cases over a year (one in five tiered, T1–T4; a third of those pending), the
tiering estimate and the dispatch of every tiered case, D2/D3 clocks (some met late, some never),
their violations, and HQ review opinions with points and answers on a quarter of the tiered cases.
Then times every figure, chart query and list page of the overview, national and drilled down,
and the case detail of one case.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


def _say(message: str) -> None:
    print(message, flush=True)


def _timed(label: str, func):
    started = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - started
    shown = result if isinstance(result, (int, float, str)) else ""
    _say(f"  {label:<52} {elapsed * 1000:9.0f} ms   {shown}")
    return result


def _exec(engine, sql: str) -> int:
    with engine.begin() as conn:
        return conn.execute(text(sql)).rowcount


def generate(url: str, cases: int) -> None:
    from dashboard.demo.org import build_org

    engine = create_engine(url)
    with Session(engine) as session:
        org = build_org(session, "not-a-real-hash", surveyors_per_sub_branch=2)
        session.commit()
        subs = [(s.id, b.id, s.surveyors[0], s.people[f"{s.code}_claims"], b.people[f"{b.code}_manager"])
                for b in org.branches for s in org.sub_branches[b.code]]
        reviewer, callcenter = org.person("reviewer"), org.person("callcenter")
    values = ", ".join(f"({i}, {a}, {b}, {c}, {d}, {e})" for i, (a, b, c, d, e) in enumerate(subs))
    _exec(engine, f"CREATE TABLE bench_sub (idx int, sub_id int, branch_id int, surveyor_id int, head_id int, "
                  f"manager_id int); INSERT INTO bench_sub VALUES {values}")
    _timed(f"generate {cases:,} cases", lambda: _exec(engine, f"""
        INSERT INTO claim_case (case_no, report_time, accident_time, province, city, address, business_line,
                                policy_no, insured_name, reporter_name, accident_type, branch_id, sub_branch_id,
                                surveyor_id, state, tier, tiered_at, current_estimate, closed_at)
        SELECT 'B' || lpad(g::text, 10, '0'), ts, ts - interval '1 hour', '广东省', '广州市', '天河路' || g,
               'motor', 'P' || g, '张三', '张三', 'collision', s.branch_id, s.sub_id, s.surveyor_id,
               CASE WHEN g % 15 = 0 THEN 'investigating' ELSE 'closed' END,
               CASE WHEN g % 5 <> 0 THEN 'T0' ELSE (ARRAY['T1','T1','T2','T3','T4'])[1 + (g / 5) % 5] END,
               CASE WHEN g % 5 = 0 THEN ts + interval '2 hours' END,
               CASE WHEN g % 5 <> 0 THEN 8000
                    ELSE (ARRAY[80000, 100000, 300000, 800000, 1500000])[1 + (g / 5) % 5] END,
               CASE WHEN g % 15 <> 0 THEN ts + interval '20 days' END
          FROM generate_series(1, {cases}) g
          CROSS JOIN LATERAL (SELECT TIMESTAMPTZ '{NOW.isoformat()}' - (g % 525600) * interval '1 minute'
                                     - interval '1 hour' AS ts) t
          JOIN bench_sub s ON s.idx = g % {len(subs)}"""))
    _timed("estimates and dispatches of the tiered cases", lambda: _exec(engine, f"""
        INSERT INTO estimate (case_id, amount, tier_before, tier_after, recorded_at, recorded_by)
        SELECT id, current_estimate, 'T0', tier, tiered_at, {callcenter} FROM claim_case WHERE tier <> 'T0';
        INSERT INTO dispatch (case_id, tier, position, person_id, reason, dispatched_at)
        SELECT c.id, c.tier, 'sub_claims_head', s.head_id, 'initial',
               c.tiered_at + ((c.id % 120) + 1) * interval '1 minute'
          FROM claim_case c JOIN bench_sub s ON s.sub_id = c.sub_branch_id WHERE c.tier <> 'T0'"""))
    _timed("D2/D3 clocks and their violations", lambda: _exec(engine, """
        INSERT INTO deadline (case_id, branch_id, kind, subject_key, responsible_person_id, started_at, due_at,
                              met_at, met_by)
        SELECT d.case_id, c.branch_id, k.kind, 'dispatch:' || d.id, d.person_id, d.dispatched_at,
               d.dispatched_at + k.hours * interval '1 hour',
               CASE WHEN (d.id + k.n) % 9 = 0 THEN NULL
                    WHEN (d.id + k.n) % 7 = 0 THEN d.dispatched_at + (k.hours + 6) * interval '1 hour'
                    ELSE d.dispatched_at + (k.hours - 3) * interval '1 hour' END, d.person_id
          FROM dispatch d JOIN claim_case c ON c.id = d.case_id
          CROSS JOIN (VALUES ('D2', 24, 0), ('D3', 72, 1)) AS k(kind, hours, n);
        INSERT INTO violation (deadline_id, person_id, case_id, branch_id, kind, due_at, found_at)
        SELECT id, responsible_person_id, case_id, branch_id, kind, due_at, due_at + interval '5 minutes'
          FROM deadline WHERE coalesce(met_at, 'infinity') > due_at"""))
    _timed("HQ opinions, points and answers (1 in 4 tiered cases)", lambda: _exec(engine, f"""
        INSERT INTO opinion (case_id, branch_id, kind, author_id, posted_at)
        SELECT id, branch_id, 'hq_review', {reviewer}, tiered_at + interval '20 hours'
          FROM claim_case WHERE tier <> 'T0' AND id % 4 = 0;
        INSERT INTO opinion_point (opinion_id, seq, body, status)
        SELECT o.id, n, '要点' || n, CASE WHEN (o.id + n) % 3 = 0 THEN 'open' ELSE 'accepted' END
          FROM opinion o CROSS JOIN generate_series(1, 3) n;
        INSERT INTO point_answer (point_id, author_id, body, answered_at)
        SELECT p.id, s.manager_id, '答复', o.posted_at + ((p.id % 60) + 1) * interval '1 hour'
          FROM opinion_point p JOIN opinion o ON o.id = p.opinion_id
          JOIN bench_sub s ON s.branch_id = o.branch_id AND s.idx % 3 = 0
         WHERE p.status = 'accepted'"""))
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        _timed("VACUUM ANALYZE", lambda: conn.execute(text("VACUUM ANALYZE")) and None)
        counts = conn.execute(text("""SELECT (SELECT count(*) FROM claim_case),
            (SELECT count(*) FROM claim_case WHERE tier <> 'T0'),
            (SELECT count(*) FROM claim_case WHERE tier <> 'T0' AND state <> 'closed'),
            (SELECT count(*) FROM deadline), (SELECT count(*) FROM violation),
            (SELECT count(*) FROM opinion_point), (SELECT count(*) FROM point_answer)""")).one()
    _say("  data: {:,} cases, {:,} tiered, {:,} tiered pending, {:,} clocks, {:,} violations, {:,} points, "
         "{:,} answers".format(*counts))
    engine.dispose()


def measure(url: str) -> None:
    from dashboard.services.actor import load_actor
    from dashboard.services.cases.detail import case_detail
    from dashboard.services.figures.overview import OverviewFilter, overview_cases, overview_figures
    from db.engine import session_factory
    from db.models import OrgUnit, Person

    with session_factory(url)() as session:
        executive = load_actor(session, session.query(Person.id).filter(Person.username == "executive").scalar())
        gd = session.query(OrgUnit.id).filter(OrgUnit.code == "gd").scalar()
        gz = session.query(OrgUnit.id).filter(OrgUnit.code == "gz").scalar()
        today = NOW.date()
        scopes = {
            "national, last 90 days": OverviewFilter(report_from=today - timedelta(days=90), report_to=today),
            "national, whole year": OverviewFilter(report_from=today - timedelta(days=365), report_to=today),
            "branch gd, last 90 days": OverviewFilter(report_from=today - timedelta(days=90), report_to=today,
                                                      branch_id=gd),
            "sub-branch gz, last 90 days": OverviewFilter(report_from=today - timedelta(days=90), report_to=today,
                                                          branch_id=gd, sub_branch_id=gz),
        }
        total_ms = 0.0
        for label, flt in scopes.items():
            _say(f"\n{label}")
            started = time.perf_counter()
            # Every figure, chart and the ranking come in one statement (services/figures/overview.py).
            everything = _timed("figures, charts and ranking (one statement)",
                                lambda: overview_figures(session, executive, flt, now=NOW))
            figures = everything.headline
            _say(f"    reported={figures.tiered_reported:,} pending={figures.pending:,} "
                 f"amount={figures.pending_amount:,} dispatched<1h={figures.dispatched_within.rate:.1%} "
                 f"D2={figures.d2_on_time.rate:.1%} D3={figures.d3_on_time.rate:.1%} "
                 f"open points={figures.open_review_points:,} avg answer={figures.avg_answer_hours:.1f} h")
            _say(f"    units pending={len(everything.pending_by_unit):,} weeks={len(everything.violations_by_week):,} "
                 f"ranked={len(everything.on_time_by_unit):,}")
            _timed("case list, first page of 50", lambda: overview_cases(session, executive, flt, limit=50)[0])
            _timed("case list, page 100 of 50", lambda: len(overview_cases(session, executive, flt, limit=50,
                                                                           offset=4950)[1]))
            elapsed = (time.perf_counter() - started) * 1000
            total_ms = max(total_ms, elapsed)
            _say(f"  {'whole page of queries':<52} {elapsed:9.0f} ms")
        case_id = session.execute(text("SELECT id FROM claim_case WHERE tier = 'T4' AND id % 4 = 0 LIMIT 1")).scalar()
        _say("")
        _timed("case detail of one T4 case", lambda: len(case_detail(session, executive, case_id).timeline))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--admin-url", default=os.environ.get("TEST_ADMIN_DATABASE_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench.scratch import scratch_database

    with scratch_database(args.admin_url, "bench_overview", keep=args.keep) as scratch:
        _say(f"scratch database {scratch.name}")
        generate(scratch.url, args.cases)
        measure(scratch.url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
