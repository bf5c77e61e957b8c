"""Shared pieces of the review, supervision and weekly services: who may see which case,
who the branch's people are, deadline meeting and notification outbox rows."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from dashboard.i18n import CATALOG
from dashboard.services.case_access import load_visible_case
from dashboard.services.outbox import queue_notification
from dashboard.services.actor import Actor
from db.models import ClaimCase, Dispatch, RoleAssignment, SupervisorAssignment

# HQ roles that read every branch's review threads (SPEC §1).
HQ_READERS = frozenset({"hq_admin", "hq_reviewer", "executive", "call_center"})


def dispatched_case_ids(person_id: int):
    """Cases a person was dispatched to as first responsible (or went to as delegate)."""
    return select(Dispatch.case_id).where(or_(Dispatch.person_id == person_id,
                                              Dispatch.delegate_person_id == person_id))


def review_scope(actor: Actor) -> ColumnElement[bool] | None:
    """Cases whose review / supervision threads the actor may read; None means all.

    Stricter than case_scope for first responsible persons: a branch claims head sees the cases
    dispatched to them, not the whole branch (分级管理办法 第四章 一.4).
    """
    if actor.roles & HQ_READERS:
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


def branch_people(session: Session, branch_id: int, role: str) -> list[int]:
    """People holding `role` at the branch itself, oldest assignment first."""
    return list(session.scalars(
        select(RoleAssignment.person_id).where(RoleAssignment.unit_id == branch_id,
                                               RoleAssignment.role == role)
        .order_by(RoleAssignment.id)))


def branch_supervisors(session: Session, branch_id: int) -> list[int]:
    return list(session.scalars(select(SupervisorAssignment.person_id)
                                .where(SupervisorAssignment.branch_id == branch_id)
                                .order_by(SupervisorAssignment.person_id)))


def zh(key: str, **params: object) -> str:
    """Notification bodies are stored rendered in Simplified Chinese (the business language)."""
    text = CATALOG.get(key, (key, key))[0]
    return text.format(**params) if params else text


def notify(session: Session, *, recipients: list[int], case_id: int | None, kind: str, body: str,
           dedupe_prefix: str, now: datetime) -> None:
    """Queue one outbox row per recipient; the dedupe key makes a retry harmless."""
    for person_id in dict.fromkeys(recipients):
        queue_notification(session, case_id=case_id, recipient_id=person_id, kind=kind, body=body,
                           dedupe_key=f"{dedupe_prefix}:to:{person_id}", now=now)
