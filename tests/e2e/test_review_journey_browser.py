"""The whole review journey at a real branch's volume, two people in two browsers (issue 26).

The branch already holds 60 open HQ opinions when the reviewer posts a new three-point one; the
manager finds it by its case number, answers every point; the reviewer accepts one, sends one back
with a reason and accepts the third; the manager answers the sent-back point again and the reviewer
accepts it. The answers land on the new case's points and nowhere else, and the case timeline
shows each step once. (With 50 older opinions the answer form used to offer only the oldest.)
"""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import func, select

from dashboard import clock
from dashboard.services.cases.detail import case_detail
from dashboard.services.review.opinions import post_review_opinion
from dashboard.services.review.queue import queue_tiered_cases
from dashboard.ui.case_timeline import describe
from db.models import Opinion, OpinionPoint, PointAnswer, PointVerdict
from tests.e2e.conftest import choose as _choose
from tests.e2e.conftest import screenshot, sign_in, wait_for_db, wait_until_idle
from tests.e2e.conftest import settle as _settle
from tests.review_support import tiered_case

TIMEOUT = 30_000
POINTS = ["核实驾驶员是否酒驾", "补充交警事故认定书", "说明估损金额依据"]



def _open(page, key: str) -> None:
    page.locator(f'a[href="{key}"]').first.click()
    wait_until_idle(page)


def _pick_case(reviewer, case_no: str, status: str) -> None:
    _choose(reviewer, "初审状态", status)
    _choose(reviewer, "选择案件", case_no)


def _decide(reviewer, point_id: int, verdict: str, reason: str = "") -> None:
    """Choose the verdict of one point (the radio group of that point), submit it, and see it taken:
    the point's verdict controls go once it is decided."""
    reviewer.locator(f".st-key-verdict_{point_id}").get_by_text(verdict, exact=True).click()
    _settle(reviewer)
    if reason:
        box = reviewer.locator(f".st-key-reason_{point_id} input")
        box.fill(reason)
        box.press("Tab")
        _settle(reviewer)
    reviewer.locator(f".st-key-decide_{point_id} button").click()
    expect(reviewer.locator(f".st-key-decide_{point_id}")).to_have_count(0, timeout=TIMEOUT)
    _settle(reviewer)


def _find_in_inbox(manager, case_no: str) -> None:
    box = manager.get_by_label("报案号包含")
    box.fill(case_no)
    box.press("Enter")
    wait_until_idle(manager)
    expect(manager.get_by_text(f"案件 {case_no}").first).to_be_visible(timeout=TIMEOUT)
    _settle(manager)  # the previous opinion's form goes when the run ends


def _manager_answers(manager, case_no: str, answers: dict[int, str]) -> None:
    _find_in_inbox(manager, case_no)
    # Quickly, box after box: leaving a box reruns the page while the next one is being typed in,
    # and that rerun used to wipe the box being typed in (the answer was silently not sent).
    for seq, text in answers.items():
        manager.get_by_label(f"第 {seq} 条反馈").fill(text)
    manager.get_by_label(f"第 {max(answers)} 条反馈").press("Tab")
    manager.wait_for_timeout(300)
    wait_until_idle(manager)
    # A look at the register and back: what was typed is still there.
    manager.get_by_role("tab", name="分级案件登记簿").click()
    _settle(manager)
    manager.get_by_role("tab", name="意见收件箱").click()
    _settle(manager)
    for seq, text in answers.items():
        expect(manager.get_by_label(f"第 {seq} 条反馈")).to_have_value(text)
    manager.get_by_role("button", name="提交反馈").click()
    wait_until_idle(manager)


def test_a_new_opinion_on_a_busy_branch_goes_round_the_loop_in_two_browsers(app_server, browser, session, org,
                                                                            actor_for):
    now = clock.now()
    reviewer_actor = actor_for("reviewer")
    for n in range(60):
        older = tiered_case(session, org, "gz" if n % 2 else "sz", at=now - timedelta(days=3, hours=n))
        post_review_opinion(session, reviewer_actor, older.id, [f"核实第 {n} 号事项"], now=now - timedelta(days=2, hours=n))
    case = tiered_case(session, org, "gz", amount="260000", at=now - timedelta(hours=3))
    queue_tiered_cases(session, now)
    session.commit()

    reviewer = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(reviewer, app_server, "reviewer")
    expect(reviewer.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    _open(reviewer, "hq_review")
    _pick_case(reviewer, case.case_no, "待初审")
    reviewer.get_by_label("审核意见（每行一条").fill("\n".join(f"{i}. {p}" for i, p in enumerate(POINTS, 1)))
    reviewer.get_by_role("button", name="发布意见").click()
    expect(reviewer.get_by_text(POINTS[2]).first).to_be_visible(timeout=TIMEOUT)
    opinion_id = wait_for_db(lambda: session.scalar(select(Opinion.id).where(Opinion.case_id == case.id)), session)
    points = session.scalars(select(OpinionPoint).where(OpinionPoint.opinion_id == opinion_id)
                             .order_by(OpinionPoint.seq)).all()
    assert [p.body for p in points] == POINTS

    manager = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(manager, app_server, "gd_manager")
    expect(manager.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    _open(manager, "branch_feedback")
    _manager_answers(manager, case.case_no, {1: "驾驶员酒精检测为阴性。", 2: "事故认定书已上传。", 3: "按维修厂报价单估损。"})
    screenshot(manager, "review_journey_1_answered")
    answered = wait_for_db(lambda: session.scalars(
        select(PointAnswer.point_id).join(OpinionPoint, OpinionPoint.id == PointAnswer.point_id)
        .where(OpinionPoint.opinion_id == opinion_id)).all(), session, until=lambda v: len(v) == 3)
    assert sorted(answered) == [p.id for p in points]
    # Nothing landed on any of the 60 older opinions.
    assert session.scalar(select(func.count()).select_from(PointAnswer)) == 3

    reviewer.reload()
    expect(reviewer.get_by_role("link", name="总公司案件初审")).to_be_visible(timeout=TIMEOUT)
    _open(reviewer, "hq_review")
    _pick_case(reviewer, case.case_no, "已初审")
    _decide(reviewer, points[0].id, "通过")
    _decide(reviewer, points[1].id, "退回", reason="认定书缺少交警盖章页，请补传。")
    _decide(reviewer, points[2].id, "通过")
    screenshot(reviewer, "review_journey_2_decided")
    statuses = wait_for_db(lambda: session.scalars(select(OpinionPoint.status).where(
        OpinionPoint.opinion_id == opinion_id).order_by(OpinionPoint.seq)).all(), session,
        until=lambda v: v == ["accepted", "sent_back", "accepted"])
    assert statuses == ["accepted", "sent_back", "accepted"]
    screenshot(reviewer, "review_journey_2_decided")

    manager.reload()
    expect(manager.get_by_role("link", name="分公司意见反馈").first).to_be_visible(timeout=TIMEOUT)
    _open(manager, "branch_feedback")
    _find_in_inbox(manager, case.case_no)
    expect(manager.locator("[data-testid='stMarkdown']", has_text="认定书缺少交警盖章页").first
           ).to_be_visible(timeout=TIMEOUT)
    expect(manager.get_by_label("第 1 条反馈")).to_have_count(0)  # only the sent-back point is open
    _manager_answers(manager, case.case_no, {2: "已补传带交警盖章页的认定书。"})
    wait_for_db(lambda: session.scalar(select(func.count()).select_from(PointAnswer)), session, until=lambda v: v == 4)

    reviewer.reload()
    _open(reviewer, "hq_review")
    _pick_case(reviewer, case.case_no, "已初审")
    _decide(reviewer, points[1].id, "通过")
    statuses = wait_for_db(lambda: session.scalars(select(OpinionPoint.status).where(
        OpinionPoint.opinion_id == opinion_id).order_by(OpinionPoint.seq)).all(), session,
        until=lambda v: v == ["accepted"] * 3)
    assert statuses == ["accepted"] * 3
    verdicts = session.scalars(select(PointVerdict.verdict).join(OpinionPoint, OpinionPoint.id == PointVerdict.point_id)
                               .where(OpinionPoint.opinion_id == opinion_id).order_by(PointVerdict.id)).all()
    assert verdicts == ["accepted", "sent_back", "accepted", "accepted"]

    # The case timeline, as the reviewer opens it: each step once (the page draws these entries).
    reviewer.goto(f"{app_server}/case_detail?case_no={case.case_no}")
    expect(reviewer.get_by_text(case.case_no).first).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(reviewer)
    screenshot(reviewer, "review_journey_3_timeline")
    session.rollback()
    timeline = case_detail(session, reviewer_actor, case.id).timeline
    kinds = [e.kind for e in timeline]
    assert kinds.count("opinion") == 1
    assert sorted(e.details["seq"] for e in timeline if e.kind == "answer") == [1, 2, 2, 3]
    assert [(e.kind, e.details["seq"]) for e in timeline if e.kind == "verdict"] == [
        ("verdict", 1), ("verdict", 2), ("verdict", 3), ("verdict", 2)]
    met = [describe(e) for e in timeline if e.kind == "deadline_met" and e.details.get("deadline") == "D5"]
    assert len(met) == len(set(met)) == 4  # each D5 line names its point and round
