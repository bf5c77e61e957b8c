"""The late clock and violation counts the database keeps per branch and type (migration 0020):
whatever is written, the overdue tracker's national view read from them says exactly what the
same view counted live from the clocks says, for every branch and type filter; folding the rows
(jobs.compact_case_counts) changes their number, never the figures."""
from __future__ import annotations

import pytest

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import delete, func, select, text, update

from dashboard.services.cases.counts import compact_late_counts
from dashboard.services.clocks.appeals import exempted_count
from dashboard.services.clocks.overdue import (
    OverdueFilters, TrackerSummary, _reads_kept_counts, ageing, overdue_counts, overdue_page, tracker_summary,
    violations_by_branch_and_kind,
)
from db.models import Deadline, LateCount, Violation
from tests.factories import make_case


@pytest.fixture
def session(owner_session):
    """As the tables' owner: these tests delete cases, clocks and violations and fold or recount
    the kept rows, which no role of the product may do (migration 0027); the counts must follow
    every write whoever makes it."""
    return owner_session

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
# A due window no clock falls outside: the same clocks, counted live (the kept counts serve only
# views without a window).
EVERYTHING = dict(due_from=date(2000, 1, 1), due_to=date(2100, 1, 1))


def _views(org) -> list[OverdueFilters]:
    gd, zj = org.branch("gd").id, org.branch("zj").id
    return [OverdueFilters(), OverdueFilters(branch_id=gd), OverdueFilters(branch_id=zj),
            OverdueFilters(kinds=("D2",)), OverdueFilters(branch_id=gd, kinds=("D2", "D5")),
            OverdueFilters(statuses=("met_late",)), OverdueFilters(statuses=("overdue", "met_late"), branch_id=gd)]


def _assert_kept_equals_live(session, org, actor) -> None:
    session.expire_all()
    for view in _views(org):
        live = replace(view, **EVERYTHING)
        assert _reads_kept_counts(actor, view) and not _reads_kept_counts(actor, live)
        assert overdue_counts(session, actor, view, now=NOW) == overdue_counts(session, actor, live, now=NOW), view
        assert violations_by_branch_and_kind(session, actor, view) == \
            violations_by_branch_and_kind(session, actor, live), view
        assert overdue_page(session, actor, view, limit=100, now=NOW) == \
            overdue_page(session, actor, live, limit=100, now=NOW), view
        for filters in (view, live):  # the page's one-statement summary says what the three reads say
            assert tracker_summary(session, actor, filters, now=NOW) == TrackerSummary(
                overdue_counts(session, actor, filters, now=NOW), ageing(session, actor, filters, now=NOW),
                violations_by_branch_and_kind(session, actor, filters), exempted_count(session, actor)), filters
    branch_person = actor_for_branch(session, org)
    for view in (OverdueFilters(), OverdueFilters(kinds=("D2",))):
        assert tracker_summary(session, branch_person, view, now=NOW) == TrackerSummary(
            overdue_counts(session, branch_person, view, now=NOW), ageing(session, branch_person, view, now=NOW),
            violations_by_branch_and_kind(session, branch_person, view), exempted_count(session, branch_person))


def actor_for_branch(session, org):
    from dashboard.services.actor import load_actor
    return load_actor(session, org.person("gd_manager"))


def _clock(case, kind, due, met=None, n=0) -> Deadline:
    return Deadline(case_id=case.id, branch_id=case.branch_id, kind=kind, subject_key=f"late:{kind}:{case.id}:{n}",
                    started_at=due - 24 * H, due_at=due, met_at=met)


def test_kept_late_counts_follow_every_write_and_survive_folding(session, org, actor_for):
    admin = actor_for("admin")
    _assert_kept_equals_live(session, org, admin)  # nothing yet
    gz, hz = make_case(session, org, "gz", tier="T1"), make_case(session, org, "hz", tier="T2")
    session.add_all([_clock(gz, "D2", NOW - 10 * H, NOW - 5 * H, 1), _clock(gz, "D5", NOW - 30 * H, NOW, 2),
                     _clock(gz, "D3", NOW - 2 * H, None, 3), _clock(hz, "D2", NOW - 8 * H, NOW - 9 * H, 4),
                     _clock(hz, "D2", NOW - 50 * H, NOW - H, 5), _clock(hz, "D5", NOW + 2 * H, None, 6)])
    session.commit()
    _assert_kept_equals_live(session, org, admin)
    assert overdue_counts(session, admin, OverdueFilters(), now=NOW)["met_late"] == 3
    ids = dict(session.execute(select(Deadline.subject_key, Deadline.id)).all())
    # Met late; a met-late clock cancelled; another deleted; one given another person (no change).
    session.execute(update(Deadline).where(Deadline.id == ids[f"late:D3:{gz.id}:3"]).values(met_at=NOW))
    session.execute(update(Deadline).where(Deadline.id == ids[f"late:D5:{gz.id}:2"]).values(cancelled_at=NOW))
    session.execute(update(Deadline).where(Deadline.case_id == hz.id).values(responsible_person_id=org.person("hz_claims")))
    session.commit()
    _assert_kept_equals_live(session, org, admin)
    person = org.person("gd_manager")
    session.add_all([
        Violation(deadline_id=ids[f"late:D2:{gz.id}:1"], person_id=person, case_id=gz.id, branch_id=gz.branch_id,
                  kind="D2", due_at=NOW - 10 * H, found_at=NOW),
        Violation(deadline_id=ids[f"late:D2:{gz.id}:1"], person_id=org.person("gz_claims"), case_id=gz.id,
                  branch_id=gz.branch_id, kind="D2", due_at=NOW - 10 * H, found_at=NOW),
        Violation(deadline_id=ids[f"late:D2:{hz.id}:5"], person_id=person, case_id=hz.id, branch_id=None,
                  kind="D2", due_at=NOW - 50 * H, found_at=NOW)])  # a violation without a branch: "—"
    session.commit()
    _assert_kept_equals_live(session, org, admin)
    assert ("—", "D2", 1) in violations_by_branch_and_kind(session, admin, OverdueFilters())
    session.execute(delete(Violation).where(Violation.person_id == org.person("gz_claims")))
    session.execute(delete(Violation).where(Violation.deadline_id == ids[f"late:D2:{hz.id}:5"]))
    session.execute(delete(Deadline).where(Deadline.id == ids[f"late:D2:{hz.id}:5"]))
    session.commit()
    _assert_kept_equals_live(session, org, admin)
    rows_before = session.scalar(select(func.count()).select_from(LateCount))
    assert compact_late_counts(session) == (rows_before, session.scalar(select(func.count()).select_from(LateCount)))
    session.commit()
    assert session.scalar(select(func.count()).select_from(LateCount)) < rows_before
    _assert_kept_equals_live(session, org, admin)


def test_branch_people_and_narrower_filters_are_counted_live(session, org, actor_for):
    assert not _reads_kept_counts(actor_for("gd_manager"), OverdueFilters())
    admin = actor_for("admin")
    for narrower in (OverdueFilters(sub_branch_id=org.sub_branch("gz").id), OverdueFilters(tiers=("T1",)),
                     OverdueFilters(person="张"), OverdueFilters(due_from=date(2026, 1, 1))):
        assert not _reads_kept_counts(admin, narrower)
    assert _reads_kept_counts(admin, OverdueFilters(person="  "))


def test_the_upgrade_gives_clocks_their_case_branch_and_counts_what_was_there(session, org, db_url):
    case = make_case(session, org, "gz", tier="T1")
    session.commit()
    from alembic import command

    from db.schema import alembic_config
    command.downgrade(alembic_config(db_url), "0019")
    session.execute(text("""INSERT INTO deadline (case_id, branch_id, kind, subject_key, started_at, due_at, met_at)
                            VALUES (:case, NULL, 'D2', 'old:1', :due - interval '1 day', :due, :met)"""),
                    {"case": case.id, "due": NOW, "met": NOW + H})
    session.commit()
    command.upgrade(alembic_config(db_url), "head")
    assert session.scalar(select(Deadline.branch_id).where(Deadline.subject_key == "old:1")) == case.branch_id
    assert session.execute(select(LateCount.branch_id, LateCount.kind, LateCount.clocks_met_late)).all() == \
        [(case.branch_id, "D2", 1)]
