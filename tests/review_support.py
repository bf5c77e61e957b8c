"""Test data for the review loop: tiered cases made through the real dispatch service."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dashboard.services.actor import load_actor
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.demo.org import DemoOrg
from db.models import ClaimCase
from tests.factories import T0, make_case


def tiered_case(session: Session, org: DemoOrg, sub_code: str = "gz", amount: str = "86000",
                at: datetime = T0, **overrides) -> ClaimCase:
    """A case of `sub_code` whose estimate the call center recorded at `at` (86,000 → T1)."""
    case = make_case(session, org, sub_code, report_time=at, **overrides)
    callcenter = load_actor(session, org.person("callcenter"))
    record_estimate(session, callcenter, case.id, amount, now=at)
    session.refresh(case)
    return case
