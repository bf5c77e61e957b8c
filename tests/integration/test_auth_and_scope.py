"""Sign-in and case visibility, on a real PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from dashboard.services.auth import authenticate
from dashboard.services.errors import UserError
from dashboard.demo.org import DEMO_PASSWORD


def test_correct_password_signs_in_with_the_persons_roles(session, org):
    actor = authenticate(session, "gd_manager", DEMO_PASSWORD)
    assert actor.roles == {"branch_manager"}
    assert actor.visible_branch_ids == {org.branch("gd").id}


def test_wrong_password_is_refused_with_a_clear_message(session, org):
    with pytest.raises(UserError) as err:
        authenticate(session, "gd_manager", "wrong")
    assert err.value.key == "auth.bad_credentials"


def test_unknown_user_gets_the_same_message_as_a_wrong_password(session, org):
    with pytest.raises(UserError) as err:
        authenticate(session, "nobody", DEMO_PASSWORD)
    assert err.value.key == "auth.bad_credentials"


def test_disabled_account_cannot_sign_in(session, org):
    session.execute(text("UPDATE person SET active = false WHERE username = 'gd_manager'"))
    session.commit()
    with pytest.raises(UserError) as err:
        authenticate(session, "gd_manager", DEMO_PASSWORD)
    assert err.value.key == "auth.inactive"


def test_passwords_are_stored_only_as_argon2_hashes(session, org):
    stored = session.execute(text("SELECT password_hash FROM person WHERE username='admin'")).scalar_one()
    assert stored.startswith("$argon2") and DEMO_PASSWORD not in stored


# ---------------------------------------------------------------- signed-in sessions (issue 26)

def _established(session, org, username: str = "gd_manager") -> tuple[int, str]:
    """A session opened at sign-in and collected by the browser: (row id, the cookie's token)."""
    from dashboard.services.web_sessions import establish, open_web_session

    opened = open_web_session(session, org.person(username), "zh")
    token = establish(session, opened.ticket)
    assert token
    return opened.id, token


def test_a_ticket_gives_the_browser_a_token_once_and_only_digests_are_stored(session, org):
    from dashboard.services.web_sessions import digest, establish, open_web_session, resume

    opened = open_web_session(session, org.person("gd_manager"), "zh")
    token = establish(session, opened.ticket)
    assert token and token != opened.ticket
    assert establish(session, opened.ticket) is None  # consumed at once
    row = session.execute(text("SELECT * FROM web_session WHERE id = :id"), {"id": opened.id}).mappings().one()
    assert row["token_sha256"] == digest(token) and row["ticket_sha256"] is None
    assert not any(token in str(value) or opened.ticket in str(value) for value in row.values())
    state = resume(session, token)
    assert state.live and state.person_id == org.person("gd_manager") and state.id == opened.id


def test_an_expired_ticket_gives_no_token(session, org, now):
    from datetime import timedelta

    from dashboard.services.web_sessions import TICKET_SECONDS, establish, open_web_session

    opened = open_web_session(session, org.person("gd_manager"), "zh", now=now)
    assert establish(session, opened.ticket, now=now + timedelta(seconds=TICKET_SECONDS + 1)) is None


def test_a_forged_or_unknown_token_finds_no_session(session, org):
    from dashboard.services.web_sessions import resume

    _established(session, org)
    for forged in ("", "forged", "x" * 43):
        assert resume(session, forged).status == "unknown"


def test_a_session_idle_longer_than_the_setting_is_refused_and_ended(session, org, now):
    from datetime import timedelta

    from dashboard.services.reference import get_setting
    from dashboard.services.web_sessions import check, resume

    session_id, token = _established(session, org)
    idle = timedelta(minutes=float(get_setting(session, "session.idle_minutes")))
    assert resume(session, token, now=now + idle - timedelta(minutes=1)).live  # an action keeps it alive
    later = now + idle - timedelta(minutes=1) + idle + timedelta(seconds=1)
    assert resume(session, token, now=later).status == "idle"
    # Ended for good: every tab and server holding it is refused, even at an earlier clock.
    assert check(session, session_id, now=now).status == "ended"
    assert resume(session, token, now=now).end_reason == "idle"


def test_sign_out_ends_the_session_for_every_tab_and_server(session, org):
    from dashboard.services.web_sessions import check, end_web_session, resume

    session_id, token = _established(session, org)
    end_web_session(session, session_id)
    assert check(session, session_id).status == "ended"  # a tab that remembers it
    assert resume(session, token).status == "ended"  # a new tab presenting the cookie


def test_signing_in_again_in_the_same_browser_ends_its_previous_session(session, org):
    from dashboard.services.web_sessions import check, establish, open_web_session

    first_id, first_token = _established(session, org, "gd_manager")
    opened = open_web_session(session, org.person("gd_tracker"), "zh")
    assert establish(session, opened.ticket, previous_token=first_token)
    state = check(session, first_id)
    assert state.status == "ended" and state.end_reason == "replaced"


def test_only_a_cookie_whose_session_ended_may_be_cleared(session, org):
    from dashboard.services.web_sessions import end_web_session, is_dead_token

    session_id, token = _established(session, org)
    assert not is_dead_token(session, token)
    end_web_session(session, session_id)
    assert is_dead_token(session, token) and is_dead_token(session, "forged")


def test_every_demo_person_has_a_password_hash_of_their_own(session, monkeypatch):
    """Issue 25: the demo org's people shared one hash string, so one cracked hash showed that all
    share the password. Each hash has its own salt and still checks the demo password.

    Hashed here at argon2's lowest cost: what is tested is one salt per person, and at the real
    cost hashing every demo person took this test 27 s of a CI worker."""
    from argon2 import PasswordHasher
    from sqlalchemy import select as select_

    from dashboard.demo.load import build_demo_org
    from dashboard.services import auth
    from dashboard.services.auth import authenticate
    from db.models import Person as Person_

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    build_demo_org(session)
    session.commit()
    hashes = session.scalars(select_(Person_.password_hash)).all()
    assert len(hashes) > 20 and len(set(hashes)) == len(hashes)
    for username in ("admin", "gd_manager", "gz_surveyor1"):
        assert authenticate(session, username, DEMO_PASSWORD).username == username


def test_five_failures_lock_the_name_with_the_same_words_for_known_and_unknown_names(session, org):
    """Issue 18: sign-in had no limit on failed attempts. Five failures within 15 minutes lock the
    name for 15 minutes from the last, even for the right password; an unknown name is locked in
    the same words (the lock reveals nothing); a success resets the count; the rows are shared."""
    from datetime import timedelta

    from dashboard.services.auth import authenticate
    from dashboard.services.errors import UserError
    from tests.factories import T0

    def attempt(name, password, minutes):
        try:
            return authenticate(session, name, password, now=T0 + timedelta(minutes=minutes))
        except UserError as err:
            return err.key, err.params

    for n in range(4):
        assert attempt("gd_manager", "wrong", n) == ("auth.bad_credentials", {})
    assert attempt("gd_manager", DEMO_PASSWORD, 4).username == "gd_manager"  # a success resets the count
    for n in range(5):
        assert attempt("gd_manager", "wrong", 5 + n)[0] == "auth.bad_credentials"
    assert attempt("gd_manager", DEMO_PASSWORD, 10) == ("auth.locked", {"minutes": 14})  # right password, locked
    assert attempt("GD_Manager", DEMO_PASSWORD, 23)[0] == "auth.locked"  # the name, whatever its case
    assert attempt("gd_manager", DEMO_PASSWORD, 24).username == "gd_manager"  # 15 min after the last failure
    for n in range(5):
        assert attempt("nobody_here", "x", n)[0] == "auth.bad_credentials"
    assert attempt("nobody_here", "x", 6) == ("auth.locked", {"minutes": 13})
    # Failures spread wider than the window do not lock.
    for n in range(5):
        assert attempt("zj_manager", "wrong", n * 4)[0] == "auth.bad_credentials"
    assert attempt("zj_manager", DEMO_PASSWORD, 17).username == "zj_manager"
