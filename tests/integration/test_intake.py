"""Case intake (docs/DOMAIN.md §2): every validation path, permissions, all or nothing, history."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from dashboard.services.errors import PermissionDenied, ValidationFailed
from dashboard.services.cases.intake import CaseInput, register_case
from db.models import CaseEvent, ClaimCase

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai


def good_input(**overrides) -> CaseInput:
    values = dict(
        case_no="RPT20261120001", report_time="2026-11-20 09:15", accident_time="2026-11-20 08:40",
        province="广东省", city="广州市", address="天河区天河路385号", business_line="motor",
        policy_no="PDAA2026440100001", insured_name="张伟", reporter_name="张伟", driver_name="张伟",
        plate_no="粤A12345", vehicle_use="private", accident_type="collision", sub_branch="gz",
        surveyor="gz_surveyor1", vehicle_sum_insured="200000", vehicle_age_years="3",
    )
    values.update(overrides)
    return CaseInput(**values)


def case_count(session) -> int:
    return session.scalar(select(func.count()).select_from(ClaimCase))


def field_keys(err: ValidationFailed) -> dict[str, str]:
    return {e.field: e.key for e in err.errors}


def test_call_center_registers_a_case_in_the_sub_branchs_branch_with_history(session, org, actor_for):
    result = register_case(session, actor_for("callcenter"), good_input(), now=NOW)
    case = session.get(ClaimCase, result.case_id)
    assert case.case_no == "RPT20261120001"
    assert case.sub_branch_id == org.sub_branch("gz").id
    assert case.branch_id == org.branch("gd").id
    assert case.state == "reported" and case.tier == "T0"
    assert case.vehicle_sum_insured == Decimal("200000.00")
    assert case.report_time == datetime(2026, 11, 20, 1, 15, tzinfo=timezone.utc)  # read as Beijing time
    event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).one()
    assert event.kind == "case_registered" and event.actor_id == org.person("callcenter")


def test_chinese_labels_are_accepted_for_choices(session, org, actor_for):
    result = register_case(session, actor_for("callcenter"),
                           good_input(business_line="车险", accident_type="自燃", vehicle_use="出租车"), now=NOW)
    case = session.get(ClaimCase, result.case_id)
    assert (case.business_line, case.accident_type, case.vehicle_use) == ("motor", "self_ignition", "taxi")


@pytest.mark.parametrize("overrides, field, key", [
    ({"sub_branch": "nowhere"}, "sub_branch", "cases.error.unknown_sub_branch"),
    ({"accident_time": "2026-11-20 10:00"}, "accident_time", "cases.error.accident_after_report"),
    ({"report_time": "2026-11-20 15:00"}, "report_time", "cases.error.after_now"),
    ({"vehicle_sum_insured": "-5"}, "vehicle_sum_insured", "amount.negative"),
    ({"vehicle_sum_insured": "abc"}, "vehicle_sum_insured", "amount.not_a_number"),
    ({"vehicle_sum_insured": "NaN"}, "vehicle_sum_insured", "amount.not_a_number"),
    ({"vehicle_sum_insured": "1.005"}, "vehicle_sum_insured", "amount.too_many_decimals"),
    ({"initial_estimate": "-1"}, "initial_estimate", "amount.negative"),
    ({"insured_name": "  "}, "insured_name", "cases.error.required"),
    ({"case_no": None}, "case_no", "cases.error.required"),
    ({"case_no": "RPT 1"}, "case_no", "cases.error.bad_case_no"),
    ({"business_line": "space"}, "business_line", "cases.error.bad_choice"),
    ({"accident_type": "meteor"}, "accident_type", "cases.error.bad_choice"),
    ({"vehicle_use": "rocket"}, "vehicle_use", "cases.error.bad_choice"),
    ({"compulsory_only": "maybe"}, "compulsory_only", "cases.error.bad_bool"),
    ({"report_time": "yesterday"}, "report_time", "cases.error.bad_time"),
    ({"vehicle_age_years": "-2"}, "vehicle_age_years", "cases.error.bad_age"),
    ({"surveyor": "sz_surveyor1"}, "surveyor", "cases.error.surveyor_not_in_sub_branch"),
    ({"surveyor": "nobody"}, "surveyor", "cases.error.unknown_surveyor"),
    ({"business_line": "property", "compulsory_only": True}, "compulsory_only", "cases.error.compulsory_only_motor"),
    ({"address": "x" * 201}, "address", "cases.error.too_long"),
])
def test_bad_field_is_refused_naming_the_field_and_nothing_is_saved(session, org, actor_for, overrides, field, key):
    with pytest.raises(ValidationFailed) as err:
        register_case(session, actor_for("callcenter"), good_input(**overrides), now=NOW)
    assert field_keys(err.value).get(field) == key
    session.rollback()
    assert case_count(session) == 0


def test_every_bad_field_is_reported_at_once(session, org, actor_for):
    with pytest.raises(ValidationFailed) as err:
        register_case(session, actor_for("callcenter"),
                      good_input(case_no="", sub_branch="nowhere", vehicle_sum_insured="-1", business_line="x"),
                      now=NOW)
    assert set(field_keys(err.value)) >= {"case_no", "sub_branch", "vehicle_sum_insured", "business_line"}


def test_duplicate_case_number_is_refused(session, org, actor_for):
    register_case(session, actor_for("callcenter"), good_input(), now=NOW)
    with pytest.raises(ValidationFailed) as err:
        register_case(session, actor_for("callcenter"), good_input(), now=NOW)
    assert field_keys(err.value) == {"case_no": "cases.error.duplicate_case_no"}
    session.rollback()
    assert case_count(session) == 1


def test_surveyor_registers_in_own_sub_branch(session, org, actor_for):
    result = register_case(session, actor_for("gz_surveyor1"), good_input(), now=NOW)
    assert session.get(ClaimCase, result.case_id).created_by == org.person("gz_surveyor1")


def test_surveyor_cannot_register_for_another_sub_branch(session, org, actor_for):
    with pytest.raises(ValidationFailed) as err:
        register_case(session, actor_for("gz_surveyor1"),
                      good_input(sub_branch="sz", surveyor="sz_surveyor1"), now=NOW)
    assert field_keys(err.value)["sub_branch"] == "cases.error.sub_branch_forbidden"
    session.rollback()
    assert case_count(session) == 0


@pytest.mark.parametrize("username", ["gd_manager", "reviewer", "executive", "gz_claims"])
def test_roles_outside_intake_cannot_register(session, org, actor_for, username):
    with pytest.raises(PermissionDenied):
        register_case(session, actor_for(username), good_input(), now=NOW)
    session.rollback()
    assert case_count(session) == 0


def test_hq_admin_may_register_a_case_reported_a_minute_ago(session, org, actor_for):
    at = NOW - timedelta(minutes=1)
    result = register_case(session, actor_for("admin"),
                           good_input(report_time=at, accident_time=at - timedelta(hours=1)), now=NOW)
    assert session.get(ClaimCase, result.case_id).report_time == at


def test_initial_estimate_tiers_and_dispatches_in_the_same_flow(session, org, actor_for):
    from db.models import Dispatch

    result = register_case(session, actor_for("callcenter"), good_input(initial_estimate="85000"), now=NOW)
    assert result.tier == "T1" and result.estimate_recorded
    case = session.get(ClaimCase, result.case_id)
    assert case.current_estimate == Decimal("85000.00") and case.state == "dispatched"
    dispatched = session.scalars(select(Dispatch.person_id).where(Dispatch.case_id == case.id)).all()
    assert dispatched == [org.person("gz_claims")]


def test_surveyor_may_give_the_estimate_of_their_own_case_only(session, org, actor_for):
    surveyor = actor_for("gz_surveyor1")
    own = register_case(session, surveyor, good_input(initial_estimate="30000"), now=NOW)
    assert own.tier == "T0" and session.get(ClaimCase, own.case_id).state == "surveyed"
    with pytest.raises(ValidationFailed) as err:
        register_case(session, surveyor, good_input(case_no="RPT2", surveyor="gz_surveyor2",
                                                    initial_estimate="30000"), now=NOW)
    assert field_keys(err.value) == {"initial_estimate": "cases.error.estimate_only_own_case"}
    session.rollback()
    assert case_count(session) == 1


def test_a_refused_estimate_rolls_the_registration_back(session, org, actor_for, monkeypatch):
    from dashboard.services.cases import intake
    from dashboard.services.errors import UserError

    def refuse(*args, **kwargs):
        raise UserError("dispatch.error.case_closed")

    monkeypatch.setattr(intake, "record_estimate", refuse)
    with pytest.raises(UserError):
        register_case(session, actor_for("callcenter"), good_input(initial_estimate="85000"), now=NOW)
    assert case_count(session) == 0
    assert session.scalar(select(func.count()).select_from(CaseEvent)) == 0


def test_an_accident_dated_1900_is_refused_with_the_range_and_no_case_is_saved(session, org, actor_for):
    with pytest.raises(ValidationFailed) as err:
        register_case(session, actor_for("callcenter"), good_input(accident_time="1900-01-01 08:00"), now=NOW)
    [error] = err.value.errors
    assert (error.field, error.key, error.params["earliest"], error.params["latest"]) == (
        "accident_time", "cases.error.date_out_of_range", "2000-01-01", "2026-11-20")
    session.rollback()
    assert case_count(session) == 0


def test_the_earliest_date_is_read_from_the_rule_settings(session, org, actor_for):
    from db.models import RuleSetting

    session.merge(RuleSetting(key="intake.earliest_date", value="2026-01-01"))
    session.commit()
    with pytest.raises(ValidationFailed) as err:
        register_case(session, actor_for("callcenter"), good_input(policy_start_date="2025-12-31"), now=NOW)
    assert field_keys(err.value) == {"policy_start_date": "cases.error.date_out_of_range"}
    assert err.value.errors[0].params["earliest"] == "2026-01-01"


def test_a_reporter_phone_abc_is_refused_and_a_landline_with_extension_is_kept(session, org, actor_for):
    with pytest.raises(ValidationFailed) as err:
        register_case(session, actor_for("callcenter"), good_input(reporter_phone="abc"), now=NOW)
    assert field_keys(err.value) == {"reporter_phone": "cases.error.bad_phone"}
    session.rollback()
    result = register_case(session, actor_for("callcenter"), good_input(reporter_phone="020-87654321转123"), now=NOW)
    assert session.get(ClaimCase, result.case_id).reporter_phone == "020-87654321转123"


@pytest.mark.parametrize("field", ["insured_name", "case_no", "address", "description", "plate_no"])
def test_a_nul_character_is_refused_naming_the_field_instead_of_crashing(session, org, actor_for, field):
    with pytest.raises(ValidationFailed) as err:
        register_case(session, actor_for("callcenter"), good_input(**{field: "粤A\x0012345"}), now=NOW)
    assert field_keys(err.value)[field] == "cases.error.control_chars"
    session.rollback()
    assert case_count(session) == 0


def test_an_implausible_initial_estimate_is_saved_only_once_confirmed(session, org, actor_for):
    from dashboard.services.errors import NeedsConfirmation

    with pytest.raises(NeedsConfirmation):
        register_case(session, actor_for("callcenter"), good_input(initial_estimate="60000000"), now=NOW)
    session.rollback()
    assert case_count(session) == 0
    result = register_case(session, actor_for("callcenter"), good_input(initial_estimate="60000000"), now=NOW,
                           estimate_confirmed=True)
    assert session.get(ClaimCase, result.case_id).current_estimate == Decimal("60000000.00")


def test_a_surveyor_is_not_told_that_another_branchs_case_number_exists(session, org, actor_for):
    register_case(session, actor_for("callcenter"), good_input(case_no="BA-SZ-1", sub_branch="hz",
                                                                surveyor="hz_surveyor1"), now=NOW)
    register_case(session, actor_for("callcenter"), good_input(case_no="BA-GZ-1"), now=NOW)
    refusals = {}
    for number in ("BA-SZ-1", "BA-GZ-1"):  # another branch's case, and the surveyor's own sub-branch's
        with pytest.raises(ValidationFailed) as err:
            register_case(session, actor_for("gz_surveyor1"), good_input(case_no=number), now=NOW)
        session.rollback()
        [error] = err.value.errors
        refusals[number] = (error.key, {k: v for k, v in error.params.items() if k != "case_no"})
    assert refusals["BA-SZ-1"] == refusals["BA-GZ-1"] == ("cases.error.case_no_unavailable", {})
    with pytest.raises(ValidationFailed) as err:  # who sees every case is told it exists
        register_case(session, actor_for("callcenter"), good_input(case_no="BA-SZ-1"), now=NOW)
    assert field_keys(err.value) == {"case_no": "cases.error.duplicate_case_no"}


def test_the_estimate_tab_finds_a_visible_case_with_its_version(session, org, actor_for):
    from dashboard.services.errors import NotFound
    from dashboard.services.cases.intake import estimate_target

    result = register_case(session, actor_for("callcenter"), good_input(case_no="BA-HZ-9", sub_branch="hz",
                                                                         surveyor="hz_surveyor1"), now=NOW)
    target = estimate_target(session, actor_for("callcenter"), " BA-HZ-9 ")
    assert (target.case_id, target.version, target.state) == (result.case_id, 1, "reported")
    with pytest.raises(NotFound):  # another branch's case is never revealed
        estimate_target(session, actor_for("gz_surveyor1"), "BA-HZ-9")
    with pytest.raises(ValidationFailed) as err:  # a NUL is refused by name before any query
        estimate_target(session, actor_for("callcenter"), "BA\x00-HZ-9")
    assert field_keys(err.value) == {"case_no": "cases.error.control_chars"}
