"""The notification outbox partitioned by month (migration 0047, docs/SCALING.md step 3): the
conversion keeps every row, a dedupe key still queues a message once over all time (two writers at
once included), no role of the product reaches a partition or the key table, and
jobs/maintain_partitions.py keeps the outbox's months as the history's: ahead, out of the
default, archived (keys released) past the retention."""
from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from dashboard.rules.partition_months import add_months, month_of, partition_name
from dashboard.services.outbox import queue_notification
from db.engine import APP_ROLE, JOB_ROLE, session_factory
from db.schema import alembic_config
from tests.monthly_tables import (
    assert_every_row_in_its_month, fingerprint, misplaced, partition_of, partitions, role_engine, run_job,
)
from tests.two_writers import second_waits_for_first

KEYS_MATCH = """
    SELECT count(*) FILTER (WHERE k.dedupe_key IS NULL), (SELECT count(*) FROM notification_key)
      FROM notification n LEFT JOIN notification_key k ON k.dedupe_key = n.dedupe_key AND k.notification_id = n.id
     WHERE n.dedupe_key IS NOT NULL"""


def _fingerprint(engine) -> tuple[int, str]:
    return fingerprint(engine, "notification")


def _partitions(engine) -> set[str]:
    return partitions(engine, "notification")


def _partition_of(engine, notification_id: int) -> str | None:
    return partition_of(engine, "notification", notification_id)


def _queue(session, org, key: str, at, recipient: str = "gz_head") -> None:
    queue_notification(session, case_id=None, recipient_id=org.person(recipient), kind="note", body="测试消息",
                       dedupe_key=key, now=at)


def _ids(engine, key: str) -> list[int]:
    with engine.connect() as conn:
        return conn.scalars(text("SELECT id FROM notification WHERE dedupe_key = :k ORDER BY id"), {"k": key}).all()


_run_job = run_job


# ---------------------------------------------------------------- the conversion


def test_upgrade_puts_every_message_in_its_months_partition_and_downgrade_and_upgrade_again_keep_every_row(
        db_url, session, org, owner, now):
    recipients = [org.person(p) for p in ("gz_head", "reviewer", "callcenter")]
    session.close()
    command.downgrade(alembic_config(db_url), "0046")
    with owner.begin() as conn:
        assert conn.scalar(text("SELECT relkind FROM pg_class WHERE relname = 'notification'")) == "r"
        # 20,000 messages every 2 h 13 min from 2021 on (about 5 years), every state, one in seven
        # without a dedupe key, digests pointing at earlier rows, and a month's Shanghai edges.
        conn.execute(text("""
            INSERT INTO notification (recipient_person_id, kind, body, dedupe_key, created_at, state, attempts,
                                      read_at, last_error, digest_id)
            SELECT (CAST(:r AS int[]))[1 + g % 3], 'note', '消息 ' || g || repeat('。', g % 4),
                   CASE WHEN g % 7 = 0 THEN NULL ELSE 'k:' || g END,
                   TIMESTAMPTZ '2021-01-01 00:00+08' + g * interval '133 minutes',
                   (ARRAY['queued', 'held', 'digested', 'sent', 'failed'])[1 + g % 5], g % 3,
                   CASE WHEN g % 2 = 0 THEN TIMESTAMPTZ '2021-01-01 00:00+08' + g * interval '134 minutes' END,
                   CASE WHEN g % 5 = 4 THEN 'smtp 550' END, NULL
              FROM generate_series(1, 20000) g"""), {"r": recipients})
        conn.execute(text("UPDATE notification SET digest_id = id - 1 WHERE state = 'digested' AND id > 1"))
        conn.execute(text("""
            INSERT INTO notification (recipient_person_id, kind, body, dedupe_key, created_at) VALUES
              (:p, 'edge', 'a', 'edge:first', TIMESTAMPTZ '2024-03-01 00:00:00+08'),
              (:p, 'edge', 'b', 'edge:last', TIMESTAMPTZ '2024-02-29 23:59:59.999999+08'),
              (:p, 'edge', 'c', 'edge:utc', TIMESTAMPTZ '2024-02-29 16:30:00+00')"""), {"p": recipients[0]})
        last_id = conn.scalar(text("SELECT max(id) FROM notification"))
    before = _fingerprint(owner)
    assert before[0] == 20003

    command.upgrade(alembic_config(db_url), "head")

    assert _fingerprint(owner) == before
    assert_every_row_in_its_month(owner, "notification", "created_at", months=60)
    with owner.connect() as conn:
        edges = dict(conn.execute(text("SELECT dedupe_key, tableoid::regclass::text FROM notification "
                                       "WHERE kind = 'edge'")).all())
        assert edges == {"edge:first": "notification_p2024_03", "edge:last": "notification_p2024_02",
                         "edge:utc": "notification_p2024_03"}
        # Every keyed message's key is claimed by its own id, and nothing else is in the key table.
        assert tuple(conn.execute(text(KEYS_MATCH)).one()) == (0, 20003 - 20000 // 7)
        ahead = {partition_name("notification", add_months(month_of(now), n)) for n in range(4)}
        assert ahead <= _partitions(owner)
        kept = conn.execute(text(
            "SELECT (SELECT count(*) FROM pg_policies WHERE tablename = 'notification'), relrowsecurity, "
            "has_table_privilege('claims_app', 'notification', 'INSERT'), "
            "has_table_privilege('claims_job', 'notification', 'UPDATE'), "
            "pg_get_serial_sequence('notification', 'id'), "
            "(SELECT count(*) FROM pg_indexes WHERE tablename = 'notification'), "
            "(SELECT count(*) FROM pg_constraint WHERE conrelid = 'notification'::regclass AND contype IN ('c', 'f')) "
            "FROM pg_class WHERE relname = 'notification'")).one()
        # 4 policies; the primary key and 7 secondary indexes; the state and channel checks (0053), 2 foreign keys.
        assert tuple(kept) == (4, True, True, True, "public.notification_id_seq", 8, 4)

    # A key of before the conversion still queues nothing; a new one goes on from the last id.
    with session_factory(db_url, JOB_ROLE)() as s:
        _queue(s, org, "k:1", now)
        _queue(s, org, "after", now)
        s.commit()
    assert len(_ids(owner, "k:1")) == 1
    assert _ids(owner, "after")[0] > last_id
    before = _fingerprint(owner)

    command.downgrade(alembic_config(db_url), "0046")
    assert _fingerprint(owner) == before
    with owner.connect() as conn:
        assert conn.scalar(text("SELECT relkind FROM pg_class WHERE relname = 'notification'")) == "r"
        assert conn.scalar(text("SELECT to_regclass('notification_key')")) is None
        with pytest.raises(DBAPIError, match="notification_dedupe_key_key"):
            conn.execute(text("INSERT INTO notification (recipient_person_id, kind, body, dedupe_key) "
                              "VALUES (:p, 'x', 'x', 'after')"), {"p": recipients[0]})
        conn.rollback()
        with pytest.raises(DBAPIError, match="notification_digest_id_fkey"):
            conn.execute(text("UPDATE notification SET digest_id = -1 WHERE id = :i"), {"i": last_id})
        conn.rollback()

    command.upgrade(alembic_config(db_url), "head")
    assert _fingerprint(owner) == before
    with owner.connect() as conn:
        assert conn.scalar(text(misplaced("notification", "created_at"))) == 0


# ---------------------------------------------------------------- once over all time, still closed


def test_a_key_queued_in_an_earlier_month_queues_nothing_again_and_a_new_key_does(session, org, owner, now):
    _queue(session, org, "dispatch:1:to:9", now - timedelta(days=70))
    session.commit()
    _queue(session, org, "dispatch:1:to:9", now)  # a retried action, two months on
    _queue(session, org, "dispatch:2:to:9", now)
    session.commit()
    assert len(_ids(owner, "dispatch:1:to:9")) == 1
    first = _ids(owner, "dispatch:1:to:9")[0]
    # Held in another partition than this month's (the default: the template has no partition that
    # far back), so no per-partition unique index could have refused the retry.
    assert _partition_of(owner, first) != partition_name("notification", month_of(now))
    assert len(_ids(owner, "dispatch:2:to:9")) == 1


@pytest.mark.parametrize("first_ends", ["commit", "rollback"])
def test_two_writers_of_one_key_at_once_queue_it_once_and_a_rolled_back_first_leaves_it_to_the_second(
        db_url, org, owner, now, first_ends):
    factory = session_factory(db_url, role=JOB_ROLE)
    if first_ends == "commit":
        second_waits_for_first(factory(), factory(), lambda s: _queue(s, org, "race", now),
                               lambda s: _queue(s, org, "race", now, recipient="reviewer"))
        with owner.connect() as conn:
            assert conn.execute(text("SELECT recipient_person_id FROM notification WHERE dedupe_key = 'race'")
                                ).scalars().all() == [org.person("gz_head")]
        return
    first, second = factory(), factory()
    try:
        _queue(first, org, "race", now)
        first.rollback()
        _queue(second, org, "race", now, recipient="reviewer")
        second.commit()
    finally:
        first.close()
        second.close()
    with owner.connect() as conn:
        assert conn.execute(text("SELECT recipient_person_id FROM notification WHERE dedupe_key = 'race'")
                            ).scalars().all() == [org.person("reviewer")]
        assert conn.scalar(text("SELECT count(*) FROM notification_key WHERE dedupe_key = 'race'")) == 1


@pytest.mark.parametrize("role", [APP_ROLE, JOB_ROLE])
def test_no_role_of_the_product_reaches_a_partition_or_the_key_table(role, db_url, session, org, now):
    _queue(session, org, "closed", now)
    session.commit()
    this_month = partition_name("notification", month_of(now))
    engine = role_engine(db_url, role)
    with engine.connect() as conn:
        conn.execute(text("SELECT set_config('claims.national', 'on', false)"))
        for statement in (f"SELECT count(*) FROM {this_month}", "SELECT count(*) FROM notification_default",
                          "SELECT count(*) FROM notification_key", "DELETE FROM notification_key",
                          f"UPDATE {this_month} SET read_at = now()",
                          "SELECT notification_claim_key()"):
            with pytest.raises(DBAPIError, match="permission denied|must be owner|trigger functions can only"):
                conn.execute(text(statement))
    engine.dispose()


# ---------------------------------------------------------------- the job


def test_a_message_in_a_month_without_a_partition_is_moved_into_its_month_with_its_key(
        db_url, session, org, owner, now):
    far = now + timedelta(days=3 * 365 + 40)
    _queue(session, org, "future", far)
    session.commit()
    (future,) = _ids(owner, "future")
    assert _partition_of(owner, future) == "notification_default"
    before = _fingerprint(owner)

    assert _run_job(db_url, now) == 0

    assert _partition_of(owner, future) == partition_name("notification", month_of(far))
    assert _fingerprint(owner) == before
    with owner.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM notification_default")) == 0
        assert tuple(conn.execute(text(KEYS_MATCH)).one())[0] == 0
    # The key moved with it: the same key still queues nothing; the job again finds nothing to do.
    _queue(session, org, "future", far + timedelta(minutes=1))
    session.commit()
    assert _ids(owner, "future") == [future]
    partitions = _partitions(owner)
    assert _run_job(db_url, now) == 0
    assert _partitions(owner) == partitions


def test_the_job_creates_the_outboxs_months_ahead(db_url, owner, now):
    as_of = now + timedelta(days=2 * 365)
    assert _run_job(db_url, as_of) == 0
    assert {partition_name("notification", add_months(month_of(as_of), n)) for n in range(4)} <= _partitions(owner)


def test_a_month_older_than_the_retention_is_archived_with_its_messages_and_its_keys_released(
        db_url, session, org, owner, now):
    old, kept = now - timedelta(days=7 * 365), now - timedelta(days=4 * 365)
    _queue(session, org, "old", old)
    _queue(session, org, "kept", kept)
    session.commit()
    (old_id,), (kept_id,) = _ids(owner, "old"), _ids(owner, "kept")
    old_month = partition_name("notification", month_of(old))

    assert _run_job(db_url, now) == 0

    assert old_month not in _partitions(owner)
    assert _partition_of(owner, kept_id) == partition_name("notification", month_of(kept))
    with owner.connect() as conn:
        assert conn.execute(text(f"SELECT id FROM archive.{old_month}")).scalars().all() == [old_id]
        assert conn.execute(text("SELECT dedupe_key FROM notification_key WHERE dedupe_key IN ('old', 'kept')")
                            ).scalars().all() == ["kept"]
    # A downgrade brings the archived message back into the one plain table.
    total = _fingerprint(owner)[0]
    command.downgrade(alembic_config(db_url), "0046")
    with owner.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM notification")) == total + 1
        assert conn.scalar(text("SELECT to_regnamespace('archive')")) is None
