"""The case counts the database keeps (migration 0015): whoever writes cases, one at a time or many
in one statement, deletes or moves them, the kept counts equal a live count for every scope, and
folding them (jobs.compact_case_counts) changes the number of rows, never the sums."""
from __future__ import annotations

import pytest

from decimal import Decimal

from sqlalchemy import and_, func, or_, select, text

from dashboard.services.actor import case_scope
from dashboard.services.cases.counts import compact_case_counts, visible_case_count
from dashboard.services.figures.home import home_figures
from db.models import CaseCount, ClaimCase
from jobs import compact_case_counts as job
from tests.factories import make_case


@pytest.fixture
def session(owner_session):
    """As the tables' owner: these tests delete cases, clocks and violations and fold or recount
    the kept rows, which no role of the product may do (migration 0027); the counts must follow
    every write whoever makes it."""
    return owner_session

PEOPLE = ("executive", "gd_manager", "gz_claims", "gz_surveyor1", "zj_manager")


def _live(session, actor) -> int:
    scope = case_scope(actor)
    return session.scalar(select(func.count()).select_from(ClaimCase).where(*([] if scope is None else [scope])))


def _live_figures(session, actor) -> tuple[int, int, int, Decimal]:
    """The landing page's four figures counted from the cases themselves."""
    scope = case_scope(actor)
    pending, tiered = ClaimCase.state != "closed", and_(ClaimCase.state != "closed", ClaimCase.tier != "T0")
    cases, p, t, amount = session.execute(
        select(func.count(), func.count().filter(pending), func.count().filter(tiered),
               func.coalesce(func.sum(ClaimCase.current_estimate).filter(tiered), 0))
        .where(*([] if scope is None else [scope]))).one()
    return cases, p, t, Decimal(amount)


def _assert_counts_are_live(session, actor_for) -> None:
    session.expire_all()
    figures = (func.sum(CaseCount.cases), func.sum(CaseCount.pending), func.sum(CaseCount.pending_tiered),
               func.sum(CaseCount.pending_tiered_amount))
    kept = {sub: tuple(row) for sub, *row in session.execute(
        select(CaseCount.sub_branch_id, *figures).group_by(CaseCount.sub_branch_id)
        .having(or_(*(f != 0 for f in figures)))).all()}
    tiered = and_(ClaimCase.state != "closed", ClaimCase.tier != "T0")
    live = {sub: tuple(row) for sub, *row in session.execute(
        select(ClaimCase.sub_branch_id, func.count(), func.count().filter(ClaimCase.state != "closed"),
               func.count().filter(tiered), func.coalesce(func.sum(ClaimCase.current_estimate).filter(tiered), 0))
        .group_by(ClaimCase.sub_branch_id)).all()}
    assert kept == live
    for username in PEOPLE:
        actor = actor_for(username)
        assert visible_case_count(session, actor) == _live(session, actor), username
        shown = home_figures(session, actor)
        assert (shown.cases_visible, shown.pending, shown.pending_tiered, shown.pending_tiered_amount) == \
            _live_figures(session, actor), username


def _copy_case(session, case_id: int, copies: int) -> None:
    """`copies` more cases like `case_id`, in ONE statement (as a bulk import writes them)."""
    session.execute(text("""
        INSERT INTO claim_case (case_no, report_time, accident_time, province, city, address, business_line,
                                policy_no, insured_name, driver_name, reporter_name, plate_no, vehicle_model,
                                vehicle_age_years, vehicle_use, accident_type, compulsory_only, branch_id,
                                sub_branch_id, surveyor_id, state, tier)
        SELECT 'COPY' || :case_id || '-' || n, report_time, accident_time, province, city, address, business_line,
               policy_no, insured_name, driver_name, reporter_name, plate_no, vehicle_model, vehicle_age_years,
               vehicle_use, accident_type, compulsory_only, branch_id, sub_branch_id, surveyor_id, state, tier
          FROM claim_case, generate_series(1, :copies) AS n WHERE id = :case_id"""), {"case_id": case_id, "copies": copies})
    session.commit()


def test_kept_counts_follow_inserts_deletes_and_moves_for_every_scope(session, org, actor_for):
    _assert_counts_are_live(session, actor_for)  # none yet
    gz, hz = make_case(session, org, "gz"), make_case(session, org, "hz")
    make_case(session, org, "sz")
    _assert_counts_are_live(session, actor_for)
    _copy_case(session, gz.id, 25)
    _copy_case(session, hz.id, 7)
    _assert_counts_are_live(session, actor_for)
    assert visible_case_count(session, actor_for("gd_manager")) == 27  # gz 26 + sz 1

    session.execute(text("DELETE FROM claim_case WHERE case_no LIKE :p"), {"p": f"COPY{gz.id}-1%"})  # 1, 10..19
    session.commit()
    _assert_counts_are_live(session, actor_for)
    assert visible_case_count(session, actor_for("gd_manager")) == 16

    moved = session.scalar(select(ClaimCase.id).where(ClaimCase.case_no == f"COPY{hz.id}-3"))
    session.execute(text("UPDATE claim_case SET branch_id = :b, sub_branch_id = :s WHERE id = :c"),
                    {"b": org.branch("gd").id, "s": org.sub_branch("gz").id, "c": moved})
    session.execute(text("UPDATE claim_case SET state = 'closed' WHERE id = :c"), {"c": moved})  # not a move
    session.commit()
    _assert_counts_are_live(session, actor_for)
    assert visible_case_count(session, actor_for("zj_manager")) == 7  # hz 8 - 1 moved to gz


def test_kept_pending_figures_follow_estimates_tiers_closing_and_bulk_updates(session, org, actor_for):
    """Whoever changes a case's estimate, tier or state, one case or many in one statement, the
    pending, pending tiered and tiered estimate figures stay those of the cases."""
    from dashboard.services.dispatching.dispatch import record_estimate

    gz, sz, hz = make_case(session, org, "gz"), make_case(session, org, "sz"), make_case(session, org, "hz")
    call = actor_for("callcenter")
    record_estimate(session, call, gz.id, "86000")    # tiered T1
    record_estimate(session, call, sz.id, "30000")    # not tiered
    record_estimate(session, call, hz.id, "320000")   # tiered
    session.commit()
    _assert_counts_are_live(session, actor_for)
    assert home_figures(session, actor_for("executive")).pending_tiered == 2
    record_estimate(session, call, gz.id, "120500.55")  # a new estimate, same case
    session.commit()
    _assert_counts_are_live(session, actor_for)
    _copy_case(session, hz.id, 30)
    session.execute(text("UPDATE claim_case SET current_estimate = current_estimate + 1, tier = 'T2' "
                         "WHERE case_no LIKE :p"), {"p": f"COPY{hz.id}-%"})  # many cases, one statement
    session.execute(text("UPDATE claim_case SET state = 'closed' WHERE case_no LIKE :p"), {"p": f"COPY{hz.id}-1%"})
    session.execute(text("UPDATE claim_case SET case_no = case_no || 'X' WHERE id = :c"), {"c": sz.id})  # no figure
    session.commit()
    _assert_counts_are_live(session, actor_for)
    executive = home_figures(session, actor_for("executive"))
    assert executive.pending == 3 + 30 - 11 and executive.pending_tiered == 2 + 30 - 11


def test_folding_keeps_the_sums_and_leaves_one_row_per_sub_branch(db_url, session, org, actor_for):
    for sub in ("gz", "gz", "sz", "hz"):
        make_case(session, org, sub)
    first = make_case(session, org, "gz")
    _copy_case(session, first.id, 40)
    before = session.scalar(select(func.count()).select_from(CaseCount))
    assert before >= 6
    assert job.main([], url=db_url) == 0
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(CaseCount)) == 3  # gz, sz, hz
    _assert_counts_are_live(session, actor_for)
    folded = dict(session.execute(select(CaseCount.sub_branch_id, CaseCount.id)).tuples().all())
    make_case(session, org, "sz")
    assert compact_case_counts(session) == (4, 3)  # the new row is folded into sz's
    session.commit()
    _assert_counts_are_live(session, actor_for)
    # Only sz's key had two rows: the others were left as they were, not rewritten.
    now = dict(session.execute(select(CaseCount.sub_branch_id, CaseCount.id)).tuples().all())
    sz = org.sub_branch("sz").id
    assert now[sz] != folded[sz] and {k: v for k, v in now.items() if k != sz} == {
        k: v for k, v in folded.items() if k != sz}
    assert compact_case_counts(session) == (3, 3)  # nothing to fold: nothing rewritten
    session.commit()
    assert dict(session.execute(select(CaseCount.sub_branch_id, CaseCount.id)).tuples().all()) == now


def test_the_upgrade_counts_the_cases_already_there(db_url, session, org, actor_for):
    from alembic import command

    from db.schema import alembic_config

    from dashboard.services.dispatching.dispatch import record_estimate

    gz = make_case(session, org, "gz")
    make_case(session, org, "hz")
    record_estimate(session, actor_for("callcenter"), gz.id, "86000")  # tiered and pending, copied below
    session.commit()
    session.close()
    command.downgrade(alembic_config(db_url), "0014")
    _copy_case(session, gz.id, 5)  # written while no trigger counts them
    command.upgrade(alembic_config(db_url), "head")
    _assert_counts_are_live(session, actor_for)
    assert visible_case_count(session, actor_for("gd_manager")) == 6
    assert home_figures(session, actor_for("gd_manager")).pending_tiered == 6
