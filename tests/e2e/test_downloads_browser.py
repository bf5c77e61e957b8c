"""Downloads in a real browser: files are built on click (deferred), outside the page's run, so
they are checked whole here: every row of the list, Chinese headers, the person's language."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from dashboard import clock
from dashboard.services.review.weekly import build_weekly_summaries
from db.models import WeeklySummary
from tests.e2e.conftest import sign_in, wait_until_idle
from tests.review_support import tiered_case

TIMEOUT = 30_000


def _csv_rows(download) -> list[dict[str, str]]:
    with open(download.path(), encoding="utf-8-sig") as handle:
        return list(csv.DictReader(io.StringIO(handle.read())))


def test_a_big_branchs_weekly_summary_downloads_every_case_not_the_page_shown(app_server, browser, session, org):
    now = clock.now()
    cases = [tiered_case(session, org, "gz" if n % 2 else "sz", at=now - timedelta(hours=3, minutes=n))
             for n in range(53)]
    build_weekly_summaries(session, now)
    session.commit()
    summary = session.scalars(select(WeeklySummary).where(WeeklySummary.branch_id == org.branch("gd").id)
                              .order_by(WeeklySummary.week_start.desc())).first()
    assert summary.total_cases == 53
    page = browser.new_page(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    sign_in(page, app_server, "gd_tracker")
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("link", name="分级案件周报").click()
    expect(page.get_by_text("未决分级案件 53 件")).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(page)
    with page.expect_download(timeout=TIMEOUT) as info:
        page.get_by_role("button", name="下载 CSV", exact=True).click()  # the chosen summary's cases (not 下载本页)
    rows = _csv_rows(info.value)
    assert len(rows) == 53  # 50 shown on the first page, all 53 in the file
    assert {r["报案号"] for r in rows} == {c.case_no for c in cases}
    assert all(r["级别"].startswith("一级") for r in rows)


def test_the_overdue_trackers_export_has_every_listed_clock_in_chinese(app_server, browser, session, org, actor_for):
    import re

    from tests.e2e.test_overdue_browser import _seed

    _seed(session, org, actor_for)
    page = browser.new_page(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    sign_in(page, app_server, "reviewer")
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("link", name="超时跟踪").click()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=TIMEOUT)
    listed = int(re.search(r"共 ([\d,]+) 条", page.get_by_text(re.compile(r"共 [\d,]+ 条")).first.inner_text())
                 .group(1).replace(",", ""))
    assert listed > 0
    wait_until_idle(page)
    with page.expect_download(timeout=TIMEOUT) as info:
        page.get_by_role("button", name="下载 CSV", exact=True).click()
    rows = _csv_rows(info.value)
    assert len(rows) == listed
    assert {r["状态"] for r in rows} <= {"已超时未完成", "24小时内到期", "超时后完成"}
    assert rows[0]["状态"] == "已超时未完成"  # most overdue first, as listed
