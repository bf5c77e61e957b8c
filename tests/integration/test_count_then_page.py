"""statements.count_then_page: a list's total and one page of it. Without a known total the count
rides in the page's own statement (one round trip); only an empty page past the end, or a page
that cannot carry a column (a UNION), is counted apart. Either way the total is the list's true
count and the rows are the page's, without the count's column."""
from __future__ import annotations

import pytest
from sqlalchemy import bindparam, event, func, select, union_all

from dashboard.services.statements import count_then_page
from db.models import OrgUnit

_LEVEL = bindparam("level")


def _count():
    return select(func.count()).select_from(OrgUnit).where(OrgUnit.level == "branch")


def _page(limit: int, offset: int):
    return select(OrgUnit.id).where(OrgUnit.level == "branch").order_by(OrgUnit.id).limit(limit).offset(offset)


@pytest.fixture
def sent(owner_session):
    statements: list[str] = []
    connection = owner_session.connection()

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append(statement)
    event.listen(connection, "before_cursor_execute", capture)
    yield statements
    event.remove(connection, "before_cursor_execute", capture)


def _branch_ids(session) -> list[int]:
    return list(session.scalars(select(OrgUnit.id).where(OrgUnit.level == "branch").order_by(OrgUnit.id)))


@pytest.mark.parametrize("reads_all", [False, True])
def test_every_page_of_a_list_has_its_true_total_in_one_statement(owner_session, org, sent, reads_all):
    """`reads_all` counts the page's own rows in a window, not in a subquery: the same totals."""
    session = owner_session
    ids = _branch_ids(session)
    branches = len(ids)
    assert branches >= 3  # the seeded organisation
    for limit in (1, 2, branches - 1, branches, branches + 5):
        for offset in range(0, branches + 3):
            sent.clear()
            total, rows = count_then_page(session, _count, lambda: _page(limit, offset), limit=limit, total=None,
                                          reads_all=reads_all)
            assert total == branches, (limit, offset)
            assert rows == [(i,) for i in ids[offset:offset + limit]], (limit, offset)  # no count column
            past_end = offset >= branches
            assert len(sent) == (2 if past_end else 1), (limit, offset, sent)
            assert ("OVER ()" in sent[0]) is reads_all, sent[0]  # the window, or the subquery


def test_an_empty_list_is_one_statement_with_a_total_of_nothing(owner_session, org, sent):
    page = select(OrgUnit.id).where(OrgUnit.level == "nowhere").order_by(OrgUnit.id).limit(5)
    count = select(func.count()).select_from(OrgUnit).where(OrgUnit.level == "nowhere")
    sent.clear()
    total, rows = count_then_page(owner_session, lambda: count, lambda: page, limit=5, total=None)
    assert (total, rows) == (0, []) and len(sent) == 1


def test_a_given_total_is_kept_and_limit_zero_only_counts(owner_session, org, sent):
    total, rows = count_then_page(owner_session, _count, lambda: _page(2, 0), limit=2, total=99)
    assert total == 99 and len(rows) == 2 and len(sent) == 1 and "count(" not in sent[0]
    branches = owner_session.scalar(_count())
    sent.clear()
    total, rows = count_then_page(owner_session, _count, lambda: _page(2, 0), limit=0, total=None)
    assert total == branches and rows == [] and len(sent) == 1


def test_an_offset_bound_at_execution_still_has_its_total_and_past_the_end_is_counted(owner_session, org, sent):
    """The OFFSET bound at execution could be anything: a page of rows carries the total; an empty
    page cannot tell an empty list from one past its end, so it is counted."""
    branches = owner_session.scalar(_count())
    page = select(OrgUnit.id).where(OrgUnit.level == "branch").order_by(OrgUnit.id) \
        .limit(branches).offset(bindparam("skip"))
    sent.clear()
    total, rows = count_then_page(owner_session, _count, lambda: page, limit=branches, total=None,
                                  params={"skip": 2})
    assert total == branches and len(rows) == branches - 2 and len(sent) == 1
    sent.clear()
    total, rows = count_then_page(owner_session, _count, lambda: page, limit=branches, total=None,
                                  params={"skip": branches + 1})
    assert total == branches and rows == [] and len(sent) == 2


@pytest.mark.parametrize("mode", ["plain", "prepared", "generic"])
def test_a_parameter_both_statements_share_is_bound_once_in_every_mode(owner_session, org, sent, mode):
    """A built-once list binds its person, its filters at execution: the count inside the page
    reads the same value (here the unit level), as a plain, prepared or generic statement."""
    page = select(OrgUnit.id).where(OrgUnit.level == _LEVEL).order_by(OrgUnit.id).limit(2)
    count = select(func.count()).select_from(OrgUnit).where(OrgUnit.level == _LEVEL)
    ids = _branch_ids(owner_session)
    total, rows = count_then_page(owner_session, lambda: count, lambda: page, limit=2, total=None,
                                  params={"level": "branch"}, prepared=mode == "prepared",
                                  generic=mode == "generic")
    assert total == len(ids) and rows == [(i,) for i in ids[:2]]
    sub_branches = owner_session.scalar(select(func.count()).select_from(OrgUnit)
                                        .where(OrgUnit.level == "sub_branch"))
    total, _ = count_then_page(owner_session, lambda: count, lambda: page, limit=2, total=None,
                               params={"level": "sub_branch"}, prepared=mode == "prepared",
                               generic=mode == "generic")
    assert total == sub_branches != len(ids)


def test_a_union_cannot_carry_the_count_so_it_is_counted_apart(owner_session, org, sent):
    ids = _branch_ids(owner_session)
    page = union_all(select(OrgUnit.id).where(OrgUnit.id == ids[0]), select(OrgUnit.id).where(OrgUnit.id == ids[1]))
    sent.clear()
    total, rows = count_then_page(owner_session, _count, lambda: page, limit=5, total=None)
    assert total == len(ids) and sorted(rows) == [(ids[0],), (ids[1],)] and len(sent) == 2
