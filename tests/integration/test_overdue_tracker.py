"""The overdue tracker service: what is listed, in which order, for whom, with which filters."""
from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.errors import PermissionDenied
from dashboard.services.clocks.overdue import (
    OverdueFilters, ageing, branch_options, overdue_counts, overdue_export, overdue_page,
    violations_by_branch_and_kind,
)
from tests import sample_files
from dashboard.services.evidence.uploads import record_upload
from dashboard.services.clocks.violations import record_violations
from tests.factories import T0, make_case


@pytest.fixture
def cases(session, org, actor_for):
    """gz T1 case at T0, sz T2 case at T0+20 h, zj (hz) T1 case at T0; photo of gz uploaded late."""
    call = actor_for("callcenter")
    gz = make_case(session, org, "gz")
    record_estimate(session, call, gz.id, 80000, now=T0)
    sz = make_case(session, org, "sz")
    record_estimate(session, call, sz.id, 300000, now=T0 + timedelta(hours=20))
    hz = make_case(session, org, "hz")
    record_estimate(session, call, hz.id, 90000, now=T0)
    record_upload(session, actor_for("gz_surveyor1"), gz.id, "person_vehicle_photo", "p.jpg", sample_files.jpeg(),
                  on_behalf_of_person_id=org.person("gz_claims"), now=T0 + timedelta(hours=30))
    return {"gz": gz, "sz": sz, "hz": hz}


NOW = T0 + timedelta(hours=36)


def test_hq_sees_overdue_due_soon_and_met_late_most_overdue_first(session, actor_for, cases):
    page = overdue_page(session, actor_for("reviewer"), OverdueFilters(), now=NOW)
    statuses = [r.status for r in page.rows]
    assert statuses == sorted(statuses, key=["overdue", "due_soon", "met_late"].index)
    overdue = [r for r in page.rows if r.status == "overdue"]
    assert [r.hours_late for r in overdue] == sorted((r.hours_late for r in overdue), reverse=True)
    # gz and hz: D1 open 12 h late (hz D2 too); gz D2 met late at +30 h; sz (dispatched at +20 h): D1/D2 due at +44 h.
    assert {(r.case_no, r.kind) for r in page.rows if r.status == "met_late"} == {(cases["gz"].case_no, "D2")}
    due_soon = {(r.case_no, r.kind) for r in page.rows if r.status == "due_soon"}
    assert (cases["sz"].case_no, "D1") in due_soon and (cases["sz"].case_no, "D3") not in due_soon
    met = next(r for r in page.rows if r.status == "met_late")
    assert met.met_at == T0 + timedelta(hours=30) and met.hours_late == pytest.approx(6)
    assert page.total == len(page.rows)


def test_branch_people_see_only_their_branch(session, org, actor_for, cases):
    rows = overdue_export(session, actor_for("gd_manager"), OverdueFilters(), now=NOW)
    assert rows and {r.branch for r in rows} == {"广东分公司"}
    assert cases["hz"].case_no not in {r.case_no for r in rows}
    assert [b.name for b in branch_options(session, actor_for("gd_manager"))] == ["广东分公司"]
    # Asking for another branch explicitly gives nothing either.
    other = OverdueFilters(branch_id=org.branch("zj").id)
    assert overdue_page(session, actor_for("gd_manager"), other, now=NOW).total == 0


def test_people_without_a_tracker_role_are_refused(session, actor_for, cases):
    with pytest.raises(PermissionDenied):
        overdue_page(session, actor_for("gz_surveyor1"), OverdueFilters(), now=NOW)


def test_filters_by_kind_tier_person_sub_branch_and_due_date(session, org, actor_for, cases):
    hq = actor_for("admin")
    only_d2 = overdue_export(session, hq, OverdueFilters(kinds=("D2",)), now=NOW)
    assert {r.kind for r in only_d2} == {"D2"}
    t2 = overdue_export(session, hq, OverdueFilters(tiers=("T2",)), now=NOW)
    assert {r.case_no for r in t2} == {cases["sz"].case_no}
    name = session.get(__import__("db.models", fromlist=["Person"]).Person, org.person("gz_claims")).full_name
    by_person = overdue_export(session, hq, OverdueFilters(person=name[:2]), now=NOW)
    assert by_person and all(name[:2] in (r.responsible or "") + (r.also_charged or "") for r in by_person)
    sub = overdue_export(session, hq, OverdueFilters(sub_branch_id=org.sub_branch("sz").id), now=NOW)
    assert {r.case_no for r in sub} == {cases["sz"].case_no}
    # Due dates are Asia/Shanghai calendar days: T0 + 24 h is 2026-11-21 10:00 local.
    from datetime import date

    day = overdue_export(session, hq, OverdueFilters(due_from=date(2026, 11, 21), due_to=date(2026, 11, 21)), now=NOW)
    assert day and all(r.due_at.date() in (date(2026, 11, 21), date(2026, 11, 20)) for r in day)
    assert not overdue_export(session, hq, OverdueFilters(due_from=date(2026, 12, 1)), now=NOW)


def test_pages_are_cut_in_sql_and_counts_match(session, actor_for, cases):
    hq = actor_for("admin")
    counts = overdue_counts(session, hq, OverdueFilters(), now=NOW)
    total = sum(counts.values())
    first = overdue_page(session, hq, OverdueFilters(), limit=2, offset=0, now=NOW)
    second = overdue_page(session, hq, OverdueFilters(), limit=2, offset=2, now=NOW)
    assert first.total == second.total == total
    assert len(first.rows) == 2 and {r.deadline_id for r in first.rows}.isdisjoint({r.deadline_id for r in second.rows})
    assert counts["overdue"] == 3 and counts["met_late"] == 1  # gz D1, hz D1, hz D2; gz D2 late


def test_charts_count_violations_by_branch_and_kind_and_age_the_overdue(session, org, actor_for, cases):
    record_violations(session, NOW)
    session.commit()
    by = violations_by_branch_and_kind(session, actor_for("executive"), OverdueFilters())
    assert ("广东分公司", "D2", 2) in by  # gz_claims and the late-uploading surveyor
    assert ("浙江分公司", "D1", 1) in by
    gd_only = violations_by_branch_and_kind(session, actor_for("gd_tracker"), OverdueFilters())
    assert {b for b, _k, _n in gd_only} == {"广东分公司"}
    buckets = dict(ageing(session, actor_for("admin"), OverdueFilters(), now=NOW + timedelta(days=3)))
    assert sum(buckets.values()) == overdue_counts(session, actor_for("admin"), OverdueFilters(),
                                                   now=NOW + timedelta(days=3))["overdue"]
    assert buckets["3to7d"] >= 2
    # The ageing is of the overdue clocks the view shows: none when the status filter leaves them out.
    later, soon_only = NOW + timedelta(days=3), OverdueFilters(statuses=("due_soon", "met_late"))
    assert sum(n for _b, n in ageing(session, actor_for("admin"), soon_only, now=later)) == 0 == \
        overdue_counts(session, actor_for("admin"), soon_only, now=later)["overdue"]



def test_the_violation_chart_follows_the_person_sub_branch_and_tier_filters(session, org, actor_for, cases):
    from sqlalchemy import select

    from db.models import ClaimCase, Person, Violation

    record_violations(session, NOW)
    session.commit()
    recorded = session.execute(select(Violation.kind, Violation.person_id, ClaimCase.sub_branch_id, ClaimCase.tier,
                                      Person.full_name)
                               .join(ClaimCase, ClaimCase.id == Violation.case_id)
                               .join(Person, Person.id == Violation.person_id)).all()
    assert len({r.person_id for r in recorded}) > 1 and len({r.sub_branch_id for r in recorded}) > 1

    def total(filters: OverdueFilters, actor: str = "executive") -> int:
        return sum(n for _b, _k, n in violations_by_branch_and_kind(session, actor_for(actor), filters))

    name = session.get(Person, org.person("gz_claims")).full_name
    assert total(OverdueFilters(person=name[1:])) == sum(1 for r in recorded if name[1:] in r.full_name) > 0
    gz = org.sub_branch("gz").id
    assert total(OverdueFilters(sub_branch_id=gz)) == sum(1 for r in recorded if r.sub_branch_id == gz) > 0
    assert total(OverdueFilters(tiers=("T2",))) == sum(1 for r in recorded if r.tier == "T2")
    assert total(OverdueFilters(tiers=("T1",))) == sum(1 for r in recorded if r.tier == "T1") > 0
    assert total(OverdueFilters(), "gd_tracker") == sum(1 for r in recorded if r.sub_branch_id != org.sub_branch("hz").id)


def test_the_export_has_the_filtered_rows_with_chinese_headers_in_csv_and_excel(session, actor_for, cases):
    import io

    import openpyxl

    from dashboard.ui.overdue_view import rows_frame
    from dashboard.ui.tables import to_csv_bytes, to_excel_bytes

    rows = overdue_export(session, actor_for("admin"), OverdueFilters(kinds=("D1",)), now=NOW)
    frame = rows_frame(rows, NOW, 24).drop(columns=["case_id"])
    csv = to_csv_bytes(frame).decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("状态,报案号,红黄蓝,时效类型,审核要点,责任人,应完成时间")
    assert cases["gz"].case_no in csv and "2026-11-21 10:00" in csv  # due in Asia/Shanghai
    sheet = openpyxl.load_workbook(io.BytesIO(to_excel_bytes({"overdue": frame}))).active
    assert sheet.max_row == len(rows) + 1 and sheet["B1"].value == "报案号"


@pytest.mark.parametrize("limit", [1, 2, 3, 4])
def test_every_page_is_its_slice_of_the_whole_ordered_list_across_the_three_runs(session, actor_for, cases, limit):
    """The page is read run by run (overdue, due soon, met late): pages of any size, including
    ones that straddle two runs, are exactly the export's order cut in pieces, nothing twice or lost."""
    hq = actor_for("admin")
    whole = overdue_export(session, hq, OverdueFilters(), now=NOW)
    assert {r.status for r in whole} == {"overdue", "due_soon", "met_late"} and len(whole) >= 5
    paged = []
    for offset in range(0, len(whole) + limit, limit):
        page = overdue_page(session, hq, OverdueFilters(), limit=limit, offset=offset, now=NOW)
        assert page.total == len(whole)
        paged += page.rows
    assert [r.deadline_id for r in paged] == [r.deadline_id for r in whole]


def test_a_changed_due_soon_window_applies_to_the_next_read(session, actor_for, cases):
    from dashboard.services.admin.tier_admin import update_rule_settings

    reviewer, only_soon = actor_for("reviewer"), OverdueFilters(statuses=("due_soon",))
    sz_d1 = (cases["sz"].case_no, "D1")  # falls due at +44 h: 8 h after NOW
    assert sz_d1 in {(r.case_no, r.kind) for r in overdue_page(session, reviewer, only_soon, now=NOW).rows}
    update_rule_settings(session, actor_for("admin"), {"deadline.due_soon_hours": 4}, now=NOW)
    narrower = overdue_page(session, reviewer, only_soon, now=NOW)
    assert sz_d1 not in {(r.case_no, r.kind) for r in narrower.rows}
    assert narrower.total == len(narrower.rows) == overdue_counts(session, reviewer, only_soon, now=NOW)["due_soon"]
    # The same built statement at another time: 4 h before sz's D1 falls due, it is due soon again.
    later = overdue_page(session, reviewer, only_soon, now=T0 + timedelta(hours=41))
    assert sz_d1 in {(r.case_no, r.kind) for r in later.rows}


def test_d5_clocks_name_their_review_point_and_round(session, org, actor_for):
    """One case's review points share the person and due time: each D5 row says which point (and
    which round after a send-back), so three points do not read as one row listed three times."""
    from dashboard.rules.deadlines import point_subject
    from dashboard.ui.format import point_label
    from dashboard.ui.overdue_view import rows_frame
    from db.models import Deadline, Opinion, OpinionPoint

    case = make_case(session, org, "gz", tier="T1")
    opinion = Opinion(case_id=case.id, branch_id=case.branch_id, kind="hq_review", author_id=org.person("reviewer"),
                      posted_at=T0)
    session.add(opinion)
    session.flush()
    points = [OpinionPoint(opinion_id=opinion.id, seq=seq, body=f"要点{seq}") for seq in (1, 2, 3)]
    session.add_all(points)
    session.flush()
    due = T0 + timedelta(hours=24)
    subjects = [point_subject(p.id, 1) for p in points] + [point_subject(points[1].id, 2), "test:other-d5-subject"]
    session.add_all([Deadline(case_id=case.id, branch_id=case.branch_id, kind="D5", subject_key=subject,
                              responsible_person_id=org.person("gd_manager"), started_at=T0, due_at=due)
                     for subject in subjects])
    session.commit()
    rows = overdue_page(session, actor_for("admin"), OverdueFilters(kinds=("D5",)), now=NOW).rows
    assert sorted((r.point_seq, r.round_no) for r in rows if r.point_seq) == [(1, 1), (2, 1), (2, 2), (3, 1)]
    assert sorted(point_label(r.point_seq, r.round_no) for r in rows) == \
        ["", "第 1 条意见要点", "第 2 条意见要点", "第 2 条意见要点（第 2 次反馈）", "第 3 条意见要点"]
    frame = rows_frame(rows, NOW, 24)
    assert frame["审核要点"].tolist().count("") == 1 and len(frame) == 5
