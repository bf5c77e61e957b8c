"""Load one case the actor may see, or refuse as "not found" (never reveal another branch's case)."""
from __future__ import annotations

import unicodedata

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from dashboard.services.actor import Actor, case_scope
from dashboard.services.errors import NotFound
from dashboard.services.stale import stale_case
from dashboard.services.capability import requires
from db.models import ClaimCase, Dispatch


_ACTOR_SCOPE = object()


def within_case_scope(query: Select, actor: Actor) -> Select:
    """`query` (reading claim_case) narrowed to the cases `actor` may see (case_scope; a national
    reader's is left as it is)."""
    scope = case_scope(actor)
    return query if scope is None else query.where(scope)


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
def visible_case_id(session: Session, actor: Actor, case_id: int) -> int:
    """The case's id if the actor may see it, else NotFound: for a read that only needs the check
    (a case's files), where load_visible_case builds the whole ORM case."""
    if session.scalar(within_case_scope(select(ClaimCase.id).where(ClaimCase.id == case_id), actor)) is None:
        raise NotFound()
    return case_id


@requires("case.read")
def find_case_id(session: Session, actor: Actor, case_no: str) -> int:
    """The case with this number, as typed or as meant: full-width characters from a Chinese input
    method (ＢＡ２０２６…) and lower case are read as the case number's own form; an exact match wins."""
    typed = case_no.strip()
    meant = unicodedata.normalize("NFKC", typed).strip()
    candidates = list(dict.fromkeys((typed, meant, meant.upper())))
    query = (select(ClaimCase.id).where(ClaimCase.case_no.in_(candidates))
             .order_by((ClaimCase.case_no == typed).desc(), (ClaimCase.case_no == meant).desc()).limit(1))
    case_id = session.scalar(within_case_scope(query, actor))
    if case_id is None:
        raise NotFound()
    return case_id


def dispatched_case_ids(person_id: int):
    """Cases a person was dispatched to as first responsible (or went to as delegate)."""
    return select(Dispatch.case_id).where(or_(Dispatch.person_id == person_id,
                                              Dispatch.delegate_person_id == person_id))


def review_scope(actor: Actor) -> ColumnElement[bool] | None:
    """Cases whose review / supervision threads the actor may read; None means all.

    Stricter than case_scope for first responsible persons: a branch claims head sees the cases
    dispatched to them, not the whole branch (分级管理办法 第四章 一.4).
    """
    if actor.is_national:  # HQ and the call center read every branch's threads
        return None
    conditions: list[ColumnElement[bool]] = []
    branch_ids = actor.branch_ids_for("branch_manager", "branch_tracker") | actor.supervised_branch_ids
    if branch_ids:
        conditions.append(ClaimCase.branch_id.in_(sorted(branch_ids)))
    if actor.has_role("first_responsible"):
        conditions.append(ClaimCase.id.in_(dispatched_case_ids(actor.person_id)))
    return or_(*conditions) if conditions else false()


def load_review_case(session: Session, actor: Actor, case_id: int, *, for_update: bool = False) -> ClaimCase:
    """A case within the review pages' audience (review_scope), or NotFound."""
    return load_visible_case(session, actor, case_id, for_update=for_update, scope=review_scope(actor))
