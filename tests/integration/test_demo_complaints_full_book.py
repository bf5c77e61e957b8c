"""The complaint demo over the demo's own full case book, as `serve` loads it (seed 42, 2,000 cases):
at this moment its letters were received before their case was reported, the register refused
them, and the first command of the README stopped before serving anything (2026-12-06)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dashboard.demo import load as demo_load
from dashboard.settings import BUSINESS_TZ
from db.engine import OWNER, session_factory
from db.models import ClaimCase, ComplaintItem


@pytest.mark.moment("2026-12-07 02:15")
def test_the_demo_loads_its_complaints_over_the_full_book(db_url, demo_password_hash, monkeypatch):
    monkeypatch.setattr(demo_load, "hash_password", lambda password: demo_password_hash)
    monkeypatch.setattr(demo_load, "POPULATE_MODULES", ("dashboard.demo.complaints",))
    with session_factory(db_url, OWNER)() as owner:
        demo_load.generate(owner, seed=42, progress=False)  # the launcher's seed and book
        items = owner.execute(select(ComplaintItem.received_on, ClaimCase.report_time)
                              .join(ClaimCase, ClaimCase.id == ComplaintItem.case_id)).all()
    assert len(items) > 10
    assert all(received >= reported.astimezone(BUSINESS_TZ).date() for received, reported in items)
