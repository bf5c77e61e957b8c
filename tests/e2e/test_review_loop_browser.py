"""The review loop across two signed-in people in a real browser: the HQ reviewer posts an opinion,
the branch manager answers each point, the reviewer accepts (分级管理办法 第四章 一.2, 一.5)."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.review.queue import queue_tiered_cases
from db.models import OpinionPoint, PointAnswer
from tests.e2e.conftest import screenshot, settle, sign_in, wait_for_db, wait_until_idle
from tests.factories import make_case

TIMEOUT = 30_000


def _open(page, base: str, key: str) -> None:
    page.locator(f'a[href="{key}"]').first.click()


def test_opinion_answered_point_by_point_then_accepted(app_server, browser, session, org, actor_for):
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, "260000")
    queue_tiered_cases(session)
    session.commit()

    reviewer = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(reviewer, app_server, "reviewer")
    expect(reviewer.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    _open(reviewer, app_server, "hq_review")
    reviewer.get_by_role("combobox", name="选择案件").click()
    reviewer.get_by_role("option", name=case.case_no).first.click()
    points = reviewer.get_by_label("审核意见（每行一条")
    expect(points).to_be_visible(timeout=TIMEOUT)
    points.fill("1. 核实驾驶员是否酒驾\n2. 补充交警事故认定书")
    reviewer.get_by_role("button", name="发布意见").click()
    expect(reviewer.get_by_text("核实驾驶员是否酒驾")).to_be_visible(timeout=TIMEOUT)
    screenshot(reviewer, "review_loop_1_posted")

    manager = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(manager, app_server, "gd_manager")
    expect(manager.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    _open(manager, app_server, "branch_feedback")
    expect(manager.get_by_label("第 1 条反馈")).to_be_visible(timeout=TIMEOUT)
    manager.get_by_label("第 1 条反馈").fill("已调取酒精检测记录，驾驶员未饮酒。")
    manager.get_by_label("第 2 条反馈").fill("事故认定书已上传，对方全责。")
    manager.get_by_role("button", name="提交反馈").click()
    answers = wait_for_db(lambda: session.scalars(select(PointAnswer.body).order_by(PointAnswer.id)).all(), session)
    screenshot(manager, "review_loop_2_answered")
    assert answers == ["已调取酒精检测记录，驾驶员未饮酒。", "事故认定书已上传，对方全责。"]

    reviewer.reload()  # a reload keeps the reviewer signed in (the session cookie)
    expect(reviewer.get_by_role("link", name="总公司案件初审")).to_be_visible(timeout=TIMEOUT)
    expect(reviewer.get_by_label("用户名")).to_have_count(0)
    _open(reviewer, app_server, "hq_review")
    # the case has had its initial review: it moved from 待初审 to 已初审
    reviewer.get_by_role("combobox", name="初审状态").click()
    reviewer.get_by_role("option", name="已初审").click()
    reviewer.get_by_role("combobox", name="选择案件").click()
    reviewer.get_by_role("option", name=case.case_no).first.click()
    decide = reviewer.get_by_role("button", name="提交审核结论")
    expect(decide.first).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(reviewer)
    decide.first.click()  # no verdict chosen yet: nothing is decided
    expect(reviewer.get_by_text("请选择“通过”或“退回”").first).to_be_visible(timeout=TIMEOUT)
    reviewer.get_by_text("通过", exact=True).first.click()
    # The choice's rerun ends before the button is pressed: waiting only for the running status
    # could pass before the rerun had shown it, and the click then landed on a button being drawn
    # again (CI's two workers: the point stayed undecided).
    expect(reviewer.get_by_role("radio", name="通过").first).to_be_checked()
    settle(reviewer)
    decide.first.click()
    expect(reviewer.get_by_role("button", name="提交审核结论")).to_have_count(1, timeout=TIMEOUT)
    screenshot(reviewer, "review_loop_3_accepted")
    statuses = wait_for_db(lambda: session.scalars(select(OpinionPoint.status).order_by(OpinionPoint.seq)).all(),
                         session, until=lambda v: "accepted" in v)
    assert statuses == ["accepted", "answered"]
