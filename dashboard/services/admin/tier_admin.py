"""HQ tier administration: versioned national tier table, branch sub-tier requests, deadline hours.

分级管理办法 注意3: a branch may split 50,000–500,000 into its own tiers; it takes effect only
after HQ tier admin approves it, and the approval is recorded. A new national version
supersedes the old one; cases keep the rule set they were tiered under (claim_case.tier_rule_set_id
is never rewritten here).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.tier_bands import BandInput, check_bands
from dashboard.rules.tiers import TierBand, TierTableError, merge_branch_subtiers
from dashboard.services import reference
from dashboard.services.actor import Actor
from dashboard.services.aliases import BRANCH, DECIDER, REQUESTER
from dashboard.services.errors import FieldError, NotFound, PermissionDenied, UserError, ValidationFailed
from dashboard.services.cases.history import record_event
from dashboard.services.admin.rule_settings import EDITABLE_SETTINGS, editable_settings, update_rule_settings
from dashboard.services.stale import stale_write
from dashboard.services.dispatching.tiers import active_tier_table
from dashboard.services.capability import requires
from dashboard.settings import BRANCH_SUBTIER_RANGE
from db.models import OrgUnit, TierRule, TierRuleSet

@dataclass(frozen=True)
class RuleSetView:
    id: int
    version: int
    branch_id: int | None
    branch: str | None
    status: str
    note: str | None
    requested_by: str | None
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    bands: tuple[TierBand, ...]


def _same_bands(a: list[TierBand] | tuple[TierBand, ...], b: list[TierBand] | tuple[TierBand, ...]) -> bool:
    """Two tables that tier every amount alike and send the same posts (rank and storage aside)."""
    def shape(bands):
        return [(x.code, x.lower_exclusive, x.upper_inclusive, tuple(x.positions), bool(x.hq_notice))
                for x in sorted(bands, key=lambda x: x.lower_exclusive)]
    return shape(a) == shape(b)


def _stale_rule_set(session: Session, rule_set: TierRuleSet):
    """StaleWrite naming the last change of `rule_set`: its decision if decided, else its request."""
    if rule_set.decided_at is not None:
        return stale_write(session, rule_set.decided_by, rule_set.decided_at)
    return stale_write(session, rule_set.requested_by, rule_set.requested_at)


def _active_national(session: Session) -> TierRuleSet | None:
    return session.scalars(select(TierRuleSet).where(TierRuleSet.branch_id.is_(None), TierRuleSet.status == "active")
                           .order_by(TierRuleSet.version.desc()).limit(1)).first()


def _latest_branch_set(session: Session, branch_id: int) -> TierRuleSet | None:
    return session.scalars(select(TierRuleSet).where(TierRuleSet.branch_id == branch_id)
                           .order_by(TierRuleSet.version.desc()).limit(1)).first()


@requires("rules.request")
def branch_request_base(session: Session, actor: Actor, branch_id: int) -> tuple[int, int]:
    """(national version, the branch's latest rule-set version or 0): what a sub-tier request form is
    drawn against; the request names them and is refused as stale when either moved."""
    if not (actor.may("rules.admin") or branch_id in actor.branch_ids_for("branch_manager")):
        raise PermissionDenied()
    national = _active_national(session)
    latest = _latest_branch_set(session, branch_id)
    return (national.version if national else 0), (latest.version if latest else 0)


def _lock_tier_tables(session: Session) -> None:
    # Two admins publishing at once must not both get the same version number.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('tier_rule_set'))"))


def _insert_bands(session: Session, rule_set_id: int, bands: list[TierBand]) -> None:
    for rank, band in enumerate(sorted(bands, key=lambda b: b.lower_exclusive), start=1):
        session.add(TierRule(rule_set_id=rule_set_id, code=band.code, lower_exclusive=band.lower_exclusive,
                             upper_inclusive=band.upper_inclusive, positions=list(band.positions),
                             hq_notice=band.hq_notice, rank=rank))


def _bands_payload(bands: list[TierBand] | tuple[TierBand, ...]) -> list[dict[str, Any]]:
    return [{"code": b.code, "lower_exclusive": b.lower_exclusive, "upper_inclusive": b.upper_inclusive,
             "positions": list(b.positions), "hq_notice": b.hq_notice} for b in bands]


@requires("rules.admin")
def publish_national_table(session: Session, actor: Actor, rows: list[BandInput], *, note: str | None = None,
                           expected_version: int | None = None, now: datetime | None = None) -> int:
    """Publish a new national version; the previous active one becomes 'superseded'.

    `expected_version`: the active version the admin edited. Another admin's publication since
    refuses this one (StaleWrite naming who and when), and a table identical to the active one
    is refused: a new version that changes nothing only muddies the history cases are tiered by.
    """
    now = clock.or_now(now)
    bands, errors = check_bands(rows)
    if errors:
        raise ValidationFailed(errors)
    _lock_tier_tables(session)
    active = _active_national(session)
    if active is not None and expected_version is not None and active.version != expected_version:
        raise _stale_rule_set(session, active)
    if active is not None and _same_bands(bands, active_tier_table(session, None).bands):
        raise UserError("admin.error.table_unchanged", field="bands", version=active.version)
    version = (session.scalar(select(func.max(TierRuleSet.version)).where(TierRuleSet.branch_id.is_(None))) or 0) + 1
    previous = session.scalars(select(TierRuleSet.id).where(TierRuleSet.branch_id.is_(None),
                                                            TierRuleSet.status == "active")).all()
    session.execute(update(TierRuleSet).where(TierRuleSet.id.in_(previous)).values(status="superseded"))
    reference.forget_with(session)
    rule_set = TierRuleSet(version=version, branch_id=None, status="active", note=(note or "").strip() or None,
                           requested_by=actor.person_id, requested_at=now, decided_by=actor.person_id,
                           decided_at=now)
    session.add(rule_set)
    session.flush()
    _insert_bands(session, rule_set.id, bands)
    record_event(session, case_id=None, actor_id=actor.person_id, kind="tier_table_published", at=now,
                 rule_set_id=rule_set.id, version=version, superseded=list(previous), bands=_bands_payload(bands),
                 note=note)
    _remerge_branch_tables(session, actor, bands, version, now)
    session.commit()
    return rule_set.id


def _remerge_branch_tables(session: Session, actor: Actor, national: list[TierBand], national_version: int,
                           now: datetime) -> None:
    """Keep approved branch splits in step with a new national table.

    Each active branch table gets a new version: its own bands inside 50,000–500,000 with the new
    national bands outside. A split that no longer fits (codes clash, bounds moved) lapses and the
    branch follows the national table until it files a new request.
    """
    low, high = BRANCH_SUBTIER_RANGE
    active = session.scalars(select(TierRuleSet).where(TierRuleSet.branch_id.is_not(None),
                                                       TierRuleSet.status == "active")).all()
    for old in active:
        rows = session.scalars(select(TierRule).where(TierRule.rule_set_id == old.id)).all()
        inner = [TierBand(r.code, r.lower_exclusive, r.upper_inclusive, tuple(r.positions), r.hq_notice, r.rank)
                 for r in rows if low <= r.lower_exclusive < high]
        kept_codes = {b.code for b in national if not low <= b.lower_exclusive < high}
        try:
            if kept_codes & {b.code for b in inner}:
                raise TierTableError("codes clash")
            merged = merge_branch_subtiers(national, inner, BRANCH_SUBTIER_RANGE)
        except TierTableError:
            merged = None
        old.status = "superseded"
        if merged is None:
            record_event(session, case_id=None, actor_id=actor.person_id, kind="tier_subtier_lapsed", at=now,
                         rule_set_id=old.id, branch_id=old.branch_id, national_version=national_version)
            continue
        version = (session.scalar(select(func.max(TierRuleSet.version))
                                  .where(TierRuleSet.branch_id == old.branch_id)) or 0) + 1
        renewed = TierRuleSet(version=version, branch_id=old.branch_id, status="active", note=old.note,
                              requested_by=old.requested_by, requested_at=old.requested_at,
                              decided_by=actor.person_id, decided_at=now,
                              decision_note=f"national v{national_version}")
        session.add(renewed)
        session.flush()
        _insert_bands(session, renewed.id, merged)
        record_event(session, case_id=None, actor_id=actor.person_id, kind="tier_subtier_remerged", at=now,
                     rule_set_id=renewed.id, replaces=old.id, branch_id=old.branch_id,
                     national_version=national_version)


def _branch(session: Session, branch_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, branch_id)
    if unit is None or unit.level != "branch":
        raise NotFound()
    return unit


@requires("rules.request")
def request_branch_subtiers(session: Session, actor: Actor, branch_id: int, rows: list[BandInput], *,
                            note: str | None = None, expected_base: tuple[int, int] | None = None,
                            now: datetime | None = None) -> int:
    """A branch's own split of 50,000–500,000, filed as 'pending' until HQ decides.

    Stored as the branch's whole effective table (national bands outside the span plus its own),
    which is what the tier engine reads once the request is approved. A split that changes nothing
    (the national table's own bands, or the branch's table in force) is refused. `expected_base`:
    what the form was drawn against (branch_request_base); a national publication or another
    request for the branch since refuses this one as stale.
    """
    now = clock.or_now(now)
    managed = actor.branch_ids_for("branch_manager")
    if not (actor.may("rules.admin") or branch_id in managed):
        raise PermissionDenied()
    _branch(session, branch_id)
    inner, errors = check_bands(rows, span=BRANCH_SUBTIER_RANGE)
    if errors:
        raise ValidationFailed(errors)
    national = active_tier_table(session, None)
    low, high = BRANCH_SUBTIER_RANGE
    kept_codes = {b.code for b in national.bands if not low <= b.lower_exclusive < high}
    clash = kept_codes & {b.code for b in inner}
    if clash:
        raise ValidationFailed([FieldError("bands", "admin.error.band_code_clash",
                                           {"codes": "、".join(sorted(clash))})])
    try:
        merged = merge_branch_subtiers(national.bands, inner, BRANCH_SUBTIER_RANGE)
    except TierTableError:
        raise ValidationFailed([FieldError("bands", "admin.error.bands_invalid")]) from None
    _lock_tier_tables(session)
    if expected_base is not None:
        national_set, latest = _active_national(session), _latest_branch_set(session, branch_id)
        if national_set is not None and national_set.version != expected_base[0]:
            raise _stale_rule_set(session, national_set)
        if (latest.version if latest else 0) != expected_base[1]:
            raise _stale_rule_set(session, latest)
    if _same_bands(merged, national.bands):
        raise UserError("admin.error.split_same_as_national", field="bands")
    if _same_bands(merged, active_tier_table(session, branch_id).bands):
        raise UserError("admin.error.split_unchanged", field="bands")
    version = (session.scalar(select(func.max(TierRuleSet.version)).where(TierRuleSet.branch_id == branch_id)) or 0) + 1
    rule_set = TierRuleSet(version=version, branch_id=branch_id, status="pending", note=(note or "").strip() or None,
                           requested_by=actor.person_id, requested_at=now)
    session.add(rule_set)
    session.flush()
    _insert_bands(session, rule_set.id, merged)
    record_event(session, case_id=None, actor_id=actor.person_id, kind="tier_subtier_requested", at=now,
                 rule_set_id=rule_set.id, branch_id=branch_id, version=version, bands=_bands_payload(inner),
                 national_version=national.version, note=note)
    session.commit()
    return rule_set.id


@requires("rules.admin")
def decide_branch_request(session: Session, actor: Actor, rule_set_id: int, *, approve: bool,
                          note: str | None = None, now: datetime | None = None) -> tuple[str, int]:
    """HQ approves or rejects a pending branch split; approval replaces the branch's active table.
    A request already decided (by a colleague, from another screen) is refused naming who and when.

    The split is re-merged with today's national table, so outside 50,000–500,000 the branch
    follows the national version in force at approval.
    """
    now = clock.or_now(now)
    _lock_tier_tables(session)
    rule_set = session.get(TierRuleSet, rule_set_id, with_for_update=True)
    if rule_set is None or rule_set.branch_id is None:
        raise NotFound()
    if rule_set.status != "pending":  # another admin decided since this page was drawn
        raise _stale_rule_set(session, rule_set)
    if not approve and not (note or "").strip():
        raise ValidationFailed([FieldError("decision_note", "admin.error.reject_needs_note")])
    superseded: list[int] = []
    if approve:
        low, high = BRANCH_SUBTIER_RANGE
        rows = session.scalars(select(TierRule).where(TierRule.rule_set_id == rule_set.id)).all()
        inner = [TierBand(r.code, r.lower_exclusive, r.upper_inclusive, tuple(r.positions), r.hq_notice, r.rank)
                 for r in rows if low <= r.lower_exclusive < high]
        national = active_tier_table(session, None)
        try:
            merged = merge_branch_subtiers(national.bands, inner, BRANCH_SUBTIER_RANGE)
        except TierTableError:
            raise UserError("admin.error.bands_invalid") from None
        if _same_bands(merged, national.bands):  # filed before the national table came to say the same
            raise UserError("admin.error.split_same_as_national", field="bands")
        session.execute(delete(TierRule).where(TierRule.rule_set_id == rule_set.id))
        _insert_bands(session, rule_set.id, merged)
        superseded = list(session.scalars(select(TierRuleSet.id).where(
            TierRuleSet.branch_id == rule_set.branch_id, TierRuleSet.status == "active")))
        session.execute(update(TierRuleSet).where(TierRuleSet.id.in_(superseded)).values(status="superseded"))
    rule_set.status = "active" if approve else "rejected"
    reference.forget_with(session)
    rule_set.decided_by = actor.person_id
    rule_set.decided_at = now
    rule_set.decision_note = (note or "").strip() or None
    record_event(session, case_id=None, actor_id=actor.person_id,
                 kind="tier_subtier_approved" if approve else "tier_subtier_rejected", at=now,
                 rule_set_id=rule_set.id, branch_id=rule_set.branch_id, version=rule_set.version,
                 superseded=superseded, note=note)
    decided = (_branch(session, rule_set.branch_id).name, rule_set.version)  # what the page says was decided
    session.commit()
    return decided


@requires("rules.request")
def rule_sets(session: Session, actor: Actor, *, national: bool | None = None,
              status: str | None = None) -> list[RuleSetView]:
    """Tier rule sets newest first; a branch manager sees the national ones and their branch's."""
    branch, requester, decider = BRANCH, REQUESTER, DECIDER
    query = (select(TierRuleSet, branch.name, requester.full_name, decider.full_name)
             .outerjoin(branch, branch.id == TierRuleSet.branch_id)
             .outerjoin(requester, requester.id == TierRuleSet.requested_by)
             .outerjoin(decider, decider.id == TierRuleSet.decided_by)
             .order_by(TierRuleSet.requested_at.desc(), TierRuleSet.id.desc()))
    if national is True:
        query = query.where(TierRuleSet.branch_id.is_(None))
    elif national is False:
        query = query.where(TierRuleSet.branch_id.is_not(None))
    if status:
        query = query.where(TierRuleSet.status == status)
    if not actor.may("rules.admin"):
        query = query.where(TierRuleSet.branch_id.is_(None)
                            | TierRuleSet.branch_id.in_(sorted(actor.branch_ids_for("branch_manager"))))
    found = session.execute(query.limit(200)).all()
    ids = [rs.id for rs, *_ in found]
    bands: dict[int, list[TierBand]] = {}
    for r in session.scalars(select(TierRule).where(TierRule.rule_set_id.in_(ids)).order_by(TierRule.lower_exclusive)):
        bands.setdefault(r.rule_set_id, []).append(
            TierBand(r.code, r.lower_exclusive, r.upper_inclusive, tuple(r.positions), r.hq_notice, r.rank))
    return [RuleSetView(rs.id, rs.version, rs.branch_id, bname, rs.status, rs.note, req, rs.requested_at, dec,
                        rs.decided_at, rs.decision_note, tuple(bands.get(rs.id, ())))
            for rs, bname, req, dec in found]


@requires("rules.request")
def branches_for_requests(session: Session, actor: Actor) -> list[tuple[int, str]]:
    only = None if actor.may("rules.admin") else actor.branch_ids_for("branch_manager")
    return [(u.id, u.name) for u in reference.branches(session, only)]


# ---------------------------------------------------------------- deadline hours (rule_setting)
# Defined, ranged and versioned in services/admin/rule_settings.py; named here for the rules page.
__all__ = ["EDITABLE_SETTINGS", "editable_settings", "update_rule_settings"]
