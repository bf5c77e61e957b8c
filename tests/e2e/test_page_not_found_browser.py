"""An address that is not one of the signed-in person's pages (a link to a page their role cannot
open, or to no page at all) opens their home page under Streamlit's own dialog, which wrote in
English ("Page not found ... Running the app's main page."): a branch claims head sent a link to
HQ's review queue reads in Chinese why they landed on 首页, and the queue is not drawn."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.i18n import t
from tests.e2e.conftest import screenshot, wait_until_idle
from tests.e2e.test_no_english_in_chinese_mode import TIMEOUT, _signed_in, english_words


@pytest.mark.parametrize("address", ["hq_review", "people", "no_such_page"])
def test_an_address_outside_the_persons_pages_says_so_in_chinese(address, app_server, browser, org):
    page = _signed_in(browser, app_server, "gd_manager")
    page.goto(f"{app_server}/{address}")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible(timeout=TIMEOUT)
    expect(dialog).to_contain_text(t("shell.page_not_found_title"), timeout=TIMEOUT)
    expect(dialog).to_contain_text(t("shell.page_not_found"))
    assert english_words(dialog.inner_text()) == [], dialog.inner_text()
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)  # the home page, under it
    wait_until_idle(page)
    expect(page.get_by_test_id("stMain").get_by_text(t("review.page.hq_review"))).to_have_count(0)
    screenshot(page, f"page_not_found_{address}")
