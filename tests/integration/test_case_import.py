"""Bulk case import: row numbers as in the file, nothing imported with bad rows unless asked."""
from __future__ import annotations

import io
from datetime import datetime, timezone

import openpyxl
import pytest
from sqlalchemy import func, select

from dashboard.services.case_import import (
    check_import, header_for, import_cases, template_csv, template_xlsx, IMPORT_FIELDS, EXAMPLE_ROW,
)
from dashboard.services.errors import PermissionDenied, UserError
from db.models import CaseEvent, ClaimCase

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=timezone.utc)


def row(n: int, **overrides) -> dict[str, str]:
    values = {**EXAMPLE_ROW, "case_no": f"IMP{n:06d}"}
    values.update(overrides)
    return values


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    lines = [",".join(header_for(f) for f in IMPORT_FIELDS)]
    for r in rows:
        lines.append(",".join(r.get(f, "") for f in IMPORT_FIELDS))
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def xlsx_bytes(rows: list[dict[str, object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([header_for(f) for f in IMPORT_FIELDS])
    for r in rows:
        sheet.append([r.get(f) for f in IMPORT_FIELDS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def cases(session) -> int:
    return session.scalar(select(func.count()).select_from(ClaimCase))


MIXED = [row(1), row(2, accident_time="2026-11-20 10:00"), row(3), row(4, sub_branch="nowhere", vehicle_sum_insured="-3"),
         row(1)]


def test_file_with_bad_rows_imports_nothing_and_names_each_bad_row_as_in_the_file(session, org, actor_for):
    report = import_cases(session, actor_for("callcenter"), "cases.csv", csv_bytes(MIXED), now=NOW)
    assert report.imported == 0
    assert cases(session) == 0
    problems = {p.row_number: {e.key for e in p.errors} for p in report.problems}
    # header is row 1, so the second data row is row 3
    assert problems == {
        3: {"cases.error.accident_after_report"},
        5: {"cases.error.unknown_sub_branch", "amount.negative"},
        6: {"cases.error.duplicate_in_file"},
    }
    dup = next(p for p in report.problems if p.row_number == 6).errors[0]
    assert dup.params == {"row": 2}
    assert report.valid_rows == 2 and report.total_rows == 5


def test_valid_rows_are_imported_on_request_with_history(session, org, actor_for):
    seen: list[tuple[int, int]] = []
    report = import_cases(session, actor_for("callcenter"), "cases.csv", csv_bytes(MIXED), import_valid_rows=True,
                          now=NOW, progress=lambda done, total: seen.append((done, total)))
    assert report.imported == 2 and report.bad_rows == 3
    numbers = set(session.scalars(select(ClaimCase.case_no)))
    assert numbers == {"IMP000001", "IMP000003"}
    gz = session.scalars(select(ClaimCase).where(ClaimCase.case_no == "IMP000001")).one()
    assert gz.branch_id == org.branch("gd").id and gz.business_line == "motor" and gz.state == "reported"
    assert session.scalar(select(func.count()).select_from(CaseEvent)
                          .where(CaseEvent.kind == "case_registered")) == 2
    assert seen[-1] == (2, 2)


def test_case_number_already_in_the_database_is_a_row_error(session, org, actor_for):
    import_cases(session, actor_for("callcenter"), "a.csv", csv_bytes([row(1)]), now=NOW)
    report = import_cases(session, actor_for("callcenter"), "b.csv", csv_bytes([row(2), row(1)]), now=NOW)
    assert report.imported == 0
    assert [(p.row_number, p.errors[0].key) for p in report.problems] == [(3, "cases.error.duplicate_case_no")]
    assert cases(session) == 1


def test_xlsx_import_reads_typed_cells(session, org, actor_for):
    typed = row(7, report_time=datetime(2026, 11, 20, 9, 15), accident_time=datetime(2026, 11, 20, 8, 40),
                vehicle_sum_insured=150000.5, vehicle_age_years=4)
    typed["case_no"] = 20261120007  # a case number typed as a number in Excel
    report = import_cases(session, actor_for("admin"), "cases.xlsx", xlsx_bytes([typed, row(8)]), now=NOW)
    assert report.problems == [] and report.imported == 2
    case = session.scalars(select(ClaimCase).where(ClaimCase.case_no == "20261120007")).one()
    assert str(case.vehicle_sum_insured) == "150000.50" and case.vehicle_age_years == 4
    assert case.report_time == datetime(2026, 11, 20, 1, 15, tzinfo=timezone.utc)


def test_blank_lines_do_not_shift_row_numbers(session, org, actor_for):
    content = csv_bytes([row(1)]) + b"\n" + csv_bytes([row(2, accident_type="meteor")]).split(b"\n", 1)[1]
    report = check_import(session, actor_for("callcenter"), "c.csv", content, now=NOW)
    assert [p.row_number for p in report.problems] == [4]


def test_templates_hold_the_chinese_headers_and_a_valid_example_row(session, org, actor_for):
    csv_report = check_import(session, actor_for("callcenter"), "t.csv", template_csv(), now=NOW)
    xlsx_report = check_import(session, actor_for("callcenter"), "t.xlsx", template_xlsx(), now=NOW)
    assert csv_report.problems == [] and csv_report.valid_rows == 1
    assert xlsx_report.problems == [] and xlsx_report.valid_rows == 1
    assert template_csv().decode("utf-8-sig").startswith("报案号,报案时间,出险时间")


def test_missing_required_column_refuses_the_file(session, org, actor_for):
    content = "报案号,报案时间\nA1,2026-11-20 09:00\n".encode("utf-8")
    with pytest.raises(UserError) as err:
        check_import(session, actor_for("callcenter"), "x.csv", content, now=NOW)
    assert err.value.key == "cases.error.missing_columns"


def test_other_file_types_are_refused(session, org, actor_for):
    with pytest.raises(UserError) as err:
        check_import(session, actor_for("callcenter"), "x.pdf", b"%PDF", now=NOW)
    assert err.value.key == "cases.error.file_type"


def test_gbk_csv_from_chinese_excel_is_read(session, org, actor_for):
    content = csv_bytes([row(1)]).decode("utf-8-sig").encode("gb18030")
    report = check_import(session, actor_for("callcenter"), "g.csv", content, now=NOW)
    assert report.problems == [] and report.valid_rows == 1


def test_surveyor_import_rows_of_another_sub_branch_are_refused(session, org, actor_for):
    content = csv_bytes([row(1), row(2, sub_branch="sz", surveyor="sz_surveyor1")])
    report = import_cases(session, actor_for("gz_surveyor1"), "s.csv", content, now=NOW)
    assert [(p.row_number, p.errors[0].key) for p in report.problems] == [(3, "cases.error.sub_branch_forbidden")]
    assert cases(session) == 0


def test_branch_manager_cannot_import(session, org, actor_for):
    with pytest.raises(PermissionDenied):
        import_cases(session, actor_for("gd_manager"), "c.csv", csv_bytes([row(1)]), now=NOW)
