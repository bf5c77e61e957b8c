"""A violation appeal in two real browsers (issue 22): the surveyor charged with a breach appeals it
with a reason and evidence; HQ admin, in another browser, finds it waiting and accepts it; the
surveyor's page then shows it exempt, and the violation is still on record."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select

from dashboard import clock
from db.models import Violation, ViolationAppeal
from tests.e2e.conftest import screenshot, settle, sign_in, wait_for_db
from tests.factories import make_violation

TIMEOUT = 30_000


def _page(browser, app_server: str, username: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    sign_in(page, app_server, username)
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    page.locator('a[href="appeals"]').first.click()
    settle(page)
    return page


def test_a_surveyor_appeals_a_breach_and_hq_exempts_it(app_server, browser, session, org):
    make_violation(session, org, clock.now())

    surveyor = _page(browser, app_server, "gz_surveyor1")
    # The table is a canvas grid: its cells are in the page for screen readers, not visible.
    expect(surveyor.locator("[role=gridcell]", has_text="未申诉")).to_be_attached(timeout=TIMEOUT)
    surveyor.get_by_label("申诉理由（必填）").fill("核心系统故障，无法上传")
    surveyor.get_by_label("证据说明（选填：如系统故障时间、案件转交记录）").fill("运维工单 OPS-1234")
    surveyor.get_by_role("button", name="提交申诉").click()
    expect(surveyor.get_by_text("申诉已提交").first).to_be_visible(timeout=TIMEOUT)
    wait_for_db(lambda: session.scalar(select(func.count()).select_from(ViolationAppeal)), session)

    admin = _page(browser, app_server, "admin")
    expect(admin.get_by_test_id("stMarkdown").filter(has_text="核心系统故障，无法上传")).to_be_visible(timeout=TIMEOUT)
    admin.get_by_label("审核意见（必填）").fill("故障属实，予以豁免")
    admin.get_by_role("button", name="同意申诉（豁免）").click()
    expect(admin.get_by_text("已同意申诉").first).to_be_visible(timeout=TIMEOUT)
    screenshot(admin, "appeal_accepted")
    status = wait_for_db(lambda: session.scalar(select(ViolationAppeal.status)), session,
                         until=lambda s: s == "accepted")
    assert status == "accepted"

    surveyor.reload()
    settle(surveyor)
    expect(surveyor.locator("[role=gridcell]", has_text="已通过（豁免）")).to_be_attached(timeout=TIMEOUT)
    assert session.scalar(select(func.count()).select_from(Violation)) == 1  # still on record
