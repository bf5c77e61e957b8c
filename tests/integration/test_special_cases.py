"""Special-case approvals (issue 20; docs/DOMAIN.md §8): raised with the business unit's
justification, the chain drawn from the configured limits, each level's holder deciding in turn,
the claim flow untouched, the periodic report, and who may see and decide what."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from dashboard.services.admin.rule_settings import update_rule_settings
from dashboard.services.errors import NotFound, PermissionDenied, StaleWrite, UserError, ValidationFailed
from dashboard.services.messages import unread_count
from dashboard.services.special_cases.approvals import (
    ChainPreview, SpecialRequest, chain_preview, decide_special, raise_special, raise_special_by_number,
    special_cases, special_detail,
)
from dashboard.services.special_cases.report import special_report
from db.models import CaseEvent, ClaimCase, Dispatch, Notification, SpecialApproval
from tests.factories import T0, make_case


def _key_customer(amount: object, normal: object = 0, **overrides) -> SpecialRequest:
    values = dict(special_type="B", customer_kind="key_customer", requested_amount=amount, normal_amount=normal,
                  reason="客户为本地最大物流公司，要求按新车价赔付", policy_numbers="PDAA2026000001, PDAA2026000002",
                  premium_written="1,200,000", premium_collected="1200000", paid_losses="300000",
                  pending_losses="80000", past_loss_ratio_pct="35.5")
    values.update(overrides)
    return SpecialRequest(**values)


def _decide(session, actor, special_id, decision="approved", comment="同意，按业务部门意见办理"):
    version = session.scalar(text("SELECT version FROM special_case WHERE id = :i"), {"i": special_id})
    return decide_special(session, actor, special_id, decision, comment, expected_version=version,
                          now=T0 + timedelta(hours=2))


@pytest.mark.parametrize(("amount", "chain"), [
    ("10000", ["sub_claims_head"]),
    ("10000.01", ["sub_claims_head", "sub_gm"]),
    ("50000", ["sub_claims_head", "sub_gm"]),
    ("200000", ["sub_claims_head", "sub_gm", "branch_line_dept"]),
    ("200000.01", ["sub_claims_head", "sub_gm", "branch_line_dept", "branch_gm"]),
])
def test_the_chain_is_drawn_from_the_requested_payment_at_each_limit(session, org, actor_for, amount, chain):
    case = make_case(session, org, "gz")
    row = raise_special(session, actor_for("gd_manager"), case.id, _key_customer(amount), now=T0)
    assert row.chain == chain and row.status == "pending" and row.next_level == 0


def test_a_loss_ratio_is_read_with_or_without_its_percent_sign_and_named_as_a_percentage(session, org, actor_for):
    manager = actor_for("gd_manager")
    row = raise_special(session, manager, make_case(session, org, "gz").id,
                        _key_customer("30000", past_loss_ratio_pct="38.5％"), now=T0)
    assert special_detail(session, manager, row.id).justification["past_loss_ratio_pct"] == Decimal("38.5")
    with pytest.raises(ValidationFailed) as bad:
        raise_special(session, manager, make_case(session, org, "gz").id,
                      _key_customer("30000", past_loss_ratio_pct="三成八"), now=T0)
    assert [(e.field, e.key, e.params) for e in bad.value.errors] == [
        ("special.past_loss_ratio_pct", "special.error.percent", {"value": "三成八"})]


def test_raising_by_number_names_the_number_with_every_other_problem_at_once(session, org, actor_for):
    manager = actor_for("gd_manager")
    with pytest.raises(ValidationFailed) as empty:
        raise_special_by_number(session, manager, "  ", SpecialRequest(), now=T0)
    assert {e.field for e in empty.value.errors} >= {
        "special.case_no", "special.type", "special.customer_kind", "special.requested_amount", "special.reason"}
    with pytest.raises(ValidationFailed) as unknown:
        raise_special_by_number(session, manager, "BA000000", _key_customer("30000", past_loss_ratio_pct="x"), now=T0)
    assert [(e.field, e.key, e.params) for e in unknown.value.errors] == [
        ("special.case_no", "special.case_not_found", {"case_no": "BA000000"}),
        ("special.past_loss_ratio_pct", "special.error.percent", {"value": "x"})]
    assert session.scalar(text("SELECT count(*) FROM special_case")) == 0
    case = make_case(session, org, "gz")
    row = raise_special_by_number(session, manager, f" {case.case_no} ", _key_customer("30000"), now=T0)
    assert row.case_id == case.id and session.scalar(text("SELECT count(*) FROM special_case")) == 1


def test_a_reputation_case_goes_to_the_branch_gm_alone_whatever_the_amount(session, org, actor_for):
    case = make_case(session, org, "gz")
    row = raise_special(session, actor_for("gd_manager"), case.id, SpecialRequest(
        special_type="A", customer_kind="reputation", requested_amount="5000", normal_amount="0",
        reason="明确属于除外责任，客户为省重点企业", customer_background="省属重点国企，媒体曝光度高"), now=T0)
    assert row.chain == ["branch_gm"]
    with pytest.raises(UserError) as refused:
        _decide(session, actor_for("gz_claims"), row.id)
    assert refused.value.key == "special.error.not_your_level"
    approved = _decide(session, actor_for("gd_gm"), row.id)
    assert approved.status == "approved" and approved.decided_at is not None


def test_each_level_decides_in_turn_and_the_claim_flow_is_untouched(session, org, actor_for):
    case = make_case(session, org, "gz", current_estimate=Decimal("60000"), tier="T1")
    before = session.execute(select(ClaimCase.state, ClaimCase.current_estimate, ClaimCase.tier)
                             .where(ClaimCase.id == case.id)).one()
    row = raise_special(session, actor_for("gd_manager"), case.id, _key_customer("80000", "30000"), now=T0)
    assert row.chain == ["sub_claims_head", "sub_gm", "branch_line_dept"]
    # The first level is told; nobody else may decide before it.
    told = session.scalars(select(Notification.recipient_person_id).where(Notification.kind == "special_approval")).all()
    assert told == [org.person("gz_claims")]
    with pytest.raises(UserError):
        _decide(session, actor_for("gz_head"), row.id)
    for username in ("gz_claims", "gz_head"):
        assert _decide(session, actor_for(username), row.id).status == "pending"
    _, waiting = special_cases(session, actor_for("gd_line"), mine_only=True)
    assert [r.id for r in waiting] == [row.id] and waiting[0].waiting_level == "branch_line_dept"
    done = _decide(session, actor_for("gd_line"), row.id)
    assert done.status == "approved"
    levels = session.scalars(select(SpecialApproval.level).where(SpecialApproval.special_case_id == row.id)
                             .order_by(SpecialApproval.id)).all()
    assert levels == ["sub_claims_head", "sub_gm", "branch_line_dept"]
    session.expire_all()
    after = session.execute(select(ClaimCase.state, ClaimCase.current_estimate, ClaimCase.tier)
                            .where(ClaimCase.id == case.id)).one()
    assert after == before
    kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert kinds.count("special_decided") == 3 and "special_raised" in kinds
    with pytest.raises(UserError) as decided:
        _decide(session, actor_for("gd_gm"), row.id)
    assert decided.value.key == "special.error.decided"


def test_a_rejection_ends_the_request_and_a_new_one_may_then_be_raised(session, org, actor_for):
    case = make_case(session, org, "sz")
    row = raise_special(session, actor_for("gd_manager"), case.id, _key_customer("30000"), now=T0)
    with pytest.raises(UserError) as twice:
        raise_special(session, actor_for("gd_manager"), case.id, _key_customer("30000"), now=T0)
    assert twice.value.key == "special.error.already_pending"
    with pytest.raises(ValidationFailed) as no_comment:
        _decide(session, actor_for("sz_claims"), row.id, "rejected", "  ")
    assert no_comment.value.errors[0].field == "special.comment"
    assert _decide(session, actor_for("sz_claims"), row.id, "rejected", "理由不充分").status == "rejected"
    again = raise_special(session, actor_for("gd_manager"), case.id, _key_customer("20000"), now=T0)
    assert again.status == "pending"


def test_type_c_is_refused_for_each_exclusion_named(session, org, actor_for):
    case = make_case(session, org, "gz")
    with pytest.raises(ValidationFailed) as refused:
        raise_special(session, actor_for("gd_manager"), case.id,
                      _key_customer("30000", special_type="C", circumstances=["drunk_driving", "media_attention"]),
                      now=T0)
    keys = {e.key for e in refused.value.errors}
    assert keys == {"special.error.type_c.drunk_driving", "special.error.type_c.media_attention"}
    # Type B with the same circumstances is not refused for them.
    row = raise_special(session, actor_for("gd_manager"), case.id,
                        _key_customer("30000", circumstances=["drunk_driving"]), now=T0)
    assert row.circumstances == ["drunk_driving"]


def test_every_missing_or_bad_justification_field_is_named_and_nothing_is_written(session, org, actor_for):
    case = make_case(session, org, "gz")
    with pytest.raises(ValidationFailed) as refused:
        raise_special(session, actor_for("gd_manager"), case.id, _key_customer(
            "1e6", "abc", policy_numbers="", premium_written="¥100", past_loss_ratio_pct="5000"), now=T0)
    fields = {e.field: e.key for e in refused.value.errors}
    assert fields == {"special.requested_amount": "amount.exponent", "special.normal_amount": "amount.not_a_number",
                      "special.policy_numbers": "cases.error.required",
                      "special.premium_written": "amount.currency_sign",
                      "special.past_loss_ratio_pct": "special.error.ratio"}
    with pytest.raises(ValidationFailed) as prospect:
        raise_special(session, actor_for("gd_manager"), case.id, SpecialRequest(
            special_type="B", customer_kind="prospect", requested_amount="9000", normal_amount="10000",
            reason="潜在大客户", expected_premium_on=date(2020, 1, 1)), now=T0)
    fields = {e.field: e.key for e in prospect.value.errors}
    assert fields == {"special.normal_amount": "special.error.normal_above_requested",
                      "special.expected_premium": "cases.error.required",
                      "special.expected_premium_on": "special.error.expected_in_past"}
    assert session.scalar(text("SELECT count(*) FROM special_case")) == 0


def test_limits_are_configuration_and_a_request_keeps_the_limits_it_was_drawn_with(session, org, actor_for):
    admin = actor_for("admin")
    early = raise_special(session, actor_for("gd_manager"), make_case(session, org, "gz").id,
                          _key_customer("40000"), now=T0)
    update_rule_settings(session, admin, {"special.limit.sub_claims_head": "50000", "special.limit.sub_gm": "100000"})
    later = raise_special(session, actor_for("gd_manager"), make_case(session, org, "gz").id,
                          _key_customer("40000"), now=T0)
    assert early.chain == ["sub_claims_head", "sub_gm"] and later.chain == ["sub_claims_head"]
    session.expire_all()
    assert special_detail(session, admin, early.id).limits["sub_claims_head"] == "10000"
    # Limits that do not climb are refused, naming the fields.
    with pytest.raises(ValidationFailed) as refused:
        update_rule_settings(session, admin, {"special.limit.branch_line_dept": "60000"})
    assert refused.value.errors[0].key == "admin.error.special_limits_order"


def test_a_stale_decision_is_refused_naming_who_decided_first(session, org, actor_for):
    case = make_case(session, org, "gz")
    row = raise_special(session, actor_for("gd_manager"), case.id, _key_customer("30000"), now=T0)
    drawn = row.version
    _decide(session, actor_for("gz_claims"), row.id)
    with pytest.raises(StaleWrite):
        decide_special(session, actor_for("gz_claims"), row.id, "approved", "再次同意", expected_version=drawn)


def test_branches_see_and_decide_only_their_own(session, org, actor_for):
    gd = raise_special(session, actor_for("gd_manager"), make_case(session, org, "gz").id, _key_customer("5000"), now=T0)
    zj_case = make_case(session, org, "hz")
    with pytest.raises(NotFound):
        raise_special(session, actor_for("gd_manager"), zj_case.id, _key_customer("5000"), now=T0)
    zj = raise_special(session, actor_for("zj_manager"), zj_case.id, _key_customer("5000"), now=T0)
    _, zj_rows = special_cases(session, actor_for("zj_manager"))
    assert [r.id for r in zj_rows] == [zj.id]
    with pytest.raises(NotFound):
        special_detail(session, actor_for("zj_manager"), gd.id)
    with pytest.raises(NotFound):
        _decide(session, actor_for("hz_claims"), gd.id)
    with pytest.raises(PermissionDenied):
        raise_special(session, actor_for("callcenter"), zj_case.id, _key_customer("5000"), now=T0)
    _, national = special_cases(session, actor_for("reviewer"))
    assert {r.id for r in national} == {gd.id, zj.id}


def test_a_person_dispatched_to_another_branchs_case_sees_its_request_and_a_colleague_does_not(
        session, org, actor_for):
    zj_case = make_case(session, org, "hz")
    zj = raise_special(session, actor_for("zj_manager"), zj_case.id, _key_customer("5000"), now=T0)
    gz_claims = actor_for("gz_claims")  # first responsible of 广州 (广东): another branch's case
    session.add(Dispatch(case_id=zj_case.id, tier="T1", position="sub_claims_head", person_id=gz_claims.person_id,
                         reason="initial", dispatched_at=T0))
    session.commit()
    total, rows = special_cases(session, gz_claims)
    assert (total, [r.id for r in rows]) == (1, [zj.id])
    assert special_detail(session, gz_claims, zj.id).row.id == zj.id
    colleague = actor_for("gz_head")  # the same sub-branch, not dispatched to it
    assert special_cases(session, colleague)[0] == 0
    with pytest.raises(NotFound):
        special_detail(session, colleague, zj.id)


def test_the_report_counts_per_unit_and_period_with_the_extra_paid_on_approved_ones(session, org, actor_for):
    manager = actor_for("gd_manager")
    a = raise_special(session, manager, make_case(session, org, "gz").id, _key_customer("9000", "4000"), now=T0)
    _decide(session, actor_for("gz_claims"), a.id)
    b = raise_special(session, manager, make_case(session, org, "gz").id, _key_customer("8000", "1000"), now=T0)
    _decide(session, actor_for("gz_claims"), b.id, "rejected", "不同意")
    raise_special(session, manager, make_case(session, org, "sz").id, _key_customer("7000", "0"),
                  now=T0 + timedelta(days=40))
    day = T0.date()
    rows = special_report(session, actor_for("executive"), date_from=day - timedelta(days=5),
                          date_to=day + timedelta(days=60), period="month", by="sub_branch")
    by_unit = {(r.period, r.unit): r for r in rows}
    gz = next(r for (p, u), r in by_unit.items() if u == "广州中心支公司")
    assert (gz.raised, gz.approved, gz.rejected, gz.pending, gz.extra_paid) == (2, 1, 1, 0, Decimal("5000"))
    sz = next(r for (p, u), r in by_unit.items() if u == "深圳中心支公司")
    assert (sz.raised, sz.pending, sz.extra_paid) == (1, 1, Decimal("0")) and sz.period > gz.period
    branch_rows = special_report(session, actor_for("zj_manager"), date_from=day - timedelta(days=5),
                                 date_to=day + timedelta(days=60), by="branch")
    assert branch_rows == []  # another branch's special cases are not in its report


def _told(session, special_id: int) -> list[tuple[int, bool]]:
    """Who was told to approve the request, and whether they have read it: (person, read)."""
    return session.execute(select(Notification.recipient_person_id, Notification.read_at.is_not(None))
                           .where(Notification.kind == "special_approval",
                                  Notification.dedupe_key.like(f"special:{special_id}:%"))
                           .order_by(Notification.id)).tuples().all()


def test_a_level_holders_own_request_passes_his_level_and_waits_for_the_next(session, org, actor_for):
    """The walk's stuck request: gz_claims, 广州's only sub-branch claims head, raised 30,000 (B 类)
    and it waited for himself. His raising now passes his level; gz_head decides, and gz_claims is
    neither offered nor allowed the decision."""
    claims, head = actor_for("gz_claims"), actor_for("gz_head")
    row = raise_special(session, claims, make_case(session, org, "gz").id, _key_customer("30000"), now=T0)
    assert row.chain == ["sub_claims_head", "sub_gm"] and row.next_level == 1 and row.status == "pending"
    passed = session.execute(select(SpecialApproval.level, SpecialApproval.decision, SpecialApproval.person_id)
                             .where(SpecialApproval.special_case_id == row.id)).tuples().all()
    assert passed == [("sub_claims_head", "approved", org.person("gz_claims"))]
    assert _told(session, row.id) == [(org.person("gz_head"), False)]
    assert [r.id for r in special_cases(session, head, mine_only=True)[1]] == [row.id]
    assert special_cases(session, claims, mine_only=True)[1] == []
    mine = special_detail(session, claims, row.id)
    assert (mine.i_raised, mine.i_decide, mine.row.waiting_level) == (True, False, "sub_gm")
    assert mine.lines[0].decision == "approved" and mine.lines[0].person == claims.full_name
    with pytest.raises(UserError) as refused:
        _decide(session, claims, row.id)
    assert refused.value.key == "special.error.not_your_level"
    assert special_detail(session, head, row.id).i_decide
    done = _decide(session, head, row.id)
    assert done.status == "approved"
    assert _told(session, row.id) == [(org.person("gz_head"), True)]  # the decider's 待您审批 is done


def test_one_holder_deciding_closes_every_holders_message_of_that_level_and_no_other(session, org, actor_for, owner):
    """广州 has a second sub-branch claims head: both are told. When one decides, the colleague's
    "待您审批" is done too (it asked for a decision nobody could take any more); the next level's
    message and another request's stay unread."""
    second = org.person("gz_head")
    with owner.begin() as conn:
        conn.execute(text("INSERT INTO role_assignment (person_id, role, unit_id, position) "
                          "VALUES (:p, 'first_responsible', :u, 'sub_claims_head')"),
                     {"p": second, "u": org.sub_branch("gz").id})
    manager = actor_for("gd_manager")
    row = raise_special(session, manager, make_case(session, org, "gz").id, _key_customer("30000"), now=T0)
    other = raise_special(session, manager, make_case(session, org, "gz").id, _key_customer("8000"), now=T0)
    both = sorted([org.person("gz_claims"), second])
    assert sorted(_told(session, row.id)) == [(p, False) for p in both]
    unread_before = unread_count(session, actor_for("gz_head"))

    assert _decide(session, actor_for("gz_claims"), row.id).status == "pending"  # on to sub_gm: gz_head
    session.expire_all()
    told = _told(session, row.id)
    assert sorted(told[:2]) == [(p, True) for p in both]
    assert told[2:] == [(second, False)]  # the next level's, for gz_head as sub-branch head
    assert sorted(_told(session, other.id)) == [(p, False) for p in both]
    assert unread_count(session, actor_for("gz_head")) == unread_before  # one closed, one new
    assert sum(1 for _p, read in _told(session, other.id) + _told(session, row.id) if not read) == 3


def test_a_request_that_would_end_at_the_raisers_own_level_climbs_one_more(session, org, actor_for):
    row = raise_special(session, actor_for("gz_claims"), make_case(session, org, "gz").id, _key_customer("5000"),
                        now=T0)
    assert row.chain == ["sub_claims_head", "sub_gm"] and row.next_level == 1
    with pytest.raises(UserError) as refused:
        _decide(session, actor_for("gz_claims"), row.id)
    assert refused.value.key == "special.error.not_your_level"
    assert _decide(session, actor_for("gz_head"), row.id).status == "approved"


def test_a_raiser_holding_a_later_level_is_skipped_there_when_the_chain_reaches_it(session, org, actor_for):
    line = actor_for("gd_line")
    row = raise_special(session, line, make_case(session, org, "gz").id, _key_customer("80000", "30000"), now=T0)
    assert row.chain == ["sub_claims_head", "sub_gm", "branch_line_dept", "branch_gm"] and row.next_level == 0
    assert special_cases(session, line, mine_only=True)[1] == []
    _decide(session, actor_for("gz_claims"), row.id)
    moved = _decide(session, actor_for("gz_head"), row.id)
    assert (moved.status, moved.chain[moved.next_level]) == ("pending", "branch_gm")
    assert [p for p, _ in _told(session, row.id)][-1] == org.person("gd_gm")
    assert _decide(session, actor_for("gd_gm"), row.id).status == "approved"
    levels = session.execute(select(SpecialApproval.level, SpecialApproval.person_id)
                             .where(SpecialApproval.special_case_id == row.id)
                             .order_by(SpecialApproval.id)).tuples().all()
    assert [lv for lv, _ in levels] == ["branch_line_dept", "sub_claims_head", "sub_gm", "branch_gm"]
    assert dict(levels)["branch_line_dept"] == org.person("gd_line")


def _reputation(amount: str = "5000") -> SpecialRequest:
    return SpecialRequest(special_type="A", customer_kind="reputation", requested_amount=amount, normal_amount="0",
                          reason="明确属于除外责任，客户为省重点企业", customer_background="省属重点国企，媒体曝光度高")


def test_the_branch_gms_own_request_is_not_raised_where_no_other_gm_could_decide_it(session, org, actor_for):
    """The chain cannot climb above the branch GM: his own reputation request would wait for a
    colleague of the same post, and 广东 has none (a browser walk raised one and it stuck)."""
    gm = actor_for("gd_gm")
    case = make_case(session, org, "gz")
    with pytest.raises(UserError) as refused:
        raise_special(session, gm, case.id, _reputation(), now=T0)
    assert refused.value.key == "special.error.no_other_holder"
    assert session.scalar(text("SELECT count(*) FROM special_case")) == 0
    assert chain_preview(session, gm, "5000", "reputation", case.case_no) == ChainPreview(("branch_gm",), (), True)
    assert not chain_preview(session, actor_for("gd_manager"), "5000", "reputation", case.case_no).blocked


def test_nobody_approves_a_request_they_raised_not_even_at_the_top(session, org, actor_for, owner):
    """Where the branch has a second GM, the first's own request waits for the second: the raiser is
    refused, not offered the form, and not shown it as waiting for him."""
    with owner.begin() as conn:
        conn.execute(text("INSERT INTO role_assignment (person_id, role, unit_id, position) "
                          "VALUES (:p, 'first_responsible', :u, 'branch_gm')"),
                     {"p": org.person("gd_line"), "u": org.branch("gd").id})
    gm = actor_for("gd_gm")
    row = raise_special(session, gm, make_case(session, org, "gz").id, _reputation(), now=T0)
    assert row.chain == ["branch_gm"] and row.next_level == 0
    with pytest.raises(UserError) as refused:
        _decide(session, gm, row.id)
    assert refused.value.key == "special.error.own_request"
    detail = special_detail(session, gm, row.id)
    assert (detail.i_raised, detail.i_decide) == (True, False)
    assert special_cases(session, gm, mine_only=True)[1] == []
    assert _decide(session, actor_for("gd_line"), row.id).status == "approved"


def test_the_raise_forms_chain_follows_the_typed_case_and_who_raises(session, org, actor_for):
    case = make_case(session, org, "gz")
    claims = actor_for("gz_claims")
    assert chain_preview(session, claims, "30000", "key_customer") == ChainPreview(("sub_claims_head", "sub_gm"))
    assert chain_preview(session, claims, "30000", "key_customer", case.case_no) == ChainPreview(
        ("sub_claims_head", "sub_gm"), ("sub_claims_head",))
    assert chain_preview(session, claims, "5000", "key_customer", case.case_no) == ChainPreview(
        ("sub_claims_head", "sub_gm"), ("sub_claims_head",))
    assert chain_preview(session, actor_for("gd_manager"), "5000", "key_customer", case.case_no) == ChainPreview(
        ("sub_claims_head",))
    assert chain_preview(session, claims, "5000", "key_customer", "BA-NO-SUCH") == ChainPreview(("sub_claims_head",))
    assert chain_preview(session, claims, "abc", "key_customer", case.case_no) == ChainPreview(())


def test_a_request_opened_shows_each_decision_and_who_holds_each_level_still_to_come(session, org, actor_for):
    row = raise_special(session, actor_for("gd_manager"), make_case(session, org, "gz").id,
                        _key_customer("80000", "30000"), now=T0)
    _decide(session, actor_for("gz_claims"), row.id, comment="同意")
    names = dict(session.execute(text("SELECT username, full_name FROM person")).tuples().all())
    detail = special_detail(session, actor_for("gz_head"), row.id)
    assert [line.level for line in detail.lines] == ["sub_claims_head", "sub_gm", "branch_line_dept"]
    first, second, third = detail.lines
    assert (first.decision, first.comment, first.person, first.at, first.holders) == (
        "approved", "同意", names["gz_claims"], T0 + timedelta(hours=2), ())
    assert (second.decision, second.holders) == (None, (names["gz_head"],))
    assert (third.decision, third.holders) == (None, (names["gd_line"],))
    assert detail.i_decide and detail.row.waiting_level == "sub_gm" and detail.row.extra_amount == Decimal("50000")
    assert detail.justification["premium_written"] == Decimal("1200000")
    assert detail.justification["policy_numbers"] == "PDAA2026000001, PDAA2026000002"
    assert "expected_premium" not in detail.justification and detail.limits and detail.reason
    assert not special_detail(session, actor_for("gd_line"), row.id).i_decide
