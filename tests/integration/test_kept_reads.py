"""Reads kept in the process for speed (services.reference lists, services.statements built once)
must never serve stale rules or one person's scope to another."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from dashboard.services import reference
from dashboard.services.dispatching.board import BoardFilter, board_count, board_page, tier_choices
from dashboard.services.cases.intake import CaseInput, register_case
from dashboard.services.review.queue import queue_branch_choices
from dashboard.rules.tier_bands import BandInput
from dashboard.services.admin.tier_admin import decide_branch_request, request_branch_subtiers
from db.models import OrgUnit

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
SPLIT = [BandInput("T1A", "50000", "80000", ["sub_head"]), BandInput("T1B", "80000", "500000", ["sub_head"])]


def _register(session, actor, case_no, sub, surveyor, estimate):
    return register_case(session, actor, CaseInput(
        case_no=case_no, report_time="2026-11-20 09:00", accident_time="2026-11-17 08:00", province="省", city="市",
        address="路", business_line="motor", policy_no="P", insured_name="甲", reporter_name="甲",
        accident_type="collision", sub_branch=sub, surveyor=surveyor, initial_estimate=estimate), now=NOW).case_id


def test_an_approved_branch_split_shows_in_the_tier_filter_at_once(session, org, actor_for):
    callcenter = actor_for("callcenter")
    before = tier_choices(session)  # read, and now kept for a minute
    assert "T1A" not in before
    admin = actor_for("admin")
    request_id = request_branch_subtiers(session, actor_for("gd_manager"), org.branch("gd").id, SPLIT, now=NOW)
    assert tier_choices(session) == before  # a pending request gives no case a tier
    decide_branch_request(session, admin, request_id, approve=True, now=NOW)
    session.commit()
    assert {"T1A", "T1B"} <= set(tier_choices(session))
    assert board_count(session, callcenter, BoardFilter(tier="T1A")) == 0


def test_kept_lists_are_kept_per_engine_and_read_again_once_forgotten(session, org, db_url):
    """Keyed by the engine (one per database URL), so two databases in one process never share a list."""
    assert {name for _, name in queue_branch_choices(session)} == {b.name for b in org.branches}
    other_engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        with sessionmaker(other_engine)() as other:
            renamed = other.scalars(select(OrgUnit).where(OrgUnit.level == "branch").order_by(OrgUnit.code)).first()
            renamed.name = "改名分公司"
            other.commit()
            assert queue_branch_choices(other)[0] == (renamed.id, "改名分公司")  # its own first read
            reference.forget()
            session.commit()  # a new transaction sees the committed rename
            assert dict(queue_branch_choices(session))[renamed.id] == "改名分公司"
    finally:
        other_engine.dispose()


def test_a_statement_built_for_one_person_is_never_used_for_another(session, org, actor_for):
    callcenter, manager = actor_for("callcenter"), actor_for("gd_manager")
    cc = actor_for("callcenter")
    _register(session, cc, "GD-T2", "sz", "sz_surveyor1", "300000")
    _register(session, cc, "ZJ-T1", "hz", "hz_surveyor1", "80000")
    session.commit()
    same_filters = BoardFilter()
    national = board_page(session, callcenter, same_filters, now=NOW)
    assert {r.case_no for r in national.rows} == {"GD-T2", "ZJ-T1"}
    # The same filters and page, another person: their own scope, not the call center's statement.
    branch = board_page(session, manager, same_filters, now=NOW)
    assert (branch.total, [r.case_no for r in branch.rows]) == (1, ["GD-T2"])
    assert board_count(session, manager, same_filters) == 1
    # And back: the national statement still sees both.
    assert board_page(session, callcenter, same_filters, now=NOW).total == 2


def test_a_list_read_in_the_same_session_sees_changes_not_yet_flushed(session, org, actor_for):
    """statements.read runs on the session's connection: it flushes pending changes first, as
    session.execute would, so a page that writes then lists in one session lists what it wrote."""
    from db.models import ClaimCase

    callcenter = actor_for("callcenter")
    case_id = _register(session, callcenter, "GD-S", "gz", "gz_surveyor1", "20000")  # T0: not on the board
    session.commit()
    assert board_count(session, callcenter, BoardFilter(tier="T2")) == 0
    session.get(ClaimCase, case_id).tier = "T2"  # pending, not flushed
    assert session.dirty
    assert board_count(session, callcenter, BoardFilter(tier="T2")) == 1
    session.rollback()
    assert board_count(session, callcenter, BoardFilter(tier="T2")) == 0
