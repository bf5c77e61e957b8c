"""Bulk case import from CSV or Excel, with the same validator as the registration form.

Row numbers are those the person sees in the file (row 1 is the header). A file with any bad
row imports nothing unless `import_valid_rows=True`. Valid rows go in with one multi-row
INSERT per 1,000 rows (psycopg2 execute_values), history rows likewise.

Reading is bounded before it starts and while it runs: a file over the upload limit is refused
from its length alone, and rows are counted as they are read, so a file with more than
MAX_IMPORT_ROWS rows is refused at row MAX_IMPORT_ROWS + 1, never parsed to its end (a
1,000,000-row CSV took 26 s and 2.1 GB when the count came after parsing).

Excel cells that hold a formula are read by their cached result (what Excel showed when the file
was saved). A file saved by a program that does not calculate has no result: such a cell is
refused as a formula that must be typed as a value, not as an empty cell.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import openpyxl
import pandas as pd
from psycopg2 import IntegrityError as PgIntegrityError
from psycopg2.extras import execute_values
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.i18n import CATALOG
from dashboard.services.actor import Actor
from dashboard.rules.intake_fields import visible
from dashboard.services.cases.risk import active_risk_rules, colour_of_values
from dashboard.services.errors import FieldError, UserError
from dashboard.rules.case_input import INPUT_FIELDS, CaseInput, case_columns, check_case_input
from dashboard.services.cases.intake import load_reference
from dashboard.services.evidence.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB
from dashboard.services.capability import requires
from db.scope import send_pending_scope

MAX_IMPORT_ROWS = 50_000
# One upload limit for every file the product takes (the server refuses a bigger one before it
# is sent; this check holds for any other way a file arrives).
MAX_IMPORT_MB = MAX_UPLOAD_MB
MAX_IMPORT_BYTES = MAX_UPLOAD_BYTES
CHUNK_ROWS = 1_000
IMPORT_FIELDS = tuple(f for f in INPUT_FIELDS if f != "initial_estimate")  # estimates go through dispatch
REQUIRED_COLUMNS = ("case_no", "report_time", "accident_time", "province", "city", "address", "business_line",
                    "policy_no", "insured_name", "reporter_name", "accident_type", "sub_branch", "surveyor")
# Headers that differ from the form label (the file names what to type).
_HEADER_OVERRIDES = {"sub_branch": "三级机构（代码或名称）", "surveyor": "查勘员（用户名）"}
INSERT_COLUMNS = (
    "case_no", "report_time", "accident_time", "province", "city", "address", "business_line", "policy_no",
    "policy_start_date", "insured_name", "driver_name", "reporter_name", "reporter_phone", "plate_no",
    "vehicle_model", "vehicle_age_years", "vehicle_imported", "vehicle_sum_insured", "vehicle_use",
    "accident_type", "compulsory_only", "forced_registration", "branch_id", "sub_branch_id", "surveyor_id", "description",
    "vehicle_damage", "property_damage", "loss_ratio_pct", "claim_count", "accident_handling", "surveyor_doubts",
    "doubt_reason",
)
# The colour each row gets before its INSERT (services/cases/risk).
RISK_COLUMNS = ("risk_colour", "risk_criteria", "risk_rule_set_id")
EXAMPLE_ROW: dict[str, str] = {
    "case_no": "RPT202611200001", "report_time": "2026-11-20 09:15", "accident_time": "2026-11-20 08:40",
    "province": "广东省", "city": "广州市", "address": "天河区天河路385号", "business_line": "车险",
    "policy_no": "PDAA202644010000001234", "policy_start_date": "2026-03-01", "insured_name": "张伟",
    "driver_name": "张伟", "reporter_name": "张伟", "reporter_phone": "13800138000", "plate_no": "粤A12345",
    "vehicle_model": "丰田凯美瑞", "vehicle_age_years": "3", "vehicle_imported": "否",
    "vehicle_sum_insured": "200000.00", "vehicle_use": "家庭自用", "accident_type": "碰撞",
    "compulsory_only": "否", "forced_registration": "否", "sub_branch": "gz", "surveyor": "gz_surveyor1", "description": "两车追尾，无人伤",
    "vehicle_damage": "3000", "property_damage": "0", "loss_ratio_pct": "20", "claim_count": "1",
    "accident_handling": "交警或派出所处理", "surveyor_doubts": "", "doubt_reason": "",
}

Progress = Callable[[int, int], None]


def header_for(name: str) -> str:
    """The Chinese column header of an intake field (the template's and the file's)."""
    return _HEADER_OVERRIDES.get(name) or CATALOG[f"cases.field.{name}"][0]


def _header_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for name in IMPORT_FIELDS:
        for label in (header_for(name), *CATALOG[f"cases.field.{name}"], name):
            lookup[label.strip().lower()] = name
    return lookup


_HEADERS = _header_lookup()


# ---------------------------------------------------------------- template


def template_frame() -> pd.DataFrame:
    return pd.DataFrame([{header_for(n): EXAMPLE_ROW.get(n, "") for n in IMPORT_FIELDS}])


def template_csv() -> bytes:
    return template_frame().to_csv(index=False).encode("utf-8-sig")


def template_xlsx() -> bytes:
    """The template workbook: the data sheet with one example row and a sheet of field notes."""
    from dashboard.rules.case_input import CHOICE_FIELDS

    notes = []
    for name in IMPORT_FIELDS:
        choices = ""
        if name in CHOICE_FIELDS:
            prefix, codes, _ = CHOICE_FIELDS[name]
            choices = "、".join(CATALOG[f"{prefix}.{c}"][0] for c in codes)
        elif name in ("vehicle_imported", "compulsory_only", "forced_registration"):
            choices = "是、否"
        notes.append({"列名": header_for(name), "必填": "是" if name in REQUIRED_COLUMNS else "否", "可选值": choices})
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        template_frame().to_excel(writer, sheet_name="案件", index=False)
        pd.DataFrame(notes).to_excel(writer, sheet_name="填写说明", index=False)
    return buffer.getvalue()


# ---------------------------------------------------------------- reading


@dataclass
class FileRow:
    row_number: int  # as the person sees it in the file
    values: dict[str, Any]
    formulas: dict[str, str] = field(default_factory=dict)  # field -> formula with no cached result


# One row as read: its number in the file, its cells, and the formula of each cell that has one
# but no result (by column index).
_Row = tuple[int, list[Any], dict[int, str]]


def read_rows(filename: str, content: bytes) -> list[FileRow]:
    """Rows of a CSV or .xlsx file keyed by field name; blank rows are skipped, numbers kept.

    Refuses, without reading further: a file over MAX_IMPORT_BYTES, and a file past
    MAX_IMPORT_ROWS rows (at the first row over). Every refusal is a catalog message: the raw
    text of a parser's exception is never shown."""
    lowered = filename.lower()
    if not (lowered.endswith(".csv") or lowered.endswith(".xlsx")):
        raise UserError("cases.error.file_type")
    if len(content) > MAX_IMPORT_BYTES:
        raise UserError("cases.error.file_too_large", size=f"{len(content) / 1024 / 1024:.1f}", max=MAX_IMPORT_MB,
                        rows=f"{MAX_IMPORT_ROWS:,}")
    source = _csv_rows(content) if lowered.endswith(".csv") else _xlsx_rows(content)
    try:
        header = next(source, None)
        if header is None:
            raise UserError("cases.error.file_empty")
        names = [_HEADERS.get(str(h or "").strip().lower()) for h in header[1]]
        missing = [header_for(n) for n in REQUIRED_COLUMNS if n not in names]
        if missing:
            raise UserError("cases.error.missing_columns", columns="、".join(missing))
        rows: list[FileRow] = []
        for row_number, cells, formulas in source:
            if not formulas and all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            if len(rows) == MAX_IMPORT_ROWS:  # this is row cap + 1: stop reading here
                raise UserError("cases.error.too_many_rows", max=f"{MAX_IMPORT_ROWS:,}")
            values = {name: cells[i] if i < len(cells) else None for i, name in enumerate(names) if name}
            shown = {names[i]: text for i, text in formulas.items() if i < len(names) and names[i]}
            rows.append(FileRow(row_number, values, shown))
    finally:
        source.close()
    if not rows:
        raise UserError("cases.error.file_empty")
    return rows


def _csv_text(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
        try:
            return codecs.decode(content, encoding)
        except UnicodeDecodeError:
            continue
    raise UserError("cases.error.file_encoding")


def _csv_rows(content: bytes):
    """Header, then each record with its number (a record whose quoted cell spans lines is one row,
    as Excel shows it). strict: an unclosed quote is refused with its row, not read as one cell
    running to the end of the file."""
    reader = csv.reader(io.StringIO(_csv_text(content), newline=""), strict=True)
    number = 0
    try:
        for cells in reader:
            number += 1
            yield number, cells, {}
    except csv.Error:
        raise UserError("cases.error.csv_malformed", row=number + 1) from None


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")


def _has_formulas(book: zipfile.ZipFile) -> bool:
    """Whether any worksheet holds a formula (read in chunks: a formula-free file is read once)."""
    for name in book.namelist():
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        with book.open(name) as part:
            tail = b""
            while chunk := part.read(1 << 20):
                if _FORMULA_TAG.search(tail + chunk):
                    return True
                tail = chunk[-16:]
    return False


def _xlsx_rows(content: bytes):
    """Header, then each row of the first sheet with its number. A formula cell is read by its
    cached result; where there is none, its formula text is kept to name in the refusal."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            formulas_in_file = _has_formulas(book)
        values_book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        formula_book = (openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
                        if formulas_in_file else None)
    except Exception:  # not a zip, not a workbook, an old .xls renamed: say so in words
        raise UserError("cases.error.xlsx_unreadable") from None
    try:
        values = values_book.worksheets[0].iter_rows(values_only=True)
        written = formula_book.worksheets[0].iter_rows(values_only=True) if formula_book else None
        for number, cells in enumerate(values, start=1):
            typed = next(written, ()) if written is not None else ()
            pending = {i: _formula_text(f) for i, f in enumerate(typed)
                       if _formula_text(f) and (i >= len(cells) or cells[i] is None)}
            yield number, list(cells), pending
    except UserError:
        raise
    except Exception:
        raise UserError("cases.error.xlsx_unreadable") from None
    finally:
        values_book.close()
        if formula_book is not None:
            formula_book.close()


def _formula_text(cell: object) -> str | None:
    if isinstance(cell, str):
        return cell if cell.startswith("=") else None
    text = getattr(cell, "text", None)  # ArrayFormula, DataTableFormula
    return str(text) if text else None


# ---------------------------------------------------------------- checking


@dataclass
class RowProblem:
    row_number: int
    case_no: str | None
    errors: list[FieldError]


@dataclass
class ImportReport:
    total_rows: int
    problems: list[RowProblem] = field(default_factory=list)
    imported: int = 0
    seconds: float = 0.0
    valid: list[tuple[int, dict[str, Any]]] = field(default_factory=list, repr=False)

    @property
    def valid_rows(self) -> int:
        return len(self.valid)

    @property
    def bad_rows(self) -> int:
        return len(self.problems)


def _text(value: Any) -> Any:
    """Excel integers arrive as int; keep them as text for text fields like the case number."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


@requires("case.import")
def check_rows(session: Session, actor: Actor, rows: list[FileRow], now: datetime) -> ImportReport:
    case_nos = [str(_text(r.values.get("case_no")) or "").strip() for r in rows]
    ref = load_reference(session, actor, case_nos)
    report = ImportReport(total_rows=len(rows))
    first_row_of: dict[str, int] = {}
    for row, case_no in zip(rows, case_nos):
        data = CaseInput(**{k: _text(v) for k, v in row.values.items()})
        values, errors = check_case_input(data, ref, now)
        if row.formulas:  # an empty result of a formula is not an empty cell: say which it is
            errors = [e for e in errors if e.field not in row.formulas]
            errors.extend(FieldError(name, "cases.error.formula_without_value", {"formula": visible(text)})
                          for name, text in row.formulas.items())
        if case_no and case_no in first_row_of:
            errors.append(FieldError("case_no", "cases.error.duplicate_in_file", {"row": first_row_of[case_no]}))
        elif case_no:
            first_row_of[case_no] = row.row_number
        if errors:
            report.problems.append(RowProblem(row.row_number, case_no or None, errors))
        else:
            report.valid.append((row.row_number, case_columns(values)))
    return report


@requires("case.import")
def check_import(session: Session, actor: Actor, filename: str, content: bytes,
                 now: datetime | None = None) -> ImportReport:
    """Validate a file without writing anything: the preview the page shows before importing."""
    now = clock.or_now(now)
    return check_rows(session, actor, read_rows(filename, content), now)


# ---------------------------------------------------------------- importing


def _file_name(filename: str) -> str:
    """The file's name as kept in the history: control characters written out (a NUL cannot be stored)."""
    return visible(filename)[:200]


@requires("case.import")
def import_cases(session: Session, actor: Actor, filename: str, content: bytes, *,
                 import_valid_rows: bool = False, now: datetime | None = None,
                 progress: Progress | None = None) -> ImportReport:
    """Import a file in one transaction; with bad rows, nothing unless `import_valid_rows`."""
    started = time.perf_counter()
    now = clock.or_now(now)
    report = check_rows(session, actor, read_rows(filename, content), now)
    if report.problems and not import_valid_rows or not report.valid:
        session.rollback()
        report.seconds = time.perf_counter() - started
        return report
    rules = active_risk_rules(session)
    for _row, values in report.valid:
        values.update(zip(RISK_COLUMNS, colour_of_values(values, rules)))
    connection = session.connection()
    send_pending_scope(connection)  # the driver's cursor below is seen by no event
    cursor = connection.connection.driver_connection.cursor()
    total = report.valid_rows
    try:
        for start in range(0, total, CHUNK_ROWS):
            chunk = report.valid[start:start + CHUNK_ROWS]
            ids = execute_values(
                cursor,
                f"INSERT INTO claim_case ({', '.join(INSERT_COLUMNS + RISK_COLUMNS)}, state, tier, created_by, "
                "created_at) VALUES %s RETURNING id, case_no",
                [(*(v[c] for c in INSERT_COLUMNS + RISK_COLUMNS), "reported", "T0", actor.person_id, now)
                 for _, v in chunk],
                page_size=CHUNK_ROWS, fetch=True)
            by_no = {v["case_no"]: v for _, v in chunk}
            execute_values(
                cursor,
                "INSERT INTO case_event (case_id, actor_id, at, kind, payload) VALUES %s",
                [(case_id, actor.person_id, now, "case_registered", json.dumps({
                    "case_no": case_no, "sub_branch_id": by_no[case_no]["sub_branch_id"],
                    "surveyor_id": by_no[case_no]["surveyor_id"],
                    "business_line": by_no[case_no]["business_line"],
                    "report_time": by_no[case_no]["report_time"].isoformat(), "source": "import",
                    "risk_colour": by_no[case_no]["risk_colour"], "risk_criteria": by_no[case_no]["risk_criteria"],
                    "file": _file_name(filename),
                }, ensure_ascii=False)) for case_id, case_no in ids],
                template="(%s, %s, %s, %s, %s::jsonb)", page_size=CHUNK_ROWS)
            if progress:
                progress(min(start + CHUNK_ROWS, total), total)
    except PgIntegrityError as exc:  # another import took a number meanwhile
        session.rollback()
        raise UserError("cases.error.import_conflict") from exc
    finally:
        cursor.close()
    session.commit()
    report.imported = total
    report.seconds = time.perf_counter() - started
    return report
