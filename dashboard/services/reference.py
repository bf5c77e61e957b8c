"""Reference lists read by nearly every page (branches, sub-branches, tier codes), kept in the
process for a short while instead of read on every rerun.

Why: a filter's branch list is a 0.05 ms statement that costs ~0.3 ms of round trip and ~0.5 ms
of statement building each time, and a list page read three of them per click (bench/RESULTS.md:
they were half the dispatch board's overhead on top of its SQL). The data allows it:
- org units are written only by seeding and migrations, never by the running dashboard;
- tier codes and rule settings change when an administrator activates or approves a rule set or
  edits a setting; those writes call `forget_with()` in this process, and other server processes
  see the change within `TTL_S`.

Entries are keyed by the engine (one per database URL), so two databases in one process (tests) never mix.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from cachetools import TTLCache
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from dashboard.rules.tiers import NOT_TIERED
from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.settings import DEFAULT_RULE_SETTINGS
from db.models import OrgUnit, RuleSetting, TierRule, TierRuleSet

TTL_S = 60

T = TypeVar("T")

_cache: TTLCache = TTLCache(maxsize=256, ttl=TTL_S)
_lock = threading.Lock()


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str
    name: str
    parent_id: int | None


@dataclass(frozen=True)
class OrgTree:
    """Branches and sub-branches, each in code order (the order every filter shows them in), and
    the name of every unit (head office included) by id."""
    branches: tuple[UnitRef, ...]
    sub_branches: tuple[UnitRef, ...]
    names: Mapping[int, str]


def remembered(session: Session, name: str, read: Callable[[], T]) -> T:
    """`read()`'s value kept for TTL_S seconds per database, under `name`: for configuration a page
    reads on every run and a person rarely changes (a writer calls `forget_with`, so the change
    shows at once on its server and within TTL_S on others). The value must not be changed in place."""
    key = (session.get_bind(), name)  # the engine: one per database URL (db.engine)
    with _lock:
        found = _cache.get(key)
    if found is None:
        found = read()
        with _lock:
            _cache[key] = found
    return found


def forget() -> None:
    """Drop every kept list (after a write that changes one, e.g. a rule set made active)."""
    with _lock:
        _cache.clear()


def forget_with(session: Session) -> None:
    """Forget now, and again when `session` commits or rolls back: a list read in between (another
    person's rerun, or this transaction before it ends) is not kept for the next `TTL_S` seconds."""
    forget()
    for name in ("after_commit", "after_rollback"):
        event.listen(session, name, lambda _session: forget(), once=True)


def org_tree(session: Session) -> OrgTree:
    def read() -> OrgTree:
        rows = session.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.parent_id, OrgUnit.level)
                               .order_by(OrgUnit.code)).all()
        return OrgTree(tuple(UnitRef(*r[:4]) for r in rows if r[4] == "branch"),
                       tuple(UnitRef(*r[:4]) for r in rows if r[4] == "sub_branch"),
                       MappingProxyType({r[0]: r[2] for r in rows}))
    return remembered(session, "org_tree", read)


def branches(session: Session, only: frozenset[int] | set[int] | None = None) -> list[UnitRef]:
    """Branches in code order; `only`: limited to these ids (None: all)."""
    return [u for u in org_tree(session).branches if only is None or u.id in only]


def sub_branches(session: Session, *, branch_ids: frozenset[int] | set[int] | None = None,
                 ids: frozenset[int] | set[int] | None = None) -> list[UnitRef]:
    """Sub-branches in code order, under `branch_ids` and among `ids` when given."""
    return [u for u in org_tree(session).sub_branches
            if (branch_ids is None or u.parent_id in branch_ids) and (ids is None or u.id in ids)]


@requires("case.read")
def branch_choices(session: Session, actor: Actor) -> list[UnitRef]:
    """The branches a person may filter lists by: all for national roles, else `Actor.unit_branch_ids`."""
    return branches(session, None if actor.is_national else actor.unit_branch_ids)


@requires("case.read")
def sub_branch_choices(session: Session, actor: Actor, branch_id: int | None) -> list[UnitRef]:
    """The sub-branches a person may filter lists by, under `branch_id` when one is chosen: those
    of their branches, and only their own for people who work in a sub-branch alone."""
    allowed = None if actor.is_national else actor.unit_branch_ids
    if branch_id is not None:
        allowed = {branch_id} if allowed is None or branch_id in allowed else set()
    ids = actor.visible_sub_branch_ids if not actor.is_national and not actor.visible_branch_ids else None
    return sub_branches(session, branch_ids=allowed, ids=ids)


def get_setting(session: Session, key: str) -> Any:
    value = session.scalar(select(RuleSetting.value).where(RuleSetting.key == key))
    if value is None:
        return DEFAULT_RULE_SETTINGS[key]
    return value


def all_settings(session: Session) -> dict[str, Any]:
    stored = dict(session.execute(select(RuleSetting.key, RuleSetting.value)).tuples().all())
    return {**DEFAULT_RULE_SETTINGS, **stored}


def rule_settings(session: Session) -> dict[str, Any]:
    """The rule settings (defaults overlaid by the stored ones) for display thresholds; writes that
    compute deadlines read them fresh (services.rule_settings)."""
    return dict(remembered(session, "rule_settings", lambda: all_settings(session)))


def due_soon_hours(session: Session) -> float:
    """How many hours ahead a clock counts as due soon (amber on every list, and the tracker's
    status): a display threshold from the kept settings (an administrator's change shows at once on
    their server, within a minute on others)."""
    return float(rule_settings(session)["deadline.due_soon_hours"])


def active_tier_codes(session: Session) -> tuple[str, ...]:
    """Tier codes in force anywhere (national and approved branch splits), lowest first."""
    def read() -> tuple[str, ...]:
        rows = session.execute(
            select(TierRule.code, func.min(TierRule.lower_exclusive))
            .join(TierRuleSet, TierRuleSet.id == TierRule.rule_set_id)
            .where(TierRuleSet.status == "active").group_by(TierRule.code)
            .order_by(func.min(TierRule.lower_exclusive), TierRule.code)).all()
        return tuple(code for code, _ in rows)
    return remembered(session, "active_tier_codes", read)


def historic_tier_codes(session: Session) -> tuple[str, ...]:
    """Tier codes of rule sets that are or were in force, by rank; a sub-tier awaiting approval or
    rejected was never given to a case."""
    def read() -> tuple[str, ...]:
        rows = session.execute(select(TierRule.code, func.min(TierRule.rank))
                               .join(TierRuleSet, TierRuleSet.id == TierRule.rule_set_id)
                               .where(TierRuleSet.status.in_(("active", "superseded")))
                               .group_by(TierRule.code)
                               .order_by(func.min(TierRule.rank), TierRule.code)).all()
        return tuple(code for code, _ in rows)
    return remembered(session, "historic_tier_codes", read)


def tier_filter_codes(session: Session) -> tuple[str, ...]:
    """The tiers a list of tiered cases can be filtered by: every tier given to a case under a rule
    set in force now or before (branch sub-tiers included), lowest first; not "not tiered"."""
    return tuple(code for code in historic_tier_codes(session) if code != NOT_TIERED)
