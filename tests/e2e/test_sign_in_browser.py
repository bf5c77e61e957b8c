"""Sign-in in a real browser: the landing page, refusals and the signed-out URL gate."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in, wait_until_idle

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
    expect(page.get_by_role("textbox", name="报案时间")).to_have_value("2027-02-28 23:59", timeout=TIMEOUT)



# ---------------------------------------------------------------- a reload keeps you signed in (issue 26)

COOKIE = "claims_session"


def _signed_in(browser, app_server: str, username: str = "gd_manager", **context_options):
    """A browser of its own (its own cookies) with one tab signed in, once the tab has its cookie."""
    options = {"viewport": {"width": 1400, "height": 900}, **context_options}
    context = browser.new_context(**options)
    page = context.new_page()
    sign_in(page, app_server, username)
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(page)
    _session_cookie(context, page)
    return context, page


def _session_cookie(context, page, present: bool = True) -> dict | None:
    """The session cookie once the browser holds it (or None once it is gone, present=False)."""
    for _ in range(TIMEOUT // 100):
        cookie = next((c for c in context.cookies() if c["name"] == COOKIE), None)
        if (cookie is not None) == present:
            return cookie
        page.wait_for_timeout(100)
    raise AssertionError(f"the session cookie never {'came' if present else 'went'}")


def test_a_reload_and_a_case_link_in_a_new_tab_keep_the_person_signed_in_until_sign_out(
        app_server, browser, session, org):
    from tests.factories import make_case

    case = make_case(session, org, "gz")
    context, page = _signed_in(browser, app_server)
    page.keyboard.press("F5")
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_label("用户名")).to_have_count(0)
    screenshot(page, "session_after_reload")

    tab = context.new_page()  # a case link opened in a new tab
    tab.goto(f"{app_server}/case_detail?case_no={case.case_no}")
    expect(tab.get_by_text(f"案件 {case.case_no}")).to_be_visible(timeout=TIMEOUT)
    expect(tab.get_by_role("button", name="退出登录")).to_be_visible(timeout=TIMEOUT)
    expect(tab.get_by_label("用户名")).to_have_count(0)
    wait_until_idle(tab)
    screenshot(tab, "session_case_link_new_tab")

    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_label("用户名")).to_be_visible(timeout=TIMEOUT)
    _session_cookie(context, page, present=False)  # the sign-in page took the dead cookie back
    page.reload()
    expect(page.get_by_label("用户名")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("您好")).to_have_count(0)

    # The other tab still shows the case: its next action finds the session ended.
    tab.get_by_role("link", name="超时跟踪").click()
    expect(tab.get_by_text("此登录已结束")).to_be_visible(timeout=TIMEOUT)
    expect(tab.get_by_label("用户名")).to_be_visible(timeout=TIMEOUT)
    expect(tab.get_by_text(case.case_no)).to_have_count(0)
    screenshot(tab, "session_other_tab_after_sign_out")


def test_the_session_cookie_is_http_only_strict_never_in_an_address_and_stored_only_hashed(
        app_server, browser, session, org):
    import hashlib

    from sqlalchemy import text

    addresses: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.on("request", lambda request: addresses.append(request.url))
    page = context.new_page()
    sign_in(page, app_server, "gd_manager")
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    cookie = _session_cookie(context, page)
    page.reload()
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    token = cookie["value"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert token not in page.evaluate("document.cookie")  # page scripts never see it
    assert addresses and not any(token in address for address in addresses)
    rows = session.execute(text("SELECT token_sha256, t::text AS whole FROM web_session t "
                                "WHERE person_id = :p AND ended_at IS NULL"), {"p": org.person("gd_manager")}).all()
    assert [row.token_sha256 for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in rows[0].whole


def test_a_sign_in_ticket_is_refused_from_another_site_and_gives_one_cookie_only_once(
        app_server, browser, session, org):
    from dashboard.services.web_sessions import open_web_session

    ticket = open_web_session(session, org.person("gd_manager"), "zh").ticket
    context = browser.new_context()
    address = f"{app_server}/api/session/establish?ticket={ticket}"
    cross_site = context.request.get(address, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status == 403 and "set-cookie" not in cross_site.headers
    first = context.request.get(address, headers={"Sec-Fetch-Site": "same-origin"})
    cookie = first.headers["set-cookie"]
    assert first.status == 200 and cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    again = context.request.get(address, headers={"Sec-Fetch-Site": "same-origin"})
    assert again.status == 404 and "set-cookie" not in again.headers


def test_a_forged_session_cookie_is_refused(app_server, browser):
    import secrets

    context = browser.new_context()
    context.add_cookies([{"name": COOKIE, "value": secrets.token_urlsafe(32), "url": app_server,
                          "httpOnly": True, "sameSite": "Strict"}])
    page = context.new_page()
    page.goto(app_server + "/home")
    expect(page.get_by_label("用户名")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("您好")).to_have_count(0)


def test_an_idle_session_is_refused_at_the_next_reload(app_server, browser, session, org):
    from sqlalchemy import text

    from dashboard.services.reference import get_setting

    context, page = _signed_in(browser, app_server)
    idle_minutes = float(get_setting(session, "session.idle_minutes"))
    # Nobody acted for longer than the idle time (the server's clock runs on its own).
    session.execute(text("UPDATE web_session SET last_seen_at = last_seen_at - :m * interval '1 minute'"),
                    {"m": idle_minutes + 1})
    session.commit()
    page.reload()
    expect(page.get_by_text("您已长时间未操作，已自动退出")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_label("用户名")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("您好")).to_have_count(0)


def test_a_link_with_a_live_session_on_a_freshly_started_server_opens_inside_the_app(
        app_server, browser, session, org):
    """A restarted server, people pressing F5: the first run of a fresh server must go through the
    sign-in gate and menu (streamlit_app.py), not run the page file on its own (DESIGN pitfall)."""
    from dashboard.services.web_sessions import establish, open_web_session
    from tests.factories import make_case

    case = make_case(session, org, "gz")
    token = establish(session, open_web_session(session, org.person("gd_manager"), "zh").ticket)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies([{"name": COOKIE, "value": token, "url": app_server, "httpOnly": True,
                          "sameSite": "Strict"}])
    page = context.new_page()
    page.goto(f"{app_server}/case_detail?case_no={case.case_no}")  # this server's first visitor
    expect(page.get_by_text(f"案件 {case.case_no}")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="退出登录")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("link", name="超时跟踪")).to_be_visible(timeout=TIMEOUT)


# ---------------------------------------------------------------- no page ever shows a traceback (issue 26)

def test_an_unexpected_error_shows_a_reference_never_a_traceback_and_the_log_holds_both(
        app_server, browser, owner_session, org):
    session = owner_session  # renaming a table is the owner's to do (migration 0027)
    import re

    from sqlalchemy import text

    context, page = _signed_in(browser, app_server)

    seen: set[str] = set()

    def shown_reference() -> str:
        """The reference of the message that has just appeared (a failed run may leave the last one)."""
        for _ in range(TIMEOUT // 100):
            new = set(re.findall(r"错误编号 (E\d{8}-[0-9A-F]{6})", page.content())) - seen
            if new:
                break
            page.wait_for_timeout(100)
        wait_until_idle(page)
        content = page.content()
        for leak in ("Traceback", "UndefinedTable", "_gone", "Ask Google", "Ask ChatGPT", "redacted"):
            assert leak not in content, leak
        expect(page.get_by_test_id("stException")).to_have_count(0)
        [reference] = new
        seen.add(reference)
        return reference

    # A page run that fails: the overdue list's table has gone. The tracker is opened first and
    # left to settle, so that whichever run meets the missing table is the tracker's (a late
    # rerun of the landing page after signing in met it once, on a loaded machine).
    page.get_by_role("link", name="超时跟踪").click()
    expect(page.get_by_role("heading", name="超时跟踪")).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(page)
    session.execute(text("ALTER TABLE deadline RENAME TO deadline_gone"))
    session.commit()
    page.get_by_role("link", name="超时跟踪").click()
    in_page = shown_reference()
    screenshot(page, "unexpected_error_page_run")
    session.execute(text("ALTER TABLE deadline_gone RENAME TO deadline"))
    # A button's callback that fails: signing out cannot reach the session table.
    session.execute(text("ALTER TABLE web_session RENAME TO web_session_gone"))
    session.commit()
    page.get_by_role("button", name="退出登录").click()
    in_callback = shown_reference()
    assert in_callback != in_page
    screenshot(page, "unexpected_error_callback")
    session.execute(text("ALTER TABLE web_session_gone RENAME TO web_session"))
    session.commit()

    log = app_server.log.read_text(errors="replace")
    for reference, where in ((in_page, "pages/overdue.py"), (in_callback, "in sign_out")):
        entry = log[log.index(f"unexpected error {reference}"):]
        assert "Traceback" in entry.split("unexpected error", 2)[1] and where in entry, (reference, entry[:3000])


# ---------------------------------------------------------------- English mode and a phone (issue 27)

def test_english_chosen_on_the_sign_in_page_titles_the_browser_tab_and_survives_a_reload(app_server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(app_server + "/")
    expect(page.get_by_label("用户名")).to_be_visible(timeout=TIMEOUT)
    assert page.title() == "理赔案件分级管理"
    page.get_by_test_id("stSelectbox").filter(has_text="语言 / Language").click()
    page.get_by_role("option", name="English").click()
    expect(page.get_by_label("User name")).to_be_visible(timeout=TIMEOUT)
    expect(page).to_have_title("Tiered Claim Case Management", timeout=TIMEOUT)
    screenshot(page, "sign_in_english")
    page.get_by_label("User name").fill("gd_manager")
    page.get_by_label("Password", exact=True).fill("demo1234")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Hello")).to_be_visible(timeout=TIMEOUT)
    _session_cookie(page.context, page)
    page.reload()
    expect(page.get_by_text("Hello")).to_be_visible(timeout=TIMEOUT)
    expect(page).to_have_title("Tiered Claim Case Management", timeout=TIMEOUT)


def test_on_a_phone_the_menu_closes_after_choosing_a_page(app_server, browser):
    context, page = _signed_in(browser, app_server, viewport={"width": 390, "height": 844},
                               is_mobile=True, has_touch=True)
    menu = page.get_by_test_id("stSidebar")
    page.get_by_test_id("stExpandSidebarButton").click()
    expect(menu).to_have_attribute("data-collapsed", "false", timeout=TIMEOUT)
    menu.get_by_role("link", name="超时跟踪").click()
    expect(page.get_by_role("heading", name="超时跟踪")).to_be_visible(timeout=TIMEOUT)
    expect(menu).to_have_attribute("data-collapsed", "true", timeout=TIMEOUT)
    wait_until_idle(page)
    screenshot(page, "phone_menu_closed_after_choice")
