"""Bulk case import from CSV or Excel, with the same validator as the registration form.

Row numbers are those the person sees in the file (row 1 is the header). A file with any bad
row imports nothing unless `import_valid_rows=True`. Valid rows go in with one multi-row
INSERT per 1,000 rows (psycopg2 execute_values), history rows likewise.
"""
from __future__ import annotations

import io
import json
import time
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
from dashboard.services.errors import FieldError, UserError
from dashboard.services.intake import (
    INPUT_FIELDS, CaseInput, case_columns, check_case_input, load_reference, require_intake_role,
)

MAX_IMPORT_ROWS = 50_000
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
    "accident_type", "compulsory_only", "branch_id", "sub_branch_id", "surveyor_id", "description",
)
EXAMPLE_ROW: dict[str, str] = {
    "case_no": "RPT202611200001", "report_time": "2026-11-20 09:15", "accident_time": "2026-11-20 08:40",
    "province": "广东省", "city": "广州市", "address": "天河区天河路385号", "business_line": "车险",
    "policy_no": "PDAA202644010000001234", "policy_start_date": "2026-03-01", "insured_name": "张伟",
    "driver_name": "张伟", "reporter_name": "张伟", "reporter_phone": "13800138000", "plate_no": "粤A12345",
    "vehicle_model": "丰田凯美瑞", "vehicle_age_years": "3", "vehicle_imported": "否",
    "vehicle_sum_insured": "200000.00", "vehicle_use": "家庭自用", "accident_type": "碰撞",
    "compulsory_only": "否", "sub_branch": "gz", "surveyor": "gz_surveyor1", "description": "两车追尾，无人伤",
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
    from dashboard.services.intake import CHOICE_FIELDS

    notes = []
    for name in IMPORT_FIELDS:
        choices = ""
        if name in CHOICE_FIELDS:
            prefix, codes, _ = CHOICE_FIELDS[name]
            choices = "、".join(CATALOG[f"{prefix}.{c}"][0] for c in codes)
        elif name in ("vehicle_imported", "compulsory_only"):
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


def read_rows(filename: str, content: bytes) -> list[FileRow]:
    """Rows of a CSV or .xlsx file keyed by field name; blank rows are skipped, numbers kept."""
    lowered = filename.lower()
    try:
        if lowered.endswith(".csv"):
            header, body = _read_csv(content)
        elif lowered.endswith(".xlsx"):
            header, body = _read_xlsx(content)
        else:
            raise UserError("cases.error.file_type")
    except UserError:
        raise
    except Exception as exc:  # a broken file: say so in the person's language
        raise UserError("cases.error.file_unreadable", detail=str(exc).splitlines()[0][:200]) from exc
    names = [_HEADERS.get(str(h or "").strip().lower()) for h in header]
    missing = [header_for(n) for n in REQUIRED_COLUMNS if n not in names]
    if missing:
        raise UserError("cases.error.missing_columns", columns="、".join(missing))
    rows: list[FileRow] = []
    for row_number, cells in body:
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        values = {name: cells[i] if i < len(cells) else None for i, name in enumerate(names) if name}
        rows.append(FileRow(row_number, values))
    if not rows:
        raise UserError("cases.error.file_empty")
    if len(rows) > MAX_IMPORT_ROWS:
        raise UserError("cases.error.too_many_rows", max=f"{MAX_IMPORT_ROWS:,}")
    return rows


def _read_csv(content: bytes) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
        try:
            frame = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False, encoding=encoding,
                                skip_blank_lines=False)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UserError("cases.error.file_unreadable", detail="encoding")
    body = [(index + 2, list(cells)) for index, cells in enumerate(frame.itertuples(index=False, name=None))]
    return list(frame.columns), body


def _read_xlsx(content: bytes) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = list(next(rows, ()) or ())
        body = [(number, list(cells)) for number, cells in enumerate(rows, start=2)]
    finally:
        workbook.close()
    return header, body


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


def check_rows(session: Session, actor: Actor, rows: list[FileRow], now: datetime) -> ImportReport:
    case_nos = [str(_text(r.values.get("case_no")) or "").strip() for r in rows]
    ref = load_reference(session, actor, case_nos)
    report = ImportReport(total_rows=len(rows))
    first_row_of: dict[str, int] = {}
    for row, case_no in zip(rows, case_nos):
        data = CaseInput(**{k: _text(v) for k, v in row.values.items()})
        values, errors = check_case_input(data, ref, now)
        if case_no and case_no in first_row_of:
            errors.append(FieldError("case_no", "cases.error.duplicate_in_file", {"row": first_row_of[case_no]}))
        elif case_no:
            first_row_of[case_no] = row.row_number
        if errors:
            report.problems.append(RowProblem(row.row_number, case_no or None, errors))
        else:
            report.valid.append((row.row_number, case_columns(values)))
    return report


def check_import(session: Session, actor: Actor, filename: str, content: bytes,
                 now: datetime | None = None) -> ImportReport:
    """Validate a file without writing anything: the preview the page shows before importing."""
    now = clock.or_now(now)
    require_intake_role(actor)
    return check_rows(session, actor, read_rows(filename, content), now)


# ---------------------------------------------------------------- importing


def import_cases(session: Session, actor: Actor, filename: str, content: bytes, *,
                 import_valid_rows: bool = False, now: datetime | None = None,
                 progress: Progress | None = None) -> ImportReport:
    """Import a file in one transaction; with bad rows, nothing unless `import_valid_rows`."""
    started = time.perf_counter()
    now = clock.or_now(now)
    require_intake_role(actor)
    report = check_rows(session, actor, read_rows(filename, content), now)
    if report.problems and not import_valid_rows or not report.valid:
        session.rollback()
        report.seconds = time.perf_counter() - started
        return report
    cursor = session.connection().connection.driver_connection.cursor()
    total = report.valid_rows
    try:
        for start in range(0, total, CHUNK_ROWS):
            chunk = report.valid[start:start + CHUNK_ROWS]
            ids = execute_values(
                cursor,
                f"INSERT INTO claim_case ({', '.join(INSERT_COLUMNS)}, state, tier, created_by, created_at) "
                "VALUES %s RETURNING id, case_no",
                [(*(v[c] for c in INSERT_COLUMNS), "reported", "T0", actor.person_id, now) for _, v in chunk],
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
                    "file": filename,
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
