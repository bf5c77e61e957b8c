"""Fill a benchmark database with a national insurer's volume, set-based and deterministic.

    .venv/bin/python -m bench.generate --cases 1000000 [--seed 7] [--db bench_claims] [--as-of 2026-11-25T00:00:00+00:00]
    .venv/bin/python -m bench.generate --extend [--db bench_claims]   # an existing one: upgrade, add new steps
    .venv/bin/python -m bench.generate --verify [--db bench_claims]   # an existing one: check its kept values

Creates its own database (default `bench_claims`, dropped and re-created) on the server of
DATABASE_URL (or postgresql://postgres@127.0.0.1:5432), migrates it to head (db.schema.upgrade_to_head),
builds 30 branches x 10 sub-branches with every role and position filled (dashboard.demo.org.build_org,
password demo1234), then fills every table with INSERT ... SELECT over generate_series, triggers
off, the big tables' secondary indexes built afterwards. Every value the database keeps by
trigger is then filled in bulk (a case's first dispatch and first estimate and a review point's
answer totals with their rows; case_count, case_figures, late_count and scorecard_cell by one
statement each, from the migrations' own SQL), and verify() checks every one of them against
the rows at the end. Every random choice is a hash of (row id, purpose, seed) — hashint8extended
— and every table is written in a fixed order, so the same seed and as-of give the same rows
(the one exception: what the database stamps with its own time, such as created_at). Never
touches the app's `claims` database. 10,000,000 cases: 9 min here (bench/RESULTS.md).

Proportions (over 3 years before as-of): ~5% of cases tiered (T1 60%, T2 30%, T3 8%, T4 2%),
~10% pending; tiered cases have estimates, dispatches (1 or 2 per tier), contact attempts,
D1-D3 clocks, uploads, the HQ review queue with D4, opinions with 1-4 points, answers (one in
ten sent back and answered again), verdicts, D5, supervision opinions with D7 on key branches,
progress notes, 156 weekly summaries per branch with D6, violations for every clock met late or
past due, notifications and the case_event history (in its month partitions); red / yellow / blue
and major cases; ~0.3% of tiered cases raised as special (chains by the default limits) with their
decisions; complaint / dispute / difficult items on ~1% of cases plus some without a case, at
every step, with their step history; what the quality scorecard reads (the amount paid on every
case marked paid, zero closures and their reopening, forced registrations on ~3%, the first
estimate as the estimate table has it) and HQ's financial figures for every branch (the last 12
months, 4 quarters, 2 years).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PROTECTED = {"claims", "postgres", "template0", "template1"}
SURVEYORS_PER_SUB = 5


def _say(message: str) -> None:
    print(message, flush=True)


def bench_branches(count: int = 30, subs: int = 10):
    """30 provincial branches x 10 city sub-branches in the shape build_org expects."""
    provinces = ("广东", "浙江", "江苏", "四川", "山东", "河南", "河北", "湖北", "湖南", "福建", "安徽", "江西",
                 "辽宁", "吉林", "黑龙江", "陕西", "山西", "云南", "贵州", "广西", "海南", "甘肃", "青海", "内蒙古",
                 "宁夏", "新疆", "北京", "上海", "天津", "重庆")
    out = []
    for b in range(count):
        prov = provinces[b % len(provinces)]
        code = f"b{b + 1:02d}"
        out.append((code, f"{prov}分公司", f"{prov}省",
                    tuple((f"{code}s{s + 1:02d}", f"{prov}第{s + 1}中心支公司", f"{prov}{s + 1}市")
                          for s in range(subs))))
    return tuple(out)


def server_url() -> str:
    from db.engine import normalise_url

    raw = os.environ.get("DATABASE_URL", "").strip() or DEFAULT_SERVER
    return normalise_url(raw)


def database_url(name: str) -> str:
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


class Steps:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.timings: list[tuple[str, float, int]] = []

    def run(self, label: str, sql: str, params: dict | None = None) -> int:
        started = time.perf_counter()
        with self.engine.begin() as conn:
            # Bulk load of rows consistent by construction: skip the per-row foreign-key triggers
            # and the kept values' triggers (superuser only; the constraints stay declared and are
            # checked for every later write; the kept values are filled in bulk by keep_values).
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("SET LOCAL work_mem = '256MB'"))
            # Deterministic for a seed: ids are drawn in the order rows are read, so a scan starts
            # at a table's start, not where another statement's scan of it is (two run at once).
            conn.execute(text("SET LOCAL synchronize_seqscans = off"))
            rows = conn.execute(text(sql), params or {}).rowcount
        elapsed = time.perf_counter() - started
        self.timings.append((label, elapsed, rows))
        _say(f"  {label:<44} {rows:>11,} rows {elapsed:8.1f} s")
        return rows


def _in_parallel(*jobs) -> None:
    """Run the callables at once (this machine's two cores), each on its own connections; the
    first error is raised once all have ended. Each job writes its own tables, so what it writes
    (and the ids it draws) does not depend on the other."""
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(job) for job in jobs]
        for future in futures:
            future.result()


def create_database(name: str) -> str:
    if name in PROTECTED:
        raise SystemExit(f"refusing to use database {name!r}: the benchmark makes its own")
    admin = create_engine(server_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # The data fits in RAM: tell the planner random reads are nearly as cheap as sequential
        # ones (the setting docs/SCALING.md recommends for the production server too).
        conn.execute(text(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1'))
        conn.execute(text(f'ALTER DATABASE "{name}" SET effective_cache_size = \'4GB\''))
    admin.dispose()
    return database_url(name)


def build_people(engine: Engine, seed: int) -> None:
    """Org and people through the demo builder, then lookup tables the set-based SQL joins to."""
    from dashboard.services.auth import hash_password
    from dashboard.demo.org import DEMO_PASSWORD, build_org

    with Session(engine) as session:
        org = build_org(session, hash_password(DEMO_PASSWORD), branches=bench_branches(), seed=seed,
                        surveyors_per_sub_branch=SURVEYORS_PER_SUB)
        session.commit()
        subs, surveyors, branches = [], [], []
        for b_idx, b in enumerate(org.branches):
            branches.append((b_idx, b.id, b.people[f"{b.code}_manager"], b.people[f"{b.code}_tracker"],
                             b.people[f"{b.code}_gm"], b.people[f"{b.code}_claims"], b.people[f"{b.code}_finance"]))
            for s in org.sub_branches[b.code]:
                idx = len(subs)
                subs.append((idx, s.id, b.id, b_idx, s.province, s.city, s.people[f"{s.code}_claims"],
                             s.people[f"{s.code}_head"], s.people[f"{s.code}_finance"]))
                surveyors.extend((idx, n, pid) for n, pid in enumerate(s.surveyors))
        hq = (org.person("callcenter"), org.person("reviewer"), org.person("reviewer2"),
              org.person("supervisor"), org.person("supervisor2"))
    with engine.begin() as conn:
        conn.execute(text("""
            CREATE TABLE bench_branch (idx int PRIMARY KEY, branch_id int, manager int, tracker int, gm int,
                                       claims int, finance int);
            CREATE TABLE bench_sub (idx int PRIMARY KEY, sub_id int, branch_id int, branch_idx int, province text,
                                    city text, claims_head int, head int, finance_head int);
            CREATE TABLE bench_surveyor (sub_idx int, n int, person_id int, PRIMARY KEY (sub_idx, n));
            CREATE TABLE bench_hq (callcenter int, reviewer int, reviewer2 int, supervisor int, supervisor2 int);
        """))
        conn.execute(text("INSERT INTO bench_branch VALUES (:a, :b, :c, :d, :e, :f, :g)"),
                     [dict(zip("abcdefg", r)) for r in branches])
        conn.execute(text("INSERT INTO bench_sub VALUES (:a, :b, :c, :d, :e, :f, :g, :h, :i)"),
                     [dict(zip("abcdefghi", r)) for r in subs])
        conn.execute(text("INSERT INTO bench_surveyor VALUES (:a, :b, :c)"),
                     [dict(zip("abc", r)) for r in surveyors])
        conn.execute(text("INSERT INTO bench_hq VALUES (:a, :b, :c, :d, :e)"), dict(zip("abcde", hq)))


def fill(steps: Steps, cases: int, seed: int, as_of: datetime) -> None:
    n = cases
    p = {"as_of": as_of, "n": n}
    steps.run("random function", f"""
        CREATE FUNCTION bench_r(bigint, int) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
        $$ SELECT (hashint8extended($1 * 64 + $2, {int(seed)}) & 2147483647)::float8 / 2147483648.0 $$""")
    # ---- cases: ids follow report time; 3 years up to as-of ------------------------------------
    # Loaded at head: what later steps once wrote by UPDATE (red / yellow / blue and major cases,
    # the scorecard's paid amount, zero closure, forced registration and reopening) and what the
    # database keeps by trigger on the case itself (its first dispatch, its first estimate) are
    # computed here, from the same draws the dispatch and estimate rows below are made of;
    # verify() checks the kept ones against those rows.
    steps.run("claim_case", f"""
        INSERT INTO claim_case (id, case_no, report_time, accident_time, province, city, address, business_line,
            policy_no, policy_start_date, insured_name, driver_name, reporter_name, reporter_phone, plate_no,
            vehicle_model, vehicle_age_years, vehicle_imported, vehicle_sum_insured, vehicle_use, accident_type,
            compulsory_only, branch_id, sub_branch_id, surveyor_id, description, state, current_estimate, tier,
            tier_rule_set_id, tiered_at, is_major, closed_at, reopen_count, created_at, created_by,
            first_dispatched_at, risk_colour, risk_criteria, risk_rule_set_id, major_reason, major_flagged_at,
            forced_registration, zero_closed, paid_amount, first_estimate, first_estimated_at)
        SELECT g, 'BA' || to_char(x.rt AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(g::text, 8, '0'),
               x.rt, x.rt - (bench_r(g, 2) ^ 3) * interval '72 hours', s.province, s.city,
               '人民路' || (1 + g % 999) || '号', x.line,
               'PDAA' || lpad((g::bigint * 7919 % 100000000)::text, 10, '0'), (x.rt - (10 + g % 350) * interval '1 day')::date,
               x.insured, x.insured, x.insured, '13' || lpad((g::bigint * 104729 % 1000000000)::text, 9, '0'),
               CASE WHEN x.line = 'motor' THEN '粤' || chr(65 + (g % 20)) || lpad((g % 99999)::text, 5, '0') END,
               CASE WHEN x.line = 'motor' THEN (ARRAY['大众朗逸','丰田卡罗拉','本田雅阁','比亚迪汉','宝马5系'])[1 + g % 5] END,
               CASE WHEN x.line = 'motor' THEN g % 12 END, x.line = 'motor' AND g % 40 = 0,
               CASE WHEN x.line = 'motor' THEN 80000 + (g % 50) * 10000 END,
               CASE WHEN x.line = 'motor' THEN (ARRAY['private','private','private','taxi','motorcycle','special'])[1 + g % 6] END,
               (ARRAY['collision','collision','collision','single_vehicle','property_damage','injury','theft','flood',
                      'fire','other'])[1 + (bench_r(g, 9) * 10)::int % 10],
               x.line = 'motor' AND g % 97 = 0, s.branch_id, s.sub_id, sv.person_id, '报案人称事故经过如下。',
               x.state,
               CASE WHEN x.state = 'reported' THEN NULL ELSE x.amount END,
               CASE WHEN x.state = 'reported' THEN 'T0' ELSE x.tier END,
               CASE WHEN x.state <> 'reported' THEN (SELECT min(id) FROM tier_rule_set WHERE branch_id IS NULL) END,
               CASE WHEN x.tier <> 'T0' THEN x.est_at END, x.tier IN ('T3', 'T4'),
               CASE WHEN x.state = 'closed' THEN least(x.rt + x.cycle, TIMESTAMPTZ :as_of - interval '1 minute') END,
               CASE WHEN x.state = 'reopened' THEN 1 ELSE f.reopened END,
               x.rt, h.callcenter,
               CASE WHEN x.tier <> 'T0' AND NOT (x.state <> 'closed' AND bench_r(g, 23) < 0.005)
                    THEN least(x.est_at + (bench_r(g, 21) ^ 2) * interval '90 minutes',
                               TIMESTAMPTZ :as_of - interval '1 minute') END,
               z.colour,
               CASE z.colour
                   WHEN 'red' THEN ARRAY[(ARRAY['night_accident','late_report','old_vehicle','large_vehicle_damage',
                                                'high_loss_ratio','surveyor_doubt'])[1 + (bench_r(g, 31) * 6)::int % 6]]
                   WHEN 'yellow' THEN ARRAY['small_damage','low_loss_ratio']
                   WHEN 'blue' THEN ARRAY['day_accident','immediate_report','ordinary_vehicle','small_damage',
                                          'low_loss_ratio','handled_at_scene']
                   ELSE '{{}}' END::varchar[],
               CASE WHEN z.colour IS NOT NULL THEN (SELECT id FROM risk_rule_set WHERE status = 'active') END,
               CASE WHEN x.tier IN ('T3', 'T4') THEN 'over_authority' END,
               CASE WHEN x.tier IN ('T3', 'T4') THEN x.est_at END,
               f.forced, z.zero,
               CASE WHEN x.state NOT IN ('paid', 'closed', 'reopened') THEN NULL WHEN z.zero THEN 0
                    ELSE round(x.amount * (0.78 + 0.3 * bench_r(g, 82) + 0.24 * ((s.branch_id % 6) / 5.0))::numeric, 2)
               END,
               CASE WHEN f.early THEN round((20000 + bench_r(g, 20) * 29000)::numeric, 2)
                    WHEN x.state <> 'reported' THEN x.amount END,
               CASE WHEN f.early THEN x.rt + interval '30 minutes' WHEN x.state <> 'reported' THEN x.est_at END
          FROM generate_series(1, :n) g
          CROSS JOIN bench_hq h
          CROSS JOIN LATERAL (
              SELECT rt, tier, amount, est_at, line, insured, cycle,
                     CASE WHEN NOT pending THEN 'closed'
                          WHEN tier = 'T0' AND age < interval '6 hours' AND bench_r(g, 10) < 0.5 THEN 'reported'
                          WHEN tier <> 'T0' THEN (ARRAY['dispatched','investigating','investigating','assessed',
                                                        'approved','paid'])[1 + (bench_r(g, 11) * 6)::int % 6]
                          ELSE (ARRAY['surveyed','investigating','assessed','approved','paid',
                                      'reopened'])[1 + least((bench_r(g, 11) * 5.03)::int, 5)] END AS state
                FROM (SELECT *, age < CASE WHEN tier = 'T0' THEN interval '20 days' ELSE interval '60 days' END AS young
                        FROM (SELECT rt, TIMESTAMPTZ :as_of - rt AS age, tier, est_at, line, insured,
                                     CASE WHEN tier = 'T0' THEN interval '1 day' * (2 + bench_r(g, 13) * 40)
                                          ELSE interval '1 day' * (20 + bench_r(g, 13) * 160) END AS cycle,
                                     round((CASE tier WHEN 'T0' THEN 300 + (bench_r(g, 7) ^ 2) * 49700
                                                      WHEN 'T1' THEN 50000.01 + bench_r(g, 7) * 69999
                                                      WHEN 'T2' THEN 120000.01 + bench_r(g, 7) * 379999
                                                      WHEN 'T3' THEN 500000.01 + bench_r(g, 7) * 499999
                                                      ELSE 1000000.01 + (bench_r(g, 7) ^ 2) * 9000000 END)::numeric, 2)
                                         AS amount
                                FROM (SELECT TIMESTAMPTZ :as_of - ((:n - g) + bench_r(g, 1)) * (interval '1095 days' / :n)
                                                 AS rt,
                                             CASE WHEN bench_r(g, 5) >= 0.05 THEN 'T0'
                                                  WHEN bench_r(g, 6) < 0.60 THEN 'T1'
                                                  WHEN bench_r(g, 6) < 0.90 THEN 'T2'
                                                  WHEN bench_r(g, 6) < 0.98 THEN 'T3' ELSE 'T4' END AS tier,
                                             (ARRAY['motor','motor','motor','motor','motor','motor','motor','property',
                                                    'liability','cargo','health','accident'])[1 + g % 12] AS line,
                                             (ARRAY['王','李','张','刘','陈','杨','黄','赵','吴','周'])[1 + g % 10] ||
                                             (ARRAY['伟','芳','娜','敏','静','强','磊','军','洋','勇','艳','杰'])[1 + g % 12]
                                                 AS insured
                                     ) a
                               CROSS JOIN LATERAL (SELECT least(rt + (1 + bench_r(g, 8) * 9) * interval '1 hour',
                                                                TIMESTAMPTZ :as_of - interval '2 minutes') AS est_at) e
                             ) b
                     ) c
                CROSS JOIN LATERAL (SELECT CASE WHEN young THEN bench_r(g, 4) < 0.9 + 0.05 * (tier <> 'T0')::int
                                                WHEN tier = 'T0' THEN bench_r(g, 4) < 0.066
                                                ELSE bench_r(g, 4) < 0.15 END AS pending) pp
          ) x
          JOIN bench_sub s ON s.idx = least(299, floor(300 * bench_r(g, 3) ^ 1.25)::int)
          JOIN bench_surveyor sv ON sv.sub_idx = s.idx AND sv.n = (bench_r(g, 14) * 5)::int % 5
          CROSS JOIN LATERAL (
              SELECT bench_r(g, 80) < {FORCED_SHARE} * (1 + (s.branch_id % 5 - 2) * 0.33) AS forced,
                     CASE WHEN x.state = 'closed' AND bench_r(g, 12) < 0.004 THEN 1 ELSE 0 END AS reopened,
                     -- one tiered case in five had a smaller first estimate (the estimate step below)
                     x.tier <> 'T0' AND bench_r(g, 20) < 0.2 AND x.est_at > x.rt + interval '30 minutes' AS early) f
          CROSS JOIN LATERAL (
              SELECT CASE WHEN x.line = 'motor' THEN CASE WHEN bench_r(g, 30) < 0.35 THEN 'red'
                                                          WHEN bench_r(g, 30) < 0.85 THEN 'yellow' ELSE 'blue' END
                     END AS colour,
                     -- zero closures: of closed cases never reopened, and of reopened ones (by branch)
                     CASE x.state
                         WHEN 'closed' THEN f.reopened = 0 AND bench_r(g, 81)
                              < CASE WHEN x.line = 'motor' THEN 0.10 ELSE 0.06 END * CASE WHEN f.forced THEN 3 ELSE 1 END
                         WHEN 'reopened' THEN bench_r(g, 81)
                              < CASE WHEN x.line = 'motor' THEN 0.2 + 0.6 * ((s.branch_id % 5) / 4.0) ELSE 0.3 END
                         ELSE false END AS zero) z
    """, p)
    steps.run("sequence claim_case", "SELECT setval('claim_case_id_seq', (SELECT max(id) FROM claim_case))")
    make_month_partitions(steps)
    # The history reads only the cases: written beside the other records, on the machine's second core.
    _in_parallel(lambda: fill_history(steps), lambda: _fill_records(steps, p))
    steps.run("drop helpers", "DROP FUNCTION bench_r(bigint, int)")


def _fill_records(steps: Steps, p: dict) -> None:
    """Every record of the cases but their history, in order (each step reads the ones before)."""
    # ---- estimates: one per surveyed case; one tiered case in five had a smaller first one ------
    steps.run("estimate", """
        INSERT INTO estimate (case_id, amount, tier_before, tier_after, tier_rule_set_id, recorded_at, recorded_by,
                              reported_by, note)
        SELECT c.id, c.current_estimate, 'T0', c.tier, c.tier_rule_set_id, coalesce(c.tiered_at,
               least(c.report_time + (1 + bench_r(c.id, 8) * 9) * interval '1 hour', TIMESTAMPTZ :as_of - interval '2 minutes')),
               h.callcenter, c.surveyor_id, NULL
          FROM claim_case c CROSS JOIN bench_hq h WHERE c.current_estimate IS NOT NULL
        UNION ALL
        SELECT c.id, round((20000 + bench_r(c.id, 20) * 29000)::numeric, 2), 'T0', 'T0', c.tier_rule_set_id,
               c.report_time + interval '30 minutes', h.callcenter, c.surveyor_id, '首次估损'
          FROM claim_case c CROSS JOIN bench_hq h
         WHERE c.tier <> 'T0' AND bench_r(c.id, 20) < 0.2 AND c.tiered_at > c.report_time + interval '30 minutes'
    """, p)
    # ---- dispatches: the tier's positions; 0.5% of pending tiered cases still await dispatch -----
    steps.run("dispatch", """
        INSERT INTO dispatch (case_id, tier, position, person_id, reason, contact_state, goes_to_scene, dispatched_at,
                              dispatched_by, arrived_at)
        SELECT c.id, c.tier, pos.position, pos.person_id, 'initial', 'reached', true, d.at, h.callcenter,
               CASE WHEN d.at + d.travel < TIMESTAMPTZ :as_of THEN d.at + d.travel END
          FROM claim_case c
          CROSS JOIN bench_hq h
          JOIN bench_sub s ON s.sub_id = c.sub_branch_id
          JOIN bench_branch b ON b.branch_id = c.branch_id
          CROSS JOIN LATERAL (SELECT least(c.tiered_at + (bench_r(c.id, 21) ^ 2) * interval '90 minutes',
                                           TIMESTAMPTZ :as_of - interval '1 minute') AS at,
                                     (0.5 + (bench_r(c.id, 22) ^ 2) * 34) * interval '1 hour' AS travel) d
          CROSS JOIN LATERAL (VALUES
              (CASE c.tier WHEN 'T1' THEN 'sub_claims_head' WHEN 'T2' THEN 'sub_head'
                           WHEN 'T3' THEN 'branch_claims_head' ELSE 'branch_gm' END,
               CASE c.tier WHEN 'T1' THEN s.claims_head WHEN 'T2' THEN s.head WHEN 'T3' THEN b.claims ELSE b.gm END),
              (CASE c.tier WHEN 'T2' THEN 'sub_finance_head' WHEN 'T3' THEN 'branch_finance_head'
                           WHEN 'T4' THEN 'branch_claims_head' END,
               CASE c.tier WHEN 'T2' THEN s.finance_head WHEN 'T3' THEN b.finance WHEN 'T4' THEN b.claims END)
          ) AS pos(position, person_id)
         WHERE c.tier <> 'T0' AND pos.person_id IS NOT NULL
           AND NOT (c.state <> 'closed' AND bench_r(c.id, 23) < 0.005)
    """, p)
    steps.run("contact_attempt", """
        INSERT INTO contact_attempt (case_id, dispatch_id, outcome, reason, recorded_at, recorded_by)
        SELECT d.case_id, d.id, 'unreachable', '电话无人接听', d.dispatched_at + interval '2 minutes', h.callcenter
          FROM dispatch d CROSS JOIN bench_hq h WHERE bench_r(d.id, 24) < 0.08
        UNION ALL
        SELECT d.case_id, d.id, 'reached', NULL, d.dispatched_at + interval '10 minutes', h.callcenter
          FROM dispatch d CROSS JOIN bench_hq h
    """)
    # ---- D1-D3 clocks: met on time mostly, one in ten late, a few never (pending cases) ------------
    # met_at rule (per clock, r = bench_r(id-ish, k)): due in the future -> half met so far;
    # else 88% on time, 10% late, 2% still open when the case is pending (late when closed).
    met = """CASE WHEN {due} > TIMESTAMPTZ :as_of THEN
                       CASE WHEN {r} < 0.5 THEN least({start} + ({due} - {start}) * {r}, TIMESTAMPTZ :as_of) END
                  WHEN {r} < 0.88 THEN {start} + ({due} - {start}) * ({r} / 0.9)
                  WHEN {r} < 0.98 OR {closed} THEN least({due} + ({r} - 0.85) * interval '200 hours',
                                                       TIMESTAMPTZ :as_of - interval '1 minute')
             END"""
    steps.run("deadline D1", f"""
        INSERT INTO deadline (case_id, branch_id, kind, subject_key, responsible_person_id, started_at, due_at,
                              met_at, met_by)
        SELECT c.id, c.branch_id, 'D1', 'case:' || c.id || ':' || 'survey', c.surveyor_id, f.at, f.at + interval '24 hours',
               m.at, CASE WHEN m.at IS NOT NULL THEN c.surveyor_id END
          FROM claim_case c
          JOIN (SELECT case_id, min(dispatched_at) AS at FROM dispatch GROUP BY case_id) f ON f.case_id = c.id
          CROSS JOIN LATERAL (SELECT {met.format(due="(f.at + interval '24 hours')", start="f.at", r="bench_r(c.id, 25)",
                                                 closed="c.state = 'closed'")} AS at) m
    """, p)
    steps.run("deadline D2+D3", f"""
        INSERT INTO deadline (case_id, branch_id, kind, subject_key, responsible_person_id, started_at, due_at,
                              met_at, met_by)
        SELECT d.case_id, c.branch_id, k.kind, 'dispatch:' || d.id, d.person_id, d.dispatched_at, d.dispatched_at + k.hours,
               m.at, CASE WHEN m.at IS NOT NULL THEN d.person_id END
          FROM dispatch d JOIN claim_case c ON c.id = d.case_id
          CROSS JOIN (VALUES ('D2', interval '24 hours'), ('D3', interval '72 hours')) AS k(kind, hours)
          CROSS JOIN LATERAL (
              SELECT CASE WHEN k.kind = 'D2' THEN least(d.arrived_at, TIMESTAMPTZ :as_of)
                          ELSE {met.format(due="(d.dispatched_at + k.hours)", start="d.dispatched_at",
                                           r="bench_r(d.id, 26)", closed="c.state = 'closed'")} END AS at) m
    """, p)
    steps.run("upload (survey material, photo, report)", """
        INSERT INTO upload (case_id, kind, filename, size_bytes, content, uploaded_by, on_behalf_of, uploaded_at)
        SELECT dl.case_id, u.kind, u.kind || '_' || dl.case_id || '.jpg', 200000 + (dl.id % 800000), NULL,
               coalesce(dl.met_by, dl.responsible_person_id), NULL, dl.met_at
          FROM deadline dl
          CROSS JOIN LATERAL unnest(CASE dl.kind WHEN 'D1' THEN ARRAY['scene_photos','survey_report','interview_notes']
                                                 WHEN 'D2' THEN ARRAY['person_vehicle_photo']
                                                 ELSE ARRAY['investigation_report'] END) AS u(kind)
         WHERE dl.kind IN ('D1', 'D2', 'D3') AND dl.met_at IS NOT NULL
    """)
    # ---- HQ review queue and D4 --------------------------------------------------------------------
    steps.run("review_queue_entry", """
        INSERT INTO review_queue_entry (case_id, queue_date, queued_at, reviewed_at)
        SELECT c.id, (q.at AT TIME ZONE 'Asia/Shanghai')::date, q.at,
               CASE WHEN r.at < TIMESTAMPTZ :as_of AND (bench_r(c.id, 27) < 0.97 OR c.state = 'closed') THEN r.at END
          FROM claim_case c
          CROSS JOIN LATERAL (SELECT ((c.tiered_at AT TIME ZONE 'Asia/Shanghai')::date + 1 + time '08:30')
                                     AT TIME ZONE 'Asia/Shanghai' AS at) q
          CROSS JOIN LATERAL (SELECT q.at + (1 + bench_r(c.id, 28) ^ 2 * 30) * interval '1 hour' AS at) r
         WHERE c.tier <> 'T0' AND q.at <= TIMESTAMPTZ :as_of
    """, p)
    steps.run("deadline D4", """
        INSERT INTO deadline (case_id, branch_id, kind, subject_key, responsible_person_id, started_at, due_at,
                              met_at, met_by)
        SELECT c.id, c.branch_id, 'D4', 'case:' || c.id || ':' || 'initial_review',
               CASE WHEN c.id % 2 = 0 THEN h.reviewer ELSE h.reviewer2 END, c.tiered_at,
               ((c.tiered_at AT TIME ZONE 'Asia/Shanghai')::date + 2)::timestamp AT TIME ZONE 'Asia/Shanghai',
               q.reviewed_at, CASE WHEN q.reviewed_at IS NOT NULL THEN CASE WHEN c.id % 2 = 0 THEN h.reviewer
                                                                        ELSE h.reviewer2 END END
          FROM review_queue_entry q JOIN claim_case c ON c.id = q.case_id CROSS JOIN bench_hq h
    """)
    steps.run("opinion (hq_review)", """
        INSERT INTO opinion (case_id, branch_id, kind, author_id, addressed_to_person_id, posted_at, closed_at)
        SELECT c.id, c.branch_id, 'hq_review', CASE WHEN c.id % 2 = 0 THEN h.reviewer ELSE h.reviewer2 END,
               b.manager, q.reviewed_at,
               CASE WHEN c.state = 'closed' OR q.reviewed_at < TIMESTAMPTZ :as_of - interval '20 days'
                    THEN least(q.reviewed_at + (3 + bench_r(c.id, 29) * 12) * interval '1 day',
                               TIMESTAMPTZ :as_of - interval '1 minute') END
          FROM review_queue_entry q JOIN claim_case c ON c.id = q.case_id
          JOIN bench_branch b ON b.branch_id = c.branch_id CROSS JOIN bench_hq h
         WHERE q.reviewed_at IS NOT NULL
         ORDER BY q.reviewed_at, c.id
    """, p)
    # Points: status accepted on closed opinions; open ones mix open / answered / sent_back. Staged
    # with their ids: a point keeps its answers' count and wait (migration 0008), so it is written
    # once its answers are, with them (an UPDATE of every point afterwards would rewrite the table).
    steps.run("opinion_point (staged)", """
        CREATE UNLOGGED TABLE bench_point AS
        SELECT nextval('opinion_point_id_seq')::int AS id, o.id AS opinion_id, k AS seq,
               (ARRAY['请核实事故真实性，补充现场照片与询问笔录。','请说明损失范围及定损依据。',
                      '请明确责任划分与保险责任认定意见。','请评估是否存在骗赔风险并补充证据。',
                      '请尽快安排第一责任人到场并上传人车合影。'])[1 + (o.id + k) % 5] AS body,
               CASE WHEN o.closed_at IS NOT NULL THEN 'accepted'
                    ELSE (ARRAY['open','answered','sent_back','accepted','open'])[1 + ((bench_r(o.id, 30 + k) * 5)::int % 5)]
               END::varchar AS status
          FROM opinion o CROSS JOIN LATERAL generate_series(1, 1 + (bench_r(o.id, 31) * 4)::int % 4) k
         WHERE o.kind = 'hq_review';
        ALTER TABLE bench_point ADD PRIMARY KEY (id)
    """)
    # Answers: round 1 for every point not open; one point in ten (and every sent_back one) was sent
    # back once, answered again (round 2) unless it is sent_back now.
    steps.run("point_answer round 1", """
        INSERT INTO point_answer (point_id, author_id, body, answered_at, late)
        SELECT p.id, b.manager, '已核实，具体情况如下：现场已查勘，证据已补充。', a.at, a.at > o.posted_at + interval '48 hours'
          FROM bench_point p JOIN opinion o ON o.id = p.opinion_id
          JOIN bench_branch b ON b.branch_id = o.branch_id
          CROSS JOIN LATERAL (SELECT least(o.posted_at + (2 + bench_r(p.id, 32) ^ 2 * 60) * interval '1 hour',
                                           TIMESTAMPTZ :as_of - interval '1 minute') AS at) a
         WHERE p.status <> 'open'
    """, p)
    steps.run("point_verdict sent_back", """
        INSERT INTO point_verdict (point_id, answer_id, verdict, reason, decided_by, decided_at)
        SELECT p.id, a.id, 'sent_back', '回复未逐项说明，请补充。', o.author_id,
               least(a.answered_at + interval '5 hours', TIMESTAMPTZ :as_of - interval '1 minute')
          FROM bench_point p JOIN opinion o ON o.id = p.opinion_id JOIN point_answer a ON a.point_id = p.id
         WHERE p.status = 'sent_back' OR (p.status = 'accepted' AND bench_r(p.id, 33) < 0.1)
    """, p)
    steps.run("point_answer round 2", """
        INSERT INTO point_answer (point_id, author_id, body, answered_at, late)
        SELECT p.id, a.author_id, '补充回复：已按要求补充材料并逐项说明。', least(v.decided_at + interval '20 hours',
               TIMESTAMPTZ :as_of - interval '1 minute'), false
          FROM bench_point p JOIN point_verdict v ON v.point_id = p.id AND v.verdict = 'sent_back'
          JOIN point_answer a ON a.id = v.answer_id
         WHERE p.status = 'accepted'
    """, p)
    steps.run("point_verdict accepted", """
        INSERT INTO point_verdict (point_id, answer_id, verdict, reason, decided_by, decided_at)
        SELECT p.id, a.id, 'accepted', NULL, o.author_id, least(a.answered_at + interval '6 hours',
               TIMESTAMPTZ :as_of - interval '1 minute')
          FROM bench_point p JOIN opinion o ON o.id = p.opinion_id
          JOIN (SELECT DISTINCT ON (point_id) point_id, id, answered_at FROM point_answer
                 ORDER BY point_id, id DESC) a ON a.point_id = p.id
         WHERE p.status = 'accepted'
    """, p)
    steps.run("deadline D5", """
        INSERT INTO deadline (case_id, branch_id, kind, subject_key, responsible_person_id, started_at, due_at,
                              met_at, met_by)
        SELECT o.case_id, o.branch_id, 'D5', 'point:' || p.id || ':' || 'round' || ':' || '1', b.manager, o.posted_at,
               o.posted_at + interval '48 hours', a.answered_at, CASE WHEN a.id IS NOT NULL THEN b.manager END
          FROM bench_point p JOIN opinion o ON o.id = p.opinion_id JOIN bench_branch b ON b.branch_id = o.branch_id
          LEFT JOIN (SELECT DISTINCT ON (point_id) point_id, id, answered_at FROM point_answer
                      ORDER BY point_id, id) a ON a.point_id = p.id
        UNION ALL
        SELECT o.case_id, o.branch_id, 'D5', 'point:' || p.id || ':' || 'round' || ':' || '2', b.manager, v.decided_at,
               v.decided_at + interval '48 hours', a2.answered_at, CASE WHEN a2.id IS NOT NULL THEN b.manager END
          FROM point_verdict v JOIN bench_point p ON p.id = v.point_id JOIN opinion o ON o.id = p.opinion_id
          JOIN bench_branch b ON b.branch_id = o.branch_id
          LEFT JOIN (SELECT DISTINCT ON (point_id) point_id, id, answered_at FROM point_answer
                      ORDER BY point_id, id DESC) a2 ON a2.point_id = p.id AND a2.id > v.answer_id
         WHERE v.verdict = 'sent_back'
    """, p)
    wait = _migration("0008")._WAIT.format(answer="pa")
    staged = wait.replace("FROM opinion_point p JOIN opinion o", "FROM bench_point p JOIN opinion o")
    assert staged != wait
    steps.run("opinion_point (its answers kept, 0008; its due time, 0049)", f"""
        INSERT INTO opinion_point (id, opinion_id, seq, body, status, answer_count, answer_seconds, due_at, due_round)
        SELECT p.id, p.opinion_id, p.seq, p.body, p.status, coalesce(t.n, 0), coalesce(t.seconds, 0), d.due_at,
               d.round_no
          FROM bench_point p
          LEFT JOIN (SELECT pa.point_id, count(*) AS n, sum({staged}) AS seconds
                       FROM point_answer pa GROUP BY pa.point_id) t ON t.point_id = p.id
          LEFT JOIN ({_migration("0049").NEWEST_ROUND}) d ON d.point_id = p.id
         ORDER BY p.id""")
    steps.run("drop staged points", "DROP TABLE bench_point")
    # ---- supervision on key branches, D7, progress notes -------------------------------------------
    steps.run("opinion (supervision)", """
        INSERT INTO opinion (case_id, branch_id, kind, author_id, addressed_to_person_id, posted_at, closed_at)
        SELECT c.id, c.branch_id, 'supervision', sa.person_id, d.person_id,
               least(c.tiered_at + (1 + bench_r(c.id, 34) * 10) * interval '1 day', TIMESTAMPTZ :as_of - interval '1 hour'),
               NULL
          FROM claim_case c JOIN org_unit u ON u.id = c.branch_id AND u.is_key_branch
          JOIN LATERAL (SELECT person_id FROM supervisor_assignment WHERE branch_id = c.branch_id
                        ORDER BY person_id LIMIT 1) sa ON true
          -- the case's first dispatch, read once for all (a probe per case: 66 s at 10M cases)
          JOIN (SELECT DISTINCT ON (case_id) case_id, person_id FROM dispatch ORDER BY case_id, id) d ON d.case_id = c.id
         WHERE c.tier <> 'T0' AND bench_r(c.id, 35) < 0.3
    """, p)
    steps.run("progress_note (reply to supervision)", """
        INSERT INTO progress_note (case_id, opinion_id, author_id, body, posted_at)
        SELECT o.case_id, o.id, o.addressed_to_person_id, '已按督导意见处理，进展如下：已完成现场复勘。',
               o.posted_at + (4 + bench_r(o.id, 36) * 60) * interval '1 hour'
          FROM opinion o
         WHERE o.kind = 'supervision' AND o.posted_at + (4 + bench_r(o.id, 36) * 60) * interval '1 hour' < TIMESTAMPTZ :as_of
    """, p)
    steps.run("deadline D7", """
        INSERT INTO deadline (case_id, branch_id, kind, subject_key, responsible_person_id, started_at, due_at,
                              met_at, met_by)
        SELECT o.case_id, o.branch_id, 'D7', 'supervision:' || o.id, o.addressed_to_person_id, o.posted_at,
               o.posted_at + interval '48 hours', n.posted_at, n.author_id
          FROM opinion o LEFT JOIN progress_note n ON n.opinion_id = o.id
         WHERE o.kind = 'supervision'
    """)
    steps.run("progress_note (tracker)", """
        INSERT INTO progress_note (case_id, opinion_id, author_id, body, posted_at)
        SELECT c.id, NULL, b.tracker, '案件跟踪：第' || k || '次进展更新，理算进行中。',
               c.tiered_at + k * (3 + bench_r(c.id, 37) * 10) * interval '1 day'
          FROM claim_case c JOIN bench_branch b ON b.branch_id = c.branch_id
          CROSS JOIN LATERAL generate_series(1, 1 + (bench_r(c.id, 38) * 4)::int) k
         WHERE c.tier <> 'T0'
           AND c.tiered_at + k * (3 + bench_r(c.id, 37) * 10) * interval '1 day' < coalesce(c.closed_at, TIMESTAMPTZ :as_of)
    """, p)
    # ---- weekly summaries and D6: 156 weeks per branch; totals only (the current weeks are built
    # by the real service below) -----------------------------------------------------------------------
    steps.run("weekly_summary", """
        INSERT INTO weekly_summary (branch_id, week_start, due_at, generated_at, content, submitted_at, submitted_by)
        SELECT b.branch_id, w.week_start, w.due, w.due - interval '3 hours',
               jsonb_build_object('as_of', w.due, 'cases', '[]'::jsonb, 'totals', jsonb_build_object(
                   'cases', 200 + (bench_r(b.branch_id * 1000 + w.n, 40) * 200)::int, 'estimate', '0',
                   'open_points', (bench_r(b.branch_id * 1000 + w.n, 41) * 80)::int,
                   'overdue_deadlines', (bench_r(b.branch_id * 1000 + w.n, 42) * 30)::int,
                   'cases_with_overdue', (bench_r(b.branch_id * 1000 + w.n, 42) * 20)::int)),
               CASE WHEN bench_r(b.branch_id * 1000 + w.n, 43) < 0.98
                    THEN w.due + (bench_r(b.branch_id * 1000 + w.n, 44) - 0.93) * interval '20 hours' END,
               CASE WHEN bench_r(b.branch_id * 1000 + w.n, 43) < 0.98 THEN b.tracker END
          FROM bench_branch b
          CROSS JOIN LATERAL (
              SELECT n, d::date AS week_start,
                     ((d::date + 4)::timestamp + time '17:00') AT TIME ZONE 'Asia/Shanghai' AS due
                FROM generate_series(1, 156) n
                CROSS JOIN LATERAL (SELECT date_trunc('week', (TIMESTAMPTZ :as_of AT TIME ZONE 'Asia/Shanghai'))
                                           - n * interval '7 days' AS d) dd) w
    """, p)
    steps.run("deadline D6", """
        INSERT INTO deadline (case_id, branch_id, kind, subject_key, responsible_person_id, started_at, due_at,
                              met_at, met_by)
        SELECT NULL, w.branch_id, 'D6', 'weekly:' || w.branch_id || ':' || w.week_start, b.tracker,
               w.due_at - interval '7 days' + interval '1 second', w.due_at, w.submitted_at, w.submitted_by
          FROM weekly_summary w JOIN bench_branch b ON b.branch_id = w.branch_id
    """)
    # ---- violations: every clock met late or still open past due, charged once ---------------------
    steps.run("violation", """
        INSERT INTO violation (deadline_id, person_id, case_id, branch_id, kind, due_at, found_at, charge)
        SELECT d.id, d.responsible_person_id, d.case_id, d.branch_id, d.kind, d.due_at,
               d.due_at + (1 + d.id % 5) * interval '1 minute', 'responsible'
          FROM deadline d
         WHERE d.responsible_person_id IS NOT NULL AND d.cancelled_at IS NULL
           AND ((d.met_at IS NOT NULL AND d.met_at > d.due_at)
                OR (d.met_at IS NULL AND d.due_at + (1 + d.id % 5) * interval '1 minute' < TIMESTAMPTZ :as_of))
    """, p)
    # ---- notifications (dispatch + copies) and history -----------------------------------------------
    steps.run("notification", """
        INSERT INTO notification (case_id, recipient_person_id, kind, body, dedupe_key, created_at, state, attempts,
                                  sent_at)
        SELECT d.case_id, d.person_id, 'dispatch', '【分级案件调度】请于24小时内到达现场。案件号 ' || c.case_no,
               'dispatch:' || d.id, d.dispatched_at, 'sent', 1, d.dispatched_at + interval '1 minute'
          FROM dispatch d JOIN claim_case c ON c.id = d.case_id
        UNION ALL
        SELECT c.id, s.claims_head, 'copy', '【分级案件抄送】案件号 ' || c.case_no, 'copy:' || c.id || ':' || s.claims_head,
               c.tiered_at, 'sent', 1, c.tiered_at + interval '1 minute'
          FROM claim_case c JOIN bench_sub s ON s.sub_id = c.sub_branch_id WHERE c.tier IN ('T2', 'T3', 'T4')
    """)
    # The messages' dedupe keys, which the outbox's insert trigger claims one by one (migration
    # 0047; off during the bulk load, session_replication_role).
    steps.run("notification_key", """
        INSERT INTO notification_key (dedupe_key, notification_id, created_at)
        SELECT dedupe_key, id, created_at FROM notification WHERE dedupe_key IS NOT NULL
    """)


def make_month_partitions(steps: Steps) -> None:
    """The monthly tables' partitions (the history's and the outbox's) before their rows, as
    migrations 0034 and 0047 made them for the rows they found: every business month the cases'
    times fall in (the dispatches and messages follow them), and this month and the ones ahead that
    the migrations already made; so no row lands in a default partition."""
    from dashboard.services.partitions import ensure_every_table

    started = time.perf_counter()
    with Session(steps.engine) as session:
        months = session.scalars(text("""
            SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'Asia/Shanghai')::date
              FROM claim_case c CROSS JOIN LATERAL (VALUES (c.report_time), (c.tiered_at), (c.closed_at)) AS e(at)
             WHERE at IS NOT NULL""")).all()
        created = ensure_every_table(session, months)
        session.commit()
    _say(f"  {'month partitions':<44} {len(created):>11,} made {time.perf_counter() - started:8.1f} s")


def fill_history(steps: Steps) -> None:
    """The case history (its month partitions are made before, make_month_partitions)."""
    steps.run("case_event", """
        INSERT INTO case_event (case_id, actor_id, at, kind, payload)
        SELECT c.id, c.created_by, c.report_time, 'case_registered', jsonb_build_object('case_no', c.case_no)
          FROM claim_case c
        UNION ALL
        SELECT c.id, c.created_by, c.tiered_at, 'case_tiered', jsonb_build_object('tier', c.tier, 'rule_version', 1)
          FROM claim_case c WHERE c.tiered_at IS NOT NULL
        UNION ALL
        SELECT c.id, c.surveyor_id, c.closed_at, 'state_changed', jsonb_build_object('from', 'paid', 'to', 'closed')
          FROM claim_case c WHERE c.closed_at IS NOT NULL
    """)


# The big tables' secondary indexes (those no constraint owns) are built once after the load
# rather than row by row during it; none of the load's statements reads them.
BULK_TABLES = ("claim_case", "case_event", "estimate", "dispatch", "deadline", "upload", "notification",
               "progress_note", "contact_attempt", "violation")


@contextmanager
def autovacuum_paused(engine: Engine):
    """No autovacuum on the tables while they are loaded: a vacuum between two statements records
    free space that a later insert fills, and a row's place decides the ids drawn from it later
    (and the statistics it leaves would change plans, and so orders): the same seed, the same rows.
    Put back as it was (the default) afterwards."""
    with engine.begin() as conn:
        tables = conn.scalars(text("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                                   "AND relkind = 'r' ORDER BY relname")).all()
        for table in tables:
            conn.execute(text(f'ALTER TABLE public."{table}" SET (autovacuum_enabled = false)'))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for table in tables:
                conn.execute(text(f'ALTER TABLE public."{table}" RESET (autovacuum_enabled)'))


def drop_secondary_indexes(engine: Engine, tables: tuple[str, ...] = BULK_TABLES) -> list[tuple[str, str, str]]:
    """Drop the indexes of `tables` no constraint owns; returns (table, index, its definition)."""
    with engine.begin() as conn:
        found = conn.execute(text("""
            SELECT t.relname, x.relname, pg_get_indexdef(i.indexrelid)
              FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class x ON x.oid = i.indexrelid
             WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY (:tables)
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
             ORDER BY t.relname, x.relname"""), {"tables": list(tables)}).all()
        for _table, index, _definition in found:
            conn.execute(text(f'DROP INDEX public."{index}"'))
    # A partitioned table's index is printed ON ONLY the parent; built on the parent, it is built
    # on every partition.
    return [(t, i, d.replace(" ON ONLY ", " ON ")) for t, i, d in found]


def create_indexes(engine: Engine, indexes: list[tuple[str, str, str]]) -> None:
    """Build the dropped indexes again, two at a time (the machine's two cores), largest table first."""
    with engine.connect() as conn:
        sizes = dict(conn.execute(text(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname = ANY (:t) "
            "AND relnamespace = 'public'::regnamespace"), {"t": list({t for t, _i, _d in indexes})}).all())
    queue = sorted(indexes, key=lambda x: -sizes.get(x[0], 0))
    started = time.perf_counter()

    def build(item: tuple[str, str, str]) -> None:
        began = time.perf_counter()
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("SET maintenance_work_mem = '1GB'"))
            conn.execute(text("SET max_parallel_maintenance_workers = 0"))
            conn.execute(text(item[2]))
        _say(f"    {item[1]:<42} {'':>16} {time.perf_counter() - began:8.1f} s")

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(build, queue))
    _say(f"  {f'secondary indexes ({len(indexes)})':<44} {'':>16} {time.perf_counter() - started:8.1f} s")


def _migration(revision: str):
    """A migration module (its SQL builders: the kept values are filled with the very statements
    its upgrade and its triggers run)."""
    import importlib.util
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "db" / "migrations" / "versions"
    path = next(folder.glob(f"{revision}_*.py"))
    spec = importlib.util.spec_from_file_location(f"bench_migration_{revision}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _case_figures_rows(m19) -> tuple[list[str], str]:
    """Every source row of case_figures (migration 0019) as (case, every figure), zeros for the
    figures of the other sources."""
    names = [n for table in m19.SOURCES for n in m19.SOURCES[table]["figures"]("t")]
    parts = []
    for table, source in m19.SOURCES.items():
        figures = source["figures"]("t")
        columns = ", ".join(f"({figures[n]})" if n in figures else "0" for n in names)
        parts.append(f"SELECT {source['case']}, {columns} FROM {table} t {source['join']} WHERE {source['where']}")
    return names, " UNION ALL ".join(parts)


def keep_values(steps: Steps) -> None:
    """Every value the database keeps by trigger, filled in bulk from the loaded rows (which were
    written with triggers off): what the migrations' backfills compute, one statement per table.
    The case's own kept columns (first dispatch, first estimate) came with its INSERT, a review
    point's answer totals with its own (fill); the scorecard's cells are refilled by
    scorecard_data once the cases are final."""
    m18, m19, m20 = (_migration(r) for r in ("0018", "0019", "0020"))
    # 0015 + 0018: one row per sub-branch (what the folding job leaves).
    steps.run("case_count (0015, 0018)", f"""
        INSERT INTO case_count ({m18.COLUMNS})
        {m18._summed(f"SELECT {m18._figures('c', '')} FROM claim_case c")}
         ORDER BY branch_id, sub_branch_id""")
    # 0019: one row per case, the three sources' figures at once.
    names, rows = _case_figures_rows(m19)
    steps.run("case_figures (0019)", f"""
        INSERT INTO case_figures (case_id, {", ".join(names)})
        SELECT case_id, {", ".join(f"sum({n})" for n in names)} FROM ({rows}) AS d (case_id, {", ".join(names)})
         GROUP BY case_id HAVING {" OR ".join(f"sum({n}) <> 0" for n in names)} ORDER BY case_id""")
    # 0020: per branch and deadline type.
    for table in m20.SOURCES:
        steps.run(f"late_count from {table} (0020)", m20._add(table, ((table, "+"),)))


def _kept_by_key(table: str, keys: tuple[str, ...], figures, rows: str, approx: tuple[str, ...] = ()) -> str:
    """How many keys of a kept +n / -n table differ from the same sums over `rows` (a migration's
    own SQL for its source rows); the `approx` figures (float sums) within a millionth."""
    names, key = ", ".join(figures), ", ".join(keys)
    sums = ", ".join(f"sum({n}) AS {n}" for n in figures)
    differs = [f"coalesce(k.{n}, 0) <> coalesce(l.{n}, 0)" for n in figures if n not in approx]
    differs += [f"abs(coalesce(k.{n}, 0) - coalesce(l.{n}, 0)) > 1e-6 * greatest(1, abs(coalesce(l.{n}, 0)))"
                for n in approx]
    return f"""
            SELECT count(*) FROM (SELECT {key}, {sums} FROM {table} GROUP BY {key}) k
            FULL JOIN (SELECT {key}, {sums} FROM ({rows}) AS d ({key}, {names}) GROUP BY {key}) l USING ({key})
             WHERE {" OR ".join(differs)}"""


def verify(engine: Engine) -> list[str]:
    """Every kept table / column against what the live rows give (kept counts folded, as the
    folding job would). Returns the failures, one line each (none: all equal)."""
    m08, m18, m19, m35, m44, m45, m46, m51 = (_migration(r) for r in ("0008", "0018", "0019", "0035", "0044",
                                                                      "0045", "0046", "0051"))
    names, rows = _case_figures_rows(m19)
    accepted = "EXISTS (SELECT 1 FROM violation_appeal a WHERE a.violation_id = t.id AND a.status = 'accepted')"
    # An accepted appeal takes its violation out of the kept counts (migration 0033's trigger).
    rows = rows.replace("FROM violation t  WHERE t.case_id IS NOT NULL",
                        f"FROM violation t  WHERE t.case_id IS NOT NULL AND NOT {accepted}")
    assert accepted in rows
    checks = {
        "case_count = claim_case by unit": f"""
            SELECT count(*) FROM (
                SELECT branch_id, sub_branch_id, sum(cases) AS c, sum(pending) AS p, sum(pending_tiered) AS pt,
                       sum(pending_tiered_amount) AS a FROM case_count GROUP BY branch_id, sub_branch_id) k
            FULL JOIN ({m18._summed(f"SELECT {m18._figures('c', '')} FROM claim_case c")}) AS l (branch_id,
                sub_branch_id, c, p, pt, a) USING (branch_id, sub_branch_id)
             WHERE (coalesce(k.c, 0), coalesce(k.p, 0), coalesce(k.pt, 0), coalesce(k.a, 0))
                   IS DISTINCT FROM (coalesce(l.c, 0), coalesce(l.p, 0), coalesce(l.pt, 0), coalesce(l.a, 0))""",
        "case_figures = deadline + violation (less accepted appeals) + HQ points, per case": f"""
            SELECT count(*) FROM (SELECT * FROM case_figures) k
            FULL JOIN (SELECT case_id, {", ".join(f"sum({n}) AS {n}" for n in names)}
                         FROM ({rows}) AS d (case_id, {", ".join(names)}) GROUP BY case_id) l USING (case_id)
             WHERE {" OR ".join(f"coalesce(k.{n}, 0) <> coalesce(l.{n}, 0)" for n in names if n != "hq_answer_seconds")}
                OR abs(coalesce(k.hq_answer_seconds, 0) - coalesce(l.hq_answer_seconds, 0))
                   > 1e-6 * greatest(1, abs(coalesce(l.hq_answer_seconds, 0)))""",
        "late_count = deadlines met late, violations (less accepted appeals), per branch and type": f"""
            SELECT count(*) FROM (
                SELECT branch_id, kind, sum(clocks_met_late) AS late, sum(violations) AS v
                  FROM late_count GROUP BY branch_id, kind) k
            FULL JOIN (
                SELECT branch_id, kind, sum(late) AS late, sum(v) AS v FROM (
                    SELECT t.branch_id, t.kind, 1 AS late, 0 AS v FROM deadline t
                     WHERE t.cancelled_at IS NULL AND t.met_at > t.due_at
                    UNION ALL
                    SELECT t.branch_id, t.kind, 0, 1 FROM violation t WHERE NOT {accepted}) d
                 GROUP BY branch_id, kind) l ON k.branch_id IS NOT DISTINCT FROM l.branch_id AND k.kind = l.kind
             WHERE (coalesce(k.late, 0), coalesce(k.v, 0)) <> (coalesce(l.late, 0), coalesce(l.v, 0))""",
        "scorecard_cell = claim_case by cell":
            _kept_by_key("scorecard_cell", m35.KEYS, m35.FIGURES, m35._rows("claim_case t", "")),
        "opinion_point answer totals = its answers": f"""
            SELECT count(*) FROM opinion_point p
              LEFT JOIN (SELECT pa.point_id, count(*) AS n, sum({m08._WAIT.format(answer="pa")}) AS seconds
                           FROM point_answer pa GROUP BY pa.point_id) t ON t.point_id = p.id
             WHERE p.answer_count <> coalesce(t.n, 0)
                OR abs(p.answer_seconds - coalesce(t.seconds, 0)) > 1e-6 * greatest(1, abs(coalesce(t.seconds, 0)))""",
        "opinion_point due time = its newest round's D5 clock": f"""
            SELECT count(*) FROM opinion_point p LEFT JOIN ({_migration("0049").NEWEST_ROUND}) d ON d.point_id = p.id
             WHERE p.due_at IS DISTINCT FROM d.due_at OR p.due_round IS DISTINCT FROM d.round_no""",
        "claim_case.first_dispatched_at = its first dispatch": """
            SELECT count(*) FROM claim_case c
              LEFT JOIN (SELECT case_id, min(dispatched_at) AS at FROM dispatch GROUP BY case_id) d ON d.case_id = c.id
             WHERE c.first_dispatched_at IS DISTINCT FROM d.at""",
        "claim_case.first_estimate / _at = its first estimate": """
            SELECT count(*) FROM claim_case c
              LEFT JOIN (SELECT DISTINCT ON (case_id) case_id, amount, recorded_at FROM estimate
                          ORDER BY case_id, recorded_at, id) e ON e.case_id = c.id
             WHERE (c.first_estimate, c.first_estimated_at) IS DISTINCT FROM (e.amount, e.recorded_at)""",
        "violation_week = violations (less accepted appeals) by report day, branch, tier, week, type":
            _kept_by_key("violation_week", m44.KEYS, ("violations",), m44._rows("violation", "")),
        "case_figures_day = case_figures by report day, branch, tier":
            _kept_by_key("case_figures_day", m45.KEYS, m45.FIGURES, m45._rows("case_figures", ""),
                         approx=("hq_answer_seconds",)),
        "case_tally_day = tiered cases by report day, branch, tier":
            _kept_by_key("case_tally_day", m51.KEYS, m51.FIGURES, m51._rows("claim_case t", "")),
        "review_queue_entry colour rank, tiered time = its case's": f"""
            SELECT count(*) FROM review_queue_entry e JOIN claim_case c ON c.id = e.case_id
             WHERE (e.colour_rank, e.tiered_at) IS DISTINCT FROM ({m46.RANK.format(c="c")}, c.tiered_at)""",
        "case_event rows in the default partition": "SELECT count(*) FROM case_event_default",
        "weekly_summary totals = its content": """
            SELECT count(*) FROM weekly_summary
             WHERE total_cases IS DISTINCT FROM ((content -> 'totals') ->> 'cases')::integer""",
    }
    failures = []
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("SET work_mem = '256MB'"))
        for label, sql in checks.items():
            began = time.perf_counter()
            wrong = conn.execute(text(sql)).scalar_one()
            _say(f"    {'ok ' if wrong == 0 else 'BAD'} {label:<88} {wrong:>9,} wrong {time.perf_counter() - began:6.1f} s")
            if wrong:
                failures.append(f"{label}: {wrong:,} rows differ")
    _say(f"  {'verify kept values':<44} {len(failures):>11,} bad  {time.perf_counter() - started:8.1f} s")
    return failures


SPECIAL_SHARE = 0.003  # of tiered cases raised as special
COMPLAINT_SHARE = 0.01  # of all cases with a complaint / dispute / difficult item
CASELESS_PER_CASES = 500  # one item without a case per this many cases


def special_and_complaints(engine: Engine, seed: int, cases: int | None = None) -> None:
    """Special cases and the complaint register (docs/DOMAIN.md §7, §8; migration 0030), replacing
    any already there: ~0.3% of tiered cases raised as special, each chain drawn as
    rules/special_cases.approval_chain draws it with the default limits (10,000 / 50,000 / 200,000,
    the branch GM above; a reputation case to the branch GM alone), its status and next_level
    matching the special_approval rows of its holders; ~1% of cases with a complaint, dispute or
    difficult item plus one item without a case per 500 cases, each at a step of its kind's way
    (registered → assigned → (escalated → working group) / (mediation → arbitration) → handled →
    return visit → archived), the fields of each step passed filled, and a complaint_step row per
    move. The data's as-of is its latest report time. Runs on a fresh load (after the upgrade) and
    on an existing database (`--extend`)."""
    def r(column: str, n: int) -> str:  # bench_r's draw (dropped after the load), inline
        return f"((hashint8extended({column}::bigint * 64 + {n}, {int(seed)}) & 2147483647)::float8 / 2147483648.0)"

    steps = Steps(engine)
    if cases is None:
        with engine.connect() as conn:
            cases = conn.execute(text("SELECT count(*) FROM claim_case")).scalar_one()
    steps.run("branch line heads (an older bench database)", """
        INSERT INTO person (username, full_name, password_hash, title)
        SELECT u.code || '_line', gm.full_name || '（车险部）', gm.password_hash, '分公司车险/非车险管理部负责人'
          FROM org_unit u
          JOIN role_assignment ra ON ra.unit_id = u.id AND ra.role = 'first_responsible' AND ra.position = 'branch_gm'
          JOIN person gm ON gm.id = ra.person_id
         WHERE u.level = 'branch' AND NOT EXISTS (
               SELECT 1 FROM role_assignment l WHERE l.unit_id = u.id AND l.position = 'branch_line_head')
        ON CONFLICT (username) DO NOTHING""")
    steps.run("branch line heads' posts", """
        INSERT INTO role_assignment (person_id, role, unit_id, position)
        SELECT p.id, 'first_responsible', u.id, 'branch_line_head'
          FROM org_unit u JOIN person p ON p.username = u.code || '_line'
         WHERE u.level = 'branch' AND NOT EXISTS (
               SELECT 1 FROM role_assignment l WHERE l.unit_id = u.id AND l.position = 'branch_line_head')""")
    steps.run("clear special cases and complaints", """
        DELETE FROM special_approval; DELETE FROM special_case; DELETE FROM complaint_step;
        DELETE FROM complaint_item""")
    holder = """(SELECT min(ra.person_id) FROM role_assignment ra
                  WHERE ra.role = {role} AND ra.unit_id = {unit} AND ra.position IS NOT DISTINCT FROM {position})"""
    # ---- special cases -------------------------------------------------------------------------
    steps.run("special_case", f"""
        INSERT INTO special_case (id, case_id, branch_id, sub_branch_id, special_type, customer_kind, circumstances,
            requested_amount, normal_amount, reason, policy_numbers, premium_written, premium_collected, paid_losses,
            pending_losses, past_loss_ratio_pct, expected_premium, expected_premium_on, customer_background, chain,
            limits, next_level, status, raised_by, raised_at, decided_at, version)
        SELECT row_number() OVER (ORDER BY y.raised_at, c.id), c.id, c.branch_id, c.sub_branch_id, y.stype, y.kind,
               CASE WHEN y.stype <> 'C' AND {r('c.id', 57)} < 0.04 THEN ARRAY['media_attention'] ELSE '{{}}' END::varchar[],
               y.requested, y.normal,
               (ARRAY['驾驶员驾驶证逾期未审验，按条款属责任免除，客户为车队业务重点客户，建议通融赔付。',
                      '客户要求按4S店原厂配件价格赔付，超出核定价格。',
                      '重点客户无法提供事故认定书，经查勘核实事故真实，建议赔付。'])[
                   CASE y.stype WHEN 'A' THEN 1 WHEN 'B' THEN 2 ELSE 3 END],
               CASE WHEN y.kind = 'key_customer' THEN 'PDAA' || lpad((c.id::bigint * 7907 % 100000000)::text, 10, '0') END,
               CASE WHEN y.kind = 'key_customer' THEN y.premium END,
               CASE WHEN y.kind = 'key_customer' THEN round(y.premium * 0.92, 2) END,
               CASE WHEN y.kind = 'key_customer' THEN round(y.premium * 0.35, 2) END,
               CASE WHEN y.kind = 'key_customer' THEN round(y.premium * 0.06, 2) END,
               CASE WHEN y.kind = 'key_customer' THEN round((25 + {r('c.id', 58)} * 45)::numeric, 2) END,
               CASE WHEN y.kind = 'prospect' THEN y.premium END,
               CASE WHEN y.kind = 'prospect' THEN (y.raised_at AT TIME ZONE 'Asia/Shanghai')::date + 60 END,
               CASE WHEN y.kind = 'reputation' THEN '当地媒体关注度高，处理不当可能引发负面舆情。' END,
               y.chain,
               '{{"sub_claims_head": "10000", "sub_gm": "50000", "branch_line_dept": "200000", "branch_gm": null}}'::jsonb,
               CASE y.status WHEN 'approved' THEN cardinality(y.chain) ELSE y.level_at END,
               y.status, {holder.format(role="'branch_manager'", unit="c.branch_id", position="NULL")}, y.raised_at,
               CASE WHEN y.status <> 'pending' THEN y.raised_at + y.decisions * y.gap END, 1 + y.decisions
          FROM claim_case c
          CROSS JOIN (SELECT max(report_time) AS as_of FROM claim_case) a
          CROSS JOIN LATERAL (
              SELECT CASE WHEN {r('c.id', 51)} < 0.35 THEN 'A' WHEN {r('c.id', 51)} < 0.8 THEN 'B' ELSE 'C' END AS stype,
                     CASE WHEN {r('c.id', 52)} < 0.7 THEN 'key_customer' WHEN {r('c.id', 52)} < 0.9 THEN 'prospect'
                          ELSE 'reputation' END AS kind,
                     round(greatest(1000, c.current_estimate * (0.03 + 0.6 * {r('c.id', 53)} ^ 1.5))::numeric, -2)
                         AS requested,
                     round((300000 + {r('c.id', 54)} * 4700000)::numeric, -2) AS premium,
                     least(coalesce(c.tiered_at, c.report_time) + (1 + {r('c.id', 55)} * 45) * interval '1 day',
                           a.as_of - interval '1 hour') AS raised_at) x
          CROSS JOIN LATERAL (
              SELECT CASE x.stype WHEN 'A' THEN 0 WHEN 'B' THEN round(x.requested * (0.55 + 0.3 * {r('c.id', 56)})::numeric, -2)
                                  ELSE CASE WHEN {r('c.id', 56)} < 0.5 THEN 0 ELSE round(x.requested / 2, -2) END END
                         AS normal,
                     -- rules/special_cases.approval_chain with the default limits (inclusive)
                     CASE WHEN x.kind = 'reputation' THEN ARRAY['branch_gm']
                          WHEN x.requested <= 10000 THEN ARRAY['sub_claims_head']
                          WHEN x.requested <= 50000 THEN ARRAY['sub_claims_head', 'sub_gm']
                          WHEN x.requested <= 200000 THEN ARRAY['sub_claims_head', 'sub_gm', 'branch_line_dept']
                          ELSE ARRAY['sub_claims_head', 'sub_gm', 'branch_line_dept', 'branch_gm'] END::varchar[] AS chain,
                     CASE WHEN (a.as_of - x.raised_at < interval '30 days' AND {r('c.id', 59)} < 0.85)
                               OR {r('c.id', 59)} < 0.01 THEN 'pending'
                          WHEN {r('c.id', 60)} < 0.75 THEN 'approved' ELSE 'rejected' END AS status) z
          CROSS JOIN LATERAL (
              SELECT x.*, z.*, floor({r('c.id', 61)} * cardinality(z.chain))::int AS level_at,
                     CASE z.status WHEN 'approved' THEN cardinality(z.chain)
                                   WHEN 'rejected' THEN floor({r('c.id', 61)} * cardinality(z.chain))::int + 1
                                   ELSE floor({r('c.id', 61)} * cardinality(z.chain))::int END AS decisions,
                     least((a.as_of - x.raised_at) * 0.9 / (cardinality(z.chain) + 1),
                           (4 + {r('c.id', 62)} * 44) * interval '1 hour') AS gap) y
         WHERE c.tier <> 'T0' AND {r('c.id', 50)} < {SPECIAL_SHARE}
    """)
    steps.run("sequence special_case", "SELECT setval('special_case_id_seq', (SELECT coalesce(max(id), 0) + 1 FROM special_case), false)")
    # Each decision in order, by the level's holder (the post in the case's sub-branch or branch),
    # at the moments special_case.decided_at was computed from: the last is a rejection when rejected.
    steps.run("special_approval", f"""
        INSERT INTO special_approval (special_case_id, level, decision, comment, person_id, at)
        SELECT s.id, s.chain[k],
               CASE WHEN s.status = 'rejected' AND k = s.next_level + 1 THEN 'rejected' ELSE 'approved' END,
               CASE WHEN s.status = 'rejected' AND k = s.next_level + 1 THEN '通融理由不充分，不同意。'
                    ELSE '情况属实，同意。' END,
               h.person_id, s.raised_at + k * g.gap
          FROM special_case s
          CROSS JOIN (SELECT max(report_time) AS as_of FROM claim_case) a
          CROSS JOIN LATERAL (SELECT least((a.as_of - s.raised_at) * 0.9 / (cardinality(s.chain) + 1),
                                           (4 + {r('s.case_id', 62)} * 44) * interval '1 hour') AS gap) g
          CROSS JOIN LATERAL generate_series(1, s.version - 1) k
          CROSS JOIN LATERAL (SELECT {holder.format(
              role="'first_responsible'",
              unit="CASE WHEN s.chain[k] IN ('sub_claims_head', 'sub_gm') THEN coalesce(s.sub_branch_id, s.branch_id) "
                   "ELSE s.branch_id END",
              position="CASE s.chain[k] WHEN 'sub_claims_head' THEN 'sub_claims_head' WHEN 'sub_gm' THEN 'sub_head' "
                       "WHEN 'branch_line_dept' THEN 'branch_line_head' ELSE 'branch_gm' END")} AS person_id) h
    """)
    # ---- complaint items: a plan row per item (its way and how far along it is), then the rows ---
    steps.run("complaint plan", f"""
        CREATE UNLOGGED TABLE bench_complaint_plan AS
        SELECT row_number() OVER (ORDER BY w.registered_at, w.k)::int AS item_id, w.*,
               least((w.as_of - w.registered_at) * 0.9 / cardinality(w.path),
                     (1 + {r('w.k', 66)} * 4) * interval '1 day') AS gap,
               CASE WHEN w.as_of - w.registered_at > interval '60 days'
                         THEN CASE WHEN {r('w.k', 64)} < 0.95 THEN cardinality(w.path) - 1
                                   ELSE floor({r('w.k', 65)} * (cardinality(w.path) - 1))::int END
                    WHEN w.as_of - w.registered_at > interval '15 days'
                         THEN CASE WHEN {r('w.k', 64)} < 0.65 THEN cardinality(w.path) - 1
                                   ELSE floor({r('w.k', 65)} * (cardinality(w.path) - 1))::int END
                    ELSE floor({r('w.k', 65)} * cardinality(w.path))::int END AS idx
          FROM (
              SELECT s.*, kv.kind, kv.variant,
                     CASE kv.variant
                         WHEN 'plain' THEN ARRAY['registered', 'assigned', 'handled', 'return_visited', 'archived']
                         WHEN 'escalated' THEN ARRAY['registered', 'assigned', 'escalated', 'handled', 'return_visited',
                                                     'archived']
                         WHEN 'settled' THEN ARRAY['registered', 'assigned', 'handled', 'return_visited', 'archived']
                         WHEN 'mediated' THEN ARRAY['registered', 'assigned', 'mediation', 'handled', 'return_visited',
                                                    'archived']
                         WHEN 'arbitrated' THEN ARRAY['registered', 'assigned', 'mediation', 'arbitration', 'handled',
                                                      'return_visited', 'archived']
                         ELSE ARRAY['registered', 'assigned', 'escalated', 'working_group', 'handled', 'return_visited',
                                    'archived'] END::varchar[] AS path,
                     coalesce({holder.format(role="'first_responsible'", unit="s.sub_branch_id",
                                             position="'sub_claims_head'")},
                              {holder.format(role="'branch_tracker'", unit="s.branch_id", position="NULL")}) AS assignee,
                     CASE WHEN {r('s.k', 70)} < 0.5 THEN (SELECT min(person_id) FROM role_assignment WHERE role = 'call_center')
                          ELSE {holder.format(role="'branch_tracker'", unit="s.branch_id", position="NULL")} END
                         AS registrar
                FROM (SELECT c.id::bigint AS k, c.id AS case_id, c.branch_id, c.sub_branch_id, c.insured_name AS complainant,
                             least(c.report_time + (1 + {r('c.id', 61)} * 40) * interval '1 day',
                                   a.as_of - interval '1 hour') AS registered_at, a.as_of
                        FROM claim_case c CROSS JOIN (SELECT max(report_time) AS as_of FROM claim_case) a
                       WHERE {r('c.id', 60)} < {COMPLAINT_SHARE}
                      UNION ALL
                      SELECT -g, NULL, b.id, NULL, (ARRAY['李女士','王先生','张先生','陈女士','刘先生','赵女士'])[1 + g % 6],
                             a.as_of - {r('-g', 61)} * interval '1095 days', a.as_of
                        FROM generate_series(1, {max(1, cases // CASELESS_PER_CASES)}) g
                        CROSS JOIN (SELECT max(report_time) AS as_of FROM claim_case) a
                        JOIN (SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS rn, count(*) OVER ()::int AS n
                                FROM org_unit WHERE level = 'branch') b ON b.rn = g % b.n) s
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN {r('s.k', 62)} < 0.6 THEN 'complaint' WHEN {r('s.k', 62)} < 0.85 THEN 'dispute'
                                ELSE 'difficult' END AS kind) kk
                CROSS JOIN LATERAL (
                    SELECT kk.kind, CASE kk.kind
                        WHEN 'complaint' THEN CASE WHEN {r('s.k', 63)} < 0.8 THEN 'plain' ELSE 'escalated' END
                        WHEN 'dispute' THEN CASE WHEN {r('s.k', 63)} < 0.5 THEN 'settled'
                                                 WHEN {r('s.k', 63)} < 0.8 THEN 'mediated' ELSE 'arbitrated' END
                        ELSE 'working_group' END AS variant) kv
          ) w
    """)
    # Step j of the way (0: registered) happens at registered_at + j * gap; a step is passed when
    # its place on the way is at most idx.
    def at(step: str) -> str:
        return f"p.registered_at + (array_position(p.path, '{step}'::varchar) - 1) * p.gap"

    def passed(step: str) -> str:
        return f"coalesce(array_position(p.path, '{step}'::varchar) - 1 <= p.idx, false)"

    def left(step: str) -> str:
        return f"coalesce(array_position(p.path, '{step}'::varchar) - 1 < p.idx, false)"

    steps.run("complaint_item", f"""
        INSERT INTO complaint_item (id, item_no, kind, cause, channel, case_id, branch_id, sub_branch_id, complainant,
            summary, received_on, step, assignee_id, escalation_note, minutes, plan, mediation_outcome, mediation_note,
            arbitration_result, justified, apology, measure, handling_result, outcome, handled_at, return_visit,
            return_visited_at, archived_at, registered_by, registered_at, version)
        SELECT p.item_id,
               CASE p.kind WHEN 'complaint' THEN 'TS' WHEN 'dispute' THEN 'JF' ELSE 'YN' END
                   || to_char(p.registered_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(p.item_id::text, 6, '0'),
               p.kind, q.cause,
               (ARRAY['phone', 'visit', 'letter', 'online', 'regulator', 'media'])[1 + floor({r('p.k', 68)} * 6)::int],
               p.case_id, p.branch_id, p.sub_branch_id, p.complainant,
               CASE q.cause WHEN 'amount' THEN '对核定金额不满，要求提高赔付。' WHEN 'speed' THEN '资料交齐后长时间未赔付。'
                            WHEN 'attitude' THEN '查勘员态度生硬。' WHEN 'liability' THEN '对责任认定有异议。'
                            WHEN 'documents' THEN '被要求反复补充材料。' WHEN 'survey' THEN '查勘员未到现场定损。'
                            ELSE '赔款到账信息有误。' END,
               (p.registered_at AT TIME ZONE 'Asia/Shanghai')::date, p.path[p.idx + 1],
               CASE WHEN p.idx >= 1 THEN p.assignee END,
               CASE WHEN {passed('escalated')} THEN '案情复杂，报分公司处理。' END,
               CASE WHEN {passed('working_group')} THEN '工作组集体研究，一致同意按方案处理。' END,
               CASE WHEN {passed('working_group')} THEN '按核定金额赔付并做好解释。' END,
               CASE WHEN {left('mediation')} THEN CASE p.variant WHEN 'arbitrated' THEN 'failed' ELSE 'agreed' END END,
               CASE WHEN {left('mediation')} THEN CASE p.variant WHEN 'arbitrated' THEN '调解不成。' ELSE '达成调解协议。' END END,
               CASE WHEN {left('arbitration')} THEN '仲裁裁决按保单约定赔付。' END,
               CASE WHEN p.kind = 'complaint' AND {passed('handled')} THEN q.justified END,
               CASE WHEN p.kind = 'complaint' AND {passed('handled')} AND q.justified THEN '已当面向客户致歉。' END,
               CASE WHEN p.kind = 'complaint' AND {passed('handled')} AND q.justified THEN '对经办人通报批评，建立预警。' END,
               CASE WHEN {passed('handled')} THEN '已处理完毕。' END,
               CASE WHEN {passed('handled')} THEN CASE p.kind
                   WHEN 'complaint' THEN CASE WHEN q.justified THEN 'justified' ELSE 'unjustified' END
                   WHEN 'dispute' THEN p.variant ELSE 'resolved' END END,
               CASE WHEN {passed('handled')} THEN {at('handled')} END,
               CASE WHEN {passed('return_visited')} THEN '电话回访，客户满意。' END,
               CASE WHEN {passed('return_visited')} THEN {at('return_visited')} END,
               CASE WHEN {passed('archived')} THEN {at('archived')} END,
               p.registrar, p.registered_at, 1 + p.idx
          FROM bench_complaint_plan p
          CROSS JOIN LATERAL (
              SELECT (ARRAY['amount', 'speed', 'attitude', 'liability', 'documents', 'survey', 'other'])[
                         1 + floor({r('p.k', 67)} * 7)::int] AS cause,
                     {r('p.k', 69)} < 0.4 AS justified) q
    """)
    steps.run("sequence complaint_item",
              "SELECT setval('complaint_item_id_seq', (SELECT coalesce(max(id), 0) + 1 FROM complaint_item), false)")
    steps.run("complaint_step", """
        INSERT INTO complaint_step (item_id, from_step, to_step, note, person_id, at)
        SELECT p.item_id, CASE WHEN j > 0 THEN p.path[j] END, p.path[j + 1], NULL,
               CASE WHEN j <= 1 THEN p.registrar ELSE p.assignee END, p.registered_at + j * p.gap
          FROM bench_complaint_plan p CROSS JOIN LATERAL generate_series(0, p.idx) j
    """)
    steps.run("drop complaint plan", "DROP TABLE bench_complaint_plan")
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE special_case, special_approval, complaint_item, complaint_step"))


FORCED_SHARE = 0.03  # of cases registered by force (强迫立案), 1–5 % by branch


def scorecard_data(engine: Engine, seed: int, cases_too: bool = True) -> None:
    """What the quality scorecard reads (docs/DOMAIN.md §9; migration 0031), replacing any there:
    forced registrations on ~3 % of cases (1–5 % by branch); the amount paid on every case marked
    paid (the estimate held, give or take a branch's habit: 0.78–1.32 of it); zero closures (零结案)
    on ~10 % of closed motor cases and ~6 % of the rest (a forced registration three times as often),
    and on a share of the reopened cases (零结案重开, 20–80 % of reopened motor cases by branch), each
    reopened case counted as reopened; the first estimate and its time as the estimate table has
    them; and the financial figures HQ enters for every branch: the last 12 months, the last 4
    quarters and the data's year and the one before (a quarter or year the sum of its months),
    premium of 200 million to 1.5 billion a year, loss ratios 50–75 % against budgets of 58–65 %, the
    branches in turn in each band of the loss-ratio scoring. The data's as-of is its latest report
    time. On an existing database (`--extend`) the cases' columns are updated; a fresh load wrote
    them with the cases (fill, the same draws), so it only counts the scorecard's cells again and
    enters the financial figures."""
    def r(column: str, n: int) -> str:  # bench_r's draw (dropped after the load), inline
        return f"((hashint8extended(({column})::bigint * 64 + {n}, {int(seed)}) & 2147483647)::float8 / 2147483648.0)"

    steps = Steps(engine)
    if cases_too:
        _scorecard_cases(steps, r)
    # The cases were written with triggers off: the scorecard's kept cells (migration 0035) are
    # counted again from the cases, as a change of the small-claim setting does.
    steps.run("scorecard cells (refilled from the cases)", "SELECT scorecard_cells_refill()")
    _financials(steps, r)
    if cases_too:
        # The upgrade to 0031 and the update above rewrote nearly every case: the table and its
        # indexes would be read at twice or three times their size (1.5 GB instead of 0.6 GB at a
        # million cases) by every page measured afterwards. Compacted, as a table written by inserts is.
        started = time.perf_counter()
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("VACUUM (FULL, ANALYZE) claim_case"))
            conn.execute(text("VACUUM ANALYZE branch_financials"))
            size = conn.execute(text("SELECT pg_size_pretty(pg_total_relation_size('claim_case'))")).scalar_one()
        _say(f"  {'VACUUM FULL claim_case (' + size + ' with indexes)':<44} {'':>16} "
             f"{time.perf_counter() - started:8.1f} s")


def _scorecard_cases(steps: Steps, r) -> None:
    """An existing database's cases: paid amount, zero closure, forced registration, reopening and
    first estimate, as fill writes them on a fresh load."""
    forced = f"{r('c.id', 80)} < {FORCED_SHARE} * (1 + (c.branch_id % 5 - 2) * 0.33)"
    steps.run("claim_case paid / zero closure / forced", f"""
        UPDATE claim_case c SET
            forced_registration = v.forced,
            zero_closed = v.zero,
            paid_amount = CASE WHEN c.state NOT IN ('paid', 'closed', 'reopened') THEN NULL WHEN v.zero THEN 0
                               ELSE round(coalesce(c.current_estimate, 0)
                                          * (0.78 + 0.3 * {r('c.id', 82)} + 0.24 * ((c.branch_id % 6) / 5.0))::numeric, 2) END,
            reopen_count = CASE WHEN c.state = 'reopened' THEN greatest(c.reopen_count, 1) ELSE c.reopen_count END
          FROM (SELECT c.id, {forced} AS forced,
                       CASE c.state
                           WHEN 'closed' THEN c.reopen_count = 0 AND {r('c.id', 81)}
                                < CASE WHEN c.business_line = 'motor' THEN 0.10 ELSE 0.06 END
                                  * CASE WHEN {forced} THEN 3 ELSE 1 END
                           WHEN 'reopened' THEN {r('c.id', 81)}
                                < CASE WHEN c.business_line = 'motor' THEN 0.2 + 0.6 * ((c.branch_id % 5) / 4.0)
                                       ELSE 0.3 END
                           ELSE false END AS zero
                  FROM claim_case c) v
         WHERE v.id = c.id AND (c.paid_amount, c.zero_closed, c.forced_registration, c.reopen_count)
               IS DISTINCT FROM (CASE WHEN c.state NOT IN ('paid', 'closed', 'reopened') THEN NULL WHEN v.zero THEN 0
                                      ELSE round(coalesce(c.current_estimate, 0)
                                                 * (0.78 + 0.3 * {r('c.id', 82)} + 0.24 * ((c.branch_id % 6) / 5.0))::numeric, 2)
                                 END, v.zero, v.forced,
                                 CASE WHEN c.state = 'reopened' THEN greatest(c.reopen_count, 1) ELSE c.reopen_count END)
    """)
    steps.run("claim_case first estimate (as the estimate table has it)", """
        UPDATE claim_case c SET first_estimate = e.amount, first_estimated_at = e.recorded_at
          FROM (SELECT DISTINCT ON (case_id) case_id, amount, recorded_at FROM estimate
                 ORDER BY case_id, recorded_at, id) e
         WHERE e.case_id = c.id
           AND (c.first_estimate, c.first_estimated_at) IS DISTINCT FROM (e.amount, e.recorded_at)""")


def _financials(steps: Steps, r) -> None:
    # ---- the financial figures: a row per branch and month, then the periods HQ enters -------------
    steps.run("financial months", f"""
        CREATE UNLOGGED TABLE bench_fin_month AS
        SELECT b.id AS branch_id, m.month, m.k, f.*,
               (b.budget + b.off_budget + ({r('m.k', 97)} - 0.5) * 1.2) / 100 AS ratio, b.budget,
               b.expense + ({r('m.k', 102)} - 0.5) * 6 AS indirect_expense_pct,
               least(100, b.anti_fraud + ({r('m.k', 103)} - 0.5) * 10) AS anti_fraud_score,
               least(100, b.cross_region + ({r('m.k', 104)} - 0.5) * 10) AS cross_region_score,
               least(100, b.parts + ({r('m.k', 105)} - 0.5) * 6) AS parts_selection_pct
          FROM (SELECT id, round((58 + 7 * {r('id', 96)})::numeric, 1)::float8 AS budget,
                       -- the branches in turn: ≥ 2 points better than budget, 0–2 better, 0–5 worse, > 5 worse
                       (ARRAY[-3.5, -1.0, 2.5, 8.0])[1 + (row_number() OVER (ORDER BY id))::int % 4] AS off_budget,
                       2e8 + 1.3e9 * {r('id', 90)} AS annual, 0.03 + 0.1 * {r('id', 91)} AS growth,
                       0.07 + 0.08 * {r('id', 93)} AS ceded, 92 + 26 * {r('id', 98)} AS expense,
                       55 + 40 * {r('id', 99)} AS anti_fraud, 55 + 40 * {r('id', 100)} AS cross_region,
                       60 + 35 * {r('id', 101)} AS parts
                  FROM org_unit WHERE level = 'branch') b
          CROSS JOIN (SELECT (max(report_time) AT TIME ZONE 'Asia/Shanghai') AS as_of FROM claim_case) a
          CROSS JOIN LATERAL (
              SELECT d::date AS month, b.id * 100000 + extract(year FROM d)::int * 12 + extract(month FROM d)::int AS k,
                     CASE WHEN d = date_trunc('month', a.as_of)
                          THEN greatest(0.05, extract(epoch FROM a.as_of - d) / extract(epoch FROM interval '1 month'))
                          ELSE 1 END AS share,
                     extract(year FROM d) = extract(year FROM a.as_of) AS this_year
                FROM generate_series(date_trunc('year', a.as_of) - interval '1 year', date_trunc('month', a.as_of),
                                     interval '1 month') d) m
          CROSS JOIN LATERAL (
              SELECT b.annual / 12 * (ARRAY[1.35, 0.8, 1.15, 0.9, 0.92, 1.1, 0.88, 0.9, 1.0, 0.85, 0.95, 1.2])[
                         extract(month FROM m.month)::int] * CASE WHEN m.this_year THEN 1 + b.growth ELSE 1 END
                     * (0.96 + 0.08 * {r('m.k', 92)}) * m.share AS premium) p
          CROSS JOIN LATERAL (
              SELECT p.premium, p.premium * b.ceded AS ceded, p.premium * (0.004 + 0.016 * {r('m.k', 94)}) AS assumed,
                     p.premium * (-0.035 + 0.055 * {r('m.k', 95)}) AS unearned_change) f
    """)
    steps.run("financial months: claims side", f"""
        ALTER TABLE bench_fin_month ADD COLUMN incurred float8, ADD COLUMN reserve_change float8,
            ADD COLUMN reinsurance_paid float8, ADD COLUMN reinsurance_recovered float8, ADD COLUMN subrogation float8,
            ADD COLUMN paid float8;
        UPDATE bench_fin_month SET incurred = ratio * (premium - ceded + assumed + unearned_change);
        UPDATE bench_fin_month m SET
            reserve_change = incurred * (-0.06 + 0.16 * {r('m.k', 106)}),
            reinsurance_paid = assumed * (0.4 + 0.3 * {r('m.k', 107)}),
            reinsurance_recovered = ceded * ratio * (0.85 + 0.2 * {r('m.k', 108)}),
            subrogation = incurred * (0.008 + 0.017 * {r('m.k', 109)});
        UPDATE bench_fin_month SET paid = incurred - reserve_change - reinsurance_paid + reinsurance_recovered + subrogation
    """)
    money = ("premium", "ceded", "assumed", "unearned_change", "paid", "reserve_change", "reinsurance_paid",
             "reinsurance_recovered", "subrogation")
    pct = ("indirect_expense_pct", "anti_fraud_score", "cross_region_score", "parts_selection_pct")
    steps.run("branch_financials", f"""
        DELETE FROM branch_financials;
        INSERT INTO branch_financials (branch_id, period_kind, period_start, {", ".join(money)}, loss_ratio_budget_pct,
                                       {", ".join(pct)}, entered_by, entered_at, version)
        SELECT m.branch_id, p.kind, p.start, {", ".join(f"round(sum(m.{c})::numeric, 2)" for c in money)},
               round(min(m.budget)::numeric, 2), {", ".join(f"round(avg(m.{c})::numeric, 2)" for c in pct)},
               (SELECT min(person_id) FROM role_assignment WHERE role = 'hq_admin'),
               least(((p.start + CASE p.kind WHEN 'month' THEN interval '1 month' WHEN 'quarter' THEN interval '3 months'
                                              ELSE interval '1 year' END)::date + 10 + time '10:00')
                     AT TIME ZONE 'Asia/Shanghai', max(a.as_of) - interval '1 hour'), 1
          FROM bench_fin_month m
          CROSS JOIN (SELECT max(report_time) AS as_of, max(report_time) AT TIME ZONE 'Asia/Shanghai' AS local
                        FROM claim_case) a
          CROSS JOIN LATERAL (VALUES ('month', m.month), ('quarter', date_trunc('quarter', m.month)::date),
                                     ('year', date_trunc('year', m.month)::date)) AS p(kind, start)
         WHERE p.start > date_trunc(p.kind, a.local)
                         - CASE p.kind WHEN 'year' THEN interval '2 years' ELSE interval '12 months' END
         GROUP BY m.branch_id, p.kind, p.start
    """)
    steps.run("drop financial months", "DROP TABLE bench_fin_month")


def build_current_weeks(url: str, as_of: datetime) -> None:
    """The last two weeks' summaries built by the real service (full case lists)."""
    from dashboard.services.review.weekly import build_weekly_summaries

    engine = create_engine(url)
    started = time.perf_counter()
    with Session(engine) as session:
        run = build_weekly_summaries(session, now=as_of)
    _say(f"  {'weekly summaries (service, current weeks)':<44} {run.created + run.refreshed:>11,} rows "
         f"{time.perf_counter() - started:8.1f} s")
    engine.dispose()


def appeals_and_delivery(engine: Engine, seed: int) -> None:
    """Issue 22's rows, replacing any there: an appeal on every 97th violation (~1 %: 40 % accepted,
    30 % rejected, 30 % still waiting; filed as pending and decided by an UPDATE, so the kept
    counts' trigger lowers late_count as it does for a real acceptance), and the outbox's delivery
    states: every 500th message failed after six attempts, every 101st still being retried, every
    53rd held for working hours."""
    started = time.perf_counter()
    kinds = ("D1", "D2", "D3", "D4", "D5", "D6", "D7")
    with engine.begin() as conn:
        # Appeals already there (`--extend` again): what their acceptance took from the kept
        # counts (migration 0033's trigger) is given back before they go.
        conn.execute(text("""
            INSERT INTO late_count (branch_id, kind, violations)
            SELECT v.branch_id, v.kind, count(*) FROM violation_appeal a JOIN violation v ON v.id = a.violation_id
             WHERE a.status = 'accepted' GROUP BY v.branch_id, v.kind"""))
        conn.execute(text(f"""
            UPDATE case_figures f SET {", ".join(f"violations_{k.lower()} = f.violations_{k.lower()} + x.{k}" for k in kinds)}
              FROM (SELECT v.case_id, {", ".join(f"count(*) FILTER (WHERE v.kind = '{k}') AS {k}" for k in kinds)}
                      FROM violation_appeal a JOIN violation v ON v.id = a.violation_id
                     WHERE a.status = 'accepted' AND v.case_id IS NOT NULL GROUP BY v.case_id) x
             WHERE f.case_id = x.case_id"""))
        conn.execute(text("DELETE FROM violation_appeal"))
        admin = conn.execute(text("SELECT id FROM person WHERE username = 'admin'")).scalar_one()
        conn.execute(text("""
            INSERT INTO violation_appeal (violation_id, person_id, reason, evidence, filed_at, status)
            SELECT v.id, v.person_id, '核心系统故障，资料无法按时上传', CASE WHEN v.id % 2 = 0 THEN '运维工单' END,
                   v.found_at + interval '3 hours', 'pending'
              FROM violation v WHERE v.id % 97 = :seed % 97 AND v.person_id <> :admin"""),
                     {"seed": seed, "admin": admin})
        conn.execute(text("""
            UPDATE violation_appeal SET status = CASE WHEN id % 10 < 4 THEN 'accepted' ELSE 'rejected' END,
                   decided_by = :admin, decided_at = filed_at + interval '1 day', comment = '经核实', version = 2
             WHERE id % 10 < 7"""), {"admin": admin})
        conn.execute(text("""
            UPDATE notification SET state = CASE WHEN id % 500 = 0 THEN 'failed' WHEN id % 101 = 0 THEN 'queued'
                                                 ELSE 'held' END,
                   attempts = CASE WHEN id % 500 = 0 THEN 6 WHEN id % 101 = 0 THEN 2 ELSE 0 END,
                   last_error = CASE WHEN id % 53 = 0 AND id % 500 <> 0 AND id % 101 <> 0 THEN NULL
                                     ELSE '535 5.7.8 authentication failed' END,
                   channel = CASE WHEN id % 53 = 0 AND id % 500 <> 0 AND id % 101 <> 0 THEN NULL ELSE 'email' END,
                   next_attempt_at = CASE WHEN id % 101 = 0 AND id % 500 <> 0 THEN now() + interval '2 minutes' END,
                   sent_at = NULL
             WHERE id % 500 = 0 OR id % 101 = 0 OR id % 53 = 0"""))
        counts = conn.execute(text("SELECT status, count(*) FROM violation_appeal GROUP BY status ORDER BY 1")).all()
        # The violations and case figures were written with triggers off: the overview's kept
        # violations by week and case figures by day (migrations 0044, 0045) are counted again
        # from them, now that the appeals are decided.
        conn.execute(text("SELECT violation_weeks_refill()"))
        conn.execute(text("SELECT case_figures_days_refill()"))
        # And the tiered cases' tallies by report day (migration 0051), now that the cases are final.
        conn.execute(text("SELECT case_tally_days_refill()"))
        # And the review queue's entries take their cases' colour and tiered time (migration 0046).
        conn.execute(text("SELECT review_queue_order_refill()"))
    _say(f"  {'appeals and delivery states':<44} {', '.join(f'{s}={n:,}' for s, n in counts):>16} "
         f"{time.perf_counter() - started:8.1f} s")


def analyze(engine: Engine) -> None:
    started = time.perf_counter()
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM (ANALYZE)"))
    _say(f"  {'VACUUM ANALYZE':<44} {'':>16} {time.perf_counter() - started:8.1f} s")


def summary(engine: Engine) -> dict[str, int]:
    tables = ("claim_case", "estimate", "dispatch", "contact_attempt", "upload", "deadline", "violation",
              "review_queue_entry", "opinion", "opinion_point", "point_answer", "point_verdict", "progress_note",
              "weekly_summary", "notification", "notification_key", "case_event", "person", "org_unit", "special_case",
              "special_approval", "complaint_item", "complaint_step", "branch_financials", "violation_appeal")
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}
        counts["zero_closed"] = conn.execute(text("SELECT count(*) FROM claim_case WHERE zero_closed")).scalar_one()
        counts["forced_registration"] = conn.execute(text(
            "SELECT count(*) FROM claim_case WHERE forced_registration")).scalar_one()
        counts["tiered"] = conn.execute(text("SELECT count(*) FROM claim_case WHERE tier <> 'T0'")).scalar_one()
        counts["pending"] = conn.execute(text("SELECT count(*) FROM claim_case WHERE state <> 'closed'")).scalar_one()
        counts["pending_tiered"] = conn.execute(text(
            "SELECT count(*) FROM claim_case WHERE state <> 'closed' AND tier <> 'T0'")).scalar_one()
        counts["db_bytes"] = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    return counts


def extend(name: str, seed: int) -> int:
    """An existing bench database brought up to date without regenerating it: migrated to head,
    then the special cases and complaints (replacing any there), the scorecard's data built
    from its cases, and the appeals and delivery states."""
    from db.schema import upgrade_to_head

    if name in PROTECTED:
        raise SystemExit(f"refusing to use database {name!r}: the benchmark makes its own")
    url = database_url(name)
    started = time.perf_counter()
    upgrade_to_head(url)
    _say(f"database {name}: upgraded to head, extending")
    engine = create_engine(url)
    special_and_complaints(engine, seed)
    scorecard_data(engine, seed)
    appeals_and_delivery(engine, seed)
    counts = {t: v for t, v in summary(engine).items()
              if t in ("special_case", "special_approval", "complaint_item", "complaint_step", "branch_financials",
                       "zero_closed", "forced_registration")}
    engine.dispose()
    _say("rows: " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))
    _say(f"done in {time.perf_counter() - started:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", default="bench_claims", help="database to (re)create on the server")
    parser.add_argument("--as-of", type=datetime.fromisoformat, default=None,
                        help="the moment the data ends (default: today 00:00 UTC)")
    parser.add_argument("--extend", action="store_true",
                        help="keep the existing database: upgrade it to head and (re)build only the rows of the "
                             "steps added since (special cases and complaints, the scorecard's data)")
    parser.add_argument("--verify", action="store_true",
                        help="keep the existing database: only check every kept value against the rows")
    args = parser.parse_args(argv)
    if args.extend:
        return extend(args.db, args.seed)
    if args.verify:
        if args.db in PROTECTED:
            raise SystemExit(f"refusing to use database {args.db!r}: the benchmark makes its own")
        engine = create_engine(database_url(args.db))
        failures = verify(engine)
        engine.dispose()
        for failure in failures:
            _say(f"KEPT VALUE WRONG: {failure}")
        return 1 if failures else 0
    as_of = args.as_of or datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=timezone.utc)
    from db.schema import upgrade_to_head

    started = time.perf_counter()
    url = create_database(args.db)
    _say(f"database {args.db}: {args.cases:,} cases, seed {args.seed}, as of {as_of.isoformat()}")
    # Loaded at head, as production's database is: every table written with triggers off
    # (Steps.run), the values the database keeps by trigger then filled in bulk (keep_values) and
    # checked against the rows (verify).
    upgrade_to_head(url)
    _say(f"  {'schema at head':<44} {'':>16} {time.perf_counter() - started:8.1f} s")
    # A connection per statement: a backend remembers the page it last inserted into, so a pooled
    # one would place a statement's first rows where its previous statement (whichever it was)
    # left off, and the ids later drawn in a table's order would depend on the pool.
    engine = create_engine(url, poolclass=NullPool)
    build_people(engine, args.seed)
    _say(f"  {'org + people (build_org)':<44} {'':>16} {time.perf_counter() - started:8.1f} s")
    steps = Steps(engine)
    indexes = drop_secondary_indexes(engine)
    with autovacuum_paused(engine):
        fill(steps, args.cases, args.seed, as_of)
    analyzed = time.perf_counter()
    with engine.connect() as conn:  # the statements below are planned on real statistics
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    _say(f"  {'ANALYZE':<44} {'':>16} {time.perf_counter() - analyzed:8.1f} s")
    _in_parallel(lambda: create_indexes(engine, indexes), lambda: keep_values(steps))
    special_and_complaints(engine, args.seed, args.cases)
    scorecard_data(engine, args.seed, cases_too=False)
    appeals_and_delivery(engine, args.seed)
    build_current_weeks(url, as_of)
    analyze(engine)
    failures = verify(engine)
    counts = summary(engine)
    engine.dispose()
    total = time.perf_counter() - started
    _say("rows: " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))
    _say(f"done in {total:.0f} s ({total / 60:.1f} min)")
    for failure in failures:
        _say(f"KEPT VALUE WRONG: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
