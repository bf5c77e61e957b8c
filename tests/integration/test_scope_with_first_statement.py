"""The scope a transaction begins with travels with its first statement, in one round trip
(db/scope.py): a page's first read is not preceded by a set_config of its own, the read still sees
only the person's scope, and a scope that no statement carried is never handed to the next
transaction on the same connection."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.orm import Session

from dashboard.services.actor import db_scope
from db.engine import APP_ROLE, connect_options, normalise_url
from db.models import CaseEvent
from db.scope import NATIONAL, DbScope, acting_in, send_pending_scope, send_scope, set_base_scope
from tests.factories import make_case


@contextmanager
def _app_engine(db_url: str) -> Iterator:
    engine = create_engine(normalise_url(db_url), connect_args={"options": connect_options(APP_ROLE)})
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _sent(engine) -> Iterator[list[str]]:
    """Every statement as the driver was given it (after the scope joined it)."""
    sent: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        sent.append(statement)
    event.listen(engine, "after_cursor_execute", capture)
    try:
        yield sent
    finally:
        event.remove(engine, "after_cursor_execute", capture)


def test_the_first_read_carries_the_scope_in_one_round_trip_and_sees_only_the_branch(db_url, session, org,
                                                                                      actor_for):
    mine, theirs = make_case(session, org, "gz"), make_case(session, org, "hz")
    session.commit()
    scope = db_scope(actor_for("gd_manager"))
    with _app_engine(db_url) as engine, _sent(engine) as sent, Session(engine) as s:
        set_base_scope(s, scope)
        seen = set(s.scalars(text("SELECT id FROM claim_case WHERE id IN (:a, :b)"), {"a": mine.id, "b": theirs.id}))
        again = set(s.scalars(text("SELECT id FROM claim_case WHERE id IN (:a, :b)"), {"a": mine.id, "b": theirs.id}))
    assert seen == again == {mine.id}
    assert len(sent) == 2, sent
    assert sent[0].startswith("SELECT set_config('claims.national'") and "FROM claim_case" in sent[0]
    assert "set_config" not in sent[1]


def test_a_scope_narrowed_before_any_statement_is_the_one_the_first_statement_carries(db_url, session, org,
                                                                                       actor_for):
    """A service narrows a national session to its actor before reading (capability.requires): the
    narrower scope replaces the waiting one, sent once with the read, and the wider one is back after."""
    mine, theirs = make_case(session, org, "gz"), make_case(session, org, "hz")
    session.commit()
    read = text("SELECT count(*) FROM claim_case WHERE id IN (:a, :b)")
    ids = {"a": mine.id, "b": theirs.id}
    with _app_engine(db_url) as engine, _sent(engine) as sent, Session(engine) as s:
        set_base_scope(s, NATIONAL)
        s.connection()  # the transaction begins national; nothing is sent yet
        with acting_in(s, db_scope(actor_for("gd_manager"))):
            assert s.scalar(read, ids) == 1
        assert s.scalar(read, ids) == 2
    assert [statement.count("set_config('claims.national'") for statement in sent] == [1, 1, 0], sent
    # A scope sent outright while another waits replaces it, not the other way round.
    with _app_engine(db_url) as engine, Session(engine) as s:
        set_base_scope(s, NATIONAL)
        send_scope(s.connection(), db_scope(actor_for("gd_manager")))
        assert s.scalar(read, ids) == 1


def test_each_transaction_of_a_session_begins_with_its_scope(db_url, session, org, actor_for):
    mine, theirs = make_case(session, org, "gz"), make_case(session, org, "hz")
    session.commit()
    with _app_engine(db_url) as engine, Session(engine) as s:
        set_base_scope(s, db_scope(actor_for("gd_manager")))
        read = text("SELECT count(*) FROM claim_case WHERE id IN (:a, :b)")
        assert s.scalar(read, {"a": mine.id, "b": theirs.id}) == 1
        s.commit()
        assert s.scalar(read, {"a": mine.id, "b": theirs.id}) == 1
        s.rollback()
        assert s.scalar(read, {"a": mine.id, "b": theirs.id}) == 1


def test_a_scope_no_statement_carried_is_not_handed_to_the_next_transaction(db_url, session, org):
    """One database connection, two sessions in turn: the first begins as a national person and
    ends before sending anything; the second has no scope and must see no case (the policies admit
    none without one), not the first one's."""
    make_case(session, org, "gz")
    session.commit()
    with _app_engine(db_url) as engine, engine.connect() as conn:
        first = Session(bind=conn, join_transaction_mode="create_savepoint")
        set_base_scope(first, DbScope(national=True))
        first.connection()  # the transaction begins; the scope waits for a statement
        first.close()
        conn.rollback()
        second = Session(bind=conn, join_transaction_mode="create_savepoint")
        assert second.scalar(text("SELECT count(*) FROM claim_case")) == 0
        assert second.scalar(text("SELECT current_setting('claims.national', true)")) in (None, "")
        second.close()


def test_a_batch_or_positional_first_statement_gets_the_scope_sent_just_before_it(db_url, session, org, actor_for):
    case = make_case(session, org, "gz")
    session.commit()
    manager = actor_for("gd_manager")
    with _app_engine(db_url) as engine:
        with Session(engine) as s, _sent(engine) as sent:
            set_base_scope(s, db_scope(manager))
            me = s.connection().exec_driver_sql("SELECT current_setting('claims.me', true)", ()).scalar()
        # Sent on the cursor just before it (no event sees that), the statement itself as written.
        assert me == str(manager.person_id)
        assert sent == ["SELECT current_setting('claims.me', true)"], sent
        with Session(engine) as s:
            set_base_scope(s, db_scope(manager))
            # Two rows of a case in the manager's branch: a batch, which the policies' check admits.
            s.execute(insert(CaseEvent), [{"case_id": case.id, "actor_id": manager.person_id, "kind": "note",
                                           "payload": {"n": n}} for n in (1, 2)])
            s.commit()
    assert session.scalar(text("SELECT count(*) FROM case_event WHERE case_id = :c AND kind = 'note'"),
                          {"c": case.id}) == 2


def test_the_scope_is_sent_before_the_drivers_own_cursor_is_used(db_url, org, actor_for):
    """The bulk import writes through the driver's cursor, which no event sees: send_pending_scope
    sends the scope first."""
    manager = actor_for("gd_manager")
    with _app_engine(db_url) as engine:
        for send_first, expected in ((False, ""), (True, str(manager.person_id))):
            with Session(engine) as s:
                set_base_scope(s, db_scope(manager))
                conn = s.connection()
                if send_first:
                    send_pending_scope(conn)
                cursor = conn.connection.driver_connection.cursor()
                cursor.execute("SELECT coalesce(current_setting('claims.me', true), '')")
                assert cursor.fetchone()[0] == expected
                cursor.close()
