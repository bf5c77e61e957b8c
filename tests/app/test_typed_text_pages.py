"""What people type reaches the page's Markdown as text (issue 18), through the real app (AppTest):
every Markdown element that shows it holds it escaped (format.plain), never as a tag or a link.
The browser test (tests/e2e/test_typed_text_browser.py) checks what a browser draws of it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dashboard.services.review.opinions import answer_points, post_review_opinion
from dashboard.services.review.queue import queue_tiered_cases
from db.models import Opinion, OpinionPoint, ProgressNote
from tests.app.helpers import signed_in_app
from tests.review_support import tiered_case

IMAGE = '<img src=x onerror="window.__xss=1"> [点我](http://evil.example)'
SCRIPT = "<script>window.__xss=2</script> **加粗** [附件](http://evil.example)"


def _markdown_sources(at) -> str:
    """Every Markdown text the page sent to the browser (markdown, captions, messages, headings)."""
    parts = [e.value for kind in ("markdown", "caption", "subheader", "success", "info", "warning", "error")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def _assert_escaped(at, *typed_words: str) -> None:
    sources = _markdown_sources(at)
    assert "<img" not in sources and "<script" not in sources
    assert "](http://" not in sources and "http://" not in sources  # no link, not even a bare address
    assert "&lt;img src=x onerror=" in sources or "&lt;script&gt;" in sources
    for word in typed_words:
        assert word in sources, word


def test_opinion_points_and_answers_reach_the_review_pages_escaped(db_url, session, org, actor_for, now):
    case = tiered_case(session, org, "gz", at=now - timedelta(hours=3), description=SCRIPT, address=IMAGE)
    queue_tiered_cases(session, now)
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, [IMAGE, "补充交警事故认定书"])
    point = session.scalars(select(OpinionPoint).where(OpinionPoint.opinion_id == opinion_id)
                            .order_by(OpinionPoint.seq)).first()
    answer_points(session, actor_for("gd_manager"), {point.id: SCRIPT})
    session.commit()

    at = signed_in_app(db_url, "reviewer", "hq_review")
    at.selectbox(key="hq_status").set_value("all").run()
    at.selectbox(key="hq_case").set_value(case.id).run()
    assert not at.exception, at.exception
    _assert_escaped(at, "\\[点我\\]", "\\*\\*加粗\\*\\*", "补充交警事故认定书")

    manager = signed_in_app(db_url, "gd_manager", "branch_feedback")
    assert not manager.exception, manager.exception
    _assert_escaped(manager, "\\[点我\\]", "\\*\\*加粗\\*\\*", "补充交警事故认定书")


def test_supervision_opinions_and_progress_notes_reach_the_thread_escaped(db_url, session, org, now):
    case = tiered_case(session, org, "gz", at=now - timedelta(hours=3))
    at = signed_in_app(db_url, "supervisor", "supervision")
    at.selectbox(key="sup_case").set_value(case.id).run()
    at.text_area(key="sup_body").input(IMAGE).run()
    at.button(key="sup_post").click().run()
    assert not at.exception, at.exception
    assert session.scalar(select(OpinionPoint.body).join(Opinion).where(Opinion.case_id == case.id,
                                                                          Opinion.kind == "supervision")) == IMAGE

    fr = signed_in_app(db_url, "gz_claims", "supervision")
    fr.selectbox(key="sup_case").set_value(case.id).run()
    fr.text_area(key="sup_progress").input(SCRIPT)
    fr.button(key="sup_progress_post").click().run()
    assert not fr.exception, fr.exception
    assert session.scalar(select(ProgressNote.body).where(ProgressNote.case_id == case.id)) == SCRIPT
    _assert_escaped(fr, "\\[点我\\]", "\\*\\*加粗\\*\\*")

    tracker = signed_in_app(db_url, "gd_tracker", "branch_feedback")
    tracker.selectbox(key="fb_reg_case").set_value(case.id).run()
    assert not tracker.exception, tracker.exception
    _assert_escaped(tracker, "\\[点我\\]", "\\*\\*加粗\\*\\*")
