"""The signed-in person's scope, handed to the database's row-level security (migration 0027).

A session of the dashboard carries a stack of scopes in `session.info`: a service entry point
pushes its actor's (services/capability.requires), a page pushes the signed-in person's when it
opens its session (ui/db.db_session). At the start of each transaction, and whenever the top
changes, the top is written with `set_config(..., true)` — the `SET LOCAL` of the policies'
settings — so it ends with the transaction and never outlives it on a pooled connection. Without
a scope the policies admit no case: forgetting one shows nothing rather than everything.

The scope a transaction starts with travels with its first statement, in the same round trip
(`_send_with_first_statement`): every page's session begins with it, and sent alone it cost each
page a round trip and SQLAlchemy's work around one more statement (bench/RESULTS.md, fifteenth
session); across a network the round trip is the larger part.
"""
from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

_KEY = "claims_scope"
# Sent by the driver as it is (`exec_driver_sql`): it starts every page's transaction, and
# SQLAlchemy's compiling of a text statement around it cost more than the round trip itself.
# Its parameters are named apart from any statement's it may ride with.
_SET = ("SELECT set_config('claims.national', %(claims_scope_national)s, true), "
        "set_config('claims.branches', %(claims_scope_branches)s, true), "
        "set_config('claims.sub_branches', %(claims_scope_sub_branches)s, true), "
        "set_config('claims.person', %(claims_scope_person)s, true), set_config('claims.me', %(claims_scope_me)s, true)")


@dataclass(frozen=True)
class DbScope:
    """What the policies read: all branches, or these branches and sub-branches in full, plus the
    cases `person` works on (set for the roles that follow their own cases), and `me` (the person)."""

    national: bool = False
    branches: frozenset[int] = frozenset()
    sub_branches: frozenset[int] = frozenset()
    person: int | None = None
    me: int | None = None

    def settings(self) -> dict[str, str]:
        def array(ids: frozenset[int]) -> str:
            return "{" + ",".join(str(i) for i in sorted(ids)) + "}"

        return {"national": "on" if self.national else "off", "branches": array(self.branches),
                "sub_branches": array(self.sub_branches),
                "person": "" if self.person is None else str(self.person),
                "me": "" if self.me is None else str(self.me)}


NOTHING = DbScope()
NATIONAL = DbScope(national=True)


def _top(session: Session) -> DbScope:
    stack = session.info.get(_KEY)
    return stack[-1] if stack else NOTHING


def acting_person(session: Session) -> int | None:
    """The person the session acts for now (the top scope's `me`), None without one."""
    return _top(session).me


def _parameters(scope: DbScope) -> dict[str, str]:
    return {f"claims_scope_{name}": value for name, value in scope.settings().items()}


def send_scope(connection: Connection, scope: DbScope) -> None:
    """Set `scope` for the rest of `connection`'s transaction, now. It supersedes a scope still
    waiting for the first statement: joined to this one, the waiting scope's values (the same
    parameter names) were sent in its place."""
    _PENDING.pop(connection, None)
    connection.exec_driver_sql(_SET, _parameters(scope))


# The scope each connection's transaction begins with, until its first statement carries it. Keyed
# by SQLAlchemy's Connection (one per checkout, gone with it), never by the pooled database
# connection, which outlives the transaction and serves the next person.
_PENDING: weakref.WeakKeyDictionary[Connection, dict[str, str]] = weakref.WeakKeyDictionary()


@event.listens_for(Session, "after_begin")
def _apply_on_begin(session: Session, transaction, connection) -> None:  # noqa: ANN001 (SQLAlchemy's hook)
    if session.info.get(_KEY):
        _PENDING[connection] = _parameters(_top(session))
    else:
        _PENDING.pop(connection, None)


@event.listens_for(Engine, "before_cursor_execute", retval=True)
def _send_with_first_statement(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any,
                               executemany: bool) -> tuple[str, Any]:
    """The pending scope goes first, in the same round trip: `SELECT set_config(...); <statement>`
    (the driver returns the last statement's result). A statement whose parameters cannot be
    joined to the scope's (a batch, positional values) gets the scope sent just before it."""
    pending = _PENDING.pop(conn, None) if _PENDING else None
    if pending is None:
        return statement, parameters
    if executemany or not isinstance(parameters, dict):
        cursor.execute(_SET, pending)
        return statement, parameters
    return f"{_SET}; {statement}", {**parameters, **pending}


def send_pending_scope(connection: Connection) -> None:
    """Send the scope the transaction began with now, if no statement carried it yet: before
    using the driver's cursor directly (a bulk import), which no event sees."""
    pending = _PENDING.pop(connection, None)
    if pending is not None:
        connection.exec_driver_sql(_SET, pending)


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget_pending(conn: Connection) -> None:
    """A transaction that ended before any statement never sets its scope, nor hands it on."""
    _PENDING.pop(conn, None)


def _apply_now(session: Session) -> None:
    if session.in_transaction():
        connection = session.connection()
        if connection in _PENDING:  # nothing sent yet: the first statement carries this scope instead
            _PENDING[connection] = _parameters(_top(session))
        else:
            send_scope(connection, _top(session))


@contextmanager
def acting_in(session: Session, scope: DbScope) -> Iterator[None]:
    """Statements of `session` inside the block see what `scope` sees; the scope before is back after."""
    stack = session.info.setdefault(_KEY, [])
    changed = not stack or stack[-1] != scope
    stack.append(scope)
    if changed:
        _apply_now(session)
    try:
        yield
    except BaseException:
        stack.pop()
        if changed:
            try:
                _restore(session)
            except DBAPIError:
                pass  # the block failed in the database: the caller rolls back, and the next
                # transaction begins with the scope now on top (after_begin)
        raise
    stack.pop()
    if changed:
        _restore(session)


def _restore(session: Session) -> None:
    if session.is_active and session.in_transaction():
        _apply_now(session)


def set_base_scope(session: Session, scope: DbScope) -> None:
    """The scope of a session's whole life (a page's session: the signed-in person)."""
    session.info[_KEY] = [scope]
