"""A tier table as an editable grid: amounts stay text (exact Decimal), posts are a multiselect."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.rules.tiers import TierBand
from dashboard.rules.tier_bands import BandInput
from dashboard.settings import ALL_POSITIONS
from dashboard.ui.format import money

_COLUMNS = ("code", "lower", "upper", "positions", "hq_notice")


def _amount_text(value) -> str:
    return "" if value is None else f"{value:f}"


def bands_frame(bands: Sequence[TierBand]) -> pd.DataFrame:
    """Read-only view: Chinese headers, amounts as ¥."""
    return pd.DataFrame([{
        t("admin.col.code"): b.code,  # the code, not the national name: a branch's T2 may span other amounts
        t("admin.col.lower"): money(b.lower_exclusive),
        t("admin.col.upper"): money(b.upper_inclusive) if b.upper_inclusive is not None else t("admin.unbounded"),
        t("admin.col.positions"): "、".join(t(f"position.{p}") for p in b.positions),
        t("admin.col.hq_notice"): "✓" if b.hq_notice else "",
    } for b in bands])


def edit_bands(bands: Sequence[TierBand], key: str) -> list[BandInput]:
    """An editable grid seeded with `bands`; returns what the admin typed, unvalidated."""
    seed = pd.DataFrame([{"code": b.code, "lower": _amount_text(b.lower_exclusive),
                          "upper": _amount_text(b.upper_inclusive), "positions": list(b.positions),
                          "hq_notice": b.hq_notice} for b in bands], columns=list(_COLUMNS))
    edited = st.data_editor(
        seed, key=key, num_rows="dynamic", hide_index=True, width="stretch",
        column_config={
            "code": st.column_config.TextColumn(t("admin.col.code"), max_chars=16, required=True),
            "lower": st.column_config.TextColumn(t("admin.col.lower"), required=True),
            "upper": st.column_config.TextColumn(t("admin.col.upper")),
            "positions": st.column_config.MultiselectColumn(
                t("admin.col.positions"), options=list(ALL_POSITIONS), format_func=lambda p: t(f"position.{p}")),
            "hq_notice": st.column_config.CheckboxColumn(t("admin.col.hq_notice"), default=False),
        })
    rows: list[BandInput] = []
    for record in edited.to_dict("records"):
        if not any(record.get(c) not in (None, "", [], False) for c in _COLUMNS):
            continue  # an empty row the grid added
        positions = record.get("positions")
        rows.append(BandInput(code=str(record.get("code") or ""), lower_exclusive=record.get("lower"),
                              upper_inclusive=record.get("upper"),
                              positions=list(positions) if positions is not None else [],
                              hq_notice=bool(record.get("hq_notice"))))
    return rows
