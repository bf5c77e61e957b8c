"""Strings of signing in and of signed-in sessions kept across reloads (ui/session, web/auth routes)."""
from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
}
