"""A row clicked in a list chooses that row's case once; the list changing under a kept selection
(the case just reviewed leaving the queue) must not switch the page to another case."""
from __future__ import annotations

from dashboard.ui.review_view import apply_row_click, sync_tick


def test_a_click_chooses_its_row_and_a_list_changing_under_it_chooses_nothing():
    state: dict = {}
    apply_row_click(state, "queue", [1], [10, 20, 30], "case")
    assert state["case"] == 20
    # Case 20 was reviewed and left the queue; the selection still says row 1, now case 30.
    apply_row_click(state, "queue", [1], [10, 30], "case")
    assert state["case"] == 20
    # A new click does choose.
    apply_row_click(state, "queue", [0], [10, 30], "case")
    assert state["case"] == 10


def test_the_picker_keeps_a_case_chosen_by_hand_until_the_next_click():
    state: dict = {}
    apply_row_click(state, "queue", [2], [10, 20, 30], "case")
    state["case"] = 10  # chosen in the picker below the list
    apply_row_click(state, "queue", [2], [10, 20, 30], "case")  # any rerun: same selection
    assert state["case"] == 10
    apply_row_click(state, "queue", [], [10, 20, 30], "case")  # the row deselected
    assert state["case"] == 10
    apply_row_click(state, "queue", [2], [10, 20, 30], "case")  # clicked again
    assert state["case"] == 30


def test_a_clicked_row_without_a_case_opens_nothing():
    """A branch's weekly-summary clock (D6) on the landing page has no case: clicking it failed."""
    import pandas as pd

    from dashboard.ui.tables import chosen_case_id

    frame = pd.DataFrame({"case_id": [12, None], "报案号": ["BA1", "—"]})
    assert chosen_case_id(frame, [0]) == 12
    assert chosen_case_id(frame, [1]) is None
    assert chosen_case_id(frame, []) is None
    assert chosen_case_id(frame, [5]) is None  # the list changed under the selection


def _rows(state: dict, key: str = "queue") -> list[int]:
    return state.get(key, {}).get("selection", {}).get("rows", [])


def test_the_tick_follows_the_case_shown_below_when_the_list_changes_under_it():
    """Walk: after a review the case left the queue and the tick sat on the next case, while the
    page below still showed the reviewed one."""
    state: dict = {}
    sync_tick(state, "queue", [10, 20, 30], "case")  # first draw, nothing chosen yet: no tick
    assert _rows(state) == []
    state["queue"] = {"selection": {"rows": [1], "columns": [], "cells": []}}  # the person clicks row 1
    sync_tick(state, "queue", [10, 20, 30], "case")
    assert _rows(state) == [1]  # a fresh click is left for apply_row_click
    apply_row_click(state, "queue", [1], [10, 20, 30], "case")
    assert state["case"] == 20
    # Case 20 is reviewed and leaves the list; it stays chosen below: no row of the list is ticked.
    sync_tick(state, "queue", [10, 30], "case")
    assert _rows(state) == []
    apply_row_click(state, "queue", [], [10, 30], "case")
    assert state["case"] == 20
    # Chosen in the picker instead of the list: the tick moves to that case's row.
    state["case"] = 30
    sync_tick(state, "queue", [10, 30], "case")
    assert _rows(state) == [1]
    apply_row_click(state, "queue", [1], [10, 30], "case")
    assert state["case"] == 30
    # The list's order changes (a filter): the tick follows the case, not the row number.
    sync_tick(state, "queue", [30, 10], "case")
    assert _rows(state) == [0]
