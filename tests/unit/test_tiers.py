"""The tier table of docs/DOMAIN.md §3, boundaries exclusive below and inclusive above."""
from __future__ import annotations

from decimal import Decimal

import pytest

from dashboard.rules.tiers import (
    TierBand, TierTableError, lower_bands, merge_branch_subtiers, next_band, tier_for, validate_table,
)
from dashboard.settings import BRANCH_SUBTIER_RANGE, DEFAULT_TIERS

BANDS = [TierBand(t.code, t.lower_exclusive, t.upper_inclusive, t.positions, t.hq_notice, i)
         for i, t in enumerate(DEFAULT_TIERS, start=1)]


@pytest.mark.parametrize("amount, expected", [
    ("0", None), ("49999.99", None), ("50000", None), ("50000.00", None),
    ("50000.01", "T1"), ("86000", "T1"), ("120000", "T1"),
    ("120000.01", "T2"), ("500000", "T2"),
    ("500000.01", "T3"), ("1000000", "T3"),
    ("1000000.01", "T4"), ("98000000", "T4"),
])
def test_tier_boundaries_are_exclusive_below_and_inclusive_above(amount, expected):
    band = tier_for(Decimal(amount), BANDS)
    assert (band.code if band else None) == expected


def test_estimate_of_120000_is_T1_not_T2():
    assert tier_for(Decimal("120000"), BANDS).code == "T1"


@pytest.mark.parametrize("amount, expected", [("50000", None), ("50000.01", "T1"), ("300000", "T1"),
                                              ("2500000", "T1")])
def test_compulsory_only_over_50000_is_always_T1(amount, expected):
    band = tier_for(Decimal(amount), BANDS, compulsory_only=True)
    assert (band.code if band else None) == expected


def test_T1_dispatches_one_person_and_T2_two():
    assert tier_for(Decimal("60000"), BANDS).positions == ("sub_claims_head",)
    assert tier_for(Decimal("130000"), BANDS).positions == ("sub_head", "sub_finance_head")


def test_only_T4_sends_the_hq_major_case_notice():
    assert [b.code for b in BANDS if b.hq_notice] == ["T4"]


def test_floats_are_refused():
    with pytest.raises(TypeError):
        tier_for(60000.0, BANDS)  # type: ignore[arg-type]


def test_next_band_of_a_one_person_tier_is_the_two_person_tier():
    assert next_band(BANDS[0], BANDS).code == "T2"
    assert next_band(BANDS[-1], BANDS) is None


def test_lower_bands_are_copied():
    assert [b.code for b in lower_bands(BANDS[2], BANDS)] == ["T1", "T2"]


def _sub(code, lo, hi, positions=("sub_claims_head",)):
    return TierBand(code, Decimal(lo), Decimal(hi) if hi else None, positions)


def test_branch_subtiers_replace_the_national_bands_inside_50000_to_500000():
    branch = [_sub("B1", "50000", "80000"), _sub("B2", "80000", "200000", ("sub_head",)),
              _sub("B3", "200000", "500000", ("sub_head", "sub_finance_head"))]
    merged = merge_branch_subtiers(BANDS, branch, BRANCH_SUBTIER_RANGE)
    assert [b.code for b in merged] == ["B1", "B2", "B3", "T3", "T4"]
    assert tier_for(Decimal("80000"), merged).code == "B1"
    assert tier_for(Decimal("80000.01"), merged).code == "B2"
    assert tier_for(Decimal("500000.01"), merged).code == "T3"
    assert [b.rank for b in merged] == [1, 2, 3, 4, 5]


def test_branch_subtiers_must_cover_the_whole_range():
    with pytest.raises(TierTableError):
        merge_branch_subtiers(BANDS, [_sub("B1", "50000", "300000")], BRANCH_SUBTIER_RANGE)


def test_a_table_with_a_gap_is_refused():
    with pytest.raises(TierTableError):
        validate_table([_sub("A", "50000", "100000"), _sub("B", "120000", None)])


def test_a_band_without_a_person_is_refused():
    with pytest.raises(TierTableError):
        validate_table([TierBand("A", Decimal("50000"), None, ())])
