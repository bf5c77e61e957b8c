"""The evidence behind a met D2, in a real browser: the surveyor uploads the 人车合影 for the first
responsible, HQ's reviewer opens and downloads the very bytes, another branch sees nothing, and the
list reads on a 390 px phone."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.services.dispatching.dispatch import record_estimate
from db.models import Person
from tests import sample_files
from tests.e2e.conftest import choose, screenshot, sign_in, wait_until_idle
from tests.factories import make_case

TIMEOUT = 30_000
PHOTO = sample_files.jpeg("2026:11:20 08:14:33", None, (800, 600), (31, 78, 121))


@pytest.fixture(autouse=True)
def _evidence_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))  # the server inherits it


def _open_case(page, case_no: str) -> None:
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    link = page.get_by_test_id("stPageLink-NavLink").filter(has_text="案件详情").first
    try:
        link.wait_for(state="visible", timeout=5_000)
    except Exception:  # a phone: the sidebar starts collapsed behind its "»" button
        page.get_by_test_id("stExpandSidebarButton").click()
        link.wait_for(state="visible", timeout=TIMEOUT)
    link.evaluate("e => e.click()")
    wait_until_idle(page)
    page.get_by_label("报案号").fill(case_no)
    page.get_by_role("button", name="查询").click()
    wait_until_idle(page)


def _send_file(page, name: str, content: bytes) -> None:
    """Choose a file as a person does (the file dialog), then wait until the uploader shows it."""
    uploader = page.get_by_test_id("stFileUploader")
    chooser_button = uploader.get_by_test_id("stFileUploaderDropzone")
    for attempt in range(3):  # a rerun that replaces the uploader meanwhile drops the chosen file: again
        wait_until_idle(page)
        expect(chooser_button).to_be_visible(timeout=TIMEOUT)
        with page.expect_file_chooser() as chooser:
            chooser_button.click()
        chooser.value.set_files({"name": name, "mimeType": "image/jpeg", "buffer": content})
        try:
            expect(uploader.get_by_text(name, exact=True)).to_be_visible(timeout=10_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    page.wait_for_timeout(500)
    wait_until_idle(page)


def test_the_photo_uploaded_for_the_first_responsible_is_seen_and_downloaded_by_hq_not_by_another_branch(
        app_server, browser, session, org, actor_for):
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, 80000)
    session.refresh(case)
    head = session.get(Person, org.person("gz_claims")).full_name

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, app_server, "gz_surveyor1")
    _open_case(page, case.case_no)
    expect(page.get_by_text("案件资料", exact=True)).to_be_visible(timeout=TIMEOUT)
    choose(page, "资料类型", "人车合影")
    _send_file(page, "virus.jpg", sample_files.windows_program())
    choose(page, "代第一责任人上传", head)
    page.get_by_role("button", name="上传", exact=True).click()
    wait_until_idle(page)
    expect(page.get_by_text("JPEG、PNG、HEIC", exact=False).last).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Remove virus.jpg").click()  # Streamlit's own (English) label
    wait_until_idle(page)
    _send_file(page, "人车合影.jpg", PHOTO)
    page.get_by_role("button", name="上传", exact=True).click()
    wait_until_idle(page)
    # Visible text: the timeline's grid also holds the sentence, in cells drawn on a canvas (hidden).
    expect(page.get_by_text(f"代 {head} 上传", exact=False).filter(visible=True).first).to_be_visible(timeout=TIMEOUT)
    screenshot(page, "materials_surveyor_uploaded")
    page.close()

    reviewer = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    sign_in(reviewer, app_server, "reviewer")
    _open_case(reviewer, case.case_no)
    choose(reviewer, "查看文件", "人车合影 · 人车合影.jpg")
    expect(reviewer.get_by_test_id("stImage")).to_be_visible(timeout=TIMEOUT)
    expect(reviewer.get_by_text("拍摄 2026-11-20 08:14", exact=False)).to_be_visible(timeout=TIMEOUT)
    with reviewer.expect_download() as info:
        reviewer.get_by_role("button", name="下载原文件").click()
    download = info.value
    assert download.suggested_filename == "人车合影.jpg"
    with open(download.path(), "rb") as handle:
        assert handle.read() == PHOTO
    reviewer.close()

    outsider = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(outsider, app_server, "zj_manager")
    _open_case(outsider, case.case_no)
    expect(outsider.get_by_text("未找到该记录或无权查看", exact=False)).to_be_visible(timeout=TIMEOUT)
    assert outsider.get_by_text("案件资料", exact=True).count() == 0
    assert outsider.get_by_text("人车合影.jpg").count() == 0
    outsider.close()

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    sign_in(phone, app_server, "gd_manager")
    _open_case(phone, case.case_no)
    title = phone.get_by_text("案件资料", exact=True)
    title.scroll_into_view_if_needed()
    expect(phone.get_by_text("共 1 份")).to_be_visible(timeout=TIMEOUT)
    choose(phone, "查看文件", "人车合影 · 人车合影.jpg")
    image = phone.get_by_test_id("stImage")
    expect(image).to_be_visible(timeout=TIMEOUT)
    assert image.bounding_box()["width"] <= 390  # the preview fits the phone, no sideways scrolling
    screenshot(phone, "materials_phone")
    context.close()
