"""Configurable rule numbers (table rule_setting, falling back to docs/DOMAIN.md defaults): reading them, and
HQ's edits of them, each setting versioned and held within a range that cannot lock anyone out.

Why ranges: 0.01 minutes of idle time signed everyone out within a second, the admin trying to
fix it included; `1e2` and 0.001 h were accepted as deadline hours (issue 27). Why versions: two
admins editing at once both succeeded and the later silently won; a form older than a colleague's
save put the colleague's D7 back (issues 25 item 9, 27). A save names, for each setting it
changes, the version the person's form showed, and only the settings the person changed.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.amounts import AmountProblem, parse_amount
from dashboard.rules.work_calendar import parse_clock_time
from dashboard.services import reference
from dashboard.services.actor import Actor
from dashboard.services.errors import FieldError, ValidationFailed
from dashboard.services.cases.history import record_event
from dashboard.services.stale import stale_write
from dashboard.services.capability import requires
from dashboard.settings import DEFAULT_RULE_SETTINGS
from db.models import Person, RuleSetting


# ---------------------------------------------------------------- what HQ may edit, and within what


@dataclass(frozen=True)
class SettingDefinition:
    """One editable setting: its kind and the range it must stay in (shown beside the field).

    kind: hours (whole or half hours), minutes, days, weekday (0 = Monday), hhmm, amount (whole yuan).
    """

    kind: str
    low: Decimal | None = None
    high: Decimal | None = None
    step: Decimal = Decimal(1)


def _hours(low: int = 1, high: int = 168) -> SettingDefinition:
    # 分级管理办法 第三、四章: every deadline is whole hours (24, 48, 72); half an hour is the finest
    # an admin can mean. A week (168 h) is the longest clock the rules know (D6 is weekly).
    return SettingDefinition("hours", Decimal(low), Decimal(high), Decimal("0.5"))


EDITABLE_SETTINGS: dict[str, SettingDefinition] = {
    "deadline.D1.hours": _hours(),
    "deadline.D2.hours": _hours(),
    "deadline.D3.hours": _hours(),
    "deadline.D4.day_end_offset_days": SettingDefinition("days", Decimal(0), Decimal(7)),
    # How a clock counts (issue 22), beside the clock: calendar hours or working time.
    "deadline.D4.mode": SettingDefinition("time_mode"),
    "deadline.D5.hours": _hours(),
    "deadline.D5.mode": SettingDefinition("time_mode"),
    "deadline.D6.weekday": SettingDefinition("weekday", Decimal(0), Decimal(6)),
    "deadline.D6.time": SettingDefinition("hhmm"),
    "deadline.D6.holiday_shift": SettingDefinition("holiday_shift"),
    "deadline.D7.hours": _hours(),
    "deadline.D7.mode": SettingDefinition("time_mode"),
    "deadline.due_soon_hours": _hours(),
    # A warning at 0 % or 100 % of a clock says nothing the start or the breach does not.
    "deadline.warn_first_pct": SettingDefinition("percent", Decimal(1), Decimal(99)),
    "deadline.warn_second_pct": SettingDefinition("percent", Decimal(1), Decimal(99)),
    # Delivery hours and the urgent amount (issue 22).
    "notify.work_from": SettingDefinition("hhmm"),
    "notify.work_until": SettingDefinition("hhmm"),
    "notify.urgent_amount": SettingDefinition("amount", Decimal(10_000), Decimal(1_000_000_000)),
    # Below 5 minutes nobody can finish a form; above a working day a shared PC stays signed in.
    "session.idle_minutes": SettingDefinition("minutes", Decimal(5), Decimal(480)),
    # Above the T4 threshold (¥100万) so that ordinary large cases are not asked; up to ¥10亿.
    "estimate.confirm_above": SettingDefinition("amount", Decimal(1_000_000), Decimal(1_000_000_000)),
    # Special-case approval limits (docs/DOMAIN.md §8): each above the one before (checked on save).
    "special.limit.sub_claims_head": SettingDefinition("amount", Decimal(1_000), Decimal(100_000_000)),
    "special.limit.sub_gm": SettingDefinition("amount", Decimal(1_000), Decimal(100_000_000)),
    "special.limit.branch_line_dept": SettingDefinition("amount", Decimal(1_000), Decimal(100_000_000)),
    # A day is the least a return visit takes to arrange; a quarter is the longest any item waits.
    "complaint.return_visit_days": SettingDefinition("visit_days", Decimal(1), Decimal(90)),
}
# Settings chosen from a list (a select box on the form), by kind.
CHOICES: dict[str, tuple[str, ...]] = {"time_mode": ("calendar", "working"), "holiday_shift": ("previous", "none")}
SPECIAL_LIMIT_KEYS = ("special.limit.sub_claims_head", "special.limit.sub_gm", "special.limit.branch_line_dept")

_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")
_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})")


def range_params(key: str) -> dict[str, str]:
    """The range of `key` as text for messages and the caption beside the field ("1", "168")."""
    definition = EDITABLE_SETTINGS[key]
    if definition.low is None and definition.high is None:
        return {"low": "", "high": ""}
    shown = (lambda d: f"{d:,.0f}") if definition.kind == "amount" else (lambda d: f"{d.normalize():f}")
    return {"low": shown(definition.low) if definition.low is not None else "",
            "high": shown(definition.high) if definition.high is not None else ""}


def clean_setting(key: str, raw: object) -> tuple[Any, FieldError | None]:
    """The value `raw` says for `key`, or the error naming the range. Only plain digits are read
    (full-width ones from a Chinese input method too): no `1e2`, no sign, no `inf`."""
    definition = EDITABLE_SETTINGS[key]
    typed = unicodedata.normalize("NFKC", str(raw)).strip()
    if definition.kind in CHOICES:
        if typed in CHOICES[definition.kind]:
            return typed, None
        return None, FieldError(key, f"admin.error.setting_{definition.kind}")
    if definition.kind == "hhmm":
        match = _HHMM.fullmatch(typed)
        if match and int(match[1]) < 24 and int(match[2]) < 60:
            return f"{int(match[1]):02d}:{int(match[2]):02d}", None
        return None, FieldError(key, "admin.error.setting_hhmm")
    range_error = FieldError(key, f"admin.error.setting_{definition.kind}_range", range_params(key))
    if definition.kind == "amount":
        try:
            number = parse_amount(typed)
        except AmountProblem:
            return None, range_error
    else:
        if not _NUMBER.fullmatch(typed):
            return None, range_error
        number = Decimal(typed)
    assert definition.low is not None and definition.high is not None
    if not definition.low <= number <= definition.high or number % definition.step:
        return None, range_error
    return (int(number) if number == number.to_integral_value() else float(number)), None


# ---------------------------------------------------------------- versioned reads and writes


@dataclass(frozen=True)
class SettingView:
    key: str
    value: Any
    version: int  # 0: never stored (the docs/DOMAIN.md default is in force)
    updated_by: str | None
    updated_at: datetime | None


@requires("settings.edit")
def editable_settings(session: Session, actor: Actor) -> dict[str, SettingView]:
    """Each editable setting with its value, its version and who last changed it."""
    rows = {r.key: r for r in session.execute(
        select(RuleSetting.key, RuleSetting.value, RuleSetting.version, Person.full_name, RuleSetting.updated_at)
        .outerjoin(Person, Person.id == RuleSetting.updated_by)
        .where(RuleSetting.key.in_(list(EDITABLE_SETTINGS))))}
    views: dict[str, SettingView] = {}
    for key in EDITABLE_SETTINGS:
        row = rows.get(key)
        views[key] = (SettingView(key, row.value, row.version, row.full_name, row.updated_at) if row
                      else SettingView(key, DEFAULT_RULE_SETTINGS[key], 0, None, None))
    return views


# Settings that must rise in the order given, each run with the message naming it: the special-case
# limits climb with the chain (a level approving less than the one below it would make the chain
# stop nowhere sensible, rules/special_cases); a first warning after the second warns out of
# order; delivery hours that start after they end never send a message at all (a browser walk saved
# 时效预警一 90 % over 预警二 80 %, and 19:00 → 18:00).
ORDERED: tuple[tuple[tuple[str, ...], str], ...] = (
    (SPECIAL_LIMIT_KEYS, "admin.error.special_limits_order"),
    (("deadline.warn_first_pct", "deadline.warn_second_pct"), "admin.error.warn_order"),
    (("notify.work_from", "notify.work_until"), "admin.error.work_hours_order"),
)


def _comparable(key: str, value: Any) -> Any:
    return parse_clock_time(value) if EDITABLE_SETTINGS[key].kind == "hhmm" else Decimal(str(value))


def _check_order(session: Session, cleaned: dict[str, Any]) -> None:
    """Each run of ORDERED, as it will stand after the save (the settings not changed as kept),
    strictly rising; a run out of order names the settings of it that were changed."""
    errors = []
    for keys, message in ORDERED:
        if not set(cleaned) & set(keys):
            continue
        values = [_comparable(k, cleaned[k] if k in cleaned else reference.get_setting(session, k)) for k in keys]
        if any(low >= high for low, high in zip(values, values[1:])):
            errors += [FieldError(k, message) for k in keys if k in cleaned]
    if errors:
        session.rollback()
        raise ValidationFailed(errors)


@requires("settings.edit")
def update_rule_settings(session: Session, actor: Actor, changes: dict[str, object], *,
                         expected_versions: dict[str, int] | None = None, now: datetime | None = None) -> list[str]:
    """Save the settings in `changes` (all or nothing); returns the keys whose value changed.

    `changes` holds only what the person changed; `expected_versions` the version of each that their
    form showed: a setting someone else saved since is refused (StaleWrite naming who and when),
    and nothing is written. Clocks already running keep their due time.
    """
    now = clock.or_now(now)
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    for key, raw in changes.items():
        if key not in EDITABLE_SETTINGS:
            errors.append(FieldError(key, "admin.error.setting_unknown"))
            continue
        value, error = clean_setting(key, raw)
        if error:
            errors.append(error)
        else:
            cleaned[key] = value
    if errors:
        raise ValidationFailed(errors)
    # One admin's save at a time: the version check and the write see the same rows.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('rule_setting'))"))
    rows = {r.key: r for r in session.scalars(
        select(RuleSetting).where(RuleSetting.key.in_(list(cleaned))).with_for_update())}
    for key in cleaned:
        row = rows.get(key)
        if expected_versions is not None and key in expected_versions \
                and (row.version if row else 0) != expected_versions[key]:
            who, at = (row.updated_by, row.updated_at) if row else (None, None)
            session.rollback()
            raise stale_write(session, who, at)
    _check_order(session, cleaned)
    changed = []
    for key, value in cleaned.items():
        row = rows.get(key)
        before = row.value if row else DEFAULT_RULE_SETTINGS[key]
        if before == value:
            continue
        changed.append(key)
        if row is None:
            session.add(RuleSetting(key=key, value=value, updated_at=now, updated_by=actor.person_id, version=1))
        else:
            row.value, row.updated_at, row.updated_by, row.version = value, now, actor.person_id, row.version + 1
        record_event(session, case_id=None, actor_id=actor.person_id, kind="rule_setting_changed", at=now,
                     key=key, before=before, after=value)
    if changed:
        reference.forget_with(session)
    session.commit()
    return changed
