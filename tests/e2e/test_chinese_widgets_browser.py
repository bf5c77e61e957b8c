"""Streamlit's own widget words in a real browser: what a Chinese-speaking user sees is Chinese.

Streamlit 1.67 has no language setting: its file uploader says "Upload" and "200MB per file" (the
server's limit, not the page's), and a multiselect offers "Select all". The uploader's words come
from the catalog through the shell's CSS (`ui/app_shell.py`), its label names the page's own limit,
and the filters offer no "Select all" (an empty filter already means 全部).
"""
from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in, wait_until_idle
from tests.e2e.test_overdue_browser import _seed

TIMEOUT = 30_000


def test_the_import_uploader_speaks_chinese_and_names_its_own_limit(app_server, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    sign_in(page, app_server, "callcenter")
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("link", name="报案登记").click()
    page.get_by_role("tab", name="批量导入").click()
    dropzone = page.get_by_test_id("stFileUploaderDropzone")
    expect(dropzone).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(page)
    expect(page.get_by_text("每个文件最多 50,000 行")).to_be_visible()
    # innerText leaves out what CSS hides: Streamlit's English is not on screen.
    shown = dropzone.inner_text()
    assert "Upload" not in shown and "per file" not in shown and "200MB" not in shown, shown
    button_text = dropzone.get_by_test_id("stBaseButton-secondary").evaluate(
        "b => getComputedStyle(b, '::after').content")
    assert button_text == '"选择文件"'
    hint = dropzone.get_by_test_id("stFileUploaderDropzoneInstructions").evaluate(
        "e => getComputedStyle(e, '::after').content")
    assert hint == '"或将文件拖放到此处"'
    screenshot(page, "intake_import_uploader")


def test_the_trackers_filters_offer_no_english_select_all(app_server, browser, session, org, actor_for):
    _seed(session, org, actor_for)
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    sign_in(page, app_server, "reviewer")
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("link", name="超时跟踪").click()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(page)
    page.get_by_test_id("stMultiSelect").first.click()  # 时效类型
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options.first).to_be_visible(timeout=TIMEOUT)
    shown = options.all_inner_texts()
    assert shown[0].startswith("D1 ") and len(shown) == 7, shown  # the seven deadline types, nothing else
    expect(page.get_by_text("Select all")).to_have_count(0)
