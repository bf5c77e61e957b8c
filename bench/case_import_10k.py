"""Benchmark: import 10,000 generated cases from CSV and from .xlsx into a scratch database.

    TEST_ADMIN_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python -m bench.case_import_10k [rows]
"""
from __future__ import annotations

import io
import os
import sys
import time
from datetime import datetime, timedelta, timezone

import openpyxl
from sqlalchemy import text

from dashboard.services.actor import load_actor
from dashboard.services.auth import hash_password
from dashboard.services.dispatching.board import BoardFilter, board_count, board_page
from dashboard.services.cases.import_file import EXAMPLE_ROW, IMPORT_FIELDS, header_for, import_cases
from dashboard.demo.org import build_org
from bench.scratch import scratch_database
from db.engine import session_factory


def generate_rows(count: int, prefix: str) -> list[list[str]]:
    base = datetime(2026, 8, 1, 8, 0)  # 10,000 × 7 min ends before today
    subs = [("gz", "gz_surveyor1"), ("sz", "sz_surveyor1"), ("hz", "hz_surveyor2"), ("cd", "cd_surveyor1")]
    rows = []
    for n in range(count):
        sub, surveyor = subs[n % len(subs)]
        report = base + timedelta(minutes=7 * n)
        values = {**EXAMPLE_ROW, "case_no": f"{prefix}{n:07d}", "report_time": report.strftime("%Y-%m-%d %H:%M"),
                  "accident_time": (report - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
                  "sub_branch": sub, "surveyor": surveyor, "vehicle_sum_insured": f"{100000 + n}.00"}
        rows.append([values.get(f, "") for f in IMPORT_FIELDS])
    return rows


def main(count: int) -> None:
    with scratch_database(os.environ["TEST_ADMIN_DATABASE_URL"], "bench_import") as scratch:
        url = scratch.url
        with session_factory(url)() as session:
            org = build_org(session, hash_password("bench"))
            session.commit()
            actor = load_actor(session, org.person("callcenter"))
            header = [header_for(f) for f in IMPORT_FIELDS]
            csv_rows = generate_rows(count, "BCSV")
            csv = ("\n".join(",".join(r) for r in [header, *csv_rows]) + "\n").encode("utf-8-sig")
            started = time.perf_counter()
            report = import_cases(session, actor, "bench.csv", csv, now=datetime.now(timezone.utc))
            print(f"CSV : {report.imported:,} rows imported in {time.perf_counter() - started:.2f} s "
                  f"({len(csv) / 1e6:.1f} MB, {report.bad_rows} bad rows)")
            book = openpyxl.Workbook()
            sheet = book.active
            sheet.append(header)
            for r in generate_rows(count, "BXLS"):
                sheet.append(r)
            buffer = io.BytesIO()
            book.save(buffer)
            started = time.perf_counter()
            report = import_cases(session, actor, "bench.xlsx", buffer.getvalue(), now=datetime.now(timezone.utc))
            print(f"XLSX: {report.imported:,} rows imported in {time.perf_counter() - started:.2f} s "
                  f"({len(buffer.getvalue()) / 1e6:.1f} MB, {report.bad_rows} bad rows)")
            session.execute(text("ANALYZE"))
            for username in ("callcenter", "gd_manager"):
                viewer = load_actor(session, org.person(username))
                started = time.perf_counter()
                total = board_count(session, viewer, BoardFilter())
                page = board_page(session, viewer, BoardFilter(), limit=50, offset=total // 2)
                print(f"Board for {username}: {total:,} cases, count + middle page of {len(page.rows)} "
                      f"in {(time.perf_counter() - started) * 1000:.0f} ms")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
