"""One reader of money as people type it (rules/amounts.py): what is an amount, and why not."""
from __future__ import annotations

from decimal import Decimal

import pytest

from dashboard.rules.amounts import AmountProblem, needs_confirmation, parse_amount


@pytest.mark.parametrize("typed, amount", [
    ("86000", "86000.00"), ("86,000.50", "86000.50"), (" 120000 ", "120000.00"),
    ("８６，０００", "86000.00"),  # a Chinese input method's full-width digits and comma
    ("12,345,678.9", "12345678.90"), ("999999999999.99", "999999999999.99"),
    (86000.0, "86000.00"),  # a spreadsheet cell's number
    (Decimal("50000"), "50000.00"), (120000, "120000.00"), ("0", "0.00"),
])
def test_an_amount_as_people_write_it_is_read_to_the_cent(typed, amount):
    assert parse_amount(typed) == Decimal(amount)


@pytest.mark.parametrize("typed, reason", [
    ("1e9", "exponent"), ("1E+05", "exponent"),  # one slip adds nine zeros
    ("inf", "not_a_number"), ("NaN", "not_a_number"), ("十万", "not_a_number"), ("1,00", "not_a_number"),
    ("١٢٣", "foreign_digits"),  # Arabic-Indic digits
    ("¥86000", "currency_sign"), ("86000元", "currency_sign"),
    ("-5", "negative"), ("86000.123", "too_many_decimals"),
    (0.1 + 0.2, "too_many_decimals"),  # binary noise of a float is refused, never rounded
    ("1000000000000", "too_large"), ("", "empty"), (True, "not_a_number"),
])
def test_what_is_not_an_amount_is_refused_with_its_reason(typed, reason):
    with pytest.raises(AmountProblem) as problem:
        parse_amount(typed)
    assert problem.value.reason == reason


def test_an_amount_above_the_plausibility_limit_needs_confirming():
    assert needs_confirmation(Decimal("1000000000"), Decimal("50000000"))
    assert not needs_confirmation(Decimal("50000000"), Decimal("50000000"))
    assert not needs_confirmation(Decimal("1000000000"), None)
