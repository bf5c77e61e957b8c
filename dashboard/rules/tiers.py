"""The tier engine (分级管理办法 第一章 二.8): whole-case estimate → tier → first responsible posts.

Pure functions on Decimal. Bands are "lower < X ≤ upper" ("5万元<X≤12万元").
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

NOT_TIERED = "T0"


@dataclass(frozen=True)
class TierBand:
    code: str
    lower_exclusive: Decimal
    upper_inclusive: Decimal | None  # None: no upper bound
    positions: tuple[str, ...]
    hq_notice: bool = False
    rank: int = 0

    @property
    def person_count(self) -> int:
        return len(self.positions)

    def contains(self, amount: Decimal) -> bool:
        return amount > self.lower_exclusive and (self.upper_inclusive is None or amount <= self.upper_inclusive)


class TierTableError(ValueError):
    """A tier table that would leave a gap, an overlap or an empty band."""


def ordered(bands: Sequence[TierBand]) -> list[TierBand]:
    return sorted(bands, key=lambda b: b.lower_exclusive)


def validate_table(bands: Sequence[TierBand]) -> None:
    """Bands must be contiguous, non-empty, each with at least one position; only the last is open."""
    if not bands:
        raise TierTableError("the tier table has no bands")
    seq = ordered(bands)
    for i, band in enumerate(seq):
        if not band.positions:
            raise TierTableError(f"{band.code}: no first responsible position")
        if band.upper_inclusive is not None and band.upper_inclusive <= band.lower_exclusive:
            raise TierTableError(f"{band.code}: upper bound must be above the lower bound")
        if band.upper_inclusive is None and i != len(seq) - 1:
            raise TierTableError(f"{band.code}: only the highest band may be open-ended")
        if i and seq[i - 1].upper_inclusive != band.lower_exclusive:
            raise TierTableError(f"{band.code}: must start where {seq[i - 1].code} ends")
    if len({b.code for b in seq}) != len(seq):
        raise TierTableError("tier codes must be distinct")


def tiering_threshold(bands: Sequence[TierBand]) -> Decimal:
    """Amount above which a case is tiered (50,000 by default)."""
    return ordered(bands)[0].lower_exclusive


def tier_for(amount: Decimal, bands: Sequence[TierBand], *, compulsory_only: bool = False,
             compulsory_tier: str = "T1") -> TierBand | None:
    """The band for a whole-case estimate, or None when the case is not tiered (T0).

    单保交强险 (注意2): a compulsory-only vehicle over the threshold always gets the
    `compulsory_tier` band's person (the sub-branch claims head), whatever the amount.
    """
    if isinstance(amount, float):
        raise TypeError("amounts must be Decimal, never float")
    if not bands or amount <= tiering_threshold(bands):
        return None
    if compulsory_only:
        for band in bands:
            if band.code == compulsory_tier:
                return band
    for band in bands:
        if band.contains(amount):
            return band
    return None


def next_band(band: TierBand, bands: Sequence[TierBand]) -> TierBand | None:
    """The band above `band` (for an unreachable one-person tier: 上一级别责任人)."""
    seq = ordered(bands)
    for i, candidate in enumerate(seq):
        if candidate.code == band.code:
            return seq[i + 1] if i + 1 < len(seq) else None
    return None


def lower_bands(band: TierBand, bands: Sequence[TierBand]) -> list[TierBand]:
    """Bands below `band`: their leaders are copied (抄送) when the case is dispatched."""
    return [b for b in ordered(bands) if b.lower_exclusive < band.lower_exclusive]


def merge_branch_subtiers(national: Sequence[TierBand], branch_bands: Sequence[TierBand],
                          span: tuple[Decimal, Decimal]) -> list[TierBand]:
    """The effective table of a branch whose own split of `span` (50,000–500,000) HQ approved.

    National bands inside the span are replaced by the branch's bands; the rest stay. The
    branch bands must exactly cover the span.
    """
    low, high = span
    inner = ordered(branch_bands)
    if not inner or inner[0].lower_exclusive != low or inner[-1].upper_inclusive != high:
        raise TierTableError(f"branch tiers must cover exactly {low}–{high}")
    validate_table(inner)
    outside = [b for b in national
               if b.upper_inclusive is not None and b.upper_inclusive <= low or b.lower_exclusive >= high]
    merged = ordered([*outside, *inner])
    validate_table(merged)
    return [TierBand(b.code, b.lower_exclusive, b.upper_inclusive, b.positions, b.hq_notice, rank)
            for rank, b in enumerate(merged, start=1)]


def rank_of(code: str, bands: Sequence[TierBand]) -> int:
    """0 for not tiered; otherwise the band's position from the bottom (1 = lowest)."""
    if code == NOT_TIERED:
        return 0
    for rank, band in enumerate(ordered(bands), start=1):
        if band.code == code:
            return rank
    return 0
