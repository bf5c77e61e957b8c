"""Who is acting, and which cases they may see: the basis of every permission check."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, false, or_, select
from sqlalchemy.orm import Session, aliased

from dashboard.rules.permissions import may
from db.models import ClaimCase, OrgUnit, Person, RoleAssignment, SupervisorAssignment
from db.scope import DbScope

# Roles that work nationally: they see every branch (docs/DOMAIN.md §1).
NATIONAL_ROLES = frozenset({"hq_admin", "hq_reviewer", "call_center", "executive"})
# Roles that also see the cases they personally work on, wherever those are.
PERSONAL_ROLES = ("first_responsible", "surveyor")


@dataclass(frozen=True)
class Assignment:
    role: str
    unit_id: int
    unit_level: str
    branch_id: int | None
    position: str | None


@dataclass(frozen=True)
class Actor:
    person_id: int
    username: str
    full_name: str
    assignments: tuple[Assignment, ...]
    supervised_branch_ids: frozenset[int] = frozenset()

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(a.role for a in self.assignments)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def may(self, capability: str) -> bool:
        """Whether one of the person's roles holds `capability` (rules/permissions)."""
        return may(self.roles, capability)

    @property
    def is_national(self) -> bool:
        return bool(self.roles & NATIONAL_ROLES)

    def branch_ids_for(self, *roles: str) -> frozenset[int]:
        """Branches where the actor holds one of `roles` (at the branch or one of its sub-branches)."""
        return frozenset(a.branch_id for a in self.assignments
                         if a.role in roles and a.branch_id is not None)

    @property
    def visible_branch_ids(self) -> frozenset[int]:
        """Branches whose cases the actor may read in full (branch-level roles and supervision)."""
        ids = {a.branch_id for a in self.assignments if a.unit_level == "branch" and a.branch_id}
        return frozenset(ids) | self.supervised_branch_ids

    @property
    def unit_branch_ids(self) -> frozenset[int]:
        """The branches the person may filter lists by: those read in full, and the branch of each
        sub-branch they work in (its lists are narrowed further by the case scope)."""
        return self.visible_branch_ids | {a.branch_id for a in self.assignments if a.branch_id}

    @property
    def visible_sub_branch_ids(self) -> frozenset[int]:
        return frozenset(a.unit_id for a in self.assignments if a.unit_level == "sub_branch")


def unit_scope(actor: Actor, branch_col: ColumnElement, sub_branch_col: ColumnElement) -> list[ColumnElement[bool]]:
    """The units part of a non-national actor's scope, on any table with a branch and a sub-branch
    (cases, or the case counts of dashboard.services.cases.counts): OR-ed, empty when none."""
    conditions: list[ColumnElement[bool]] = []
    if actor.visible_branch_ids:
        conditions.append(branch_col.in_(sorted(actor.visible_branch_ids)))
    if actor.visible_sub_branch_ids:
        conditions.append(sub_branch_col.in_(sorted(actor.visible_sub_branch_ids)))
    return conditions


def _personal_cases(actor: Actor, cases=ClaimCase) -> list[ColumnElement[bool]]:
    """On `cases` (ClaimCase or an alias): the cases a person of a personal role works on (their
    survey, or dispatched to them or their delegate), which they see even outside their unit."""
    if not actor.has_role(*PERSONAL_ROLES):
        return []
    from db.models import Dispatch  # local import keeps the module graph simple

    return [cases.surveyor_id == actor.person_id,
            cases.id.in_(select(Dispatch.case_id).where(or_(Dispatch.person_id == actor.person_id,
                                                            Dispatch.delegate_person_id == actor.person_id)))]


def case_scope(actor: Actor) -> ColumnElement[bool] | None:
    """SQL condition limiting ClaimCase rows to those the actor may read; None means all."""
    if actor.is_national:
        return None
    conditions = unit_scope(actor, ClaimCase.branch_id, ClaimCase.sub_branch_id) + _personal_cases(actor)
    if not conditions:
        return false()
    return or_(*conditions)


def case_row_scope(actor: Actor, case_id_col: ColumnElement, branch_col: ColumnElement,
                   sub_branch_col: ColumnElement) -> ColumnElement[bool] | None:
    """case_scope for a table whose rows belong to a case and carry its units (a special case):
    the units read on the row itself, and only a personal role's own cases looked up. Said as
    `case_id IN (the cases in scope)`, a branch person's list was planned as a hash of every case
    of the branch (1.5 s at 10,000,000 cases for a dozen requests; bench/RESULTS.md)."""
    if actor.is_national:
        return None
    conditions = unit_scope(actor, branch_col, sub_branch_col)
    own = aliased(ClaimCase, name="own_case")  # not the list's own claim_case, if it joins one
    personal = _personal_cases(actor, own)
    if personal:  # a probe of the row's case (an EXISTS under an OR stays one), not every case of theirs
        conditions.append(exists().where(own.id == case_id_col, or_(*personal)))
    if not conditions:
        return false()
    return or_(*conditions)


def db_scope(actor: Actor) -> DbScope:
    """The same scope as case_scope, for the database's row-level security (migration 0027). Built
    from the assignments alone, so the database holds even where the application's checks do not."""
    roles = {a.role for a in actor.assignments}
    return DbScope(
        national=bool(roles & NATIONAL_ROLES),
        branches=frozenset(a.branch_id for a in actor.assignments if a.unit_level == "branch" and a.branch_id)
        | actor.supervised_branch_ids,
        sub_branches=frozenset(a.unit_id for a in actor.assignments if a.unit_level == "sub_branch"),
        person=actor.person_id if roles.intersection(PERSONAL_ROLES) else None,
        me=actor.person_id)


def load_actor(session: Session, person_id: int) -> Actor | None:
    person = session.get(Person, person_id)
    if person is None or not person.active:
        return None
    rows = session.execute(
        select(RoleAssignment.role, RoleAssignment.unit_id, OrgUnit.level, OrgUnit.parent_id,
               RoleAssignment.position)
        .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
        .where(RoleAssignment.person_id == person_id)
        .order_by(RoleAssignment.id)
    ).all()
    assignments = tuple(
        Assignment(role=role, unit_id=unit_id, unit_level=level,
                   branch_id=unit_id if level == "branch" else (parent_id if level == "sub_branch" else None),
                   position=position)
        for role, unit_id, level, parent_id, position in rows
    )
    supervised = frozenset(session.scalars(
        select(SupervisorAssignment.branch_id).where(SupervisorAssignment.person_id == person_id)))
    return Actor(person_id=person.id, username=person.username, full_name=person.full_name,
                 assignments=assignments, supervised_branch_ids=supervised)
