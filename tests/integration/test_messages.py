"""A person's own messages (issue 22): unread first, newest first; marking read touches only the
person's own; nobody reads another person's messages."""
from __future__ import annotations

from datetime import timedelta

from dashboard.services.messages import mark_read, my_messages, unread_count
from dashboard.services.outbox import queue_notification
from tests.factories import T0


def _send(session, org, username: str, n: int, at_hours: int) -> None:
    queue_notification(session, case_id=None, recipient_id=org.person(username), kind="deadline_warning",
                       body=f"消息 {n}", dedupe_key=f"test:{username}:{n}", now=T0 + timedelta(hours=at_hours))
    session.commit()


def test_unread_first_and_only_ones_own_are_marked_read(session, org, actor_for):
    for n in range(3):
        _send(session, org, "gz_claims", n, n)
    _send(session, org, "sz_claims", 9, 0)
    claims = actor_for("gz_claims")
    total, rows = my_messages(session, claims)
    assert (total, [m.body for m in rows]) == (3, ["消息 2", "消息 1", "消息 0"])
    others = my_messages(session, actor_for("sz_claims"))[1]
    assert mark_read(session, claims, [rows[0].id, others[0].id]) == 1  # the other person's is left alone
    assert unread_count(session, claims) == 2 and unread_count(session, actor_for("sz_claims")) == 1
    _, rows = my_messages(session, claims)
    assert [m.body for m in rows] == ["消息 1", "消息 0", "消息 2"]  # the read one goes last
    assert my_messages(session, claims, unread_only=True)[0] == 2
    assert my_messages(session, actor_for("gd_manager"))[0] == 0
