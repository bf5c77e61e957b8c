"""The branch's open HQ review opinions are read from ix_opinion_open without the supervision
opinions (migration 0048): a supervision opinion is never closed, so an index of every open
opinion grew with history and the branch inbox filtered them out one by one."""
from __future__ import annotations

import json

from sqlalchemy import text

from db.models import Opinion
from tests.factories import T0, make_case


def test_the_open_review_opinions_of_a_branch_come_from_the_index_without_reading_its_supervision_ones(
        owner_session, org):
    case = make_case(owner_session, org, "gz")
    author = org.person("reviewer")
    for n in range(40):  # remarks on a followed case: open for ever
        owner_session.add(Opinion(case_id=case.id, branch_id=case.branch_id, kind="supervision", author_id=author,
                                  posted_at=T0))
    for closed in (None, None, T0):
        owner_session.add(Opinion(case_id=case.id, branch_id=case.branch_id, kind="hq_review", author_id=author,
                                  posted_at=T0, closed_at=closed))
    owner_session.flush()
    owner_session.execute(text("ANALYZE opinion"))
    owner_session.execute(text("SET LOCAL enable_seqscan = off"))
    owner_session.execute(text("SET LOCAL enable_bitmapscan = off"))
    plan = owner_session.execute(text(
        "EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM opinion WHERE kind = 'hq_review' AND branch_id = :b "
        "AND closed_at IS NULL"), {"b": case.branch_id}).scalar()
    node = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
    assert node["Node Type"] in ("Index Scan", "Index Only Scan") and node["Index Name"] == "ix_opinion_open"
    assert node["Actual Rows"] == 2
    assert node.get("Rows Removed by Filter", 0) == 0  # the 40 supervision opinions are not in it
