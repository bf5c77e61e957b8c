"""Shared list widgets: downloads (CSV, Excel) and a case table whose rows open the case detail."""
from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import pandas as pd
import streamlit as st

from dashboard.i18n import current_language, set_language, t
from dashboard.ui.tones import Tone, tagged
from dashboard.ui.workbook import Sheet, neutralised, typed_workbook

T = TypeVar("T")

_CASE_DETAIL = "pages/case_detail.py"
_ROOT = Path(__file__).resolve().parent.parent.parent


def to_excel_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """One workbook, one sheet per frame: typed cells, and text that Excel would run as a formula
    (a name or note starting with "=") kept as text (ui/workbook)."""
    return typed_workbook({name: Sheet(frame) for name, frame in sheets.items()})


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """utf-8-sig so that Excel on Windows opens Chinese CSV correctly; text cells that a spreadsheet
    would read as a formula get a leading apostrophe (OWASP "CSV injection")."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]) and not pd.api.types.is_datetime64_any_dtype(safe[column]):
            safe[column] = safe[column].map(lambda v: neutralised(v) if isinstance(v, str) else v)
    # CRLF rows, as Excel writes them: a cell holding a line break or a carriage return is then quoted.
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def download_buttons(frame: pd.DataFrame | Callable[[], pd.DataFrame], basename: str, key: str, *,
                     page_only: bool = False) -> None:
    """CSV and Excel of `frame`. `page_only`: the frame is one page of a longer list, and the
    buttons say so (a 761-case board downloaded as 50 rows surprised people).

    `frame` may be a function building it: then it is built only when a button is clicked (a
    big branch's weekly summary formats hundreds of cases to download, 50 to show), in the
    person's language (the click is served outside the page's run, where it is not set)."""
    # Files are built when a button is clicked (deferred data), not on every run of the page:
    # building the Excel workbook of each list was most of a list page's run time (bench/RESULTS.md).
    if callable(frame):
        builder, language = frame, current_language()

        def build() -> pd.DataFrame:
            set_language(language)
            return builder()
    else:
        shown = frame.copy()  # what is shown now is what is downloaded, whatever the page does next

        def build() -> pd.DataFrame:
            return shown
    prefix = "common.download_page" if page_only else "common.download"
    # on_click="ignore": a click only downloads. With the default (a rerun), the rerun replaced the
    # button, and the file it had just asked for, while the file was being fetched: under load the
    # download never came (seen in the browser tests).
    left, right = st.columns(2)
    left.download_button(t(f"{prefix}_csv"), lambda: to_csv_bytes(build()), file_name=f"{basename}.csv",
                         mime="text/csv", key=f"{key}_csv", on_click="ignore")
    right.download_button(t(f"{prefix}_excel"), lambda: to_excel_bytes({basename: build()}),
                          file_name=f"{basename}.xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          key=f"{key}_xlsx", on_click="ignore")


def open_case(case_id: int) -> None:
    st.session_state["case_id"] = int(case_id)
    if (_ROOT / _CASE_DETAIL).exists():
        st.switch_page(_CASE_DETAIL)


def case_table(frame: pd.DataFrame, key: str, *, id_column: str = "case_id",
               hidden: tuple[str, ...] = ("case_id",), column_config: dict | None = None,
               tones: Mapping[str, Sequence[Tone]] | None = None) -> None:
    """Show `frame`; selecting a row (one with a case) opens that case's detail page. `tones`: the
    columns drawn as coloured labels, each as wide as its labels need (see ui/tones)."""
    if empty_note(frame):
        return
    shown, tag_columns = tagged(frame.drop(columns=[c for c in hidden if c in frame.columns]), tones or {})
    event = st.dataframe(shown, key=key, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", column_config={**(column_config or {}), **tag_columns} or None)
    rows = event.selection.rows if event and hasattr(event, "selection") else []
    case_id = chosen_case_id(frame, rows, id_column)
    if case_id is not None:
        open_case(case_id)


def empty_note(frame: pd.DataFrame) -> bool:
    """An empty list says so in the person's words (Streamlit's empty grid reads "empty", in
    English); True when it did, and the grid is then not drawn."""
    if len(frame):
        return False
    st.caption(t("common.list_empty"))
    return True


def chosen_case_id(frame: pd.DataFrame, rows: list[int], id_column: str = "case_id") -> int | None:
    """The case of the selected row; None when nothing is selected or the row has no case (a
    branch's weekly-summary clock, D6, belongs to no case: a click on it opened nothing and failed)."""
    if not rows or rows[0] >= len(frame):
        return None
    case_id = frame.iloc[rows[0]][id_column]
    return None if pd.isna(case_id) else int(case_id)


def _pager_key(key: str, filters: object) -> str:
    if filters is None:
        return key
    return f"{key}_{hashlib.blake2s(repr(filters).encode(), digest_size=6).hexdigest()}"


def pager(total: int, page_size: int, key: str, *, filters: object = None) -> int:
    """A page-number input; returns the 0-based offset for SQL.

    `filters`: what the list is filtered by (its repr must say everything). A change of filters
    starts again at page 1: page 2 of one list is not page 2 of another."""
    pages = max(1, -(-total // page_size))
    key = _pager_key(key, filters)

    def keep_in_range() -> None:
        st.session_state[key] = _page_in_range(st.session_state.get(key), pages)

    # No min / max on the input: Streamlit answers a number out of range with an English message.
    # A page past the last shows the last, below 1 the first, and the box says which.
    keep_in_range()
    left, right = st.columns([1, 5], vertical_alignment="bottom")
    page = _page_in_range(left.number_input(t("common.page"), step=1, key=key, on_change=keep_in_range), pages)
    right.caption(t("common.page_of", n=f"{total:,}", page=page, pages=f"{pages:,}"))
    return (page - 1) * page_size


def paged(read: Callable[[int], tuple[int, list[T]]], page_size: int, key: str, *,
          filters: object = None) -> tuple[int, list[T]]:
    """A list's total and the page the person is on, with the pager drawn for that total.

    `read(offset)` returns (total, rows) of one page; the services read both in one statement when
    not given the total (statements.count_then_page), where counting first to draw the pager, then
    reading the page, took two. The page is the one the pager remembers; it is read again only when
    the list has shrunk below it (the pager then shows the last page)."""
    remembered = _page_in_range(st.session_state.get(_pager_key(key, filters)), sys.maxsize)
    wanted = (remembered - 1) * page_size
    total, rows = read(wanted)
    offset = pager(total, page_size, key, filters=filters)
    if offset != wanted:
        total, rows = read(offset)
    return total, rows


def _page_in_range(value: object, pages: int) -> int:
    try:
        page = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        page = 1
    return min(max(page, 1), pages)


def pick_record(ids: list[int], labels: Mapping[int, str], key: str, label: str, *, clicked_row: int | None,
                handed: str, filters: object = None, outside: bool = True) -> int | None:
    """Which record of a list is open below it: the row clicked in the table, one handed over by
    another page (session_state[handed]: the case page, the overdue tracker), or the one chosen in
    the box under the table — the keyboard's way in, and the first row when nothing was chosen (an
    approver opening the page sees the request waiting for them at once).

    A clicked row stays selected in the table run after run: it is applied only when it changes,
    so the box can still move on to another record.

    A record that leaves the list stays open (`outside`, for a page that loads the open record by
    its id): a person who just moved it on sees the outcome on it. Not when the person changed the
    list's `filters` (a search, a filter): the open record is then the new list's first, never one
    the search left out, whose forms a person took for the record they searched for. A page whose
    record is only its list row (`outside=False`) opens the list's first instead.

    An open record keeps the label it was shown with: the box finds its choice again by its label,
    and one whose label changed under it came back as the label's text instead of the record (the
    text is mapped back to its record, should it happen)."""
    s = st.session_state
    if clicked_row is not None and clicked_row < len(ids) and s.get(f"{key}_clicked") != ids[clicked_row]:
        s[key] = s[f"{key}_clicked"] = ids[clicked_row]
    given = s.pop(handed, None)
    if given is not None:
        s[key] = given
    shown_before: dict = s.get(f"{key}_labels", {})
    current = s.get(key)
    if isinstance(current, str):
        current = next((i for i, text in shown_before.items() if text == current), None)
    filters_seen, filters_now = s.get(f"{key}_filters"), repr(filters)
    s[f"{key}_filters"] = filters_now
    left_out = filters_seen is not None and filters_seen != filters_now
    if current is not None and current not in ids and (not outside or (left_out and given is None)):
        current = None
    options = list(ids)
    if current is not None and current not in options:
        options.insert(0, current)
    if not options:
        s.pop(key, None)
        return None
    s[key] = current if current is not None else options[0]
    shown = {i: labels.get(i) or shown_before.get(i) or t("common.not_in_list") for i in options}
    s[f"{key}_labels"] = shown
    chosen = st.selectbox(label, options, key=key, format_func=shown.__getitem__)
    return chosen if chosen in options else None
