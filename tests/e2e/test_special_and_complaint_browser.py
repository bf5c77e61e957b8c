"""Special cases and complaints in real browsers, on a busy branch (issue 20).

广东 already holds 40 special-case requests waiting at one level or another when its manager raises
a new one in one browser; the 广州 claims head, in another, finds it waiting for them and approves;
the sub-branch GM approves in a third, and the request is approved — the decisions land on the new
request and on no other. The call center registers a complaint in the register; the branch manager
finds it, assigns it, records the handling with the apology and the measure, the return visit, and
archives it.
"""
from __future__ import annotations

from sqlalchemy import func, select
from playwright.sync_api import expect

from dashboard.services.special_cases.approvals import SpecialRequest, raise_special
from db.models import ComplaintItem, ComplaintStep, SpecialApproval, SpecialCase
from tests.e2e.conftest import choose, screenshot, settle, sign_in, wait_for_db
from tests.factories import make_case

TIMEOUT = 30_000


def _page(browser, app_server: str, username: str, path: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    sign_in(page, app_server, username)
    expect(page.get_by_text("您好")).to_be_visible(timeout=TIMEOUT)
    page.locator(f'a[href="{path}"]').first.click()
    settle(page)
    return page


def _fill(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Tab")
    settle(page)


def test_a_special_case_raised_on_a_busy_branch_is_found_and_approved_level_by_level(app_server, browser, session,
                                                                                      org, actor_for):
    manager_actor = actor_for("gd_manager")
    for n in range(40):
        older = make_case(session, org, "gz" if n % 2 else "sz")
        raise_special(session, manager_actor, older.id, SpecialRequest(
            special_type="B", customer_kind="reputation", requested_amount=str(5000 + n * 7000), normal_amount="0",
            reason=f"第 {n} 号旧申请", customer_background="省重点企业"))
    case = make_case(session, org, "gz")
    waiting_before = session.scalar(select(func.count()).select_from(SpecialCase).where(SpecialCase.status == "pending"))

    manager = _page(browser, app_server, "gd_manager", "special_cases")
    manager.get_by_role("tab", name="上报特殊赔案").click()
    settle(manager)
    _fill(manager, "报案号", case.case_no)
    choose(manager, "特殊赔案类别", "B 类：属于保险责任，客户要求提高赔付")
    choose(manager, "客户类型", "大客户 / 优质客户")
    _fill(manager, "请求赔付金额（元）", "30000")
    _fill(manager, "按正常理赔核定的赔款（元；A 类通常为 0）", "18000")
    manager.get_by_label("特殊赔案说明（案情、客户要求）").fill("物流车队客户，要求按新车价赔付")
    for label, value in (("相关业务保单号（多张用逗号分隔）", "PDAA2026000001"), ("签单保费（元）", "1200000"),
                         ("实交保费（元）", "1200000"), ("本年度已决赔款（元）", "300000"),
                         ("本年度未决赔款（元）", "50000"), ("往年赔付率（%）", "38")):
        _fill(manager, label, value)
    expect(manager.get_by_text("三级机构理赔负责人 → 三级机构总经理")).to_be_visible(timeout=TIMEOUT)
    manager.get_by_role("button", name="上报审批").click()
    expect(manager.get_by_text(f"已上报特殊赔案 {case.case_no}").first).to_be_visible(timeout=TIMEOUT)
    # The form is empty for the next request in the browser too: it showed the request just raised
    # (its keys deleted, not its boxes emptied), which looked unsent and was refused on a second click.
    for label in ("报案号", "请求赔付金额（元）", "特殊赔案说明（案情、客户要求）"):
        expect(manager.get_by_label(label)).to_have_value("", timeout=TIMEOUT)
    screenshot(manager, "special_1_raised")
    row_id = wait_for_db(lambda: session.scalar(select(SpecialCase.id).where(SpecialCase.case_id == case.id)), session)

    for username, expected in (("gz_claims", "pending"), ("gz_head", "approved")):
        approver = _page(browser, app_server, username, "special_cases")
        # The newest request waiting for them is open at once: the form is theirs to fill.
        expect(approver.get_by_text(f"审批单 · {case.case_no}")).to_be_visible(timeout=TIMEOUT)
        # The decision's own radio group (no decision is chosen for the approver): the request's
        # record above it may show "同意" too, a decision already taken.
        approver.locator("[class*='st-key-sp_dec_'][class*='_decision']").get_by_text("同意", exact=True).click()
        settle(approver)
        approver.get_by_label("审批意见（必填）").fill("同意，额外赔付计入业务部门费用")
        approver.get_by_role("button", name="提交审批").click()
        expect(approver.get_by_text("已提交审批：同意，" + {"pending": "转三级机构总经理审批。",
                                                           "approved": "审批单已全部审批通过。"}[expected]).first
               ).to_be_visible(timeout=TIMEOUT)
        screenshot(approver, f"special_2_{username}")
        status = wait_for_db(lambda: session.scalar(select(SpecialCase.status).where(SpecialCase.id == row_id)),
                             session, until=lambda v: v == expected)
        assert status == expected
    decided = session.scalars(select(SpecialApproval.special_case_id)).all()
    assert decided == [row_id, row_id]  # nothing landed on the 40 older requests
    assert session.scalar(select(func.count()).select_from(SpecialCase).where(
        SpecialCase.status == "pending")) == waiting_before


def test_the_call_center_registers_a_complaint_and_the_branch_handles_it_to_the_archive(app_server, browser, session,
                                                                                          org):
    case = make_case(session, org, "gz")
    caller = _page(browser, app_server, "callcenter", "complaints")
    caller.get_by_role("tab", name="登记新事项").click()
    settle(caller)
    choose(caller, "原因", "理赔时效")
    choose(caller, "来源渠道", "电话")
    caller.get_by_label("关联报案号（如有）").fill(case.case_no)
    caller.get_by_label("投诉人 / 当事人").fill("李女士")
    caller.get_by_label("事由（客户诉求、经过）").fill("定损后两周未赔付，来电投诉")
    caller.get_by_role("button", name="登记").click()
    expect(caller.get_by_text("已登记 TS").first).to_be_visible(timeout=TIMEOUT)
    item = wait_for_db(lambda: session.scalar(select(ComplaintItem).where(ComplaintItem.case_id == case.id)), session)

    manager = _page(browser, app_server, "gd_manager", "complaints")
    manager.get_by_label("事项编号 / 投诉人 / 报案号").fill(item.item_no)
    manager.get_by_label("事项编号 / 投诉人 / 报案号").press("Enter")
    settle(manager)
    expect(manager.get_by_text(f"投诉 · {item.item_no}")).to_be_visible(timeout=TIMEOUT)
    choose(manager, "负责人", _name(session, org.person("gz_claims")))
    manager.get_by_role("button", name="保存负责人").click()
    expect(manager.get_by_text("已落实到").first).to_be_visible(timeout=TIMEOUT)
    settle(manager)
    choose(manager, "下一环节", "处理完毕")
    screenshot(manager, "complaint_handling")
    manager.get_by_text("属实（有责）", exact=True).click()
    settle(manager)
    manager.get_by_label("处理结果").fill("已加急赔付")
    manager.get_by_label("赔礼道歉情况").fill("经办人已电话致歉")
    manager.get_by_label("处理 / 整改措施").fill("建立超期赔付预警")
    manager.get_by_label("处理 / 整改措施").press("Tab")
    settle(manager)
    manager.get_by_role("button", name="提交", exact=True).click()
    expect(manager.get_by_text("已转入“处理完毕”").first).to_be_visible(timeout=TIMEOUT)
    settle(manager)
    manager.get_by_label("回访结果（回访对象、方式、客户意见）").fill("电话回访李女士，对处理满意")
    manager.get_by_label("回访结果（回访对象、方式、客户意见）").press("Tab")
    settle(manager)
    manager.get_by_role("button", name="提交", exact=True).click()
    expect(manager.get_by_text("已转入“已回访”").first).to_be_visible(timeout=TIMEOUT)
    settle(manager)
    manager.get_by_role("button", name="提交", exact=True).click()
    expect(manager.get_by_text("已转入“已归档”").first).to_be_visible(timeout=TIMEOUT)
    settle(manager)
    expect(manager.get_by_text("该事项已归档。")).to_be_visible(timeout=TIMEOUT)
    screenshot(manager, "complaint_archived")
    steps = wait_for_db(lambda: session.scalars(select(ComplaintStep.to_step).where(
        ComplaintStep.item_id == item.id).order_by(ComplaintStep.id)).all(), session,
        until=lambda v: v and v[-1] == "archived")
    assert steps == ["registered", "assigned", "handled", "return_visited", "archived"]


def _name(session, person_id: int) -> str:
    """The assignee as the box names them: name, unit and title (each sub-branch has a claims head)."""
    from db.models import OrgUnit, Person, RoleAssignment

    person = session.get(Person, person_id)
    unit = session.scalar(select(OrgUnit.name).join(RoleAssignment, RoleAssignment.unit_id == OrgUnit.id)
                          .where(RoleAssignment.person_id == person_id))
    return f"{person.full_name}（{unit} · {person.title}）"
