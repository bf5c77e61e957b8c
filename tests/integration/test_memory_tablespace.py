"""The test databases' tablespace in memory (tests/memory_tablespace.py): used where the server
is on this machine, never for a server elsewhere, and left behind by nothing."""
from __future__ import annotations

from sqlalchemy import text

from tests.conftest import _admin_url
from tests.memory_tablespace import close_memory_tablespace, open_memory_tablespace


def test_a_server_elsewhere_keeps_the_default_tablespace():
    assert open_memory_tablespace("postgresql+psycopg2://postgres@db.example.com:5432/postgres") is None


def test_this_tests_database_lives_where_its_template_does(session, memory_tablespace):
    where = session.scalar(text("SELECT t.spcname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace "
                                "WHERE d.datname = current_database()"))
    assert where == (memory_tablespace.name if memory_tablespace is not None else "pg_default")


def test_a_tablespace_opened_and_closed_leaves_no_folder_and_no_tablespace(owner, memory_tablespace):
    space = open_memory_tablespace(_admin_url())
    # As for this worker's own: a server that could have one gives another, one that could not gives none.
    assert (space is None) == (memory_tablespace is None)
    if space is None:
        return
    assert space.folder.is_dir()
    with owner.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM pg_tablespace WHERE spcname = :n"), {"n": space.name}) == 1
    close_memory_tablespace(_admin_url(), space)
    assert not space.folder.exists()
    with owner.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM pg_tablespace WHERE spcname = :n"), {"n": space.name}) == 0
