"""One case, everything that happened to it, in time order (the case detail page).

Each source table gives its own timeline entries (estimates, dispatches, contact attempts,
uploads, deadlines met, violations, opinions and their points, answers, verdicts, progress
notes, notifications); the append-only `case_event` history adds what no table records (state
changes, registration, tiering). All of them come from one statement (case_timeline_query),
each source bounded by the case and a row limit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, aliased

from dashboard import clock
from dashboard.rules.case_states import is_pending
from dashboard.rules.deadlines import deadline_status
from dashboard.rules.personal_data import shown_phone
from dashboard.services.actor import Actor
from dashboard.services.aliases import BRANCH, SUB_BRANCH
from dashboard.services.cases.access import find_case_id as _find_case_id, within_case_scope
from dashboard.services.cases.state import allowed_targets
from dashboard.services.cases.timeline_query import TIMELINE, decode_params
from dashboard.services.errors import NotFound
from dashboard.services.statements import built_once, read, read_prepared
from dashboard.services.capability import requires
from db.models import CatastropheEvent, ClaimCase, Person, RiskRuleSet, TierRuleSet

MAJOR_OWNER = aliased(Person)

ROWS_PER_SOURCE = 500  # bound per source table; a real case has a few dozen rows in each
# History kinds already shown from their own table (richer there); the rest of case_event is shown.
COVERED_EVENT_KINDS = frozenset({
    "estimate_recorded", "dispatched", "contact_attempt", "copied",
    "upload_recorded", "material_uploaded", "upload", "deadline_met", "violation_recorded",
    "opinion_posted", "supervision_posted", "point_answered", "point_sent_back", "point_accepted",
    "progress_reported", "progress_note_added", "notification_queued", "arrived_on_scene",
})
_SAME_INSTANT_RANK = {"reported": 0, "detail.ev.event.case_registered": 1, "estimate": 2,
                      "detail.ev.event.case_tiered": 3, "detail.ev.event.case_escalated": 3, "dispatch": 4,
                      "notification": 9}
# The kinds bound as a text[] on every read (a list: the driver sends a tuple as a row).
_COVERED = sorted(COVERED_EVENT_KINDS)


def _same_instant_order(entry: TimelineEntry) -> tuple[float, int]:
    """Time, then cause before effect. Time as POSIX seconds (exact to the microsecond in a float):
    the driver gives each value its own tzinfo object, and two aware datetimes whose tzinfo objects
    differ are compared through both offsets, each time (a case's 35 entries: 62 us against 19)."""
    return entry.at.timestamp(), _SAME_INSTANT_RANK.get(entry.summary, _SAME_INSTANT_RANK.get(entry.kind, 5))


# Who may add material from the detail page (record_upload checks again, per case).


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened. `summary` is an i18n key; `details` are its parameters."""

    at: datetime
    kind: str
    actor_name: str | None
    actor_role: str | None
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeadlineLine:
    id: int
    kind: str
    responsible_name: str | None
    also_charged_name: str | None
    started_at: datetime
    due_at: datetime
    met_at: datetime | None
    status: str  # met | met_late | open | overdue | cancelled
    point_seq: int | None = None  # D5: which review point of the opinion, and which answer round
    answer_round: int | None = None


@dataclass(frozen=True)
class DetailFacts:
    id: int
    case_no: str
    state: str
    tier: str
    tier_rule_version: int | None
    tier_rule_branch_specific: bool
    current_estimate: Decimal | None
    tiered_at: datetime | None
    report_time: datetime
    accident_time: datetime
    province: str
    city: str
    address: str
    business_line: str
    policy_no: str
    insured_name: str
    driver_name: str | None
    reporter_name: str
    reporter_phone: str | None  # masked for a role without personal.contact (rules/personal_data)
    plate_no: str | None
    vehicle_model: str | None
    accident_type: str
    compulsory_only: bool
    branch_id: int
    branch_name: str
    sub_branch_name: str
    surveyor_id: int
    surveyor_name: str
    surveyor_phone: str | None  # masked likewise
    description: str | None
    is_major: bool
    closed_at: datetime | None
    reopen_count: int
    version: int
    # Red / yellow / blue (docs/DOMAIN.md §6): the facts the rule read, its result and version.
    vehicle_damage: Decimal | None = None
    property_damage: Decimal | None = None
    loss_ratio_pct: Decimal | None = None
    claim_count: int | None = None
    accident_handling: str | None = None
    surveyor_doubts: tuple[str, ...] = ()
    doubt_reason: str | None = None
    risk_colour: str | None = None
    risk_criteria: tuple[str, ...] = ()
    risk_rule_version: int | None = None
    # Major case (docs/DOMAIN.md §8)
    major_reason: str | None = None
    major_owner_name: str | None = None
    major_flagged_at: datetime | None = None
    catastrophe_name: str | None = None

    @property
    def pending(self) -> bool:
        return is_pending(self.state)


@dataclass(frozen=True)
class CaseDetail:
    facts: DetailFacts
    timeline: list[TimelineEntry]
    deadlines: list[DeadlineLine]
    dispatched: list[tuple[int, str]]  # (person id, name) of every first responsible dispatched
    allowed_states: tuple[str, ...]
    may_upload: bool
    may_answer: bool


@requires("case.read")
def find_case_id(session: Session, actor: Actor, case_no: str) -> int:
    """The id of case number `case_no` if the actor may see it; NotFound otherwise."""
    return _find_case_id(session, actor, case_no)


def _deadline_line(deadline_id: int, d: dict[str, Any], now: datetime) -> DeadlineLine:
    # The rule's status (rules/deadlines), without a due-soon window: the page colours that itself.
    status = "cancelled" if d["cancelled_at"] is not None else deadline_status(d["due_at"], d["met_at"], now, 0)
    return DeadlineLine(deadline_id, d["deadline"], d["responsible"], d["also_charged"], d["started_at"],
                        d["due_at"], d["met_at"], "open" if status == "due_soon" else status,
                        d.get("seq"), d.get("round"))


_FACT_COLUMNS = ("id", "case_no", "state", "tier", "current_estimate", "tiered_at", "report_time", "accident_time",
                 "province", "city", "address", "business_line", "policy_no", "insured_name", "driver_name",
                 "reporter_name", "reporter_phone", "plate_no", "vehicle_model", "accident_type", "compulsory_only",
                 "branch_id", "surveyor_id", "description", "is_major", "closed_at", "reopen_count", "version",
                 "vehicle_damage", "property_damage", "loss_ratio_pct", "claim_count", "accident_handling",
                 "surveyor_doubts", "doubt_reason", "risk_colour", "risk_criteria", "major_reason",
                 "major_flagged_at")


@lru_cache(maxsize=1)
def _facts_query() -> Select:
    """The facts statement, built once: the case with its branch, sub-branch, surveyor and rule-set
    names. (Building the joins took longer than PostgreSQL took to answer them.)"""
    branch, sub = BRANCH, SUB_BRANCH
    return (select(*(getattr(ClaimCase, c) for c in _FACT_COLUMNS), branch.name.label("branch_name"),
                   sub.name.label("sub_branch_name"), Person.full_name.label("surveyor_name"),
                   Person.phone.label("surveyor_phone"),
                   TierRuleSet.version.label("tier_rule_version"),
                   (TierRuleSet.branch_id.is_not(None)).label("tier_rule_branch_specific"),
                   RiskRuleSet.version.label("risk_rule_version"), MAJOR_OWNER.full_name.label("major_owner_name"),
                   CatastropheEvent.name.label("catastrophe_name"))
            .join(branch, branch.id == ClaimCase.branch_id)
            .join(sub, sub.id == ClaimCase.sub_branch_id)
            .join(Person, Person.id == ClaimCase.surveyor_id)
            .outerjoin(TierRuleSet, TierRuleSet.id == ClaimCase.tier_rule_set_id)
            .outerjoin(RiskRuleSet, RiskRuleSet.id == ClaimCase.risk_rule_set_id)
            .outerjoin(MAJOR_OWNER, MAJOR_OWNER.id == ClaimCase.major_owner_id)
            .outerjoin(CatastropheEvent, CatastropheEvent.id == ClaimCase.catastrophe_event_id)
            .where(ClaimCase.id == bindparam("case_id")))


@built_once
def _facts_statement(actor: Actor) -> Select:
    """The facts statement within `actor`'s scope, one object per person: a prepared read is keyed
    by its statement object (statements.generic_form)."""
    return within_case_scope(_facts_query(), actor)


def _visible_facts(session: Session, actor: Actor, case_id: int) -> DetailFacts:
    """The case's facts in one statement, within the actor's scope; NotFound otherwise (never says
    whether another branch's case exists). Plain columns, not an ORM object: the page only reads them."""
    # Prepared: planning its seven joins took PostgreSQL ~1.5 ms, running them ~0.1 (bench/RESULTS.md).
    row = read(session, _facts_statement(actor), {"case_id": case_id}, prepared=True).first()
    if row is None:
        raise NotFound()
    values = dict(row._mapping)
    values["tier_rule_branch_specific"] = bool(values["tier_rule_branch_specific"])
    values["surveyor_doubts"] = tuple(values["surveyor_doubts"] or ())
    values["risk_criteria"] = tuple(values["risk_criteria"] or ())
    may_see = actor.may("personal.contact")
    for column in ("reporter_phone", "surveyor_phone"):
        values[column] = shown_phone(values[column], may_see)
    return DetailFacts(**values)


@requires("case.read")
def case_detail(session: Session, actor: Actor, case_id: int, now: datetime | None = None) -> CaseDetail:
    """Facts and the whole timeline of a case the actor may see; NotFound for any other case.

    Two statements whatever the case holds: the facts (scope-checked) and the timeline."""
    now = clock.or_now(now)
    facts = _visible_facts(session, actor, case_id)
    timeline = [TimelineEntry(at=facts.report_time, kind="reported", actor_name=None, actor_role=None,
                              summary="detail.ev.reported",
                              details={"reporter": facts.reporter_name, "accident_time": facts.accident_time})]
    deadlines: list[DeadlineLine] = []
    dispatched: dict[int, str] = {}
    has_opinion = False
    rows = read_prepared(session, TIMELINE, {"case_id": case_id, "lim": ROWS_PER_SOURCE,
                                             "covered": _COVERED}).all()
    for at, kind, key, ref_id, actor_name, actor_role, params in rows:
        # case_event payloads are whatever the writing service stored: passed on as they are. Each
        # row's params are a dict the driver decoded for this read alone, so they are typed in place.
        details = params if kind == "event" else decode_params(params)
        if kind == "clock":
            deadlines.append(_deadline_line(ref_id, details, now))
            continue
        if kind == "dispatch":
            dispatched.setdefault(ref_id, details.get("person") or "")
        has_opinion = has_opinion or kind == "opinion"
        timeline.append(TimelineEntry(at=at, kind=kind, actor_name=actor_name, actor_role=actor_role,
                                      summary=key, details=details))
    # Same instant: cause before effect (estimate → tiering → dispatch → ... → notifications sent).
    timeline.sort(key=_same_instant_order)
    deadlines.sort(key=lambda d: (d.due_at.timestamp(), d.id))
    may_upload = actor.may("material.upload") and facts.pending
    may_answer = actor.may("review.inbox") and has_opinion
    return CaseDetail(facts=facts, timeline=timeline, deadlines=deadlines, dispatched=list(dispatched.items()),
                      allowed_states=allowed_targets(actor, facts.state), may_upload=may_upload,
                      may_answer=may_answer)
