"""Settings that only make sense in order are refused out of order, naming the field changed: a
browser walk saved 时效预警一 at 90 % over 预警二 at 80 % (the warnings out of order), and delivery
hours of 19:00 → 18:00, under which no message would ever be sent."""
from __future__ import annotations

import pytest

from dashboard.services.admin.rule_settings import update_rule_settings
from dashboard.services.errors import ValidationFailed
from dashboard.services.reference import get_setting


@pytest.mark.parametrize(("changes", "message"), [
    ({"deadline.warn_first_pct": "90"}, "admin.error.warn_order"),  # the second stays at 80
    ({"deadline.warn_second_pct": "40"}, "admin.error.warn_order"),  # the first stays at 50
    ({"deadline.warn_first_pct": "70", "deadline.warn_second_pct": "70"}, "admin.error.warn_order"),
    ({"notify.work_from": "19:00"}, "admin.error.work_hours_order"),  # the end stays at 18:00
    ({"notify.work_until": "08:00"}, "admin.error.work_hours_order"),
])
def test_a_pair_saved_out_of_order_is_refused_naming_what_was_changed_and_nothing_is_written(
        session, org, actor_for, changes, message):
    before = {k: get_setting(session, k) for k in changes}
    with pytest.raises(ValidationFailed) as refused:
        update_rule_settings(session, actor_for("admin"), changes)
    assert {(e.field, e.key) for e in refused.value.errors} == {(k, message) for k in changes}
    assert {k: get_setting(session, k) for k in changes} == before


def test_a_pair_moved_together_in_order_is_saved(session, org, actor_for):
    admin = actor_for("admin")
    both = {"deadline.warn_first_pct": "85", "deadline.warn_second_pct": "95"}
    assert set(update_rule_settings(session, admin, both)) == set(both)
    assert update_rule_settings(session, admin, {"notify.work_from": "07:00"}) == ["notify.work_from"]
