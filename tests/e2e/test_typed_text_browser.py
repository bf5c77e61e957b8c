"""Typed text is shown as text in a real browser (issue 18): an opinion point carrying an <img onerror>
and a Markdown link, an answer carrying a <script>, a send-back reason and a case's address and
description carrying the same kind of thing read as typed, for the HQ reviewer and for the branch
manager; nothing runs, no image is drawn, no link is made."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.review.opinions import answer_points, decide_point, post_review_opinion
from dashboard.services.review.queue import queue_tiered_cases
from db.models import OpinionPoint
from tests.e2e.conftest import screenshot, sign_in, wait_until_idle
from tests.factories import make_case

TIMEOUT = 30_000
POINT = '<img src=x onerror="window.__xss=1"> 请核实 [点我](http://evil.example)'
ANSWER = "<script>window.__xss=2</script> 已核实，见 [附件](http://evil.example)"
REASON = "**请补充** <img src=x onerror=\"window.__xss=3\"> [材料](http://evil.example)"
ADDRESS = "天河路<b>100</b>号 [地图](http://evil.example)"
DESCRIPTION = '<img src=x onerror="window.__xss=4">追尾，**无人伤亡**'
PLAIN_POINT = "补充交警事故认定书"


def _open(page, key: str) -> None:
    page.locator(f'a[href="{key}"]').first.click()


def _shown_text(page) -> str:
    """The page's text as a reader sees it (the invisible word joiners that keep an address from
    becoming a link are not read)."""
    return page.get_by_test_id("stMain").inner_text().replace("\u2060", "")


def _assert_shown_as_text(page, *typed: str) -> None:
    wait_until_idle(page)
    assert page.evaluate("typeof window.__xss") == "undefined"  # no handler ran
    assert page.locator('img[src="x"]').count() == 0  # no image drawn
    assert page.locator('a[href^="http://evil.example"]').count() == 0  # no link made
    assert not page.evaluate("[...document.scripts].some(s => s.textContent.includes('__xss'))")
    assert page.locator("b", has_text="100").count() == 0
    for bold in ("请补充", "无人伤亡"):  # ** typed is not bold
        assert page.locator("strong", has_text=bold).count() == 0
    shown = _shown_text(page)
    for text in typed:  # and every text reads as it was typed
        assert text in shown, (text, shown[-2000:])


def test_typed_html_and_markdown_read_as_typed_for_reviewer_and_manager(app_server, browser, session, org,
                                                                         actor_for):
    case = make_case(session, org, "gz", address=ADDRESS, description=DESCRIPTION)
    record_estimate(session, actor_for("callcenter"), case.id, "260000")
    queue_tiered_cases(session)
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, [POINT, PLAIN_POINT])
    first = session.scalars(select(OpinionPoint).where(OpinionPoint.opinion_id == opinion_id)
                            .order_by(OpinionPoint.seq)).first()
    assert first.body == POINT  # stored as typed: only the page changes how it is drawn
    answer_points(session, actor_for("gd_manager"), {first.id: ANSWER})
    session.refresh(first)
    decide_point(session, actor_for("reviewer"), first.id, "sent_back", REASON, expected_version=first.version)
    session.commit()

    reviewer = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(reviewer, app_server, "reviewer")
    expect(reviewer.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    _open(reviewer, "hq_review")
    reviewer.get_by_role("combobox", name="初审状态").click()
    reviewer.get_by_role("option", name="已初审").click()
    wait_until_idle(reviewer)
    reviewer.get_by_role("combobox", name="选择案件").click()
    reviewer.get_by_role("option", name=case.case_no).first.click()
    expect(reviewer.get_by_text(PLAIN_POINT).first).to_be_visible(timeout=TIMEOUT)
    screenshot(reviewer, "typed_text_1_reviewer")
    _assert_shown_as_text(reviewer, POINT, ANSWER, REASON, ADDRESS, DESCRIPTION)

    manager = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(manager, app_server, "gd_manager")
    expect(manager.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    _open(manager, "branch_feedback")
    # The point sent back is open again: the manager lands on the opinion, every point and answer shown.
    expect(manager.get_by_label("第 1 条反馈")).to_be_visible(timeout=TIMEOUT)
    expect(manager.get_by_text(PLAIN_POINT).last).to_be_visible(timeout=TIMEOUT)
    screenshot(manager, "typed_text_2_manager")
    _assert_shown_as_text(manager, POINT, ANSWER, REASON)
