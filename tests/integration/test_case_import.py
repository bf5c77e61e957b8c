"""Bulk case import: row numbers as in the file, nothing imported with bad rows unless asked."""
from __future__ import annotations

import io
from datetime import datetime, timezone

import openpyxl
import pytest
from sqlalchemy import func, select

from dashboard.services.cases.import_file import (
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


# ---------------------------------------------------------------- hardening (issues 25 and 26)


def with_cached_results(content: bytes, results: dict[str, str]) -> bytes:
    """The workbook as Excel saves it: each formula (text after "=") followed by its result."""
    import re
    import zipfile

    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                for formula, result in results.items():
                    data = re.sub(rb"<f>" + re.escape(formula.encode()) + rb"</f><v\s*/>",
                                  b"<f>" + formula.encode() + b"</f><v>" + result.encode() + b"</v>", data)
            target.writestr(item, data)
    return out.getvalue()


def formula_book(formulas: dict[str, str], date_fields: tuple[str, ...] = ()) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([header_for(f) for f in IMPORT_FIELDS])
    sheet.append([formulas.get(f, row(1).get(f)) for f in IMPORT_FIELDS])
    for name in date_fields:
        sheet.cell(2, IMPORT_FIELDS.index(name) + 1).number_format = "yyyy-mm-dd hh:mm"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_excel_formula_is_read_by_the_result_excel_saved_with_it(session, org, actor_for):
    from openpyxl.utils.datetime import to_excel

    content = formula_book({"vehicle_sum_insured": "=1000*5", "report_time": "=DATE(2026,11,20)+TIME(9,15,0)"},
                           date_fields=("report_time",))
    content = with_cached_results(content, {"1000*5": "5000",
                                            "DATE(2026,11,20)+TIME(9,15,0)": repr(to_excel(datetime(2026, 11, 20, 9, 15)))})
    report = import_cases(session, actor_for("callcenter"), "f.xlsx", content, now=NOW)
    assert report.problems == [] and report.imported == 1
    case = session.scalars(select(ClaimCase)).one()
    assert str(case.vehicle_sum_insured) == "5000.00"
    assert case.report_time == datetime(2026, 11, 20, 1, 15, tzinfo=timezone.utc)


def test_a_formula_without_a_saved_result_is_named_as_a_formula_not_as_empty(session, org, actor_for):
    content = formula_book({"vehicle_sum_insured": "=1000*5", "accident_time": "=A1"})
    report = check_import(session, actor_for("callcenter"), "f.xlsx", content, now=NOW)
    [problem] = report.problems
    assert {(e.field, e.key, e.params["formula"]) for e in problem.errors} == {
        ("vehicle_sum_insured", "cases.error.formula_without_value", "=1000*5"),
        ("accident_time", "cases.error.formula_without_value", "=A1")}


def test_an_oversize_file_is_refused_from_its_size_with_the_limit(session, org, actor_for):
    from dashboard.services.cases.import_file import MAX_IMPORT_BYTES, MAX_IMPORT_MB

    content = csv_bytes([row(1)]) + b"x" * MAX_IMPORT_BYTES
    with pytest.raises(UserError) as err:
        check_import(session, actor_for("callcenter"), "big.csv", content, now=NOW)
    assert err.value.key == "cases.error.file_too_large" and err.value.params["max"] == MAX_IMPORT_MB


def test_the_row_cap_is_met_while_reading_and_what_lies_beyond_is_never_read(session, org, actor_for, monkeypatch):
    """A broken quote after the cap would make the file unreadable; the reader stops at the cap + 1
    row and answers with the cap instead."""
    from dashboard.services.cases import import_file as case_import

    monkeypatch.setattr(case_import, "MAX_IMPORT_ROWS", 5)
    content = csv_bytes([row(n) for n in range(1, 8)]) + b'IMP9,"never closed\n' + b"x,y\n" * 1000
    with pytest.raises(UserError) as err:
        check_import(session, actor_for("callcenter"), "many.csv", content, now=NOW)
    assert err.value.key == "cases.error.too_many_rows" and err.value.params["max"] == "5"


def test_a_broken_quote_is_refused_with_its_row(session, org, actor_for):
    content = csv_bytes([row(1)]) + b'IMP2,"2026-11-20 09:15\n'
    with pytest.raises(UserError) as err:
        check_import(session, actor_for("callcenter"), "q.csv", content, now=NOW)
    assert (err.value.key, err.value.params) == ("cases.error.csv_malformed", {"row": 3})


@pytest.mark.parametrize("name, content, key", [
    ("x.csv", b"\xff\xfe\xff\xff,\xff\n", "cases.error.file_encoding"),
    ("x.xlsx", b"PK\x03\x04 not really a workbook", "cases.error.xlsx_unreadable"),
    ("x.xlsx", b"%PDF-1.7", "cases.error.xlsx_unreadable"),
])
def test_an_unreadable_file_is_explained_in_words_not_by_the_parsers_exception(session, org, actor_for, name,
                                                                                 content, key):
    with pytest.raises(UserError) as err:
        check_import(session, actor_for("callcenter"), name, content, now=NOW)
    assert err.value.key == key and err.value.params == {}


def test_a_nul_in_an_import_cell_is_a_row_error_naming_the_column(session, org, actor_for):
    content = csv_bytes([row(1, insured_name="张\x00伟"), row(2, case_no="IMP\x002"), row(3)])
    report = import_cases(session, actor_for("callcenter"), "nul\x00.csv", content, import_valid_rows=True, now=NOW)
    assert {p.row_number: [(e.field, e.key) for e in p.errors] for p in report.problems} == {
        2: [("insured_name", "cases.error.control_chars")], 3: [("case_no", "cases.error.control_chars")]}
    assert report.imported == 1
    event = session.scalars(select(CaseEvent)).one()
    assert event.payload["file"] == "nul\\x00.csv"


def test_dates_in_1900_and_2099_are_refused_in_an_import(session, org, actor_for):
    content = csv_bytes([row(1, accident_time="1900-01-01 08:00"), row(2, report_time="2099-12-31 09:00"),
                         row(3, policy_start_date="1900-01-01")])
    report = check_import(session, actor_for("callcenter"), "d.csv", content, now=NOW)
    assert {p.row_number: [(e.field, e.key) for e in p.errors] for p in report.problems} == {
        2: [("accident_time", "cases.error.date_out_of_range")],
        3: [("report_time", "cases.error.date_out_of_range")],
        4: [("policy_start_date", "cases.error.date_out_of_range")]}


def test_importing_another_branchs_case_number_does_not_confirm_it_exists(session, org, actor_for):
    """A surveyor's file holding a number of 浙江's case and one of their own sub-branch's: both rows
    are refused in the same words, naming neither existence nor branch (issue 25 item 7)."""
    import_cases(session, actor_for("callcenter"), "a.csv",
                 csv_bytes([row(1, sub_branch="hz", surveyor="hz_surveyor1"), row(2)]), now=NOW)
    report = check_import(session, actor_for("gz_surveyor1"), "b.csv", csv_bytes([row(1), row(2), row(3)]), now=NOW)
    refusals = [(p.row_number, [(e.key, e.params) for e in p.errors]) for p in report.problems]
    assert refusals == [(2, [("cases.error.case_no_unavailable", {"case_no": "IMP000001"})]),
                        (3, [("cases.error.case_no_unavailable", {"case_no": "IMP000002"})])]
