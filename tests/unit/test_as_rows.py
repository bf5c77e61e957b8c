"""`statements.as_rows`: list rows made without a frozen dataclass's `__init__` are the same objects."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest

from dashboard.services.complaints.register import ItemRow
from dashboard.services.statements import as_rows


@dataclass(frozen=True)
class _Row:
    id: int
    name: str
    at: datetime | None


def test_a_row_made_fast_equals_hashes_and_prints_as_one_made_by_init():
    values = [(1, "甲", datetime(2026, 12, 6, tzinfo=timezone.utc)), (2, "乙", None)]
    made = as_rows(_Row, values)
    assert made == [_Row(*v) for v in values]
    assert [hash(r) for r in made] == [hash(_Row(*v)) for v in values]
    assert repr(made[0]) == repr(_Row(*values[0]))
    assert dataclasses.replace(made[1], name="丙") == _Row(2, "丙", None)
    assert dataclasses.asdict(made[0])["name"] == "甲"


def test_a_row_made_fast_stays_frozen():
    (row,) = as_rows(_Row, [(1, "甲", None)])
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.name = "乙"  # type: ignore[misc]


@pytest.mark.parametrize("values", [(1, "甲"), (1, "甲", None, "extra")])
def test_a_row_of_the_wrong_width_is_refused_as_init_refuses_it(values):
    with pytest.raises(TypeError):
        as_rows(_Row, [values])


@dataclass(frozen=True)
class _Checked:
    amount: int
    doubled: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "doubled", self.amount * 2)


@dataclass(frozen=True, slots=True)
class _Slotted:
    id: int


def test_a_class_with_its_own_init_work_is_built_by_its_init():
    assert as_rows(_Checked, [(3,)])[0].doubled == 6
    assert as_rows(_Slotted, [(4,)]) == [_Slotted(4)]


def test_a_service_row_class_is_made_alike():
    values = (7, "TS-1", "complaint", "attitude", None, None, "北京分公司", "张三",
              datetime(2026, 12, 1).date(), "registered", None, datetime(2026, 12, 1, tzinfo=timezone.utc),
              None, False, 1)
    assert as_rows(ItemRow, [values]) == [ItemRow(*values)]
