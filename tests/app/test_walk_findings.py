"""Findings of the browser walk (issues 26/27) on the dispatch board, the import tab, the supervision
and the rules pages, through the real app (AppTest): each refusal says what was not written, a
click on any row of any page of the board chooses that case to act on."""
from __future__ import annotations

from sqlalchemy import func, select

from dashboard.services.dispatching.dispatch import record_estimate
from db.models import Estimate, Opinion, ProgressNote, TierRuleSet
from tests.app.helpers import signed_in_app
from tests.factories import make_case


def messages(at) -> str:
    return " ".join([e.value for e in at.error] + [s.value for s in at.success] + [i.value for i in at.info])


def chosen_text(at) -> str:
    return " ".join(m.value for m in at.markdown if "当前处理" in m.value)


def select_on_board(at, row: int | None = None, cell: int | None = None) -> None:
    """What the browser sends for a click on a row's tick box (`row`) or on a cell (`cell`)."""
    table = at.dataframe[0]
    at.session_state[table.key] = {"selection": {
        "rows": [row] if row is not None else [], "columns": [],
        "cells": [[cell, "报案号"]] if cell is not None else []}}
    at.run()
    assert not at.exception, at.exception


# ---------------------------------------------------------------- 调度看板


def test_a_click_on_a_cell_of_any_page_chooses_that_case_and_the_board_stays(db_url, session, org):
    """Issue 26: a row click opened the case detail, and the picker offered only page 1's 50 rows."""
    cases = [make_case(session, org, "gz") for _ in range(60)]
    at = signed_in_app(db_url, "callcenter", "dispatch_board")
    at.number_input[0].set_value(2).run()
    shown = list(at.dataframe[0].value["报案号"])
    assert cases[0].case_no in shown  # the oldest: on page 2
    select_on_board(at, cell=shown.index(cases[0].case_no))
    assert at.title[0].value == "调度看板"  # the click chose; it did not open the case detail
    assert cases[0].case_no in chosen_text(at)
    # A tick box on another row then chooses that row; a cell click after it chooses again.
    select_on_board(at, row=shown.index(cases[3].case_no), cell=shown.index(cases[0].case_no))
    assert cases[3].case_no in chosen_text(at)
    select_on_board(at, row=shown.index(cases[3].case_no), cell=shown.index(cases[5].case_no))
    assert cases[5].case_no in chosen_text(at)
    at.text_input(key=f"bd_amount_{cases[5].id}").input("70000")
    next(b for b in at.button if b.label == "录入估损并调度").click()
    at.run()
    assert session.execute(select(Estimate.case_id)).scalars().all() == [cases[5].id]
    # The detail opens only from its own button.
    at.button(key="bd_open_detail").click().run()
    assert at.title[0].value == "案件详情"


def test_board_refusals_say_what_was_not_written(db_url, session, org, actor_for):
    case = make_case(session, org, "gz")
    at = signed_in_app(db_url, "callcenter", "dispatch_board")
    at.text_input(key="bd_pick_case_no").input(case.case_no)
    next(b for b in at.button if b.label == "选择").click()
    at.run()
    at.text_input(key=f"bd_amount_{case.id}").input("abc")
    next(b for b in at.button if b.label == "录入估损并调度").click()
    at.run()
    text = messages(at)
    assert "有 1 处需要修改，估损未录入" in text and "案件未保存" not in text, text


def test_the_estimate_tab_says_first_estimate_until_the_case_has_one(db_url, session, org):
    """Walk: a case with no estimate offered 「重新估损（调整级别）」, as if it had one to redo."""
    case = make_case(session, org, "gz")
    at = signed_in_app(db_url, "callcenter", "dispatch_board")
    at.text_input(key="bd_pick_case_no").input(case.case_no)
    next(b for b in at.button if b.label == "选择").click()
    at.run()
    assert [tab.label for tab in at.tabs][-1] == "录入估损（定级）"
    at.text_input(key=f"bd_amount_{case.id}").input("70000")
    next(b for b in at.button if b.label == "录入估损并调度").click()
    at.run()
    assert not at.exception, at.exception
    assert [tab.label for tab in at.tabs][-1] == "重新估损（调整级别）"
    assert at.session_state["bd_act_tab"] == "重新估损（调整级别）"  # still on the estimate, not back on 联系
    # A second estimate is a new one: its button says so, and it is saved as the case's estimate.
    at.text_input(key=f"bd_amount_{case.id}").input("90000")
    next(b for b in at.button if b.label == "录入新估损").click()
    at.run()
    assert not at.exception, at.exception
    session.expire_all()
    assert [e.amount for e in session.scalars(select(Estimate).where(Estimate.case_id == case.id)
                                              .order_by(Estimate.id))] == [70000, 90000]


# ---------------------------------------------------------------- 督导与进展


def _followed_case(session, org, actor_for):
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, "80000")  # T1: gz_claims goes
    return case


def test_an_empty_opinion_or_progress_is_refused_naming_what_was_not_sent(db_url, session, org, actor_for):
    case = _followed_case(session, org, actor_for)
    sup = signed_in_app(db_url, "supervisor", "supervision")
    sup.selectbox(key="sup_case").set_value(case.id).run()
    sup.button(key="sup_post").click().run()
    text = messages(sup)
    assert "有 1 处需要修改，督导意见未发送" in text and "案件未保存" not in text, text
    fr = signed_in_app(db_url, "gz_claims", "supervision")
    fr.selectbox(key="sup_case").set_value(case.id).run()
    fr.button(key="sup_progress_post").click().run()
    text = messages(fr)
    assert "有 1 处需要修改，进展未提交" in text and "案件未保存" not in text, text
    assert session.scalar(select(func.count()).select_from(Opinion).where(Opinion.case_id == case.id)) == 0
    assert session.scalar(select(func.count()).select_from(ProgressNote).where(ProgressNote.case_id == case.id)) == 0


# ---------------------------------------------------------------- 分级规则管理


def test_a_refused_national_table_says_the_rules_were_not_saved(db_url, session, org):
    at = signed_in_app(db_url, "admin", "admin_rules")
    version = session.scalar(select(TierRuleSet.version).where(TierRuleSet.branch_id.is_(None),
                                                               TierRuleSet.status == "active"))
    editor = f"admin_national_editor_{version}"
    at.session_state[editor] = {"edited_rows": {0: {"lower": "abc"}, 1: {"upper": "-5"}},
                                "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="admin_publish").click().run()
    text = messages(at)
    assert "处需要修改，规则未保存" in text and "案件未保存" not in text, text
    assert session.scalar(select(func.count()).select_from(TierRuleSet).where(TierRuleSet.branch_id.is_(None))) == 1


def test_rejecting_a_request_without_a_reason_says_the_request_was_not_decided(db_url, session, org, actor_for):
    from dashboard.rules.tier_bands import BandInput
    from dashboard.services.admin.tier_admin import request_branch_subtiers

    request_id = request_branch_subtiers(session, actor_for("gd_manager"), org.branch("gd").id, [
        BandInput("T1A", "50000", "80000", ["sub_claims_head"]), BandInput("T1B", "80000", "200000", ["sub_head"]),
        BandInput("T2", "200000", "500000", ["sub_head", "sub_finance_head"])])
    at = signed_in_app(db_url, "admin", "admin_rules")
    at.session_state["admin_tab"] = "分公司细分申请"
    at.button(key=f"admin_no_{request_id}").click().run()
    text = messages(at)
    assert "有 1 处需要修改，申请未处理" in text and "案件未保存" not in text, text
    session.expire_all()
    assert session.get(TierRuleSet, request_id).status == "pending"
