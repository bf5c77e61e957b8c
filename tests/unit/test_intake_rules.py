"""Intake field checks and tier-table checks without a database."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from dashboard.rules.case_input import CaseInput, IntakeReference, SubBranchRef, check_case_input
from dashboard.rules.tier_bands import BandInput, check_bands

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)


def reference(allowed=None) -> IntakeReference:
    return IntakeReference(
        sub_branches={10: SubBranchRef(10, "gz", "广州中心支公司", 2), 11: SubBranchRef(11, "sz", "深圳中心支公司", 2)},
        sub_branch_by_key={"gz": 10, "广州中心支公司": 10, "sz": 11, "深圳中心支公司": 11},
        surveyor_units={100: frozenset({10}), 101: frozenset({11})},
        surveyor_by_username={"gz_s": 100, "sz_s": 101},
        allowed_sub_branch_ids=allowed, existing_case_nos={"TAKEN"})


def data(**overrides) -> CaseInput:
    values = dict(case_no="A1", report_time="2026-11-20 09:00", accident_time="2026/11/20 08:00", province="广东省",
                  city="广州市", address="路", business_line="车险", policy_no="P", insured_name="甲",
                  reporter_name="甲", accident_type="碰撞", sub_branch="广州中心支公司", surveyor="gz_s")
    values.update(overrides)
    return CaseInput(**values)


def test_naive_times_are_beijing_time_and_slashes_are_accepted():
    values, errors = check_case_input(data(), reference(), NOW)
    assert errors == []
    assert values["accident_time"] == datetime(2026, 11, 20, 0, 0, tzinfo=timezone.utc)


def test_sub_branch_by_name_gives_its_branch():
    values, _ = check_case_input(data(), reference(), NOW)
    assert (values["sub_branch_id"], values["branch_id"]) == (10, 2)


def test_amounts_accept_thousands_separators_but_not_the_yuan_sign():
    values, errors = check_case_input(data(vehicle_sum_insured="1,200,000.5"), reference(), NOW)
    assert errors == [] and values["vehicle_sum_insured"] == Decimal("1200000.50")
    _, errors = check_case_input(data(vehicle_sum_insured="¥1,200,000.5"), reference(), NOW)
    assert [(e.field, e.key) for e in errors] == [("vehicle_sum_insured", "amount.currency_sign")]


def test_a_float_amount_keeps_its_typed_digits():
    values, errors = check_case_input(data(vehicle_sum_insured=150000.1), reference(), NOW)
    assert errors == [] and values["vehicle_sum_insured"] == Decimal("150000.10")


def test_yes_no_in_chinese():
    values, errors = check_case_input(data(compulsory_only="是", vehicle_imported="否"), reference(), NOW)
    assert errors == [] and values["compulsory_only"] is True and values["vehicle_imported"] is False


def test_case_number_already_known_is_a_duplicate():
    _, errors = check_case_input(data(case_no="TAKEN"), reference(), NOW)
    assert [(e.field, e.key) for e in errors] == [("case_no", "cases.error.duplicate_case_no")]


def test_accident_after_report_and_report_in_future_are_both_reported():
    _, errors = check_case_input(data(report_time="2026-11-20 15:00", accident_time="2026-11-20 16:00"),
                                 reference(), NOW)
    assert {(e.field, e.key) for e in errors} == {("report_time", "cases.error.after_now"),
                                                  ("accident_time", "cases.error.after_now"),
                                                  ("accident_time", "cases.error.accident_after_report")}


def test_restricted_actor_cannot_use_another_sub_branch():
    _, errors = check_case_input(data(sub_branch="sz", surveyor="sz_s"), reference(allowed=frozenset({10})), NOW)
    assert [e.key for e in errors] == ["cases.error.sub_branch_forbidden"]


def test_default_national_table_passes_the_band_checks():
    bands, errors = check_bands([BandInput("T1", "50000", "120000", ["sub_claims_head"]),
                                 BandInput("T2", "120000", None, ["sub_head", "sub_finance_head"])])
    assert errors == [] and [b.rank for b in bands] == [1, 2]


def test_overlapping_bands_are_refused():
    _, errors = check_bands([BandInput("T1", "50000", "130000", ["sub_claims_head"]),
                             BandInput("T2", "120000", None, ["sub_head"])])
    assert [e.key for e in errors] == ["admin.error.band_gap"]


def test_band_amounts_are_never_floats_rounded():
    bands, errors = check_bands([BandInput("T1", "50000.005", "120000", ["sub_claims_head"]),
                                 BandInput("T2", "120000", None, ["sub_head"])])
    assert [e.key for e in errors] == ["admin.error.band_amount"]


def keys(errors) -> dict[str, str]:
    return {e.field: e.key for e in errors}


def test_a_reporter_phone_that_is_no_phone_number_is_refused_naming_the_field():
    _, errors = check_case_input(data(reporter_phone="abc"), reference(), NOW)
    assert keys(errors) == {"reporter_phone": "cases.error.bad_phone"}
    values, errors = check_case_input(data(reporter_phone="+86 138 0013 8000"), reference(), NOW)
    assert errors == [] and values["reporter_phone"] == "+86 138 0013 8000"


def test_an_accident_in_1900_is_refused_with_the_allowed_range_and_never_replaced():
    values, errors = check_case_input(data(accident_time="1900-01-01 08:00"), reference(), NOW)
    assert [(e.field, e.key, e.params) for e in errors] == [
        ("accident_time", "cases.error.date_out_of_range",
         {"value": "1900-01-01", "earliest": "2000-01-01", "latest": "2026-11-20"})]
    assert "accident_time" not in values


def test_a_report_dated_2099_is_refused_with_the_allowed_range():
    _, errors = check_case_input(data(report_time="2099-12-31 08:00"), reference(), NOW)
    assert [(e.field, e.key) for e in errors] == [("report_time", "cases.error.date_out_of_range")]


def test_the_earliest_date_is_the_configured_one_and_holds_for_the_policy_start_too():
    ref = reference()
    ref.earliest_date = date(2020, 1, 1)
    _, errors = check_case_input(data(accident_time="2019-12-31 23:00", policy_start_date="2019-06-01"), ref, NOW)
    assert keys(errors) == {"accident_time": "cases.error.date_out_of_range",
                            "policy_start_date": "cases.error.date_out_of_range"}
    assert errors[0].params["earliest"] == "2020-01-01"


def test_a_policy_start_after_today_is_refused():
    _, errors = check_case_input(data(policy_start_date="2026-11-21"), reference(), NOW)
    assert keys(errors) == {"policy_start_date": "cases.error.date_out_of_range"}


def test_a_nul_in_any_text_field_is_refused_naming_that_field():
    _, errors = check_case_input(data(insured_name="张\x00伟", address="路\x07", description="追尾\n\x00"),
                                 reference(), NOW)
    assert keys(errors) == {"insured_name": "cases.error.control_chars", "address": "cases.error.control_chars",
                            "description": "cases.error.control_chars"}
    values, errors = check_case_input(data(description="两车追尾\n无人伤"), reference(), NOW)
    assert errors == [] and values["description"] == "两车追尾\n无人伤"


def test_to_who_sees_one_sub_branch_a_taken_number_is_unusable_whoever_holds_it():
    """The same words whether the number is the person's own case or another branch's: the refusal
    never says that, or where, the number exists (issue 25 item 7)."""
    _, errors = check_case_input(data(case_no="TAKEN"), reference(allowed=frozenset({10})), NOW)
    assert [(e.field, e.key, e.params) for e in errors] == [
        ("case_no", "cases.error.case_no_unavailable", {"case_no": "TAKEN"})]


def test_text_limits_are_the_columns_lengths():
    from dashboard.rules.case_input import TEXT_LIMITS
    from db.models import ClaimCase

    for name, limit in TEXT_LIMITS.items():
        length = ClaimCase.__table__.c[name].type.length
        assert limit == (length or 4000), name
