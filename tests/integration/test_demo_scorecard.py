"""The scorecard's demo rows (issue 21): a newcomer opening 理赔质量考核 finds the four branches ranked
for this month, quarter and year, every indicator the cases decide with a value, the totals apart,
each band of the loss-ratio scoring somewhere, and HQ's figures entered for every branch and period.
The demo's own case book is made (a smaller one), then its scorecard area populates."""
from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from dashboard import clock
from dashboard.demo import load as demo_load
from dashboard.demo.scorecard import habits_of
from dashboard.rules.scorecard import LOSS_RATIO_FULL_POINTS, period_end, period_start, previous_periods
from dashboard.services.actor import load_actor
from dashboard.services.scorecard.card import indicator_trend, loss_ratio_of, scorecards
from dashboard.services.scorecard.computed import COMPUTED, cases_behind
from db.engine import OWNER, session_factory
from db.models import BranchFinancials, ClaimCase
from db.scope import NATIONAL, set_base_scope

CASES = 600  # under a third of the demo's book: every indicator in every branch for the month, quarter and year


@pytest.mark.moment("2026-11-26 15:00")
def test_demo_scorecard_ranks_four_branches_with_every_indicator_and_band(db_url, demo_password_hash, monkeypatch):
    monkeypatch.setattr(demo_load, "hash_password", lambda password: demo_password_hash)
    monkeypatch.setattr(demo_load, "POPULATE_MODULES", ("dashboard.demo.scorecard",))
    started = time.monotonic()
    with session_factory(db_url, OWNER)() as owner:
        org = demo_load.generate(owner, seed=42, cases=CASES, progress=False)
    elapsed = time.monotonic() - started
    now = clock.now()
    today = clock.business_today()
    branches = {b.id: b.code for b in org.branches}

    with session_factory(db_url)() as session:
        set_base_scope(session, NATIONAL)
        # The cases carry what the indicators read, consistently with the life cycle's rules.
        cases = session.scalars(select(ClaimCase)).all()
        for c in cases:
            assert c.state not in ("paid", "closed") or c.paid_amount is not None, c.id
            assert c.paid_amount is None or c.state in ("paid", "closed", "reopened"), c.id
            assert not c.zero_closed or c.paid_amount == 0
            assert c.state != "paid" or c.paid_amount > 0
            assert c.state != "closed" or c.closed_at is not None
            assert (c.first_estimate is None) == (c.current_estimate is None)
        closed = [c for c in cases if c.state == "closed"]
        paid = [c for c in closed if c.paid_amount > 0]
        assert any(c.paid_amount <= 10000 for c in paid) and any(c.paid_amount > 10000 for c in paid)
        assert any(c.first_estimate != c.paid_amount for c in paid)
        assert any(c.zero_closed for c in closed)
        assert any(c.zero_closed and c.reopen_count and c.business_line == "motor" for c in cases)
        cycles = [(c.closed_at - c.report_time).days for c in paid if c.paid_amount <= 10000]
        assert min(cycles) < 5 and max(cycles) > 15  # small claims paid in days and the long way
        forced = [c.forced_registration for c in cases]
        assert 0.01 < sum(forced) / len(forced) < 0.08
        stale = [c for c in cases if c.state != "closed" and c.report_time < now - timedelta(days=180)]
        assert {c.branch_id for c in stale} == set(branches)

        executive = load_actor(session, org.person("executive"))
        bands: set[Decimal] = set()
        for kind in ("month", "quarter", "year"):
            cards = scorecards(session, executive, kind, period_start(kind, today))
            assert {c.branch_id for c in cards} == set(branches), kind
            assert sorted(c.rank for c in cards) == [1, 2, 3, 4], kind
            assert len({c.total for c in cards}) == 4, kind
            assert max(c.total for c in cards) - min(c.total for c in cards) > 15, kind
            for card in cards:
                values = {r.rule.key: r.value for r in card.indicators}
                assert [k for k in COMPUTED if values[k] is None] == [], (kind, card.branch)
                assert all(r.value is not None for r in card.indicators if r.rule.source == "entered"), card.branch
                loss = next(r for r in card.indicators if r.rule.key == "loss_ratio")
                bands.add(loss.score * LOSS_RATIO_FULL_POINTS / 100)
                assert Decimal(50) < loss.value < Decimal(75) and Decimal(58) <= loss.budget_pct <= Decimal(65)
        assert bands == {Decimal(18), Decimal(15), Decimal(10), Decimal(0)}

        # HQ's figures for every branch: the last 12 months, 4 quarters, this year and last.
        wanted = {("month", m) for m in previous_periods("month", period_start("month", today), 12)}
        wanted |= {("quarter", q) for q in previous_periods("quarter", period_start("quarter", today), 4)}
        wanted |= {("year", y) for y in previous_periods("year", period_start("year", today), 2)}
        rows = session.scalars(select(BranchFinancials)).all()
        assert {(r.branch_id, r.period_kind, r.period_start) for r in rows} == {
            (b, kind, start) for b in branches for kind, start in wanted}
        for row in rows:
            assert loss_ratio_of(row) is not None and row.entered_at <= now
            assert row.anti_fraud_score is not None and row.parts_selection_pct is not None
        year_premium = {r.branch_id: r.premium for r in rows
                        if r.period_kind == "year" and r.period_start.year == today.year - 1}
        assert all(Decimal(10**8) < p < Decimal(2 * 10**9) for p in year_premium.values())
        # A quarter's figures are its months'.
        quarter = previous_periods("quarter", period_start("quarter", today), 2)[0]
        for b in branches:
            months = session.scalar(select(func.sum(BranchFinancials.premium)).where(
                BranchFinancials.branch_id == b, BranchFinancials.period_kind == "month",
                BranchFinancials.period_start >= quarter,
                BranchFinancials.period_start < period_end("quarter", quarter)))
            whole = next(r.premium for r in rows if (r.branch_id, r.period_kind, r.period_start) == (b, "quarter", quarter))
            assert abs(months - whole) < Decimal(1)

        # The drill-downs read the same data.
        quarter_start = period_start("quarter", today)
        worst = max(branches, key=lambda b: habits_of(branches[b]).stale)
        total, behind = cases_behind(session, executive, "quarter", quarter_start, worst, "stale_pending_rate")
        assert total >= 1 and all(r.closed_at is None for r in behind)
        trend = indicator_trend(session, executive, "quarter", quarter_start, worst, "reserve_adequacy", periods=4)
        assert trend[-1].value is not None
    print(f"demo scorecard ({CASES} cases): {elapsed:.1f} s")
    assert elapsed < 60, f"the demo book took {elapsed:.1f} s"

