"""Excel workbooks a finance person can use: typed cells, not text.

Amounts are numbers with a money format (they sum in Excel), times real dates in Asia/Shanghai,
rates percentages; text that a spreadsheet would read as a formula (= + - @, tab, CR) is
neutralised with a leading apostrophe (OWASP "CSV injection"), so a case description or a name
such as "=HYPERLINK(...)" stays text."""
from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dashboard.settings import BUSINESS_TZ

MONEY = '"¥"#,##0.00'
PERCENT = "0.0%"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
HOURS = "0.0"
INTEGER = "#,##0"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Sheet:
    """A frame with its headers as people read them; `formats`: number format per column;
    `cell_formats`: per row of a column whose rows differ (a sheet of figures: counts, money, rates)."""

    frame: pd.DataFrame
    formats: Mapping[str, str] = field(default_factory=dict)
    cell_formats: Mapping[str, Sequence[str | None]] = field(default_factory=dict)


def neutralised(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def excel_value(value: object) -> tuple[object, str | None]:
    """(the value a cell holds, the number format its type needs, if any)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None, None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        local = value.astimezone(BUSINESS_TZ) if value.tzinfo else value
        return local.replace(tzinfo=None), DATETIME  # Excel has no time zones: the business day's time
    if isinstance(value, date):
        return value, DATE
    if isinstance(value, Decimal):
        return float(value), None
    if isinstance(value, bool):
        return value, None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return excel_value(value.item())
    if isinstance(value, str):
        return neutralised(value), None
    return value, None


def typed_workbook(sheets: Mapping[str, Sheet]) -> bytes:
    """One workbook, one sheet per `Sheet`, typed cells, bold frozen header row."""
    book = Workbook()
    book.remove(book.active)
    for name, sheet in sheets.items():
        ws = book.create_sheet(title=name[:31] or "Sheet1")
        columns = list(sheet.frame.columns)
        for col, header in enumerate(columns, start=1):
            cell = ws.cell(row=1, column=col, value=neutralised(str(header)))
            cell.font = Font(bold=True)
        for r, values in enumerate(sheet.frame.itertuples(index=False, name=None), start=2):
            for col, (header, raw) in enumerate(zip(columns, values), start=1):
                value, type_format = excel_value(raw)
                cell = ws.cell(row=r, column=col, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
                per_row = sheet.cell_formats.get(header)
                number_format = (per_row[r - 2] if per_row else None) or sheet.formats.get(header) or type_format
                if number_format and value is not None and not isinstance(value, str):
                    cell.number_format = number_format
        for col, header in enumerate(columns, start=1):
            longest = max([len(str(header)) * 2] + [len(str(v)) for v in sheet.frame.iloc[:200, col - 1]])
            ws.column_dimensions[get_column_letter(col)].width = min(max(10, longest + 2), 50)
        ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
