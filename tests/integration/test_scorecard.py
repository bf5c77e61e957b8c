"""The quality scorecard on a hand-made set of cases (issue 21; docs/DOMAIN.md §9): every computed
indicator against its hand-computed value, the entered figures and the loss ratio, the card's
points and ranking, the cases behind an indicator, who sees which branch, stale saves."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from dashboard.services.cases.state import advance_state
from dashboard.services.errors import PermissionDenied, StaleWrite, UserError, ValidationFailed
from dashboard.services.scorecard.card import (
    financials, indicator_trend, save_financials, save_weights, scorecards, weight_versions,
)
from dashboard.services.scorecard.computed import cases_behind, computed_values
from db.models import ClaimCase
from tests.factories import make_case

SH = ZoneInfo("Asia/Shanghai")
NOV = date(2026, 11, 1)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SH)


def _case(session, org, sub: str, reported: datetime, **values) -> ClaimCase:
    return make_case(session, org, sub, report_time=reported, accident_time=reported - timedelta(hours=1), **values)


@pytest.fixture
def cases(session, org):
    """Nine cases of 广东 (and one of 浙江) whose figures for November 2026 are computed by hand below."""
    made = {
        "A": _case(session, org, "gz", at(11, 2), state="closed", closed_at=at(11, 12), paid_amount=D(8000),
                   first_estimate=D(10000), first_estimated_at=at(11, 3), current_estimate=D(9000)),
        "B": _case(session, org, "gz", at(11, 5), state="closed", closed_at=at(11, 25), paid_amount=D(20000),
                   first_estimate=D(15000), first_estimated_at=at(11, 6), current_estimate=D(24000)),
        "C": _case(session, org, "sz", at(10, 20), business_line="property", plate_no=None, state="closed",
                   closed_at=at(11, 10), paid_amount=D(5000), first_estimate=D(5000), first_estimated_at=at(10, 21),
                   current_estimate=D(5000)),
        "D": _case(session, org, "gz", at(11, 8), state="reopened", closed_at=None, paid_amount=D(0), zero_closed=True,
                   reopen_count=1, current_estimate=D(2000)),
        "E": _case(session, org, "gz", at(11, 10), state="closed", closed_at=at(11, 11), paid_amount=D(0),
                   zero_closed=True, current_estimate=D(0)),
        "F": _case(session, org, "fs", at(4, 1), state="investigating", current_estimate=D(50000)),
        "G": _case(session, org, "gz", at(11, 15), state="investigating", current_estimate=D(30000),
                   forced_registration=True),
        "H": _case(session, org, "gz", at(2, 1), business_line="property", state="closed", closed_at=at(3, 1),
                   paid_amount=D(7000), current_estimate=D(7000)),
        "zj": _case(session, org, "hz", at(11, 3), state="closed", closed_at=at(11, 4), paid_amount=D(3000),
                    first_estimate=D(30000), current_estimate=D(3000)),
    }
    return made


def _close(a: D | None, b: str) -> bool:
    return a is not None and abs(a - D(b)) < D("0.0001")


def test_every_computed_indicator_against_its_hand_computed_value(session, org, actor_for, cases):
    values = computed_values(session, actor_for("executive"), "month", NOV)[org.branch("gd").id]
    expected = {
        "reserve_adequacy": "115.151515",          # (9000 + 24000 + 5000) / (8000 + 20000 + 5000)
        "first_estimate_deviation": "21.212121",   # (2000 + 5000 + 0) / 33000
        "motor_avg_paid_over_10k": "20000",        # B
        "stale_pending_rate": "33.333333",         # F of D, F, G pending on 1 December
        "forced_registration_rate": "20",          # G of A, B, D, E, G reported in November
        "motor_zero_reopen_rate": "50",            # D of D, E closed without payment
        "small_cycle_days": "15.5",                # A 10 days, C 21 days
        "motor_small_transfer_days": "9",          # A: first estimate 3 Nov → closed 12 Nov
        "handling_rate": "57.142857",              # 4 closed / (2 pending on 1 Nov + 5 reported)
        "count_closure_rate": "62.5",              # A, B, C, E, H of the 8 reported this year
        "amount_closure_rate": "32.786885",        # 40000 paid / (40000 + 2000 + 50000 + 30000)
    }
    assert set(values) == set(expected)
    wrong = {k: (values[k], v) for k, v in expected.items() if not _close(values[k], v)}
    assert wrong == {}
    other = computed_values(session, actor_for("executive"), "month", NOV)[org.branch("zj").id]
    assert _close(other["first_estimate_deviation"], "900")  # |30000 − 3000| / 3000: 浙江's own case only


def test_a_month_with_nothing_to_measure_says_so_rather_than_zero(session, org, actor_for, cases):
    assert org.branch("gd").id not in computed_values(session, actor_for("executive"), "month", date(2026, 1, 1))
    card = next(c for c in scorecards(session, actor_for("executive"), "month", date(2026, 1, 1))
                if c.branch_id == org.branch("gd").id)
    empty = {r.rule.key: (r.value, r.score, r.points) for r in card.indicators}
    assert empty["reserve_adequacy"] == (None, None, 0) and empty["small_cycle_days"] == (None, None, 0)
    assert card.missing == 16 and card.total == 0


def test_the_card_scores_weighs_and_ranks_with_the_entered_figures(session, org, actor_for, cases):
    admin = actor_for("admin")
    gd, zj = org.branch("gd").id, org.branch("zj").id
    figures = dict(premium="2000", ceded="300", assumed="100", unearned_change="-200", paid="800",
                   reserve_change="100", reinsurance_paid="50", reinsurance_recovered="30", subrogation="20",
                   loss_ratio_budget_pct="60", indirect_expense_pct="95", anti_fraud_score="80",
                   cross_region_score="100", parts_selection_pct="72.5")
    save_financials(session, admin, "month", NOV, gd, figures, expected_version=0)
    cards = {c.branch_id: c for c in scorecards(session, admin, "month", NOV)}
    card = cards[gd]
    by_key = {r.rule.key: r for r in card.indicators}
    assert by_key["loss_ratio"].value == D("56.25") and by_key["loss_ratio"].points == D(18)  # 3.75 better
    assert by_key["indirect_expense"].points == D(10)  # 95 % of budget: within it
    assert by_key["anti_fraud"].points == D(4) and by_key["parts_selection_rate"].points == D("2.5")
    assert by_key["reserve_adequacy"].score is not None and card.missing == 0
    assert card.total == sum(r.points for r in card.indicators) == sum(card.groups.values())
    # 浙江: nothing entered (5 indicators) and one case, which measures neither a motor payment above
    # 10,000, a pending case, a zero closure nor a first-estimate time (4 more): nine earn nothing.
    assert cards[zj].missing == 9
    assert card.rank == 1 and cards[zj].rank > 1
    # A branch reads its own card only.
    assert [c.branch_id for c in scorecards(session, actor_for("gd_manager"), "month", NOV)] == [gd]
    with pytest.raises(PermissionDenied):
        save_financials(session, actor_for("gd_manager"), "month", NOV, gd, figures, expected_version=1)


def test_entered_figures_are_validated_whole_and_a_stale_save_is_refused(session, org, actor_for):
    admin = actor_for("admin")
    gd = org.branch("gd").id
    with pytest.raises(ValidationFailed) as refused:
        save_financials(session, admin, "month", NOV, gd, {"premium": "1e6", "ceded": "-5", "reserve_change": "-120",
                                                            "parts_selection_pct": "5000"}, expected_version=0)
    assert {e.field for e in refused.value.errors} == {"scorecard.premium", "scorecard.ceded",
                                                         "scorecard.parts_selection_pct"}
    assert financials(session, admin, "month", NOV, gd) is None
    saved = save_financials(session, admin, "month", NOV, gd, {"reserve_change": "-120"}, expected_version=0)
    assert saved.reserve_change == D(-120)
    with pytest.raises(StaleWrite):
        save_financials(session, admin, "month", NOV, gd, {"premium": "100"}, expected_version=0)
    with pytest.raises(UserError):
        save_financials(session, admin, "month", date(2026, 11, 15), gd, {}, expected_version=1)


def test_the_cases_behind_an_indicator_and_its_trend(session, org, actor_for, cases):
    executive = actor_for("executive")
    gd = org.branch("gd").id
    total, rows = cases_behind(session, executive, "month", NOV, gd, "stale_pending_rate")
    assert (total, [r.case_no for r in rows]) == (1, [cases["F"].case_no])
    total, rows = cases_behind(session, executive, "month", NOV, gd, "small_cycle_days")
    assert [r.case_no for r in rows] == [cases["C"].case_no, cases["A"].case_no]  # the slowest first
    assert _close(rows[0].measure, "21")
    total, _ = cases_behind(session, actor_for("zj_manager"), "month", NOV, gd, "small_cycle_days")
    assert total == 0  # another branch's cases are not listed
    trend = indicator_trend(session, executive, "month", NOV, gd, "forced_registration_rate", periods=3)
    assert [p.period for p in trend] == [date(2026, 9, 1), date(2026, 10, 1), NOV]
    assert trend[-1].value == 20 and trend[0].value is None


def test_the_stale_cases_behind_open_on_the_longest_open(session, org, actor_for, cases):
    executive, gd = actor_for("executive"), org.branch("gd").id
    older = [_case(session, org, sub, reported, state="investigating")
             for sub, reported in (("sz", at(5, 3)), ("gz", at(2, 9)), ("gz", at(3, 30)))]
    total, rows = cases_behind(session, executive, "month", NOV, gd, "stale_pending_rate", limit=3)
    assert total == 4
    assert [r.case_no for r in rows] == [older[1].case_no, older[2].case_no, cases["F"].case_no]
    assert rows[0].measure > rows[1].measure > rows[2].measure  # days open at the period's end
    _, rest = cases_behind(session, executive, "month", NOV, gd, "stale_pending_rate", limit=3, offset=3, total=4)
    assert [r.case_no for r in rest] == [older[0].case_no]


def test_paying_and_closing_records_what_the_scorecard_reads(session, org, actor_for):
    manager = actor_for("gd_manager")
    case = _case(session, org, "gz", at(11, 2), state="approved", current_estimate=D(9000))
    with pytest.raises(ValidationFailed) as refused:
        advance_state(session, manager, case.id, "paid", case.version, paid_amount="0")
    assert refused.value.errors[0].key == "detail.state.paid_positive"
    paid = advance_state(session, manager, case.id, "paid", case.version, paid_amount="8,500")
    closed = advance_state(session, manager, case.id, "closed", paid.version)
    assert (closed.paid_amount, closed.zero_closed) == (D(8500), False)
    zero = _case(session, org, "gz", at(11, 2), state="assessed", current_estimate=D(3000))
    closed = advance_state(session, manager, zero.id, "closed", zero.version)
    reopened = advance_state(session, manager, zero.id, "reopened", closed.version)
    assert (reopened.paid_amount, reopened.zero_closed, reopened.reopen_count) == (0, True, 1)


def test_weights_must_sum_to_100_and_a_stale_change_is_refused(session, org, actor_for):
    admin = actor_for("admin")
    versions = weight_versions(session, admin)
    with pytest.raises(UserError) as refused:
        save_weights(session, admin, {"loss_ratio": "20"}, expected_versions=versions)
    assert refused.value.key == "scorecard.error.weights_sum"
    save_weights(session, admin, {"loss_ratio": "20", "reserve_adequacy": "5"}, expected_versions=versions)
    with pytest.raises(StaleWrite):
        save_weights(session, admin, {"loss_ratio": "15", "reserve_adequacy": "10"}, expected_versions=versions)


def test_new_weights_score_the_card_at_once_though_the_rules_are_kept(session, org, actor_for, cases):
    """The rules are kept for a minute (reference.remembered); the save forgets them on this server."""
    admin = actor_for("admin")
    gd = org.branch("gd").id

    def weight(key: str) -> D:
        card = next(c for c in scorecards(session, admin, "month", NOV) if c.branch_id == gd)
        return next(r.rule.weight_pct for r in card.indicators if r.rule.key == key)

    assert (weight("loss_ratio"), weight("reserve_adequacy")) == (D(15), D(10))  # read, and now kept
    save_weights(session, admin, {"loss_ratio": "20", "reserve_adequacy": "5"},
                 expected_versions=weight_versions(session, admin))
    assert (weight("loss_ratio"), weight("reserve_adequacy")) == (D(20), D(5))


def test_an_entered_indicator_s_trend_reads_each_period_s_figures(session, org, actor_for):
    admin = actor_for("admin")
    gd = org.branch("gd").id
    save_financials(session, admin, "month", date(2026, 9, 1), gd, {"anti_fraud_score": "60"}, expected_version=0)
    save_financials(session, admin, "month", NOV, gd, {"anti_fraud_score": "80"}, expected_version=0)
    trend = indicator_trend(session, admin, "month", NOV, gd, "anti_fraud", periods=3)
    assert [(p.period, p.value) for p in trend] == [
        (date(2026, 9, 1), D(60)), (date(2026, 10, 1), None), (NOV, D(80))]
    # Another branch's figures are not its own.
    zj = org.branch("zj").id
    assert [p.value for p in indicator_trend(session, admin, "month", NOV, zj, "anti_fraud", periods=3)] == [None] * 3

