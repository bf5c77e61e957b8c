"""`requires`: a service entry point declares the capability it needs (rules/permissions) and is
refused without it, before anything is read. The declaration is an attribute a test walks: every
public service function that acts for a person states what it needs.

Admitted, the call runs with the actor's scope handed to the database (db/scope.acting_in): the
row-level security of migration 0027 then shows and lets change only the actor's cases, whatever
the function's own queries say."""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from dashboard.rules.permissions import CAPABILITIES
from dashboard.services.actor import db_scope
from dashboard.services.errors import PermissionDenied
from db.scope import acting_in

F = TypeVar("F", bound=Callable[..., Any])


def requires(capability: str) -> Callable[[F], F]:
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")

    def decorate(function: F) -> F:
        at = list(inspect.signature(function).parameters).index("actor")

        @functools.wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            actor = kwargs["actor"] if "actor" in kwargs else args[at]
            if not actor.may(capability):
                raise PermissionDenied()
            session = next((a for a in (*args, *kwargs.values()) if isinstance(a, Session)), None)
            if session is None:
                return function(*args, **kwargs)
            with acting_in(session, db_scope(actor)):
                return function(*args, **kwargs)

        checked.capability = capability  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return decorate
