"""Intake, dispatch board and rules pages through the real app (AppTest)."""
from __future__ import annotations

from sqlalchemy import func, select

from db.models import ClaimCase, TierRuleSet
from tests.app.helpers import signed_in_app


def submit(at, label: str) -> None:
    next(b for b in at.button if b.label == label).click()
    at.run()


def fill_case(at, org, case_no: str) -> None:
    at.selectbox(key="in_sub_branch").set_value(org.sub_branch("gz").id)
    at.run()
    at.text_input(key="in_case_no").input(case_no)
    at.selectbox(key="in_business_line").set_value("motor")
    at.selectbox(key="in_accident_type").set_value("collision")
    at.text_input(key="in_policy_no").input("PDAA2026440100009")
    at.text_input(key="in_province").input("广东省")
    at.text_input(key="in_city").input("广州市")
    at.text_input(key="in_address").input("天河区体育西路1号")
    at.text_input(key="in_insured").input("李明")
    at.text_input(key="in_reporter").input("李明")
    at.selectbox(key="in_surveyor").set_value(org.person("gz_surveyor1"))


def test_call_center_registers_a_case_and_sees_it_on_the_dispatch_board(db_url, org, session):
    at = signed_in_app(db_url, "callcenter", "intake")
    assert not at.exception, at.exception
    fill_case(at, org, "APP-0001")
    submit(at, "登记案件")
    assert not at.exception, at.exception
    assert any("APP-0001" in s.value for s in at.success)
    assert session.scalar(select(func.count()).select_from(ClaimCase).where(ClaimCase.case_no == "APP-0001")) == 1
    at.switch_page("pages/dispatch_board.py")
    at.run()
    assert not at.exception, at.exception
    board = at.dataframe[0].value
    row = board[board["报案号"] == "APP-0001"]
    assert len(row) == 1 and row["调度情况"].iloc[0] == "待估损"


def test_bad_input_shows_the_field_and_saves_nothing(db_url, org, session):
    at = signed_in_app(db_url, "callcenter", "intake")
    fill_case(at, org, "")
    at.text_input(key="in_sum_insured").input("-100")
    submit(at, "登记案件")
    assert not at.exception, at.exception
    message = " ".join(e.value for e in at.error)
    assert "报案号：必填" in message and "车辆保险金额（元）：金额不能为负数" in message
    assert not at.success
    assert session.scalar(select(func.count()).select_from(ClaimCase)) == 0


def test_registering_with_an_estimate_tiers_and_dispatches(db_url, org, session):
    at = signed_in_app(db_url, "callcenter", "intake")
    fill_case(at, org, "APP-0002")
    at.text_input(key="in_estimate").input("300000")
    submit(at, "登记案件")
    assert not at.exception, at.exception
    assert any("二级" in i.value for i in at.info)
    at.switch_page("pages/dispatch_board.py")
    at.run()
    board = at.dataframe[0].value
    row = board[board["报案号"] == "APP-0002"].iloc[0]
    assert row["调度情况"] == "已调度" and "三级机构负责人" in row["已调度人员（联系状态）"]


def test_estimate_tab_records_the_estimate_and_lists_who_was_dispatched(db_url, org, session):
    at = signed_in_app(db_url, "callcenter", "intake")
    fill_case(at, org, "APP-0003")
    submit(at, "登记案件")
    at.text_input(key="est_case_no").input("APP-0003")
    at.text_input(key="est_amount").input("85000")
    submit(at, "录入估损并调度")
    assert not at.exception, at.exception
    assert any("一级" in s.value for s in at.success)
    dispatched = at.dataframe[-1].value
    assert list(dispatched.iloc[:, 1]) == ["三级机构理赔负责人"]


def test_branch_manager_board_shows_only_their_branch(db_url, org, session):
    at = signed_in_app(db_url, "callcenter", "intake")
    fill_case(at, org, "APP-GD")
    submit(at, "登记案件")
    at.selectbox(key="in_sub_branch").set_value(org.sub_branch("hz").id)
    at.run()
    at.text_input(key="in_case_no").input("APP-ZJ")
    at.selectbox(key="in_surveyor").set_value(org.person("hz_surveyor1"))
    submit(at, "登记案件")
    assert session.scalar(select(func.count()).select_from(ClaimCase)) == 2
    manager = signed_in_app(db_url, "zj_manager", "dispatch_board")
    assert not manager.exception, manager.exception
    assert list(manager.dataframe[0].value["报案号"]) == ["APP-ZJ"]


def test_rules_page_opens_for_admin_and_branch_manager(db_url, org, session):
    admin = signed_in_app(db_url, "admin", "admin_rules")
    assert not admin.exception, admin.exception
    assert any("当前生效版本" in c.value for c in admin.caption)
    manager = signed_in_app(db_url, "gd_manager", "admin_rules")
    assert not manager.exception, manager.exception
    submit(manager, "提交申请")  # the seeded split of 50,000–500,000 is the national one: valid as filed
    assert not manager.exception, manager.exception
    assert session.scalar(select(func.count()).select_from(TierRuleSet).where(TierRuleSet.status == "pending")) == 1


def test_deadline_setting_with_a_bad_value_is_refused_with_its_label(db_url, org, session):
    admin = signed_in_app(db_url, "admin", "admin_rules")
    admin.text_input(key="admin_set_deadline.D1.hours").input("-1")
    submit(admin, "保存时效设置")
    assert not admin.exception, admin.exception
    assert any("D1 查勘员上传查勘资料" in e.value and "大于 0" in e.value for e in admin.error)


def test_call_center_records_an_unreachable_call_from_the_board(db_url, org, session):
    from db.models import ContactAttempt, Dispatch

    at = signed_in_app(db_url, "callcenter", "intake")
    fill_case(at, org, "APP-T2")
    at.text_input(key="in_estimate").input("300000")
    submit(at, "登记案件")
    at.switch_page("pages/dispatch_board.py")
    at.run()
    case_id = session.scalar(select(ClaimCase.id).where(ClaimCase.case_no == "APP-T2"))
    at.selectbox(key="bd_act_case").set_value(case_id)
    at.run()
    first = session.scalars(select(Dispatch).where(Dispatch.case_id == case_id).order_by(Dispatch.id)).first()
    at.selectbox(key="bd_contact_dispatch").set_value(first.id)
    at.radio(key="bd_outcome").set_value("unreachable")
    at.text_input(key="bd_reason").input("电话关机")
    submit(at, "保存")
    assert not at.exception, at.exception
    assert any("已保存" in s.value for s in at.success)
    attempt = session.scalars(select(ContactAttempt)).one()
    assert (attempt.outcome, attempt.reason, attempt.dispatch_id) == ("unreachable", "电话关机", first.id)
    board = at.dataframe[0].value
    assert "联系不上" in board[board["报案号"] == "APP-T2"]["已调度人员（联系状态）"].iloc[0]


def test_surveyor_sees_only_their_own_sub_branch_in_the_form(db_url, org, session):
    at = signed_in_app(db_url, "gz_surveyor1", "intake")
    assert not at.exception, at.exception
    assert at.selectbox(key="in_sub_branch").options == ["广东分公司 / 广州中心支公司"]


def test_bulk_import_previews_bad_rows_and_imports_valid_ones_on_request(db_url, org, session):
    from tests.integration.test_case_import import csv_bytes, row

    content = csv_bytes([row(1, report_time="2026-11-20 09:15"), row(2, vehicle_sum_insured="abc"), row(3)])
    at = signed_in_app(db_url, "callcenter", "intake")
    at.file_uploader(key="import_file_0").set_value(("cases.csv", content, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    problems = at.dataframe[0].value
    assert list(problems["行号"]) == [3] and "车辆保险金额（元）" in problems["错误原因"].iloc[0]
    assert at.button(key="import_run").disabled  # bad rows: nothing imports unless asked
    at.checkbox(key="import_valid_only").check()
    at.run()
    at.button(key="import_run").click()
    at.run()
    assert not at.exception, at.exception
    assert any("新增 2 件" in s.value for s in at.success)
    assert session.scalar(select(func.count()).select_from(ClaimCase)) == 2
    assert at.file_uploader(key="import_file_1").value is None  # emptied for the next file


def test_board_says_why_a_large_compulsory_only_case_is_level_one(db_url, org, session, actor_for):
    """单保交强险 over 50,000 is T1 whatever the amount (SPEC §3): the board says so next to the level,
    so ¥258,000 shown as 一级（5–12万） does not look like a mistake; other cases show the level alone."""
    from dashboard.services.dispatch import record_estimate
    from tests.factories import make_case

    compulsory = make_case(session, org, "gz", compulsory_only=True)
    record_estimate(session, actor_for("callcenter"), compulsory.id, "258000")
    ordinary = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), ordinary.id, "100000")
    at = signed_in_app(db_url, "callcenter", "dispatch_board")
    board = at.dataframe[0].value
    level = dict(zip(board["报案号"], board["级别"]))
    assert level[compulsory.case_no] == "一级（5–12万）·单保交强险"
    assert level[ordinary.case_no] == "一级（5–12万）"


def test_a_change_of_filter_starts_the_board_again_at_page_one(db_url, org, session):
    """Page 2 of one list is not page 2 of another: on page 2 of 广东's cases, picking 浙江 (also two
    pages) shows 浙江's first page."""
    from tests.factories import make_case

    for n in range(60):
        make_case(session, org, "gz")  # awaiting an estimate: on the board
    for n in range(55):
        make_case(session, org, "hz")
    at = signed_in_app(db_url, "callcenter", "dispatch_board")
    at.selectbox(key="bd_branch").select(org.branch("gd").id).run()
    at.number_input[0].set_value(2).run()
    assert len(at.dataframe[0].value) == 10
    at.selectbox(key="bd_branch").select(org.branch("zj").id).run()
    assert not at.exception, at.exception
    assert at.number_input[0].value == 1
    assert len(at.dataframe[0].value) == 50  # 浙江's first page, not its last 5


def test_a_page_number_out_of_range_shows_the_nearest_page_without_an_english_error(db_url, org, session):
    """Streamlit's own range check answers in English; the pager has none and keeps the number in
    range itself: 99 shows the last page and says so in the box, 0 the first."""
    from tests.factories import make_case

    for n in range(60):
        make_case(session, org, "gz")  # awaiting an estimate: on the board, two pages
    at = signed_in_app(db_url, "callcenter", "dispatch_board")
    at.number_input[0].set_value(99).run()
    assert not at.exception, at.exception
    assert at.number_input[0].value == 2 and len(at.dataframe[0].value) == 10
    assert any("第 2 / 2 页" in c.value for c in at.caption), [c.value for c in at.caption]
    at.number_input[0].set_value(0).run()
    assert at.number_input[0].value == 1 and len(at.dataframe[0].value) == 50
