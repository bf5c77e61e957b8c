"""Special cases and the complaint register on their pages (issue 20): the journey from one role to
the next — a branch raises, each level's holder finds the request waiting and decides; a complaint
is registered, assigned, handled, visited and archived — with the refusals shown in Chinese, two
people at once on the same request, and the overdue tracker's list of items without a visit."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from dashboard.services.complaints.register import ItemForm, register_item
from dashboard.services.special_cases.approvals import SpecialRequest, raise_special
from db.models import ComplaintItem, SpecialCase
from tests.app.helpers import signed_in_app
from tests.factories import make_case


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def _ok(at) -> None:
    assert not at.exception, at.exception


def _raise_form(at, case_no: str, special_type: str, requested: str, normal: str, reason: str,
                circumstances: list[str] | None = None) -> None:
    """The raise form's first fields, for a key customer."""
    at.text_input(key="sp_case_no").input(case_no)
    at.selectbox(key="sp_new_type").set_value(special_type)
    at.selectbox(key="sp_new_kind").set_value("key_customer")
    if circumstances:
        at.multiselect(key="sp_new_circ").set_value(circumstances)
    at.text_input(key="sp_new_requested").input(requested)
    at.text_input(key="sp_new_normal").input(normal)
    at.text_area(key="sp_new_reason").input(reason)


def _key_customer_justification(at) -> None:
    for name, value in (("policy_numbers", "PDAA2026000001"), ("premium_written", "1200000"),
                        ("premium_collected", "1200000"), ("paid_losses", "300000"), ("pending_losses", "0"),
                        ("past_loss_ratio_pct", "38")):
        at.text_input(key=f"sp_new_{name}").input(value)


def test_a_branch_raises_a_special_case_and_each_level_finds_it_waiting_and_decides(db_url, session, org, actor_for):
    case = make_case(session, org, "gz")
    at = signed_in_app(db_url, "gd_manager", "special_cases")
    _ok(at)
    older_case = make_case(session, org, "sz")
    older = raise_special(session, actor_for("gd_manager"), older_case.id, SpecialRequest(
        special_type="A", customer_kind="reputation", requested_amount="9000", normal_amount="0",
        reason="早先的审批单", customer_background="省属国企"))
    at.session_state["sp_selected"] = older.id  # a request open on 审批单 before this one is raised
    _raise_form(at, case.case_no, "C", "30,000", "12000", "大客户车队，要求按新车价赔付", ["drunk_driving"])
    at.run()
    _ok(at)
    assert any(m.value.startswith(f"**审批单 · {older_case.case_no}") for m in at.markdown)
    # The chain the amount climbs is shown before raising; the justification the customer type asks for.
    assert any("三级机构理赔负责人 → 三级机构总经理" in i.value for i in at.info), [i.value for i in at.info]
    _key_customer_justification(at)
    _button(at, "上报审批").click()
    at.run()
    _ok(at)
    refused = " ".join(e.value for e in at.error)
    assert "C 类特殊赔案不适用于酒后驾车案件" in refused and "案件是否涉及以下情形" in refused
    assert at.text_area(key="sp_new_reason").value == "大客户车队，要求按新车价赔付"  # nothing typed is lost
    at.multiselect(key="sp_new_circ").set_value([])
    _button(at, "上报审批").click()
    at.run()
    _ok(at)
    assert any(case.case_no in s.value and "三级机构理赔负责人" in s.value for s in at.success), \
        [e.value for e in at.error]
    row = session.scalars(select(SpecialCase).where(SpecialCase.case_id == case.id)).one()
    assert row.chain == ["sub_claims_head", "sub_gm"]
    # The form is empty for the next request: nothing of this one is left to be taken for unsent.
    assert (at.text_input(key="sp_case_no").value, at.selectbox(key="sp_new_type").value,
            at.selectbox(key="sp_new_kind").value, at.text_input(key="sp_new_requested").value,
            at.text_area(key="sp_new_reason").value) == ("", None, None, "", "")
    # ... and 审批单 opens the request just raised, not the one open before.
    assert any(m.value.startswith(f"**审批单 · {case.case_no}") for m in at.markdown), \
        [m.value for m in at.markdown if "审批单 ·" in m.value]

    for username, done in (("gz_claims", "审批中"), ("gz_head", "已批准")):
        approver = signed_in_app(db_url, username, "special_cases")
        _ok(approver)
        assert approver.toggle(key="sp_mine").value is True
        table = next(d for d in approver.dataframe if d.key == "sp_table")
        assert list(table.value["报案号"]) == [case.case_no]
        approver.session_state["sp_selected"] = row.id
        approver.run()
        # The justification reads as facts, without the form's typing hints.
        shown = " ".join(m.value for m in approver.markdown)
        assert "相关业务保单号：PDAA2026000001" in shown and "签单保费：¥1,200,000" in shown, shown
        assert "多张用逗号分隔" not in shown and "（元）" not in shown, shown
        session.expire_all()
        version = session.get(SpecialCase, row.id).version
        key = f"sp_dec_{row.id}_{version}"
        approver.radio(key=f"{key}_decision").set_value("approved")
        approver.text_area(key=f"{key}_comment").input("同意，额外赔付由业务部门费用承担")
        _button(approver, "提交审批").click()
        approver.run()
        _ok(approver)
        assert any("已提交审批" in s.value for s in approver.success), [e.value for e in approver.error]
        # The request left 待我审批, which is now empty, yet stays open below it with the decision on it.
        assert not [d for d in approver.dataframe if d.key == "sp_table"]
        assert any(case.case_no in m.value and done in m.value for m in approver.markdown), \
            [m.value for m in approver.markdown]
        session.expire_all()
        assert {"审批中": "pending", "已批准": "approved"}[done] == session.get(SpecialCase, row.id).status
    # The request travels with the case: its page shows it.
    viewer = signed_in_app(db_url, "gd_manager")
    viewer.session_state["case_id"] = case.id
    viewer.switch_page("pages/case_detail.py")
    viewer.run()
    _ok(viewer)
    assert any("已批准" in m.value and "额外 ¥18,000.00" in m.value for m in viewer.markdown)


def test_a_claims_head_raises_his_own_request_and_his_general_manager_finds_it(db_url, session, org):
    """The walk's stuck request, on the page: 广州's only claims head raises 30,000. The form shows
    his own level passed, the request waits for 三级机构总经理, he is shown no decision form, and
    gz_head finds it waiting and approves it."""
    case = make_case(session, org, "gz")
    at = signed_in_app(db_url, "gz_claims", "special_cases")
    _ok(at)
    _button(at, "上报审批").click()  # nothing filled in: every field asked for by name, at once
    at.run()
    _ok(at)
    said = " ".join(e.value for e in at.error)
    for named in ("报案号：必填", "特殊赔案类别", "客户类型", "请求赔付金额", "特殊赔案说明"):
        assert named in said, said
    _raise_form(at, case.case_no, "B", "30000", "12000", "客户要求按4S店原厂配件价格赔付")
    at.run()
    _ok(at)
    assert any("三级机构理赔负责人（本人上报，视为本级同意） → 三级机构总经理" in i.value for i in at.info), \
        [i.value for i in at.info]
    _key_customer_justification(at)
    _button(at, "上报审批").click()
    at.run()
    _ok(at)
    assert any(case.case_no in s.value and "待 三级机构总经理 审批" in s.value for s in at.success), \
        [e.value for e in at.error]
    row = session.scalars(select(SpecialCase).where(SpecialCase.case_id == case.id)).one()
    at.session_state["sp_selected"] = row.id
    at.toggle(key="sp_mine").set_value(False)
    at.run()
    _ok(at)
    assert not [f for f in at.get("form")], "the raiser is offered no decision"
    assert any("您本人上报" in c.value and "三级机构总经理" in c.value for c in at.caption), \
        [c.value for c in at.caption]
    assert any("本人上报，本级视为同意" in m.value for m in at.markdown)

    head = signed_in_app(db_url, "gz_head", "special_cases")
    _ok(head)
    table = next(d for d in head.dataframe if d.key == "sp_table")
    assert list(table.value["报案号"]) == [case.case_no]
    head.session_state["sp_selected"] = row.id
    head.run()
    assert [f for f in head.get("form")], "the level's holder is offered the decision"
    key = f"sp_dec_{row.id}_{row.version}"
    head.radio(key=f"{key}_decision").set_value("approved")
    head.text_area(key=f"{key}_comment").input("同意")
    _button(head, "提交审批").click()
    head.run()
    _ok(head)
    session.expire_all()
    assert session.get(SpecialCase, row.id).status == "approved"


def _both_decide(db_url: str, special_id: int, first_user: str, second_user: str,
                 decisions: tuple[tuple[str, str], tuple[str, str]]):
    """Two holders of a level open the same request (its form drawn at version 1), each choosing a
    decision and typing a comment; the first submits, then the second. Both pages are returned."""
    first, second = (signed_in_app(db_url, u, "special_cases") for u in (first_user, second_user))
    key = f"sp_dec_{special_id}_1"
    for at, (decision, comment) in zip((first, second), decisions):
        at.session_state["sp_selected"] = special_id
        at.run()
        _ok(at)
        assert at.radio(key=f"{key}_decision").value is None  # nothing chosen for the approver
        at.radio(key=f"{key}_decision").set_value(decision)
        at.text_area(key=f"{key}_comment").input(comment)
    for at in (first, second):
        _button(at, "提交审批").click()
        at.run()
        _ok(at)
    return first, second


def test_two_approvers_of_one_level_at_once_the_later_is_told_who_decided(db_url, session, org, actor_for,
                                                                          owner_session):
    case = make_case(session, org, "gz")
    row = raise_special(session, actor_for("gd_manager"), case.id, SpecialRequest(
        special_type="A", customer_kind="reputation", requested_amount="9000", normal_amount="0",
        reason="明确除外，客户为省重点企业", customer_background="省属国企"))
    # A second branch GM (a deputy) holds the same post.
    owner_session.execute(text(
        "INSERT INTO role_assignment (person_id, role, unit_id, position) "
        "VALUES (:p, 'first_responsible', :u, 'branch_gm')"), {"p": org.person("gd_claims"), "u": org.branch("gd").id})
    owner_session.commit()
    _first, second = _both_decide(db_url, row.id, "gd_gm", "gd_claims",
                                  (("approved", "意见"), ("rejected", "不同意：理由不足，请补充客户贡献材料")))
    key = f"sp_dec_{row.id}_1"
    gm_name = session.scalar(text("SELECT full_name FROM person WHERE id = :p"), {"p": org.person("gd_gm")})
    # Said as a decision taken, not "reload and try again" (which invited a second decision).
    assert any(f"未提交：这一级已由{gm_name}于" in e.value and "重试" not in e.value for e in second.error), \
        [e.value for e in second.error]
    # The request has gone on: no form for the later approver, but what they typed is shown to keep.
    assert not [w for w in second.text_area if w.key == f"{key}_comment"]
    assert any("您填写的审批意见未提交" in i.value and "不同意：理由不足，请补充客户贡献材料" in i.value
               for i in second.info), [i.value for i in second.info]
    session.expire_all()
    assert session.get(SpecialCase, row.id).status == "approved"


def test_a_later_approver_who_also_holds_the_next_level_gets_that_levels_form_empty(db_url, session, org,
                                                                                   actor_for, owner_session):
    """gz_head holds both 广州 posts of a 30,000 request's chain (a second claims head, and the
    sub-branch head). gz_claims decides the first level while gz_head's form is open: gz_head's
    submit is refused as decided, and the form he then gets is the next level's, empty, with no
    decision chosen; what he typed for the first level is shown to copy, not sent with one click."""
    owner_session.execute(text(
        "INSERT INTO role_assignment (person_id, role, unit_id, position) "
        "VALUES (:p, 'first_responsible', :u, 'sub_claims_head')"), {"p": org.person("gz_head"),
                                                                     "u": org.sub_branch("gz").id})
    owner_session.commit()
    case = make_case(session, org, "gz")
    row = raise_special(session, actor_for("gd_manager"), case.id, SpecialRequest(
        special_type="B", customer_kind="key_customer", requested_amount="30000", normal_amount="18000",
        reason="物流车队客户，要求按新车价赔付", policy_numbers="PDAA2026000001", premium_written="1200000",
        premium_collected="1200000", paid_losses="300000", pending_losses="0", past_loss_ratio_pct="38"))
    assert row.chain == ["sub_claims_head", "sub_gm"]
    _first, second = _both_decide(db_url, row.id, "gz_claims", "gz_head",
                                  (("approved", "理赔负责人意见：同意"), ("approved", "作为理赔负责人：同意上报")))
    assert any("未提交：这一级已由" in e.value for e in second.error), [e.value for e in second.error]
    session.expire_all()
    assert session.get(SpecialCase, row.id).next_level == 1  # one decision, the first holder's
    next_key = f"sp_dec_{row.id}_2"
    assert second.text_area(key=f"{next_key}_comment").value == ""
    assert second.radio(key=f"{next_key}_decision").value is None
    assert any("您填写的审批意见未提交" in i.value and "作为理赔负责人：同意上报" in i.value for i in second.info), \
        [i.value for i in second.info]
    _button(second, "提交审批").click()  # nothing chosen, nothing typed: refused by name, nothing written
    second.run()
    _ok(second)
    refused = " ".join(e.value for e in second.error)
    assert "请选择“同意”或“不同意”" in refused, refused
    session.expire_all()
    assert session.get(SpecialCase, row.id).next_level == 1


def test_a_complaint_goes_from_the_register_to_the_archive_on_the_page(db_url, session, org, actor_for):
    case = make_case(session, org, "gz")
    at = signed_in_app(db_url, "gd_manager", "complaints")
    _ok(at)
    at.selectbox(key="cp_new_kind").set_value("complaint")
    at.selectbox(key="cp_new_cause").set_value("speed")
    at.selectbox(key="cp_new_channel").set_value("regulator")
    at.text_input(key="cp_new_case_no").input(case.case_no)
    at.text_input(key="cp_new_complainant").input("李女士")
    at.text_area(key="cp_new_summary").input("定损后两周未赔付，向监管投诉")
    _button(at, "登记").click()
    at.run()
    _ok(at)
    assert any("已登记 TS" in s.value for s in at.success), [e.value for e in at.error]
    item = session.scalars(select(ComplaintItem).where(ComplaintItem.case_id == case.id)).one()
    assert at.session_state["cp_pick"] == item.id  # the register opens the new item

    def refresh() -> ComplaintItem:
        session.expire_all()
        return session.get(ComplaintItem, item.id)

    key = f"cp_assign_{item.id}_1"
    at.selectbox(key=f"{key}_who").set_value(org.person("gz_claims"))
    _button(at, "保存负责人").click()
    at.run()
    _ok(at)
    assert refresh().step == "assigned"
    adv = f"cp_adv_{item.id}_{refresh().version}"
    # Where there is a choice, none is made for the person, and there is nothing to submit yet.
    assert len(at.selectbox(key=f"{adv}_target").options) > 1
    assert at.selectbox(key=f"{adv}_target").value is None
    assert not [b for b in at.button if b.key == f"{adv}_go"]
    at.selectbox(key=f"{adv}_target").set_value("handled")
    at.run()
    at.radio(key=f"{adv}_justified").set_value(True)
    at.run()
    at.text_area(key=f"{adv}_handling_result").input("已加急赔付")
    _button(at, "提交").click()
    at.run()
    _ok(at)
    refused = " ".join(e.value for e in at.error)
    assert "赔礼道歉情况" in refused and "投诉属实，请记录致歉情况和整改措施" in refused
    at.text_area(key=f"{adv}_apology").input("经办人已当面致歉")
    at.text_area(key=f"{adv}_measure").input("建立超期预警")
    _button(at, "提交").click()
    at.run()
    _ok(at)
    assert refresh().step == "handled" and refresh().outcome == "justified"
    adv = f"cp_adv_{item.id}_{refresh().version}"
    assert at.selectbox(key=f"{adv}_target").options == ["已回访"]
    at.text_area(key=f"{adv}_return_visit").input("电话回访，客户满意")
    _button(at, "提交").click()
    at.run()
    adv = f"cp_adv_{item.id}_{refresh().version}"
    assert at.selectbox(key=f"{adv}_target").options == ["已归档"]
    _button(at, "提交").click()
    at.run()
    _ok(at)
    assert refresh().step == "archived"
    assert any("该事项已归档" in c.value for c in at.caption)


def test_another_branch_sees_none_of_it_and_the_tracker_lists_items_without_a_visit(db_url, session, org, actor_for,
                                                                                     now):
    register_item(session, actor_for("gd_manager"), ItemForm(
        kind="dispute", cause="amount", channel="visit", branch_id=org.branch("gd").id, complainant="王先生",
        summary="对赔款金额有异议", received_on=(now - timedelta(days=20)).date()), now=now - timedelta(days=20))
    other = signed_in_app(db_url, "zj_manager", "complaints")
    _ok(other)
    assert not any(d.key == "cp_table" for d in other.dataframe)
    tracker = signed_in_app(db_url, "gd_manager", "overdue")
    _ok(tracker)
    assert any("超时未回访" in h.value for h in tracker.subheader)
    listed = next(d for d in tracker.dataframe if d.key == "ov_complaints")
    assert list(listed.value["投诉人 / 当事人"]) == ["王先生"]
    analysis = signed_in_app(db_url, "executive", "complaints")
    _ok(analysis)
    assert any("共 1 件" in c.value for c in analysis.caption)


def test_two_people_handling_one_item_the_later_is_refused_and_keeps_what_they_typed(db_url, session, org,
                                                                                       actor_for):
    item = register_item(session, actor_for("gd_manager"), ItemForm(
        kind="dispute", cause="amount", channel="phone", branch_id=org.branch("gd").id, complainant="王先生",
        summary="对赔款金额有异议", received_on=session.scalar(text("SELECT current_date")),
        assignee_id=org.person("gd_claims")))
    manager, tracker = (signed_in_app(db_url, u, "complaints") for u in ("gd_manager", "gd_tracker"))
    for at in (manager, tracker):
        at.session_state["cp_selected"] = item.id
        at.run()
        _ok(at)
    key = f"cp_adv_{item.id}_1"
    tracker.selectbox(key=f"{key}_target").set_value("handled")
    tracker.run()
    tracker.text_area(key=f"{key}_handling_result").input("与客户协商一致，按 6 万元赔付")
    # Meanwhile the manager hands the item to the sub-branch's claims head.
    manager.selectbox(key=f"cp_assign_{item.id}_1_who").set_value(org.person("gz_claims"))
    _button(manager, "保存负责人").click()
    manager.run()
    _ok(manager)
    _button(tracker, "提交").click()
    tracker.run()
    _ok(tracker)
    manager_name = session.scalar(text("SELECT full_name FROM person WHERE id = :p"), {"p": org.person("gd_manager")})
    assert any("该记录已被他人修改" in e.value and manager_name in e.value for e in tracker.error), \
        [e.value for e in tracker.error]
    session.expire_all()
    assert session.get(ComplaintItem, item.id).step == "assigned"
    # What the tracker chose and typed is drawn again in the form of the item as it now is.
    fresh = f"cp_adv_{item.id}_2"
    assert tracker.selectbox(key=f"{fresh}_target").value == "handled"
    assert tracker.text_area(key=f"{fresh}_handling_result").value == "与客户协商一致，按 6 万元赔付"
    _button(tracker, "提交").click()
    tracker.run()
    session.expire_all()
    assert session.get(ComplaintItem, item.id).handling_result == "与客户协商一致，按 6 万元赔付"


def test_the_landing_page_reminds_approvers_and_assignees_of_what_waits_for_them(db_url, session, org, actor_for,
                                                                                now):
    raise_special(session, actor_for("gd_manager"), make_case(session, org, "gz").id, SpecialRequest(
        special_type="B", customer_kind="reputation", requested_amount="9000", normal_amount="0", reason="声誉",
        customer_background="省重点企业"))
    register_item(session, actor_for("gd_manager"), ItemForm(
        kind="complaint", cause="speed", channel="phone", branch_id=org.branch("gd").id, complainant="李女士",
        summary="未赔付", received_on=(now - timedelta(days=20)).date(), assignee_id=org.person("gd_gm")),
        now=now - timedelta(days=20))
    gm = signed_in_app(db_url, "gd_gm")
    _ok(gm)
    assert any("1 张特殊赔案审批单待您审批" in w.value for w in gm.warning), [w.value for w in gm.warning]
    assert any("1 件投诉/纠纷/疑难事项落实到您" in e.value and "1 件已超时未回访" in e.value for e in gm.error)
    _button(gm, "去处理").click()
    gm.run()
    _ok(gm)
    assert any("特殊赔案审批" in h.value for h in gm.title)
    other = signed_in_app(db_url, "zj_gm")
    assert not other.warning and not any("投诉" in e.value for e in other.error)


def test_my_messages_lists_what_was_sent_to_me_and_marks_it_read(db_url, session, org, actor_for):
    raise_special(session, actor_for("gd_manager"), make_case(session, org, "gz").id, SpecialRequest(
        special_type="B", customer_kind="reputation", requested_amount="9000", normal_amount="0", reason="声誉",
        customer_background="省重点企业"))
    at = signed_in_app(db_url, "gd_gm", "messages")
    _ok(at)
    assert any("您有 1 条未读" in c.value for c in at.caption)
    table = next(d for d in at.dataframe if d.key == "msg_table")
    assert list(table.value["类型"]) == ["特殊赔案待审批"] and list(table.value["状态"]) == ["未读"]
    _button(at, "本页 1 条未读标为已读").click()
    at.run()
    _ok(at)
    assert any("您有 0 条未读" in c.value for c in at.caption)


def test_a_search_opens_the_item_searched_for_and_a_save_lands_on_it(db_url, session, org, actor_for):
    """A browser walk searched one item's number while another was open: the list showed the one
    searched for, the forms below stayed the other's, and the save landed on the other."""
    manager = actor_for("gd_manager")

    def register(complainant: str):
        return register_item(session, manager, ItemForm(
            kind="dispute", cause="amount", channel="phone", branch_id=org.branch("gd").id, complainant=complainant,
            summary="对赔款金额有异议", received_on=session.scalar(text("SELECT current_date"))))

    older, newer = register("王先生"), register("赵女士")
    at = signed_in_app(db_url, "gd_manager", "complaints")
    _ok(at)
    assert at.session_state["cp_pick"] == newer.id  # the newest opens first
    at.text_input(key="cp_search").input(older.item_no)
    at.run()
    _ok(at)
    assert at.selectbox(key="cp_pick").value == older.id
    at.selectbox(key=f"cp_assign_{older.id}_1_who").set_value(org.person("gz_claims"))
    _button(at, "保存负责人").click()
    at.run()
    _ok(at)
    session.expire_all()
    assert session.get(ComplaintItem, older.id).assignee_id == org.person("gz_claims")
    assert session.get(ComplaintItem, newer.id).assignee_id is None
    # The search cleared, both are listed again: the open item, still in the list, stays open.
    at.text_input(key="cp_search").input("")
    at.run()
    _ok(at)
    assert at.selectbox(key="cp_pick").value == older.id


def test_the_box_giving_back_a_label_s_text_opens_that_item(db_url, session, org, actor_for):
    """In Chromium the box gave back the open item's label text, not its id, once the label it was
    shown with had changed; the page then failed turning the text into an id. The text is mapped
    back to its item."""
    item = register_item(session, actor_for("gd_manager"), ItemForm(
        kind="dispute", cause="amount", channel="phone", branch_id=org.branch("gd").id, complainant="王先生",
        summary="对赔款金额有异议", received_on=session.scalar(text("SELECT current_date"))))
    at = signed_in_app(db_url, "gd_manager", "complaints")
    _ok(at)
    label = at.selectbox(key="cp_pick").options[0]
    assert item.item_no in label
    at.session_state["cp_pick"] = label  # what the browser's box sent back
    at.run()
    _ok(at)
    assert at.selectbox(key="cp_pick").value == item.id
    assert not at.error, [e.value for e in at.error]


def test_a_received_date_out_of_range_is_refused_by_name_not_replaced_by_today(db_url, session, org):
    """In Chromium a date box drops a typed day outside its min / max without a word, keeping the
    one it had: 2027 typed as the received date was saved as today. The box takes any day, and the
    service names the field and the dates allowed."""
    from datetime import date

    case = make_case(session, org, "gz")
    at = signed_in_app(db_url, "gd_manager", "complaints")
    _ok(at)
    box = at.date_input(key="cp_new_received_on")
    typed = date(2027, 1, 5)
    assert box.min <= date(1990, 1, 1) and typed <= box.max  # the browser keeps what is typed, early or late
    at.selectbox(key="cp_new_cause").set_value("speed")
    at.selectbox(key="cp_new_channel").set_value("phone")
    at.text_input(key="cp_new_case_no").input(case.case_no)
    at.text_input(key="cp_new_complainant").input("李女士")
    at.text_area(key="cp_new_summary").input("定损后两周未赔付")
    box.set_value(typed)
    _button(at, "登记").click()
    at.run()
    _ok(at)
    refused = " ".join(e.value for e in at.error)
    assert "受理日期" in refused and "2027-01-05 超出允许范围" in refused, refused
    assert session.scalar(text("SELECT count(*) FROM complaint_item")) == 0
