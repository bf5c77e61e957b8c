"""Read configurable rule numbers from table rule_setting, falling back to SPEC defaults."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.settings import DEFAULT_RULE_SETTINGS
from db.models import RuleSetting


def get_setting(session: Session, key: str) -> Any:
    value = session.scalar(select(RuleSetting.value).where(RuleSetting.key == key))
    if value is None:
        return DEFAULT_RULE_SETTINGS[key]
    return value


def all_settings(session: Session) -> dict[str, Any]:
    stored = dict(session.execute(select(RuleSetting.key, RuleSetting.value)).tuples().all())
    return {**DEFAULT_RULE_SETTINGS, **stored}
