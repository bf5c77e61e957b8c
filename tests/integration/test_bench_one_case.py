"""bench.one_case: the case detail's empty comparison holds the very case the big database draws.

A copy that missed a table (an opinion's answers, the clocks) would make the empty side draw a
lighter page and flatter the ratio; a copy onto another organisation would hand the case to other
people. Both are checked here against the case detail service itself.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, make_url, text

from bench.one_case import copy_case
from dashboard.services.actor import load_actor
from dashboard.services.cases.detail import case_detail
from dashboard.services.cases.state import advance_state
from db.engine import dispose_engines, normalise_url, session_factory
from db.scope import NATIONAL, set_base_scope
from tests.factories import T0, make_case
from tests.integration.test_case_detail import _reviewed_case


@pytest.fixture
def target(org_template, db_url: str) -> str:
    """An empty database with the same organisation as the test's (cloned from the same template)."""
    name = f"t_one_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(db_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{org_template[0]}"'))
    url = make_url(db_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        dispose_engines(url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _count(url: str, sql: str) -> int:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return conn.scalar(text(sql))
    finally:
        engine.dispose()


def test_the_copied_case_reads_the_same_in_the_empty_database(session, org, actor_for, db_url, target):
    case = _reviewed_case(session, org, actor_for)
    make_case(session, org, "gz")  # another case, which stays behind
    manager = actor_for("gd_manager")
    advance_state(session, manager, case.id, "investigating", case.version, now=T0 + timedelta(hours=30))
    at = T0 + timedelta(hours=31)
    there = case_detail(session, manager, case.id, now=at)

    copied = copy_case(db_url, target, case.id)

    assert copied["claim_case"] == 1 and copied["point_verdict"] == 1 and copied["upload"] == 1
    assert copied["deadline"] == len(there.deadlines) > 0
    with session_factory(target)() as other:
        set_base_scope(other, NATIONAL)
        here = case_detail(other, load_actor(other, manager.person_id), case.id, now=at)
    assert here == there  # facts, every clock, the whole timeline, what the person may do
    assert _count(target, "SELECT count(*) FROM claim_case") == 1


def test_a_target_with_other_people_under_the_same_ids_gets_nothing(session, org, actor_for, db_url, target):
    case = _reviewed_case(session, org, actor_for)
    engine = create_engine(normalise_url(target))
    with engine.begin() as conn:  # the same id, another person: the case would land in other hands
        conn.execute(text("UPDATE person SET username = username || '_other' WHERE id = :id"),
                     {"id": org.person("gd_manager")})
    engine.dispose()

    with pytest.raises(ValueError, match="person differs"):
        copy_case(db_url, target, case.id)
    assert _count(target, "SELECT count(*) FROM claim_case") == 0
    assert _count(target, "SELECT count(*) FROM opinion") == 0
