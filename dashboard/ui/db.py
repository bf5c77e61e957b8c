"""Database access for pages: one engine per process, schema checked once.

A page's session acts for the signed-in person: the scope current_actor() put in the tab's state
(ui/session) is its base scope, so even a read outside a service (a lazy load of a case's
dispatches) sees only that person's cases (db/scope.py, migration 0027). Before sign-in it has no
scope and sees no case.

`db_session()` is the primary: every write and every read a write depends on. `read_session()`
is for a block that only reads what a page shows: with DATABASE_REPLICA_URL set it reads from the
replica while the replica is up, keeps up (db/replica.py), and has replayed this person's own
latest write; otherwise it is the primary too."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db import replica
from db.engine import get_engine, session_factory
from db.outage import database_unavailable
from db.scope import set_base_scope

DB_SCOPE_KEY = "_db_scope"
# The primary's WAL position after this tab's latest write, until the replica has replayed it.
OWN_WRITE_KEY = "_own_write_lsn"
_WROTE = text("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")


def _tab_state():
    try:
        return st.session_state
    except Exception:  # noqa: BLE001 - outside a Streamlit run (a bench, a script) there is no tab
        return None


def _signed_in_scope():
    state = _tab_state()
    try:
        return state.get(DB_SCOPE_KEY) if state is not None else None
    except Exception:  # noqa: BLE001 - no script run context
        return None


def _remember_own_writes(session: Session) -> None:
    """With a replica in use, note after each commit that wrote where the primary's WAL stood."""
    def before_commit(sess: Session) -> None:
        sess.info["wrote"] = bool(sess.execute(_WROTE).scalar())

    def after_commit(sess: Session) -> None:
        if not sess.info.pop("wrote", False):
            return
        state = _tab_state()
        if state is None:
            return
        try:
            state[OWN_WRITE_KEY] = replica.primary_lsn(get_engine())
        except Exception:  # noqa: BLE001 - no script run context: nobody to read their own write
            return

    event.listen(session, "before_commit", before_commit)
    event.listen(session, "after_commit", after_commit)


@contextmanager
def db_session() -> Iterator[Session]:
    session = session_factory()()
    scope = _signed_in_scope()
    if scope is not None:
        set_base_scope(session, scope)
    if replica.replica_url() is not None:
        _remember_own_writes(session)
    try:
        yield session
    finally:
        session.close()


def _own_write_replayed(url: str) -> bool:
    state = _tab_state()
    try:
        lsn = state.get(OWN_WRITE_KEY) if state is not None else None
    except Exception:  # noqa: BLE001 - no script run context
        return True
    if lsn is None:
        return True
    if replica.caught_up(url, lsn):
        state.pop(OWN_WRITE_KEY, None)
        return True
    return False


def _replica_session(url: str) -> Session | None:
    """A session on the replica with its connection already checked out, or None if it failed."""
    session = Session(bind=replica.replica_engine(url), expire_on_commit=False)
    scope = _signed_in_scope()
    if scope is not None:
        set_base_scope(session, scope)  # before the first statement: its after_begin applies it
    try:
        session.connection()
    except DBAPIError as error:
        session.close()
        replica.MONITOR.mark_down(url, error)
        return None
    return session


@contextmanager
def read_session() -> Iterator[Session]:
    """A session for a block that only reads: the replica when fit (see module doc), else the primary."""
    url = replica.usable_replica()
    session = _replica_session(url) if url is not None and _own_write_replayed(url) else None
    if session is None:
        with db_session() as primary:
            yield primary
        return
    try:
        yield session
    except DBAPIError as error:
        if database_unavailable(error):
            replica.MONITOR.mark_down(url, error)  # the next run reads from the primary
        raise
    finally:
        session.close()
