"""Two people on the same screen at once (issue 27): the later, stale write is refused with who
changed the record and when, and nothing lands on a record the person did not choose.

Each test runs two AppTest apps (two browser sessions) on one database.
"""
from __future__ import annotations

from sqlalchemy import func, select

from dashboard.services.dispatching.dispatch import record_contact_attempt, record_estimate
from db.models import ClaimCase, ContactAttempt, Dispatch, Estimate, Person, RuleSetting, TierRuleSet
from tests.app.helpers import signed_in_app
from tests.factories import make_case

STALE = "该记录已被他人修改（"
# The same account in two windows (the demo has one HQ admin): the refusal says the change was its own.
SELF = "该记录已在您的另一个窗口或标签页中被修改（"


def name_of(session, org, username: str) -> str:
    return session.scalar(select(Person.full_name).where(Person.id == org.person(username)))


def click(at, label: str) -> None:
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, at.exception


def choose_row(at, case_no: str) -> None:
    """A click on the board's row of `case_no` (the table's selection, as the browser sends it)."""
    shown = list(at.dataframe[0].value["报案号"])
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [shown.index(case_no)], "columns": [],
                                                          "cells": []}}
    at.run()
    assert not at.exception, at.exception
    assert any(case_no in m.value for m in at.markdown if "当前处理" in m.value)


def messages(at) -> str:
    return " ".join([e.value for e in at.error] + [s.value for s in at.success] + [i.value for i in at.info])


# ---------------------------------------------------------------- 调度看板


def test_an_estimate_from_an_older_board_is_refused_and_never_lands_on_another_case(db_url, session, org):
    """Issue 27: B saved 60,000 after A's 600,000 moved the case off the list's first page; the save
    fell back to the first case of the page and tiered it."""
    for _ in range(55):
        make_case(session, org, "gz")
    target = make_case(session, org, "gz")  # the newest: top of the cases awaiting an estimate
    a = signed_in_app(db_url, "callcenter", "dispatch_board")
    b = signed_in_app(db_url, "admin", "dispatch_board")
    first_of_list = a.dataframe[0].value["报案号"].iloc[1]
    for at in (a, b):
        choose_row(at, target.case_no)
    a.text_input(key=f"bd_amount_{target.id}").input("600000")
    click(a, "录入估损并调度")
    assert any(target.case_no in s.value and "¥600,000.00" in s.value and "三级" in s.value for s in a.success), \
        messages(a)

    b.text_input(key=f"bd_amount_{target.id}").input("60000")
    click(b, "录入估损并调度")
    assert any(STALE + name_of(session, org, "callcenter") in e.value for e in b.error), messages(b)
    assert not b.success
    assert session.execute(select(Estimate.case_id, Estimate.amount)).all() == [(target.id, 600000)]
    assert session.scalar(select(ClaimCase.current_estimate).where(ClaimCase.case_no == first_of_list)) is None


def test_the_same_person_in_two_windows_is_told_the_change_was_their_own(db_url, session, org):
    """The walk found "已被他人修改" when the other writer was the same user in another tab: the
    refusal now says it was their own change, from another window, and when; nothing is written."""
    target = make_case(session, org, "gz")
    a = signed_in_app(db_url, "callcenter", "dispatch_board")
    b = signed_in_app(db_url, "callcenter", "dispatch_board")
    for at in (a, b):
        choose_row(at, target.case_no)
    a.text_input(key=f"bd_amount_{target.id}").input("600000")
    click(a, "录入估损并调度")
    b.text_input(key=f"bd_amount_{target.id}").input("60000")
    click(b, "录入估损并调度")
    assert any(SELF in e.value for e in b.error), messages(b)
    assert not any("他人" in e.value for e in b.error) and not b.success
    assert session.execute(select(Estimate.case_id, Estimate.amount)).all() == [(target.id, 600000)]


def _t2_case(session, org, actor_for):
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, "300000")  # T2: head and finance head
    dispatches = session.scalars(select(Dispatch).where(Dispatch.case_id == case.id).order_by(Dispatch.id)).all()
    return case, dispatches


def _unreachable_logged_by_a(db_url: str, case, head, a_user: str, b_user: str):
    """A and B open the same case's contact form on the head's dispatch; A logs him unreachable."""
    a, b = (signed_in_app(db_url, user, "dispatch_board") for user in (a_user, b_user))
    for at in (a, b):
        choose_row(at, case.case_no)
        at.selectbox(key=f"bd_contact_dispatch_{case.id}").set_value(head.id).run()
    a.radio(key=f"bd_outcome_{case.id}").set_value("unreachable").run()
    a.radio(key=f"bd_reason_code_{case.id}_unreachable").set_value("phone_off")
    click(a, "保存")
    return a, b


def test_a_call_logged_from_an_older_board_is_refused(db_url, session, org, actor_for):
    case, (head, finance) = _t2_case(session, org, actor_for)
    a, b = _unreachable_logged_by_a(db_url, case, head, "callcenter", "admin")
    finance_name = name_of(session, org, "gz_finance")
    # What happened next, from what the service did: the other person of the tier goes.
    assert any(f"已通知 {finance_name}（三级机构财务负责人）前往现场" in s.value and case.case_no in s.value
               for s in a.success), messages(a)

    # B's click on 已联系上 redraws B's page with A's record: B is told, and B's save is still refused.
    b.radio(key=f"bd_outcome_{case.id}").set_value("reached").run()
    assert any(name_of(session, org, "callcenter") in w.value and "刷新" in w.value for w in b.warning)
    click(b, "保存")
    assert any(STALE + name_of(session, org, "callcenter") in e.value for e in b.error), messages(b)
    attempts = session.execute(select(ContactAttempt.dispatch_id, ContactAttempt.outcome,
                                      ContactAttempt.reason_code)).all()
    assert attempts == [(head.id, "unreachable", "phone_off")]


def test_the_same_person_in_two_tabs_is_told_the_change_was_their_own(db_url, session, org, actor_for):
    """A call logged in one tab moves the case under the other: the other tab's notice says the
    person changed it in another window (it said "— 于 … 更新了它", a name missing)."""
    case, (head, _finance) = _t2_case(session, org, actor_for)
    _a, b = _unreachable_logged_by_a(db_url, case, head, "callcenter", "callcenter")
    b.radio(key=f"bd_outcome_{case.id}").set_value("reached").run()
    notices = [w.value for w in b.warning]
    assert any("您本人于" in w and "另一个窗口或标签页中更新了它" in w and "—" not in w.split("更新了它")[0]
               for w in notices), notices


def test_a_delegate_named_from_an_older_board_is_refused(db_url, session, org, actor_for):
    case = make_case(session, org, "gz")
    result = record_estimate(session, actor_for("callcenter"), case.id, "80000")  # T1: one person
    dispatch_id = result.dispatched[0].dispatch_id
    record_contact_attempt(session, actor_for("callcenter"), dispatch_id, "unavailable", reason_code="business_trip")
    a = signed_in_app(db_url, "callcenter", "dispatch_board")
    b = signed_in_app(db_url, "admin", "dispatch_board")
    for at in (a, b):
        choose_row(at, case.case_no)
    a.selectbox(key=f"bd_delegate_person_{case.id}_{dispatch_id}").set_value(org.person("gz_head"))
    a.button(key=f"bd_delegate_save_{case.id}").click().run()
    head = name_of(session, org, "gz_head")
    assert any(f"已指定 {head}（三级机构负责人）代替" in s.value and case.case_no in s.value for s in a.success), \
        messages(a)
    b.selectbox(key=f"bd_delegate_person_{case.id}_{dispatch_id}").set_value(org.person("gz_finance"))
    b.button(key=f"bd_delegate_save_{case.id}").click().run()
    assert any(STALE + name_of(session, org, "callcenter") in e.value for e in b.error), messages(b)
    session.expire_all()
    assert session.get(Dispatch, dispatch_id).delegate_person_id == org.person("gz_head")


def test_a_case_is_chosen_by_its_number_whatever_page_it_is_on(db_url, session, org):
    cases = [make_case(session, org, "gz") for _ in range(60)]
    oldest = cases[0]  # the board shows the newest first: the oldest is on page 2
    at = signed_in_app(db_url, "callcenter", "dispatch_board")
    assert oldest.case_no not in list(at.dataframe[0].value["报案号"])
    at.text_input(key="bd_pick_case_no").input(oldest.case_no)
    click(at, "选择")
    assert any(oldest.case_no in m.value for m in at.markdown if "当前处理" in m.value)
    at.text_input(key=f"bd_amount_{oldest.id}").input("70000")
    click(at, "录入估损并调度")
    assert session.execute(select(Estimate.case_id)).scalars().all() == [oldest.id]


def test_an_implausible_estimate_is_saved_only_once_the_box_is_ticked(db_url, session, org):
    case = make_case(session, org, "gz")
    at = signed_in_app(db_url, "callcenter", "dispatch_board")
    choose_row(at, case.case_no)
    at.text_input(key=f"bd_amount_{case.id}").input("60000000")
    click(at, "录入估损并调度")
    assert any("金额无误" in e.value for e in at.error), messages(at)
    assert session.scalar(select(func.count()).select_from(Estimate)) == 0
    at.checkbox(key=f"bd_confirm_{case.id}").check()
    click(at, "录入估损并调度")
    assert any("¥60,000,000.00" in s.value and case.case_no in s.value for s in at.success), messages(at)
    assert session.scalar(select(Estimate.amount)) == 60000000


def test_a_call_not_answered_needs_its_reason_and_the_reason_is_kept(db_url, session, org, actor_for):
    case, (head, _finance) = _t2_case(session, org, actor_for)
    at = signed_in_app(db_url, "callcenter", "dispatch_board")
    choose_row(at, case.case_no)
    at.selectbox(key=f"bd_contact_dispatch_{case.id}").set_value(head.id).run()
    click(at, "保存")
    assert any("请选择联系结果" in e.value for e in at.error), messages(at)
    at.radio(key=f"bd_outcome_{case.id}").set_value("unavailable").run()
    assert at.radio(key=f"bd_reason_code_{case.id}_unavailable").options == ["出差", "开会"]
    click(at, "保存")
    assert any("未联系上的原因" in e.value and "出差、开会" in e.value for e in at.error), messages(at)
    assert session.scalar(select(func.count()).select_from(ContactAttempt)) == 0
    at.radio(key=f"bd_reason_code_{case.id}_unavailable").set_value("meeting")
    click(at, "保存")
    assert session.execute(select(ContactAttempt.outcome, ContactAttempt.reason_code)).all() == [
        ("unavailable", "meeting")]


# ---------------------------------------------------------------- 案件详情


def state_picker(at):
    """The case detail's 「变更为」 picker (its key names the case version it was drawn for)."""
    return next(s for s in at.selectbox if s.label == "变更为")


def _open_detail(db_url, username: str, case_id: int):
    at = signed_in_app(db_url, username)
    at.session_state["case_id"] = case_id
    at.switch_page("pages/case_detail.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_state_change_from_an_older_case_page_is_refused_and_moves_nothing(db_url, session, org, actor_for):
    """Issue 27: the surveyor's page, drawn at 已调度, offered 调查中; a colleague moved the case to 调查中
    meanwhile, and 确认变更 moved it on to 定损/核损 — a state nobody chose."""
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, "200000")
    session.refresh(case)
    surveyor = _open_detail(db_url, "gz_surveyor1", case.id)
    manager = _open_detail(db_url, "gd_manager", case.id)
    for at in (surveyor, manager):
        state_picker(at).select("investigating")
    click(manager, "确认变更")
    assert any(f"案件 {case.case_no} 已由「已调度」变更为「调查中」" in s.value for s in manager.success), messages(manager)

    click(surveyor, "确认变更")
    assert any(STALE + name_of(session, org, "gd_manager") in e.value for e in surveyor.error), messages(surveyor)
    session.expire_all()
    assert session.get(ClaimCase, case.id).state == "investigating"


def test_a_state_change_needs_a_chosen_state(db_url, session, org, actor_for):
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, "200000")
    at = _open_detail(db_url, "gd_manager", case.id)
    assert state_picker(at).value is None
    click(at, "确认变更")
    assert any("请选择要变更到的状态" in e.value for e in at.error), messages(at)
    session.expire_all()
    assert session.get(ClaimCase, case.id).state == "dispatched"


def test_the_supervisor_sees_no_empty_actions_heading(db_url, session, org, actor_for):
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, "200000")
    supervisor = _open_detail(db_url, "supervisor", case.id)
    assert "操作" not in [s.value for s in supervisor.subheader]
    manager = _open_detail(db_url, "gd_manager", case.id)
    assert "操作" in [s.value for s in manager.subheader]


# ---------------------------------------------------------------- 时效设置, tier table


def test_settings_saved_from_an_older_form_change_only_what_was_changed(db_url, session, org):
    """Issue 27: admin A saved D7 = 40; admin B, whose form was older, changed only D5 and saved: D7
    went back to its old value."""
    a = signed_in_app(db_url, "admin", "admin_rules")
    b = signed_in_app(db_url, "admin", "admin_rules")
    a.text_input(key="admin_set_deadline.D7.hours").input("40")
    click(a, "保存时效设置")
    assert any("D7" in s.value and "48 → 40" in s.value for s in a.success), messages(a)
    b.text_input(key="admin_set_deadline.D5.hours").input("36")
    click(b, "保存时效设置")
    assert any("已保存 1 项设置" in s.value and "D5" in s.value for s in b.success), messages(b)
    session.expire_all()
    stored = dict(session.execute(select(RuleSetting.key, RuleSetting.value)).tuples().all())
    assert (stored["deadline.D7.hours"], stored["deadline.D5.hours"]) == (40, 36)


def test_the_same_setting_saved_by_two_admins_at_once_refuses_the_later(db_url, session, org):
    """Issue 25 item 9: both succeeded and the later silently won."""
    a = signed_in_app(db_url, "admin", "admin_rules")
    b = signed_in_app(db_url, "admin", "admin_rules")
    a.text_input(key="admin_set_deadline.D7.hours").input("40")
    click(a, "保存时效设置")
    b.text_input(key="admin_set_deadline.D7.hours").input("36")
    click(b, "保存时效设置")
    assert any(SELF in e.value for e in b.error), messages(b)
    # B's page says whose value is in force now, and offers to load it.
    assert any("已被" in w.value and "改为 40" in w.value for w in b.warning)
    session.expire_all()
    assert session.get(RuleSetting, "deadline.D7.hours").value == 40


def test_a_national_table_published_from_an_older_page_is_refused(db_url, session, org):
    a = signed_in_app(db_url, "admin", "admin_rules")
    b = signed_in_app(db_url, "admin", "admin_rules")
    for at in (a, b):
        at.session_state["admin_national_editor_1"] = {
            "edited_rows": {0: {"lower": "60000"}}, "added_rows": [], "deleted_rows": []}
        at.run()
    # A raises T1's floor (60,000) and T1 ends where T2 starts; B would have published the same edit.
    click(a, "发布新版本")
    assert any("已发布第 2 版" in s.value for s in a.success), messages(a)
    click(b, "发布新版本")
    assert any(SELF in e.value for e in b.error), messages(b)
    versions = session.execute(select(TierRuleSet.version).where(TierRuleSet.branch_id.is_(None))).scalars().all()
    assert sorted(versions) == [1, 2]


def test_an_unchanged_national_table_is_not_published_again(db_url, session, org):
    at = signed_in_app(db_url, "admin", "admin_rules")
    click(at, "发布新版本")
    assert any("与当前生效的第 1 版完全相同" in e.value for e in at.error), messages(at)
    assert session.scalar(select(func.count()).select_from(TierRuleSet).where(TierRuleSet.branch_id.is_(None))) == 1


def test_a_split_identical_to_the_national_table_is_refused(db_url, session, org):
    manager = signed_in_app(db_url, "gd_manager", "admin_rules")
    click(manager, "提交申请")  # the form opens on the national bands of 50,000–500,000
    assert any("与全国分级标准完全相同" in e.value for e in manager.error), messages(manager)
    assert session.scalar(select(func.count()).select_from(TierRuleSet).where(TierRuleSet.branch_id.is_not(None))) == 0


def _split(at, branch_id: int) -> None:
    """T1 split at 80,000 in the request editor (a change of the national bands)."""
    at.session_state[f"admin_request_editor_{branch_id}_1_0"] = {
        "edited_rows": {0: {"upper": "80000"}, 1: {"lower": "80000"}}, "added_rows": [], "deleted_rows": []}
    at.run()


def test_a_split_filed_from_an_older_page_is_refused(db_url, session, org):
    gd = org.branch("gd").id
    manager = signed_in_app(db_url, "gd_manager", "admin_rules")
    admin = signed_in_app(db_url, "admin", "admin_rules")
    admin.selectbox(key="admin_request_branch").set_value(gd).run()
    for at in (manager, admin):
        _split(at, gd)
    click(manager, "提交申请")
    assert any("已提交广东分公司的细分申请（第 1 版）" in s.value for s in manager.success), messages(manager)
    click(admin, "提交申请")
    assert any(STALE + name_of(session, org, "gd_manager") in e.value for e in admin.error), messages(admin)
    assert session.scalar(select(func.count()).select_from(TierRuleSet).where(TierRuleSet.branch_id == gd)) == 1


def test_a_request_decided_from_an_older_page_is_refused(db_url, session, org, actor_for):
    from dashboard.rules.tier_bands import BandInput
    from dashboard.services.admin.tier_admin import request_branch_subtiers

    request_id = request_branch_subtiers(session, actor_for("gd_manager"), org.branch("gd").id, [
        BandInput("T1A", "50000", "80000", ["sub_claims_head"]), BandInput("T1B", "80000", "200000", ["sub_head"]),
        BandInput("T2", "200000", "500000", ["sub_head", "sub_finance_head"])])
    a = signed_in_app(db_url, "admin", "admin_rules")
    b = signed_in_app(db_url, "admin", "admin_rules")
    a.button(key=f"admin_ok_{request_id}").click().run()
    assert any("已批准广东分公司第 1 版细分标准" in s.value for s in a.success), messages(a)
    b.text_input(key=f"admin_note_{request_id}").input("资料不全")
    b.button(key=f"admin_no_{request_id}").click().run()
    assert any(SELF in e.value for e in b.error), messages(b)
    session.expire_all()
    assert session.get(TierRuleSet, request_id).status == "active"


def test_a_refused_setting_names_the_setting_and_its_range_under_a_settings_heading(db_url, session, org):
    at = signed_in_app(db_url, "admin", "admin_rules")
    for key, typed in (("deadline.D1.hours", "1e2"), ("deadline.D2.hours", "0.001"),
                       ("session.idle_minutes", "0.01")):
        at.text_input(key=f"admin_set_{key}").input(typed)
    click(at, "保存时效设置")
    text = messages(at)
    assert "有 3 处需要修改，设置未保存" in text and "案件未保存" not in text
    assert "D1 查勘员上传查勘资料（调度后小时数）：请填写 1–168 之间的整小时或半小时" in text
    assert "无操作自动退出（分钟）：请填写 5–480 之间的整数分钟" in text
    session.expire_all()
    assert session.get(RuleSetting, "session.idle_minutes").value == 30
    # The range is shown beside the field before anything is refused.
    assert any("范围 5–480 分钟" in c.value for c in at.caption)


# ---------------------------------------------------------------- 督导与进展


def open_tab(at) -> str:
    """The label of the tab the page shows open (what the browser is told to show after a rerun)."""
    def walk(node):
        if getattr(node, "type", None) == "tab_container":
            yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    tabs = next(walk(at.main))
    labels = [child.label for child in tabs.children.values()]
    return labels[tabs.proto.tab_container.default_tab_index]


def test_assigning_a_branch_twice_at_once_says_who_did_it_and_keeps_one_assignment(db_url, session, org):
    from db.models import SupervisorAssignment

    gd, person = org.branch("gd").id, org.person("supervisor2")
    a = signed_in_app(db_url, "admin", "supervision")
    b = signed_in_app(db_url, "admin", "supervision")
    for at in (a, b):
        at.session_state["sup_tab"] = "执委督导机构分配"
        at.run()
        at.selectbox(key="sup_admin_person").set_value(person)
        at.selectbox(key="sup_admin_branch").set_value(gd)
    a.button(key="sup_assign").click().run()
    assert any("已分配" in s.value and "广东分公司" in s.value for s in a.success), messages(a)
    assert open_tab(a) == "执委督导机构分配"  # the page stays on the tab the admin was on

    b.button(key="sup_assign").click().run()
    assert not b.success  # 「已负责」 is news, not a success
    assert any("已负责广东分公司" in i.value and name_of(session, org, "admin") in i.value for i in b.info), messages(b)
    assert session.scalar(select(func.count()).select_from(SupervisorAssignment).where(
        SupervisorAssignment.person_id == person, SupervisorAssignment.branch_id == gd)) == 1


def test_removing_an_assignment_a_colleague_already_removed_is_refused(db_url, session, org):
    gd, person = org.branch("gd").id, org.person("supervisor")  # assigned in the demo organisation
    a = signed_in_app(db_url, "admin", "supervision")
    b = signed_in_app(db_url, "admin", "supervision")
    for at in (a, b):
        at.selectbox(key="sup_admin_person").set_value(person)
        at.selectbox(key="sup_admin_branch").set_value(gd)
    a.button(key="sup_unassign").click().run()
    assert any("已取消" in s.value for s in a.success), messages(a)
    b.button(key="sup_unassign").click().run()
    assert any(SELF in e.value for e in b.error), messages(b)


def reply_picker(at):
    return next(s for s in at.selectbox if s.label == "回复的督导意见")


def _followed_case(session, org, actor_for):
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, "80000")  # T1: gz_claims goes
    return case


def test_an_opinion_written_from_an_older_thread_is_refused(db_url, session, org, actor_for):
    """Two supervisors of 广东 write at once: the second did not see the first's opinion."""
    from db.models import Opinion, SupervisorAssignment

    session.add(SupervisorAssignment(person_id=org.person("supervisor2"), branch_id=org.branch("gd").id))
    session.commit()
    case = _followed_case(session, org, actor_for)
    a = signed_in_app(db_url, "supervisor", "supervision")
    b = signed_in_app(db_url, "supervisor2", "supervision")
    for at, body in ((a, "请今日到现场核实三者损失"), (b, "请尽快到现场")):
        at.selectbox(key="sup_case").set_value(case.id).run()
        at.text_area(key="sup_body").input(body)
    a.button(key="sup_post").click().run()
    claims = name_of(session, org, "gz_claims")
    assert any(f"督导意见已发送给 {claims}（案件 {case.case_no}）" in s.value for s in a.success), messages(a)
    b.button(key="sup_post").click().run()
    assert any(STALE + name_of(session, org, "supervisor") in e.value for e in b.error), messages(b)
    assert session.scalar(select(func.count()).select_from(Opinion).where(Opinion.case_id == case.id)) == 1


def test_a_reply_from_an_older_thread_is_refused_and_an_answered_opinion_is_not_preselected(
        db_url, session, org, actor_for):
    from dashboard.services.review.supervision import post_supervision_opinion
    from db.models import ProgressNote

    case = _followed_case(session, org, actor_for)
    first = post_supervision_opinion(session, actor_for("supervisor"), case.id, "请今日到现场")
    fr = signed_in_app(db_url, "gz_claims", "supervision")
    fr.selectbox(key="sup_case").set_value(case.id).run()
    assert reply_picker(fr).value == first  # the opinion awaiting a reply
    fr.text_area(key="sup_progress").input("已到现场，三者车损约2万元。")
    fr.button(key="sup_progress_post").click().run()
    assert any("已回复" in s.value and case.case_no in s.value for s in fr.success), messages(fr)
    assert reply_picker(fr).value is None  # the answered opinion is not offered first again

    # Meanwhile the supervisor writes again; a reply from the page drawn before is refused.
    later = signed_in_app(db_url, "gz_claims", "supervision")
    later.selectbox(key="sup_case").set_value(case.id).run()
    post_supervision_opinion(session, actor_for("supervisor"), case.id, "请补充三者车辆照片")
    later.text_area(key="sup_progress").input("已补充照片。")
    later.button(key="sup_progress_post").click().run()
    assert any(STALE + name_of(session, org, "supervisor") in e.value for e in later.error), messages(later)
    assert session.scalar(select(func.count()).select_from(ProgressNote).where(ProgressNote.case_id == case.id)) == 1


# ---------------------------------------------------------------- 红黄蓝 (issue 19)


def test_the_risk_facts_saved_from_an_older_case_page_are_refused_and_kept_on_the_form(db_url, session, org):
    """Two surveyors' pages of the same case: the later save names the first and writes nothing."""
    from db.models import ClaimCase as Case

    case = make_case(session, org, "gz", vehicle_age_years=3, vehicle_use="private")
    pages = []
    for username in ("gz_surveyor1", "callcenter"):
        at = signed_in_app(db_url, username)
        at.session_state["case_id"] = case.id
        at.switch_page("pages/case_detail.py")
        at.run()
        assert not at.exception, at.exception
        pages.append(at)
    first, second = pages
    key = f"risk_{case.id}_{case.version}"
    first.text_input(key=f"{key}_vehicle_damage").input("3000")
    click(first, "保存并重新分类")
    assert any(case.case_no in s.value for s in first.success), messages(first)
    second.text_input(key=f"{key}_vehicle_damage").input("88000")
    click(second, "保存并重新分类")
    assert any(STALE in e.value and name_of(session, org, "gz_surveyor1") in e.value for e in second.error), \
        messages(second)
    # The typed value stays, in the form of the case as it is now.
    assert second.text_input(key=f"risk_{case.id}_{case.version + 1}_vehicle_damage").value == "88000"
    session.expire_all()
    assert session.get(Case, case.id).vehicle_damage == 3000


def test_red_yellow_blue_rules_published_from_an_older_form_are_refused(db_url, session, owner_session, org):
    from db.models import RiskRuleSet, RoleAssignment

    hq = owner_session.scalar(select(RoleAssignment.unit_id).where(RoleAssignment.person_id == org.person("admin")))
    owner_session.add(RoleAssignment(person_id=org.person("reviewer2"), role="hq_admin", unit_id=hq))
    owner_session.commit()
    first, second = (signed_in_app(db_url, username, "admin_rules") for username in ("admin", "reviewer2"))
    first.text_input(key="risk_1_old_vehicle_years").input("8")
    click(first, "发布红黄蓝规则新版本")
    assert any("第 2 版" in s.value for s in first.success), messages(first)
    second.text_input(key="risk_1_late_report_hours").input("24")
    click(second, "发布红黄蓝规则新版本")
    assert any(STALE in e.value and name_of(session, org, "admin") in e.value for e in second.error), messages(second)
    assert second.text_input(key="risk_2_late_report_hours").value == "24"  # kept, on the form of v2
    versions = session.execute(select(RiskRuleSet.version, RiskRuleSet.thresholds)).all()
    assert len(versions) == 2 and all(v.thresholds["late_report_hours"] == 48 for v in versions)
