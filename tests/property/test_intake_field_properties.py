"""Every intake field, fed anything (issue 18, "Bad input"): a value is read as a clean value or
refused with the product's own field problem, whose Chinese message names the field; never any
other exception. Pure rules: many examples."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from hypothesis import example, given, strategies as st

from dashboard.rules.amounts import MAX_MONEY, AmountProblem, parse_amount
from dashboard.rules.case_input import (
    INPUT_FIELDS, TEXT_FIELDS, TEXT_LIMITS, CaseInput, IntakeReference, SubBranchRef, check_case_input,
)
from dashboard.rules.intake_fields import (
    FieldProblem, check_moment_in_range, check_phone, clean_text, parse_day, parse_moment, visible,
)
from dashboard.settings import BUSINESS_TZ
from tests.property.strategies import (
    UTC, anything, chinese_message, control_free, field_line, hostile_text, long_text, some_day, storable, typed_moment,
)

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
EARLIEST = date(2000, 1, 1)


# ---------------------------------------------------------------- amounts


@given(anything)
@example(Decimal("sNaN"))
@example(float("nan"))
@example("１２３４５．６７８")
@example("9" * 5000)
def test_an_amount_is_a_cent_exact_decimal_in_range_or_refused_with_its_reason(value):
    try:
        amount = parse_amount(value)
    except AmountProblem as problem:
        chinese_message(f"amount.{problem.reason}", {"value": visible(problem.text)})
        return
    assert isinstance(amount, Decimal) and amount.is_finite()
    assert Decimal(0) <= amount <= MAX_MONEY and amount == amount.quantize(Decimal("0.01"))


@given(st.decimals(min_value=0, max_value=MAX_MONEY, places=2), st.integers(min_value=0, max_value=3))
def test_an_amount_typed_plain_grouped_or_full_width_reads_as_itself(amount, style):
    plain = f"{amount:f}"
    typed = [plain, f"{amount:,.2f}", plain.translate(str.maketrans("0123456789.", "０１２３４５６７８９．")),
             f" {amount:,}\u3000"][style]
    assert parse_amount(typed) == amount


# ---------------------------------------------------------------- free text


@given(anything, st.integers(min_value=1, max_value=4000), st.booleans())
@example("张\x00伟", 100, False)
@example("\u202e伟张\u200f", 100, False)
@example("两车追尾\r\n无人伤\t", 4000, True)
def test_free_text_is_kept_as_typed_and_storable_or_refused_naming_why(value, max_len, multiline):
    try:
        text = clean_text(value, max_len=max_len, multiline=multiline)
    except FieldProblem as problem:
        assert problem.reason in ("control_chars", "too_long")
        chinese_message(f"cases.error.{problem.reason}", problem.params)
        return
    if text is None:
        assert value is None or not str(value).strip()
        return
    assert text == str(value).strip() and len(text) <= max_len
    assert storable(text) and control_free(text, "\n\r\t" if multiline else "")


# ---------------------------------------------------------------- phone numbers

_PHONE_CHARACTERS = set("0123456789 -()+#转分机ext.EXT")


_PHONE_LIKE = st.text(st.one_of(st.characters(categories=["Nd"]), st.sampled_from(" -+()#转分机ext.")),
                      min_size=7, max_size=20)  # digits of every script among a phone number's signs
_ONE_DIGIT_SWAPPED = st.builds(lambda number, at, digit: number[:at] + digit + number[at + 1:],
                               st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.integers(0, 10),
                               st.characters(categories=["Nd"]))  # a mobile number with one digit of any script


@given(st.one_of(hostile_text, long_text, _PHONE_LIKE, _ONE_DIGIT_SWAPPED))
@example("13٨00138000")  # Arabic-Indic digit in a mobile number: nobody can dial it
@example("020-８７６５４３２１")
def test_a_phone_number_is_kept_in_plain_digits_or_refused(value):
    try:
        number = check_phone(value)
    except FieldProblem as problem:
        assert problem.reason == "bad_phone"
        chinese_message("cases.error.bad_phone", problem.params)
        return
    assert set(number) <= _PHONE_CHARACTERS, number
    assert sum(ch.isdigit() for ch in number) >= 10


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.integers(min_value=0, max_value=3))
def test_every_mainland_mobile_number_is_accepted_however_grouped(number, style):
    typed = [number, f"+86 {number[:3]} {number[3:7]} {number[7:]}", f"{number[:3]}-{number[3:7]}-{number[7:]}",
             number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))][style]
    assert check_phone(typed).translate(str.maketrans("", "", " -+")).endswith(number)


# ---------------------------------------------------------------- dates and times


@given(anything)
@example("0001-01-01T00:00+14:00")  # before year 1 in UTC: converting it overflowed
@example("9999-12-31T23:59-12:00")  # after year 9999 in UTC
@example(datetime(1, 1, 1))
def test_a_moment_is_read_in_beijing_time_and_held_to_its_range_or_refused(value):
    try:
        moment = parse_moment(value, BUSINESS_TZ)
        check_moment_in_range(moment, EARLIEST, NOW, BUSINESS_TZ)
    except FieldProblem as problem:
        assert problem.reason in ("bad_time", "date_out_of_range", "after_now")
        chinese_message(f"cases.error.{problem.reason}", problem.params)
        return
    assert moment.tzinfo is not None and moment <= NOW
    assert moment.astimezone(BUSINESS_TZ).date() >= EARLIEST


@given(anything)
def test_a_day_is_a_date_or_refused(value):
    try:
        day = parse_day(value)
    except FieldProblem as problem:
        assert problem.reason == "bad_date"
        chinese_message("cases.error.bad_date", problem.params)
        return
    assert isinstance(day, date)


@given(some_day(), st.times(), st.integers(min_value=0, max_value=5))
def test_a_moment_typed_in_any_accepted_style_is_that_moment_in_beijing(day, at, style):
    at = at.replace(microsecond=0, second=0 if style != 1 else at.second)
    moment = parse_moment(typed_moment(day, at, style), BUSINESS_TZ)
    assert moment.astimezone(BUSINESS_TZ).replace(tzinfo=None) == datetime.combine(day, at)


# ---------------------------------------------------------------- the whole registration form

REFERENCE = IntakeReference(
    sub_branches={10: SubBranchRef(10, "gz", "广州中心支公司", 2), 11: SubBranchRef(11, "sz", "深圳中心支公司", 2)},
    sub_branch_by_key={"gz": 10, "广州中心支公司": 10, "sz": 11, "深圳中心支公司": 11},
    surveyor_units={100: frozenset({10}), 101: frozenset({11})},
    surveyor_by_username={"gz_s": 100, "sz_s": 101},
    allowed_sub_branch_ids=None, existing_case_nos={"TAKEN"})

VALID = dict(case_no="A1", report_time="2026-11-20 09:00", accident_time="2026/11/20 08:00", province="广东省",
             city="广州市", address="天河路385号", business_line="车险", policy_no="P1", insured_name="张伟",
             reporter_name="张伟", reporter_phone="13800138000", accident_type="碰撞", sub_branch="gz",
             surveyor="gz_s", vehicle_sum_insured="200,000.00", vehicle_age_years="3", initial_estimate="86000")


@st.composite
def case_inputs(draw) -> CaseInput:
    """A valid form with some fields replaced by anything at all."""
    values = dict(VALID)
    for name in draw(st.sets(st.sampled_from(INPUT_FIELDS), min_size=1, max_size=6)):
        values[name] = draw(anything)
    return CaseInput(**values)


@given(case_inputs())
@example(CaseInput(**{**VALID, "sub_branch": "²"}))  # str.isdigit() but not int(): raised ValueError
@example(CaseInput(**{**VALID, "surveyor": "①"}))
@example(CaseInput(**{**VALID, "sub_branch": "9" * 5000}))  # past int()'s 4300-digit limit
@example(CaseInput(**{**VALID, "accident_time": "0001-01-01T00:00+14:00"}))
@example(CaseInput(**{**VALID, "vehicle_age_years": float("inf")}))
def test_the_registration_form_lists_each_bad_field_by_name_and_passes_only_storable_values(data):
    values, errors = check_case_input(data, REFERENCE, NOW)
    for error in errors:
        assert error.field in INPUT_FIELDS
        field_line(error)
    if errors:
        return
    for name, _required, limit in TEXT_FIELDS:
        text = values[name]
        assert text is None or (storable(text) and len(text) <= TEXT_LIMITS[name] == limit)
    assert values["report_time"] <= NOW and values["accident_time"] <= values["report_time"]
    for name in ("vehicle_sum_insured", "initial_estimate"):
        assert values[name] is None or Decimal(0) <= values[name] <= MAX_MONEY
    assert values["vehicle_age_years"] is None or 0 <= values["vehicle_age_years"] <= 100
    assert values["sub_branch_id"] in REFERENCE.sub_branches
    assert values["sub_branch_id"] in REFERENCE.surveyor_units[values["surveyor_id"]]


@given(some_day(latest=date(2026, 11, 19)), st.times(), st.integers(min_value=0, max_value=5), hostile_text)
def test_a_valid_form_with_any_description_is_accepted_unless_the_description_is_refused(day, at, style, description):
    moment = typed_moment(day, at.replace(microsecond=0), style)
    data = CaseInput(**{**VALID, "report_time": moment, "accident_time": moment, "description": description})
    values, errors = check_case_input(data, REFERENCE, NOW)
    if not errors:
        assert values["description"] == (description.strip() or None)
        return
    assert [e.field for e in errors] == ["description"], errors
    field_line(errors[0])
