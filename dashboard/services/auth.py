"""Sign-in with argon2 password hashes (argon2-cffi), never plain or hand-rolled."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.services.actor import Actor, load_actor
from dashboard.services.errors import UserError
from db.models import Person

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(session: Session, username: str, password: str) -> Actor:
    """Return the signed-in actor, or raise UserError with a message key the page shows."""
    username = (username or "").strip()
    if not username or not password:
        raise UserError("auth.missing_fields")
    person = session.scalars(select(Person).where(Person.username == username)).first()
    try:
        _hasher.verify(person.password_hash if person else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise UserError("auth.bad_credentials") from None
    if person is None:
        raise UserError("auth.bad_credentials")
    if not person.active:
        raise UserError("auth.inactive")
    actor = load_actor(session, person.id)
    if actor is None:
        raise UserError("auth.bad_credentials")
    return actor
