"""Showing service refusals in the person's language: every field named, every problem listed.

Every text kept here for show_outcome or shown by show_error is Markdown as Streamlit draws it:
what was typed, echoed in a message (a case number, a name, a value refused), passes through
format.plain, so it reads as typed (issue 18)."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import streamlit as st

from dashboard.i18n import has_key, t
from dashboard.services.errors import FieldError, StaleWrite, UserError, ValidationFailed
from dashboard.ui.db import db_session
from dashboard.ui.format import plain

# Field names whose label lives under another key than cases.field.<name>.
_LABELS = {"estimate": "cases.estimate.amount", "delegate": "board.act.delegate_person",
           "outcome": "board.act.outcome", "reason_code": "board.contact.reason", "bands": "admin.col.bands"}
# A cell of the tier editor (rules/tier_bands: "band.<row>.<column>"): the message names the row,
# the label its column ("第 2 行：“abc”不是有效金额" said neither lower nor upper; issue 18).
_BAND_CELL = re.compile(r"band\.\d+\.(code|lower|upper|positions)")

# A date typed outside a date box's min_value / max_value is dropped by the box without a word: it
# turns red and keeps the date it had, which the form then saved (a complaint typed as received in
# 2027 was saved as received today). A box of a form that writes takes any day; the service checks
# the range and names the field and the dates allowed.
ANY_DAY: dict[str, date] = {"min_value": date(1900, 1, 1), "max_value": date(2999, 12, 31)}


def long_text(label: str, *, key: str, limit: int, where: Any = None, **kwargs: Any) -> str:
    """A box for free text of up to `limit` characters: the limit is named, not enforced by the box.

    Why: Streamlit's `max_chars` refuses the whole of a paste that runs past the limit, and the box
    stays as it was with no word (seen in a browser walk: a long text pasted into a 2,000 box left it
    empty). Taken whole, the text is checked by the service on saving, which names the field, the
    length and the limit, and the person shortens it in place: nothing typed is lost. Outside a
    form, the box says so as soon as the text leaves it."""
    box = where if where is not None else st
    # Named in the empty box, not by a help icon: its button is labelled "Help for <label>" in
    # English and shares the box's label.
    kwargs.setdefault("placeholder", t("forms.text_limit", limit=f"{limit:,}"))
    value = box.text_area(label, key=key, **kwargs)
    length = len(value or "")
    if length > limit:
        box.caption(":red[" + t("forms.text_over", length=f"{length:,}", limit=f"{limit:,}") + "]")
    return value


def field_label(field: str | None) -> str | None:
    if not field:
        return None
    cell = _BAND_CELL.fullmatch(field)
    area, _, rest = field.partition(".")
    # A field named "<area>.<name>" (special.reason, complaints.minutes) is labelled by its area's own
    # "<area>.field.<name>": a generic name (reason, note) means different things on different forms.
    for key in (_LABELS.get(field, ""), f"admin.col.{cell[1]}" if cell else "",
                f"{area}.field.{rest}" if rest else "", f"cases.field.{field}", f"admin.setting.{field}"):
        if key and has_key(key):
            return t(key)
    return None


def error_line(error: FieldError) -> str:
    """One problem as text (for a table or a file; through format.plain where Markdown is drawn)."""
    label = field_label(error.field)
    message = t(error.key, **error.params)
    return f"{label}：{message}" if label else message


def error_text(err: UserError, heading_key: str = "cases.form_errors") -> str:
    """The refusal as shown: one line per field at fault under a heading that says what was not
    saved (`heading_key`, with {n}: a case, the rules, the settings), or the single message.
    Markdown: the list is ours, each line's text reads as written (format.plain)."""
    if isinstance(err, ValidationFailed) and err.errors:
        lines = "\n".join(f"- {plain(error_line(e))}" for e in err.errors)
        return f"{t(heading_key, n=len(err.errors))}\n\n{lines}"
    label = field_label(err.field)
    message = t(err.key, **err.params)
    return plain(f"{label}：{message}" if label else message)


def show_error(err: UserError, heading_key: str = "cases.form_errors") -> None:
    """st.error with one line per field at fault (ValidationFailed) or the single message."""
    st.error(error_text(err, heading_key))


# ---------------------------------------------------------------- writes from callbacks

Outcome = tuple[str, str]  # (success | info | error, text)


def run_write(action: Callable[[Any], object], success: str | Callable[[Any], str | Outcome], *, slot: str,
              heading_key: str = "cases.form_errors", on_success: Callable[[Any], None] | None = None,
              on_stale: Callable[[], None] | None = None) -> None:
    """Body of a button's on_click callback: run `action(session)` and keep what happened for the
    `slot` on the next run (show_outcome).

    A callback runs before the page is drawn again, with the arguments bound when the button was
    drawn: the case, the record and the version the person saw, never a row re-read on the
    submit's rerun (DESIGN: Streamlit pitfalls). `success` may answer ("info", text) for a write
    that found nothing to do: a sentence with a case number or a name in it, kept as shown
    (format.plain). `on_success` clears or resets the form's inputs (allowed here). `on_stale` keeps
    what was typed when a colleague's change refused the write (StaleWrite): a form drawn with the
    record's new version has fields of its own, which it then fills from what was kept.
    """
    try:
        with db_session() as session:
            result = action(session)
    except UserError as err:
        st.session_state[_slot_key(slot)] = ("error", error_text(err, heading_key))
        if isinstance(err, StaleWrite) and on_stale is not None:
            on_stale()
        return
    outcome = success(result) if callable(success) else success
    kind, text = outcome if isinstance(outcome, tuple) else ("success", outcome)
    st.session_state[_slot_key(slot)] = (kind, plain(text))
    if on_success is not None:
        on_success(result)


def show_outcome(slot: str, *, toast: bool = True) -> None:
    """What the last write of `slot` did, where the person acted (and as a toast: a message above a
    long page goes unseen). Shown once."""
    # Always one container here, message or not: the elements below keep their place in the page,
    # so stateful tabs under a message are not drawn afresh (they went blank, or back to the first).
    place = st.container()
    kind, text = st.session_state.pop(_slot_key(slot), (None, None))
    if not kind:
        return
    {"success": place.success, "info": place.info}.get(kind, place.error)(text)
    if toast:
        icons = {"success": ":material/check_circle:", "info": ":material/info:"}
        st.toast(toast_text(text), icon=icons.get(kind, ":material/error:"))


def toast_text(text: str, limit: int = 40) -> str:
    """The toast's short form: its first line, at most `limit` characters. A longer toast is cut by
    Streamlit behind an English "view more"; the whole message is on the page where the person acted.
    The text is Markdown (format.plain): a cut never leaves half an escape ("\\" or "&lt")."""
    first = text.split("\n")[0].strip().rstrip("：:")
    if len(first) <= limit:
        return first
    return _CUT_ESCAPE.sub("", first[:limit - 1]) + "…"


_CUT_ESCAPE = re.compile(r"(?<!\\)(\\\\)*\\$|&[#\w]*$")  # an odd backslash or an entity begun, at the end


def set_outcome(slot: str, kind: str, text: str) -> None:
    """Keep `text` for show_outcome: Markdown as shown (typed parts through format.plain)."""
    st.session_state[_slot_key(slot)] = (kind, text)


def _slot_key(slot: str) -> str:
    return f"outcome_{slot}"



_FLASH = "flash_message"


def flash_and_rerun(message: str) -> None:
    """Keep a success message across the rerun that redraws lists with the change just made."""
    st.session_state[_FLASH] = message
    st.rerun()


def show_flash() -> None:
    """The kept message (Markdown: flash_and_rerun's callers pass typed parts through format.plain)."""
    message = st.session_state.pop(_FLASH, None)
    if message:
        st.success(message)


def keep_choice_by_label(key: str, labels: Mapping[Any, str]) -> None:
    """Before a selectbox whose labels can change while its options stay (a dispatch's contact state,
    an opinion marked 已回复): Streamlit keeps the label the browser last showed and hands back that
    old text, not the option, once the label changed (seen: a dispatch id arrived as
    「赵志明·分公司理赔负责人（已通知）」). Map it back to the option it named when drawn, or drop it."""
    memo = f"{key}__drawn_labels"
    if key in st.session_state and st.session_state[key] not in labels:
        meant = next((option for option, text in st.session_state.get(memo, {}).items()
                      if text == st.session_state[key]), None)
        if meant in labels:
            st.session_state[key] = meant
        else:
            del st.session_state[key]
    st.session_state[memo] = dict(labels)


def chosen_option(value: object, labels: Mapping[Any, str]) -> Any:
    """In a callback: the option the person chose in a selectbox drawn with `labels` (option -> label
    text), also when Streamlit hands back the label's text; None when it names none of them."""
    if value in labels:
        return value
    return next((option for option, text in labels.items() if text == value), None)


def keep_choice_offered(key: str, options: Sequence[object]) -> None:
    """Before a selectbox whose options follow another filter (the sub-branches of the chosen
    branch): a kept choice no longer offered goes back to the first option (全部). Streamlit would
    otherwise show a blank box reading "Choose an option" while the list was already unfiltered.
    The choice is dropped rather than set to the first option: that option is often None (全部),
    which Streamlit takes for "nothing chosen"."""
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]
