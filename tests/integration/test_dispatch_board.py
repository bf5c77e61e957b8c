"""The call center's dispatch board: what awaits dispatch, who was sent, scoped to what one may see."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import update

from dashboard.services.dispatching.dispatch import record_contact_attempt
from dashboard.services.dispatching.board import (
    BoardFilter, board_count, board_page, branch_options, case_dispatches, delegate_candidates, sub_branch_options,
)
from dashboard.services.dispatching.board import _count_statement as board_count_live
from dashboard.services.errors import NotFound, PermissionDenied
from dashboard.services.cases.intake import CaseInput, register_case
from db.models import ClaimCase

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)


def register(session, actor, case_no, sub, surveyor, *, estimate=None, reported="2026-11-20 09:00"):
    return register_case(session, actor, CaseInput(
        case_no=case_no, report_time=reported, accident_time="2026-11-17 08:00", province="省", city="市",
        address="路", business_line="motor", policy_no="P", insured_name="甲", reporter_name="甲",
        accident_type="collision", sub_branch=sub, surveyor=surveyor, initial_estimate=estimate), now=NOW).case_id


@pytest.fixture
def board_cases(session, org, actor_for):
    cc = actor_for("callcenter")
    ids = {
        "gd_reported": register(session, cc, "GD-R", "gz", "gz_surveyor1"),
        "gd_t2": register(session, cc, "GD-T2", "sz", "sz_surveyor1", estimate="300000", reported="2026-11-18 10:00"),
        "gd_small": register(session, cc, "GD-S", "gz", "gz_surveyor1", estimate="20000"),
        "zj_t1": register(session, cc, "ZJ-T1", "hz", "hz_surveyor1", estimate="80000"),
        "gd_waiting": register(session, cc, "GD-W", "fs", "fs_surveyor1"),
    }
    # A tiered case whose dispatch has not happened yet (e.g. every post vacant).
    session.execute(update(ClaimCase).where(ClaimCase.id == ids["gd_waiting"])
                    .values(tier="T1", state="surveyed", current_estimate=Decimal("90000")))
    session.commit()
    return ids


def numbers(page) -> list[str]:
    return [r.case_no for r in page.rows]


def test_call_center_sees_awaiting_first_then_dispatched_with_who_was_sent(session, org, actor_for, board_cases):
    page = board_page(session, actor_for("callcenter"), BoardFilter(), now=NOW)
    assert page.total == 4  # the 20,000 case is not tiered and has its estimate: nothing to dispatch
    assert [(r.case_no, r.status) for r in page.rows] == [
        ("GD-W", "awaiting_dispatch"), ("GD-R", "awaiting_estimate"),
        ("ZJ-T1", "dispatched"), ("GD-T2", "dispatched")]
    t2 = next(r for r in page.rows if r.case_no == "GD-T2")
    assert {d.position for d in t2.dispatches} == {"sub_head", "sub_finance_head"}
    assert all(d.contact_state == "notified" for d in t2.dispatches)
    assert t2.hours_since_dispatch == 0
    later = board_page(session, actor_for("callcenter"), BoardFilter(view="dispatched"), now=NOW + timedelta(hours=5))
    assert numbers(later) == ["ZJ-T1", "GD-T2"] and later.rows[0].hours_since_dispatch == 5


def test_branch_manager_sees_only_their_branch_whatever_the_filter(session, org, actor_for, board_cases):
    manager = actor_for("gd_manager")
    assert set(numbers(board_page(session, manager, BoardFilter(), now=NOW))) == {"GD-W", "GD-R", "GD-T2"}
    other = board_page(session, manager, BoardFilter(branch_id=org.branch("zj").id), now=NOW)
    assert other.total == 0 and other.rows == []
    assert [b for b, _ in branch_options(session, manager)] == [org.branch("gd").id]
    assert {s for s, _ in sub_branch_options(session, manager, None)} == {s.id for s in org.sub_branches["gd"]}


def test_branch_tracker_cannot_read_another_branchs_dispatches(session, org, actor_for, board_cases):
    with pytest.raises(NotFound):
        case_dispatches(session, actor_for("zj_tracker"), board_cases["gd_t2"])
    assert len(case_dispatches(session, actor_for("gd_tracker"), board_cases["gd_t2"])) == 2
    # The board page carries each case's dispatches as JSON; the action section reads them as rows:
    # the same dispatches, times included.
    row = next(r for r in board_page(session, actor_for("gd_tracker"), BoardFilter(), now=NOW).rows
               if r.case_id == board_cases["gd_t2"])
    assert row.dispatches == case_dispatches(session, actor_for("gd_tracker"), board_cases["gd_t2"])


def test_filters_by_tier_sub_branch_and_report_date(session, org, actor_for, board_cases):
    cc = actor_for("callcenter")
    assert numbers(board_page(session, cc, BoardFilter(tier="T2"), now=NOW)) == ["GD-T2"]
    assert numbers(board_page(session, cc, BoardFilter(sub_branch_id=org.sub_branch("hz").id), now=NOW)) == ["ZJ-T1"]
    # 2026-11-18 10:00 Beijing time is on the 18th whatever the UTC date
    assert numbers(board_page(session, cc, BoardFilter(reported_from=date(2026, 11, 18),
                                                       reported_to=date(2026, 11, 18)), now=NOW)) == ["GD-T2"]
    assert numbers(board_page(session, cc, BoardFilter(view="awaiting"), now=NOW)) == ["GD-W", "GD-R"]


def test_board_is_paginated_in_sql(session, org, actor_for, board_cases):
    cc = actor_for("callcenter")
    first = board_page(session, cc, BoardFilter(), limit=3, offset=0, now=NOW)
    second = board_page(session, cc, BoardFilter(), limit=3, offset=3, now=NOW)
    assert first.total == second.total == 4
    assert len(first.rows) == 3 and len(second.rows) == 1
    assert not set(numbers(first)) & set(numbers(second))


def test_contact_state_shows_on_the_board(session, org, actor_for, board_cases):
    cc = actor_for("callcenter")
    dispatch = case_dispatches(session, cc, board_cases["gd_t2"])[0]
    record_contact_attempt(session, cc, dispatch.dispatch_id, "unavailable", reason="出差", now=NOW)
    row = next(r for r in board_page(session, cc, BoardFilter(), now=NOW).rows if r.case_no == "GD-T2")
    assert {d.dispatch_id: d.contact_state for d in row.dispatches}[dispatch.dispatch_id] == "unavailable"


def test_delegate_candidates_come_from_the_cases_branch_only(session, org, actor_for, board_cases):
    cc = actor_for("callcenter")
    dispatch = case_dispatches(session, cc, board_cases["gd_t2"])[0]
    people = {pid for pid, _ in delegate_candidates(session, cc, dispatch.dispatch_id)}
    assert org.person("gz_claims") in people and org.person("gd_gm") in people
    assert org.person("hz_claims") not in people and dispatch.person_id not in people
    with pytest.raises(PermissionDenied):
        delegate_candidates(session, actor_for("gd_manager"), dispatch.dispatch_id)


@pytest.mark.parametrize("username", ["gz_surveyor1", "gz_claims", "supervisor"])
def test_roles_without_the_board_are_refused(session, org, actor_for, username):
    with pytest.raises(PermissionDenied):
        board_page(session, actor_for(username), BoardFilter(), now=NOW)


def test_the_board_pages_across_its_waiting_and_dispatched_cases_in_colour_order(session, org, actor_for,
                                                                                  board_cases):
    """Migration 0042: the cases not yet dispatched are read apart, then the dispatched ones walked
    red first, newest report first; every page size gives the whole board in that order, each case
    once, for the call center and for a branch (whose scope the walk keeps)."""
    cc = actor_for("callcenter")
    later = register(session, cc, "GD-T2B", "gz", "gz_surveyor1", estimate="300000", reported="2026-11-19 10:00")
    colours = {"gd_t2": "red", later: "red", "zj_t1": "blue", "gd_waiting": "yellow", "gd_reported": "blue"}
    for key, colour in colours.items():
        session.execute(update(ClaimCase).where(ClaimCase.id == board_cases.get(key, key)).values(risk_colour=colour))
    session.commit()
    expected = {  # awaiting dispatch, awaiting an estimate; then red (newest report first), blue
        "callcenter": ["GD-W", "GD-R", "GD-T2B", "GD-T2", "ZJ-T1"],
        "gd_manager": ["GD-W", "GD-R", "GD-T2B", "GD-T2"],
    }
    for username, order in expected.items():
        actor = actor_for(username)
        whole = board_page(session, actor, BoardFilter(), now=NOW)
        assert numbers(whole) == order and whole.total == len(order), username
        for size in (1, 2, 3):
            paged = [n for offset in range(0, whole.total + size, size)
                     for n in numbers(board_page(session, actor, BoardFilter(), limit=size, offset=offset,
                                                 total=whole.total, now=NOW))]
            assert paged == order, (username, size)
    # The national board's count (kept figures plus the cases awaiting an estimate) is the live one,
    # after a case closes too.
    session.execute(update(ClaimCase).where(ClaimCase.id == board_cases["zj_t1"]).values(state="closed"))
    session.commit()
    assert board_count(session, cc, BoardFilter()) == 4 == session.scalar(board_count_live(cc, BoardFilter()))
    assert numbers(board_page(session, cc, BoardFilter(colour="red"), now=NOW)) == ["GD-T2B", "GD-T2"]
    assert numbers(board_page(session, cc, BoardFilter(view="dispatched"), limit=2, offset=0, now=NOW)) == [
        "GD-T2B", "GD-T2"]


def test_the_boards_reads_are_prepared_planned_for_each_page_and_give_the_plain_rows(session, org, actor_for,
                                                                                     board_cases, monkeypatch):
    """The board's count and its list's two parts run prepared but planned for the page asked
    (force_custom_plan), its rows by id prepared: the same page, row for row, as the plain reads."""
    from sqlalchemy import text

    cc = actor_for("callcenter")
    pages = [board_page(session, cc, BoardFilter(), limit=3, offset=offset, now=NOW) for offset in (0, 3)]
    modes = session.scalar(text("SHOW plan_cache_mode"))
    prepared = set(session.execute(text("SELECT name FROM pg_prepared_statements WHERE name LIKE 'g\\_%'")).scalars())
    session.rollback()
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "off")
    plain = [board_page(session, cc, BoardFilter(), limit=3, offset=offset, now=NOW) for offset in (0, 3)]
    assert pages == plain and [len(p.rows) for p in pages] == [3, 1]
    assert modes == "auto"  # the last read (the rows by id) leaves PostgreSQL's own choice
    # The count, the waiting cases, the dispatched ones and the rows by id: each prepared once.
    assert len(prepared) == 4, prepared
