"""Excel and CSV downloads a finance person can use and that cannot run anything (issue 26, issue 18)."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pandas as pd
from openpyxl import load_workbook

from dashboard.ui.tables import to_csv_bytes, to_excel_bytes
from dashboard.ui.workbook import MONEY, Sheet, typed_workbook

FORMULAS = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_cells_are_typed_money_sums_and_times_are_the_business_days():
    frame = pd.DataFrame({"机构": ["广州中心支公司", "深圳中心支公司"],
                          "金额（元）": [Decimal("200000.10"), Decimal("0.05")],
                          "报案时间": [datetime(2026, 12, 3, 16, 30, tzinfo=timezone.utc), None],
                          "日期": [date(2026, 12, 4), date(2026, 12, 5)]})
    book = load_workbook(io.BytesIO(typed_workbook({"清单": Sheet(frame, formats={"金额（元）": MONEY})})))
    ws = book["清单"]
    assert [c.value for c in ws[1]] == list(frame.columns) and ws["A1"].font.bold and ws.freeze_panes == "A2"
    assert ws["B2"].value == 200000.10 and ws["B2"].number_format == MONEY
    assert ws["C2"].value == datetime(2026, 12, 4, 0, 30) and ws["C2"].is_date  # 00:30 Asia/Shanghai
    assert ws["C3"].value is None
    assert ws["D2"].is_date


def test_text_that_looks_like_a_formula_stays_text_in_excel():
    frame = pd.DataFrame({"备注": FORMULAS, FORMULAS[0]: range(len(FORMULAS))})
    ws = load_workbook(io.BytesIO(to_excel_bytes({"清单": frame}))).active
    cells = [ws.cell(row, 1) for row in range(2, len(FORMULAS) + 2)]
    # (openpyxl reads a stored carriage return back as a line feed)
    assert [c.value.replace("\n", "\r") for c in cells] == ["'" + f for f in FORMULAS]
    assert all(c.data_type == "s" for c in [*cells, ws["B1"]])
    assert ws["B2"].value == 0  # numbers stay numbers


def test_text_that_looks_like_a_formula_stays_text_in_csv():
    frame = pd.DataFrame({"备注": FORMULAS, "金额": [-5] * len(FORMULAS), "报案号": ["GD2026"] * len(FORMULAS)})
    back = pd.read_csv(io.BytesIO(to_csv_bytes(frame)), encoding="utf-8-sig", dtype=str)
    assert list(back["备注"]) == ["'" + f for f in FORMULAS]
    assert set(back["金额"]) == {"-5"} and set(back["报案号"]) == {"GD2026"}  # numbers and plain text untouched
    assert list(frame["备注"]) == FORMULAS  # the frame on screen is not changed
