"""The bulk case import, fed generated files (issue 18, "Bad input"), against PostgreSQL.

A file is CSV as Excel saves it (UTF-8 with or without BOM, GBK, GB18030; CRLF, quotes where
needed) or an .xlsx workbook, with rows that are valid, rows with a cell that is surely wrong, rows
with anything at all in a free-text cell, a case number repeated inside the file, and the number of
a case already in the database. The properties: all rows land or none do (claim_case and case_event
counted before and after), unless the person asked for the valid rows alone, and then exactly those
land; every refused row is named by its number in the file with each wrong column's name and the
fix in Chinese; nothing else ever escapes.

Examples share the test's database (hypothesis runs them inside one function-scoped fixture): each
example uses case numbers of its own (a fresh prefix) and the cases of the `existing` fixture, and
measures counts as differences, so what earlier examples imported cannot change its outcome.
"""
from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import openpyxl
import pytest
from hypothesis import HealthCheck, event, example, given, settings, strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select

from dashboard.services.cases import import_file
from dashboard.services.cases.import_file import EXAMPLE_ROW, IMPORT_FIELDS, header_for, import_cases, read_rows
from dashboard.services.errors import UserError
from db.models import CaseEvent, ClaimCase
from tests.property.strategies import chinese_message, field_line, hostile_text, long_text, some_day, typed_moment

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai
EXISTING = ("EXIST-0001", "EXIST-0002")
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030")
_prefixes = itertools.count(1)

# Cells that are wrong whatever else the row holds, each with the column it must be named under.
BAD_CELLS: tuple[tuple[str, object], ...] = (
    ("vehicle_sum_insured", "1e9"), ("vehicle_sum_insured", "-3"), ("vehicle_sum_insured", "NaN"),
    ("vehicle_sum_insured", "¥100"), ("vehicle_sum_insured", "１２３．４５６"), ("vehicle_sum_insured", "9" * 20),
    ("reporter_phone", "12345"), ("reporter_phone", "13٨00138000"),
    ("report_time", "2026-02-30 08:00"), ("report_time", "昨天"), ("accident_time", "2099-01-01 00:00"),
    ("accident_time", "0001-01-01T00:00+14:00"), ("policy_start_date", "2026-13-01"),
    ("sub_branch", "nowhere"), ("sub_branch", "²"), ("surveyor", "①"), ("surveyor", "nobody"),
    ("accident_type", "陨石"), ("business_line", "航天险"), ("vehicle_age_years", "-1"),
    ("vehicle_age_years", "101"), ("vehicle_age_years", "三"), ("vehicle_imported", "也许"),
    ("province", ""), ("insured_name", "   "), ("address", "路" * 201), ("plate_no", "粤A" + "1" * 30),
    ("insured_name", "张\x07伟"), ("city", "广州\x00市"), ("description", "追尾\x1b无人伤"),
)
# Typed cells only a workbook holds.
BAD_XLSX_CELLS: tuple[tuple[str, object], ...] = (
    ("accident_time", datetime(2099, 1, 1, 8, 0)), ("vehicle_sum_insured", -5.5), ("vehicle_age_years", 1000),
    ("report_time", 20261120), ("policy_start_date", date(1900, 1, 1)),
)
JUNK_FIELDS = ("address", "description", "driver_name", "vehicle_model", "insured_name")


@dataclass
class Row:
    kind: str  # valid | bad | junk | dup_in_file | existing
    cells: dict[str, object]
    bad_field: str | None = None
    first_row: int | None = None  # dup_in_file: the row of the number's first use


@dataclass
class ImportFile:
    fmt: str  # an encoding of ENCODINGS, or "xlsx"
    rows: list[Row]
    row_numbers: list[int] = field(default_factory=list)  # each row's number as the person sees it
    content: bytes = b""

    @property
    def name(self) -> str:
        return "导入.xlsx" if self.fmt == "xlsx" else "导入.csv"


def _fits(value: object, fmt: str) -> bool:
    if not isinstance(value, str):
        return fmt == "xlsx"
    if fmt == "xlsx":
        return not ILLEGAL_CHARACTERS_RE.search(value) and _xml_safe(value) == value
    try:
        value.encode(fmt)
    except UnicodeEncodeError:
        return False
    return True


def _xml_safe(text: str) -> str:
    """What a workbook can hold (XML 1.0 characters): Excel saves nothing else."""
    return "".join(ch for ch in text if ch in "\t\n\r" or " " <= ch <= "\ud7ff" or "\ue000" <= ch <= "\ufffd"
                   or ch >= "\U00010000")


def _encodable(text: str, fmt: str) -> str:
    if fmt == "xlsx":
        return ILLEGAL_CHARACTERS_RE.sub("", _xml_safe(text))
    return text.encode(fmt, errors="ignore").decode(fmt)


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if re.search(r'[",\r\n]', text) else text


def _content(spec: ImportFile, blank_after: set[int]) -> bytes:
    header = [header_for(f) for f in IMPORT_FIELDS]
    if spec.fmt == "xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(header)
        for row in spec.rows:
            sheet.append([row.cells.get(f) for f in IMPORT_FIELDS])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    lines = [",".join(_csv_cell(h) for h in header)]
    for n, row in enumerate(spec.rows):
        lines.append(",".join(_csv_cell(row.cells.get(f)) for f in IMPORT_FIELDS))
        if n in blank_after:
            lines.append("")  # a blank line: skipped, but counted in the row numbers
    return ("\r\n".join(lines) + "\r\n").encode(spec.fmt)


@st.composite
def import_files(draw, formats: tuple[str, ...]) -> ImportFile:
    fmt = draw(st.sampled_from(formats))
    prefix = f"H{next(_prefixes):06d}"
    kinds = draw(st.lists(st.sampled_from(("valid", "valid", "bad", "junk", "dup_in_file", "existing")),
                          min_size=1, max_size=8))
    blank_after = draw(st.sets(st.integers(0, 7), max_size=2)) if fmt != "xlsx" else set()
    spec = ImportFile(fmt, [])
    number = 2  # row 1 is the header
    for n, kind in enumerate(kinds):
        moment = typed_moment(draw(some_day()), draw(st.times()).replace(microsecond=0),
                              draw(st.integers(0, 5 if fmt == "xlsx" else 4)))
        cells: dict[str, object] = {**EXAMPLE_ROW, "case_no": f"{prefix}-{n}", "report_time": moment,
                                    "accident_time": moment, "vehicle_sum_insured": draw(st.sampled_from(
                                        ("200000.00", "200,000.00", "２００，０００", "86000", "")))}
        row = Row(kind, cells)
        earlier = [r for r in spec.rows if r.kind in ("valid", "junk")]
        if kind == "dup_in_file" and not earlier:
            row.kind = kind = "valid"
        if kind == "bad":
            choices = BAD_CELLS + (BAD_XLSX_CELLS if fmt == "xlsx" else ())
            row.bad_field, value = draw(st.sampled_from([c for c in choices if _fits(c[1], fmt)]))
            cells[row.bad_field] = value
        elif kind == "junk":
            name = draw(st.sampled_from(JUNK_FIELDS))
            cells[name] = _encodable(draw(st.one_of(hostile_text, long_text)), fmt)
            row.bad_field = name
        elif kind == "dup_in_file":
            first = draw(st.sampled_from(earlier))
            cells["case_no"] = first.cells["case_no"]
            row.first_row = spec.row_numbers[spec.rows.index(first)]
        elif kind == "existing":
            cells["case_no"] = draw(st.sampled_from(EXISTING))
        spec.rows.append(row)
        spec.row_numbers.append(number)
        number += 2 if n in blank_after else 1
    spec.content = _content(spec, blank_after)
    return spec


def counts(session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(ClaimCase)),
            session.scalar(select(func.count()).select_from(CaseEvent)))


@pytest.fixture
def existing(session, org, actor_for):
    """Two cases already registered, whose numbers a file may repeat."""
    rows = [{**EXAMPLE_ROW, "case_no": n} for n in EXISTING]
    content = ("\n".join([",".join(header_for(f) for f in IMPORT_FIELDS)]
                         + [",".join(r[f] for f in IMPORT_FIELDS) for r in rows]) + "\n").encode("utf-8")
    assert import_cases(session, actor_for("callcenter"), "seed.csv", content, now=NOW).imported == 2
    return actor_for("callcenter")


def _check_file(session, actor, spec: ImportFile, import_valid_rows: bool) -> None:
    before = counts(session)
    report = import_cases(session, actor, spec.name, spec.content, import_valid_rows=import_valid_rows, now=NOW)
    after = counts(session)
    assert report.total_rows == len(spec.rows)

    # Every refusal names its row as the file numbers it, and each wrong column in Chinese.
    numbered = dict(zip(spec.row_numbers, spec.rows))
    refused = {p.row_number: p for p in report.problems}
    for problem in report.problems:
        assert problem.row_number in numbered and problem.errors
        for error in problem.errors:
            field_line(error)
    for number, row in numbered.items():
        if row.kind == "valid":
            assert number not in refused, [(e.field, e.key, e.params) for e in refused[number].errors]
        elif row.kind == "bad":
            assert row.bad_field in {e.field for e in refused[number].errors}
        elif row.kind == "junk" and number in refused:
            assert {e.field for e in refused[number].errors} == {row.bad_field}
        elif row.kind == "dup_in_file":
            assert ("case_no", "cases.error.duplicate_in_file", {"row": row.first_row}) in [
                (e.field, e.key, e.params) for e in refused[number].errors]
        elif row.kind == "existing":
            assert "cases.error.duplicate_case_no" in {e.key for e in refused[number].errors}

    # All or nothing; or, when asked, exactly the valid rows, each with its history row.
    landing = report.valid_rows if (import_valid_rows or not report.problems) else 0
    event(f"{spec.fmt}: {'rows landed' if landing else 'nothing landed'}, {len(report.problems)} refused rows")
    assert report.imported == landing
    assert after == (before[0] + landing, before[1] + landing)
    if landing:
        landed = set(session.scalars(select(ClaimCase.case_no).where(
            ClaimCase.case_no.in_([str(r.cells["case_no"]) for r in spec.rows if r.kind != "existing"]))))
        expected = {str(numbered[number].cells["case_no"]) for number in numbered if number not in refused}
        assert landed == expected


# Function-scoped fixtures run once for all examples: see the module docstring for why that holds.
_IMPORT_SETTINGS = settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_IMPORT_SETTINGS
@given(import_files(ENCODINGS), st.booleans())
def test_a_csv_file_lands_whole_or_not_at_all_and_names_each_refused_row_and_column(session, existing, spec,
                                                                                     import_valid_rows):
    _check_file(session, existing, spec, import_valid_rows)


@_IMPORT_SETTINGS
@given(import_files(("xlsx",)), st.booleans())
def test_a_workbook_lands_whole_or_not_at_all_and_names_each_refused_row_and_column(session, existing, spec,
                                                                                    import_valid_rows):
    _check_file(session, existing, spec, import_valid_rows)


# ---------------------------------------------------------------- files refused as a whole

HEADER = ",".join(header_for(f) for f in IMPORT_FIELDS)


def _oversize() -> bytes:
    """~50 MB: a valid start, then padding past the upload limit (MAX_IMPORT_BYTES, 20 MB)."""
    return (HEADER + "\r\n").encode("utf-8-sig") + b"x" * (50 * 1024 * 1024)


@pytest.mark.parametrize("name, content, key", [
    ("空.csv", b"", "cases.error.file_empty"),
    ("空.xlsx", None, "cases.error.file_empty"),
    ("bom.csv", "\ufeff".encode("utf-8"), "cases.error.file_empty"),
    ("表头.csv", (HEADER + "\r\n").encode("utf-8-sig"), "cases.error.file_empty"),
    ("表头.csv", (HEADER + "\r\n,,,\r\n\r\n").encode("gbk"), "cases.error.file_empty"),
    ("空白.csv", b" \r\n\t\r\n", "cases.error.missing_columns"),
    ("大.csv", "oversize", "cases.error.file_too_large"),
    ("大.xlsx", "oversize", "cases.error.file_too_large"),
])
def test_an_empty_a_header_only_or_a_50_mb_file_is_refused_in_words_and_writes_nothing(
        session, existing, monkeypatch, name, content, key):
    if content is None:
        content = _empty_workbook()
    elif content == "oversize":
        content = _oversize()

        def never_parsed(*_args):
            raise AssertionError("a file over the limit was parsed")

        monkeypatch.setattr(import_file, "_csv_rows", never_parsed)  # refused from its length alone
        monkeypatch.setattr(import_file, "_xlsx_rows", never_parsed)
    before = counts(session)
    with pytest.raises(UserError) as refusal:
        import_cases(session, existing, name, content, import_valid_rows=True, now=NOW)
    assert refusal.value.key == key
    chinese_message(refusal.value.key, refusal.value.params)
    assert counts(session) == before


def _empty_workbook() -> bytes:
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- any bytes at all (no database)


_TEXT_FILES = st.builds(lambda text, encoding: text.encode(encoding, errors="ignore"),
                        st.one_of(hostile_text, hostile_text.map(lambda text: HEADER + "\n" + text)),
                        st.sampled_from(ENCODINGS))
_BROKEN_WORKBOOKS = st.builds(lambda keep, tail: _empty_workbook()[:keep] + tail, st.integers(0, 6000),
                              st.binary(max_size=50))


@settings(max_examples=300)
@given(st.sampled_from(("x.csv", "x.xlsx", "x.CSV", "x.txt")),
       st.one_of(st.binary(max_size=2000), _TEXT_FILES, _BROKEN_WORKBOOKS))
@example("x.csv", b"\xff\xfe\xff\xff,\xff\n")
@example("x.csv", (HEADER + '\nA1,"never closed\n').encode("utf-8"))
def test_any_bytes_are_read_as_rows_or_refused_in_words(name, content):
    try:
        rows = read_rows(name, content)
    except UserError as refusal:
        chinese_message(refusal.key, refusal.params)
        return
    numbers = [r.row_number for r in rows]
    assert rows and numbers == sorted(set(numbers)) and numbers[0] >= 2
    assert all(set(r.values) <= set(IMPORT_FIELDS) for r in rows)
