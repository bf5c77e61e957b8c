"""Landing-page figures for the signed-in person, limited to the cases they may see."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, case, func, select
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
    pending = ClaimCase.state != "closed"
    tiered_pending = and_(pending, ClaimCase.tier != "T0")
    query = select(
        func.count(),
        func.count().filter(pending),
        func.count().filter(tiered_pending),
        func.coalesce(func.sum(case((tiered_pending, ClaimCase.current_estimate), else_=0)), 0),
    ).select_from(ClaimCase)
    scope = case_scope(actor)
    if scope is not None:
        query = query.where(scope)
    total, pending_n, tiered_n, amount = session.execute(query).one()
    return HomeFigures(total, pending_n, tiered_n, Decimal(amount))


def unit_names(session: Session, actor: Actor) -> list[str]:
    ids = sorted({a.unit_id for a in actor.assignments})
    if not ids:
        return []
    return list(session.scalars(select(OrgUnit.name).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.id)))
