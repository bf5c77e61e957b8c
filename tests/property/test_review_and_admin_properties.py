"""The review loop's texts, the estimate, the contact reason, the rule settings and the tier table,
fed anything (issue 18, "Bad input"): each input is accepted as something the database can keep,
or refused with a catalog message in Chinese that names what is wrong; never another exception."""
from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import example, given, strategies as st

from dashboard.rules.contact_reasons import REASONS_BY_OUTCOME, reason_from_words, reason_problem
from dashboard.rules.review import MAX_TEXT, answer_problems, point_problems, split_points, text_problem
from dashboard.rules.tier_bands import BandInput, check_bands
from dashboard.services.admin.rule_settings import EDITABLE_SETTINGS, clean_setting
from dashboard.services.dispatching.dispatch import _check_amount
from dashboard.services.errors import ValidationFailed
from dashboard.settings import ALL_POSITIONS, BRANCH_SUBTIER_RANGE
from dashboard.rules.tiers import validate_table
from tests.property.strategies import (
    anything, chinese_message, control_free, field_line, hostile_text, long_text, storable,
)

review_text = st.one_of(hostile_text, long_text, st.sampled_from(("已处理", "收到，已落实", " \n ", "1. 调取监控\n2、核对发票")))


# ---------------------------------------------------------------- HQ review, branch answers, notes


@given(review_text)
@example("1. 核实驾驶员\x00身份")  # a NUL in a point reached PostgreSQL, which refuses it: the page failed
@example("核实\ud800损失")
def test_an_opinion_is_posted_as_storable_points_or_each_bad_point_is_named(text):
    points = split_points(text)
    problems = point_problems(points)
    for index, key in problems:
        message = chinese_message(key, {"n": index + 1})
        assert key in ("review.points.none", "review.points.too_many", "review.points.too_long_total") \
            or f"第 {index + 1} 条" in message
    if not problems:
        assert 1 <= len(points) <= 20
        assert all(storable(p) and control_free(p, "\t") and len(p) <= MAX_TEXT for p in points)


@given(st.dictionaries(st.integers(min_value=1, max_value=50), review_text, min_size=1, max_size=4),
       st.dictionaries(st.integers(min_value=1, max_value=50), review_text, max_size=3))
@example({7: "已调取监控\x00三段"}, {})
def test_answers_are_stored_as_typed_or_each_refusal_names_its_point(answers, earlier):
    problems = answer_problems(answers, other_answers=earlier,
                               previous_answers={pid: [text] for pid, text in earlier.items()})
    for pid, key in problems.items():
        assert f"第 {pid} 条" in chinese_message(key, {"n": pid})
    for pid, text in answers.items():
        if pid not in problems:
            assert storable(text) and control_free(text, "\n\r\t") and len(text) <= MAX_TEXT


@given(review_text)
@example("退回：\x00监控不全")
def test_a_reason_or_a_note_is_storable_or_refused(text):
    key = text_problem(text)
    if key is None:
        assert storable(text) and control_free(text, "\n\r\t") and len(text) <= MAX_TEXT
    else:
        chinese_message(key, {})


# ---------------------------------------------------------------- the estimate (dispatch board, intake)


@given(anything)
def test_an_estimate_is_an_amount_or_refused_naming_the_estimate_field(value):
    try:
        amount = _check_amount(value)
    except ValidationFailed as refusal:
        [error] = refusal.errors
        assert error.field == "estimate"
        field_line(error)
        return
    assert isinstance(amount, Decimal) and amount >= 0


# ---------------------------------------------------------------- why a first responsible was not reached


@given(st.one_of(st.sampled_from(sorted(REASONS_BY_OUTCOME)), hostile_text),
       st.one_of(st.none(), st.sampled_from([r for rs in REASONS_BY_OUTCOME.values() for r in rs]), hostile_text),
       st.one_of(st.none(), hostile_text))
def test_a_contact_reason_fits_its_outcome_or_is_refused_in_words(outcome, code, words):
    key = reason_problem(outcome, code)
    if key is not None:
        chinese_message(key, {})
    elif code:
        assert code in REASONS_BY_OUTCOME[outcome]
    found = reason_from_words(outcome, words)
    assert found is None or found in REASONS_BY_OUTCOME.get(outcome, ())


# ---------------------------------------------------------------- rule settings (admin)


@given(st.sampled_from(sorted(EDITABLE_SETTINGS)), st.one_of(anything, st.integers(-10, 2000).map(str),
                                                             st.decimals(0, 10**10, places=2).map(str)))
@example("deadline.D1.hours", "１２")
@example("deadline.D1.hours", "1e2")
@example("deadline.D6.time", "２４:００")
@example("session.idle_minutes", "9" * 5000)
def test_a_rule_setting_is_a_value_in_its_range_or_refused_naming_the_setting(key, raw):
    value, error = clean_setting(key, raw)
    if error is not None:
        assert value is None and error.field == key
        field_line(error)
        return
    definition = EDITABLE_SETTINGS[key]
    if definition.kind == "hhmm":
        assert re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value)
    else:
        assert definition.low <= Decimal(str(value)) <= definition.high
        assert Decimal(str(value)) % definition.step == 0


# ---------------------------------------------------------------- tier tables (admin, branch requests)

_AMOUNTS = st.one_of(st.none(), st.sampled_from(("", "50000", "120000", "500000", "1,000,000", "５００００")),
                     st.integers(0, 2_000_000).map(str), anything)


@st.composite
def tier_rows(draw) -> list[BandInput]:
    return [BandInput(code=draw(st.one_of(st.sampled_from(("T1", "T2", "T3", "T0", "", "B1")), hostile_text)),
                      lower_exclusive=draw(_AMOUNTS), upper_inclusive=draw(_AMOUNTS),
                      positions=draw(st.lists(st.one_of(st.sampled_from(ALL_POSITIONS), hostile_text), max_size=3)),
                      hq_notice=draw(st.booleans()))
            for _ in range(draw(st.integers(0, 5)))]


@given(tier_rows(), st.booleans())
@example([BandInput("T\x001", "50000", None, ["sub_claims_head"])], False)  # a NUL in a code reached PostgreSQL
@example([BandInput("T1", "50000", "abc", ["sub_claims_head"])], False)
def test_a_tier_table_is_a_valid_table_or_each_problem_names_its_row_and_column(rows, branch_split):
    bands, errors = check_bands(rows, span=BRANCH_SUBTIER_RANGE if branch_split else None)
    for error in errors:
        line = field_line(error)
        cell = re.fullmatch(r"band\.(\d+)\.(code|lower|upper|positions)", error.field)
        assert cell or error.field == "bands", error.field
        if cell and error.key != "admin.error.band_last_open":
            assert f"第 {cell[1]} 行" in line, line
    if not errors:
        validate_table(bands)
        assert all(storable(b.code) and control_free(b.code) and len(b.code) <= 16 for b in bands)
        assert all(set(b.positions) <= set(ALL_POSITIONS) for b in bands)
