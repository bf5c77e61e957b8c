"""Strings of case material: uploads, the list of a case's files, previews and downloads."""
from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
}
