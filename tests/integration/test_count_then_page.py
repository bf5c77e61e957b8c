"""statements.count_then_page: a list's total and one page of it. A page that ends short says the
total itself, so the count is sent only for a full page or a page past the end; either way the
total is the list's true count."""
from __future__ import annotations

import pytest
from sqlalchemy import bindparam, event, func, select

from dashboard.services.statements import count_then_page
from db.models import OrgUnit


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


def _counts(statements: list[str]) -> int:
    return sum("count(*)" in s for s in statements)


def test_every_page_of_a_list_has_its_true_total_and_a_short_one_sends_no_count(owner_session, org, sent):
    session = owner_session
    branches = session.scalar(_count())
    assert branches >= 3  # the seeded organisation
    ids = list(session.scalars(select(OrgUnit.id).where(OrgUnit.level == "branch").order_by(OrgUnit.id)))
    sent.clear()
    for limit in (1, 2, branches - 1, branches, branches + 5):
        for offset in range(0, branches + 3):
            sent.clear()
            total, rows = count_then_page(session, _count, lambda: _page(limit, offset), limit=limit, total=None)
            assert total == branches, (limit, offset)
            assert [r[0] for r in rows] == ids[offset:offset + limit], (limit, offset)
            full, past_end = len(rows) == limit, not rows and offset > 0
            assert _counts(sent) == (1 if full or past_end else 0), (limit, offset, sent)


def test_a_given_total_is_kept_and_limit_zero_only_counts(owner_session, org, sent):
    total, rows = count_then_page(owner_session, _count, lambda: _page(2, 0), limit=2, total=99)
    assert total == 99 and len(rows) == 2 and _counts(sent) == 0
    branches = owner_session.scalar(_count())
    sent.clear()
    total, rows = count_then_page(owner_session, _count, lambda: _page(2, 0), limit=0, total=None)
    assert total == branches and rows == [] and _counts(sent) == 1


def test_an_offset_bound_at_execution_is_not_guessed_so_the_list_is_counted(owner_session, org, sent):
    """The statement's OFFSET is known only when written into it; bound at execution it could be
    anything, and a short page then says nothing of the total."""
    branches = owner_session.scalar(_count())
    page = select(OrgUnit.id).where(OrgUnit.level == "branch").order_by(OrgUnit.id) \
        .limit(branches).offset(bindparam("skip"))
    sent.clear()
    total, rows = count_then_page(owner_session, _count, lambda: page, limit=branches, total=None,
                                  params={"skip": 2})
    assert total == branches and len(rows) == branches - 2 and _counts(sent) == 1
