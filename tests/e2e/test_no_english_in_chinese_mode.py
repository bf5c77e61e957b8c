"""Chinese mode shows no English (issue 26), and a phone shows a case's clocks (issue 27).

Every role signs in and opens every page its roles allow (each tab of a page with tabs, the case
detail with a case open, one dropdown per page); the visible text of the page and its menu may hold
no Latin word outside a short allow-list: codes and case numbers (they carry digits), file types
and units, and the language switch's own 「English」/「Language」. Streamlit's own English is the
usual source: 「Choose an option」 in a selectbox without a placeholder, 「yyyy-mm-dd」 in an empty
date field, its date-range and upload-size errors. Tables are drawn on a canvas and are not read.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from dashboard.i18n import t
from dashboard.services.review.opinions import post_review_opinion
from dashboard.services.review.queue import queue_tiered_cases
from dashboard.services.review.weekly import build_weekly_summaries
from dashboard.ui.navigation import PAGES
from tests.e2e.conftest import screenshot, sign_in, wait_until_idle
from tests.review_support import tiered_case

TIMEOUT = 30_000
ROLE_USER = {"hq_reviewer": "reviewer", "hq_admin": "admin", "branch_manager": "gd_manager",
             "branch_tracker": "gd_tracker", "exec_supervisor": "supervisor", "first_responsible": "gz_claims",
             "executive": "executive", "call_center": "callcenter", "surveyor": "gz_surveyor1"}
HEADING = {"home": "您好", "case_detail": t("page.case_detail"), "intake": t("cases.intake.title"),
           "dispatch_board": t("board.title"), "admin_rules": t("admin.title"), "overview": t("overview.title"),
           "overdue": t("page.overdue"), "hq_review": t("review.page.hq_review"),
           "branch_feedback": t("review.page.branch_feedback"), "supervision": t("review.page.supervision"),
           "weekly_summary": t("review.page.weekly_summary"), "people": t("page.people"),
           "major_cases": t("page.major_cases"), "special_cases": t("page.special_cases"),
           "complaints": t("page.complaints"), "scorecard": t("page.scorecard"), "messages": t("page.messages"),
           "appeals": t("page.appeals"), "deliveries": t("page.deliveries")}
# Words that are the same in Chinese: file types and units, and the language switch ("语言 / Language",
# "English"). A token with a digit in it (a case number, D1–D7, T1–T4, a plate) is a code, not a word.
ALLOWED = {"CSV", "csv", "xlsx", "xls", "Excel", "Word", "PDF", "JPEG", "JPG", "PNG", "HEIC", "EXIF", "SHA", "MB", "KB", "GB",
           "English", "Language",
           # 特殊赔案理赔管理办法 names its special-case types A类、B类、C类: the source's own names.
           "A", "B", "C"}
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*")

# The visible text of the page and its menu: innerText leaves out what CSS hides; the names of
# Material icons (ligatures such as "home") and text drawn at size 0 (an empty date field's part,
# whose catalog word the style draws instead) are not words anyone reads.
_READ = """root => {
  let text = root.innerText;
  const unread = [...root.querySelectorAll("[data-testid='stIconMaterial']")];
  unread.push(...[...root.querySelectorAll("[data-placeholder='true']")]
    .filter(e => getComputedStyle(e).fontSize === "0px"));
  for (const element of unread) text = text.replace(element.innerText, " ");
  return text;
}"""


def visible_text(locator) -> str:
    return "\n".join(locator.nth(i).evaluate(_READ) for i in range(locator.count()))


def page_text(page) -> str:
    return visible_text(page.get_by_test_id("stMain")) + "\n" + visible_text(page.get_by_test_id("stSidebar"))


def english_words(text: str, data: tuple[str, ...] = ()) -> list[str]:
    """The English words of `text`, leaving out `data`: what people type, such as user names on the
    people page (「杜军（admin）」 names an account, it is not an English label)."""
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return sorted({w for w in TOKEN.findall(text) if not any(c.isdigit() for c in w) and w not in ALLOWED})


def _seed(session, org, actor_for, now) -> str:
    """A few tiered cases of 广州 with an HQ opinion and a weekly summary, so lists and forms are drawn."""
    cases = [tiered_case(session, org, "gz", at=now - timedelta(hours=hours)) for hours in (40, 30, 3)]
    queue_tiered_cases(session, now)
    post_review_opinion(session, actor_for("reviewer"), cases[0].id, ["核实驾驶员身份", "调取事故现场监控"],
                        now=now - timedelta(hours=20))
    build_weekly_summaries(session, now)
    session.commit()
    return cases[1].case_no


def _signed_in(browser, app_server, username: str):
    """A wide window signed in as `username`, its home page drawn."""
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    sign_in(page, app_server, username)
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(page)
    return page


def _open_page(page, key: str) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name=t(next(p for p in PAGES if p.key == key).title_key),
                                                 exact=True).click()
    expect(page.get_by_test_id("stMain").locator("h1").first).to_contain_text(HEADING[key], timeout=TIMEOUT)
    wait_until_idle(page)


def _open_case(page, case_no: str) -> None:
    page.get_by_label(t("detail.search")).fill(case_no)
    page.get_by_role("button", name=t("detail.search_button")).click()
    wait_until_idle(page)
    expect(page.get_by_text(t("detail.title", case_no=case_no))).to_be_visible(timeout=TIMEOUT)


def _first_dropdown(page) -> str:
    """The options of the page's first enabled selectbox ("" when it has none)."""
    boxes = page.get_by_test_id("stMain").locator(
        "[data-testid='stSelectbox'] [role='combobox']:not([disabled]):not([aria-disabled='true'])"
    ).locator("visible=true")
    listbox = page.get_by_role("listbox").first
    for attempt in range(3):  # a rerun landing meanwhile replaces the box or closes its list: again
        wait_until_idle(page)
        if not boxes.count():
            return ""
        try:
            boxes.first.click(timeout=8_000)
            expect(listbox).to_be_visible(timeout=8_000)
            text = listbox.inner_text(timeout=8_000)  # the list can close again between the two
            break
        except (AssertionError, PlaywrightTimeout):
            page.keyboard.press("Escape")
            if attempt == 2:
                raise
    page.keyboard.press("Escape")
    return text


# Three groups of roles, each a test of its own: the two test workers walk them side by side (one
# walk of every page for every role took two minutes, the longest test of the suite).
ROLE_GROUPS = (("hq_reviewer", "hq_admin", "call_center"), ("branch_manager", "branch_tracker", "exec_supervisor"),
               ("first_responsible", "executive", "surveyor"))


def test_the_role_groups_cover_every_role():
    assert sorted(r for group in ROLE_GROUPS for r in group) == sorted(ROLE_USER)


@pytest.mark.parametrize("roles", ROLE_GROUPS, ids=["hq", "branch", "responsible"])
def test_no_english_words_on_any_page_for_any_role(roles, app_server, browser, session, org, actor_for, now,
                                                   tmp_path):
    case_no = _seed(session, org, actor_for, now)
    leaks: dict[str, list[str]] = {}
    visited = 0
    for role, username in ((r, ROLE_USER[r]) for r in roles):
        page = _signed_in(browser, app_server, username)
        for spec in PAGES:
            if role not in spec.roles:
                continue
            _open_page(page, spec.key)
            if spec.key == "case_detail" and role != "first_responsible":  # not dispatched to gz_claims
                _open_case(page, case_no)
            texts = [page_text(page)]
            tabs = page.get_by_test_id("stMain").get_by_role("tab")
            for i in range(1, tabs.count()):
                tabs.nth(i).click()
                wait_until_idle(page)
                texts.append(page_text(page))
            texts.append(_first_dropdown(page))
            visited += 1
            if words := english_words("\n".join(texts), tuple(org.usernames)):
                leaks[f"{role}/{spec.key}"] = words
                screenshot(page, f"english_{role}_{spec.key}")
        page.close()
    assert visited == sum(role in spec.roles for role in roles for spec in PAGES), visited
    assert not leaks, leaks


def test_streamlits_own_errors_speak_chinese(app_server, browser, session, org, actor_for, now, tmp_path):
    """The date field's out-of-range error and the uploader's size error are written by Streamlit's
    browser code in English; the person reads them in Chinese, with the range and the limit."""
    case_no = _seed(session, org, actor_for, now)
    page = _signed_in(browser, app_server, "gz_surveyor1")
    _open_page(page, "case_detail")
    _open_case(page, case_no)
    big = tmp_path / "现场照片.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"0" * (21 * 1024 * 1024))  # over the 20 MB limit
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(big)
    chip = page.get_by_test_id("stFileChip")
    expect(chip).to_be_visible(timeout=TIMEOUT)
    chip.hover()
    tooltip = page.get_by_test_id("stTooltipErrorContent")
    expect(tooltip).to_contain_text("文件超过 20.0MB 的上限", timeout=TIMEOUT)
    shown = tooltip.inner_text() + visible_text(page.get_by_test_id("stFileUploader"))
    assert english_words(shown.replace(big.name, "")) == [], shown
    screenshot(page, "upload_too_large_chinese")

    page2 = _signed_in(browser, app_server, "reviewer")
    _open_page(page2, "overdue")
    field = page2.get_by_test_id("stDateInput").first
    year = field.locator("[data-type='year']")
    # The empty field's parts read 年-月-日, not yyyy-mm-dd.
    assert year.evaluate("e => getComputedStyle(e, '::after').content") == '"年"'
    year.click()
    page2.keyboard.type("19990101")
    page2.keyboard.press("Tab")
    error = field.get_by_test_id("stDateInputError")
    expect(error).to_be_visible(timeout=TIMEOUT)
    error.get_by_test_id("stTooltipErrorHoverTarget").hover()
    tooltip = page2.get_by_test_id("stTooltipErrorContent")
    expect(tooltip).to_contain_text("日期超出允许范围，请选择", timeout=TIMEOUT)
    assert english_words(tooltip.inner_text()) == [], tooltip.inner_text()


def test_a_phone_shows_a_cases_clocks_as_text(app_server, browser, session, org, actor_for, now):
    """A branch manager on the road reads each clock's status, time left and due time at 390 px
    (the table's later columns lay off the side of the screen), and the supervisor sees no empty
    「操作」 heading."""
    case_no = _seed(session, org, actor_for, now)
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(f"{app_server}/case_detail?case_no={case_no}")
    page.get_by_label("用户名").fill("gd_manager")
    page.get_by_label("密码").fill("demo1234")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text(t("detail.title", case_no=case_no))).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(page)
    cards = page.locator(".st-key-detail_clocks_cards")
    expect(cards).to_be_visible()
    expect(page.locator(".st-key-detail_clocks_table")).to_be_hidden()
    first = cards.get_by_test_id("stMarkdownContainer").first
    first.scroll_into_view_if_needed()
    text = first.inner_text()
    assert re.search(r"到期时间：\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text), text
    assert re.search(r"(进行中|已超时|按时完成|超时后完成)", text), text
    # Every open clock says its time left, and all of it lies within the screen's width.
    assert re.search(r"(剩余|超时) \d+ (分钟|小时|天)", cards.inner_text()), cards.inner_text()
    box = first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    screenshot(page, "case_detail_clocks_phone")

    wide = _signed_in(browser, app_server, "supervisor")
    _open_page(wide, "case_detail")
    _open_case(wide, case_no)
    expect(wide.locator(".st-key-detail_clocks_table")).to_be_visible()
    expect(wide.locator(".st-key-detail_clocks_cards")).to_be_hidden()
    expect(wide.get_by_role("heading", name=t("detail.actions"))).to_have_count(0)
    expect(wide.get_by_role("heading", name=t("materials.title"))).to_be_visible()
