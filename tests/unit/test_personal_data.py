"""Phone numbers masked for the roles that call nobody (issue 18): enough to tell two apart, never
enough to dial; whole for the roles that call people."""
from __future__ import annotations

import pytest

from dashboard.rules.permissions import roles_with
from dashboard.rules.personal_data import mask_phone, shown_phone


@pytest.mark.parametrize("number, masked", [
    ("13800138000", "138****8000"),
    ("020-87654321", "020-******21"),
    ("0755-1234567", "0755-*****67"),
    ("+8613800138000", "************00"),
    ("12", "**"),
    ("", ""),
    (None, None),
])
def test_a_number_keeps_only_what_tells_it_apart(number, masked):
    assert mask_phone(number) == masked


@pytest.mark.parametrize("number", ["13800138000", "020-87654321", "0755-1234567", "95518", "4008-123-456"])
def test_a_masked_number_never_shows_more_than_seven_of_its_digits_in_a_row(number):
    masked = mask_phone(number)
    assert masked != number
    digits_shown = sum(c.isdigit() for c in masked)
    assert digits_shown <= 7 and digits_shown < sum(c.isdigit() for c in number)


def test_shown_whole_only_to_a_role_that_needs_it():
    assert shown_phone("13800138000", True) == "13800138000"
    assert shown_phone("13800138000", False) == "138****8000"


def test_the_roles_that_read_cases_without_calling_anyone_see_numbers_masked():
    needs = roles_with("personal.contact")
    assert {"call_center", "surveyor", "first_responsible", "branch_manager"} <= needs
    assert not needs & {"executive", "hq_reviewer", "exec_supervisor"}
