"""HQ tier administration: versioned national tier table, branch sub-tier requests, deadline hours.

分级管理办法 注意3: a branch may split 50,000–500,000 into its own tiers; it takes effect only
after HQ tier admin approves it, and the approval is recorded. A new national version
supersedes the old one; cases keep the rule set they were tiered under (claim_case.tier_rule_set_id
is never rewritten here).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.amounts import parse_amount
from dashboard.rules.tiers import TierBand, TierTableError, merge_branch_subtiers, validate_table
from dashboard.services import reference
from dashboard.services.actor import Actor
from dashboard.services.aliases import BRANCH, DECIDER, REQUESTER
from dashboard.services.errors import FieldError, NotFound, PermissionDenied, UserError, ValidationFailed
from dashboard.services.history import record_event
from dashboard.services.rule_settings import all_settings
from dashboard.services.tiers import active_tier_table
from dashboard.settings import ALL_POSITIONS, BRANCH_SUBTIER_RANGE
from db.models import OrgUnit, RuleSetting, TierRule, TierRuleSet

MAX_PERSONS_PER_TIER = 2  # SPEC §3: one or two first responsible persons


@dataclass
class BandInput:
    """One row of a tier table as typed by the admin (amounts as text or Decimal)."""

    code: str
    lower_exclusive: Decimal | str | None
    upper_inclusive: Decimal | str | None
    positions: tuple[str, ...] | list[str]
    hq_notice: bool = False


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


def _require_admin(actor: Actor) -> None:
    if not actor.has_role("hq_admin"):
        raise PermissionDenied()


def _amount(value: object) -> Decimal | None:
    """A band bound, or None for a blank one; AmountProblem (a ValueError) when it is not an amount."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_amount(value)


def check_bands(rows: list[BandInput], *, span: tuple[Decimal, Decimal] | None = None) -> tuple[list[TierBand], list[FieldError]]:
    """Turn admin input into bands; every problem is a FieldError on "band.<n>.<column>" (n from 1).

    National table (`span` None): contiguous from its lowest bound, only the last band open-ended.
    Branch split: the bands must cover exactly `span` (50,000–500,000).
    """
    errors: list[FieldError] = []
    bands: list[TierBand] = []
    if not rows:
        return [], [FieldError("bands", "admin.error.no_bands")]
    codes: set[str] = set()
    for n, row in enumerate(rows, start=1):
        code = (row.code or "").strip()
        if not code or len(code) > 16 or code == "T0" or code in codes:
            errors.append(FieldError(f"band.{n}.code", "admin.error.band_code", {"n": n}))
        codes.add(code)
        bounds: list[Decimal | None] = []
        for column, raw in (("lower", row.lower_exclusive), ("upper", row.upper_inclusive)):
            try:
                bounds.append(_amount(raw))
            except ValueError:
                errors.append(FieldError(f"band.{n}.{column}", "admin.error.band_amount", {"n": n, "value": str(raw)}))
                bounds.append(None)
        lower, upper = bounds
        if lower is None and not any(e.field == f"band.{n}.lower" for e in errors):
            errors.append(FieldError(f"band.{n}.lower", "admin.error.band_lower_required", {"n": n}))
        if lower is not None and upper is not None and upper <= lower:
            errors.append(FieldError(f"band.{n}.upper", "admin.error.band_order", {"n": n}))
        positions = tuple(p for p in (row.positions or ()) if p)
        if (not positions or len(positions) > MAX_PERSONS_PER_TIER or len(set(positions)) != len(positions)
                or any(p not in ALL_POSITIONS for p in positions)):
            errors.append(FieldError(f"band.{n}.positions", "admin.error.band_positions",
                                     {"n": n, "max": MAX_PERSONS_PER_TIER}))
        bands.append(TierBand(code, lower if lower is not None else Decimal(0), upper, positions,
                              bool(row.hq_notice), n))
    if errors:
        return bands, errors
    ordered_bands = sorted(bands, key=lambda b: b.lower_exclusive)
    for i, band in enumerate(ordered_bands):
        if band.upper_inclusive is None and i != len(ordered_bands) - 1:
            errors.append(FieldError(f"band.{band.rank}.upper", "admin.error.band_open_not_last", {"n": band.rank}))
        if i and ordered_bands[i - 1].upper_inclusive != band.lower_exclusive:
            errors.append(FieldError(f"band.{band.rank}.lower", "admin.error.band_gap",
                                     {"n": band.rank, "code": band.code, "previous": ordered_bands[i - 1].code}))
    if span is None:
        if ordered_bands[-1].upper_inclusive is not None:
            errors.append(FieldError(f"band.{ordered_bands[-1].rank}.upper", "admin.error.band_last_open"))
    elif ordered_bands[0].lower_exclusive != span[0] or ordered_bands[-1].upper_inclusive != span[1]:
        errors.append(FieldError("bands", "admin.error.band_span", {"low": f"{span[0]:,.0f}", "high": f"{span[1]:,.0f}"}))
    if not errors:
        try:
            validate_table(ordered_bands)  # the engine's own check, as a last guard
        except TierTableError:
            errors.append(FieldError("bands", "admin.error.bands_invalid"))
    ranked = [TierBand(b.code, b.lower_exclusive, b.upper_inclusive, b.positions, b.hq_notice, rank)
              for rank, b in enumerate(ordered_bands, start=1)]
    return ranked, errors


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


def publish_national_table(session: Session, actor: Actor, rows: list[BandInput], *, note: str | None = None,
                           now: datetime | None = None) -> int:
    """Publish a new national version; the previous active one becomes 'superseded'."""
    now = clock.or_now(now)
    _require_admin(actor)
    bands, errors = check_bands(rows)
    if errors:
        raise ValidationFailed(errors)
    _lock_tier_tables(session)
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


def request_branch_subtiers(session: Session, actor: Actor, branch_id: int, rows: list[BandInput], *,
                            note: str | None = None, now: datetime | None = None) -> int:
    """A branch's own split of 50,000–500,000, filed as 'pending' until HQ decides.

    Stored as the branch's whole effective table (national bands outside the span plus its own),
    which is what the tier engine reads once the request is approved.
    """
    now = clock.or_now(now)
    managed = actor.branch_ids_for("branch_manager")
    if not (actor.has_role("hq_admin") or branch_id in managed):
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


def decide_branch_request(session: Session, actor: Actor, rule_set_id: int, *, approve: bool,
                          note: str | None = None, now: datetime | None = None) -> None:
    """HQ approves or rejects a pending branch split; approval replaces the branch's active table.

    The split is re-merged with today's national table, so outside 50,000–500,000 the branch
    follows the national version in force at approval.
    """
    now = clock.or_now(now)
    _require_admin(actor)
    _lock_tier_tables(session)
    rule_set = session.get(TierRuleSet, rule_set_id, with_for_update=True)
    if rule_set is None or rule_set.branch_id is None:
        raise NotFound()
    if rule_set.status != "pending":
        raise UserError("admin.error.not_pending")
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
    session.commit()


def rule_sets(session: Session, actor: Actor, *, national: bool | None = None,
              status: str | None = None) -> list[RuleSetView]:
    """Tier rule sets newest first; a branch manager sees the national ones and their branch's."""
    if not actor.has_role("hq_admin", "branch_manager"):
        raise PermissionDenied()
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
    if not actor.has_role("hq_admin"):
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


def branches_for_requests(session: Session, actor: Actor) -> list[tuple[int, str]]:
    only = None if actor.has_role("hq_admin") else actor.branch_ids_for("branch_manager")
    return [(u.id, u.name) for u in reference.branches(session, only)]


# ---------------------------------------------------------------- deadline hours (rule_setting)

# key -> kind of value; see dashboard.settings.DEFAULT_RULE_SETTINGS
EDITABLE_SETTINGS: dict[str, str] = {
    "deadline.D1.hours": "hours", "deadline.D2.hours": "hours", "deadline.D3.hours": "hours",
    "deadline.D4.day_end_offset_days": "days", "deadline.D5.hours": "hours",
    "deadline.D6.weekday": "weekday", "deadline.D6.time": "hhmm", "deadline.D7.hours": "hours",
    "deadline.due_soon_hours": "hours", "session.idle_minutes": "minutes",
}
_MAX = {"hours": 24 * 365, "minutes": 24 * 60, "days": 30}


def editable_settings(session: Session, actor: Actor) -> dict[str, Any]:
    _require_admin(actor)
    current = all_settings(session)
    return {key: current[key] for key in EDITABLE_SETTINGS}


def _clean_setting(key: str, raw: object) -> tuple[Any, FieldError | None]:
    kind = EDITABLE_SETTINGS[key]
    text_value = str(raw).strip()
    if kind == "hhmm":
        parts = text_value.split(":")
        if len(parts) == 2 and all(p.isdigit() for p in parts) and int(parts[0]) < 24 and int(parts[1]) < 60:
            return f"{int(parts[0]):02d}:{int(parts[1]):02d}", None
        return None, FieldError(key, "admin.error.setting_hhmm")
    try:
        number = Decimal(text_value)
    except InvalidOperation:
        return None, FieldError(key, "admin.error.setting_number")
    if not number.is_finite():
        return None, FieldError(key, "admin.error.setting_number")
    if kind == "weekday":
        if number != number.to_integral_value() or not 0 <= number <= 6:
            return None, FieldError(key, "admin.error.setting_weekday")
        return int(number), None
    if kind == "days":
        if number != number.to_integral_value() or not 0 <= number <= _MAX["days"]:
            return None, FieldError(key, "admin.error.setting_days", {"max": _MAX["days"]})
        return int(number), None
    if number <= 0 or number > _MAX[kind]:
        return None, FieldError(key, "admin.error.setting_positive", {"max": _MAX[kind]})
    return (int(number) if number == number.to_integral_value() else float(number)), None


def update_rule_settings(session: Session, actor: Actor, changes: dict[str, object], *,
                         now: datetime | None = None) -> list[str]:
    """Save new deadline numbers (all or nothing). Clocks already running keep their due time."""
    now = clock.or_now(now)
    _require_admin(actor)
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    for key, raw in changes.items():
        if key not in EDITABLE_SETTINGS:
            errors.append(FieldError(key, "admin.error.setting_unknown"))
            continue
        value, error = _clean_setting(key, raw)
        if error:
            errors.append(error)
        else:
            cleaned[key] = value
    if errors:
        raise ValidationFailed(errors)
    current = all_settings(session)
    changed = [key for key, value in cleaned.items() if current.get(key) != value]
    for key in changed:
        row = session.get(RuleSetting, key, with_for_update=True)
        if row is None:
            session.add(RuleSetting(key=key, value=cleaned[key], updated_at=now, updated_by=actor.person_id))
        else:
            row.value, row.updated_at, row.updated_by = cleaned[key], now, actor.person_id
        record_event(session, case_id=None, actor_id=actor.person_id, kind="rule_setting_changed", at=now,
                     key=key, before=current.get(key), after=cleaned[key])
    if changed:
        reference.forget_with(session)
    session.commit()
    return changed
