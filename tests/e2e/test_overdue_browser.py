"""The overdue tracker in a real browser: counts, the list, both charts, and the export buttons."""
from __future__ import annotations

import random
from datetime import timedelta

from playwright.sync_api import expect

from dashboard import clock
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.demo import deadlines as demo_deadlines
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import make_case

TIMEOUT = 30_000


def _seed(session, org, actor_for) -> str:
    now = clock.now()
    call = actor_for("callcenter")
    rng = random.Random(5)
    first = None
    for n in range(24):
        sub = rng.choice(["gz", "sz", "hz", "nj", "cd", "su"])
        at = now - timedelta(hours=rng.uniform(2, 24 * 9))
        case = make_case(session, org, sub, report_time=at - timedelta(hours=1), accident_time=at - timedelta(hours=2))
        record_estimate(session, call, case.id, rng.choice([80000, 300000, 700000, 1500000]), now=at)
        first = first or case.case_no
    demo_deadlines.populate(session, org, random.Random(2), now)
    return first


def test_reviewer_opens_the_overdue_tracker(app_server, browser, session, org, actor_for):
    _seed(session, org, actor_for)
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    sign_in(page, app_server, "reviewer")
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("link", name="超时跟踪").click()
    expect(page.get_by_role("heading", name="超时跟踪")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("超时未完成").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="下载 Excel")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(1500)
    screenshot(page, "overdue_tracker_reviewer")
    page.locator("[data-testid='stVegaLiteChart']").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    screenshot(page, "overdue_tracker_reviewer_charts")
