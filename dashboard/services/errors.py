"""Errors a service raises for people: an i18n key, the field at fault and its parameters.

Services stay language-agnostic; the page translates `key` with `dashboard.i18n.t`.
"""
from __future__ import annotations

from dashboard.rules.problems import FieldError  # noqa: F401 (where services and pages take it from)


class UserError(Exception):
    """A refusal the person can act on; nothing was written."""

    def __init__(self, key: str, field: str | None = None, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.field = field
        self.params = params


class PermissionDenied(UserError):
    def __init__(self, key: str = "common.forbidden", **params: object) -> None:
        super().__init__(key, **params)


class NotFound(UserError):
    def __init__(self, key: str = "common.not_found", **params: object) -> None:
        super().__init__(key, **params)


class StaleWrite(UserError):
    """The record moved since the person's screen was drawn: nothing was written. Names who changed
    it and when (Asia/Shanghai, already formatted) when that is known, so the person knows whom to ask."""

    def __init__(self, who: str | None = None, at: str | None = None, *, yourself: bool = False,
                 family: str = "common") -> None:
        """`family`: the catalog's sentences for the record ("special": a level of an approval was
        decided, where "reload and try again" would invite a second decision on the level after)."""
        self.yourself = bool(yourself and at)  # said as the person's own change (another window)
        if self.yourself:
            # The person's own change from another window or tab: "someone else" would send them
            # looking for a colleague who does not exist.
            super().__init__(f"{family}.stale_write_self", at=at)
        elif who and at:
            super().__init__(f"{family}.stale_write_by", who=who, at=at)
        else:
            super().__init__(f"{family}.stale_write")


class NeedsConfirmation(UserError):
    """Valid but unusual (an amount above the plausibility limit): the page asks the person to
    confirm, then calls again with confirmed=True. Nothing was written."""


class ValidationFailed(UserError):
    """One or more fields are wrong; every one is listed so the form can show them all."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors[0].key if errors else "common.invalid", errors[0].field if errors else None)
        self.errors = errors
