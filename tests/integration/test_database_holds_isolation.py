"""The database holds branch isolation and the record tables by itself (issue 18, issue 25 #2).

A branch person calls every service read and write against another branch's case: nothing comes
back and nothing is written — with the application's checks, and again with them switched off
(the actor made to look national to the application), so that only row-level security and the
grants of migration 0027 stand between them and the case. The record tables only grow for the
roles the dashboard and the jobs connect as, whatever those roles try.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from dashboard.services.cases.major import flag_major, major_cases, owner_choices
from dashboard.services.complaints.register import (
    ItemForm, StepInput, advance_item, assign_item, complaint_items, item_detail, register_item,
)
from dashboard.services.special_cases.approvals import SpecialRequest, decide_special, raise_special, special_cases, special_detail
from dashboard.services.special_cases.report import special_report
from dashboard.services.cases.risk import update_risk_facts
from dashboard.services.dispatching.board import dispatch_phones
from dashboard.services.actor import Actor
from dashboard.services.statements import forget_built_statements
from dashboard.services.cases.detail import case_detail, find_case_id
from dashboard.services.cases.counts import visible_counts
from dashboard.services.cases.state import advance_state
from dashboard.services.clocks.overdue import OverdueFilters, overdue_export, overdue_page
from dashboard.services.dispatching.board import (BoardFilter, board_case, board_case_id, board_page,
                                                  case_dispatches, case_last_change)
from dashboard.services.dispatching.dispatch import name_delegate, record_estimate
from dashboard.services.evidence.materials import case_materials, fetch_material
from dashboard.services.evidence.uploads import record_upload
from dashboard.services.figures.home import home_figures, my_open_tasks
from dashboard.services.review.opinions import (answer_points, branch_inbox, branch_opinion, case_facts,
                                                case_opinions, post_review_opinion, tracker_register)
from dashboard.services.review.supervision import (case_first_responsibles, open_supervision_opinions,
                                                   post_progress_note, supervision_thread)
from db.engine import APP_ROLE, JOB_ROLE, connect_options, normalise_url
from db.models import Dispatch, OpinionPoint, Upload
from tests import sample_files
from tests.factories import T0
from tests.review_support import tiered_case

# Tables holding case data: row-level security on each (migration 0027).
CASE_TABLES = {"claim_case", "estimate", "dispatch", "contact_attempt", "upload", "deadline", "violation",
               "review_queue_entry", "opinion", "opinion_point", "point_answer", "point_verdict", "progress_note",
               "weekly_summary", "notification", "case_event", "case_figures", "case_count", "late_count",
               "special_case", "special_approval", "complaint_item", "complaint_step", "branch_financials",
               "violation_appeal", "scorecard_cell", "violation_week", "case_figures_day", "case_tally_day"}
# Tables of what happened: inserted and read, never changed, by the product's roles.
RECORD_TABLES = ("case_event", "estimate", "contact_attempt", "upload", "violation", "point_answer",
                 "point_verdict", "progress_note", "sign_in_attempt", "special_approval", "complaint_step")
SECRET = "只给广州看的审核要点"


@pytest.fixture
def gz_case(session, org, actor_for, tmp_path, monkeypatch):
    """A tiered case of 广州 with a dispatch, material and an HQ opinion."""
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
    case = tiered_case(session, org, "gz")
    record_upload(session, actor_for("gz_surveyor1"), case.id, "survey_report", "查勘报告.pdf", sample_files.pdf(),
                  now=T0 + timedelta(hours=2))
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, [SECRET, "第二点"],
                                     now=T0 + timedelta(hours=3))
    session.refresh(case)
    flag_major(session, actor_for("gd_manager"), case.id, "social_impact", org.person("gd_gm"),
               expected_version=case.version, now=T0 + timedelta(hours=3))
    raise_special(session, actor_for("gd_manager"), case.id, _special_request(), now=T0 + timedelta(hours=3))
    register_item(session, actor_for("gd_manager"), ItemForm(
        kind="complaint", cause="speed", channel="phone", case_no=case.case_no, complainant="李女士", summary=SECRET,
        received_on=T0.date(), assignee_id=org.person("gz_claims")), now=T0 + timedelta(hours=3))
    session.refresh(case)
    return case, opinion_id


def _special_request() -> SpecialRequest:
    return SpecialRequest(special_type="B", customer_kind="reputation", requested_amount="9000", normal_amount="1000",
                          reason=SECRET, customer_background="省重点企业")


def _ids(session, case_id: int, opinion_id: int) -> dict[str, int]:
    return {"upload": session.scalar(text("SELECT id FROM upload WHERE case_id = :c"), {"c": case_id}),
            "dispatch": session.scalar(text("SELECT id FROM dispatch WHERE case_id = :c LIMIT 1"), {"c": case_id}),
            "point": session.scalar(text("SELECT min(id) FROM opinion_point WHERE opinion_id = :o"), {"o": opinion_id}),
            "special": session.scalar(text("SELECT id FROM special_case WHERE case_id = :c"), {"c": case_id}),
            "item": session.scalar(text("SELECT id FROM complaint_item WHERE case_id = :c"), {"c": case_id})}


def _checksum(owner_session) -> dict[str, tuple[int, str]]:
    """Rows and an md5 of every case table, read as the owner (what is really there)."""
    out = {}
    for table in sorted(CASE_TABLES):
        out[table] = owner_session.execute(text(
            f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {table} t")).one()
    owner_session.rollback()
    return {k: tuple(v) for k, v in out.items()}


def _reads(session, actor_for, case, opinion_id, ids):
    manager, tracker, claims = actor_for("zj_manager"), actor_for("zj_tracker"), actor_for("hz_claims")
    return {
        "case_detail": lambda: case_detail(session, manager, case.id),
        "find_case_id": lambda: find_case_id(session, manager, case.case_no),
        "case_materials": lambda: case_materials(session, manager, case.id),
        "fetch_material": lambda: fetch_material(session, manager, ids["upload"]),
        "case_opinions": lambda: case_opinions(session, manager, case.id),
        "case_facts": lambda: case_facts(session, manager, case.id),
        "branch_opinion": lambda: branch_opinion(session, manager, opinion_id),
        "supervision_thread": lambda: supervision_thread(session, claims, case.id),
        "open_supervision_opinions": lambda: open_supervision_opinions(session, claims, case.id),
        "case_first_responsibles": lambda: case_first_responsibles(session, claims, case.id),
        "board_case": lambda: board_case(session, manager, case.id),
        "board_case_id": lambda: board_case_id(session, manager, case.case_no),
        "case_dispatches": lambda: case_dispatches(session, manager, case.id),
        "case_last_change": lambda: case_last_change(session, manager, case.id),
        "branch_inbox": lambda: branch_inbox(session, manager),
        "tracker_register": lambda: tracker_register(session, tracker, include_closed=True),
        "board_page": lambda: board_page(session, manager, BoardFilter()),
        "overdue_page": lambda: overdue_page(session, manager, OverdueFilters(), now=T0 + timedelta(days=30)),
        "overdue_export": lambda: overdue_export(session, manager, OverdueFilters(), now=T0 + timedelta(days=30)),
        "visible_counts": lambda: visible_counts(session, manager),
        "home_figures": lambda: home_figures(session, claims),
        "my_open_tasks": lambda: my_open_tasks(session, claims),
        "major_cases": lambda: major_cases(session, manager, pending_only=False),
        "dispatch_phones": lambda: dispatch_phones(session, manager, case.id),
        "owner_choices": lambda: owner_choices(session, manager, case.id),
        "special_cases": lambda: special_cases(session, manager),
        "special_detail": lambda: special_detail(session, manager, ids["special"]),
        "special_report": lambda: special_report(session, manager, date_from=T0.date() - timedelta(days=400),
                                                 date_to=T0.date() + timedelta(days=400), by="branch"),
        "complaint_items": lambda: complaint_items(session, manager, search=case.case_no),
        "item_detail": lambda: item_detail(session, manager, ids["item"]),
    }


def _writes(session, actor_for, case, ids):
    surveyor, manager, claims = actor_for("hz_surveyor1"), actor_for("zj_manager"), actor_for("hz_claims")
    return {
        "record_estimate": lambda: record_estimate(session, surveyor, case.id, 990000, now=T0 + timedelta(hours=4)),
        "advance_state": lambda: advance_state(session, manager, case.id, "closed", case.version,
                                               now=T0 + timedelta(hours=4)),
        "record_upload": lambda: record_upload(session, surveyor, case.id, "survey_report", "x.pdf", sample_files.pdf(),
                                               now=T0 + timedelta(hours=4)),
        "answer_points": lambda: answer_points(session, manager, {ids["point"]: "外分公司的回复"},
                                               now=T0 + timedelta(hours=4)),
        "post_progress_note": lambda: post_progress_note(session, claims, case.id, "外分公司的进展",
                                                         now=T0 + timedelta(hours=4)),
        "name_delegate": lambda: name_delegate(session, claims, ids["dispatch"], claims.person_id,
                                               now=T0 + timedelta(hours=4)),
        "update_risk_facts": lambda: update_risk_facts(session, surveyor, case.id, {"accident_handling": "private"},
                                                       expected_version=case.version),
        "flag_major": lambda: flag_major(session, manager, case.id, "social_impact", manager.person_id,
                                         expected_version=case.version),
        "raise_special": lambda: raise_special(session, manager, case.id, _special_request()),
        "decide_special": lambda: decide_special(session, actor_for("zj_gm"), ids["special"], "approved", "同意",
                                                 expected_version=1),
        "register_item": lambda: register_item(session, manager, ItemForm(
            kind="complaint", cause="speed", channel="phone", case_no=case.case_no, complainant="王", summary="x",
            received_on=T0.date())),
        "assign_item": lambda: assign_item(session, manager, ids["item"], manager.person_id, expected_version=1),
        "advance_item": lambda: advance_item(session, manager, ids["item"], "handled",
                                             StepInput(handling_result="x", justified=False), expected_version=1),
    }


def _leaks(result, case) -> bool:
    shown = repr(result)
    return case.case_no in shown or SECRET in shown or f"case_id={case.id}," in shown


def _attempt(session, call):
    """(what came back or None, whether it was refused)."""
    try:
        return call(), False
    except Exception:  # noqa: BLE001 - any refusal: not found, not permitted, or the database's own
        session.rollback()
        return None, True


@pytest.mark.parametrize("checks", ["application and database", "database alone"])
def test_a_branch_person_reads_and_changes_nothing_of_another_branchs_case(
        checks, session, owner_session, org, actor_for, gz_case, monkeypatch, request):
    case, opinion_id = gz_case
    ids = _ids(owner_session, case.id, opinion_id)
    owner_session.rollback()
    if checks == "database alone":
        # The application now believes every actor may see every branch: its scope conditions and
        # its "is this case yours" checks all pass. Only the database's scope remains.
        monkeypatch.setattr(Actor, "is_national", property(lambda self: True))
        # Statements are kept by the person: none built with the application's checks on may
        # serve this run, and none built with them off may outlive it.
        forget_built_statements()
        request.addfinalizer(forget_built_statements)
        assert case_detail(owner_session, actor_for("zj_manager"), case.id).facts.case_no == case.case_no, \
            "the application's checks are not switched off: this test would prove nothing"
        owner_session.rollback()
    before = _checksum(owner_session)
    reads = _reads(session, actor_for, case, opinion_id, ids)
    leaked = []
    for name, call in reads.items():
        result, refused = _attempt(session, call)
        if not refused and _leaks(result, case):
            leaked.append(name)
    assert leaked == [], f"{checks}: another branch's case was shown by {leaked}"
    written = []
    for name, call in _writes(session, actor_for, case, ids).items():
        _, refused = _attempt(session, call)
        session.rollback()
        if _checksum(owner_session) != before:
            written.append(name)
            before = _checksum(owner_session)
        elif not refused and checks == "application and database":
            written.append(f"{name} (answered as if done)")
    assert written == [], f"{checks}: another branch's case was changed by {written}"
    assert len(reads) == 30 and len(_writes(session, actor_for, case, ids)) == 13


def test_the_same_reads_show_the_case_to_its_own_branch(session, org, actor_for, gz_case):
    """The counterpart: the reads above do show the case to a person of its branch (they can fail)."""
    case, opinion_id = gz_case
    manager = actor_for("gd_manager")
    assert case_detail(session, manager, case.id).facts.case_no == case.case_no
    assert SECRET in repr(branch_opinion(session, manager, opinion_id))
    assert case.case_no in repr(branch_inbox(session, manager))
    assert case.case_no in repr(major_cases(session, manager))
    assert case.case_no in repr(special_cases(session, manager))
    assert case.case_no in repr(complaint_items(session, manager, search=case.case_no))


def test_every_case_table_has_row_level_security_and_no_role_of_the_product_owns_or_bypasses(owner_session):
    tables = dict(owner_session.execute(text(
        "SELECT c.relname, c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")).tuples().all())
    assert {t for t, secured in tables.items() if secured} == CASE_TABLES
    owners = set(owner_session.scalars(text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")))
    assert not owners & {APP_ROLE, JOB_ROLE}
    roles = owner_session.execute(text(
        "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname IN (:a, :j)"),
        {"a": APP_ROLE, "j": JOB_ROLE}).tuples().all()
    assert sorted(roles) == [(APP_ROLE, False, False, False), (JOB_ROLE, False, False, False)]


def test_a_transaction_without_a_scope_sees_no_case(db_url, session, org, gz_case):
    case, _ = gz_case
    engine = create_engine(normalise_url(db_url), connect_args={"options": connect_options(APP_ROLE)})
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT current_user")) == APP_ROLE
            assert conn.scalar(text("SELECT count(*) FROM claim_case")) == 0
            assert conn.scalar(text("SELECT count(*) FROM opinion_point")) == 0
            assert conn.scalar(text("SELECT count(*) FROM case_event WHERE case_id IS NOT NULL")) == 0
            conn.execute(text("SELECT set_config('claims.branches', :b, true)"), {"b": f"{{{case.branch_id}}}"})
            assert conn.scalar(text("SELECT count(*) FROM claim_case")) == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("role", [APP_ROLE, JOB_ROLE])
def test_the_record_tables_only_grow_for_the_roles_the_product_connects_as(role, db_url, session, org, gz_case):
    engine = create_engine(normalise_url(db_url), isolation_level="AUTOCOMMIT",
                           connect_args={"options": connect_options(role)})
    attempts = refused = 0
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT set_config('claims.national', 'on', false)"))
            for table in RECORD_TABLES:
                assert conn.scalar(text(f"SELECT has_table_privilege('{table}', 'INSERT')")), table
                for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}", f"TRUNCATE {table}",
                                  f"ALTER TABLE {table} DISABLE TRIGGER ALL",
                                  f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
                                  "SET session_replication_role = replica"):
                    attempts += 1
                    with pytest.raises(DBAPIError, match="permission denied|must be owner"):
                        conn.execute(text(statement))
                    refused += 1
    finally:
        engine.dispose()
    assert (attempts, refused) == (66, 66)
    assert session.scalar(text("SELECT count(*) FROM case_event")) > 0  # there were rows to change


def test_the_owner_too_is_stopped_by_the_history_trigger(owner_session, org):
    owner_session.execute(text("INSERT INTO case_event (kind, payload) VALUES ('test', '{}')"))
    owner_session.commit()
    for statement in ("UPDATE case_event SET kind = 'changed'", "DELETE FROM case_event", "TRUNCATE case_event"):
        with pytest.raises(DBAPIError, match="append-only"):
            owner_session.execute(text(statement))
        owner_session.rollback()


def test_the_kept_counts_follow_a_branch_persons_write_they_may_not_write_themselves(session, org, actor_for):
    """Triggers keep case_count as the owner: a branch person's new case is counted although the
    role may not write the counts table."""
    case = tiered_case(session, org, "hz")
    assert session.scalar(text("SELECT has_table_privilege('case_count', 'INSERT')")) is False
    assert session.scalar(text("SELECT sum(cases) FROM case_count WHERE sub_branch_id = :s"),
                          {"s": case.sub_branch_id}) == 1
    assert session.get(Dispatch, session.scalar(text("SELECT id FROM dispatch WHERE case_id = :c"), {"c": case.id}))
    assert session.query(OpinionPoint).count() == 0 and session.query(Upload).count() == 0
