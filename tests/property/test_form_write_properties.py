"""The registration form and the estimate form end to end, against PostgreSQL (issue 18, "Bad
input"): whatever is typed, the case (and its history) is written whole or not at all, and a
refusal lists each field at fault by name in Chinese; nothing else escapes, not even from the
database (a NUL that passed the checks used to fail in the driver).

Examples share the test's database (one function-scoped fixture for all): each compares counts
before and after itself, and a case number it may register is its own (a fresh prefix).
"""
from __future__ import annotations

import itertools
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from sqlalchemy import func, select

from dashboard.rules.case_input import INPUT_FIELDS, CaseInput
from dashboard.services.cases.intake import register_case
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.errors import FieldError, NeedsConfirmation, UserError, ValidationFailed
from db.models import CaseEvent, ClaimCase, Estimate
from tests.property.strategies import anything, field_line

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai
_numbers = itertools.count(1)

GOOD = dict(report_time="2026-11-20 09:15", accident_time="2026-11-20 08:40", province="广东省", city="广州市",
            address="天河区天河路385号", business_line="motor", policy_no="PDAA2026440100001", insured_name="张伟",
            reporter_name="张伟", reporter_phone="13800138000", accident_type="collision", sub_branch="gz",
            surveyor="gz_surveyor1", vehicle_sum_insured="200000", vehicle_age_years="3", initial_estimate="86000")


def counts(session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(model)) for model in (ClaimCase, CaseEvent, Estimate))


def refusal_named(err: UserError) -> None:
    """A refusal as the form shows it: each field at fault by its label, in Chinese."""
    if isinstance(err, ValidationFailed):
        assert err.errors
        for error in err.errors:
            field_line(error)
    else:  # an estimate above the plausibility limit, to be confirmed: named as the estimate's
        assert isinstance(err, NeedsConfirmation) and err.field == "estimate"
        field_line(FieldError(err.field, err.key, err.params))


_WRITE_SETTINGS = settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def registrations(draw) -> CaseInput:
    values = {**GOOD, "case_no": f"F{next(_numbers):06d}"}
    for name in draw(st.sets(st.sampled_from(INPUT_FIELDS), max_size=4)):
        values[name] = draw(anything)
    return CaseInput(**values)


@_WRITE_SETTINGS
@given(registrations(), st.booleans())
@example(CaseInput(**{**GOOD, "case_no": "F-NUL-1", "driver_name": "张\x00伟"}), False)
@example(CaseInput(**{**GOOD, "case_no": "F-BIG-1", "initial_estimate": "60,000,000"}), False)
def test_a_registration_is_written_whole_with_its_history_or_refused_naming_each_field(session, org, actor_for,
                                                                                       data, confirmed):
    before = counts(session)
    try:
        registered = register_case(session, actor_for("callcenter"), data, now=NOW, estimate_confirmed=confirmed)
    except UserError as err:
        refusal_named(err)
        assert counts(session) == before
        return
    after = counts(session)
    assert after[0] == before[0] + 1 and after[1] > before[1]
    assert after[2] == before[2] + (1 if registered.estimate_recorded else 0)


@pytest.fixture
def registered_case(session, org, actor_for) -> int:
    return register_case(session, actor_for("callcenter"), CaseInput(**{**GOOD, "case_no": "F-EST-0"}),
                         now=NOW).case_id


@_WRITE_SETTINGS
@given(st.one_of(anything, st.decimals(0, 10**9, places=2).map(str)), st.one_of(st.none(), anything),
       st.booleans())
@example("86000", "客户\x00口述", False)  # the board's note went to PostgreSQL unchecked and the driver raised
@example("1e9", None, False)
def test_an_estimate_is_recorded_with_its_history_or_refused_naming_the_field(session, actor_for, registered_case,
                                                                               amount, note, confirmed):
    before = counts(session)
    try:
        record_estimate(session, actor_for("callcenter"), registered_case, amount, note=note, now=NOW,
                        confirmed=confirmed)
    except UserError as err:
        refusal_named(err)
        assert counts(session) == before
        return
    after = counts(session)
    assert after[0] == before[0] and after[2] == before[2] + 1 and after[1] > before[1]
