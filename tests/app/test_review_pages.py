"""HQ review, branch feedback, supervision and weekly summary pages through the real app (AppTest)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.services.review.opinions import post_review_opinion
from dashboard.services.review.queue import queue_tiered_cases
from dashboard.services.review.weekly import build_weekly_summaries
from db.models import Opinion, OpinionPoint, PointAnswer, ProgressNote, WeeklySummary
from dashboard.ui.tones import AMBER, FILLS, RED
from tests.app.helpers import cell_fills, shown_frame, signed_in_app
from tests.review_support import tiered_case

def _frame(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.subheader]
    return "\n".join(str(p) for p in parts)


def _review_queue_page(db_url, session, now):
    """HQ's review page as the reviewer opens it, after the day's tiered cases were queued."""
    queue_tiered_cases(session, now)
    session.commit()
    at = signed_in_app(db_url, "reviewer", "hq_review")
    assert not at.exception, at.exception
    return at


def test_reviewer_posts_an_opinion_from_the_queue_and_judges_an_answer(db_url, session, org, actor_for, now):
    case = tiered_case(session, org, "gz", at=now - timedelta(hours=3))
    at = _review_queue_page(db_url, session, now)
    queue = _frame(at, "初审时限")
    assert case.case_no in list(queue["报案号"])
    at.selectbox(key="hq_case").set_value(case.id).run()
    assert any(case.case_no in s.value for s in at.subheader)
    at.text_area(key="hq_points").input("1. 核实驾驶员身份\n2. 调取事故现场监控").run()
    at.button(key="hq_post").click().run()
    assert not at.exception, at.exception
    assert any(f"已就案件 {case.case_no} 发布 2 条意见" in s.value for s in at.success)
    points = session.scalars(select(OpinionPoint).join(Opinion).where(Opinion.case_id == case.id)
                             .order_by(OpinionPoint.seq)).all()
    assert [p.body for p in points] == ["核实驾驶员身份", "调取事故现场监控"]
    assert "核实驾驶员身份" in _texts(at)

    # The branch answers point 1 (through the service); the reviewer sends it back with a reason.
    from dashboard.services.review.opinions import answer_points

    answer_points(session, actor_for("gd_manager"), {points[0].id: "驾驶员系被保险人本人，已核对驾驶证。"})
    at.run()
    # 待审核反馈 lists the case the branch just answered (the reviewer's way to the answers).
    at.selectbox(key="hq_status").set_value("answered").run()
    assert not at.exception, at.exception
    assert list(_frame(at, "初审时限")["报案号"]) == [case.case_no]
    at.radio(key=f"verdict_{points[0].id}").set_value("sent_back")
    at.text_input(key=f"reason_{points[0].id}").input("请上传驾驶证照片")
    at.button(key=f"decide_{points[0].id}").click().run()
    assert not at.exception, at.exception
    session.expire_all()
    assert session.get(OpinionPoint, points[0].id).status == "sent_back"


def test_the_queues_tick_marks_the_case_shown_not_the_row_that_moved_under_it(db_url, session, org, now):
    """Walk: a case clicked in the queue left it once reviewed, and the tick sat on the next case
    while the page below still showed the reviewed one."""
    first = tiered_case(session, org, "gz", at=now - timedelta(hours=5))
    second = tiered_case(session, org, "sz", at=now - timedelta(hours=4))
    at = _review_queue_page(db_url, session, now)
    listed = list(_frame(at, "初审时限")["报案号"])
    row = listed.index(first.case_no)
    at.session_state["hq_queue_table"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert at.selectbox(key="hq_case").value == first.id
    at.text_area(key="hq_points").input("核实驾驶员身份").run()
    at.button(key="hq_post").click().run()
    assert not at.exception, at.exception
    assert list(_frame(at, "初审时限")["报案号"]) == [second.case_no]  # the reviewed case left the queue
    assert at.selectbox(key="hq_case").value == first.id  # still shown below, with its opinion
    assert at.dataframe(key="hq_queue_table").value is not None
    assert at.session_state["hq_queue_table"]["selection"]["rows"] == []  # no tick on the other case
    at.selectbox(key="hq_case").set_value(second.id).run()  # chosen in the picker: its row is ticked
    assert at.session_state["hq_queue_table"]["selection"]["rows"] == [0]


def test_an_opinion_pasted_past_its_limit_stays_in_the_box_and_is_refused_with_its_length(
        db_url, session, org, now):
    """A reviewer pastes an opinion drafted elsewhere, longer than the 8,000 an opinion may hold:
    the box takes it (Streamlit's own limit refused the whole paste and left the box empty), says at
    once that it is over, and posting is refused; cut down, it posts."""
    case = tiered_case(session, org, "gz", at=now - timedelta(hours=3))
    at = _review_queue_page(db_url, session, now)
    at.selectbox(key="hq_case").set_value(case.id).run()
    draft = "1. 核实驾驶员身份\n2. " + "调取事故现场监控并核对报案时间。" * 530
    assert len(draft) > 8000
    at.text_area(key="hq_points").input(draft).run()
    assert at.text_area(key="hq_points").value == draft
    assert any(f"已输入 {len(draft):,} 字，超过上限 8,000 字" in c.value for c in at.caption), \
        [c.value for c in at.caption]
    at.button(key="hq_post").click().run()
    assert not at.exception, at.exception
    assert not session.scalars(select(Opinion).where(Opinion.case_id == case.id)).all()
    assert any("整条审核意见最多 8000 字" in e.value for e in at.error), [e.value for e in at.error]
    assert at.text_area(key="hq_points").value == draft
    at.text_area(key="hq_points").input("1. 核实驾驶员身份\n2. 调取事故现场监控").run()
    assert not any("超过上限" in c.value for c in at.caption)
    at.button(key="hq_post").click().run()
    assert any(f"已就案件 {case.case_no} 发布 2 条意见" in s.value for s in at.success)


def test_the_queue_says_why_a_large_compulsory_only_case_is_level_one(db_url, session, org, now):
    """单保交强险 is 一级 whatever the amount over 50,000 (docs/DOMAIN.md §3): a walk found
    ¥388,641 listed as 一级（5–12万） with no reason in HQ's queue, where the board gives one. The
    queue, the case menu and the case at a glance say it; an ordinary case shows its level alone."""
    compulsory = tiered_case(session, org, "gz", amount="258000", at=now - timedelta(hours=3), compulsory_only=True)
    ordinary = tiered_case(session, org, "gz", at=now - timedelta(hours=2))
    at = _review_queue_page(db_url, session, now)
    queue = _frame(at, "初审时限")
    level = dict(zip(queue["报案号"], queue["级别"]))
    assert level == {compulsory.case_no: "一级（5–12万）·单保交强险", ordinary.case_no: "一级（5–12万）"}
    menu = at.selectbox(key="hq_case")
    assert menu.format_func(compulsory.id).endswith("一级（5–12万）·单保交强险")
    menu.set_value(compulsory.id).run()
    assert "**一级（5–12万）·单保交强险**" in [m.value for m in at.markdown]
    at.selectbox(key="hq_case").set_value(ordinary.id).run()
    assert "**一级（5–12万）**" in [m.value for m in at.markdown]


def test_posting_an_empty_opinion_shows_the_reason(db_url, session, org, now):
    case = tiered_case(session, org, "gz", at=now - timedelta(hours=3))
    at = _review_queue_page(db_url, session, now)
    at.selectbox(key="hq_case").set_value(case.id).run()
    at.button(key="hq_post").click().run()
    assert any("请至少填写一条审核意见" in e.value for e in at.error)
    # Also as a toast: the button is at the bottom of the page, the inline message at the top.
    assert any("请至少填写一条审核意见" in str(toast.value) for toast in at.toast)


def test_branch_manager_answers_each_point_on_the_feedback_page(db_url, session, org, actor_for, now):
    case = tiered_case(session, org, "gz", at=now - timedelta(hours=3))
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, ["核实驾驶员身份", "调取监控"],
                                     now=now - timedelta(hours=2))
    p1, p2 = session.scalars(select(OpinionPoint).where(OpinionPoint.opinion_id == opinion_id)
                             .order_by(OpinionPoint.seq)).all()
    at = signed_in_app(db_url, "gd_manager", "branch_feedback")
    assert not at.exception, at.exception
    inbox = _frame(at, "意见内容")
    assert list(inbox["意见内容"]) == ["核实驾驶员身份", "调取监控"]
    # The same text on both points is refused, naming the point.
    at.text_area(key=f"answer_{p1.id}").input("已全部核实")
    at.text_area(key=f"answer_{p2.id}").input("已全部核实")
    at.button(key="fb_submit").click().run()
    assert any("每条意见需单独作答" in e.value for e in at.error)
    assert session.scalar(select(PointAnswer.id)) is None
    at.text_area(key=f"answer_{p1.id}").input("驾驶员系被保险人本人，已核对驾驶证原件。")
    at.text_area(key=f"answer_{p2.id}").input("已调取路口监控，追尾过程清晰。")
    at.button(key="fb_submit").click().run()
    assert not at.exception, at.exception
    assert any(f"已提交案件 {case.case_no} 的 2 条反馈" in s.value for s in at.success)
    session.expire_all()
    assert {p.status for p in session.scalars(select(OpinionPoint).where(OpinionPoint.opinion_id == opinion_id))} == {
        "answered"}
    # The opinion opened by itself (no row was clicked) stays open with what was sent, though it
    # left the list of open points: it had fallen back to "click a row" (walk).
    assert "已调取路口监控，追尾过程清晰。" in _texts(at)
    assert not any("在上方清单中点选一行" in c.value for c in at.caption)
    assert any("没有待反馈的要点，已反馈的等待总公司审核" in i.value for i in at.info)


def test_tracker_records_progress_in_the_register(db_url, session, org, now):
    case = tiered_case(session, org, "gz", at=now - timedelta(hours=3))
    at = signed_in_app(db_url, "gd_tracker", "branch_feedback")
    assert case.case_no in list(_frame(at, "进展记录")["报案号"])
    at.selectbox(key="fb_reg_case").set_value(case.id).run()
    at.text_area(key="fb_progress").input("客户已提交维修发票，待核损。")
    at.button(key="fb_progress_save").click().run()
    assert not at.exception, at.exception
    assert session.scalar(select(ProgressNote.body).where(ProgressNote.case_id == case.id)) == "客户已提交维修发票，待核损。"


def test_supervisor_writes_to_the_first_responsible_who_replies(db_url, session, org, now):
    case = tiered_case(session, org, "gz", at=now - timedelta(hours=3))
    at = signed_in_app(db_url, "supervisor", "supervision")
    assert not at.exception, at.exception
    at.selectbox(key="sup_case").set_value(case.id).run()
    at.text_area(key="sup_body").input("请今日到现场核实三者损失").run()
    at.button(key="sup_post").click().run()
    assert not at.exception, at.exception
    assert any("督导意见已发送" in s.value for s in at.success)

    fr = signed_in_app(db_url, "gz_claims", "supervision")
    fr.selectbox(key="sup_case").set_value(case.id).run()
    assert "请今日到现场核实三者损失" in _texts(fr)
    fr.text_area(key="sup_progress").input("已到现场，三者车损约2万元。")
    fr.button(key="sup_progress_post").click().run()
    assert not fr.exception, fr.exception
    note = session.scalars(select(ProgressNote).where(ProgressNote.case_id == case.id)).one()
    assert note.opinion_id is not None  # the reply defaults to the open supervision opinion


def test_admin_assigns_a_key_branch_on_the_supervision_page(db_url, session, org):
    at = signed_in_app(db_url, "admin", "supervision")
    at.selectbox(key="sup_admin_person").set_value(org.person("supervisor2"))
    at.selectbox(key="sup_admin_branch").set_value(org.branch("gd").id)
    at.button(key="sup_assign").click().run()
    assert not at.exception, at.exception
    assert any("已分配" in s.value for s in at.success)


def test_tracker_submits_this_weeks_summary(db_url, session, org, now):
    tiered_case(session, org, "gz", at=now - timedelta(hours=3))
    build_weekly_summaries(session, now)
    at = signed_in_app(db_url, "gd_tracker", "weekly_summary")
    assert not at.exception, at.exception
    this_week = session.scalars(select(WeeklySummary).where(WeeklySummary.branch_id == org.branch("gd").id)
                                .order_by(WeeklySummary.week_start.desc())).first()
    at.selectbox(key="wk_pick").set_value(this_week.id).run()
    assert "未决分级案件 1 件" in _texts(at)
    at.button(key="wk_submit").click().run()
    assert not at.exception, at.exception
    assert any("已按时上报" in s.value for s in at.success)
    session.expire_all()
    assert session.get(WeeklySummary, this_week.id).submitted_at is not None


@pytest.mark.moment("2026-12-02 10:00")  # a Wednesday: the week's summary is due on Friday at 17:00
def test_a_summary_behind_the_branchs_cases_says_so_and_is_sent_with_todays(db_url, session, org, now):
    tiered_case(session, org, "gz", at=now - timedelta(hours=5))
    build_weekly_summaries(session, now - timedelta(hours=4))
    for minutes in (30, 20):
        tiered_case(session, org, "sz", at=now - timedelta(minutes=minutes))
    this_week = session.scalars(select(WeeklySummary).where(WeeklySummary.branch_id == org.branch("gd").id)
                                .order_by(WeeklySummary.week_start.desc())).first()
    at = signed_in_app(db_url, "gd_tracker", "weekly_summary")
    at.selectbox(key="wk_pick").set_value(this_week.id).run()
    assert any("含 1 件" in w.value and "现有未决分级案件 3 件" in w.value for w in at.warning)
    at.button(key="wk_submit").click().run()
    assert not at.exception, at.exception
    assert any("已按时上报：未决分级案件 3 件" in s.value for s in at.success)
    session.expire_all()
    assert session.get(WeeklySummary, this_week.id).content["totals"]["cases"] == 3


def test_a_big_branchs_summary_shows_its_cases_fifty_a_page(db_url, session, org, now):
    for n in range(53):
        tiered_case(session, org, "gz" if n % 2 else "sz", at=now - timedelta(hours=3, minutes=n))
    build_weekly_summaries(session, now)
    this_week = session.scalars(select(WeeklySummary).where(WeeklySummary.branch_id == org.branch("gd").id)
                                .order_by(WeeklySummary.week_start.desc())).first()
    at = signed_in_app(db_url, "gd_tracker", "weekly_summary")
    at.selectbox(key="wk_pick").set_value(this_week.id).run()
    assert "未决分级案件 53 件" in _texts(at)
    first = at.dataframe[-1].value  # the chosen summary's cases (the list of summaries comes first)
    assert len(first) == 50
    at.number_input(key=f"wk_detail_page_{this_week.id}").set_value(2).run()
    assert not at.exception, at.exception
    second = at.dataframe[-1].value
    assert len(second) == 3
    assert set(first.iloc[:, 0]).isdisjoint(second.iloc[:, 0])  # 53 different cases over the two pages



from dashboard.ui.navigation import page_spec  # noqa: E402

ROLE_USER = {"hq_reviewer": "reviewer", "hq_admin": "admin", "branch_manager": "gd_manager",
             "branch_tracker": "gd_tracker", "exec_supervisor": "supervisor", "first_responsible": "gz_claims",
             "executive": "executive"}


@pytest.mark.parametrize("page, role", [(p, r) for p in ("hq_review", "branch_feedback", "supervision",
                                                         "weekly_summary")
                                        for r in sorted(page_spec(p).roles)])
def test_every_allowed_role_opens_the_page_with_a_case_chosen(db_url, session, org, actor_for, page, role, now):
    case = tiered_case(session, org, "gz", at=now - timedelta(hours=30))
    queue_tiered_cases(session, now)
    post_review_opinion(session, actor_for("reviewer"), case.id, ["核实驾驶员身份"], now=now - timedelta(hours=20))
    build_weekly_summaries(session, now)
    at = signed_in_app(db_url, ROLE_USER[role], page)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    pick = {"hq_review": "hq_case", "branch_feedback": "fb_reg_case", "supervision": "sup_case"}.get(page)
    if page == "branch_feedback" and role == "branch_manager":  # a manager lands in the inbox
        at.session_state["fb_tab"] = "分级案件登记簿"
        at.run()
    if pick:
        at.selectbox(key=pick).set_value(case.id).run()
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]


def test_review_pages_follow_the_chosen_language(db_url, session, org, actor_for, now):
    from dashboard.i18n import set_language

    case = tiered_case(session, org, "gz", at=now - timedelta(hours=30))
    queue_tiered_cases(session, now)
    post_review_opinion(session, actor_for("reviewer"), case.id, ["核实驾驶员身份"], now=now - timedelta(hours=20))
    at = signed_in_app(db_url, "reviewer")
    at.session_state["lang"] = "en"  # what the sidebar language box stores
    # AppTest formats selectbox values in the test's own thread: give it the page's language too.
    set_language("en")
    try:
        for page, title in (("hq_review", "HQ review"), ("weekly_summary", "Weekly summary"), ("hq_review", "HQ review")):
            at.switch_page(f"pages/{page}.py").run()
            assert not at.exception, at.exception
            assert [t.value for t in at.title] == [title]
        at.selectbox(key="hq_status").set_value("all").run()
        assert case.case_no in list(_frame(at, "Review due")["Case no."])
        at.selectbox(key="hq_case").set_value(case.id).run()
        assert not at.exception, at.exception
        assert "Awaiting answer" in _texts(at)
    finally:
        set_language("zh")



def test_a_summary_without_pending_cases_says_so_in_chinese(db_url, session, org, now):
    build_weekly_summaries(session, now)  # no cases at all: every branch's summary is empty
    session.commit()
    at = signed_in_app(db_url, "gd_tracker", "weekly_summary")
    assert not at.exception, at.exception
    assert "未决分级案件 0 件" in _texts(at)
    assert any("本周报没有未决分级案件" in c.value for c in at.caption)
    assert len(at.dataframe) == 1  # the list of summaries only: no empty case table ("empty")


@pytest.mark.moment("2026-12-03 10:00")
def test_the_queue_colours_time_left_red_when_late_and_amber_within_the_due_soon_window(
        db_url, session, org, actor_for, now):
    """DESIGN: red for overdue, amber for due soon, where "soon" is the administrator's setting.
    At 10:00, a case tiered at 07:00 has its D4 clock at the end of tomorrow, 38 h away: more than
    the 24 h window, less than 100 h. (Tiered after 21:00 the day before, it would be within 24 h.)"""
    from dashboard.services.admin.tier_admin import update_rule_settings

    late = tiered_case(session, org, "gz", at=now - timedelta(days=4))
    fresh = tiered_case(session, org, "sz", at=now - timedelta(hours=3))  # due at the end of tomorrow
    at = _review_queue_page(db_url, session, now)

    def fills() -> dict[str, str | None]:  # case number -> fill of its time left
        table = at.dataframe(key="hq_queue_table")
        return dict(zip(shown_frame(table)["报案号"], cell_fills(table, "剩余/超时")))

    assert fills()[late.case_no] == FILLS[RED]
    assert fills()[fresh.case_no] == FILLS[None]
    update_rule_settings(session, actor_for("admin"), {"deadline.due_soon_hours": 100})
    session.commit()
    at.run()
    assert not at.exception, at.exception
    assert fills() == {late.case_no: FILLS[RED], fresh.case_no: FILLS[AMBER]}


def test_feedback_opens_on_each_persons_own_work_and_reads_only_the_open_tab(db_url, session, org, actor_for, now):
    """A manager answers opinions (the inbox), a tracker keeps the register: each lands on theirs,
    and the register is not read until it is opened (a manager's inbox stays drawn behind it, so
    answers being typed are not lost)."""
    case = tiered_case(session, org, "gz", at=now - timedelta(hours=30))
    post_review_opinion(session, actor_for("reviewer"), case.id, ["核实驾驶员身份"], now=now - timedelta(hours=20))
    session.commit()
    manager = signed_in_app(db_url, "gd_manager", "branch_feedback")
    assert not manager.exception, manager.exception
    assert any(key == "fb_inbox_table" for key in _table_keys(manager))
    assert "fb_register_table" not in _table_keys(manager)
    manager.session_state["fb_tab"] = "分级案件登记簿"
    manager.run()
    assert sorted(_table_keys(manager)) == ["fb_inbox_table", "fb_register_table"]
    assert case.case_no in list(_frame(manager, "进展记录")["报案号"])
    tracker = signed_in_app(db_url, "gd_tracker", "branch_feedback")
    assert _table_keys(tracker) == ["fb_register_table"]


def _table_keys(at) -> list[str]:
    return [d.key for d in at.dataframe]


def test_the_queue_tier_filter_offers_an_approved_branch_sub_tier(db_url, session, org, actor_for, now):
    """Tier codes are rule data: a branch's approved sub-tier can be chosen (it was a fixed T1-T4)."""
    from dashboard.rules.tier_bands import BandInput
    from dashboard.services.admin.tier_admin import decide_branch_request, request_branch_subtiers

    at = signed_in_app(db_url, "reviewer", "hq_review")
    assert len(at.selectbox(key="hq_tier").options) == 5  # 全部 and the four national tiers
    assert not any("T1A" in option for option in at.selectbox(key="hq_tier").options)
    split = [BandInput("T1A", "50000", "80000", ["sub_claims_head"]),
             BandInput("T1B", "80000", "200000", ["sub_head"]),
             BandInput("T2", "200000", "500000", ["sub_head", "sub_finance_head"])]
    request = request_branch_subtiers(session, actor_for("zj_manager"), org.branch("zj").id, split, now=now,
                                      note="浙江分公司申请细分")
    decide_branch_request(session, actor_for("admin"), request, approve=True, now=now, note="同意")
    session.commit()
    at.run()
    assert not at.exception, at.exception
    assert any("T1A" in option for option in at.selectbox(key="hq_tier").options)


def test_what_a_manager_typed_survives_a_look_at_the_register(db_url, session, org, actor_for, now):
    """The filter and the register's chosen case are still there after switching tabs and back; the
    answer box stays drawn behind the register (its text lives in the browser's form until 提交反馈:
    the browser test of the journey checks the text itself)."""
    case = tiered_case(session, org, "gz", at=now - timedelta(hours=30))
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, ["核实驾驶员身份"],
                                     now=now - timedelta(hours=20))
    session.commit()
    point = session.scalar(select(OpinionPoint).where(OpinionPoint.opinion_id == opinion_id))
    at = signed_in_app(db_url, "gd_manager", "branch_feedback")
    at.text_area(key=f"answer_{point.id}").input("驾驶员系被保险人本人")
    at.text_input(key="fb_case_no").input(case.case_no[-4:])
    at.run()
    at.session_state["fb_tab"] = "分级案件登记簿"
    at.run()
    at.selectbox(key="fb_reg_case").set_value(case.id).run()
    assert not at.exception, at.exception
    at.session_state["fb_tab"] = "意见收件箱"
    at.run()
    assert at.text_area(key=f"answer_{point.id}") is not None
    assert at.text_input(key="fb_case_no").value == case.case_no[-4:]
    at.session_state["fb_tab"] = "分级案件登记簿"
    at.run()
    assert at.selectbox(key="fb_reg_case").value == case.id


def test_a_branch_with_more_than_fifty_open_opinions_answers_todays_new_one(db_url, session, org, actor_for, now):
    """A real branch holds 100+ open opinions: the answer form offered only the 50 oldest, so an
    opinion HQ posted today could not be answered, and clicking its row crashed the page
    (KeyError). Any row opens its own opinion, whatever its age or page."""
    reviewer = actor_for("reviewer")
    for n in range(55):
        older = tiered_case(session, org, "gz" if n % 2 else "sz", at=now - timedelta(days=3, hours=n))
        post_review_opinion(session, reviewer, older.id, [f"核实第 {n} 号事项"], now=now - timedelta(days=2, hours=n))
    new_case = tiered_case(session, org, "gz", at=now - timedelta(hours=3))
    new_id = post_review_opinion(session, reviewer, new_case.id, ["核实驾驶员身份", "调取监控", "补充现场照片"],
                                 now=now - timedelta(hours=1))
    points = session.scalars(select(OpinionPoint).where(OpinionPoint.opinion_id == new_id)
                             .order_by(OpinionPoint.seq)).all()
    at = signed_in_app(db_url, "gd_manager", "branch_feedback")
    assert not at.exception, at.exception
    # The manager lands on the most urgent open opinion (the oldest), ready to answer.
    assert any("核实第 54 号事项" in m.value for m in at.markdown)
    at.text_input(key="fb_case_no").input(new_case.case_no).run()
    inbox = _frame(at, "意见内容")
    assert list(inbox["意见内容"]) == ["核实驾驶员身份", "调取监控", "补充现场照片"]
    at.session_state["fb_opinion"] = new_id  # what a click on one of its rows chooses
    at.run()
    assert not at.exception, at.exception
    assert any(new_case.case_no in m.value for m in at.markdown)
    answers = ["驾驶员系被保险人本人，已核对驾驶证原件。", "已调取路口监控，追尾过程清晰。", "已补拍现场全景及细节照片 12 张。"]
    for point, text in zip(points, answers):
        at.text_area(key=f"answer_{point.id}").input(text)
    at.button(key="fb_submit").click().run()
    assert not at.exception, at.exception
    assert any(f"已提交案件 {new_case.case_no} 的 3 条反馈" in s.value for s in at.success)
    session.expire_all()
    stored = session.execute(select(OpinionPoint.id, PointAnswer.body).join(PointAnswer)
                             .where(OpinionPoint.opinion_id == new_id).order_by(OpinionPoint.seq)).all()
    assert [body for _, body in stored] == answers


def test_newest_first_puts_the_opinion_hq_posted_today_at_the_top_and_opens_it(db_url, session, org, actor_for, now):
    """By time left a new opinion is due last, on the inbox's last page; the manager who was told of
    it orders the inbox newest first and lands on it, ready to answer, without searching."""
    reviewer = actor_for("reviewer")
    for n in range(30):
        older = tiered_case(session, org, "gz" if n % 2 else "sz", at=now - timedelta(days=3, hours=n))
        post_review_opinion(session, reviewer, older.id, [f"核实第 {n} 号事项"], now=now - timedelta(days=2, hours=n))
    new_case = tiered_case(session, org, "gz", at=now - timedelta(hours=3))
    post_review_opinion(session, reviewer, new_case.id, ["核实驾驶员身份", "调取监控"], now=now - timedelta(hours=1))
    at = signed_in_app(db_url, "gd_manager", "branch_feedback")
    assert not at.exception, at.exception
    assert new_case.case_no not in list(_frame(at, "意见内容")["报案号"])  # 25 a page, the new one due last
    at.segmented_control(key="fb_order").set_value("newest").run()
    assert not at.exception, at.exception
    inbox = _frame(at, "意见内容")
    assert list(inbox["报案号"][:2]) == [new_case.case_no] * 2
    assert list(inbox["意见内容"][:3]) == ["核实驾驶员身份", "调取监控", "核实第 0 号事项"]
    assert any("最新的在最上" in c.value for c in at.caption)
    assert any(new_case.case_no in m.value for m in at.markdown)  # the answer form opens on it
    at.segmented_control(key="fb_order").set_value("due").run()
    assert list(_frame(at, "意见内容")["意见内容"][:1]) == ["核实第 29 号事项"]  # the most overdue first again


def test_two_people_answering_the_same_point_the_second_is_refused_with_who_and_when(
        db_url, session, org, actor_for, now):
    """Two tabs (or two managers) drew the same open point; the first answer lands, the second is
    refused by name and time and writes nothing, rather than answering a point already answered."""
    case = tiered_case(session, org, "gz", at=now - timedelta(hours=3))
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, ["核实驾驶员身份"],
                                     now=now - timedelta(hours=2))
    point = session.scalar(select(OpinionPoint).where(OpinionPoint.opinion_id == opinion_id))
    first = signed_in_app(db_url, "gd_manager", "branch_feedback")
    second = signed_in_app(db_url, "gd_manager", "branch_feedback")
    first.text_area(key=f"answer_{point.id}").input("驾驶员系被保险人本人，已核对驾驶证原件。")
    second.text_area(key=f"answer_{point.id}").input("已与驾驶员电话核实，身份无误。")
    first.button(key="fb_submit").click().run()
    assert not first.exception, first.exception
    second.button(key="fb_submit").click().run()
    assert not second.exception, second.exception
    # The same manager in two tabs: told the point was answered from their other window.
    assert any("该记录已在您的另一个窗口或标签页中被修改" in e.value for e in second.error), \
        [e.value for e in second.error]
    # The point is answered, so its box is gone: what this tab typed is shown to copy, not lost.
    assert any(f"您为案件 {case.case_no} 填写的反馈未提交" in i.value and "第 1 条反馈：已与驾驶员电话核实，身份无误。" in i.value
               for i in second.info), [i.value for i in second.info]
    session.expire_all()
    assert session.scalars(select(PointAnswer.body).where(PointAnswer.point_id == point.id)).all() == [
        "驾驶员系被保险人本人，已核对驾驶证原件。"]


def test_a_verdict_is_never_preselected_and_deciding_without_one_writes_nothing(db_url, session, org, actor_for, now):
    """「通过」 was preselected: one click accepted an answer nobody judged."""
    from dashboard.services.review.opinions import answer_points

    case = tiered_case(session, org, "gz", at=now - timedelta(hours=3))
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, ["核实驾驶员身份"],
                                     now=now - timedelta(hours=2))
    point = session.scalar(select(OpinionPoint).where(OpinionPoint.opinion_id == opinion_id))
    answer_points(session, actor_for("gd_manager"), {point.id: "驾驶员系被保险人本人，已核对驾驶证原件。"})
    at = _review_queue_page(db_url, session, now)
    at.selectbox(key="hq_status").set_value("all").run()
    at.selectbox(key="hq_case").set_value(case.id).run()
    assert at.radio(key=f"verdict_{point.id}").value is None
    at.button(key=f"decide_{point.id}").click().run()
    assert not at.exception, at.exception
    assert any("请选择“通过”或“退回”" in e.value for e in at.error)
    session.expire_all()
    assert session.get(OpinionPoint, point.id).status == "answered"
    at.radio(key=f"verdict_{point.id}").set_value("accepted")
    at.button(key=f"decide_{point.id}").click().run()
    assert any(f"案件 {case.case_no} 第 1 条意见的反馈：通过" in s.value for s in at.success)
    session.expire_all()
    assert session.get(OpinionPoint, point.id).status == "accepted"
