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
    at.run()  # the tab shows the case before its estimate is typed
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
    # The form opens on the national bands of 50,000–500,000; T1 split at 80,000 is a request to file.
    manager.session_state[f"admin_request_editor_{org.branch('gd').id}_1_0"] = {
        "edited_rows": {0: {"upper": "80000"}, 1: {"lower": "80000"}}, "added_rows": [], "deleted_rows": []}
    manager.run()
    submit(manager, "提交申请")
    assert not manager.exception, manager.exception
    assert session.scalar(select(func.count()).select_from(TierRuleSet).where(TierRuleSet.status == "pending")) == 1


def test_deadline_setting_with_a_bad_value_is_refused_with_its_label(db_url, org, session):
    admin = signed_in_app(db_url, "admin", "admin_rules")
    admin.text_input(key="admin_set_deadline.D1.hours").input("-1")
    submit(admin, "保存时效设置")
    assert not admin.exception, admin.exception
    assert any("D1 查勘员上传查勘资料" in e.value and "1–168" in e.value for e in admin.error)


def test_call_center_records_an_unreachable_call_from_the_board(db_url, org, session):
    from db.models import ContactAttempt, Dispatch

    at = signed_in_app(db_url, "callcenter", "intake")
    fill_case(at, org, "APP-T2")
    at.text_input(key="in_estimate").input("300000")
    submit(at, "登记案件")
    at.switch_page("pages/dispatch_board.py")
    at.run()
    case_id = session.scalar(select(ClaimCase.id).where(ClaimCase.case_no == "APP-T2"))
    rows = list(at.dataframe[0].value["报案号"])
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [rows.index("APP-T2")], "columns": [],
                                                          "cells": []}}
    at.run()  # a click on the case's row chooses it
    first = session.scalars(select(Dispatch).where(Dispatch.case_id == case_id).order_by(Dispatch.id)).first()
    at.selectbox(key=f"bd_contact_dispatch_{case_id}").set_value(first.id)
    at.radio(key=f"bd_outcome_{case_id}").set_value("unreachable").run()
    at.radio(key=f"bd_reason_code_{case_id}_unreachable").set_value("phone_off")
    at.text_input(key=f"bd_reason_{case_id}").input("两次拨打均关机")
    submit(at, "保存")
    assert not at.exception, at.exception
    assert any("APP-T2" in s.value and "联系不上（关机）" in s.value for s in at.success)
    attempt = session.scalars(select(ContactAttempt)).one()
    assert (attempt.outcome, attempt.reason_code, attempt.reason, attempt.dispatch_id) == (
        "unreachable", "phone_off", "两次拨打均关机", first.id)
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
    """单保交强险 over 50,000 is T1 whatever the amount (docs/DOMAIN.md §3): the board says so next to the level,
    so ¥258,000 shown as 一级（5–12万） does not look like a mistake; other cases show the level alone."""
    from dashboard.services.dispatching.dispatch import record_estimate
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


# ---------------------------------------------------------------- nothing silently changed (issues 25, 26)


def errors_of(at) -> str:
    return " ".join(e.value for e in at.error)


def cases_named(session, case_no: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ClaimCase).where(ClaimCase.case_no == case_no))


def test_an_accident_date_out_of_range_is_refused_in_chinese_and_never_replaced(db_url, org, session):
    """1900-01-01 and 2099-12-31 were answered by Streamlit's English range error, and the form saved
    today's date instead: now the typed value stays, and the refusal names the field and the range."""
    at = signed_in_app(db_url, "callcenter", "intake")
    assert not at.date_input  # no date picker: it refused in English and kept the last valid date
    for typed in ("1900-01-01 08:00", "2099-12-31 08:00"):
        fill_case(at, org, "APP-RANGE")
        at.text_input(key="in_accident_time").input(typed)
        submit(at, "登记案件")
        assert not at.exception, at.exception
        message = errors_of(at)
        assert f"出险时间：{typed[:10]} 超出允许范围，请填写 2000-01-01 至" in message, message
        assert at.text_input(key="in_accident_time").value == typed
        assert cases_named(session, "APP-RANGE") == 0


def test_a_reporter_phone_abc_is_refused_naming_the_field_with_an_example(db_url, org, session):
    at = signed_in_app(db_url, "callcenter", "intake")
    fill_case(at, org, "APP-PHONE")
    at.text_input(key="in_phone").input("abc")
    submit(at, "登记案件")
    assert "报案人电话：“abc”不是有效的电话号码" in errors_of(at) and "13800138000" in errors_of(at)
    assert cases_named(session, "APP-PHONE") == 0
    at.text_input(key="in_phone").input("0755-23456789")
    submit(at, "登记案件")
    assert cases_named(session, "APP-PHONE") == 1


def test_a_nul_in_a_text_field_is_refused_naming_the_field_instead_of_crashing(db_url, org, session):
    at = signed_in_app(db_url, "callcenter", "intake")
    fill_case(at, org, "APP-NUL")
    at.text_input(key="in_insured").input("李\x00明")
    submit(at, "登记案件")
    assert not at.exception, at.exception
    assert "被保险人：含有不可见的控制字符（\\x00）" in errors_of(at)
    assert cases_named(session, "APP-NUL") == 0


def test_every_free_text_field_counts_against_the_limit_the_service_checks(db_url, org, session):
    from dashboard.rules.case_input import TEXT_LIMITS

    at = signed_in_app(db_url, "callcenter", "intake")
    keys = {"case_no": "in_case_no", "policy_no": "in_policy_no", "province": "in_province", "city": "in_city",
            "address": "in_address", "insured_name": "in_insured", "driver_name": "in_driver",
            "reporter_name": "in_reporter", "reporter_phone": "in_phone", "plate_no": "in_plate",
            "vehicle_model": "in_model"}
    assert {name: at.text_input(key=key).max_chars for name, key in keys.items()} == {
        name: TEXT_LIMITS[name] for name in keys}
    assert at.text_input(key="est_case_no").max_chars == TEXT_LIMITS["case_no"]


def test_a_description_pasted_past_its_limit_is_kept_and_the_save_names_the_length_and_the_limit(
        db_url, org, session):
    """A box with Streamlit's own limit refuses a whole paste past it and stays empty, with no word.
    The description box names its limit instead; the save is refused naming the field, the length
    and the limit, and the text stays in the box to be shortened."""
    from dashboard.rules.case_input import TEXT_LIMITS

    at = signed_in_app(db_url, "callcenter", "intake")
    assert TEXT_LIMITS["description"] == 4000 and at.text_area(key="in_description").placeholder == "最多 4,000 字"
    fill_case(at, org, "APP-LONG")
    pasted = "追尾事故经过。" * 650  # 4,550 characters
    at.text_area(key="in_description").input(pasted)
    submit(at, "登记案件")
    assert not at.exception, at.exception
    assert "案情描述：过长：已输入 4550 字，最多 4000 字，请精简。" in errors_of(at), errors_of(at)
    assert at.text_area(key="in_description").value == pasted
    assert cases_named(session, "APP-LONG") == 0
    at.text_area(key="in_description").input(pasted[:3990])
    submit(at, "登记案件")
    assert cases_named(session, "APP-LONG") == 1


def test_the_intake_page_speaks_chinese_where_streamlit_would_not(db_url, org, session):
    """No "Choose an option" (a selectbox's own placeholder), no yyyy-mm-dd (a date picker's)."""
    at = signed_in_app(db_url, "callcenter", "intake")
    assert {s.proto.placeholder for s in at.selectbox if s.key and s.key.startswith("in_")} == {"请选择", "未知"}
    assert at.text_input(key="in_policy_start").placeholder.startswith("例如 2026-03-01")
    assert at.text_input(key="in_report_time").placeholder == "例如 2026-11-20 08:30"


def test_an_unreadable_import_file_is_explained_in_chinese_not_by_the_exception(db_url, org, session):
    at = signed_in_app(db_url, "callcenter", "intake")
    at.file_uploader(key="import_file_0").set_value(("cases.csv", b"\xff\xfe\xff\xff,\xff\n", "text/csv"))
    at.run()
    assert not at.exception, at.exception
    message = errors_of(at)
    assert "文件的文字编码无法识别" in message and "encoding" not in message


def test_each_bad_rows_reasons_can_be_read_in_full(db_url, org, session):
    """The reasons column was cut off: the table wraps them, a chosen row shows all its reasons below,
    and the downloadable file holds them whole."""
    from tests.integration.test_case_import import csv_bytes, row

    bad = row(2, vehicle_sum_insured="1e9", accident_time="1900-01-01 08:00", reporter_phone="abc",
              insured_name="王\x00五")
    at = signed_in_app(db_url, "callcenter", "intake")
    at.file_uploader(key="import_file_0").set_value(("cases.csv", csv_bytes([row(1), bad]), "text/csv"))
    at.run()
    assert not at.exception, at.exception
    table = next(d for d in at.dataframe if d.key == "import_problems_table")
    assert table.proto.row_height > 64  # taller rows: Streamlit wraps a cell's text only above 4rem
    at.session_state[table.key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    shown = " ".join(m.value for m in at.markdown)
    for reason in ("出险时间：1900-01-01 超出允许范围", "报案人电话：“abc”不是有效的电话号码",
                   "车辆保险金额（元）：“1e9”是科学计数法", "被保险人：含有不可见的控制字符"):
        assert reason in shown, reason
    assert "第 3 行（报案号 IMP000002）的错误" in shown


def estimate_app(db_url, case_no: str):
    at = signed_in_app(db_url, "callcenter", "intake")
    at.text_input(key="est_case_no").input(case_no)
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_estimate_tab_names_the_field_of_an_amount_it_refuses(db_url, org, session):
    from tests.factories import make_case

    case = make_case(session, org, "gz")
    at = estimate_app(db_url, case.case_no)
    for typed, words in (("1e9", "科学计数法"), ("inf", "不是有效金额"), ("nan", "不是有效金额"), ("1\x00", "控制字符")):
        at.text_input(key="est_amount").input(typed)
        submit(at, "录入估损并调度")
        assert not at.exception, at.exception
        assert "整案估损金额（元）：" in errors_of(at) and words in errors_of(at), errors_of(at)
    session.refresh(case)
    assert case.current_estimate is None


def test_a_large_estimate_is_saved_only_once_ticked_and_the_message_names_case_amount_and_tier(db_url, org, session):
    from tests.factories import make_case

    case = make_case(session, org, "gz")
    at = estimate_app(db_url, case.case_no)
    assert not [c for c in at.checkbox if c.key == "est_confirm"]  # no box before an amount asks for one
    at.text_input(key="est_amount").input("60000000")
    submit(at, "录入估损并调度")
    assert "请勾选「金额无误」" in errors_of(at)
    session.refresh(case)
    assert case.current_estimate is None
    submit(at, "录入估损并调度")  # asked again: nothing is saved until the box is ticked
    session.refresh(case)
    assert case.current_estimate is None
    at.checkbox(key="est_confirm").check()
    submit(at, "录入估损并调度")
    assert not at.exception, at.exception
    session.refresh(case)
    assert str(case.current_estimate) == "60000000.00"
    assert any(case.case_no in s.value and "¥60,000,000.00" in s.value and "四级" in s.value for s in at.success), \
        [s.value for s in at.success]


def test_an_estimate_on_a_case_changed_since_it_was_shown_is_refused(db_url, org, session):
    """Two people raise the same case's estimate: the second, whose screen showed the older case, is
    told who changed it instead of overwriting (issue 25 item 1)."""
    from db.models import Estimate
    from tests.factories import make_case

    case = make_case(session, org, "gz")
    first, second = estimate_app(db_url, case.case_no), estimate_app(db_url, case.case_no)
    first.text_input(key="est_amount").input("85000")
    submit(first, "录入估损并调度")
    assert any(case.case_no in s.value for s in first.success)
    second.text_input(key="est_amount").input("300000")
    submit(second, "录入估损并调度")
    assert not second.exception, second.exception
    assert "已在您的另一个窗口或标签页中被修改" in errors_of(second)  # the same account in two windows
    assert session.scalar(select(func.count()).select_from(Estimate).where(Estimate.case_id == case.id)) == 1


def test_an_implausible_initial_estimate_on_the_form_is_registered_only_once_ticked(db_url, org, session):
    at = signed_in_app(db_url, "callcenter", "intake")
    fill_case(at, org, "APP-BIG")
    at.text_input(key="in_estimate").input("60000000")
    submit(at, "登记案件")
    assert "请勾选「金额无误」" in errors_of(at)
    assert cases_named(session, "APP-BIG") == 0
    at.checkbox(key="in_confirm").check()
    submit(at, "登记案件")
    assert not at.exception, at.exception
    assert any("APP-BIG" in s.value for s in at.success)
    assert session.scalar(select(ClaimCase.tier).where(ClaimCase.case_no == "APP-BIG")) == "T4"
