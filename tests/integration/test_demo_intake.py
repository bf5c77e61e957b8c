"""The intake demo rows are made through the real services and show on the board."""
from __future__ import annotations

import random
from datetime import datetime, timezone

from sqlalchemy import func, select

from dashboard.services.dispatching.board import BoardFilter, board_page
from dashboard.demo.intake import populate
from db.models import ContactAttempt, TierRuleSet

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)


def test_demo_adds_fresh_cases_awaiting_estimate_and_branch_requests(session, org, actor_for):
    populate(session, org, random.Random(1), NOW)
    session.commit()
    board = board_page(session, actor_for("callcenter"), BoardFilter(view="awaiting"), now=NOW)
    assert board.total == 12 and all(r.status == "awaiting_estimate" for r in board.rows)
    statuses = dict(session.execute(select(TierRuleSet.status, func.count()).where(TierRuleSet.branch_id.is_not(None))
                                    .group_by(TierRuleSet.status)).tuples().all())
    assert statuses == {"pending": 1, "rejected": 1}
    assert session.scalar(select(func.count()).select_from(ContactAttempt)) == 0  # no dispatches in a bare org
