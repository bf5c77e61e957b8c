"""Append-only case history: written in the caller's transaction, never updated."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from db.models import CaseEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return value


def record_event(session: Session, *, case_id: int | None, actor_id: int | None, kind: str,
                 at: datetime | None = None, **payload: Any) -> CaseEvent:
    event = CaseEvent(case_id=case_id, actor_id=actor_id, kind=kind,
                      payload=json.loads(json.dumps(_jsonable(payload))))
    if at is not None:
        event.at = at
    session.add(event)
    return event
