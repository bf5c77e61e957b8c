"""The database stops while people work (issue 18, "nothing lost"): in a real browser, every tab
says so in Chinese, never with a traceback or an error reference, keeps what was typed, and comes
back by itself once the database is back, without a click.

The dashboard runs against a private PostgreSQL server of this test's own (tests/private_postgres),
which the test stops and starts; the shared test server is never touched.
"""
from __future__ import annotations


from playwright.sync_api import expect
from sqlalchemy import func, select

from db.models import ClaimCase
from tests.e2e.conftest import screenshot, sign_in, wait_until_idle
from tests.factories import make_case
from tests.private_postgres import (  # noqa: F401 - the two fixtures
    PrivateCluster, cluster_fixture, db_url_fixture, wait_until_accepting,
)

TIMEOUT = 30_000
NOTICE = "数据库暂时无法连接，正在自动重试……"
KEPT_HINT = "已填写但尚未保存的内容不会丢失"
UNEXPECTED = "错误编号"  # the unexpected-error message's reference (error.unexpected)




def _page_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def test_pages_wait_for_a_stopped_database_and_come_back_by_themselves(cluster, db_url, session, org, app_server,
                                                                       browser):
    case_no = make_case(session, org, "gz").case_no
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    # Tab 1: a form half filled in on the case detail page.
    form_tab = context.new_page()
    sign_in(form_tab, app_server, "gd_manager")
    expect(form_tab.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    # Tab 2: the home page of the same signed-in person (the session cookie opens it).
    home_tab = context.new_page()
    home_tab.goto(app_server + "/")
    expect(home_tab.get_by_role("button", name="退出登录")).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(home_tab)
    form_tab.goto(app_server + "/case_detail")
    case_no_field = form_tab.get_by_label("报案号")
    expect(case_no_field).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(form_tab)
    case_no_field.fill(case_no)
    # Tab 4: another person (the call centre) half way through registering a case, a form whose
    # submit writes in a callback.
    intake_tab = browser.new_context(viewport={"width": 1500, "height": 1200}).new_page()
    sign_in(intake_tab, app_server, "callcenter")
    expect(intake_tab.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    intake_tab.get_by_role("link", name="报案登记").click()
    expect(intake_tab.get_by_text("报案信息")).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(intake_tab)
    intake_tab.get_by_label("报案号", exact=True).first.fill("BA-OUTAGE-0001")
    intake_tab.get_by_label("报案人", exact=True).fill("停库测试人")
    intake_tab.get_by_label("案情描述").fill("数据库停止时填写的案情，恢复后应仍在。")
    intake_tab.get_by_text("单保交强险").click()

    cluster.stop()  # outage 1 of 1

    # A form submitted: the page run finds no database.
    form_tab.get_by_role("button", name="查询").click()
    expect(form_tab.get_by_text(NOTICE)).to_be_visible(timeout=TIMEOUT)
    expect(form_tab.get_by_text(KEPT_HINT)).to_be_visible()
    # A button whose callback writes (sign-out): the callback finds no database.
    home_tab.get_by_role("button", name="退出登录").click()
    expect(home_tab.get_by_text(NOTICE)).to_be_visible(timeout=TIMEOUT)
    intake_tab.get_by_role("button", name="登记案件").click()
    expect(intake_tab.get_by_text(NOTICE)).to_be_visible(timeout=TIMEOUT)
    # A tab opened (or reloaded) while the database is down.
    fresh_tab = context.new_page()
    fresh_tab.goto(app_server + "/case_detail")
    expect(fresh_tab.get_by_text(NOTICE)).to_be_visible(timeout=TIMEOUT)
    # Still waiting after a few tries: the notice stays, counting the tries, with no error anywhere.
    expect(form_tab.get_by_text("已自动重试 2 次")).to_be_visible(timeout=TIMEOUT)
    screenshot(form_tab, "database_unavailable_notice")
    for tab in (form_tab, home_tab, fresh_tab, intake_tab):
        shown = _page_text(tab)
        assert "Traceback" not in shown and UNEXPECTED not in shown and "OperationalError" not in shown, shown
        expect(tab.get_by_test_id("stException")).to_have_count(0)

    cluster.start()
    wait_until_accepting(db_url)

    # No click from here on: each tab comes back by itself.
    expect(form_tab.get_by_text(NOTICE)).to_have_count(0, timeout=TIMEOUT)
    expect(form_tab.get_by_label("报案号")).to_have_value(case_no, timeout=TIMEOUT)  # nothing typed lost
    expect(form_tab.get_by_role("button", name="退出登录")).to_be_visible(timeout=TIMEOUT)  # still signed in
    expect(home_tab.get_by_text(NOTICE)).to_have_count(0, timeout=TIMEOUT)
    # The sign-out that failed did not happen: the person is still signed in, and may press it again.
    expect(home_tab.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    expect(home_tab.get_by_role("button", name="退出登录")).to_be_visible(timeout=TIMEOUT)
    expect(fresh_tab.get_by_text(NOTICE)).to_have_count(0, timeout=TIMEOUT)
    expect(fresh_tab.get_by_label("报案号")).to_be_visible(timeout=TIMEOUT)  # the page it was opened at
    expect(fresh_tab.get_by_role("button", name="退出登录")).to_be_visible(timeout=TIMEOUT)

    # The half registered case: every field as typed, nothing registered, no error shown.
    expect(intake_tab.get_by_text(NOTICE)).to_have_count(0, timeout=TIMEOUT)
    expect(intake_tab.get_by_label("报案号", exact=True).first).to_have_value("BA-OUTAGE-0001", timeout=TIMEOUT)
    expect(intake_tab.get_by_label("报案人", exact=True)).to_have_value("停库测试人")
    expect(intake_tab.get_by_label("案情描述")).to_have_value("数据库停止时填写的案情，恢复后应仍在。")
    expect(intake_tab.get_by_role("checkbox", name="单保交强险")).to_be_checked()
    wait_until_idle(intake_tab)
    assert UNEXPECTED not in _page_text(intake_tab)
    expect(intake_tab.get_by_test_id("stException")).to_have_count(0)
    session.rollback()  # its connection died with the server: the pool gives it a new one
    assert session.scalar(select(func.count()).where(ClaimCase.case_no == "BA-OUTAGE-0001")) == 0

    # The recovered page works: the kept case number, submitted again, opens the case.
    wait_until_idle(form_tab)
    form_tab.get_by_role("button", name="查询").click()
    expect(form_tab.get_by_text(f"案件 {case_no}")).to_be_visible(timeout=TIMEOUT)
    # The administrator's log: one line per tab that met the outage, one when it saw the database again.
    log = app_server.log.read_text(errors="replace")
    assert log.count("database unavailable, the page waits and retries") == 4, log[-3000:]
    assert log.count("database reachable again") == 4, log[-3000:]
