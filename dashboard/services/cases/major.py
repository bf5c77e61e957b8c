"""Major cases (车险理赔重大案管理办法, docs/DOMAIN.md §8): flagged, owned by a named person,
followed by both the branch and HQ.

A case becomes major three ways: its estimate goes above the branch's highest authority (the
dispatch service flags it, `flag_over_authority`); a person flags it for its social impact (mass
casualties, a pile-up); or it is tagged to a catastrophe event (a typhoon, a flood), many cases at
once. The owner is named when the case is flagged (over authority: the branch claims head, whom
HQ may replace). Every flag and change of owner goes into the case's history.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from dashboard import clock
from dashboard.rules.typed_fields import read_text
from dashboard.services import reference
from dashboard.services.actor import Actor, case_scope
from dashboard.services.aliases import BRANCH
from dashboard.services.capability import requires
from dashboard.services.cases.access import load_visible_case
from dashboard.services.cases.history import record_event
from dashboard.services.errors import FieldError, NotFound, UserError, ValidationFailed
from dashboard.services.stale import stale_case
from dashboard.services.statements import as_rows, built_once, count_then_page, read
from dashboard.settings import BRANCH_CLAIMS_HEAD
from db.models import CatastropheEvent, ClaimCase, OrgUnit, Person, RoleAssignment

REASONS = ("over_authority", "social_impact", "catastrophe")
PERSON_REASONS = ("social_impact", "catastrophe")  # what a person flags; over_authority is the estimate's
CATASTROPHE_KINDS = ("typhoon", "flood", "rainstorm", "earthquake", "hail", "other")
MAX_TAGGED = 2000  # case numbers in one tagging (a typhoon's cases of one branch, pasted)
_CASE_NO_SPLIT = re.compile(r"[\s,，;；、]+")
OWNER = aliased(Person)


def branch_authority(session: Session, branch_id: int) -> Decimal:
    """The branch's highest claim authority: its own, or the `major.branch_authority` setting."""
    own = session.scalar(select(OrgUnit.claim_authority).where(OrgUnit.id == branch_id))
    return Decimal(own) if own is not None else Decimal(str(reference.get_setting(session, "major.branch_authority")))


def _default_owner(session: Session, branch_id: int) -> int | None:
    """Over authority: the branch claims head (分公司重案管理 answers to them) owns the case."""
    return session.scalar(
        select(Person.id).join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.role == "first_responsible", RoleAssignment.position == BRANCH_CLAIMS_HEAD,
               RoleAssignment.unit_id == branch_id, Person.active.is_(True)).order_by(RoleAssignment.id).limit(1))


def flag_over_authority(session: Session, case: ClaimCase, *, actor_id: int, now: datetime) -> bool:
    """Called by the dispatch service with each estimate: flags the case major (once) when the
    estimate is above the branch's authority. True when it flagged it now."""
    if case.is_major and case.major_reason is not None:
        return False
    if case.current_estimate is None or case.current_estimate <= branch_authority(session, case.branch_id):
        return False
    case.is_major, case.major_reason, case.major_flagged_at = True, "over_authority", now
    case.major_owner_id = case.major_owner_id or _default_owner(session, case.branch_id)
    record_event(session, case_id=case.id, actor_id=actor_id, kind="major_flagged", at=now,
                 reason="over_authority", owner_id=case.major_owner_id, estimate=case.current_estimate)
    return True


# ---------------------------------------------------------------- a person flags, names an owner


def _check_owner(session: Session, case: ClaimCase, owner_id: int | None) -> Person:
    """An active person of HQ or of the case's branch (or one of its sub-branches)."""
    if owner_id is None:
        raise ValidationFailed([FieldError("major_owner", "major.error.owner_required")])
    units = select(OrgUnit.id).where(or_(OrgUnit.level == "hq", OrgUnit.id == case.branch_id,
                                         OrgUnit.parent_id == case.branch_id))
    person = session.scalar(select(Person).join(RoleAssignment, RoleAssignment.person_id == Person.id)
                            .where(Person.id == owner_id, Person.active.is_(True),
                                   RoleAssignment.unit_id.in_(units)).limit(1))
    if person is None:
        raise ValidationFailed([FieldError("major_owner", "major.error.owner_unknown")])
    return person


@requires("major.flag")
def owner_choices(session: Session, actor: Actor, case_id: int) -> list[tuple[int, str]]:
    """Who may own the case: the branch's heads and claims people, then HQ's reviewers and admins."""
    case = load_visible_case(session, actor, case_id)
    rows = session.execute(
        select(Person.id, Person.full_name, Person.title, OrgUnit.level).distinct()
        .join(RoleAssignment, RoleAssignment.person_id == Person.id).join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
        .where(Person.active.is_(True), or_(
            and_(OrgUnit.id == case.branch_id, RoleAssignment.role.in_(("first_responsible", "branch_manager"))),
            and_(OrgUnit.level == "hq", RoleAssignment.role.in_(("hq_reviewer", "hq_admin")))))
        .order_by(OrgUnit.level, Person.full_name)).all()
    return [(pid, f"{name}（{title}）" if title else name) for pid, name, title, _level in rows]


@requires("major.flag")
def flag_major(session: Session, actor: Actor, case_id: int, reason: str, owner_id: int | None, *,
               expected_version: int, catastrophe_event_id: int | None = None,
               now: datetime | None = None) -> ClaimCase:
    """Flag a case major for its social impact or a catastrophe, with its owner; or, for a case
    already major, name a new owner (reason unchanged). Refused when the case changed since drawn."""
    now = clock.or_now(now)
    case = load_visible_case(session, actor, case_id, for_update=True)
    if case.version != expected_version:
        raise stale_case(session, case.id)
    errors: list[FieldError] = []
    if not case.is_major and reason not in PERSON_REASONS:
        errors.append(FieldError("major_reason", "major.error.reason"))
    if reason == "catastrophe" and not case.is_major and catastrophe_event_id is None:
        errors.append(FieldError("catastrophe", "major.error.catastrophe_required"))
    if catastrophe_event_id is not None and session.get(CatastropheEvent, catastrophe_event_id) is None:
        errors.append(FieldError("catastrophe", "major.error.catastrophe_unknown"))
    if errors:
        raise ValidationFailed(errors)
    owner = _check_owner(session, case, owner_id)
    if case.is_major:
        if case.major_owner_id == owner.id:
            return case
        before = case.major_owner_id
        case.major_owner_id = owner.id
        record_event(session, case_id=case.id, actor_id=actor.person_id, kind="major_owner_changed", at=now,
                     before=before, owner_id=owner.id, owner=owner.full_name)
    else:
        case.is_major, case.major_reason, case.major_flagged_at = True, reason, now
        case.major_owner_id, case.catastrophe_event_id = owner.id, catastrophe_event_id
        record_event(session, case_id=case.id, actor_id=actor.person_id, kind="major_flagged", at=now,
                     reason=reason, owner_id=owner.id, owner=owner.full_name, catastrophe_event_id=catastrophe_event_id)
    case.version += 1
    session.commit()
    return case


# ---------------------------------------------------------------- catastrophe events


@dataclass(frozen=True)
class CatastropheView:
    id: int
    name: str
    kind: str
    occurred_on: date
    region: str | None
    cases: int


@built_once
def _catastrophes_statement(actor: Actor) -> Select:
    tagged = (select(func.count()).select_from(ClaimCase)
              .where(ClaimCase.catastrophe_event_id == CatastropheEvent.id, *_scoped(actor)).scalar_subquery())
    return (select(CatastropheEvent.id, CatastropheEvent.name, CatastropheEvent.kind, CatastropheEvent.occurred_on,
                   CatastropheEvent.region, tagged)
            .order_by(CatastropheEvent.occurred_on.desc(), CatastropheEvent.id.desc()))


@requires("case.read")
def catastrophes(session: Session, actor: Actor) -> list[CatastropheView]:
    """Every catastrophe event, newest first, with how many of the actor's cases are tagged to it."""
    return as_rows(CatastropheView, read(session, _catastrophes_statement(actor), prepared=True))


@requires("catastrophe.manage")
def create_catastrophe(session: Session, actor: Actor, name: str, kind: str, occurred_on: date | None,
                       region: str | None = None, now: datetime | None = None) -> CatastropheView:
    """A typhoon, a flood: named once (names are unique), then cases are tagged to it."""
    now = clock.or_now(now)
    errors: list[FieldError] = []
    name_text = read_text(errors, "catastrophe_name", name, required=True, max_len=100)
    if kind not in CATASTROPHE_KINDS:
        errors.append(FieldError("catastrophe_kind", "major.error.kind"))
    if occurred_on is None or occurred_on > now.date():
        errors.append(FieldError("catastrophe_on", "major.error.occurred_on"))
    region_text = read_text(errors, "catastrophe_region", region, required=False, max_len=100)
    if errors:
        raise ValidationFailed(errors)
    row = CatastropheEvent(name=name_text, kind=kind, occurred_on=occurred_on, region=region_text,
                           created_by=actor.person_id, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise ValidationFailed([FieldError("catastrophe_name", "major.error.name_taken", {"name": name_text})]) from exc
    record_event(session, case_id=None, actor_id=actor.person_id, kind="catastrophe_created", at=now,
                 catastrophe_event_id=row.id, name=name_text)
    session.commit()
    return CatastropheView(row.id, row.name, row.kind, row.occurred_on, row.region, 0)


@dataclass(frozen=True)
class TagResult:
    tagged: list[str]
    already: list[str]
    not_found: list[str]  # numbers that are no case the actor may see (never says which exist)


@requires("catastrophe.manage")
def tag_catastrophe(session: Session, actor: Actor, event_id: int, case_nos_text: str,
                    now: datetime | None = None) -> TagResult:
    """Tag the cases whose numbers are pasted (one per line, or separated by commas) to the event:
    each becomes a major case of reason catastrophe (a case already major keeps its reason and
    owner and is tagged too). All in one transaction."""
    now = clock.or_now(now)
    event = session.get(CatastropheEvent, event_id)
    if event is None:
        raise NotFound()
    numbers = list(dict.fromkeys(n for n in _CASE_NO_SPLIT.split(case_nos_text or "") if n))
    if not numbers:
        raise ValidationFailed([FieldError("case_nos", "major.error.no_numbers")])
    if len(numbers) > MAX_TAGGED:
        raise ValidationFailed([FieldError("case_nos", "major.error.too_many", {"max": MAX_TAGGED})])
    found = {c.case_no: c for c in session.scalars(
        select(ClaimCase).where(ClaimCase.case_no.in_(numbers), *_scoped(actor)).with_for_update())}
    result = TagResult([], [], [n for n in numbers if n not in found])
    for number in numbers:
        case = found.get(number)
        if case is None:
            continue
        if case.catastrophe_event_id == event.id:
            result.already.append(number)
            continue
        case.catastrophe_event_id = event.id
        if not case.is_major:
            case.is_major, case.major_reason, case.major_flagged_at = True, "catastrophe", now
            case.major_owner_id = _default_owner(session, case.branch_id)
        case.version += 1
        record_event(session, case_id=case.id, actor_id=actor.person_id, kind="major_flagged", at=now,
                     reason="catastrophe", catastrophe_event_id=event.id, catastrophe=event.name,
                     owner_id=case.major_owner_id)
        result.tagged.append(number)
    session.commit()
    return result


def _scoped(actor: Actor) -> list:
    scope = case_scope(actor)
    return [] if scope is None else [scope]


# ---------------------------------------------------------------- the list HQ and the branch follow


@dataclass(frozen=True)
class MajorRow:
    case_id: int
    case_no: str
    branch: str
    reason: str
    owner: str | None
    flagged_at: datetime | None
    estimate: Decimal | None
    state: str
    tier: str
    risk_colour: str | None
    catastrophe: str | None


# The catastrophe a list is narrowed to, bound at execution.
_EVENT_ID = bindparam("event_id")


def _major_conditions(actor: Actor, reason: str | None, by_event: bool, pending_only: bool,
                      colour: str | None = None) -> list:
    # `is_major` itself, not `IS true`: the partial index of major cases is on that predicate.
    conditions = [ClaimCase.is_major, *_scoped(actor)]
    if reason:
        conditions.append(ClaimCase.major_reason == reason)
    if by_event:
        conditions.append(ClaimCase.catastrophe_event_id == _EVENT_ID)
    if pending_only:
        conditions.append(ClaimCase.state != "closed")
    if colour:
        conditions.append(ClaimCase.risk_colour == colour)
    return conditions


@built_once
def _major_count(actor: Actor, reason: str | None, by_event: bool, pending_only: bool, colour: str | None) -> Select:
    return select(func.count()).select_from(ClaimCase).where(
        *_major_conditions(actor, reason, by_event, pending_only, colour))


@built_once
def _major_page(actor: Actor, reason: str | None, by_event: bool, pending_only: bool, colour: str | None,
                limit: int, offset: int) -> Select:
    return (select(ClaimCase.id, ClaimCase.case_no, BRANCH.name, func.coalesce(ClaimCase.major_reason, "over_authority"),
                   OWNER.full_name, ClaimCase.major_flagged_at, ClaimCase.current_estimate, ClaimCase.state,
                   ClaimCase.tier, ClaimCase.risk_colour, CatastropheEvent.name)
            .join(BRANCH, BRANCH.id == ClaimCase.branch_id)
            .outerjoin(OWNER, OWNER.id == ClaimCase.major_owner_id)
            .outerjoin(CatastropheEvent, CatastropheEvent.id == ClaimCase.catastrophe_event_id)
            .where(*_major_conditions(actor, reason, by_event, pending_only, colour))
            .order_by(ClaimCase.major_flagged_at.desc().nulls_last(), ClaimCase.id.desc()).limit(limit).offset(offset))


@requires("major.read")
def major_cases(session: Session, actor: Actor, *, reason: str | None = None, event_id: int | None = None,
                pending_only: bool = True, limit: int = 50, offset: int = 0,
                total: int | None = None, colour: str | None = None) -> tuple[int, list[MajorRow]]:
    """The major cases the actor may see, newest flagged first."""
    if reason is not None and reason not in REASONS:
        raise UserError("major.error.reason")
    shape = (reason or None, bool(event_id), pending_only, colour or None)
    total, rows = count_then_page(session, lambda: _major_count(actor, *shape),
                                  lambda: _major_page(actor, *shape, limit, offset), limit=limit, total=total,
                                  params={"event_id": event_id}, prepared=True)
    return total, as_rows(MajorRow, rows)
