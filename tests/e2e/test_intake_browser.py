"""报案登记 in a real browser: what only a browser shows (issue 26).

The date picker refused 1900-01-01 and 2099-12-31 with its own English range error, in the
browser, and kept the last valid date, which the form then saved. The counter of a field's
limit is drawn by the browser while typing. Neither can be seen by AppTest.
"""
from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in, wait_until_idle

TIMEOUT = 30_000


def open_intake(page, app_server) -> None:
    sign_in(page, app_server, "callcenter")
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("link", name="报案登记").click()
    expect(page.get_by_text("报案信息")).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(page)


def test_an_accident_date_out_of_range_is_refused_in_chinese_and_kept_as_typed(app_server, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1200})
    open_intake(page, app_server)
    accident = page.get_by_label("出险时间", exact=True)
    accident.fill("1900-01-01 08:00")
    page.get_by_role("button", name="登记案件").click()
    error = page.get_by_test_id("stAlertContentError")
    expect(error).to_contain_text("出险时间：1900-01-01 超出允许范围，请填写 2000-01-01 至", timeout=TIMEOUT)
    wait_until_idle(page)
    expect(accident).to_have_value("1900-01-01 08:00")  # nothing replaced
    body = page.locator("body").inner_text()
    assert "outside allowed range" not in body and "yyyy" not in body and "Choose an option" not in body, body
    screenshot(page, "intake_date_out_of_range")


def test_a_text_field_counts_its_limit_while_typing(app_server, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1200})
    open_intake(page, app_server)
    page.get_by_label("报案号", exact=True).first.click()
    page.keyboard.type("BA2026")
    counter = page.get_by_test_id("InputInstructions").filter(has_text="6/40")
    expect(counter).to_be_visible(timeout=TIMEOUT)
    assert "Press Enter" not in counter.inner_text()
    screenshot(page, "intake_counter")
