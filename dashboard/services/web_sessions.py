"""Signed-in browser sessions that survive reloads and links (issue 26), kept in table web_session.

How a browser gets its session: the in-app sign-in opens a row with a one-time ticket (valid for
TICKET_SECONDS); the page then loads `/api/session/establish?ticket=...` (dashboard/web) once, whose
response sets an HttpOnly, SameSite=Strict cookie holding a fresh random token. The ticket is not
the token and is consumed at once. Every new tab or reload presents the cookie, and `resume` finds
the person again. Only SHA-256 digests of the ticket and the token are stored, so the table can
be shared by several servers and a copy of it cannot be replayed.

A session ends on sign-out, after `session.idle_minutes` (rule setting) without any action in any
of its tabs, or when the same browser signs in again; an ended row refuses every tab at its next
action, on every server.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.i18n import LANGUAGES
from dashboard.services.reference import get_setting
from db.models import WebSession

# The session cookie: an HttpOnly, SameSite=Strict cookie holding a random token (never in a URL).
SESSION_COOKIE = "claims_session"
ESTABLISH_PATH = "api/session/establish"
CLEAR_PATH = "api/session/clear"


def route_path(path: str, base_url_path: str | None) -> str:
    """`/api/...` under Streamlit's server.baseUrlPath (empty by default)."""
    base = (base_url_path or "").strip("/")
    return f"/{base}/{path}" if base else f"/{path}"


def cookie_path(base_url_path: str | None) -> str:
    base = (base_url_path or "").strip("/")
    return f"/{base}" if base else "/"


# The ticket only has to reach the same page's own request a moment later; short, so a ticket
# seen anywhere else (a proxy's log) is worthless soon after.
TICKET_SECONDS = 120
# last_seen is written at most this often: every action would otherwise be a write. Far below the
# shortest idle time allowed (5 minutes), so the idle timeout stays exact to within this margin.
TOUCH_SECONDS = 15


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class OpenedSession:
    id: int
    ticket: str


@dataclass(frozen=True)
class SessionState:
    """What a tab learns about its session: `status` is live, idle (ended now for inactivity),
    ended (signed out / replaced / idle before) or unknown (no such token)."""

    status: str
    id: int | None = None
    person_id: int | None = None
    language: str = LANGUAGES[0]
    end_reason: str | None = None
    needs_cookie: bool = False  # live, and the browser has not collected its cookie yet

    @property
    def live(self) -> bool:
        return self.status == "live"


UNKNOWN = SessionState("unknown")


def open_web_session(session: Session, person_id: int, language: str, now: datetime | None = None) -> OpenedSession:
    """At sign-in (after the password was checked): a new session and its one-time ticket."""
    now = clock.or_now(now)
    ticket = secrets.token_urlsafe(32)
    row = WebSession(person_id=person_id, ticket_sha256=digest(ticket),
                     ticket_expires_at=now + timedelta(seconds=TICKET_SECONDS),
                     language=language if language in LANGUAGES else LANGUAGES[0],
                     created_at=now, last_seen_at=now)
    session.add(row)
    session.commit()
    return OpenedSession(id=row.id, ticket=ticket)


def establish(session: Session, ticket: str, previous_token: str | None = None,
              now: datetime | None = None) -> str | None:
    """Consume a ticket: the cookie's new token, or None for an unknown, used or expired ticket.

    A live session this browser held before (`previous_token`, its old cookie) is ended: one
    browser holds one session, so signing out later ends it in every tab of that browser."""
    now = clock.or_now(now)
    row = session.scalars(select(WebSession).where(WebSession.ticket_sha256 == digest(ticket or ""))
                          .with_for_update()).first()
    if row is None:
        return None
    row.ticket_sha256 = None  # consumed, whatever comes next
    if row.ended_at is not None or row.ticket_expires_at is None or row.ticket_expires_at < now:
        session.commit()
        return None
    token = secrets.token_urlsafe(32)
    row.token_sha256 = digest(token)
    row.established_at = now
    row.ticket_expires_at = None
    if previous_token:
        session.execute(update(WebSession)
                        .where(WebSession.token_sha256 == digest(previous_token), WebSession.id != row.id,
                               WebSession.ended_at.is_(None))
                        .values(ended_at=now, end_reason="replaced"))
    session.commit()
    return token


def resume(session: Session, token: str | None, now: datetime | None = None) -> SessionState:
    """A new tab or a reload presenting the cookie: the live session it names, or why not."""
    if not token:
        return UNKNOWN
    row = session.scalars(select(WebSession).where(WebSession.token_sha256 == digest(token))).first()
    if row is None:
        return UNKNOWN
    return _checked(session, row, clock.or_now(now))


def check(session: Session, web_session_id: int, now: datetime | None = None) -> SessionState:
    """Each action of a signed-in tab: is its session still live (not ended elsewhere, not idle)?"""
    row = session.get(WebSession, web_session_id)
    if row is None:
        return UNKNOWN
    return _checked(session, row, clock.or_now(now))


def _checked(session: Session, row: WebSession, now: datetime) -> SessionState:
    if row.ended_at is not None:
        return SessionState("ended", id=row.id, person_id=row.person_id, language=row.language,
                            end_reason=row.end_reason)
    idle_minutes = float(get_setting(session, "session.idle_minutes"))
    if now - row.last_seen_at > timedelta(minutes=idle_minutes):
        row.ended_at, row.end_reason = now, "idle"
        row.ticket_sha256 = None
        session.commit()
        return SessionState("idle", id=row.id, person_id=row.person_id, language=row.language, end_reason="idle")
    if now - row.last_seen_at >= timedelta(seconds=TOUCH_SECONDS):
        row.last_seen_at = now
        session.commit()
    needs_cookie = (row.established_at is None and row.ticket_expires_at is not None
                    and row.ticket_expires_at >= now)
    return SessionState("live", id=row.id, person_id=row.person_id, language=row.language,
                        needs_cookie=needs_cookie)


def end_web_session(session: Session, web_session_id: int, reason: str = "signed_out",
                    now: datetime | None = None) -> None:
    """Sign-out (or idle): the session ends for every tab and server that holds it."""
    session.execute(update(WebSession)
                    .where(WebSession.id == web_session_id, WebSession.ended_at.is_(None))
                    .values(ended_at=clock.or_now(now), end_reason=reason, ticket_sha256=None))
    session.commit()


def is_dead_token(session: Session, token: str) -> bool:
    """True when a cookie names no live session (ended or unknown): such a cookie may be cleared.
    A live one is never cleared this way, so a late clearing request cannot undo a new sign-in."""
    row = session.scalars(select(WebSession).where(WebSession.token_sha256 == digest(token))).first()
    return row is None or row.ended_at is not None


def set_session_language(session: Session, web_session_id: int, language: str) -> None:
    """The language chosen in one tab is the session's: a reload or a new tab keeps it."""
    if language not in LANGUAGES:
        return
    session.execute(update(WebSession).where(WebSession.id == web_session_id).values(language=language))
    session.commit()
