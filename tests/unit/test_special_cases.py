"""Special-case approval (issue 20, its first rule; docs/DOMAIN.md §8): the chain stops at the first
level whose limit covers the payment, at every boundary; reputation cases go to the branch GM
alone; type C is refused for each exclusion, named."""
from __future__ import annotations

from decimal import Decimal

import pytest

from dashboard.rules.special_cases import TYPE_C_EXCLUSIONS, approval_chain, type_c_refusals

SUB, SUB_GM, DEPT, GM = "sub_claims_head", "sub_gm", "branch_line_dept", "branch_gm"


@pytest.mark.parametrize("amount, chain", [
    ("0", (SUB,)),
    ("10000", (SUB,)),
    ("10000.01", (SUB, SUB_GM)),
    ("50000", (SUB, SUB_GM)),
    ("50000.01", (SUB, SUB_GM, DEPT)),
    ("200000", (SUB, SUB_GM, DEPT)),
    ("200000.01", (SUB, SUB_GM, DEPT, GM)),
    ("99999999", (SUB, SUB_GM, DEPT, GM)),
])
def test_the_chain_climbs_to_the_first_level_whose_limit_covers_the_payment(amount, chain):
    assert approval_chain(Decimal(amount)) == chain


@pytest.mark.parametrize("amount", ["0", "10000", "5000000"])
def test_a_reputation_case_goes_straight_to_the_branch_gm(amount):
    assert approval_chain(Decimal(amount), reputation=True) == (GM,)


def test_the_limits_are_data_and_must_rise():
    limits = {SUB: Decimal(1000), SUB_GM: Decimal(2000), DEPT: Decimal(3000), GM: None}
    assert approval_chain(Decimal(2500), limits=limits) == (SUB, SUB_GM, DEPT)
    with pytest.raises(ValueError):
        approval_chain(Decimal(1), limits={**limits, SUB_GM: Decimal(500)})
    with pytest.raises(ValueError):
        approval_chain(Decimal(-1))


def test_type_c_is_refused_for_each_exclusion_and_names_them():
    assert type_c_refusals([]) == ()
    assert type_c_refusals(["customer_uncooperative"]) == ()
    for reason in TYPE_C_EXCLUSIONS:
        assert type_c_refusals([reason]) == (reason,)
    assert type_c_refusals(["media_attention", "drunk_driving"]) == ("drunk_driving", "media_attention")
