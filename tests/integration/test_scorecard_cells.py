"""The scorecard's kept cells (migration 0035): whatever is done to the cases — written one at a time
or many in one statement, closed, paid, re-estimated, reopened, moved, deleted — and whatever HQ sets
the small-claim amount and the stale days to, every computed indicator read from the cells equals
the live aggregate over the cases that computed it before (kept here as the reference), for every
period kind, for national and branch readers; two writers of one branch and month never wait on
each other nor lose a count; folding and refilling the cells change nothing."""
from __future__ import annotations

import random
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import and_, delete, func, or_, select, text, update

from dashboard.services import reference
from dashboard.services.actor import Actor, Assignment
from dashboard.services.cases.counts import compact_scorecard_cells
from dashboard.services.scorecard.computed import Window, _conditions, _days, _ratio, _scope, computed_values
from db.models import ClaimCase, RuleSetting, ScorecardCell
from tests.factories import make_case

SH = ZoneInfo("Asia/Shanghai")
MOMENT = "2026-12-04 16:59"
NOW = datetime(2026, 12, 4, 16, 59, tzinfo=SH)
# Running and past periods of every kind, and a year boundary inside a quarter's trend.
PERIODS = (("month", date(2026, 12, 1)), ("month", date(2026, 11, 1)), ("month", date(2026, 6, 1)),
           ("month", date(2026, 1, 1)), ("month", date(2025, 12, 1)), ("quarter", date(2026, 10, 1)),
           ("quarter", date(2026, 7, 1)), ("quarter", date(2026, 1, 1)), ("quarter", date(2025, 10, 1)),
           ("year", date(2026, 1, 1)), ("year", date(2025, 1, 1)))


@pytest.fixture
def session(owner_session):
    """As the tables' owner: these tests delete cases and fold or refill the kept cells, which no
    role of the product may do (migration 0027); the cells must follow every write whoever makes it."""
    return owner_session


def live_values(session, actor, kind: str, start: date, branch_ids=None) -> dict[int, dict[str, D | None]]:
    """The indicators as computed_values aggregated them live over claim_case before migration 0035:
    the reference the kept cells must equal."""
    w = Window.of(session, kind, start)
    k = _conditions(w)
    c = ClaimCase
    n, s, epoch = func.count, func.sum, func.extract
    columns = [
        s(c.current_estimate).filter(k["paid"]), s(c.paid_amount).filter(k["paid"]),
        s(func.abs(c.first_estimate - c.paid_amount)).filter(and_(k["paid"], c.first_estimate.is_not(None))),
        s(c.paid_amount).filter(and_(k["paid"], c.first_estimate.is_not(None))),
        func.avg(c.paid_amount).filter(and_(k["paid"], k["motor"], c.paid_amount > w.small)),
        n().filter(and_(k["pending_end"], c.report_time < w.stale_before)), n().filter(k["pending_end"]),
        n().filter(and_(k["reported_in"], c.forced_registration)), n().filter(k["reported_in"]),
        n().filter(and_(k["reported_in"], k["motor"], c.zero_closed, c.reopen_count > 0)),
        n().filter(and_(k["reported_in"], k["motor"], c.zero_closed)),
        func.avg(epoch("epoch", c.closed_at - c.report_time)).filter(k["small"]),
        func.avg(epoch("epoch", c.closed_at - c.first_estimated_at)).filter(
            and_(k["small"], k["motor"], c.first_estimated_at.is_not(None))),
        n().filter(k["closed_in"]), n().filter(k["pending_start"]),
        n().filter(k["cohort_closed"]), n().filter(k["cohort"]),
        s(c.paid_amount).filter(k["cohort_closed"]),
        s(c.current_estimate).filter(and_(k["cohort"], ~k["cohort_closed"])),
    ]
    earliest = min(w.start, w.year_start)
    rows = session.execute(
        select(c.branch_id, *columns)
        .where(c.report_time < w.end, or_(c.closed_at.is_(None), c.closed_at >= earliest), *_scope(actor, branch_ids))
        .group_by(c.branch_id)).all()
    out = {}
    for r in rows:
        (branch, est_close, paid_close, dev, dev_base, motor_avg, stale, pending_end, forced, reported, zero_reopened,
         zero, cycle, transfer, closed, pending_start, cohort_closed, cohort, cohort_paid, cohort_pending) = r
        out[branch] = {
            "reserve_adequacy": _ratio(est_close, paid_close),
            "first_estimate_deviation": _ratio(dev, dev_base),
            "motor_avg_paid_over_10k": None if motor_avg is None else D(motor_avg),
            "stale_pending_rate": _ratio(stale, pending_end),
            "forced_registration_rate": _ratio(forced, reported),
            "motor_zero_reopen_rate": _ratio(zero_reopened, zero),
            "small_cycle_days": _days(cycle),
            "motor_small_transfer_days": _days(transfer),
            "handling_rate": _ratio(closed, (pending_start or 0) + (reported or 0)),
            "count_closure_rate": _ratio(cohort_closed, cohort),
            "amount_closure_rate": _ratio(cohort_paid or 0, (cohort_paid or 0) + (cohort_pending or 0))
            if cohort else None,
        }
    return out


def _sub_branch_reader(org, code: str) -> Actor:
    """A branch tracker placed in one sub-branch: their scope is its cases, not the whole branch's."""
    sub = org.sub_branch(code)
    branch = next(b for b, subs in org.sub_branches.items() if any(s.code == code for s in subs))
    return Actor(person_id=org.person("gd_tracker"), username="sub_tracker", full_name="网点跟踪员",
                 assignments=(Assignment("branch_tracker", sub.id, "sub_branch", org.branch(branch).id, None),))


def assert_cells_are_live(session, org, actor_for, periods=PERIODS) -> int:
    """Every period's indicators from the cells equal the live ones, for every reader; returns how
    many branch cards were compared."""
    session.expire_all()
    readers = [actor_for("executive"), actor_for("gd_manager"), actor_for("zj_manager"), _sub_branch_reader(org, "sz")]
    compared = 0
    for kind, start in periods:
        for actor in readers:
            kept, live = computed_values(session, actor, kind, start), live_values(session, actor, kind, start)
            assert kept == live, (kind, start, actor.username, _differences(kept, live))
            compared += len(live)
        one = [org.branch("gd").id]  # the trend's call: one branch by id
        assert computed_values(session, readers[0], kind, start, one) == live_values(session, readers[0], kind, start, one)
    return compared


def _differences(kept: dict, live: dict) -> dict:
    return {(b, k): (kept.get(b, {}).get(k), v) for b, values in live.items() for k, v in values.items()
            if kept.get(b, {}).get(k) != v} | {b: "missing" for b in set(kept) ^ set(live)}


# ---------------------------------------------------------------- random cases

MONTH_EDGES = (timedelta(0), timedelta(seconds=-1), timedelta(hours=8), timedelta(hours=-8))


def _moment(rng: random.Random, earliest: datetime, latest: datetime) -> datetime:
    """A random moment, one in three on a month's edge in Asia/Shanghai (or in UTC)."""
    moment = earliest + (latest - earliest) * rng.random()
    if rng.random() < 0.33:
        local = moment.astimezone(SH)
        edge = datetime(local.year, local.month, 1, tzinfo=SH) + rng.choice(MONTH_EDGES)
        if earliest <= edge <= latest:
            return edge
    return moment.replace(microsecond=rng.choice((0, 0, 123456)))


def _amount(rng: random.Random) -> D | None:
    return rng.choice((None, D(0), D("9999.99"), D(10000), D("10000.01"), D(5000), D(4999), D("20000.50"),
                       D(rng.randint(1, 2_000_000)) / 100))


def _figures(rng: random.Random, reported: datetime) -> dict:
    closed = None if rng.random() < 0.3 else min(NOW, reported + timedelta(days=rng.random() * 300))
    if closed is not None and rng.random() < 0.2:
        closed = _moment(rng, reported, NOW)
    first_at = None if rng.random() < 0.3 else reported + timedelta(hours=rng.random() * 200)
    return dict(
        business_line=rng.choice(("motor", "motor", "property")), closed_at=closed,
        state="closed" if closed else rng.choice(("investigating", "paid", "reopened")),
        paid_amount=_amount(rng), current_estimate=_amount(rng),
        first_estimate=None if first_at is None else _amount(rng) or D(1), first_estimated_at=first_at,
        zero_closed=rng.random() < 0.25, forced_registration=rng.random() < 0.2,
        reopen_count=rng.choice((0, 0, 0, 1, 2)))


def _subs(org) -> list[str]:
    return [s.code for subs in org.sub_branches.values() for s in subs]


def _random_cases(session, org, rng: random.Random, n: int) -> list[int]:
    """`n` cases over two years, a third one at a time, the rest in statements of many."""
    subs, ids = _subs(org), []
    earliest = datetime(2024, 12, 1, tzinfo=SH) - timedelta(hours=8)
    for i in range(n):
        reported = _moment(rng, earliest, NOW)
        values = dict(report_time=reported, accident_time=reported - timedelta(hours=1), **_figures(rng, reported))
        case = make_case(session, org, rng.choice(subs), commit=i % 3 == 0, **values)
        ids.append(case.id)
        if i % 3 == 2 and rng.random() < 0.5:
            session.commit()
    session.commit()
    return ids


def _mutate(session, org, rng: random.Random, ids: list[int]) -> list[int]:
    """Close, pay, re-estimate, reopen, move and delete cases, one at a time and in bulk."""
    subs = _subs(org)
    for case_id in rng.sample(ids, len(ids) // 2):
        case = session.get(ClaimCase, case_id)
        change = rng.choice(("close", "pay", "estimate", "reopen", "first", "flags", "move", "report", "all"))
        if change in ("close", "all"):
            case.closed_at, case.state = _moment(rng, case.report_time, NOW), "closed"
        if change in ("pay", "all"):
            case.paid_amount = _amount(rng)
        if change in ("estimate", "all"):
            case.current_estimate = _amount(rng)
        if change in ("reopen", "all") and case.closed_at is not None:
            case.closed_at, case.state, case.reopen_count = None, "reopened", case.reopen_count + 1
        if change in ("first", "all"):
            case.first_estimate, case.first_estimated_at = _amount(rng), case.report_time + timedelta(days=rng.random())
        if change in ("flags", "all"):
            case.zero_closed, case.forced_registration = not case.zero_closed, not case.forced_registration
            case.business_line = "property" if case.business_line == "motor" else "motor"
        if change in ("move", "all"):
            sub = org.sub_branch(rng.choice(subs))
            branch = next(b for b, s in org.sub_branches.items() if sub in s)
            case.sub_branch_id, case.branch_id = sub.id, org.branch(branch).id
        if change == "report":
            case.report_time = case.accident_time = case.report_time - timedelta(days=rng.randint(1, 60))
        if rng.random() < 0.3:
            session.commit()
    session.commit()
    # Many cases in one statement each: a bulk re-estimate, a bulk close, a bulk payment.
    session.execute(update(ClaimCase).where(ClaimCase.id % 3 == 0)
                    .values(current_estimate=func.coalesce(ClaimCase.current_estimate, 0) + D("0.01")))
    session.execute(update(ClaimCase).where(ClaimCase.id % 7 == 1, ClaimCase.closed_at.is_(None))
                    .values(closed_at=NOW - timedelta(days=3), state="closed"))
    session.execute(update(ClaimCase).where(ClaimCase.id % 5 == 2).values(paid_amount=D("10000")))
    session.commit()
    gone = set(rng.sample(ids, len(ids) // 10))
    for case_id in list(gone)[:5]:
        session.delete(session.get(ClaimCase, case_id))
        session.commit()
    session.execute(delete(ClaimCase).where(ClaimCase.id.in_(list(gone)[5:])))
    session.commit()
    return [i for i in ids if i not in gone]


def _set(session, key: str, value) -> None:
    """A setting changed as the administrator's form changes it: written, and the kept settings
    forgotten (services/admin/rule_settings)."""
    session.execute(text("UPDATE rule_setting SET value = CAST(:v AS jsonb) WHERE key = :k"),
                    {"k": key, "v": str(value)})
    session.commit()
    reference.forget()


@pytest.mark.moment(MOMENT)
def test_kept_cells_equal_the_live_aggregate_through_random_writes_and_setting_changes(session, org, actor_for):
    rng = random.Random(20261204)
    ids = _random_cases(session, org, rng, 240)
    assert assert_cells_are_live(session, org, actor_for) > 40
    ids = _mutate(session, org, rng, ids)
    assert assert_cells_are_live(session, org, actor_for) > 40
    # HQ changes the small-claim amount: the cells are refilled in the same transaction.
    _set(session, "scorecard.small_claim", 5000)
    assert_cells_are_live(session, org, actor_for)
    _set(session, "scorecard.small_claim", "20000.5")
    _set(session, "scorecard.stale_days", 30)
    assert_cells_are_live(session, org, actor_for)
    _set(session, "scorecard.stale_days", 400)
    ids = _mutate(session, org, rng, ids)  # written under the new amount
    assert_cells_are_live(session, org, actor_for)
    # Folding leaves one row per cell and the same sums.
    rows_before = session.scalar(select(func.count()).select_from(ScorecardCell))
    before, after = compact_scorecard_cells(session)
    session.commit()
    assert before == rows_before and after < before
    keys = (ScorecardCell.branch_id, ScorecardCell.sub_branch_id, ScorecardCell.report_month, ScorecardCell.close_month)
    assert session.scalar(select(func.count()).select_from(select(*keys).distinct().subquery())) == after
    assert_cells_are_live(session, org, actor_for)
    # Without its row the setting is its default (10,000), in the cells as in the service.
    session.execute(delete(RuleSetting).where(RuleSetting.key == "scorecard.small_claim"))
    session.commit()
    reference.forget()
    assert_cells_are_live(session, org, actor_for)
    _mutate(session, org, rng, ids)
    assert_cells_are_live(session, org, actor_for)


@pytest.mark.moment(MOMENT)
def test_the_trend_reads_the_cells_the_same_as_the_ranking(session, org, actor_for):
    from dashboard.services.scorecard.card import indicator_trend

    rng = random.Random(7)
    _random_cases(session, org, rng, 80)
    executive, gd = actor_for("executive"), org.branch("gd").id
    for key in ("stale_pending_rate", "small_cycle_days", "amount_closure_rate", "reserve_adequacy"):
        trend = indicator_trend(session, executive, "quarter", date(2026, 10, 1), gd, key, periods=6)
        assert [p.value for p in trend] == [live_values(session, executive, "quarter", p.period, [gd]).get(gd, {}).get(key)
                                            for p in trend], key


@pytest.mark.moment(MOMENT)
def test_the_trend_reads_its_six_periods_in_one_statement_and_their_boundaries_in_another(session, org, actor_for):
    """Each period of the trend was a statement of its own, with its stale boundary and its entered
    figures (18 of the quarter page's 26 statements): the periods' cells are now one statement,
    their boundaries another, the entered figures a third, however many periods."""
    from sqlalchemy import event

    from dashboard.services.scorecard.card import indicator_trend

    _random_cases(session, org, random.Random(9), 40)
    executive, gd = actor_for("executive"), org.branch("gd").id
    indicator_trend(session, executive, "quarter", date(2026, 10, 1), gd, "stale_pending_rate", periods=6)  # warm
    statements: list[str] = []

    def capture(conn, cursor, statement, *args):  # noqa: ANN001
        if "scorecard_cell" in statement or "claim_case" in statement or "branch_financials" in statement:
            statements.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", capture)
    try:
        trend = indicator_trend(session, executive, "quarter", date(2026, 10, 1), gd, "stale_pending_rate", periods=6)
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    assert len(trend) == 6 and any(p.value is not None for p in trend)
    assert len(statements) <= 3, statements


@pytest.mark.moment(MOMENT)
def test_the_upgrade_and_a_refill_count_the_cases_already_there(db_url, session, org, actor_for):
    from alembic import command

    from db.schema import alembic_config

    _random_cases(session, org, random.Random(3), 60)
    session.close()
    command.downgrade(alembic_config(db_url), "0034")
    _random_cases(session, org, random.Random(4), 30)  # written while no trigger keeps cells
    session.close()
    command.upgrade(alembic_config(db_url), "head")
    assert_cells_are_live(session, org, actor_for, PERIODS[:6])
    session.execute(text("DELETE FROM scorecard_cell"))
    session.execute(text("SELECT scorecard_cells_refill()"))
    session.commit()
    assert_cells_are_live(session, org, actor_for, PERIODS[:6])


def test_no_role_of_the_product_writes_the_cells_or_refills_them(db_url, org):
    from db.engine import session_factory
    from db.scope import NATIONAL, set_base_scope

    with session_factory(db_url)() as app:
        set_base_scope(app, NATIONAL)
        assert app.scalar(text("SELECT has_table_privilege('scorecard_cell', 'INSERT')")) is False
        assert app.scalar(text("SELECT has_function_privilege('scorecard_cells_refill()', 'EXECUTE')")) is False


# ---------------------------------------------------------------- two writers at once


@pytest.mark.moment(MOMENT)
def test_two_writers_of_one_branch_and_month_neither_wait_nor_lose_a_count(db_url, session, org, actor_for):
    """Writers of the same cell add rows, never update one: the second commits while the first
    still holds its transaction open, and both counts land."""
    from db.engine import session_factory
    from db.scope import NATIONAL, set_base_scope

    reported = datetime(2026, 11, 10, 10, tzinfo=SH)
    values = dict(report_time=reported, accident_time=reported - timedelta(hours=1))
    open_case = make_case(session, org, "gz", **values)
    other_case = make_case(session, org, "gz", **values)
    factory = session_factory(db_url)
    first, second = factory(), factory()
    try:
        for s in (first, second):
            set_base_scope(s, NATIONAL)
        make_case(first, org, "gz", commit=False, **values)
        first.execute(update(ClaimCase).where(ClaimCase.id == open_case.id)
                      .values(closed_at=reported + timedelta(days=3), state="closed", paid_amount=D(800)))
        # `first` holds its writes open; `second` writes the same cells and must not wait.
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        make_case(second, org, "gz", commit=False, **values)
        second.execute(update(ClaimCase).where(ClaimCase.id == other_case.id)
                       .values(closed_at=reported + timedelta(days=4), state="closed", paid_amount=D(900)))
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
    session.expire_all()
    gd = org.branch("gd").id
    cases, paid = session.execute(select(func.sum(ScorecardCell.cases), func.sum(ScorecardCell.paid_sum))
                                  .where(ScorecardCell.branch_id == gd)).one()
    assert (cases, paid) == (4, D(1700))
    assert_cells_are_live(session, org, actor_for, PERIODS[:2])


@pytest.mark.moment(MOMENT)
def test_many_writers_at_once_lose_no_count(db_url, session, org, actor_for):
    from db.engine import session_factory
    from db.scope import NATIONAL, set_base_scope

    reported = datetime(2026, 11, 10, 10, tzinfo=SH)
    factory = session_factory(db_url)
    start, errors = threading.Barrier(3), []

    def write(n: int) -> None:
        try:
            with factory() as s:
                set_base_scope(s, NATIONAL)
                start.wait(10)
                for i in range(15):
                    closed = reported + timedelta(days=i) if i % 2 else None
                    make_case(s, org, "gz", report_time=reported, accident_time=reported - timedelta(hours=1),
                              closed_at=closed, state="closed" if closed else "investigating",
                              paid_amount=D(100 * n + i) if closed else None)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert errors == []
    session.expire_all()
    assert session.scalar(select(func.sum(ScorecardCell.cases))) == 45
    assert_cells_are_live(session, org, actor_for, PERIODS[:2])
