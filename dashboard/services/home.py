"""Landing-page figures for the signed-in person, limited to the cases they may see."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.services.actor import Actor, case_scope
from db.models import ClaimCase, OrgUnit


@dataclass(frozen=True)
class HomeFigures:
    cases_visible: int
    pending: int
    pending_tiered: int
    pending_tiered_amount: Decimal


def home_figures(session: Session, actor: Actor) -> HomeFigures:
    # Two statements, so each is an index-only scan at 1M cases (bench/RESULTS.md): the total over a
    # narrow index, the pending figures over the partial index of pending cases (ix_claim_case_pending).
    tiered = ClaimCase.tier != "T0"
    scope = case_scope(actor)
    where = [] if scope is None else [scope]
    total = session.scalar(select(func.count()).select_from(ClaimCase).where(*where)) or 0
    pending_n, tiered_n, amount = session.execute(
        select(func.count(), func.count().filter(tiered),
               func.coalesce(func.sum(ClaimCase.current_estimate).filter(tiered), 0))
        .select_from(ClaimCase).where(ClaimCase.state != "closed", *where)).one()
    return HomeFigures(total, pending_n, tiered_n, Decimal(amount))


def unit_names(session: Session, actor: Actor) -> list[str]:
    ids = sorted({a.unit_id for a in actor.assignments})
    if not ids:
        return []
    return list(session.scalars(select(OrgUnit.name).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.id)))
