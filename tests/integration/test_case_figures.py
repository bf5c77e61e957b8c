"""The per-case figures the database keeps (migration 0019) for the executive overview: whoever
writes clocks, violations or review points, one row or many in one statement, inserts, updates or
deletes them, the kept figures equal the same figures counted from the rows themselves; and two
people changing one case's clocks at once do not lose either change."""
from __future__ import annotations

import pytest

import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.orm import Session

from dashboard.services.clocks.appeals import sql_not_exempt
from db.models import CaseFigures, Deadline, Opinion, OpinionPoint, Violation, ViolationAppeal
from tests.factories import make_case


@pytest.fixture
def session(owner_session):
    """As the tables' owner: these tests delete cases, clocks and violations and fold or recount
    the kept rows, which no role of the product may do (migration 0027); the counts must follow
    every write whoever makes it."""
    return owner_session

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
KINDS = ("D1", "D2", "D3", "D4", "D5", "D6", "D7")


def _live(session) -> dict[int, dict[str, float]]:
    """Every case's figures counted from deadline, violation and opinion_point (zero rows left out)."""
    figures: dict[int, dict[str, float]] = {}

    def add(case_id: int, name: str, value) -> None:
        if value:
            figures.setdefault(case_id, {})[name] = figures.get(case_id, {}).get(name, 0) + value

    for case_id, kind, due, met in session.execute(
            select(Deadline.case_id, Deadline.kind, Deadline.due_at, Deadline.met_at)
            .where(Deadline.case_id.is_not(None), Deadline.cancelled_at.is_(None))):
        for prefix in ("", f"{kind.lower()}_") if kind in ("D2", "D3") else ("",):
            add(case_id, f"{prefix}clocks", 1)
            add(case_id, f"{prefix}clocks_met" if not prefix else f"{prefix}met", met is not None)
            add(case_id, f"{prefix}clocks_on_time" if not prefix else f"{prefix}on_time",
                met is not None and met <= due)
    for case_id, kind in session.execute(select(Violation.case_id, Violation.kind)  # exempt ones left out
                                         .where(Violation.case_id.is_not(None), sql_not_exempt(Violation.id))):
        add(case_id, f"violations_{kind.lower()}", 1)
    for case_id, status, count, seconds in session.execute(
            select(Opinion.case_id, OpinionPoint.status, OpinionPoint.answer_count, OpinionPoint.answer_seconds)
            .join(Opinion, Opinion.id == OpinionPoint.opinion_id)
            .where(Opinion.kind == "hq_review", Opinion.case_id.is_not(None))):
        add(case_id, "hq_open_points", status in ("open", "sent_back"))
        add(case_id, "hq_answer_count", count)
        add(case_id, "hq_answer_seconds", seconds)
    return figures


def _kept(session) -> dict[int, dict[str, float]]:
    session.expire_all()
    names = [c.name for c in CaseFigures.__table__.columns if c.name != "case_id"]
    kept = {}
    for row in session.scalars(select(CaseFigures)):
        values = {n: getattr(row, n) for n in names if getattr(row, n)}
        if values:
            kept[row.case_id] = values
    return kept


def _assert_kept_is_live(session) -> None:
    assert _kept(session) == _live(session)


def _clock(case, kind: str, due: datetime, met: datetime | None = None, n: int = 0, branch_id: int | None = None
           ) -> Deadline:
    return Deadline(case_id=case.id if case else None, branch_id=case.branch_id if case else branch_id, kind=kind,
                    subject_key=f"figures:{kind}:{case.id if case else 'branch'}:{n}", started_at=due - 24 * H,
                    due_at=due, met_at=met)


def test_kept_figures_follow_every_write_to_clocks_violations_and_review_points(session, org):
    a, b = make_case(session, org, "gz", tier="T1"), make_case(session, org, "hz", tier="T2")
    _assert_kept_is_live(session)  # nothing kept yet
    # Many clocks in one statement, of two cases; a branch-level D6 clock belongs to no case.
    clocks = [_clock(a, "D2", NOW, NOW - H, 1), _clock(a, "D3", NOW + 48 * H, None, 2),
              _clock(a, "D5", NOW - H, NOW + H, 3), _clock(b, "D2", NOW, NOW + 2 * H, 4),
              _clock(b, "D3", NOW + H, None, 5), _clock(None, "D6", NOW, None, 6, a.branch_id)]
    session.execute(Deadline.__table__.insert(), [
        {c.name: getattr(d, c.name) for c in Deadline.__table__.columns if c.name != "id"} for d in clocks])
    session.commit()
    _assert_kept_is_live(session)
    assert _kept(session)[a.id] == {"clocks": 3, "clocks_met": 2, "clocks_on_time": 1, "d2_clocks": 1, "d2_met": 1,
                                    "d2_on_time": 1, "d3_clocks": 1}
    ids = dict(session.execute(select(Deadline.subject_key, Deadline.id)).all())
    # Met (on time and late), cancelled, given another person (no figure changes), deleted.
    session.execute(update(Deadline).where(Deadline.id == ids[f"figures:D3:{a.id}:2"]).values(met_at=NOW))
    session.execute(update(Deadline).where(Deadline.id == ids[f"figures:D3:{b.id}:5"]).values(met_at=NOW + 3 * H))
    session.execute(update(Deadline).where(Deadline.id == ids[f"figures:D5:{a.id}:3"]).values(cancelled_at=NOW))
    session.execute(update(Deadline).where(Deadline.case_id.in_([a.id, b.id]))
                    .values(responsible_person_id=org.person("gz_claims")))
    session.commit()
    _assert_kept_is_live(session)
    # Violations: several in one statement, one deleted; a branch-level one belongs to no case.
    person = org.person("gd_manager")
    session.add_all([Violation(deadline_id=ids[f"figures:D2:{b.id}:4"], person_id=person, case_id=b.id,
                               branch_id=b.branch_id, kind="D2", due_at=NOW, found_at=NOW),
                     Violation(deadline_id=ids[f"figures:D2:{b.id}:4"], person_id=org.person("gz_claims"),
                               case_id=b.id, branch_id=b.branch_id, kind="D2", due_at=NOW, found_at=NOW),
                     Violation(deadline_id=ids[f"figures:D5:{a.id}:3"], person_id=person, case_id=a.id,
                               branch_id=a.branch_id, kind="D5", due_at=NOW - H, found_at=NOW),
                     Violation(deadline_id=ids["figures:D6:branch:6"], person_id=person, case_id=None,
                               branch_id=a.branch_id, kind="D6", due_at=NOW, found_at=NOW)])
    session.commit()
    _assert_kept_is_live(session)
    assert _kept(session)[b.id]["violations_d2"] == 2
    # An appeal accepted (filed pending, then decided) exempts one: the kept figure drops with it;
    # a rejected one changes nothing.
    appealed, kept_one = session.scalars(select(Violation.id).where(Violation.case_id == b.id)
                                         .order_by(Violation.id)).all()
    session.add_all([ViolationAppeal(violation_id=appealed, person_id=person, reason="系统故障", filed_at=NOW),
                     ViolationAppeal(violation_id=kept_one, person_id=org.person("gz_claims"), reason="转交",
                                     filed_at=NOW)])
    session.commit()
    session.execute(update(ViolationAppeal).where(ViolationAppeal.violation_id == appealed).values(
        status="accepted", decided_by=org.person("admin"), decided_at=NOW, comment="属实"))
    session.execute(update(ViolationAppeal).where(ViolationAppeal.violation_id == kept_one).values(
        status="rejected", decided_by=org.person("admin"), decided_at=NOW, comment="不予豁免"))
    session.commit()
    _assert_kept_is_live(session)
    assert _kept(session)[b.id]["violations_d2"] == 1
    session.execute(delete(Violation).where(Violation.case_id == a.id))
    session.commit()
    _assert_kept_is_live(session)
    # HQ review points (a supervision opinion's do not count): posted, answered, sent back, deleted.
    review = Opinion(case_id=a.id, branch_id=a.branch_id, kind="hq_review", author_id=org.person("reviewer"),
                     posted_at=NOW)
    other = Opinion(case_id=a.id, branch_id=a.branch_id, kind="supervision", author_id=org.person("supervisor"),
                    posted_at=NOW)
    session.add_all([review, other])
    session.flush()
    session.add_all([OpinionPoint(opinion_id=review.id, seq=s, body=f"要点{s}") for s in (1, 2, 3)]
                    + [OpinionPoint(opinion_id=other.id, seq=1, body="督导")])
    session.commit()
    _assert_kept_is_live(session)
    assert _kept(session)[a.id]["hq_open_points"] == 3
    session.execute(update(OpinionPoint).where(OpinionPoint.opinion_id == review.id, OpinionPoint.seq < 3)
                    .values(status="answered", answer_count=OpinionPoint.answer_count + 1,
                            answer_seconds=OpinionPoint.answer_seconds + 7200))
    session.execute(update(OpinionPoint).where(OpinionPoint.opinion_id == review.id, OpinionPoint.seq == 2)
                    .values(status="sent_back"))
    session.commit()
    _assert_kept_is_live(session)
    assert {k: _kept(session)[a.id][k] for k in ("hq_open_points", "hq_answer_count", "hq_answer_seconds")} == \
        {"hq_open_points": 2, "hq_answer_count": 2, "hq_answer_seconds": 14400}
    session.execute(delete(OpinionPoint).where(OpinionPoint.opinion_id == review.id, OpinionPoint.seq == 3))
    session.commit()
    _assert_kept_is_live(session)


def test_two_people_meeting_clocks_of_one_case_at_once_both_count(session, org, db_url):
    case = make_case(session, org, "gz", tier="T1")
    session.add_all([_clock(case, "D2", NOW, None, 1), _clock(case, "D3", NOW + 48 * H, None, 2)])
    session.commit()
    d2, d3 = (session.scalar(select(Deadline.id).where(Deadline.kind == k, Deadline.case_id == case.id))
              for k in ("D2", "D3"))
    engine = create_engine(db_url)
    try:
        first, second = Session(engine), Session(engine)
        first.execute(update(Deadline).where(Deadline.id == d2).values(met_at=NOW - H))  # holds the case's row
        done = threading.Event()

        def meet_d3() -> None:
            second.execute(update(Deadline).where(Deadline.id == d3).values(met_at=NOW))  # waits for `first`
            second.commit()
            done.set()

        worker = threading.Thread(target=meet_d3)
        worker.start()
        assert not done.wait(0.5), "the second writer should wait for the first one's row"
        first.commit()
        worker.join(10)
        assert done.is_set()
        first.close()
        second.close()
    finally:
        engine.dispose()
    _assert_kept_is_live(session)
    assert _kept(session)[case.id] == {"clocks": 2, "clocks_met": 2, "clocks_on_time": 2, "d2_clocks": 1,
                                       "d2_met": 1, "d2_on_time": 1, "d3_clocks": 1, "d3_met": 1, "d3_on_time": 1}


def test_the_upgrade_counts_what_was_already_there(session, org, db_url):
    """Rows written before 0019 (its triggers dropped to stand for that) are counted by the upgrade."""
    case = make_case(session, org, "gz", tier="T1")
    session.execute(text("ALTER TABLE deadline DISABLE TRIGGER USER"))
    session.add_all([_clock(case, "D2", NOW, NOW - H, 1), _clock(case, "D3", NOW, NOW + H, 2)])
    session.flush()
    session.execute(text("ALTER TABLE deadline ENABLE TRIGGER USER"))
    session.commit()
    assert _kept(session) == {}
    session.commit()  # release the table before the migration drops and re-creates it
    from alembic import command

    from db.schema import alembic_config
    command.downgrade(alembic_config(db_url), "0018")
    command.upgrade(alembic_config(db_url), "head")
    _assert_kept_is_live(session)
    assert _kept(session)[case.id]["clocks_on_time"] == 1
