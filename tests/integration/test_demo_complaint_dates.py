"""The complaint demo's letters are never received before their claim was reported.

On 2026-12-06 the launcher's own book (seed 42, 2,000 cases) at 2026-12-07 02:15 gave letters about a
claim a receipt date one to three days before the claim was reported; the register refused them, and
the first command of the README stopped before serving anything. That book took 90 s to build, the
longest test of the suite. What made it fail is a letter about a claim reported only a day or two
before the letter was registered: the book below is thick with such claims, so every seed meets
that edge (the test says so), not one moment's draw.
"""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from dashboard import clock
from dashboard.demo import complaints as demo_complaints
from dashboard.settings import BUSINESS_TZ
from db.models import ClaimCase, ComplaintItem
from tests.factories import make_case

_SUBS = ("gz", "sz", "fs", "hz", "nb", "wz", "nj", "su", "wx", "cd", "my", "dy")
_SPAN_DAYS = 180  # the oldest archived item is 172 days old, its claim up to 60 days before it


@pytest.mark.moment("2026-12-07 02:15")
@pytest.mark.parametrize("seed", [42, 7, 1234])
def test_the_demo_complaints_letters_are_received_on_or_after_their_claims_report(session, org, seed):
    now = clock.now()
    # A claim every half hour over the last four days, where a letter registered since finds its claim
    # reported a day or two before it; then one every twelve hours back to the oldest item's claims.
    moments = [now - timedelta(minutes=30 * n + 5) for n in range(4 * 48)]
    moments += [now - timedelta(days=4, hours=12 * n) for n in range(_SPAN_DAYS * 2)]
    for n, at in enumerate(moments):  # in every sub-branch in turn
        make_case(session, org, _SUBS[n % len(_SUBS)], report_time=at, accident_time=at - timedelta(hours=2),
                  current_estimate=Decimal(6000), state="investigating", commit=False)
    session.commit()
    demo_complaints.populate(session, org, random.Random(seed), now)
    session.expire_all()
    items = session.execute(select(ComplaintItem.channel, ComplaintItem.received_on, ClaimCase.report_time)
                            .join(ClaimCase, ClaimCase.id == ComplaintItem.case_id)).all()
    assert len(items) > 10
    assert all(received >= reported.astimezone(BUSINESS_TZ).date() for _, received, reported in items)
    # The edge the launcher's book met: a letter about a claim reported the very day it was received.
    assert any(channel in ("letter", "regulator") and received == reported.astimezone(BUSINESS_TZ).date()
               for channel, received, reported in items), "no letter met its claim's report day"
