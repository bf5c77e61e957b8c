"""Load one case the actor may see, or refuse as "not found" (never reveal another branch's case)."""
from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.services.actor import Actor, case_scope
from dashboard.services.errors import NotFound
from dashboard.services.stale import stale_case
from dashboard.services.capability import requires
from db.models import ClaimCase


_ACTOR_SCOPE = object()


@requires("case.read")
def load_visible_case(session: Session, actor: Actor, case_id: int, *, for_update: bool = False,
                      expected_version: int | None = None, scope: object = _ACTOR_SCOPE) -> ClaimCase:
    """`scope` narrows further for a page's own audience (None: no limit); default: case_scope(actor)."""
    query = select(ClaimCase).where(ClaimCase.id == case_id)
    if scope is _ACTOR_SCOPE:
        scope = case_scope(actor)
    if scope is not None:
        query = query.where(scope)
    if for_update:
        query = query.with_for_update(of=ClaimCase)
    case = session.scalars(query).first()
    if case is None:
        raise NotFound()
    if expected_version is not None and case.version != expected_version:
        raise stale_case(session, case.id)
    return case


@requires("case.read")
def find_case_id(session: Session, actor: Actor, case_no: str) -> int:
    """The case with this number, as typed or as meant: full-width characters from a Chinese input
    method (ＢＡ２０２６…) and lower case are read as the case number's own form; an exact match wins."""
    typed = case_no.strip()
    meant = unicodedata.normalize("NFKC", typed).strip()
    candidates = list(dict.fromkeys((typed, meant, meant.upper())))
    query = (select(ClaimCase.id).where(ClaimCase.case_no.in_(candidates))
             .order_by((ClaimCase.case_no == typed).desc(), (ClaimCase.case_no == meant).desc()).limit(1))
    scope = case_scope(actor)
    if scope is not None:
        query = query.where(scope)
    case_id = session.scalar(query)
    if case_id is None:
        raise NotFound()
    return case_id
