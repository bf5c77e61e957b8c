"""The case history partitioned by month (migration 0034, docs/SCALING.md step 3): the conversion keeps
every row, the history stays append-only and branch-isolated, no insert ever fails for want of a
partition, and jobs/maintain_partitions.py creates months ahead, empties the default into its months
and archives the months older than the retention (detached, never deleted)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError

from dashboard.rules.partition_months import add_months, month_of, partition_name
from dashboard.services.cases.history import record_event
from db.engine import APP_ROLE, JOB_ROLE, normalise_url
from db.schema import alembic_config
from jobs._common import LOCK_NAMESPACE
from tests.factories import make_case
from tests.monthly_tables import fingerprint, misplaced, partitions, role_engine, run_job

MISPLACED = misplaced("case_event", "at")


def _fingerprint(engine) -> tuple[int, str]:
    return fingerprint(engine, "case_event")


def _partition_of(conn: Connection, event_id: int) -> str:
    return conn.execute(text("SELECT tableoid::regclass::text FROM case_event WHERE id = :i"), {"i": event_id}).scalar()


def _partitions(engine) -> set[str]:
    return partitions(engine, "case_event")


_run_job, _role_engine = run_job, role_engine


# ---------------------------------------------------------------- the conversion


def test_upgrade_puts_every_event_in_its_months_partition_and_downgrade_and_upgrade_again_keep_every_row(
        db_url, session, org, owner, now):
    cases = [make_case(session, org, sub).id for sub in ("gz", "sz", "hz", "nj")]
    actor = org.person("callcenter")
    session.close()
    command.downgrade(alembic_config(db_url), "0033")
    with owner.begin() as conn:
        assert conn.scalar(text("SELECT relkind FROM pg_class WHERE relname = 'case_event'")) == "r"
        # 30,000 events every 1 h 47 min from 2020 on (about 6 years, 73 months), some about no case,
        # and the edges of a month in Shanghai time (the first moment of March, the last of February).
        conn.execute(text("""
            INSERT INTO case_event (case_id, actor_id, at, kind, payload)
            SELECT CASE WHEN g % 9 = 0 THEN NULL ELSE (CAST(:cases AS int[]))[1 + g % 4] END, :actor,
                   TIMESTAMPTZ '2020-01-01 00:00+08' + g * interval '107 minutes',
                   (ARRAY['case_registered', 'case_tiered', 'state_changed'])[1 + g % 3],
                   jsonb_build_object('n', g, 'note', repeat('记', g % 5))
              FROM generate_series(1, 30000) g"""), {"cases": cases, "actor": actor})
        conn.execute(text("""
            INSERT INTO case_event (case_id, actor_id, at, kind) VALUES
              (:c, :a, TIMESTAMPTZ '2024-03-01 00:00:00+08', 'edge_first_moment'),
              (:c, :a, TIMESTAMPTZ '2024-02-29 23:59:59.999999+08', 'edge_last_moment'),
              (:c, :a, TIMESTAMPTZ '2024-02-29 16:30:00+00', 'edge_utc_march')"""), {"c": cases[0], "a": actor})
        last_id = conn.scalar(text("SELECT max(id) FROM case_event"))
    before = _fingerprint(owner)
    assert before[0] == 30003

    command.upgrade(alembic_config(db_url), "head")

    assert _fingerprint(owner) == before
    with owner.connect() as conn:
        assert conn.scalar(text("SELECT relkind FROM pg_class WHERE relname = 'case_event'")) == "p"
        assert conn.scalar(text(MISPLACED)) == 0
        assert conn.scalar(text("SELECT count(*) FROM case_event_default")) == 0
        months = conn.scalar(text("SELECT count(DISTINCT tableoid) FROM case_event"))
        assert months >= 73
        edges = dict(conn.execute(text("SELECT kind, tableoid::regclass::text FROM case_event WHERE kind LIKE 'edge%'")).all())
        assert edges == {"edge_first_moment": "case_event_p2024_03", "edge_last_moment": "case_event_p2024_02",
                         "edge_utc_march": "case_event_p2024_03"}  # 16:30 UTC on the 29th is 00:30 on 1 March
        # This month and the three after it are ready, empty or not.
        ahead = {partition_name("case_event", add_months(month_of(now), n)) for n in range(4)}
        assert ahead <= _partitions(owner)
        settings = dict(conn.execute(text("SELECT key, value FROM rule_setting WHERE key LIKE 'partitions.%'")).all())
        assert settings == {"partitions.months_ahead": 3, "partitions.retention_months": 60}
        kept = conn.execute(text(
            "SELECT (SELECT count(*) FROM pg_policies WHERE tablename = 'case_event'), "
            "relrowsecurity, has_table_privilege('claims_app', 'case_event', 'INSERT'), "
            "has_table_privilege('claims_job', 'case_event', 'SELECT'), "
            "pg_get_serial_sequence('case_event', 'id') FROM pg_class WHERE relname = 'case_event'")).one()
        assert tuple(kept) == (2, True, True, True, "public.case_event_id_seq")

    # New events go on from the last id, through the product's own role.
    with _role_engine(db_url, APP_ROLE).connect() as conn:
        conn.execute(text("SELECT set_config('claims.national', 'on', false)"))
        new_id = conn.scalar(text("INSERT INTO case_event (case_id, actor_id, kind) VALUES (:c, :a, 'after') RETURNING id"),
                             {"c": cases[1], "a": actor})
    assert new_id > last_id
    before = _fingerprint(owner)

    command.downgrade(alembic_config(db_url), "0033")
    assert _fingerprint(owner) == before
    with owner.connect() as conn:
        assert conn.scalar(text("SELECT relkind FROM pg_class WHERE relname = 'case_event'")) == "r"
        assert conn.scalar(text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'case_event'::regclass")) == 0
        assert conn.scalar(text("SELECT count(*) FROM pg_policies WHERE tablename = 'case_event'")) == 2
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text("DELETE FROM case_event WHERE id = :i"), {"i": new_id})

    command.upgrade(alembic_config(db_url), "head")
    assert _fingerprint(owner) == before
    with owner.connect() as conn:
        assert conn.scalar(text(MISPLACED)) == 0


# ---------------------------------------------------------------- still append-only, still isolated


@pytest.mark.parametrize("role", [APP_ROLE, JOB_ROLE])
def test_the_partitioned_history_refuses_update_delete_and_truncate_and_its_partitions_are_not_reachable(
        role, db_url, session, org, owner, now):
    case = make_case(session, org, "gz")
    record_event(session, case_id=case.id, actor_id=org.person("callcenter"), kind="note", at=now)
    session.commit()
    this_month = partition_name("case_event", month_of(now))
    with _role_engine(db_url, role).connect() as conn:
        conn.execute(text("SELECT set_config('claims.national', 'on', false)"))
        for statement in ("UPDATE case_event SET kind = 'changed'", "DELETE FROM case_event", "TRUNCATE case_event",
                          f"SELECT count(*) FROM {this_month}", "SELECT count(*) FROM case_event_default",
                          f"DELETE FROM {this_month}", f"TRUNCATE {this_month}"):
            with pytest.raises(DBAPIError, match="permission denied|must be owner"):
                conn.execute(text(statement))
        assert conn.scalar(text("SELECT count(*) FROM case_event WHERE case_id = :c"), {"c": case.id}) == 1
    # Even the owner cannot empty a partition on its own: a partition has its own TRUNCATE trigger.
    with owner.connect() as conn:
        for statement in (f"TRUNCATE {this_month}", f"DELETE FROM {this_month}", f"UPDATE {this_month} SET kind = 'x'",
                          "TRUNCATE case_event_default"):
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(statement))
            conn.rollback()


def test_a_branch_user_does_not_see_another_branchs_events_in_the_partitioned_history(db_url, session, org, now):
    gd_case, zj_case = make_case(session, org, "gz"), make_case(session, org, "hz")
    for case in (gd_case, zj_case):
        record_event(session, case_id=case.id, actor_id=org.person("callcenter"), kind="note", at=now)
        record_event(session, case_id=case.id, actor_id=org.person("callcenter"), kind="note",
                     at=now + timedelta(days=3 * 365))  # in the default partition
    session.commit()
    with _role_engine(db_url, APP_ROLE).connect() as conn:
        conn.execute(text("SELECT set_config('claims.branches', :b, false)"), {"b": f"{{{gd_case.branch_id}}}"})
        seen = dict(conn.execute(text("SELECT case_id, count(*) FROM case_event WHERE case_id IN (:g, :z) "
                                      "GROUP BY case_id"), {"g": gd_case.id, "z": zj_case.id}).all())
    assert seen == {gd_case.id: 2}


# ---------------------------------------------------------------- the default partition and the job


def test_an_event_in_a_month_without_a_partition_lands_in_the_default_and_the_job_moves_it_into_its_month(
        db_url, session, org, owner, now):
    case = make_case(session, org, "gz")
    record_event(session, case_id=case.id, actor_id=org.person("callcenter"), kind="note", at=now)
    far = now + timedelta(days=3 * 365 + 40)
    future = record_event(session, case_id=case.id, actor_id=org.person("callcenter"), kind="note", at=far)
    session.commit()
    with owner.connect() as conn:
        assert _partition_of(conn, future.id) == "case_event_default"
    before = _fingerprint(owner)

    assert _run_job(db_url, now) == 0

    month = partition_name("case_event", month_of(far))
    with owner.connect() as conn:
        assert _partition_of(conn, future.id) == month
        assert conn.scalar(text("SELECT count(*) FROM case_event_default")) == 0
        assert conn.scalar(text(MISPLACED)) == 0
        # The default is back in place, with its own TRUNCATE trigger and no grant.
        assert conn.scalar(text("SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'case_event_default'")) == "DEFAULT"
    assert _fingerprint(owner) == before

    # A second run finds nothing to do; the history is as it was.
    partitions = _partitions(owner)
    assert _run_job(db_url, now) == 0
    assert _partitions(owner) == partitions
    assert _fingerprint(owner) == before
    # And the new month's partition takes new events of its month straight away.
    later = record_event(session, case_id=case.id, actor_id=org.person("callcenter"), kind="note",
                         at=far + timedelta(minutes=5))
    session.commit()
    with owner.connect() as conn:
        assert _partition_of(conn, later.id) == month


def test_the_job_creates_the_months_ahead_as_the_setting_says(db_url, owner, now):
    with owner.begin() as conn:
        conn.execute(text("UPDATE rule_setting SET value = '6' WHERE key = 'partitions.months_ahead'"))
    as_of = now + timedelta(days=2 * 365)
    assert _run_job(db_url, as_of) == 0
    expected = {partition_name("case_event", add_months(month_of(as_of), n)) for n in range(7)}
    assert expected <= _partitions(owner)
    assert partition_name("case_event", add_months(month_of(as_of), 7)) not in _partitions(owner)


def test_the_job_does_nothing_while_another_copy_holds_its_lock(db_url, session, org, owner, now):
    case = make_case(session, org, "gz")
    future = record_event(session, case_id=case.id, actor_id=org.person("callcenter"), kind="note",
                          at=now + timedelta(days=4 * 365))
    session.commit()
    holder = create_engine(normalise_url(db_url))
    with holder.connect() as conn:
        assert conn.execute(text("SELECT pg_try_advisory_lock(:ns, hashtext('maintain_partitions'))"),
                            {"ns": LOCK_NAMESPACE}).scalar()
        assert _run_job(db_url, now) == 0
        with owner.connect() as check:
            assert _partition_of(check, future.id) == "case_event_default"
    holder.dispose()
    assert _run_job(db_url, now) == 0
    with owner.connect() as conn:
        assert _partition_of(conn, future.id) != "case_event_default"


# ---------------------------------------------------------------- the archive


def test_a_month_older_than_the_retention_is_detached_into_the_archive_with_its_rows_and_one_inside_is_kept(
        db_url, session, org, owner, now):
    case = make_case(session, org, "gz")
    callcenter = org.person("callcenter")
    old = now - timedelta(days=7 * 365)  # beyond 60 months
    kept = now - timedelta(days=4 * 365)  # inside them
    old_event = record_event(session, case_id=case.id, actor_id=callcenter, kind="old", at=old, n=1)
    kept_event = record_event(session, case_id=case.id, actor_id=callcenter, kind="kept", at=kept)
    session.commit()
    old_month, kept_month = partition_name("case_event", month_of(old)), partition_name("case_event", month_of(kept))
    with owner.connect() as conn:
        old_row = conn.execute(text("SELECT t::text FROM case_event t WHERE id = :i"), {"i": old_event.id}).scalar()

    assert _run_job(db_url, now) == 0

    with owner.connect() as conn:
        assert old_month not in _partitions(owner) and kept_month in _partitions(owner)
        assert _partition_of(conn, kept_event.id) == kept_month
        assert conn.scalar(text("SELECT count(*) FROM case_event WHERE id = :i"), {"i": old_event.id}) == 0
        # Detached, not dropped: the owner still reads it, row for row.
        assert conn.execute(text(f"SELECT t::text FROM archive.{old_month} t")).scalars().all() == [old_row]
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(f"DELETE FROM archive.{old_month}"))
        conn.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(f"TRUNCATE archive.{old_month}"))
        conn.rollback()
    with _role_engine(db_url, APP_ROLE).connect() as conn:
        with pytest.raises(DBAPIError, match="permission denied"):
            conn.execute(text(f"SELECT count(*) FROM archive.{old_month}"))

    # Idempotent: nothing more to archive. A late back-dated event of the archived month joins the archive.
    assert _run_job(db_url, now) == 0
    late = record_event(session, case_id=case.id, actor_id=callcenter, kind="old", at=old + timedelta(minutes=1), n=2)
    session.commit()
    assert _run_job(db_url, now) == 0
    with owner.connect() as conn:
        assert conn.execute(text(f"SELECT id FROM archive.{old_month} ORDER BY id")).scalars().all() == [old_event.id, late.id]
        assert conn.scalar(text("SELECT count(*) FROM case_event_default")) == 0

    # A downgrade brings the archived rows back into the one plain table.
    total = _fingerprint(owner)[0]
    command.downgrade(alembic_config(db_url), "0033")
    with owner.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM case_event")) == total + 2
        assert conn.scalar(text("SELECT to_regnamespace('archive')")) is None
