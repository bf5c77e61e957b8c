"""HQ admin's list of people, and disabling or restoring an account (issue 18; docs/DOMAIN.md §1: hq_admin owns
the users).

Why here and not only `person.active`: a disabled person must lose access at their next action,
wherever they are signed in, so disabling also ends every live web session of theirs (the next
click of each tab finds its session ended and says why). Two admins at once: the change names the
version the admin's screen drew, and a stale one is refused naming who changed the account and
when. Nobody disables their own account (the last admin could lock HQ out).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, bindparam, func, or_, select, union, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased

from dashboard import clock
from dashboard.rules.personal_data import shown_phone
from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.services.cases.history import record_event
from dashboard.services.errors import NotFound, UserError
from dashboard.services.stale import stale_write
from dashboard.services.statements import built_once, count_then_page, read
from db.models import ClaimCase, Dispatch, OrgUnit, Person, RoleAssignment, WebSession

STATUSES = ("all", "active", "disabled")
_LIKE_SPECIAL = re.compile(r"[\\%_]")  # typed as characters, never as LIKE wildcards
_CHANGER = aliased(Person)


@dataclass(frozen=True)
class PersonRow:
    id: int
    username: str
    full_name: str
    title: str | None
    phone: str | None
    active: bool
    version: int
    roles: tuple[tuple[str, str], ...]  # (role code, unit name), in assignment order
    status_changed_by: str | None
    status_changed_at: datetime | None


@dataclass(frozen=True)
class PeoplePage:
    total: int
    rows: list[PersonRow]


@dataclass(frozen=True)
class StatusChange:
    full_name: str
    active: bool
    changed: bool  # False: the account was already so (nothing written)
    sessions_ended: int
    open_cases: int  # pending cases the person still answers for (surveyor or dispatched)


# The typed search (as a LIKE pattern) and the person counted, bound at execution.
_LIKE, _PERSON = bindparam("like"), bindparam("person_id")


def _conditions(searched: bool, status: str) -> list:
    conditions = []
    if status == "active":
        conditions.append(Person.active.is_(True))
    elif status == "disabled":
        conditions.append(Person.active.is_(False))
    if searched:
        conditions.append(or_(Person.username.ilike(_LIKE), Person.full_name.ilike(_LIKE)))
    return conditions


@built_once
def _count(searched: bool, status: str) -> Select:
    return select(func.count()).select_from(Person).where(and_(True, *_conditions(searched, status)))


@built_once
def _page(searched: bool, status: str, limit: int, offset: int) -> Select:
    """The people, each with their roles and units in assignment order (JSON, one probe of
    ix_role_assignment_person_id per row): one read."""
    roles = (select(func.coalesce(func.json_agg(aggregate_order_by(func.json_build_array(RoleAssignment.role,
                                                                                         OrgUnit.name),
                                                                   RoleAssignment.id)),
                                  func.json_build_array()))
             .select_from(RoleAssignment).join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
             .where(RoleAssignment.person_id == Person.id).scalar_subquery())
    return (select(Person.id, Person.username, Person.full_name, Person.title, Person.phone, Person.active,
                   Person.version, roles, _CHANGER.full_name, Person.status_changed_at)
            .outerjoin(_CHANGER, _CHANGER.id == Person.status_changed_by)
            .where(and_(True, *_conditions(searched, status)))
            .order_by(Person.active.desc(), Person.username).limit(limit).offset(offset))


@requires("people.admin")
def people(session: Session, actor: Actor, *, search: str | None = None, status: str = "all",
           limit: int = 50, offset: int = 0, total: int | None = None) -> PeoplePage:
    """One page of people, active first then by user name, with the roles each holds and where.
    `search` matches the user name or the name (any part, case-insensitive)."""
    if status not in STATUSES:
        raise UserError("people.error.status")
    typed = (search or "").strip()
    like = "%" + _LIKE_SPECIAL.sub(r"\\\g<0>", typed) + "%"
    searched = bool(typed)
    total, rows = count_then_page(session, lambda: _count(searched, status),
                                  lambda: _page(searched, status, limit, offset), limit=limit, total=total,
                                  params={"like": like}, prepared=True)
    may_see = actor.may("personal.contact")
    return PeoplePage(total, [
        PersonRow(pid, username, name, title, shown_phone(phone, may_see), active, version,
                  tuple((role, unit) for role, unit in roles), changer, changed_at)
        for pid, username, name, title, phone, active, version, roles, changer, changed_at in rows])


@built_once
def _open_cases_statement() -> Select:
    """Three index probes joined by UNION: one OR over them read every case (220 ms at 1M cases)."""
    pending = ClaimCase.state != "closed"
    surveyed = select(ClaimCase.id).where(ClaimCase.surveyor_id == _PERSON, pending)
    dispatched = [select(Dispatch.case_id).join(ClaimCase, ClaimCase.id == Dispatch.case_id).where(who == _PERSON,
                                                                                                    pending)
                  for who in (Dispatch.person_id, Dispatch.delegate_person_id)]
    return select(func.count()).select_from(union(surveyed, *dispatched).subquery("cases"))


def _open_cases(session: Session, person_id: int) -> int:
    """Pending cases the person answers for: their surveyor, or dispatched to them (or as delegate)."""
    return read(session, _open_cases_statement(), {"person_id": person_id}, prepared=True).scalar() or 0


@requires("people.admin")
def open_cases(session: Session, actor: Actor, person_id: int) -> int:
    """What the admin weighs before disabling: the pending cases the person still answers for
    (they must be handed to someone else; disabling does not move them)."""
    return _open_cases(session, person_id)


@requires("people.admin")
def set_person_active(session: Session, actor: Actor, person_id: int, active: bool, *, expected_version: int,
                      now: datetime | None = None) -> StatusChange:
    """Disable (active=False) or restore an account. Disabling ends every live session of the
    person at once; their history, cases and clocks stay as they are."""
    now = clock.or_now(now)
    person = session.scalar(select(Person).where(Person.id == person_id).with_for_update())
    if person is None:
        raise NotFound()
    if person.id == actor.person_id and not active:
        raise UserError("people.error.self")
    if person.version != expected_version:
        raise stale_write(session, person.status_changed_by, person.status_changed_at)
    open_count = _open_cases(session, person_id)
    if person.active == active:
        return StatusChange(person.full_name, active, False, 0, open_count)
    person.active = active
    person.version += 1
    person.status_changed_by, person.status_changed_at = actor.person_id, now
    ended = 0
    if not active:
        ended = session.execute(
            update(WebSession).where(WebSession.person_id == person_id, WebSession.ended_at.is_(None))
            .values(ended_at=now, end_reason="disabled", ticket_sha256=None)).rowcount or 0
    record_event(session, case_id=None, actor_id=actor.person_id, at=now,
                 kind="person_enabled" if active else "person_disabled",
                 person_id=person_id, username=person.username, sessions_ended=ended)
    session.commit()
    return StatusChange(person.full_name, active, True, ended, open_count)
