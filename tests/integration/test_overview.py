"""Executive overview figures on a small hand-made data set whose answers are computed by hand."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from dashboard.services.errors import PermissionDenied, ValidationFailed
from dashboard.services.figures.overview import (
    OverviewFilter, colour_share_by_unit, headline_figures, on_time_by_unit, overview_cases, pending_ageing,
    pending_by_unit_and_tier, violations_by_week,
)
from dashboard.settings import BUSINESS_TZ
from db.models import Deadline, Dispatch, Person, Estimate, Opinion, OpinionPoint, PointAnswer, PointVerdict, Violation
from tests.factories import make_case

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)  # 12:00 Asia/Shanghai
H = timedelta(hours=1)
D = timedelta(days=1)
PERIOD = dict(report_from=(NOW - 60 * D).astimezone(BUSINESS_TZ).date(), report_to=NOW.astimezone(BUSINESS_TZ).date())


class Data:
    """Cases: A gz T1 pending, B sz T2 pending, C gz T3 closed, D hz T1 pending, E hz T0, F gz T1 out of period."""


def _case(session, org, sub, tier, state, amount, age):
    return make_case(session, org, sub, tier=tier, state=state, current_estimate=Decimal(amount),
                     report_time=NOW - age, accident_time=NOW - age - H,
                     tiered_at=None if tier == "T0" else NOW - age + H,
                     closed_at=NOW - D if state == "closed" else None, commit=False)


def _deadline(session, case, kind, due, met=None, person=None, branch_id=None):
    d = Deadline(case_id=case.id if case else None, branch_id=case.branch_id if case else branch_id, kind=kind,
                 subject_key=f"test:{kind}:{case.id if case else 'branch'}:{due.isoformat()}",
                 responsible_person_id=person, started_at=due - 24 * H, due_at=due, met_at=met)
    session.add(d)
    session.flush()
    return d


@pytest.fixture
def data(session, org):
    cc = org.person("callcenter")
    x = Data()
    x.A = _case(session, org, "gz", "T1", "dispatched", "80000", 10 * D)
    x.B = _case(session, org, "sz", "T2", "investigating", "200000", 40 * D)
    x.C = _case(session, org, "gz", "T3", "closed", "600000", 20 * D)
    x.D = _case(session, org, "hz", "T1", "dispatched", "100000", 5 * D)
    x.E = _case(session, org, "hz", "T0", "surveyed", "10000", 3 * D)
    x.F = _case(session, org, "gz", "T1", "dispatched", "90000", 200 * D)
    # The estimate that made each case tiered, and the first dispatch after it.
    for case, estimate_after, dispatch_after in ((x.A, H, 1.5 * H), (x.B, 2 * H, 4 * H), (x.C, 0 * H, H / 6),
                                                 (x.D, 0 * H, None)):
        session.add(Estimate(case_id=case.id, amount=case.current_estimate, tier_before="T0", tier_after=case.tier,
                             recorded_at=case.report_time + estimate_after, recorded_by=cc))
        if dispatch_after is not None:
            session.add(Dispatch(case_id=case.id, tier=case.tier, position="sub_claims_head", reason="initial",
                                 person_id=org.person(f"{'gz' if case.branch_id == org.branch('gd').id else 'hz'}_claims"),
                                 dispatched_at=case.report_time + dispatch_after))
    # A later, lower estimate must not change which estimate made the tier.
    session.add(Estimate(case_id=x.A.id, amount=Decimal("70000"), tier_before="T1", tier_after="T1",
                         recorded_at=x.A.report_time + 50 * H, recorded_by=cc))
    gm = org.person("gd_manager")
    _deadline(session, x.A, "D2", x.A.report_time + 25 * H, met=x.A.report_time + 20 * H)
    a_d3 = _deadline(session, x.A, "D3", x.A.report_time + 73 * H)  # never met: decided, late
    b_d2 = _deadline(session, x.B, "D2", x.B.report_time + 28 * H, met=x.B.report_time + 30 * H)  # met late
    _deadline(session, x.B, "D3", x.B.report_time + 76 * H, met=x.B.report_time + 70 * H)
    _deadline(session, x.C, "D2", x.C.report_time + 24 * H, met=x.C.report_time + 2 * H)
    _deadline(session, x.D, "D2", NOW + 5 * H)  # not yet due: not counted
    weekly = _deadline(session, None, "D6", NOW - 3 * D, branch_id=org.branch("gd").id)
    session.add_all([
        Violation(deadline_id=a_d3.id, person_id=gm, case_id=x.A.id, branch_id=x.A.branch_id, kind="D3",
                  due_at=a_d3.due_at, found_at=NOW - D),
        Violation(deadline_id=b_d2.id, person_id=gm, case_id=x.B.id, branch_id=x.B.branch_id, kind="D2",
                  due_at=b_d2.due_at, found_at=NOW - 30 * D),
        Violation(deadline_id=weekly.id, person_id=org.person("gd_tracker"), case_id=None,
                  branch_id=org.branch("gd").id, kind="D6", due_at=weekly.due_at, found_at=NOW - 3 * D),
    ])
    # HQ review of A: p1 open, p2 answered in 10 h, p3 answered in 30 h then again 4 h after the
    # send-back, p4 answered in 20 h then sent back (open again). Average answer time = 64 / 4 = 16 h.
    posted = x.A.report_time + 30 * H
    opinion = Opinion(case_id=x.A.id, branch_id=x.A.branch_id, kind="hq_review", author_id=org.person("reviewer"),
                      posted_at=posted)
    session.add(opinion)
    session.flush()
    points = {seq: OpinionPoint(opinion_id=opinion.id, seq=seq, body=f"要点{seq}", status=status)
              for seq, status in ((1, "open"), (2, "accepted"), (3, "answered"), (4, "sent_back"))}
    session.add_all(points.values())
    session.flush()

    def answer(seq, hours):
        a = PointAnswer(point_id=points[seq].id, author_id=gm, body=f"答复{seq}", answered_at=posted + hours * H)
        session.add(a)
        session.flush()
        return a

    answer(2, 10)
    first = answer(3, 30)
    session.add(PointVerdict(point_id=points[3].id, answer_id=first.id, verdict="sent_back", reason="不清楚",
                             decided_by=org.person("reviewer"), decided_at=posted + 40 * H))
    session.flush()  # the send-back is written before the answer to it, as in the review loop
    answer(3, 44)
    p4 = answer(4, 20)
    session.add(PointVerdict(point_id=points[4].id, answer_id=p4.id, verdict="sent_back", reason="不完整",
                             decided_by=org.person("reviewer"), decided_at=posted + 22 * H))
    # A supervision opinion's open point is not an HQ review point.
    sup = Opinion(case_id=x.B.id, branch_id=x.B.branch_id, kind="supervision", author_id=org.person("supervisor"),
                  posted_at=NOW - 2 * D)
    session.add(sup)
    session.flush()
    session.add(OpinionPoint(opinion_id=sup.id, seq=1, body="督导", status="open"))
    session.commit()
    return x


def test_headline_figures_for_the_period_equal_the_hand_computed_values(session, org, actor_for, data):
    f = headline_figures(session, actor_for("executive"), OverviewFilter(**PERIOD), now=NOW)
    assert (f.tiered_reported, f.pending, f.closed) == (4, 3, 1)  # A B C D; E untiered; F before the period
    assert f.pending_amount == Decimal("380000.00")  # A 80,000 + B 200,000 + D 100,000
    assert (f.dispatched_within.numerator, f.dispatched_within.denominator) == (2, 4)  # A 30 min, C 10 min
    assert (f.d2_on_time.numerator, f.d2_on_time.denominator) == (2, 3)  # A, C on time; B late; D not due
    assert (f.d3_on_time.numerator, f.d3_on_time.denominator) == (1, 2)  # B on time; A never met
    assert f.open_review_points == 2
    assert f.avg_answer_hours == pytest.approx(16.0)
    assert f.violations_by_type == {"D2": 1, "D3": 1, "D6": 1}


def test_without_a_period_every_tiered_case_counts(session, org, actor_for, data):
    f = headline_figures(session, actor_for("admin"), OverviewFilter(), now=NOW)
    assert (f.tiered_reported, f.pending) == (5, 4)


def test_choosing_a_branch_narrows_every_figure_to_it(session, org, actor_for, data):
    gd = OverviewFilter(**PERIOD, branch_id=org.branch("gd").id)
    f = headline_figures(session, actor_for("executive"), gd, now=NOW)
    assert (f.tiered_reported, f.pending, f.closed, f.pending_amount) == (3, 2, 1, Decimal("280000.00"))
    assert (f.dispatched_within.numerator, f.dispatched_within.denominator) == (2, 3)
    assert f.violations_by_type == {"D2": 1, "D3": 1, "D6": 1}  # the branch's weekly summary counts here
    zj = headline_figures(session, actor_for("executive"), OverviewFilter(**PERIOD, branch_id=org.branch("zj").id),
                          now=NOW)
    assert (zj.tiered_reported, zj.pending, zj.dispatched_within.numerator, zj.dispatched_within.denominator) \
        == (1, 1, 0, 1)
    assert zj.violations_by_type == {} and zj.open_review_points == 0 and zj.avg_answer_hours is None


def test_then_a_sub_branch_narrows_further_and_leaves_out_branch_level_violations(session, org, actor_for, data):
    gz = OverviewFilter(**PERIOD, branch_id=org.branch("gd").id, sub_branch_id=org.sub_branch("gz").id)
    f = headline_figures(session, actor_for("executive"), gz, now=NOW)
    assert (f.tiered_reported, f.pending, f.closed) == (2, 1, 1)  # A, C
    assert f.violations_by_type == {"D3": 1}
    assert (f.d2_on_time.numerator, f.d2_on_time.denominator) == (2, 2)


def test_tier_filter_keeps_only_that_tier(session, org, actor_for, data):
    f = headline_figures(session, actor_for("executive"), OverviewFilter(**PERIOD, tier="T1"), now=NOW)
    assert (f.tiered_reported, f.pending) == (2, 2)  # A, D
    assert f.violations_by_type == {"D3": 1}


def test_pending_by_branch_then_by_sub_branch(session, org, actor_for, data):
    ex = actor_for("executive")
    top = {(r["unit"], r["tier"]): r["cases"] for r in pending_by_unit_and_tier(session, ex, OverviewFilter(**PERIOD))}
    assert top == {("广东分公司", "T1"): 1, ("广东分公司", "T2"): 1, ("浙江分公司", "T1"): 1}
    drilled = pending_by_unit_and_tier(session, ex, OverviewFilter(**PERIOD, branch_id=org.branch("gd").id))
    assert {(r["unit"], r["tier"]): r["cases"] for r in drilled} == {("广州中心支公司", "T1"): 1,
                                                                      ("深圳中心支公司", "T2"): 1}


def test_on_time_ranking_and_ageing_buckets(session, org, actor_for, data):
    ex = actor_for("executive")
    ranking = on_time_by_unit(session, ex, OverviewFilter(**PERIOD), now=NOW)
    assert [(r["unit"], r["on_time"], r["decided"]) for r in ranking] == [("广东分公司", 3, 5), ("浙江分公司", 0, 0)]
    assert ranking[0]["rate"] == pytest.approx(0.6) and ranking[1]["rate"] is None
    ageing = {r["bucket"]: r["cases"] for r in pending_ageing(session, ex, OverviewFilter(**PERIOD), now=NOW)}
    assert ageing == {"d0_7": 1, "d8_30": 1, "d31_90": 1, "d91_180": 0, "d181_plus": 0}


def test_red_yellow_blue_per_unit_counts_the_coloured_cases_of_the_period_with_the_other_figures(
        session, org, actor_for, data):
    """The colour share comes from the same filtered cases as every other figure (one statement):
    coloured tiered cases of the period, per branch, then per sub-branch once a branch is chosen."""
    for case, colour in ((data.A, "red"), (data.B, "blue"), (data.C, "blue"), (data.D, "yellow"),
                         (data.E, "red"), (data.F, "red")):  # E untiered, F before the period: not counted
        case.risk_colour = colour
    session.flush()
    ex = actor_for("executive")
    share = {(r["unit"], r["colour"]): (r["cases"], r["share"])
             for r in colour_share_by_unit(session, ex, OverviewFilter(**PERIOD))}
    assert share == {("广东分公司", "blue"): (2, pytest.approx(2 / 3)), ("广东分公司", "red"): (1, pytest.approx(1 / 3)),
                     ("浙江分公司", "yellow"): (1, 1.0)}
    drilled = colour_share_by_unit(session, ex, OverviewFilter(**PERIOD, branch_id=org.branch("gd").id))
    assert [(r["unit"], r["colour"], r["cases"]) for r in drilled] == [
        ("广州中心支公司", "blue", 1), ("广州中心支公司", "red", 1), ("深圳中心支公司", "blue", 1)]
    assert colour_share_by_unit(session, ex, OverviewFilter(**PERIOD, tier="T2")) == [
        {"unit_id": org.branch("gd").id, "unit": "广东分公司", "colour": "blue", "cases": 1, "share": 1.0}]


def test_violations_trend_groups_by_monday_of_the_week_the_deadline_was_missed(session, org, actor_for, data):
    rows = violations_by_week(session, actor_for("executive"), OverviewFilter(**PERIOD))
    # Due times, Asia/Shanghai: B's D2 Mon 10-12 16:00 (week of 10-12), A's D3 Fri 11-13 13:00
    # (week of 11-09), the weekly summary Tue 11-17 12:00 (week of 11-16) — whenever the job found them.
    assert [(str(r["week"]), r["kind"], r["violations"]) for r in rows] == [
        ("2026-10-12", "D2", 1), ("2026-11-09", "D3", 1), ("2026-11-16", "D6", 1)]


SCOPES = ["national", "gd", "gz", "zj", "tier_T1", "no_period"]


def scope_filter(org, scope: str) -> OverviewFilter:
    return {
        "national": OverviewFilter(**PERIOD), "gd": OverviewFilter(**PERIOD, branch_id=org.branch("gd").id),
        "gz": OverviewFilter(**PERIOD, sub_branch_id=org.sub_branch("gz").id),
        "zj": OverviewFilter(**PERIOD, branch_id=org.branch("zj").id),
        "tier_T1": OverviewFilter(**PERIOD, tier="T1"), "no_period": OverviewFilter(),
    }[scope]


@pytest.mark.parametrize("scope", SCOPES)
def test_the_case_list_agrees_with_the_figures(session, org, actor_for, data, scope):
    ex = actor_for("executive")
    flt = scope_filter(org, scope)
    f = headline_figures(session, ex, flt, now=NOW)
    # The page takes the list's count from the headline (cases_with_status): it must be the list's own count.
    for status in ("pending", "closed", "all"):
        assert overview_cases(session, ex, flt, status=status, limit=0) == (f.cases_with_status(status), [])
    total, rows = overview_cases(session, ex, flt, status="pending", limit=1000)
    assert total == len(rows) == f.pending
    assert overview_cases(session, ex, flt, status="pending", limit=1000, total=total) == (total, rows)
    assert sum((r["estimate"] for r in rows), Decimal(0)) == f.pending_amount
    by_unit = pending_by_unit_and_tier(session, ex, flt)
    assert sum(r["cases"] for r in by_unit) == f.pending
    assert sum((r["amount"] for r in by_unit), Decimal(0)) == f.pending_amount
    ageing = pending_ageing(session, ex, flt, now=NOW)
    assert sum(r["cases"] for r in ageing) == f.pending
    assert sum((r["amount"] for r in ageing), Decimal(0)) == f.pending_amount


def test_ageing_buckets_end_on_whole_days_and_amounts_keep_their_cents(session, org, actor_for):
    """A case reported exactly 7 days ago is still in 0-7 days, one a second older is in 8-30; the
    amounts (read through JSON) add up to the cent."""
    for age, amount in ((7 * D, "100000.01"), (7 * D + timedelta(seconds=1), "100000.02"), (30 * D, "0.07")):
        make_case(session, org, "gz", tier="T1", state="dispatched", current_estimate=Decimal(amount),
                  report_time=NOW - age, accident_time=NOW - age - H, tiered_at=NOW - age + H)
    ex = actor_for("executive")
    ageing = {r["bucket"]: (r["cases"], r["amount"]) for r in pending_ageing(session, ex, OverviewFilter(), now=NOW)}
    assert ageing["d0_7"] == (1, Decimal("100000.01"))
    assert ageing["d8_30"] == (2, Decimal("100000.09"))
    by_unit = pending_by_unit_and_tier(session, ex, OverviewFilter())
    assert [(r["unit"], r["tier"], r["cases"], r["amount"]) for r in by_unit] == \
        [("广东分公司", "T1", 3, Decimal("200000.10"))]


def test_case_list_is_paginated_pending_first_newest_first(session, org, actor_for, data):
    ex = actor_for("executive")
    total, first = overview_cases(session, ex, OverviewFilter(**PERIOD), status="all", limit=2, offset=0)
    _, second = overview_cases(session, ex, OverviewFilter(**PERIOD), status="all", limit=2, offset=2)
    assert total == 4
    assert [r["case_no"] for r in first + second] == [data.D.case_no, data.A.case_no, data.B.case_no,
                                                      data.C.case_no]


@pytest.mark.parametrize("username", ["gd_manager", "gd_tracker", "supervisor", "gz_claims", "callcenter"])
def test_branch_and_other_non_hq_people_are_refused_by_the_service(session, org, actor_for, data, username):
    person = actor_for(username)
    gd = OverviewFilter(branch_id=org.branch("gd").id)
    for call in (lambda: headline_figures(session, person, gd), lambda: overview_cases(session, person, gd),
                 lambda: pending_by_unit_and_tier(session, person, gd), lambda: violations_by_week(session, person, gd),
                 lambda: on_time_by_unit(session, person, gd), lambda: pending_ageing(session, person, gd)):
        with pytest.raises(PermissionDenied):
            call()


def test_a_period_that_ends_before_it_starts_is_refused(session, org, actor_for, data):
    bad = OverviewFilter(report_from=PERIOD["report_to"], report_to=PERIOD["report_from"])
    with pytest.raises(ValidationFailed) as err:
        headline_figures(session, actor_for("executive"), bad)
    assert err.value.errors[0].field == "report_to"


def test_the_tier_filter_offers_sub_tiers_only_once_they_were_approved(session, org, actor_for):
    """A branch's sub-tier request that awaits approval (or was rejected) never tiered a case:
    offering its codes made the cockpit's filter empty every figure."""
    from dashboard.services.figures.overview import overview_tiers
    from dashboard.rules.tier_bands import BandInput
    from dashboard.services.admin.tier_admin import decide_branch_request, request_branch_subtiers

    split = [BandInput("T1A", "50000", "80000", ["sub_claims_head"]),
             BandInput("T1B", "80000", "200000", ["sub_head"]),
             BandInput("T2", "200000", "500000", ["sub_head", "sub_finance_head"])]
    request = request_branch_subtiers(session, actor_for("zj_manager"), org.branch("zj").id, split, now=NOW,
                                      note="浙江分公司申请细分")
    executive = actor_for("executive")
    assert overview_tiers(session, executive) == ["T1", "T2", "T3", "T4"]
    decide_branch_request(session, actor_for("admin"), request, approve=True, now=NOW, note="同意")
    assert {"T1A", "T1B"} <= set(overview_tiers(session, executive))
    # The overdue tracker offers the same tiers (it was a fixed T1-T4 list).
    from dashboard.services.clocks.overdue import tier_codes

    assert list(tier_codes(session)) == overview_tiers(session, executive)


# ---------------------------------------------------------------- the list behind every figure (issue 26)


def _drills(figures):
    """Every list the page offers for these figures: each figure, violation row, ageing and ranking bar."""
    from dashboard.services.figures.overview import Drill

    yield from (Drill(f) for f in ("dispatch", "d2", "d3", "open_points", "avg_answer"))
    yield from (Drill("violations", kind) for kind in figures.headline.violations_by_type)
    yield from (Drill("ageing", r["bucket"]) for r in figures.ageing)
    yield from (Drill("unit", r["unit_id"]) for r in figures.on_time_by_unit)


@pytest.mark.parametrize("scope", SCOPES)
def test_every_figure_row_and_bar_lists_as_many_rows_as_it_counts(session, org, actor_for, data, scope):
    from dashboard.services.figures.overview import drill_figure_count, overview_drill_rows, overview_figures

    ex = actor_for("executive")
    flt = scope_filter(org, scope)
    figures = overview_figures(session, ex, flt, now=NOW)
    drills = list(_drills(figures))
    assert len(drills) >= 10
    for drill in drills:
        total, rows = overview_drill_rows(session, ex, flt, drill, limit=1000, now=NOW)
        assert total == len(rows) == drill_figure_count(figures, drill), drill
        if drill.item == "clock" or drill.figure == "dispatch":
            on_time = sum(1 for r in rows if r["on_time"])
            share = {"dispatch": figures.headline.dispatched_within, "d2": figures.headline.d2_on_time,
                     "d3": figures.headline.d3_on_time}.get(drill.figure)
            if share is not None:
                assert on_time == share.numerator, drill


def test_the_lists_hold_the_hand_computed_rows(session, org, actor_for, data):
    from dashboard.services.figures.overview import Drill, overview_drill_rows

    ex, flt = actor_for("executive"), OverviewFilter(**PERIOD)

    def rows(figure, value=None):
        return overview_drill_rows(session, ex, flt, Drill(figure, value), limit=100, now=NOW)[1]

    assert {(r["case_no"], r["on_time"]) for r in rows("dispatch")} == {
        (data.A.case_no, True), (data.B.case_no, False), (data.C.case_no, True), (data.D.case_no, False)}
    assert {(r["case_no"], r["on_time"]) for r in rows("d2")} == {
        (data.A.case_no, True), (data.B.case_no, False), (data.C.case_no, True)}
    assert {(r["case_no"], r["item"], r["on_time"]) for r in rows("d3")} == {
        (data.A.case_no, "D3", False), (data.B.case_no, "D3", True)}
    assert [r["case_no"] for r in rows("ageing", "d0_7")] == [data.D.case_no]
    assert [r["case_no"] for r in rows("ageing", "d31_90")] == [data.B.case_no]
    assert rows("ageing", "d91_180") == []
    # The weekly summary's violation belongs to no case: listed with the branch, no case number.
    d6 = rows("violations", "D6")
    tracker = session.get(Person, org.person("gd_tracker")).full_name
    assert [(r["case_no"], r["branch"], r["person"]) for r in d6] == [(None, "广东分公司", tracker)]
    assert [r["case_no"] for r in rows("violations", "D3")] == [data.A.case_no]
    assert sorted((r["case_no"], r["item"]) for r in rows("open_points")) == [(data.A.case_no, "1"),
                                                                              (data.A.case_no, "4")]
    answered = rows("avg_answer")
    assert [(r["case_no"], r["answers"]) for r in answered] == [(data.A.case_no, 4)]
    assert float(answered[0]["answer_seconds"]) / answered[0]["answers"] / 3600 == pytest.approx(16.0)
    gd_clocks = rows("unit", org.branch("gd").id)
    assert len(gd_clocks) == 5 and sum(1 for r in gd_clocks if r["on_time"]) == 3


def test_a_list_nobody_offers_is_refused_and_branch_people_get_none(session, org, actor_for, data):
    from dashboard.services.figures.overview import Drill, overview_drill_rows

    for bad in (Drill("violations", "D9"), Drill("ageing", "d1000"), Drill("unit", "gd"), Drill("dispatch", "x"),
                Drill("everything")):
        with pytest.raises(ValidationFailed):
            overview_drill_rows(session, actor_for("executive"), OverviewFilter(), bad)
    with pytest.raises(PermissionDenied):
        overview_drill_rows(session, actor_for("gd_manager"), OverviewFilter(), Drill("d2"))


def test_a_rates_list_opens_on_what_missed_it(session, org, actor_for, data):
    """The walk: the D2 list began with its on-time clocks and buried the late ones pages deep."""
    from dashboard.services.figures.overview import Drill, overview_drill_rows

    for figure in ("dispatch", "d2", "d3"):
        rows = overview_drill_rows(session, actor_for("executive"), OverviewFilter(**PERIOD), Drill(figure),
                                   limit=100, now=NOW)[1]
        flags = [r["on_time"] for r in rows]
        assert False in flags and flags == sorted(flags), (figure, flags)  # every late row before any on-time one


@pytest.mark.parametrize("figure", ["d2", "d3", "unit"])
def test_a_clock_list_pages_across_its_late_and_on_time_clocks(session, org, actor_for, data, figure):
    """Migration 0041: a clock list's late clocks and its on-time ones are read apart, each newest
    due first; every page size gives the same list as one page of everything, and no clock twice."""
    from dashboard.services.figures.overview import Drill, overview_drill_rows

    ex, flt = actor_for("executive"), OverviewFilter(**PERIOD)
    drill = Drill(figure, org.branch("gd").id if figure == "unit" else None)
    total, whole = overview_drill_rows(session, ex, flt, drill, limit=100, now=NOW)
    flags = [r["on_time"] for r in whole]
    assert total == len(whole) and False in flags and True in flags and flags == sorted(flags), flags
    for part in (False, True):  # within each part, newest due first
        due = [r["due_at"] for r in whole if r["on_time"] is part]
        assert due == sorted(due, reverse=True)
    seen = [(r["case_id"], r["item"], r["due_at"]) for r in whole]
    assert len(set(seen)) == len(seen)
    for size in (1, 2, 3):
        paged = [(r["case_id"], r["item"], r["due_at"]) for offset in range(0, total + size, size)
                 for r in overview_drill_rows(session, ex, flt, drill, limit=size, offset=offset, total=total,
                                              now=NOW)[1]]
        assert paged == seen, size
