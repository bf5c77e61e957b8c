"""A selectbox hands back the label text the browser last showed, not the option, once that label
changed (seen on the board: a dispatch id arrived as 「赵志明·分公司理赔负责人（已通知）」 after a
colleague's call, and the save crashed). The choice is mapped back to the option it named."""
from __future__ import annotations

from types import SimpleNamespace

from dashboard.ui import forms
from dashboard.ui.forms import chosen_option, keep_choice_by_label


def test_a_label_that_changed_is_read_as_the_option_it_named(monkeypatch):
    state: dict = {}
    monkeypatch.setattr(forms, "st", SimpleNamespace(session_state=state))
    keep_choice_by_label("pick", {5: "赵志明（已通知）", 6: "孟强（已通知）"})
    state["pick"] = "赵志明（已通知）"  # what the browser sends back after 赵志明's label changed
    keep_choice_by_label("pick", {5: "赵志明（联系不上）", 6: "孟强（已通知）"})
    assert state["pick"] == 5  # the person's choice, not the first option, not a crash


def test_a_choice_naming_nothing_drawn_is_dropped_not_moved_to_another_option(monkeypatch):
    state: dict = {"pick": "某人（已通知）"}
    monkeypatch.setattr(forms, "st", SimpleNamespace(session_state=state))
    keep_choice_by_label("pick", {5: "赵志明"})
    assert "pick" not in state


def test_a_callback_reads_the_option_behind_a_label():
    drawn = {5: "赵志明（已通知）", 6: "孟强（已通知）"}
    assert chosen_option(6, drawn) == 6
    assert chosen_option("赵志明（已通知）", drawn) == 5
    assert chosen_option("某人", drawn) is None
