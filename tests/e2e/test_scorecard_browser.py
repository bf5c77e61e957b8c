"""The scorecard in real browsers (issue 21): HQ admin enters a branch's financial figures for the
month; an executive, in another browser, finds the branch ranked first with the loss ratio's 18
points in its cost group."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from db.models import BranchFinancials
from tests.e2e.conftest import choose, screenshot, settle, sign_in, wait_for_db

TIMEOUT = 30_000
FIGURES = (("当期保费收入", "12000000"), ("分出保费", "1000000"), ("分入保费", "0"), ("未到期责任准备金提转差", "-500000"),
           ("本年度已决赔款", "5500000"), ("未决赔款准备金提转差", "300000"), ("分保赔款支出", "0"),
           ("摊回分保赔款", "200000"), ("追偿款收入", "100000"), ("综合赔付率预算目标（%）", "60"))


def _page(browser, app_server: str, username: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    sign_in(page, app_server, username)
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    page.locator('a[href="scorecard"]').first.click()
    settle(page)
    return page


def test_hq_enters_a_branchs_figures_and_the_executive_sees_it_ranked(app_server, browser, session, org):
    admin = _page(browser, app_server, "admin")
    admin.get_by_role("tab", name="财务指标录入").click()
    settle(admin)
    choose(admin, "分公司", "浙江分公司")
    for label, value in FIGURES:
        admin.get_by_label(label, exact=True).fill(value)
    admin.get_by_role("button", name="保存财务数据").click()
    expect(admin.get_by_text("已保存 浙江分公司").first).to_be_visible(timeout=TIMEOUT)
    screenshot(admin, "scorecard_entered")
    saved = wait_for_db(lambda: session.scalar(select(BranchFinancials.premium)), session)
    assert saved == 12_000_000

    executive = _page(browser, app_server, "executive")
    executive.get_by_role("tab", name="分公司明细").click()
    settle(executive)
    choose(executive, "分公司", "浙江分公司")
    expect(executive.get_by_text("浙江分公司 · ").first).to_contain_text("第 1 名", timeout=TIMEOUT)
    expect(executive.get_by_test_id("stMetric").filter(has_text="理赔成本").first).to_contain_text("18.00 / 40")
    screenshot(executive, "scorecard_branch")
