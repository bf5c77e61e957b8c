"""The overview's kept violations by week (migration 0044), case figures by day (0045) and tallies of
tiered cases by day (0051): whatever is done to the violations, their clocks, their appeals and
their cases — violations recorded one at a time or many in one statement, clocks met, appeals
accepted and undone, cases re-tiered, moved to another branch or re-dated, closed, estimated again,
coloured, dispatched, deleted, the dispatch window changed — the kept rows equal the live grouping
of the violations, of the cases' figures and of the cases; folding and refilling change nothing;
the overview's chart, headline, pending, ageing, colour share and branch ranking read from them
equal those counted case by case; and a violation recorded while its case is being re-tiered lands
under the tier the case ends with, whichever transaction commits first."""
from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Date, and_, cast, delete, exists, func, insert, select, text, update

from dashboard.rules.risk_colour import COLOURS
from dashboard.services import reference
from dashboard.services.actor import Actor
from dashboard.services.cases.counts import (
    compact_case_figures_days, compact_case_tally_days, compact_violation_weeks,
)
from dashboard.services.figures.overview import OverviewFilter, overview_figures, violations_by_week
from db.models import (
    CaseFigures, CaseFiguresDay, CaseTallyDay, ClaimCase, Deadline, Dispatch, RuleSetting, Violation, ViolationAppeal,
    ViolationWeek,
)
from tests.factories import make_case
from tests.two_writers import second_waits_for_first

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 4, 16, 59, tzinfo=SH)
KINDS = ("D1", "D2", "D3", "D4", "D5")
TIERS = ("T0", "T1", "T2", "T3")
_subjects = itertools.count()


@pytest.fixture
def session(owner_session):
    """As the tables' owner: these tests delete violations and fold or refill the kept rows, which
    no role of the product may do (migration 0027); the rows must follow every write whoever makes it."""
    return owner_session


def _accepted():
    return exists().where(ViolationAppeal.violation_id == Violation.id, ViolationAppeal.status == "accepted")


def live(session) -> Counter:
    """The reference: violations of cases, less those with an accepted appeal, counted per report
    day, branch, tier, week (Monday, Asia/Shanghai) and type, straight from the rows."""
    c, v = ClaimCase, Violation
    key = (cast(func.timezone("Asia/Shanghai", c.report_time), Date), c.branch_id, c.tier,
           cast(func.date_trunc("week", func.timezone("Asia/Shanghai", v.due_at)), Date), v.kind)
    rows = session.execute(select(*key, func.count()).join(c, c.id == v.case_id).where(~_accepted())
                           .group_by(*key)).all()
    return Counter({tuple(r[:5]): r[5] for r in rows})


def kept(session) -> Counter:
    w = ViolationWeek
    key = (w.report_day, w.branch_id, w.tier, w.week, w.kind)
    rows = session.execute(select(*key, func.sum(w.violations)).group_by(*key)
                           .having(func.sum(w.violations) != 0)).all()
    return Counter({tuple(r[:5]): r[5] for r in rows})


def live_figures(session) -> dict:
    """The reference: the cases' own kept figures summed per report day, branch and tier."""
    c, f = ClaimCase, CaseFigures
    key = (cast(func.timezone("Asia/Shanghai", c.report_time), Date), c.branch_id, c.tier)
    columns = [func.count().filter(f.hq_answer_count > 0) if n == "answered_cases" else func.sum(getattr(f, n))
               for n in CaseFiguresDay.FIGURES]
    rows = session.execute(select(*key, *columns).join(c, c.id == f.case_id).group_by(*key)).all()
    return {tuple(r[:3]): tuple(round(x, 3) for x in r[3:]) for r in rows if any(r[3:])}


def kept_figures(session) -> dict:
    d = CaseFiguresDay
    key = (d.report_day, d.branch_id, d.tier)
    rows = session.execute(select(*key, *(func.sum(getattr(d, n)) for n in d.FIGURES)).group_by(*key)).all()
    return {tuple(r[:3]): tuple(round(x, 3) for x in r[3:]) for r in rows if any(r[3:])}


def live_tallies(session) -> dict:
    """The reference: the tiered cases counted per report day, branch and tier straight from the
    rows, dispatched within the window the rule setting holds now (1 h when it has no row)."""
    hours = session.scalar(select(RuleSetting.value).where(RuleSetting.key == "overview.dispatch_within_hours"))
    window = timedelta(hours=float(hours if hours is not None else 1))
    c = ClaimCase
    key = (cast(func.timezone("Asia/Shanghai", c.report_time), Date), c.branch_id, c.tier)
    pending, dispatched = c.state != "closed", and_(c.tiered_at.is_not(None), c.first_dispatched_at.is_not(None))
    columns = [func.count(), func.count().filter(pending),
               func.coalesce(func.sum(c.current_estimate).filter(pending), 0), func.count().filter(dispatched),
               func.count().filter(and_(dispatched, c.first_dispatched_at - c.tiered_at <= window)),
               func.count().filter(and_(c.tiered_at.is_not(None), c.first_dispatched_at.is_(None))),
               *(func.count().filter(c.risk_colour == colour) for colour in COLOURS)]
    rows = session.execute(select(*key, *columns).where(c.tier != "T0").group_by(*key)).all()
    return {tuple(r[:3]): tuple(r[3:]) for r in rows}


def kept_tallies(session) -> dict:
    t = CaseTallyDay
    key = (t.report_day, t.branch_id, t.tier)
    rows = session.execute(select(*key, *(func.sum(getattr(t, n)) for n in t.FIGURES)).group_by(*key)).all()
    return {tuple(r[:3]): tuple(r[3:]) for r in rows if any(r[3:])}


def assert_kept_is_live(session) -> None:
    session.expire_all()
    assert kept(session) == live(session)
    assert kept_figures(session) == live_figures(session)
    assert kept_tallies(session) == live_tallies(session)


def _case(session, org, rng: random.Random, *, commit: bool = True) -> ClaimCase:
    sub = rng.choice(["gz", "sz", "hz"])
    reported = NOW - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
    tier = rng.choice(TIERS)
    return make_case(session, org, sub, commit=commit, tier=tier, report_time=reported,
                     accident_time=reported - timedelta(hours=1), state=rng.choice(["dispatched", "investigating"]),
                     current_estimate=Decimal(rng.randint(1000, 900000)) / 100,
                     tiered_at=None if tier == "T0" else reported + timedelta(minutes=rng.randint(0, 300)),
                     risk_colour=rng.choice([None, *COLOURS]))


def _dispatch(session, org, case: ClaimCase, after: timedelta) -> None:
    """The case's first dispatch, `after` its estimate (the database keeps its time on the case)."""
    session.add(Dispatch(case_id=case.id, tier=case.tier, position="sub_claims_head", reason="initial",
                         person_id=org.person("gz_claims"), dispatched_at=case.tiered_at + after))


def _violations(session, org, cases: list[ClaimCase], rng: random.Random, per_case: int = 2) -> None:
    """Missed clocks of `cases`, then their violations in ONE statement (as the job records a batch)."""
    person = org.person("gz_surveyor1")
    clocks = []
    for case in cases:
        for _ in range(rng.randint(1, per_case)):
            due = case.report_time + timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 23))
            clocks.append(dict(case_id=case.id, branch_id=case.branch_id, kind=rng.choice(KINDS),
                               subject_key=f"test:{case.id}:{next(_subjects)}", responsible_person_id=person,
                               started_at=due - timedelta(hours=24), due_at=due))
    ids = session.scalars(insert(Deadline).returning(Deadline.id, sort_by_parameter_order=True), clocks).all()
    session.execute(Violation.__table__.insert(), [
        dict(deadline_id=i, case_id=c["case_id"], branch_id=c["branch_id"], kind=c["kind"], person_id=person,
             due_at=c["due_at"], found_at=c["due_at"] + timedelta(minutes=5)) for i, c in zip(ids, clocks)])


def _appeal(session, org, violation_id: int, status: str) -> None:
    """An appeal filed and decided as `status` (pending filed only)."""
    session.execute(ViolationAppeal.__table__.insert().values(
        violation_id=violation_id, person_id=org.person("gz_surveyor1"), reason="系统故障", filed_at=NOW,
        status="pending"))
    if status != "pending":
        session.execute(update(ViolationAppeal).where(ViolationAppeal.violation_id == violation_id)
                        .values(status=status, decided_by=org.person("admin"), decided_at=NOW + timedelta(hours=1)))


def _history(session, org, rng: random.Random, n: int = 24) -> list[ClaimCase]:
    cases = [_case(session, org, rng) for _ in range(n)]
    _violations(session, org, cases[: n // 2], rng)
    session.commit()
    assert_kept_is_live(session)
    for case in cases[n // 2:]:  # one at a time
        _violations(session, org, [case], rng, per_case=3)
        session.commit()
    assert_kept_is_live(session)
    # Clocks met, on time and late (their violations stay), in one statement.
    session.execute(update(Deadline).where(Deadline.id % 3 == 0)
                    .values(met_at=Deadline.due_at + timedelta(hours=1) * (Deadline.id % 2 * 2 - 1)))
    session.commit()
    assert_kept_is_live(session)
    ids = session.scalars(select(Violation.id).order_by(Violation.id)).all()
    for i, violation_id in enumerate(ids[::4]):
        _appeal(session, org, violation_id, ("accepted", "rejected", "pending")[i % 3])
    session.commit()
    assert_kept_is_live(session)
    # An accepted appeal undone (not offered by the product; the rows must follow even so).
    session.execute(update(ViolationAppeal).where(ViolationAppeal.violation_id == ids[0])
                    .values(status="rejected"))
    session.commit()
    assert_kept_is_live(session)
    # Cases re-tiered (as an estimate does), one at a time and many in one statement.
    for case in cases[:6]:
        session.execute(update(ClaimCase).where(ClaimCase.id == case.id)
                        .values(tier=rng.choice([t for t in TIERS if t != case.tier])))
        session.commit()
    session.execute(update(ClaimCase).where(ClaimCase.id.in_([c.id for c in cases[6:14]])).values(tier="T2"))
    session.commit()
    assert_kept_is_live(session)
    # Moved to another branch, re-dated across a day boundary, and a change that moves nothing.
    session.execute(update(ClaimCase).where(ClaimCase.id.in_([c.id for c in cases[:3]]))
                    .values(branch_id=org.branch("zj").id, sub_branch_id=org.sub_branch("hz").id))
    session.execute(update(ClaimCase).where(ClaimCase.id == cases[4].id)
                    .values(report_time=ClaimCase.report_time - timedelta(hours=20),
                            accident_time=ClaimCase.accident_time - timedelta(hours=20)))
    session.execute(update(ClaimCase).where(ClaimCase.id == cases[5].id).values(insured_name="李四"))
    session.commit()
    assert_kept_is_live(session)
    # Closed, estimated again, coloured, dispatched within the window and after it, and a case
    # reported and withdrawn (deleted) in one transaction and in another.
    session.execute(update(ClaimCase).where(ClaimCase.id.in_([c.id for c in cases[14:18]]))
                    .values(state="closed", closed_at=NOW))
    session.execute(update(ClaimCase).where(ClaimCase.id.in_([c.id for c in cases[18:20]]))
                    .values(current_estimate=ClaimCase.current_estimate + Decimal("0.07")))
    session.execute(update(ClaimCase).where(ClaimCase.id.in_([c.id for c in cases[19:22]])).values(risk_colour="red"))
    estimated = [c for c in cases if c.tiered_at is not None]
    for i, case in enumerate(estimated[:6]):
        _dispatch(session, org, case, timedelta(minutes=(20, 61, 180)[i % 3]))
    session.commit()
    assert_kept_is_live(session)
    gone_case = _case(session, org, rng, commit=False)
    session.flush()
    session.delete(gone_case)
    session.commit()
    withdrawn = _case(session, org, rng)
    session.delete(withdrawn)
    session.commit()
    assert_kept_is_live(session)
    # Violations deleted, with and without an accepted appeal.
    gone = ids[1:3] + [ids[4]]
    session.execute(delete(ViolationAppeal).where(ViolationAppeal.violation_id.in_(gone)))
    session.execute(delete(Violation).where(Violation.id.in_(gone)))
    session.commit()
    assert_kept_is_live(session)
    return cases


def test_kept_rows_equal_the_live_grouping_through_every_kind_of_write(session, org):
    _history(session, org, random.Random(20261205))


def test_folding_and_refilling_change_no_count(session, org):
    _history(session, org, random.Random(7))
    before = session.scalar(select(func.count()).select_from(ViolationWeek))
    rows_before, rows_after = compact_violation_weeks(session)
    session.commit()
    assert rows_before == before and rows_after == len(live(session)) < before
    days_before, days_after = compact_case_figures_days(session)
    session.commit()
    assert days_after == len(live_figures(session)) < days_before
    assert_kept_is_live(session)
    tally_before, tally_after = compact_case_tally_days(session)
    session.commit()
    assert tally_after == len(live_tallies(session)) < tally_before
    assert_kept_is_live(session)
    session.execute(text("DELETE FROM violation_week"))
    session.execute(text("DELETE FROM case_figures_day"))
    session.execute(text("DELETE FROM case_tally_day"))
    session.execute(text("SELECT violation_weeks_refill()"))
    session.execute(text("SELECT case_figures_days_refill()"))
    session.execute(text("SELECT case_tally_days_refill()"))
    session.commit()
    assert_kept_is_live(session)


def test_the_national_headline_and_ranking_read_kept_equal_the_branches_read_case_by_case(session, org, actor_for):
    """With no branch chosen the figures are read kept by day (0045); once one is, case by case. The
    branches' views add up to the national one, and each branch's place in the national ranking
    holds what its own view's sub-branches hold."""
    _history(session, org, random.Random(13), n=30)
    actor: Actor = actor_for("executive")
    today = NOW.date()
    for period in (dict(), dict(report_from=today - timedelta(days=60), report_to=today), dict(tier="T2")):
        national = overview_figures(session, actor, OverviewFilter(**period), NOW)
        branches = {b: overview_figures(session, actor, OverviewFilter(**period, branch_id=org.branch(b).id), NOW)
                    for b in ("gd", "zj")}
        h = national.headline
        parts = [v.headline for v in branches.values()]
        for name in ("tiered_reported", "open_review_points", "answers", "answered_cases"):
            assert getattr(h, name) == sum(getattr(p, name) for p in parts), name
        for share in ("d2_on_time", "d3_on_time"):
            assert (getattr(h, share).numerator, getattr(h, share).denominator) == (
                sum(getattr(p, share).numerator for p in parts), sum(getattr(p, share).denominator for p in parts))
        assert Counter(h.violations_by_type) == sum((Counter(p.violations_by_type) for p in parts), Counter())
        for name in ("pending", "closed", "pending_amount"):
            assert getattr(h, name) == sum(getattr(p, name) for p in parts), name
        assert (h.dispatched_within.numerator, h.dispatched_within.denominator) == (
            sum(p.dispatched_within.numerator for p in parts), sum(p.dispatched_within.denominator for p in parts))
        assert _by(national.pending_by_unit, "tier") == sum(
            (_by(v.pending_by_unit, "tier", org.branch(b).id) for b, v in branches.items()), Counter())
        assert _by(national.colour_share, "colour") == sum(
            (_by(v.colour_share, "colour", org.branch(b).id) for b, v in branches.items()), Counter())
        ageing = Counter({r["bucket"]: r["cases"] for r in national.ageing})
        assert ageing == sum((Counter({r["bucket"]: r["cases"] for r in v.ageing}) for v in branches.values()),
                             Counter())
        assert sum(r["amount"] for r in national.ageing) == h.pending_amount
        ranked = {r["unit_id"]: (r["on_time"], r["decided"]) for r in national.on_time_by_unit}
        for b, view in branches.items():
            own = (sum(r["on_time"] for r in view.on_time_by_unit), sum(r["decided"] for r in view.on_time_by_unit))
            assert ranked.get(org.branch(b).id, (0, 0)) == own, b
    assert sum(national.headline.violations_by_type.values()) > 5  # the last view has something to count


def _by(rows: list[dict], what: str, unit_id: int | None = None) -> Counter:
    """Cases (and estimate) of a chart's rows per (unit, `what`): a branch's own view counts its
    sub-branches, so its rows are summed under the branch (`unit_id`)."""
    counted = Counter()
    for r in rows:
        key = (unit_id or r["unit_id"], r[what])
        counted[(*key, "cases")] += r["cases"]
        if "amount" in r:
            counted[(*key, "amount")] += r["amount"]
    return counted


def test_the_ageing_edge_days_and_the_dispatch_window_read_live_beside_the_kept_days(session, org, actor_for):
    """The pending cases of the day an ageing bound falls on are split by the time of day (read case
    by case); an estimated case still waiting counts against the dispatch share only once its window
    has passed, and a new window (a rule setting, written as a data fix would) counts the kept rows
    again: the national view (kept) and the branches' (case by case) agree at every step."""
    actor: Actor = actor_for("executive")
    at = datetime(2026, 12, 4, 16, 59, tzinfo=SH)

    def case(age: timedelta, estimated: timedelta | None, dispatched: timedelta | None, sub: str = "gz") -> ClaimCase:
        reported = at - age
        c = make_case(session, org, sub, tier="T2", state="dispatched", current_estimate=Decimal("50000.50"),
                      report_time=reported, accident_time=reported - timedelta(hours=1),
                      tiered_at=None if estimated is None else at - estimated)
        if dispatched is not None:
            _dispatch(session, org, c, dispatched)
        return c

    # Reported 7 days ago to the second and one second earlier: the same report day, two buckets.
    case(timedelta(days=7), None, None)
    case(timedelta(days=7, seconds=1), None, None, sub="hz")
    case(timedelta(days=30, hours=2), None, None)
    case(timedelta(days=3), timedelta(days=2), timedelta(minutes=30))  # A: dispatched within 1 h
    case(timedelta(days=3), timedelta(days=2), timedelta(minutes=90), sub="hz")  # B: after 1 h, within 2 h
    case(timedelta(hours=3), timedelta(minutes=20), None)  # C: estimated 20 min ago, waiting
    case(timedelta(hours=9), timedelta(hours=5), None, sub="hz")  # D: estimated 5 h ago, waiting
    session.commit()

    def views() -> tuple:
        reference.forget()  # the window as the page reads it, at once
        national = overview_figures(session, actor, OverviewFilter(), at)
        parts = [overview_figures(session, actor, OverviewFilter(branch_id=org.branch(b).id), at).headline
                 for b in ("gd", "zj")]
        share = national.headline.dispatched_within
        assert (share.numerator, share.denominator) == (sum(p.dispatched_within.numerator for p in parts),
                                                        sum(p.dispatched_within.denominator for p in parts))
        assert_kept_is_live(session)
        return national, (share.numerator, share.denominator)

    national, share = views()
    assert {r["bucket"]: r["cases"] for r in national.ageing} == {
        "d0_7": 5, "d8_30": 1, "d31_90": 1, "d91_180": 0, "d181_plus": 0}
    assert share == (1, 3)  # A within; A, B and D decided; C still has 40 minutes
    for hours, expected in ((2, (2, 3)), (6, (2, 2)), (0.25, (0, 4))):
        session.merge(RuleSetting(key="overview.dispatch_within_hours", value=hours))
        session.commit()
        assert views()[1] == expected, hours
    session.execute(delete(RuleSetting).where(RuleSetting.key == "overview.dispatch_within_hours"))
    session.commit()
    assert views()[1] == (1, 3)  # no row: the default hour


def _expected_chart(session, flt: OverviewFilter) -> list[tuple[str, str, int]]:
    """The chart counted from the violations themselves: the filtered tiered cases' violations (no
    accepted appeal) and the branch-level ones when no sub-branch or tier is chosen."""
    c, v = ClaimCase, Violation
    conditions = [c.tier != "T0", ~_accepted()]
    if flt.report_from:
        conditions.append(func.timezone("Asia/Shanghai", c.report_time) >= flt.report_from)
    if flt.report_to:
        conditions.append(func.timezone("Asia/Shanghai", c.report_time) < flt.report_to + timedelta(days=1))
    if flt.branch_id:
        conditions.append(c.branch_id == flt.branch_id)
    if flt.sub_branch_id:
        conditions.append(c.sub_branch_id == flt.sub_branch_id)
    if flt.tier:
        conditions.append(c.tier == flt.tier)
    week = cast(func.date_trunc("week", func.timezone("Asia/Shanghai", v.due_at)), Date)
    counted = Counter({(str(w), k): n for w, k, n in session.execute(
        select(week, v.kind, func.count()).join(c, c.id == v.case_id).where(*conditions).group_by(week, v.kind))})
    assert not session.scalar(select(func.count()).select_from(Violation).where(Violation.case_id.is_(None)))
    return sorted((w, k, n) for (w, k), n in counted.items())


def test_the_overview_chart_read_from_the_kept_rows_equals_the_violations_counted(session, org, actor_for):
    _history(session, org, random.Random(11), n=30)
    actor: Actor = actor_for("executive")
    today = NOW.date()
    filters = [OverviewFilter(), OverviewFilter(report_from=today - timedelta(days=60), report_to=today),
               OverviewFilter(report_from=today - timedelta(days=90), report_to=today - timedelta(days=30),
                              branch_id=org.branch("gd").id),
               OverviewFilter(report_from=date(2026, 8, 1), report_to=today, tier="T2"),
               OverviewFilter(branch_id=org.branch("zj").id, tier="T1"),
               OverviewFilter(sub_branch_id=org.sub_branch("sz").id)]  # the live path, for comparison
    seen = 0
    for flt in filters:
        chart = [(str(r["week"]), r["kind"], r["violations"]) for r in violations_by_week(session, actor, flt)]
        assert chart == _expected_chart(session, flt), flt
        seen += len(chart)
    assert seen > 20  # the filters have something to show


def test_no_role_of_the_product_writes_the_rows_or_refills_them(db_url, org):
    from db.engine import session_factory
    from db.scope import NATIONAL, set_base_scope

    with session_factory(db_url)() as app:
        set_base_scope(app, NATIONAL)
        assert app.scalar(text("SELECT has_table_privilege('violation_week', 'INSERT')")) is False
        assert app.scalar(text("SELECT has_function_privilege('violation_weeks_refill()', 'EXECUTE')")) is False


@pytest.mark.parametrize("first", ["re-tier", "violation"])
def test_a_violation_recorded_while_its_case_is_re_tiered_lands_under_the_tier_it_ends_with(
        db_url, session, org, first):
    """The violation's statement locks its case FOR SHARE: if the re-tiering holds the case, the
    violation waits and reads the new tier; if the violation holds it, the re-tiering waits and then
    moves it. Either way the kept rows equal the live grouping after both commit."""
    from db.engine import JOB_ROLE, session_factory

    rng = random.Random(5)
    case = make_case(session, org, "gz", tier="T1", report_time=NOW - timedelta(days=3),
                     accident_time=NOW - timedelta(days=3, hours=1))
    _violations(session, org, [case], rng)  # one it has already
    session.commit()
    factory = session_factory(db_url, role=JOB_ROLE)  # the violation job's role; estimates are the app's

    def re_tier(s):
        s.execute(update(ClaimCase).where(ClaimCase.id == case.id).values(tier="T3"))

    def record(s):
        _violations(s, org, [case], rng, per_case=1)

    hold, wait = (re_tier, record) if first == "re-tier" else (record, re_tier)
    second_waits_for_first(factory(), factory(), hold, wait)
    assert_kept_is_live(session)
    assert {key[2] for key in kept(session)} == {"T3"}

