"""The special-case and complaint demo rows (issue 20), made through the services: every status and
chain length of a special case, a request waiting at every level (for the people a newcomer signs in
as), a report ranking more than one unit; every step, kind, cause, channel and outcome of the
complaint register, and items overdue for their return visit."""
from __future__ import annotations

import random
import time
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from dashboard import clock
from dashboard.demo import complaints as demo_complaints
from dashboard.demo import special as demo_special
from dashboard.rules.complaints import CAUSES, CHANNELS, KINDS, OUTCOMES, STEPS
from dashboard.services.complaints.analysis import complaint_analysis
from dashboard.services.complaints.register import complaint_items, item_detail
from dashboard.services.special_cases.approvals import special_cases, special_detail
from dashboard.services.special_cases.report import special_report
from db.models import ComplaintItem, ComplaintStep, SpecialApproval, SpecialCase
from tests.factories import make_case

_SUBS = ("gz", "sz", "fs", "hz", "nb", "wz", "nj", "su", "wx", "cd", "my", "dy")


def _values(session, *columns, where=()):
    return set(session.execute(select(*columns).where(*where).distinct()).all())


def test_demo_special_cases_and_complaints_fill_every_list_chart_and_tracker(session, org, actor_for):
    now = clock.now()
    rng = random.Random(11)
    # A small book over four months in every sub-branch, estimates of every size.
    for n in range(144):
        at = now - timedelta(days=rng.uniform(1, 125))
        make_case(session, org, _SUBS[n % len(_SUBS)], report_time=at, accident_time=at - timedelta(hours=2),
                  current_estimate=Decimal(rng.choice((6000, 30000, 90000, 150000, 400000, 800000))),
                  state=rng.choice(("investigating", "assessed", "approved", "closed")))
    started = time.monotonic()
    demo_special.populate(session, org, random.Random(2), now)
    demo_complaints.populate(session, org, random.Random(3), now)
    elapsed = time.monotonic() - started
    session.expire_all()

    specials = session.scalars(select(SpecialCase)).all()
    assert len(specials) == 30
    assert {s.status for s in specials} == {"pending", "approved", "rejected"}
    assert {len(s.chain) for s in specials} == {1, 2, 3, 4}
    assert {s.special_type for s in specials} == {"A", "B", "C"}
    assert {s.customer_kind for s in specials} == {"key_customer", "prospect", "reputation"}
    assert {s.chain[s.next_level] for s in specials if s.status == "pending"} == {
        "sub_claims_head", "sub_gm", "branch_line_dept", "branch_gm"}
    assert {s.branch_id for s in specials} == {b.id for b in org.branches}
    # Each decision row is the level the request then waited at; a rejection is its last.
    for s in specials:
        decisions = session.execute(select(SpecialApproval.level, SpecialApproval.decision)
                                    .where(SpecialApproval.special_case_id == s.id)
                                    .order_by(SpecialApproval.id)).all()
        assert [d.level for d in decisions] == s.chain[:len(decisions)]
        assert len(decisions) == {"approved": len(s.chain), "pending": s.next_level}.get(s.status, len(decisions))
        assert [d.decision for d in decisions].count("rejected") == (s.status == "rejected")
        assert s.status != "rejected" or decisions[-1].decision == "rejected"
    # People a newcomer signs in as find a request waiting for them.
    for username in ("gz_claims", "gz_head", "gd_line", "gd_gm"):
        total, rows = special_cases(session, actor_for(username), mine_only=True)
        assert total >= 1, username
        assert special_detail(session, actor_for(username), rows[0].id).i_decide
    report = special_report(session, actor_for("reviewer"), date_from=(now - timedelta(days=365)).date(),
                            date_to=now.date(), period="month")
    assert len({r.unit for r in report}) > 1 and len({r.period for r in report}) > 2
    assert sum(r.raised for r in report) == 30 and sum(r.extra_paid for r in report) > 0
    quarters = special_report(session, actor_for("reviewer"), date_from=(now - timedelta(days=365)).date(),
                              date_to=now.date(), period="quarter", by="branch")
    assert len({r.unit for r in quarters}) == 4

    items = session.scalars(select(ComplaintItem)).all()
    assert 60 <= len(items) <= 80
    assert {i.step for i in items} == set(STEPS)
    assert {i.kind for i in items} == set(KINDS)
    assert {i.cause for i in items} == set(CAUSES) and {i.channel for i in items} == set(CHANNELS)
    assert {i.outcome for i in items if i.outcome} == set(OUTCOMES)
    assert {i.mediation_outcome for i in items if i.mediation_outcome} == {"agreed", "failed"}
    assert any(i.case_id is None for i in items) and any(i.case_id is not None for i in items)
    assert all(i.apology and i.measure for i in items if i.justified)
    assert all(i.minutes and i.plan for i in items if i.step == "working_group")
    # Every move is a line of the item's history, the last one its present step.
    last = dict(session.execute(select(ComplaintStep.item_id, func.max(ComplaintStep.id)).group_by(
        ComplaintStep.item_id)).all())
    to_step = dict(session.execute(select(ComplaintStep.id, ComplaintStep.to_step)).all())
    assert all(to_step[last[i.id]] == i.step for i in items)
    reviewer = actor_for("reviewer")
    overdue, _ = complaint_items(session, reviewer, visit_overdue_only=True, now=now)
    assert 5 <= overdue <= 12
    total, rows = complaint_items(session, reviewer, now=now)
    assert total == len(items)
    assert item_detail(session, reviewer, rows[0].id, now=now).steps
    months = {c.month for c in complaint_analysis(session, reviewer, date_from=(now - timedelta(days=365)).date(),
                                                   date_to=now.date())}
    assert len(months) >= 6
    print(f"demo special + complaints: {elapsed:.1f} s")
    assert elapsed < 60, f"populate took {elapsed:.1f} s"

