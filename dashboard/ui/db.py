"""Database access for pages: one engine per process, schema checked once.

A page's session acts for the signed-in person: the scope current_actor() put in the tab's state
(ui/session) is its base scope, so even a read outside a service (a lazy load of a case's
dispatches) sees only that person's cases (db/scope.py, migration 0027). Before sign-in it has no
scope and sees no case."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy.orm import Session

from db.engine import session_factory
from db.scope import set_base_scope

DB_SCOPE_KEY = "_db_scope"


def _signed_in_scope():
    try:
        return st.session_state.get(DB_SCOPE_KEY)
    except Exception:  # noqa: BLE001 - outside a Streamlit run (a bench, a script) there is no tab
        return None


@contextmanager
def db_session() -> Iterator[Session]:
    session = session_factory()()
    scope = _signed_in_scope()
    if scope is not None:
        set_base_scope(session, scope)
    try:
        yield session
    finally:
        session.close()
