"""The signed-in person's scope, handed to the database's row-level security (migration 0027).

A session of the dashboard carries a stack of scopes in `session.info`: a service entry point
pushes its actor's (services/capability.requires), a page pushes the signed-in person's when it
opens its session (ui/db.db_session). At the start of each transaction, and whenever the top
changes, the top is written with `set_config(..., true)` — the `SET LOCAL` of the policies'
settings — so it ends with the transaction and never outlives it on a pooled connection. Without
a scope the policies admit no case: forgetting one shows nothing rather than everything.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

_KEY = "claims_scope"
# Sent by the driver as it is (`exec_driver_sql`): it starts every page's transaction, and
# SQLAlchemy's compiling of a text statement around it cost more than the round trip itself.
_SET = ("SELECT set_config('claims.national', %(national)s, true), set_config('claims.branches', %(branches)s, true), "
        "set_config('claims.sub_branches', %(sub_branches)s, true), set_config('claims.person', %(person)s, true), "
        "set_config('claims.me', %(me)s, true)")


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


def send_scope(connection: Connection, scope: DbScope) -> None:
    """Set `scope` for the rest of `connection`'s transaction."""
    connection.exec_driver_sql(_SET, scope.settings())


@event.listens_for(Session, "after_begin")
def _apply_on_begin(session: Session, transaction, connection) -> None:  # noqa: ANN001 (SQLAlchemy's hook)
    if session.info.get(_KEY):
        send_scope(connection, _top(session))


def _apply_now(session: Session) -> None:
    if session.in_transaction():
        send_scope(session.connection(), _top(session))


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
