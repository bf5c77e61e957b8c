"""Sign-in in a real browser: the landing page, refusals and the signed-out URL gate."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in

TIMEOUT = 30_000


def test_branch_manager_signs_in_and_sees_the_landing_page(app_server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    sign_in(page, app_server, "gd_manager")
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("广东分公司")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="退出登录")).to_be_visible(timeout=TIMEOUT)
    screenshot(page, "landing_gd_manager")
    # the admin page is not in a branch manager's navigation
    expect(page.get_by_role("link", name="规则与用户")).to_have_count(0)


def test_wrong_password_shows_a_clear_message(app_server, browser):
    page = browser.new_page()
    sign_in(page, app_server, "gd_manager", "wrong-password")
    expect(page.get_by_text("用户名或密码错误")).to_be_visible(timeout=TIMEOUT)


def test_signed_out_visitor_opening_a_page_url_gets_the_sign_in_form(app_server, browser):
    page = browser.new_page()
    page.goto(app_server + "/home")
    # On a fresh server Streamlit may run the page file itself: the page's own check refuses.
    expect(page.get_by_text("请先登录").or_(page.get_by_label("用户名"))).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("您好")).to_have_count(0)
    expect(page.get_by_text("未决分级案件")).to_have_count(0)
    expect(page.get_by_role("link", name="overdue")).to_have_count(0)
    screenshot(page, "signed_out_home_url")


def test_sign_out_returns_to_the_sign_in_form(app_server, browser):
    page = browser.new_page()
    sign_in(page, app_server, "admin")
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_label("用户名")).to_be_visible(timeout=TIMEOUT)


def test_a_case_link_opened_signed_out_leads_to_the_case_after_sign_in(app_server, browser, session, org, actor_for):
    from tests.factories import make_case

    case = make_case(session, org, "gz")
    warm = browser.new_page()  # a server that has served its navigation once (see the fresh-server test)
    warm.goto(app_server + "/")
    expect(warm.get_by_label("用户名")).to_be_visible(timeout=TIMEOUT)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{app_server}/case_detail?case_no={case.case_no}")
    page.get_by_label("用户名").fill("gd_manager")
    page.get_by_label("密码").fill("demo1234")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text(case.case_no).first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("您好")).to_have_count(0)
    screenshot(page, "deep_link_case_detail")


@pytest.mark.moment("2027-02-28 23:59")
def test_the_browsers_server_runs_on_the_tests_stated_moment(app_server, browser):
    """The server is a process of its own: a stated moment (or --clock) reaches it too. The intake
    form's report time starts at the business clock's now."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    sign_in(page, app_server, "callcenter")
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("link", name="报案登记").click()
    date_field = page.get_by_role("group", name="报案时间 · 日期").first
    for part, shown in (("year", "2027"), ("month", "02"), ("day", "28")):
        expect(date_field.get_by_role("spinbutton", name=part)).to_have_text(shown, timeout=TIMEOUT)
    time_field = page.get_by_role("group", name="报案时间 · 时间").first
    expect(time_field.get_by_role("spinbutton", name="hour")).to_have_text("23")
