"""Sign-in and case visibility, on a real PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from dashboard.services.auth import authenticate
from dashboard.services.errors import UserError
from db.demo_org import DEMO_PASSWORD


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


def test_case_history_is_append_only(session, org):
    session.execute(text("INSERT INTO case_event (kind, payload) VALUES ('test', '{}')"))
    session.commit()
    with pytest.raises(Exception, match="append-only"):
        session.execute(text("UPDATE case_event SET kind = 'changed'"))
    session.rollback()
    with pytest.raises(Exception, match="append-only"):
        session.execute(text("DELETE FROM case_event"))
    session.rollback()
