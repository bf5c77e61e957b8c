"""The violation job's incremental run (migration 0036, docs/SCALING.md step 5): it reads only the
clocks that fell due or changed since the previous run, moves its watermark in the same
transaction, and the first run and the nightly full pass read every clock that can be late.

"Old" clocks are staged by moving their `updated_at` a day back (as the table's owner: a change of
that column alone fires no trigger), as if they were written long before the job's previous run."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dashboard.services.clocks.violations import (
    SAFETY_MARGIN, FlagResult, Watermark, read_watermark, record_violations_since_last_run,
)
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.evidence.uploads import record_upload
from db.models import Deadline, Violation
from db.schema import alembic_config
from jobs import flag_overdue, flag_overdue_full
from tests import sample_files
from tests.factories import T0, make_case

LATER = T0 + timedelta(hours=80)  # D1, D2 (24 h) and D3 (72 h) of a case tiered at T0 are all late


def _tiered_case(session, org, actor_for, amount=80000):
    """A T1 case dispatched at T0: D1 (surveyor), D2 and D3 (gz_claims) start then."""
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, amount, now=T0)
    return case


@contextmanager
def _job_session(db_url: str) -> Iterator[Session]:
    """A session as the jobs connect (claims_job)."""
    from db.engine import JOB_ROLE, session_factory

    with session_factory(db_url, JOB_ROLE)() as s:
        yield s


def _run(db_url: str, as_of, *, full: bool = False) -> FlagResult:
    """One run of the job's work as the job does it: one transaction, committed."""
    with _job_session(db_url) as s:
        result = record_violations_since_last_run(s, as_of, full=full)
        s.commit()
    return result


def _watermark(db_url: str) -> Watermark | None:
    with _job_session(db_url) as s:
        return read_watermark(s)


def _late_now(session: Session, as_of) -> int:
    """Clocks late as of `as_of` (open past due, or met late): what a full pass reads."""
    return session.scalar(select(func.count()).select_from(Deadline).where(
        Deadline.cancelled_at.is_(None),
        ((Deadline.met_at.is_(None)) & (Deadline.due_at < as_of)) | (Deadline.met_at > Deadline.due_at)))


def _age_every_clock(owner_session: Session) -> None:
    owner_session.execute(text("UPDATE deadline SET updated_at = updated_at - interval '1 day'"))
    owner_session.commit()


def _violations(session: Session) -> list[tuple[int, str, int, str]]:
    session.expire_all()
    return sorted(session.execute(select(Violation.deadline_id, Violation.kind, Violation.person_id,
                                         Violation.charge)).tuples().all())


def _clock(session: Session, case_id: int, kind: str) -> Deadline:
    session.expire_all()
    return session.scalars(select(Deadline).where(Deadline.case_id == case_id, Deadline.kind == kind)).one()


def test_a_run_with_no_watermark_reads_every_late_clock_and_leaves_the_watermark(session, org, actor_for, db_url):
    for _ in range(3):
        _tiered_case(session, org, actor_for)
    assert _watermark(db_url) is None
    first = _run(db_url, LATER)
    assert not first.incremental
    assert first.late_read == _late_now(session, LATER) >= 9  # 3 cases × D1, D2, D3 at least
    assert first.violations == len(_violations(session)) >= 9
    mark = _watermark(db_url)
    assert mark is not None and mark.as_of == LATER


def test_an_incremental_run_reads_only_the_clock_that_fell_due_since_the_last_run(
        session, owner_session, org, actor_for, db_url):
    for _ in range(3):
        _tiered_case(session, org, actor_for)
    new = _tiered_case(session, org, actor_for)
    d3 = _clock(session, new.id, "D3")
    owner_session.execute(text("UPDATE deadline SET due_at = :due WHERE id = :id"),
                          {"due": LATER + timedelta(hours=2), "id": d3.id})
    owner_session.commit()
    _age_every_clock(owner_session)  # every clock written long ago, this one falls due after the first run
    first = _run(db_url, LATER)
    assert first.late_read == _late_now(session, LATER) >= 11
    assert d3.id not in {v[0] for v in _violations(session)}

    second = _run(db_url, LATER + timedelta(hours=3))
    assert second.incremental
    assert second.late_read == 1  # the clock that fell due, not the old late ones again
    assert second.violations == 1
    assert d3.id in {v[0] for v in _violations(session)}
    assert _watermark(db_url).as_of == LATER + timedelta(hours=3)

    again = _run(db_url, LATER + timedelta(hours=3, minutes=5))
    assert (again.late_read, again.violations) == (0, 0)  # nothing fell due or changed since


def test_a_clock_charged_to_a_second_person_after_the_run_is_read_again_and_charges_them(
        session, owner_session, org, actor_for, db_url):
    """第三章 五: the surveyor's late upload of the photo also charges them, after the job has
    already recorded the first responsible's violation of that clock."""
    case = _tiered_case(session, org, actor_for)
    for _ in range(2):
        _tiered_case(session, org, actor_for)
    _age_every_clock(owner_session)
    assert not _run(db_url, T0 + timedelta(hours=25)).incremental
    claims_head = org.person("gz_claims")
    record_upload(session, actor_for("gz_surveyor1"), case.id, "person_vehicle_photo", "photo.jpg",
                  sample_files.jpeg(), on_behalf_of_person_id=claims_head, now=T0 + timedelta(hours=26))
    d2 = _clock(session, case.id, "D2")
    assert d2.also_charged_person_id == case.surveyor_id

    second = _run(db_url, T0 + timedelta(hours=27))
    assert second.incremental
    assert second.late_read == 1  # D2 (changed), due long before the last run; no other old clock
    assert second.violations == 1
    assert [v for v in _violations(session) if v[0] == d2.id] == sorted(
        [(d2.id, "D2", claims_head, "responsible"), (d2.id, "D2", case.surveyor_id, "also_charged")])


def test_an_old_clock_whose_meeting_is_corrected_to_late_is_read_again(session, owner_session, org, actor_for,
                                                                          db_url):
    case = _tiered_case(session, org, actor_for)
    _tiered_case(session, org, actor_for)
    surveyor = actor_for("gz_surveyor1")
    for kind in ("scene_photos", "survey_report", "interview_notes"):
        record_upload(session, surveyor, case.id, kind, f"{kind}.bin", sample_files.for_kind(kind),
                      now=T0 + timedelta(hours=20))
    d1 = _clock(session, case.id, "D1")
    assert d1.met_at == T0 + timedelta(hours=20)  # on time
    _age_every_clock(owner_session)
    _run(db_url, LATER)
    assert d1.id not in {v[0] for v in _violations(session)}
    # A correction: the material was in fact complete only at 30 h (after the 24 h due time).
    owner_session.execute(text("UPDATE deadline SET met_at = :met WHERE id = :id"),
                          {"met": T0 + timedelta(hours=30), "id": d1.id})
    owner_session.commit()
    second = _run(db_url, LATER + timedelta(minutes=5))
    assert (second.incremental, second.late_read, second.violations) == (True, 1, 1)
    assert (d1.id, "D1", case.surveyor_id, "responsible") in _violations(session)


def test_the_watermark_moves_with_the_run_and_a_failed_run_leaves_it(session, org, actor_for, db_url, monkeypatch):
    _tiered_case(session, org, actor_for)
    assert flag_overdue.main(["--as-of", LATER.isoformat()], url=db_url) == 0
    mark = _watermark(db_url)
    assert mark.as_of == LATER
    recorded = _violations(session)
    _tiered_case(session, org, actor_for)  # three more clocks late by the next run

    def fail(*_args, **_kwargs):
        raise RuntimeError("the early warnings failed")

    monkeypatch.setattr(flag_overdue, "queue_warnings", fail)
    assert flag_overdue.main(["--as-of", (LATER + timedelta(minutes=5)).isoformat()], url=db_url) == 1
    assert _watermark(db_url) == mark  # rolled back with the violations
    assert _violations(session) == recorded
    monkeypatch.undo()
    assert flag_overdue.main(["--as-of", (LATER + timedelta(minutes=10)).isoformat()], url=db_url) == 0
    moved = _watermark(db_url)
    assert moved.as_of == LATER + timedelta(minutes=10) and moved.started_at > mark.started_at
    assert len(_violations(session)) == len(recorded) + 3


def test_only_the_jobs_role_writes_the_watermark(session):
    assert session.scalar(text("SELECT has_table_privilege('job_watermark', 'SELECT')")) is True
    assert session.scalar(text("SELECT has_table_privilege('job_watermark', 'INSERT')")) is False
    assert session.scalar(text("SELECT has_table_privilege('job_watermark', 'UPDATE')")) is False


def test_the_nightly_full_pass_catches_a_change_no_incremental_run_could_see(
        session, owner_session, org, actor_for, db_url):
    """A change whose stamp is older than the previous run's start less the margin (a writer that
    held it uncommitted that long; here: written with triggers off) is only read by the full pass."""
    case = _tiered_case(session, org, actor_for)
    _tiered_case(session, org, actor_for)
    _age_every_clock(owner_session)
    assert flag_overdue.main(["--as-of", LATER.isoformat()], url=db_url) == 0
    recorded = _violations(session)
    d2 = _clock(session, case.id, "D2")
    owner_session.execute(text("SET LOCAL session_replication_role = replica"))
    owner_session.execute(text("UPDATE deadline SET also_charged_person_id = :p, updated_at = now() - :old "
                               "WHERE id = :id"),
                          {"p": case.surveyor_id, "old": SAFETY_MARGIN + timedelta(hours=1), "id": d2.id})
    owner_session.commit()
    incremental = _run(db_url, LATER + timedelta(minutes=5))
    assert (incremental.incremental, incremental.late_read, incremental.violations) == (True, 0, 0)
    assert flag_overdue_full.main(["--as-of", (LATER + timedelta(minutes=10)).isoformat()], url=db_url) == 0
    assert _violations(session) == sorted(recorded + [(d2.id, "D2", case.surveyor_id, "also_charged")])
    assert _watermark(db_url).as_of == LATER + timedelta(minutes=10)
    assert not _run(db_url, LATER + timedelta(minutes=15), full=True).incremental


def test_the_stamp_moves_when_a_deciding_column_changes_and_not_otherwise(session, owner_session, org, actor_for):
    case = _tiered_case(session, org, actor_for)
    d1 = _clock(session, case.id, "D1")
    _age_every_clock(owner_session)

    def stamp() -> object:
        return owner_session.scalar(text("SELECT updated_at FROM deadline WHERE id = :id"), {"id": d1.id})

    old = stamp()
    owner_session.execute(text("UPDATE deadline SET met_by = :p WHERE id = :id"), {"p": case.surveyor_id, "id": d1.id})
    owner_session.commit()
    assert stamp() == old  # who met it decides nothing about lateness
    for column, value in (("due_at", T0 + timedelta(hours=30)), ("met_at", T0 + timedelta(hours=31)),
                          ("responsible_person_id", org.person("gz_claims")),
                          ("also_charged_person_id", org.person("gz_claims")), ("cancelled_at", T0 + timedelta(hours=40))):
        before = stamp()
        owner_session.execute(text(f"UPDATE deadline SET {column} = :v WHERE id = :id"), {"v": value, "id": d1.id})
        owner_session.commit()
        assert stamp() > before, column


def test_the_migration_upgrades_a_populated_database_and_downgrades(session, owner_session, org, actor_for, db_url):
    for _ in range(3):
        _tiered_case(session, org, actor_for)
    assert _run(db_url, T0 + timedelta(hours=25)).violations == 6  # D1, D2 of each
    session.close()
    owner_session.close()
    command.downgrade(alembic_config(db_url), "0035")
    assert owner_session.scalar(text("SELECT to_regclass('job_watermark')")) is None
    assert owner_session.scalar(text("SELECT count(*) FROM information_schema.columns "
                                     "WHERE table_name = 'deadline' AND column_name = 'updated_at'")) == 0
    owner_session.execute(text("UPDATE deadline SET met_at = due_at + interval '1 hour' WHERE kind = 'D3'"))
    owner_session.commit()  # written while no trigger stamps it
    command.upgrade(alembic_config(db_url), "head")
    # The clocks already there count as changed before any run; a clock written now is stamped now.
    assert owner_session.scalar(text("SELECT count(*) FROM deadline WHERE updated_at <> '-infinity'")) == 0
    assert owner_session.scalar(text("SELECT count(*) FROM deadline")) >= 9
    owner_session.commit()
    later = _tiered_case(session, org, actor_for)
    assert owner_session.scalar(text("SELECT min(updated_at) FROM deadline WHERE case_id = :c"),
                                {"c": later.id}) > T0
    owner_session.rollback()
    assert _watermark(db_url) is None  # the job starts over with a full pass
    full = _run(db_url, LATER)
    assert full.late_read == _late_now(session, LATER)
    assert not full.incremental and full.violations == 3 + 3  # the D3s; the later case's D1, D2, D3
    second = _run(db_url, LATER + timedelta(minutes=5))
    assert second.incremental and second.late_read == 3  # the later case's (written now), not the upgraded ones


def test_recording_named_clocks_neither_reads_nor_moves_the_watermark(session, org, actor_for, db_url):
    """The `deadline_ids` path (a case closed: its clocks past due are recorded before they stop)."""
    from dashboard.services.clocks.violations import record_violations

    case = _tiered_case(session, org, actor_for)
    _tiered_case(session, org, actor_for)
    _run(db_url, T0 + timedelta(hours=1))
    mark = _watermark(db_url)
    d1 = _clock(session, case.id, "D1")
    result = record_violations(session, LATER, deadline_ids=[d1.id])
    session.commit()
    assert (result.violations, result.late_read, result.incremental) == (1, 1, False)
    assert [v[0] for v in _violations(session)] == [d1.id]
    assert _watermark(db_url) == mark
