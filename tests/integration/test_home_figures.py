"""Landing-page figures: counted within the person's scope, pending and tiered-pending apart."""
from __future__ import annotations

from decimal import Decimal

from dashboard.services.home import home_figures
from tests.factories import make_case


def _book(session, org) -> None:
    make_case(session, org, "gz", state="closed", tier="T1", current_estimate=Decimal("80000"))
    make_case(session, org, "gz", state="surveyed", current_estimate=Decimal("3000"))
    make_case(session, org, "gz", state="dispatched", tier="T2", current_estimate=Decimal("200000"))
    make_case(session, org, "sz", state="investigating", tier="T1", current_estimate=Decimal("60000.50"))
    make_case(session, org, "hz", state="dispatched", tier="T3", current_estimate=Decimal("700000"))


def test_national_figures_count_every_case_and_only_pending_tiered_amounts(session, org, actor_for):
    _book(session, org)
    figures = home_figures(session, actor_for("executive"))
    assert (figures.cases_visible, figures.pending, figures.pending_tiered) == (5, 4, 3)
    assert figures.pending_tiered_amount == Decimal("960000.50")


def test_branch_figures_leave_out_other_branches_cases(session, org, actor_for):
    _book(session, org)
    figures = home_figures(session, actor_for("gd_manager"))
    assert (figures.cases_visible, figures.pending, figures.pending_tiered) == (4, 3, 2)
    assert figures.pending_tiered_amount == Decimal("260000.50")
