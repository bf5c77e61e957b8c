"""`requires`: a service entry point declares the capability it needs (rules/permissions) and is
refused without it, before anything is read. The declaration is an attribute a test walks: every
public service function that acts for a person states what it needs."""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from dashboard.rules.permissions import CAPABILITIES
from dashboard.services.errors import PermissionDenied

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
            return function(*args, **kwargs)

        checked.capability = capability  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return decorate
