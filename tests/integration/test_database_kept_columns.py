"""Columns the database keeps from other rows (migrations 0008, 0009, 0012): the upgrade fills them from
the rows already there, and the triggers keep them as rows are inserted, whoever inserts them."""
from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import create_engine, text

from db.engine import normalise_url
from db.schema import alembic_config
from tests.factories import T0, make_case


def test_upgrade_counts_existing_answers_and_later_inserts_add_to_them(db_url, org, session):
    case_id = make_case(session, org, "gz").id
    session.close()
    command.downgrade(alembic_config(db_url), "0007")
    engine = create_engine(normalise_url(db_url))
    reviewer, manager = org.person("reviewer"), org.person("gd_manager")
    with engine.begin() as conn:
        branch = conn.execute(text("SELECT branch_id FROM claim_case WHERE id = :c"), {"c": case_id}).scalar()
        opinion = conn.execute(text(
            "INSERT INTO opinion (case_id, branch_id, kind, author_id, posted_at) "
            "VALUES (:c, :b, 'hq_review', :r, :t) RETURNING id"), {"c": case_id, "b": branch, "r": reviewer, "t": T0}
        ).scalar()
        point = conn.execute(text("INSERT INTO opinion_point (opinion_id, seq, body, status) "
                                  "VALUES (:o, 1, '要点', 'answered') RETURNING id"), {"o": opinion}).scalar()
        first = conn.execute(text("INSERT INTO point_answer (point_id, author_id, body, answered_at) "
                                  "VALUES (:p, :m, '答复一', :t) RETURNING id"),
                             {"p": point, "m": manager, "t": T0 + timedelta(hours=10)}).scalar()
        conn.execute(text("INSERT INTO point_verdict (point_id, answer_id, verdict, reason, decided_by, decided_at) "
                          "VALUES (:p, :a, 'sent_back', '不完整', :r, :t)"),
                     {"p": point, "a": first, "r": reviewer, "t": T0 + timedelta(hours=12)})
        conn.execute(text("INSERT INTO point_answer (point_id, author_id, body, answered_at) "
                          "VALUES (:p, :m, '答复二', :t)"), {"p": point, "m": manager, "t": T0 + timedelta(hours=15)})
    command.upgrade(alembic_config(db_url), "head")
    totals = "SELECT answer_count, answer_seconds FROM opinion_point WHERE id = :p"
    with engine.connect() as conn:
        assert tuple(conn.execute(text(totals), {"p": point}).one()) == (2, 13 * 3600)  # 10 h + 3 h
    with engine.begin() as conn:  # after the upgrade the trigger adds each new answer
        conn.execute(text("INSERT INTO point_verdict (point_id, answer_id, verdict, reason, decided_by, decided_at) "
                          "SELECT :p, max(id), 'sent_back', '仍不完整', :r, :t FROM point_answer WHERE point_id = :p"),
                     {"p": point, "r": reviewer, "t": T0 + timedelta(hours=20)})
        conn.execute(text("INSERT INTO point_answer (point_id, author_id, body, answered_at) "
                          "VALUES (:p, :m, '答复三', :t)"), {"p": point, "m": manager, "t": T0 + timedelta(hours=21)})
    with engine.connect() as conn:
        assert tuple(conn.execute(text(totals), {"p": point}).one()) == (3, 14 * 3600)
    engine.dispose()


def test_first_dispatch_time_is_filled_on_upgrade_and_kept_by_every_later_dispatch(db_url, org, session):
    early, late = make_case(session, org, "gz"), make_case(session, org, "sz")
    session.close()
    command.downgrade(alembic_config(db_url), "0008")
    engine = create_engine(normalise_url(db_url))
    insert = text("INSERT INTO dispatch (case_id, tier, position, person_id, reason, dispatched_at) "
                  "VALUES (:c, 'T1', 'sub_claims_head', :p, 'initial', :t)")
    person = org.person("gz_claims")
    with engine.begin() as conn:
        conn.execute(insert, {"c": early.id, "p": person, "t": T0 + timedelta(hours=2)})
        conn.execute(insert, {"c": early.id, "p": org.person("gd_manager"), "t": T0 + timedelta(hours=1)})
    command.upgrade(alembic_config(db_url), "head")
    first = text("SELECT first_dispatched_at FROM claim_case WHERE id = :c")
    with engine.connect() as conn:
        assert conn.execute(first, {"c": early.id}).scalar() == T0 + timedelta(hours=1)  # the earliest
        assert conn.execute(first, {"c": late.id}).scalar() is None
    with engine.begin() as conn:
        conn.execute(insert, {"c": late.id, "p": person, "t": T0 + timedelta(hours=5)})
        conn.execute(insert, {"c": late.id, "p": org.person("gd_manager"), "t": T0 + timedelta(hours=7)})
        conn.execute(insert, {"c": early.id, "p": org.person("admin"),
                              "t": T0 + timedelta(minutes=30)})
    with engine.connect() as conn:
        assert conn.execute(first, {"c": late.id}).scalar() == T0 + timedelta(hours=5)  # a later one keeps it
        assert conn.execute(first, {"c": early.id}).scalar() == T0 + timedelta(minutes=30)
    engine.dispose()


def test_weekly_summary_totals_are_filled_on_upgrade_and_follow_every_content_change(db_url, org, session):
    session.close()
    command.downgrade(alembic_config(db_url), "0011")
    engine = create_engine(normalise_url(db_url))
    content = '{"totals": {"cases": 3, "open_points": 5, "overdue_deadlines": 1, "estimate": "10"}, "cases": []}'
    with engine.begin() as conn:
        summary = conn.execute(text(
            "INSERT INTO weekly_summary (branch_id, week_start, due_at, generated_at, content) "
            "VALUES (:b, :w, :t, :t, CAST(:c AS jsonb)) RETURNING id"),
            {"b": org.branch("gd").id, "w": T0.date(), "t": T0, "c": content}).scalar()
    command.upgrade(alembic_config(db_url), "head")
    totals = text("SELECT total_cases, total_open_points, total_overdue_deadlines FROM weekly_summary WHERE id = :s")
    with engine.connect() as conn:
        assert tuple(conn.execute(totals, {"s": summary}).one()) == (3, 5, 1)
    with engine.begin() as conn:  # a refresh rewrites the content: the totals follow
        conn.execute(text("UPDATE weekly_summary SET content = jsonb_set(content, '{totals,open_points}', '0') "
                          "WHERE id = :s"), {"s": summary})
    with engine.connect() as conn:
        assert tuple(conn.execute(totals, {"s": summary}).one()) == (3, 0, 1)
    engine.dispose()
