"""Sign-in with argon2 password hashes (argon2-cffi), never plain or hand-rolled."""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.services.actor import Actor, load_actor
from dashboard.services.errors import UserError
from dashboard.services.reference import get_setting
from db.models import Person, SignInAttempt

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(session: Session, username: str, password: str, *, now: datetime | None = None) -> Actor:
    """Return the signed-in actor, or raise UserError with a message key the page shows.

    Lockout: after `sign_in.max_failures` failures for a user name within `sign_in.window_minutes`
    (counted since its last success), the name is refused for `sign_in.lock_minutes` from the last
    failure, even with the right password. It counts names, known or not, so the lock says nothing
    about which names exist; the attempts are rows, so every server counts the same."""
    now = clock.or_now(now)
    username = (username or "").strip()
    if not username or not password:
        raise UserError("auth.missing_fields")
    key = username.lower()[:100]
    locked_for = _locked_minutes(session, key, now)
    if locked_for:
        raise UserError("auth.locked", minutes=locked_for)
    person = session.scalars(select(Person).where(Person.username == username)).first()
    try:
        _hasher.verify(person.password_hash if person else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        _record_attempt(session, key, now, succeeded=False)
        raise UserError("auth.bad_credentials") from None
    if person is None:
        _record_attempt(session, key, now, succeeded=False)
        raise UserError("auth.bad_credentials")
    if not person.active:
        raise UserError("auth.inactive")
    actor = load_actor(session, person.id)
    if actor is None:
        raise UserError("auth.bad_credentials")
    _record_attempt(session, key, now, succeeded=True)
    return actor


def _record_attempt(session: Session, username: str, now: datetime, *, succeeded: bool) -> None:
    """Kept even though the sign-in is refused: committed here, before the refusal is raised."""
    session.add(SignInAttempt(username=username, attempted_at=now, succeeded=succeeded))
    session.commit()


def _locked_minutes(session: Session, username: str, now: datetime) -> int:
    """Whole minutes the name stays locked (0: not locked): its last `max_failures` failures since
    its last success all fell within one window, and the lock since the last one has not run out."""
    limit = int(get_setting(session, "sign_in.max_failures"))
    window = timedelta(minutes=float(get_setting(session, "sign_in.window_minutes")))
    lock = timedelta(minutes=float(get_setting(session, "sign_in.lock_minutes")))
    last_success = select(func.max(SignInAttempt.attempted_at)).where(
        SignInAttempt.username == username, SignInAttempt.succeeded, SignInAttempt.attempted_at <= now
    ).scalar_subquery()
    recent = list(session.scalars(
        select(SignInAttempt.attempted_at).where(
            SignInAttempt.username == username, ~SignInAttempt.succeeded, SignInAttempt.attempted_at <= now,
            SignInAttempt.attempted_at > func.coalesce(last_success, now - window - lock - lock))
        .order_by(SignInAttempt.attempted_at.desc()).limit(limit)))
    if len(recent) < limit or recent[0] - recent[-1] > window:
        return 0
    until = recent[0] + lock
    return 0 if until <= now else max(1, math.ceil((until - now).total_seconds() / 60))
