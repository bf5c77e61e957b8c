"""Case material's metadata partitioned by month (migration 0047, docs/SCALING.md step 3): the
conversion keeps every row, material stays listed and downloadable (checksum verified) wherever
its row is, partitions are closed to the product's roles, and jobs/maintain_partitions.py moves
a default-caught upload into its month and archives a month older than the retention."""
from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from dashboard.rules.partition_months import month_of, partition_name
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.errors import NotFound, PermissionDenied
from dashboard.services.evidence.materials import case_materials, fetch_material
from dashboard.services.evidence.uploads import record_upload
from db.engine import APP_ROLE, JOB_ROLE
from db.schema import alembic_config
from tests import sample_files
from tests.factories import make_case
from tests.monthly_tables import assert_every_row_in_its_month, fingerprint, partition_of, role_engine, run_job

def _fingerprint(engine) -> tuple[int, str]:
    return fingerprint(engine, "upload")


def _partition_of(engine, upload_id: int) -> str | None:
    return partition_of(engine, "upload", upload_id)


_run_job = run_job


def test_upgrade_puts_every_upload_in_its_months_partition_and_downgrade_and_upgrade_again_keep_every_row(
        db_url, session, org, owner, now):
    cases = [make_case(session, org, sub).id for sub in ("gz", "sz", "hz")]
    people = [org.person("gz_surveyor1"), org.person("gz_claims")]
    session.close()
    command.downgrade(alembic_config(db_url), "0046")
    with owner.begin() as conn:
        assert conn.scalar(text("SELECT relkind FROM pg_class WHERE relname = 'upload'")) == "r"
        # 6,000 uploads every 7 h 11 min from 2021 on (about 5 years), some with bytes of before 0024.
        conn.execute(text("""
            INSERT INTO upload (case_id, kind, filename, size_bytes, content, uploaded_by, on_behalf_of, uploaded_at,
                                content_type, sha256, storage_key, note)
            SELECT (CAST(:cases AS int[]))[1 + g % 3], (ARRAY['scene_photos', 'survey_report'])[1 + g % 2],
                   '现场' || g || '.jpg', g, CASE WHEN g % 10 = 0 THEN decode(md5(g::text), 'hex') END,
                   (CAST(:people AS int[]))[1 + g % 2], CASE WHEN g % 4 = 0 THEN (CAST(:people AS int[]))[1] END,
                   TIMESTAMPTZ '2021-01-01 00:00+08' + g * interval '431 minutes', 'image/jpeg',
                   encode(sha256(g::text::bytea), 'hex'), CASE WHEN g % 10 <> 0 THEN 'ab/' || g END,
                   CASE WHEN g % 3 = 0 THEN '补充' END
              FROM generate_series(1, 6000) g"""), {"cases": cases, "people": people})
        last_id = conn.scalar(text("SELECT max(id) FROM upload"))
    before = _fingerprint(owner)
    assert before[0] == 6000

    command.upgrade(alembic_config(db_url), "head")

    assert _fingerprint(owner) == before
    assert_every_row_in_its_month(owner, "upload", "uploaded_at", months=60)
    with owner.connect() as conn:
        kept = conn.execute(text(
            "SELECT (SELECT count(*) FROM pg_policies WHERE tablename = 'upload'), relrowsecurity, "
            "has_table_privilege('claims_app', 'upload', 'INSERT'), pg_get_serial_sequence('upload', 'id'), "
            "(SELECT count(*) FROM pg_indexes WHERE tablename = 'upload'), "
            "(SELECT count(*) FROM pg_constraint WHERE conrelid = 'upload'::regclass AND contype IN ('c', 'f')) "
            "FROM pg_class WHERE relname = 'upload'")).one()
        assert tuple(kept) == (2, True, True, "public.upload_id_seq", 2, 4)
        new_id = conn.scalar(text("INSERT INTO upload (case_id, kind, filename, uploaded_by) "
                                  "VALUES (:c, 'scene_photos', 'x.jpg', :p) RETURNING id"),
                             {"c": cases[0], "p": people[0]})
        conn.commit()
    assert new_id > last_id
    before = _fingerprint(owner)

    command.downgrade(alembic_config(db_url), "0046")
    assert _fingerprint(owner) == before
    with owner.connect() as conn:
        assert conn.scalar(text("SELECT relkind FROM pg_class WHERE relname = 'upload'")) == "r"
        assert conn.scalar(text("SELECT count(*) FROM pg_policies WHERE tablename = 'upload'")) == 2
    command.upgrade(alembic_config(db_url), "head")
    assert _fingerprint(owner) == before


def _uploaded_case(session, org, actor_for, at):
    """A gz case estimated and given a scene photo by its surveyor at `at`."""
    case = make_case(session, org, "gz", report_time=at - timedelta(hours=2), accident_time=at - timedelta(hours=3))
    record_estimate(session, actor_for("callcenter"), case.id, "200000", now=at - timedelta(hours=1))
    done = record_upload(session, actor_for("gz_surveyor1"), case.id, "scene_photos", "scene.jpg",
                         sample_files.jpeg(), now=at)
    session.commit()
    return case, done.upload_id


def test_material_in_the_default_is_listed_and_downloaded_and_stays_so_once_the_job_moves_it_into_its_month(
        db_url, session, org, actor_for, owner, now):
    far_back = now - timedelta(days=400)
    case, upload_id = _uploaded_case(session, org, actor_for, far_back)
    assert _partition_of(owner, upload_id) == "upload_default"
    head = actor_for("gz_head")
    assert [line.id for line in case_materials(session, head, case.id)] == [upload_id]
    assert fetch_material(session, head, upload_id).content == sample_files.jpeg()
    session.rollback()  # the page's read is over: the job's DDL must not wait for it

    assert _run_job(db_url, now) == 0

    assert _partition_of(owner, upload_id) == partition_name("upload", month_of(far_back))
    with owner.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM upload_default")) == 0
    session.expire_all()
    assert [line.id for line in case_materials(session, head, case.id)] == [upload_id]
    assert fetch_material(session, head, upload_id).content == sample_files.jpeg()
    # Another province's head still cannot see it, partitioned or not.
    with pytest.raises((NotFound, PermissionDenied)):
        fetch_material(session, actor_for("zj_claims"), upload_id)


@pytest.mark.parametrize("role", [APP_ROLE, JOB_ROLE])
def test_no_role_of_the_product_reaches_an_upload_partition(role, db_url, session, org, actor_for, now):
    _uploaded_case(session, org, actor_for, now)
    this_month = partition_name("upload", month_of(now))
    engine = role_engine(db_url, role)
    with engine.connect() as conn:
        conn.execute(text("SELECT set_config('claims.national', 'on', false)"))
        assert conn.scalar(text("SELECT count(*) FROM upload")) == 1
        for statement in (f"SELECT count(*) FROM {this_month}", "SELECT count(*) FROM upload_default",
                          f"DELETE FROM {this_month}"):
            with pytest.raises(DBAPIError, match="permission denied"):
                conn.execute(text(statement))
    engine.dispose()


def test_a_month_of_material_older_than_the_retention_is_archived_with_its_rows(db_url, session, org, owner, now):
    case = make_case(session, org, "gz")
    old = now - timedelta(days=7 * 365)
    with owner.begin() as conn:
        old_id = conn.scalar(text("INSERT INTO upload (case_id, kind, filename, uploaded_by, uploaded_at) "
                                  "VALUES (:c, 'survey_report', '旧报告.pdf', :p, :at) RETURNING id"),
                             {"c": case.id, "p": org.person("gz_surveyor1"), "at": old})
        # The month gets its partition as a bulk load would make it, then the job sees it old.
    assert _run_job(db_url, now - timedelta(days=8 * 365)) == 0
    old_month = partition_name("upload", month_of(old))
    assert _partition_of(owner, old_id) == old_month

    assert _run_job(db_url, now) == 0

    with owner.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM upload WHERE id = :i"), {"i": old_id}) == 0
        assert conn.execute(text(f"SELECT filename FROM archive.{old_month}")).scalars().all() == ["旧报告.pdf"]
