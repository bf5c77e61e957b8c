"""Read statements built once per shape and reused.

Why: building a list page's SELECT (joins, aliases, CASE, a subquery) and computing its cache key
cost SQLAlchemy 1-3 ms of Python on every call, as much as PostgreSQL took to run it
(bench/RESULTS.md, ours / SQL). A built statement never changes and SQLAlchemy memoises its cache
key, so the same object can be executed again, by any thread. Builders decorated here are keyed by
their arguments: the person (a frozen `Actor`, so one person's scope is never served to another),
the filters (frozen dataclasses) and the page. Values that change on every call (the time now, a
list of ids) are bound parameters given at execution instead.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

F = TypeVar("F", bound=Callable)

# Per builder: enough for every person's current filters on a busy server; a statement is a few KB.
MAX_SHAPES = 512


def built_once(builder: F) -> F:
    """Keep the statements `builder` returns, by its (hashable) arguments."""
    return lru_cache(maxsize=MAX_SHAPES)(builder)  # type: ignore[return-value]
