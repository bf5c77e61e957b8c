"""Answer and opinion rules of the HQ review loop (分级管理办法 第四章 二: 对提出的建议应有明确的回复)."""
from __future__ import annotations

from datetime import date

import pytest

from dashboard.rules.deadlines import initial_review_subject, point_subject, supervision_subject, weekly_subject
from dashboard.rules.review import (
    answer_problems, answer_round, is_bare_acknowledgement,
    point_problems, review_is_closed, split_points, text_problem,
)


def test_numbered_lines_become_points_without_their_numbers():
    text = "1. 核实驾驶员身份\n2、调取监控\n\n(3) 关注报价\n④ 补充笔录\n- 核对发票"
    assert split_points(text) == ["核实驾驶员身份", "调取监控", "关注报价", "补充笔录", "核对发票"]


def test_blank_text_has_no_points_and_is_refused():
    assert split_points(" \n\n ") == []
    assert point_problems([]) == [(0, "review.points.none")]


def test_the_same_point_twice_is_refused_whatever_the_spacing_or_punctuation():
    assert point_problems(["核实损失范围", "核实 损失范围。"]) == [(1, "review.points.duplicate")]


@pytest.mark.parametrize("text", ["已处理", "已落实。", " 已完成 ", "收到，已落实", "OK", "Done!", "好的"])
def test_a_bare_acknowledgement_is_not_an_answer(text):
    assert is_bare_acknowledgement(text)
    assert answer_problems({1: text}) == {1: "review.answer.bare"}


@pytest.mark.parametrize("text", ["已处理：调取监控三段，确认追尾属实", "已落实，驾驶员系被保险人之子"])
def test_an_acknowledgement_with_the_facts_is_an_answer(text):
    assert not is_bare_acknowledgement(text)
    assert answer_problems({1: text}) == {}


def test_an_empty_answer_is_refused():
    assert answer_problems({1: "  ", 2: "驾驶证真实有效"}) == {1: "review.answer.empty"}


def test_one_text_copied_to_several_points_is_refused_for_each_copy():
    answers = {1: "已全部核实，情况属实", 2: "已全部核实，情况属实！", 3: "发票已核对"}
    assert answer_problems(answers) == {1: "review.answer.duplicate", 2: "review.answer.duplicate"}


def test_copying_the_answer_already_given_to_another_point_is_refused():
    assert answer_problems({2: "驾驶证真实有效"}, other_answers={1: "驾驶证真实有效"}) == {2: "review.answer.duplicate"}


def test_a_sent_back_point_needs_a_new_answer_not_the_old_one():
    assert answer_problems({1: "监控已调取"}, previous_answers={1: ["监控已调取。"]}) == {
        1: "review.answer.same_as_before"}
    assert answer_problems({1: "监控截图已上传"}, previous_answers={1: ["监控已调取"]}) == {}


def test_review_is_closed_only_when_every_point_is_accepted():
    assert review_is_closed(["accepted", "accepted"])
    assert not review_is_closed(["accepted", "answered"])
    assert not review_is_closed(["accepted", "sent_back"])
    assert not review_is_closed([])


def test_each_send_back_opens_the_next_answer_round():
    assert [answer_round(n) for n in (0, 1, 2)] == [1, 2, 3]


def test_deadline_subject_keys_follow_the_shared_convention():
    assert initial_review_subject(7) == "case:7:initial_review"
    assert point_subject(12, 2) == "point:12:round:2"
    assert weekly_subject(3, date(2026, 11, 23)) == "weekly:3:2026-11-23"
    assert supervision_subject(9) == "supervision:9"


def test_free_text_must_not_be_empty_or_too_long():
    assert text_problem("  。 ") == "review.text.empty"
    assert text_problem("x" * 4001) == "review.text.too_long"
    assert text_problem("已到现场") is None


def test_an_opinion_longer_than_its_limit_is_refused_as_a_whole():
    from dashboard.rules.review import MAX_OPINION_TEXT

    points = ["甲" * 3000, "乙" * 3000, "丙" * 3000]
    assert sum(map(len, points)) > MAX_OPINION_TEXT
    assert (0, "review.points.too_long_total") in point_problems(points)
    assert point_problems(["甲" * 3000, "乙" * 3000]) == []
