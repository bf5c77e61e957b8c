"""The violation job on a real PostgreSQL: once each, safe twice and concurrently, --as-of, 第三章 五."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from dashboard.services.dispatching.dispatch import record_estimate
from tests import sample_files
from dashboard.services.evidence.uploads import record_upload
from db.engine import normalise_url
from db.models import Deadline, Notification, Violation
from jobs import flag_overdue
from jobs._common import LOCK_NAMESPACE
from tests.factories import T0, make_case


def _tiered_case(session, org, actor_for, amount=80000):
    """A T1 case dispatched at T0: D1 (surveyor), D2 and D3 (gz_claims) start then."""
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, amount, now=T0)
    return case


def _violations(session: Session) -> list[tuple[str, int, str]]:
    session.expire_all()
    return sorted(session.execute(select(Violation.kind, Violation.person_id, Violation.charge)).tuples().all())


def _count(session: Session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _run(db_url: str, as_of) -> int:
    return flag_overdue.main(["--as-of", as_of.isoformat()], url=db_url)


def test_nothing_is_flagged_before_the_due_time(session, org, actor_for, db_url):
    _tiered_case(session, org, actor_for)
    assert _run(db_url, T0 + timedelta(hours=23, minutes=59)) == 0
    assert _violations(session) == []
    # The dispatch message, and the early warnings of the clocks near their end (80 % of their time).
    kinds = session.execute(select(Notification.kind, Notification.dedupe_key)).tuples().all()
    assert sorted(k for k, _ in kinds if k != "deadline_warning") == ["dispatch"]
    assert {key.split(":")[2] for k, key in kinds if k == "deadline_warning"} == {"80"}


def test_after_24_hours_d1_and_d2_are_violations_of_surveyor_and_first_responsible(session, org, actor_for, db_url):
    case = _tiered_case(session, org, actor_for)
    assert _run(db_url, T0 + timedelta(hours=24, minutes=1)) == 0
    surveyor, claims_head = case.surveyor_id, org.person("gz_claims")
    assert _violations(session) == sorted([("D1", surveyor, "responsible"), ("D2", claims_head, "responsible")])
    # Each charged person is told of their violation; their superior (the branch's 分级案件管理责任人)
    # gets one digest for the run, counted by deadline kind.
    manager = org.person("gd_manager")
    recipients = sorted(session.execute(select(Notification.recipient_person_id, Notification.kind)
                                        .where(Notification.kind.like("deadline_violation%"))).tuples())
    assert recipients == sorted([(surveyor, "deadline_violation"), (claims_head, "deadline_violation"),
                                 (manager, "deadline_violation_digest")])
    digest = session.scalar(select(Notification.body).where(Notification.kind == "deadline_violation_digest"))
    assert "新增超时2项" in digest and "2026-11-21 10:01" in digest
    assert digest.count("1项") == 2 and "查勘资料上传" in digest  # D1 and D2, one each, by name
    body = session.scalar(select(Notification.body).where(Notification.recipient_person_id == surveyor,
                                                          Notification.kind == "deadline_violation"))
    assert case.case_no in body and "2026-11-21 10:00" in body  # due shown in Asia/Shanghai


def test_running_twice_records_each_violation_once(session, org, actor_for, db_url):
    _tiered_case(session, org, actor_for)
    as_of = T0 + timedelta(hours=80)
    assert _run(db_url, as_of) == 0
    first = (_violations(session), _count(session, Notification))
    assert _run(db_url, as_of) == 0
    assert _run(db_url, as_of + timedelta(hours=5)) == 0
    assert (_violations(session), _count(session, Notification)) == first
    assert len(first[0]) == 3  # D1, D2, D3


def test_a_second_copy_exits_after_a_short_wait_while_the_first_holds_the_lock(session, org, actor_for, db_url,
                                                                              caplog):
    _tiered_case(session, org, actor_for)
    holder = create_engine(normalise_url(db_url))
    with holder.connect() as conn:
        assert conn.execute(text("SELECT pg_try_advisory_lock(:ns, hashtext('flag_overdue'))"),
                            {"ns": LOCK_NAMESPACE}).scalar()
        assert _run(db_url, T0 + timedelta(hours=30)) == 0
        assert _violations(session) == []
    holder.dispose()
    assert _run(db_url, T0 + timedelta(hours=30)) == 0
    assert len(_violations(session)) == 2


def test_two_concurrent_runs_record_each_violation_exactly_once(session, org, actor_for, db_url):
    for _ in range(5):
        _tiered_case(session, org, actor_for)
    codes: list[int] = []
    threads = [threading.Thread(target=lambda: codes.append(_run(db_url, T0 + timedelta(hours=100))))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [0, 0]
    assert _count(session, Violation) == 15
    assert session.scalar(select(func.count(func.distinct(Notification.dedupe_key)))) == _count(session, Notification)


def test_met_late_stays_a_violation_and_keeps_when_it_was_met(session, org, actor_for, db_url):
    case = _tiered_case(session, org, actor_for)
    surveyor = actor_for("gz_surveyor1")
    late = T0 + timedelta(hours=30)
    for kind in ("scene_photos", "survey_report", "interview_notes"):
        record_upload(session, surveyor, case.id, kind, f"{kind}.bin", sample_files.for_kind(kind), now=late)
    assert _run(db_url, T0 + timedelta(hours=31)) == 0  # the job never saw it open
    assert ("D1", case.surveyor_id, "responsible") in _violations(session)
    d1 = session.scalars(select(Deadline).where(Deadline.case_id == case.id, Deadline.kind == "D1")).one()
    assert d1.met_at == late and d1.met_by == case.surveyor_id


def test_material_met_on_time_is_no_violation(session, org, actor_for, db_url):
    case = _tiered_case(session, org, actor_for)
    surveyor = actor_for("gz_surveyor1")
    on_time = T0 + timedelta(hours=20)
    for kind in ("scene_photos", "survey_report", "interview_notes"):
        record_upload(session, surveyor, case.id, kind, f"{kind}.bin", sample_files.for_kind(kind), now=on_time)
    record_upload(session, surveyor, case.id, "person_vehicle_photo", "photo.jpg", sample_files.jpeg(),
                  on_behalf_of_person_id=org.person("gz_claims"), now=on_time)
    assert _run(db_url, T0 + timedelta(hours=30)) == 0
    assert _violations(session) == []


def test_late_surveyor_upload_of_the_photo_charges_the_first_responsible_and_the_surveyor(
        session, org, actor_for, db_url):
    case = _tiered_case(session, org, actor_for)
    claims_head = org.person("gz_claims")
    record_upload(session, actor_for("gz_surveyor1"), case.id, "person_vehicle_photo", "photo.jpg", sample_files.jpeg(),
                  on_behalf_of_person_id=claims_head, now=T0 + timedelta(hours=26))
    assert _run(db_url, T0 + timedelta(hours=27)) == 0
    d2 = [v for v in _violations(session) if v[0] == "D2"]
    assert d2 == sorted([("D2", claims_head, "responsible"), ("D2", case.surveyor_id, "also_charged")])


def test_late_upload_after_the_job_flagged_it_adds_the_surveyor_once(session, org, actor_for, db_url):
    case = _tiered_case(session, org, actor_for)
    claims_head = org.person("gz_claims")
    assert _run(db_url, T0 + timedelta(hours=25)) == 0
    record_upload(session, actor_for("gz_surveyor1"), case.id, "person_vehicle_photo", "photo.jpg", sample_files.jpeg(),
                  on_behalf_of_person_id=claims_head, now=T0 + timedelta(hours=26))
    assert _run(db_url, T0 + timedelta(hours=27)) == 0
    assert _run(db_url, T0 + timedelta(hours=28)) == 0
    d2 = [v for v in _violations(session) if v[0] == "D2"]
    assert d2 == sorted([("D2", claims_head, "responsible"), ("D2", case.surveyor_id, "also_charged")])


def test_a_schema_behind_the_code_is_refused_with_status_2(owner_session, org, db_url, caplog):
    owner_session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    owner_session.commit()
    assert _run(db_url, T0) == 2


def test_a_real_failure_exits_non_zero(db_url):
    assert flag_overdue.main([], url=db_url.rsplit("/", 1)[0] + "/no_such_database_here") == 1


def test_a_run_killed_half_way_leaves_nothing_and_the_next_run_records_everything_once(
        session, owner_session, org, actor_for, db_url):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    for _ in range(4):
        _tiered_case(session, org, actor_for)
    as_of = T0 + timedelta(hours=100)
    # Another transaction holds an uncommitted violation of one clock: the job's INSERT stops there, half way.
    blocker = create_engine(normalise_url(db_url))
    conn = blocker.connect()
    last = session.scalars(select(Deadline).order_by(Deadline.id.desc())).first()
    conn.execute(text("INSERT INTO violation (deadline_id, person_id, kind, due_at, found_at) "
                      "VALUES (:d, :p, :k, :due, :due)"),
                 {"d": last.id, "p": last.responsible_person_id, "k": last.kind, "due": last.due_at})
    job = subprocess.Popen([sys.executable, "-m", "jobs.flag_overdue", "--as-of", as_of.isoformat()],
                           cwd=Path(__file__).resolve().parents[2], env={**os.environ, "DATABASE_URL": db_url},
                           stderr=subprocess.PIPE)
    waiting = None
    for _ in range(100):
        waiting = owner_session.scalar(text(  # the owner sees the job's statement
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE '%INSERT INTO violation%'"))
        owner_session.rollback()
        if waiting:
            break
        time.sleep(0.1)
    assert waiting, "the job never reached its insert"
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=10)
    # The killed copy's server session ends by itself within seconds although its statement is
    # still waiting (client_connection_check_interval): before, it waited on with the job's lock.
    for _ in range(50):
        alive = owner_session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": waiting})
        owner_session.rollback()
        if not alive:
            break
        time.sleep(0.1)
    assert not alive, "the killed job's session still holds its lock"
    conn.rollback()
    conn.close()
    blocker.dispose()
    assert _count(session, Violation) == 0 and _count(session, Notification) == 4  # only the dispatch messages
    # Rerun at once (issue 25): the killed copy's server session is not terminated by hand; the
    # server ends it within a second (client_connection_check_interval) and the rerun does the work.
    assert _run(db_url, as_of) == 0
    assert _count(session, Violation) == 12  # 4 cases × D1, D2, D3
    assert _run(db_url, as_of) == 0
    assert _count(session, Violation) == 12


def test_a_branch_persons_violations_reach_hq_as_one_digest_per_run(session, org, actor_for, db_url):
    """A branch-level person's superior is the HQ 分级案件管理责任人: several missed clocks in one run
    make one digest for them (counted by kind), the charged person too gets one digest of their own
    instead of a message each, and a re-run adds no second digest."""
    manager, admin = org.person("gd_manager"), org.person("admin")
    branch = org.branch("gd").id
    for n, kind in enumerate(("D5", "D5", "D6")):
        session.add(Deadline(kind=kind, subject_key=f"test:{n}", branch_id=branch, responsible_person_id=manager,
                             started_at=T0 - timedelta(days=3), due_at=T0 - timedelta(hours=n + 1)))
    session.commit()
    assert _run(db_url, T0) == 0
    assert _run(db_url, T0 + timedelta(minutes=5)) == 0
    session.expire_all()
    rows = session.execute(select(Notification.recipient_person_id, Notification.kind, Notification.body)
                           .where(Notification.kind.like("deadline_violation%"))).all()
    assert sorted((r, k) for r, k, _ in rows) == sorted(
        [(manager, "deadline_violation_own_digest"), (admin, "deadline_violation_digest")])
    digest = next(b for r, k, b in rows if k == "deadline_violation_digest")
    assert "新增超时3项" in digest and "2项" in digest and "1项" in digest
    own = next(b for r, k, b in rows if k == "deadline_violation_own_digest")
    assert "您本人新增超时3项" in own and "2项" in own and "1项" in own and "管辖范围" not in own
    # One more missed clock later: a single one again names its subject in a message of its own.
    session.add(Deadline(kind="D6", subject_key="test:later", branch_id=branch, responsible_person_id=manager,
                         started_at=T0, due_at=T0 + timedelta(hours=1)))
    session.commit()
    assert _run(db_url, T0 + timedelta(hours=2)) == 0
    session.expire_all()
    assert session.execute(select(Notification.kind).where(Notification.recipient_person_id == manager,
                                                           Notification.kind.like("deadline_violation%"))
                           .order_by(Notification.id)).scalars().all() == [
        "deadline_violation_own_digest", "deadline_violation"]
