"""Coloured labels (ui/tones): red late, amber due soon, the rest neutral; downloads stay text."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from dashboard.ui.tones import AMBER, FILLS, RED, due_tone, tagged

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def test_past_due_is_red_within_the_window_amber_beyond_it_neutral():
    assert due_tone(NOW - timedelta(minutes=1), NOW, 24) == RED
    assert due_tone(NOW + timedelta(hours=24), NOW, 24) == AMBER
    assert due_tone(NOW + timedelta(hours=25), NOW, 24) is None
    assert due_tone(NOW + timedelta(hours=25), NOW, 48) == AMBER  # the window is a setting
    assert due_tone(None, NOW, 24) is None


def test_each_cell_is_one_label_coloured_by_its_tone_and_the_given_frame_is_untouched():
    frame = pd.DataFrame({"案件": ["A", "B", "C", "D"], "剩余": ["超时 3 小时", "剩余 5 小时", "剩余 30 小时", ""]})
    shown, config = tagged(frame, {"剩余": [RED, AMBER, None, None]})
    assert [list(v) for v in shown["剩余"]] == [["超时 3 小时"], ["剩余 5 小时"], ["剩余 30 小时"], []]
    assert list(frame["剩余"]) == ["超时 3 小时", "剩余 5 小时", "剩余 30 小时", ""]  # what is downloaded
    options = config["剩余"]["type_config"]["options"]
    assert options == [{"value": "超时 3 小时", "color": FILLS[RED]}, {"value": "剩余 5 小时", "color": FILLS[AMBER]},
                       {"value": "剩余 30 小时", "color": FILLS[None]}]
    assert list(shown["案件"]) == ["A", "B", "C", "D"]


def test_one_text_in_two_tones_takes_the_stronger():
    frame = pd.DataFrame({"剩余": ["超时 3 小时", "超时 3 小时"]})
    _, config = tagged(frame, {"剩余": [None, RED]})
    assert config["剩余"]["type_config"]["options"] == [{"value": "超时 3 小时", "color": FILLS[RED]}]


def test_numbers_become_their_text_and_a_missing_value_no_label():
    shown, _ = tagged(pd.DataFrame({"超时时效": [0, 2]}), {"超时时效": [None, RED]})
    assert [list(v) for v in shown["超时时效"]] == [["0"], ["2"]]
    shown, _ = tagged(pd.DataFrame({"完成": ["已完成", None]}), {"完成": [None, None]})
    assert [list(v) for v in shown["完成"]] == [["已完成"], []]


def test_a_tone_list_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError):
        tagged(pd.DataFrame({"剩余": ["a", "b"]}), {"剩余": [RED]})


def test_a_tagged_column_is_as_wide_as_its_longest_label_needs_unless_a_width_is_given():
    """The list sized a column of labels by its header alone: 红·严查 under 红黄蓝 showed 红·严."""
    from dashboard.ui.tones import fitting_width, text_width

    frame = pd.DataFrame({"红黄蓝": ["红·严查", "黄·常规", "—"], "剩余": ["超时 3 小时", "", ""]})
    _, config = tagged(frame, {"红黄蓝": [RED, AMBER, None], "剩余": [RED, None, None]}, widths={"剩余": "small"})
    width = config["红黄蓝"]["width"]
    assert width == fitting_width("红黄蓝", ["红·严查", "黄·常规"])
    assert width > text_width("红·严查") + 30 and width > text_width("红黄蓝") + 24
    assert config["剩余"]["width"] == "small"  # a width given is kept
    assert text_width("红·严查") > text_width("红黄蓝")  # four characters against three
    _, empty = tagged(pd.DataFrame({"红黄蓝": ["—", ""]}), {"红黄蓝": [None, None]})
    assert empty["红黄蓝"].get("width") is None  # no label: the list's own width
