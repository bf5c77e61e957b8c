"""The intake's typed-field rules (rules/intake_fields.py), as its docstring writes them down."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from dashboard.rules.intake_fields import (
    FieldProblem, check_day_in_range, check_moment_in_range, check_phone, clean_text, parse_day, parse_moment,
)
from dashboard.settings import BUSINESS_TZ

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai
EARLIEST = date(2000, 1, 1)


def reason(call) -> str | None:
    try:
        call()
    except FieldProblem as problem:
        return problem.reason
    return None


@pytest.mark.parametrize("number", [
    "13800138000", "19912345678", "+8613800138000", "+86 138 0013 8000", "86-138-0013-8000", "008613800138000",
    "138-0013-8000", "１３８００１３８０００",  # full-width digits from a Chinese input method
    "020-87654321", "010-87654321", "(0571)8765432", "0755 23456789", "0571-8765432", "02087654321",
    "020-87654321-123", "010-62345678转8001", "0755-23456789 ext 12", "+86 20 87654321", "+86-571-8765432",
])
def test_mainland_mobile_and_landline_numbers_are_accepted_as_typed(number):
    assert check_phone(f" {number} ") == number.replace("１３８００１３８０００", "13800138000")


@pytest.mark.parametrize("number", [
    "abc", "12345678", "1380013800", "138001380001", "12800138000", "23800138000", "020-1234567a", "020-0234567",
    "20-12345678", "+1 415 555 0100", "13800138000 13900139000", "110", "",
])
def test_anything_else_is_not_a_phone_number(number):
    with pytest.raises(FieldProblem) as problem:
        check_phone(number)
    assert problem.value.reason == "bad_phone" and problem.value.params["value"] == number.strip()


@pytest.mark.parametrize("value", ["a\x00b", "\x07bell", "x\x1by", "del\x7f", "c1\x85x", "tab\tinside", "two\nlines",
                                   "half \ud83d emoji"])
def test_control_characters_are_refused_in_a_single_line_field(value):
    assert reason(lambda: clean_text(value, max_len=100)) == "control_chars"


def test_the_refusal_writes_the_control_character_out():
    with pytest.raises(FieldProblem) as problem:
        clean_text("张\x00伟", max_len=100)
    assert problem.value.params == {"chars": "\\x00"}


def test_a_multi_line_field_keeps_line_breaks_and_tabs_but_not_nul():
    assert clean_text("  两车追尾\n无人伤\t已报警  ", max_len=100, multiline=True) == "两车追尾\n无人伤\t已报警"
    assert reason(lambda: clean_text("两车\x00追尾", max_len=100, multiline=True)) == "control_chars"


def test_text_is_trimmed_blank_is_not_given_and_the_limit_counts_characters():
    assert clean_text("  张伟 ", max_len=2) == "张伟"
    assert clean_text(" \t ", max_len=2) is None and clean_text(None, max_len=2) is None
    assert reason(lambda: clean_text("张伟明", max_len=2)) == "too_long"


@pytest.mark.parametrize("text, expected", [
    ("2026-11-20 08:30", datetime(2026, 11, 20, 8, 30)), ("2026/11/20 8:30", datetime(2026, 11, 20, 8, 30)),
    ("2026.11.20 08:30:15", datetime(2026, 11, 20, 8, 30, 15)), ("2026-11-20T08:30", datetime(2026, 11, 20, 8, 30)),
    ("2026年11月20日 08:30", datetime(2026, 11, 20, 8, 30)), ("２０２６－１１－２０ ０８：３０", datetime(2026, 11, 20, 8, 30)),
    ("2026-11-20", datetime(2026, 11, 20)),
])
def test_moments_are_read_in_beijing_time(text, expected):
    assert parse_moment(text, BUSINESS_TZ) == expected.replace(tzinfo=BUSINESS_TZ)


def test_an_iso_moment_with_an_offset_keeps_its_offset():
    assert parse_moment("2026-11-20T00:30:00+00:00", BUSINESS_TZ) == datetime(2026, 11, 20, 0, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["yesterday", "2026-02-30 08:00", "2026-11-20 25:00", "20-11-2026", "2026-11-20 8",
                                  "2026-11-20\x0008:00"])
def test_what_is_not_a_moment_is_refused(text):
    assert reason(lambda: parse_moment(text, BUSINESS_TZ)) == "bad_time"


def test_days_in_the_usual_forms_and_nothing_else():
    assert parse_day("2026/3/1") == parse_day("2026年3月1日") == parse_day("2026-03-01") == date(2026, 3, 1)
    assert reason(lambda: parse_day("2026-13-01")) == "bad_date"
    assert reason(lambda: parse_day("01/03/2026")) == "bad_date"


@pytest.mark.parametrize("text", ["1900-01-01 08:00", "1999-12-31 23:59", "2099-12-31 08:00", "2026-11-21 00:00"])
def test_a_moment_on_a_day_outside_the_range_is_refused_with_the_range(text):
    moment = parse_moment(text, BUSINESS_TZ)
    with pytest.raises(FieldProblem) as problem:
        check_moment_in_range(moment, EARLIEST, NOW, BUSINESS_TZ)
    assert problem.value.reason == "date_out_of_range"
    assert problem.value.params == {"value": text[:10], "earliest": "2000-01-01", "latest": "2026-11-20"}


def test_later_today_than_now_is_refused_and_the_range_ends_are_allowed():
    assert reason(lambda: check_moment_in_range(parse_moment("2026-11-20 14:01", BUSINESS_TZ), EARLIEST, NOW,
                                                BUSINESS_TZ)) == "after_now"
    for text in ("2000-01-01 00:00", "2026-11-20 14:00"):
        check_moment_in_range(parse_moment(text, BUSINESS_TZ), EARLIEST, NOW, BUSINESS_TZ)


def test_a_day_outside_the_range_is_refused():
    assert reason(lambda: check_day_in_range(date(1900, 1, 1), EARLIEST, date(2026, 11, 20))) == "date_out_of_range"
    assert reason(lambda: check_day_in_range(date(2026, 11, 21), EARLIEST, date(2026, 11, 20))) == "date_out_of_range"
    check_day_in_range(date(2026, 11, 20), EARLIEST, date(2026, 11, 20))
