"""The call center's live dispatch board (分级管理办法 第二章 一): what awaits dispatch, who was sent.

Filtered, counted and paginated in SQL; limited to the cases the actor may see (case_scope),
so a branch person never sees another branch's case, whatever filter they send.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Select, and_, bindparam, case, func, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.services import reference
from dashboard.services.actor import Actor, case_scope
from dashboard.services.aliases import BRANCH, DELEGATE, DISPATCHED_PERSON, SUB_BRANCH, SURVEYOR
from dashboard.rules.delegates import delegate_order, person_rank, position_ranks
from dashboard.rules.personal_data import shown_phone
from dashboard.services.cases.access import find_case_id, load_visible_case
from dashboard.services.cases.counts import pending_tiered_statement
from dashboard.services.cases.risk import colour_rank
from dashboard.services.dispatching.dispatch import case_tier_table
from dashboard.services.errors import NotFound
from dashboard.services.stale import stale_case
from dashboard.services.statements import built_once, among_ids, head_then_rest, read, rows_in_order
from dashboard.services.capability import requires
from dashboard.settings import BUSINESS_TZ
from db.models import ClaimCase, Dispatch, OrgUnit, Person, RoleAssignment

VIEWS = ("all", "awaiting", "dispatched")
STATUSES = ("awaiting_dispatch", "awaiting_estimate", "dispatched")  # most urgent first


@dataclass(frozen=True)
class BoardFilter:
    view: str = "all"
    branch_id: int | None = None
    sub_branch_id: int | None = None
    tier: str | None = None
    reported_from: date | None = None  # business dates (Asia/Shanghai), inclusive
    reported_to: date | None = None
    colour: str | None = None  # red / yellow / blue (docs/DOMAIN.md §6)


@dataclass(frozen=True)
class DispatchInfo:
    dispatch_id: int
    case_id: int
    person_id: int
    person_name: str
    position: str
    tier: str
    reason: str
    contact_state: str
    goes_to_scene: bool
    delegate_name: str | None
    dispatched_at: datetime
    version: int = 1  # what the page drew; a contact or a delegate names it (stale writes are refused)


@dataclass
class BoardRow:
    case_id: int
    case_no: str
    branch: str
    sub_branch: str
    state: str
    tier: str
    estimate: Decimal | None
    report_time: datetime
    surveyor: str
    status: str
    first_dispatched_at: datetime | None
    hours_since_dispatch: int | None
    dispatches: list[DispatchInfo] = field(default_factory=list)
    # 单保交强险: over 50,000 the case is T1 whatever the amount (docs/DOMAIN.md §3), so the board says why.
    compulsory_only: bool = False
    version: int = 0  # the case's version as read: the act panel's writes name it
    risk_colour: str | None = None


@dataclass(frozen=True)
class BoardPage:
    total: int
    rows: list[BoardRow]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=BUSINESS_TZ)


def _status_rank():
    # A dispatched case is tiered (dispatch follows the tier), so: not tiered -> awaiting an estimate.
    return case((ClaimCase.tier == "T0", 1), (ClaimCase.first_dispatched_at.is_not(None), 2), else_=0)


def _conditions(actor: Actor, filters: BoardFilter) -> tuple[list, object]:
    # first_dispatched_at is set by the database with the first dispatch (migration 0009): whether
    # a case was dispatched is a column of the board's covering index, not a probe of `dispatch`.
    has_dispatch = ClaimCase.first_dispatched_at.is_not(None)
    awaiting_dispatch = and_(ClaimCase.tier != "T0", ClaimCase.first_dispatched_at.is_(None))
    awaiting_estimate = and_(ClaimCase.state == "reported", ClaimCase.current_estimate.is_(None))
    status_rank = _status_rank()
    where = [ClaimCase.state != "closed"]
    if filters.view == "awaiting":
        where.append(or_(awaiting_dispatch, awaiting_estimate))
    elif filters.view == "dispatched":
        where.append(has_dispatch)
    else:
        # Every dispatched case is tiered (the tier only ever rises, and dispatch follows it), so
        # "awaiting dispatch or dispatched" is "tiered": indexable, no per-row EXISTS (bench/RESULTS.md).
        where.append(or_(ClaimCase.tier != "T0", awaiting_estimate))
    scope = case_scope(actor)
    if scope is not None:
        where.append(scope)
    if filters.branch_id is not None:
        where.append(ClaimCase.branch_id == filters.branch_id)
    if filters.sub_branch_id is not None:
        where.append(ClaimCase.sub_branch_id == filters.sub_branch_id)
    if filters.tier:
        where.append(ClaimCase.tier == filters.tier)
    if filters.reported_from:
        where.append(ClaimCase.report_time >= _day_start(filters.reported_from))
    if filters.reported_to:
        where.append(ClaimCase.report_time < _day_start(filters.reported_to + timedelta(days=1)))
    if filters.colour:
        where.append(ClaimCase.risk_colour == filters.colour)
    return where, status_rank



# A dispatch as DispatchInfo reads it, less its case: one list for the JSON the board page carries
# and for the rows the action section reads.
_DISPATCH_FIELDS = (Dispatch.id, Dispatch.person_id, DISPATCHED_PERSON.full_name, Dispatch.position, Dispatch.tier,
                    Dispatch.reason, Dispatch.contact_state, Dispatch.goes_to_scene, DELEGATE.full_name,
                    Dispatch.dispatched_at, Dispatch.version)
_DISPATCH_ORDER = (Dispatch.dispatched_at, Dispatch.id)


def _with_names(query: Select) -> Select:
    return (query.select_from(Dispatch).join(DISPATCHED_PERSON, DISPATCHED_PERSON.id == Dispatch.person_id)
            .outerjoin(DELEGATE, DELEGATE.id == Dispatch.delegate_person_id))


def _dispatch_info(case_id: int, fields: Sequence) -> DispatchInfo:
    """From _DISPATCH_FIELDS' values, as rows or as JSON (where the time is ISO text)."""
    dispatch_id, person_id, name, position, tier, reason, contact_state, goes, delegate, at, version = fields
    return DispatchInfo(dispatch_id, case_id, person_id, name, position, tier, reason, contact_state, goes, delegate,
                        at if isinstance(at, datetime) else datetime.fromisoformat(at), version)


@built_once
def _count_statement(actor: Actor, filters: BoardFilter) -> Select:
    where, _rank = _conditions(actor, filters)
    return select(func.count()).select_from(ClaimCase).where(*where)


@built_once
def _waiting_statement(actor: Actor, filters: BoardFilter) -> Select:
    """The board's head: its cases not yet dispatched (awaiting dispatch, then awaiting an estimate;
    red first within each, newest report first), a few thousand at most nationally, at most `upto`
    of them (bound at execution); from ix_claim_case_board_waiting (migration 0042)."""
    where, status_rank = _conditions(actor, filters)
    return (select(ClaimCase.id).where(*where, ClaimCase.first_dispatched_at.is_(None))
            .order_by(status_rank, colour_rank(), ClaimCase.report_time.desc(), ClaimCase.id.desc())
            .limit(bindparam("upto")))


@built_once
def _dispatched_statement(actor: Actor, filters: BoardFilter) -> Select:
    """The rest of the board: its dispatched cases, red first, newest report first, walked through
    ix_claim_case_board_dispatched, whose key is this order (migration 0042), to the page."""
    where, _rank = _conditions(actor, filters)
    return (select(ClaimCase.id).where(*where, ClaimCase.first_dispatched_at.is_not(None))
            .order_by(colour_rank(), ClaimCase.report_time.desc(), ClaimCase.id.desc())
            .limit(bindparam("limit")).offset(bindparam("offset")))


def _named_rows() -> Select:
    """Board rows (_row_columns) of claim_case, its units and surveyor named; the caller says which."""
    return (select(*_row_columns(_status_rank())).select_from(ClaimCase)
            .join(BRANCH, BRANCH.id == ClaimCase.branch_id)
            .join(SUB_BRANCH, SUB_BRANCH.id == ClaimCase.sub_branch_id)
            .join(SURVEYOR, SURVEYOR.id == ClaimCase.surveyor_id))


@built_once
def _rows_statement() -> Select:
    """What the board shows of the chosen cases (`ids`, bound at execution), in no order."""
    return _named_rows().where(among_ids(ClaimCase.id))


def _row_columns(rank) -> tuple:
    """A board row's columns, in BoardRow's order (see _board_row), its dispatches as JSON."""
    dispatches = _with_names(select(func.coalesce(
        func.json_agg(aggregate_order_by(func.json_build_array(*_DISPATCH_FIELDS), *_DISPATCH_ORDER)),
        func.json_build_array()))).where(Dispatch.case_id == ClaimCase.id).scalar_subquery()
    return (ClaimCase.id, ClaimCase.case_no, BRANCH.name, SUB_BRANCH.name, ClaimCase.state, ClaimCase.tier,
            ClaimCase.current_estimate, ClaimCase.report_time, SURVEYOR.full_name, rank,
            ClaimCase.first_dispatched_at, ClaimCase.compulsory_only, dispatches, ClaimCase.version,
            ClaimCase.risk_colour)


def _board_row(r, now: datetime) -> BoardRow:
    return BoardRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], STATUSES[r[9]], r[10],
                    int((now - r[10]).total_seconds() // 3600) if r[10] else None,
                    dispatches=[_dispatch_info(r[0], d) for d in r[12]], compulsory_only=bool(r[11]), version=r[13],
                    risk_colour=r[14])


@built_once
def _kept_count_statement() -> Select:
    """The unfiltered national board's count: every pending tiered case, from the figures kept per
    sub-branch (migration 0018), and the untiered cases awaiting their estimate (a few hundred,
    ix_claim_case_awaiting_estimate). Counting the board's 96,000 cases at 10,000,000 took 23 ms."""
    awaiting_estimate = (select(func.count()).select_from(ClaimCase)
                         .where(ClaimCase.tier == "T0", ClaimCase.state == "reported",
                                ClaimCase.current_estimate.is_(None)).scalar_subquery())
    return select(pending_tiered_statement(None).scalar_subquery() + awaiting_estimate)


@requires("dispatch.board")
def board_count(session: Session, actor: Actor, filters: BoardFilter) -> int:
    statement = _kept_count_statement() if actor.is_national and filters == BoardFilter() \
        else _count_statement(actor, filters)
    return int(read(session, statement, custom=True).scalar() or 0)


@requires("dispatch.board")
def board_page(session: Session, actor: Actor, filters: BoardFilter, *, limit: int = 50, offset: int = 0,
               now: datetime | None = None, total: int | None = None) -> BoardPage:
    """One page of the board, most urgent first (awaiting dispatch, awaiting estimate, dispatched),
    red cases first within each.

    `total`: the count the caller already has from board_count (not counted again)."""
    now = clock.or_now(now)
    if total is None:
        total = board_count(session, actor, filters)
    if limit <= 0:
        return BoardPage(total, [])
    # The cases not yet dispatched first, then the dispatched ones, each read in its own order
    # and only as far as the page reaches (statements.head_then_rest). Prepared: SQLAlchemy's work
    # around each of these statements was what the board added to its SQL (bench/RESULTS.md); the
    # list's two parts planned for the page asked (`custom`), the rows by id by any plan.
    ids = head_then_rest(session, _waiting_statement(actor, filters), _dispatched_statement(actor, filters),
                         limit=limit, offset=offset, custom=True)
    return BoardPage(total, [_board_row(r, now)
                             for r in rows_in_order(session, _rows_statement(), ids, prepared=True)])



@requires("dispatch.board")
def board_case(session: Session, actor: Actor, case_id: int, *, now: datetime | None = None) -> BoardRow:
    """One case the actor may see, by id, as the board shows it, with its version: the case a
    person chose to act on, whatever page of the list (or whether the list still holds it). The act
    panel draws this and its writes name this version, never a row re-read on the submit's rerun."""
    now = clock.or_now(now)
    query = _named_rows().where(ClaimCase.id == case_id)
    scope = case_scope(actor)
    if scope is not None:
        query = query.where(scope)
    row = session.execute(query).first()
    if row is None:
        raise NotFound()
    return _board_row(row, now)


@requires("dispatch.board")
def case_last_change(session: Session, actor: Actor, case_id: int) -> tuple[str | None, str | None, bool]:
    """Who last changed the case (or one of its dispatches), when, and whether it was the actor
    (another window or tab of theirs), for a page whose view of it is old."""
    load_visible_case(session, actor, case_id)
    stale = stale_case(session, case_id)
    return stale.params.get("who"), stale.params.get("at"), stale.yourself


@requires("dispatch.board")
def board_case_id(session: Session, actor: Actor, case_no: str) -> int:
    """The case to act on, by its number as typed (NotFound for another branch's case too)."""
    return find_case_id(session, actor, case_no)


_CASE_DISPATCHES = (_with_names(select(*_DISPATCH_FIELDS)).where(Dispatch.case_id == bindparam("case_id"))
                    .order_by(*_DISPATCH_ORDER))


@requires("dispatch.board")
def case_dispatches(session: Session, actor: Actor, case_id: int) -> list[DispatchInfo]:
    """The dispatches of one case the actor may see (for acting from the board)."""
    load_visible_case(session, actor, case_id)
    return [_dispatch_info(case_id, r) for r in read(session, _CASE_DISPATCHES, {"case_id": case_id})]


_CASE_PHONES = (select(Dispatch.id, DISPATCHED_PERSON.phone, DELEGATE.phone).select_from(Dispatch)
                .join(DISPATCHED_PERSON, DISPATCHED_PERSON.id == Dispatch.person_id)
                .outerjoin(DELEGATE, DELEGATE.id == Dispatch.delegate_person_id)
                .where(Dispatch.case_id == bindparam("case_id")))


@requires("dispatch.board")
def dispatch_phones(session: Session, actor: Actor, case_id: int) -> dict[int, tuple[str | None, str | None]]:
    """dispatch id -> (the dispatched person's phone, the delegate's) for the call the board records:
    whole for a role that calls people (personal.contact), masked for anyone else."""
    load_visible_case(session, actor, case_id)
    may_see = actor.may("personal.contact")
    return {dispatch_id: (shown_phone(person, may_see), shown_phone(delegate, may_see))
            for dispatch_id, person, delegate in read(session, _CASE_PHONES, {"case_id": case_id})}


@requires("dispatch.act")
def delegate_candidates(session: Session, actor: Actor, dispatch_id: int) -> list[tuple[int, str]]:
    """Active people of the case's branch and its sub-branches who could go instead (指定专人), the
    first responsible's own rank and above first (rules/delegates.py), as (id, "name（title）")."""
    dispatch = session.get(Dispatch, dispatch_id)
    if dispatch is None:
        raise NotFound()
    case_row = load_visible_case(session, actor, dispatch.case_id)
    ranks = position_ranks(case_tier_table(session, case_row).bands)
    own_rank = ranks.get(dispatch.position, 0)
    people: dict[int, tuple[str, str | None, list[str | None], bool]] = {}
    for pid, name, title, role, position, unit_id in session.execute(
            select(Person.id, Person.full_name, Person.title, RoleAssignment.role, RoleAssignment.position,
                   RoleAssignment.unit_id)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
            .where(or_(OrgUnit.id == case_row.branch_id, OrgUnit.parent_id == case_row.branch_id),
                   Person.active.is_(True), Person.id != dispatch.person_id)):
        _name, _title, positions, near = people.setdefault(pid, (name, title, [], False))
        positions.append(position if role == "first_responsible" else None)
        people[pid] = (name, title, positions, near or unit_id in (case_row.sub_branch_id, case_row.branch_id))
    ordered_people = sorted(people.items(), key=lambda item: delegate_order(
        person_rank(item[1][2], ranks), own_rank, item[1][3], item[1][0]))
    return [(pid, f"{name}（{title}）" if title else name) for pid, (name, title, _p, _n) in ordered_people]


@requires("dispatch.board")
def branch_options(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """Branches the actor may filter by: all for national roles, else their own."""
    return [(u.id, u.name) for u in reference.branch_choices(session, actor)]


@requires("dispatch.board")
def sub_branch_options(session: Session, actor: Actor, branch_id: int | None) -> list[tuple[int, str]]:
    """Sub-branches of the branches the actor may filter by."""
    return [(u.id, u.name) for u in reference.sub_branch_choices(session, actor, branch_id)]


def tier_choices(session: Session) -> list[str]:
    """Tier codes in force anywhere (national and approved branch splits), lowest first."""
    return list(reference.active_tier_codes(session))
