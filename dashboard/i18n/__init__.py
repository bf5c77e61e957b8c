"""The one catalog of user-facing strings: Simplified Chinese by default, English available.

Each area keeps its strings in its own module (`common`, `intake`, ...) as
`MESSAGES = {key: (zh, en)}`, so both languages are always written together.
"""
from __future__ import annotations

import importlib
from contextvars import ContextVar

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
_AREAS = ("common", "auth", "session", "cases", "materials", "dispatch", "deadlines", "review", "overview", "admin", "risk", "complaints", "scorecard", "calendar", "delivery")

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def _load() -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for area in _AREAS:
        module = importlib.import_module(f"dashboard.i18n.{area}")  # a missing catalog fails loudly
        for key, pair in module.MESSAGES.items():
            if key in merged:
                raise ValueError(f"i18n key defined twice: {key}")
            merged[key] = pair
    return merged


CATALOG: dict[str, tuple[str, str]] = _load()


def set_language(language: str) -> None:
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def t(key: str, **params: object) -> str:
    """Translate `key` into the current language, formatting `{name}` placeholders."""
    pair = CATALOG.get(key)
    if pair is None:
        return key
    text = pair[LANGUAGES.index(_current.get())]
    return text.format(**params) if params else text


def has_key(key: str) -> bool:
    return key in CATALOG
