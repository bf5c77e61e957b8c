"""Special cases (特殊赔案理赔管理办法; docs/DOMAIN.md §8): which types exist, when type C is refused,
and which levels approve a requested payment. Pure.

- Types: A, clearly excluded but paid for business reasons; B, covered, the customer asks for
  more; C, a key customer will not cooperate or provide documents.
- Type C is never for drunk driving, hit-and-run, a crime, drugs, or a case the media watch: each
  that applies is named in the refusal.
- Approval climbs the chain sub-branch claims head → sub-branch GM → branch motor / non-motor
  department → branch GM, stopping at the first level whose limit covers the payment (a limit is
  the highest payment it may approve, inclusive: a payment equal to the limit stops there). A case
  touching the company's reputation goes straight to the branch GM, alone. The branch GM has no
  limit. The chain runs beside the claim flow, never instead of it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from dashboard.settings import DEFAULT_SPECIAL_APPROVAL_LIMITS, SPECIAL_APPROVAL_LEVELS

TYPES = ("A", "B", "C")
TYPE_C_EXCLUSIONS = ("drunk_driving", "hit_and_run", "crime", "drugs", "media_attention")


def type_c_refusals(circumstances: Iterable[str]) -> tuple[str, ...]:
    """The exclusions that forbid type C for a case with these circumstances (empty: allowed)."""
    present = set(circumstances)
    return tuple(reason for reason in TYPE_C_EXCLUSIONS if reason in present)


def approval_chain(amount: Decimal, *, reputation: bool = False,
                   limits: Mapping[str, Decimal | None] = DEFAULT_SPECIAL_APPROVAL_LIMITS) -> tuple[str, ...]:
    """The levels that approve, in order: up to the first whose limit covers `amount`; the branch
    GM alone for a reputation case. ValueError for a negative amount or a chain whose limits fall."""
    if amount < 0:
        raise ValueError("a payment is not negative")
    if reputation:
        return (SPECIAL_APPROVAL_LEVELS[-1],)
    known = [limits[level] for level in SPECIAL_APPROVAL_LEVELS[:-1]]
    if any(a is None or b is None or a >= b for a, b in zip(known, known[1:])):
        raise ValueError("each level's limit must be above the one before it")
    chain: list[str] = []
    for level in SPECIAL_APPROVAL_LEVELS:
        chain.append(level)
        limit = limits.get(level)
        if limit is None or amount <= limit:
            break
    return tuple(chain)
