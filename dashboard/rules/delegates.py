"""Who is offered first to go instead of an absent first responsible (指定专人, docs/DOMAIN.md §3).

The delegate goes in the first responsible's place, so the list starts with people of the same
rank or above (issue 26: it was alphabetical, a surveyor before a branch head). A post's rank is
the lowest band of the case's tier table that names it: 三级机构理赔负责人 (T1) below 三级机构负责人
(T2) below 分公司理赔负责人 (T3) below 分公司总经理 (T4). People with no first-responsible post
(surveyors, managers) come last.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from dashboard.rules.tiers import TierBand, ordered


def position_ranks(bands: Sequence[TierBand]) -> dict[str, int]:
    """post -> rank (1 for the lowest band's posts), from the tier table in force for the case."""
    ranks: dict[str, int] = {}
    for rank, band in enumerate(ordered(bands), start=1):
        for position in band.positions:
            ranks.setdefault(position, rank)
    return ranks


def person_rank(positions: Iterable[str | None], ranks: dict[str, int]) -> int:
    """A person's highest rank over their posts; 0 for no first-responsible post."""
    return max((ranks.get(p or "", 0) for p in positions), default=0)


def delegate_order(rank: int, own_rank: int, near: bool, name: str) -> tuple:
    """Sort key: own rank and above first (own rank, then each rank up), then lower ranks from the
    closest down, then people with no post; within a rank, people of the case's own unit first."""
    if rank and rank >= own_rank:
        group, step = 0, rank
    elif rank:
        group, step = 1, -rank
    else:
        group, step = 2, 0
    return group, step, not near, name
