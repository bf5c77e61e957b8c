"""Red / yellow / blue on the pages (docs/DOMAIN.md §6): the badge every case list and the case page
show, why the case has its colour, and the case page's form for the rule's facts.

The form writes the case version it was drawn with (a button callback), so a colleague's change
since is refused with who and when, and the facts typed stay on the form (issue 18)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import streamlit as st

from dashboard.i18n import t
from dashboard.rules.risk_colour import COLOURS, DOUBTS, HANDLINGS
from dashboard.rules.risk_input import DOUBT_REASON_MAX_CHARS
from dashboard.services.actor import Actor
from dashboard.services.cases.detail import DetailFacts
from dashboard.services.cases.risk import RiskChange, update_risk_facts
from dashboard.ui.format import plain, typed_number
from dashboard.ui.forms import long_text, run_write, show_outcome
from dashboard.ui.tones import AMBER, BLUE, RED, Tone

RISK_TONES: dict[str | None, Tone] = {"red": RED, "yellow": AMBER, "blue": BLUE, None: None}
_BADGE_COLOURS = {"red": "red", "yellow": "orange", "blue": "blue"}
SLOT = "detail_risk"


def badge_text(colour: str | None) -> str:
    """The list cell: 红·严查 / 黄·常规 / 蓝·快赔, or — for a case without a colour (not motor)."""
    return t(f"risk.badge.{colour}") if colour else t("risk.badge.none")


def colour_tones(colours: Iterable[str | None]) -> list[Tone]:
    """A list's colour column as coloured labels (for ui/tones.tagged): one tone per row's colour."""
    return [RISK_TONES.get(c) for c in colours]


def colour_filter_label(colour: str | None) -> str:
    return t("common.all") if colour is None else badge_text(colour)


def colour_filter(where, key: str) -> str | None:
    """The lists' one colour filter (全部 / 红 / 黄 / 蓝), drawn in `where` (a column or st)."""
    return where.selectbox(t("risk.filter"), [None, *COLOURS], key=key, format_func=colour_filter_label,
                           placeholder=t("common.all"))


def why(colour: str | None, criteria: Sequence[str]) -> str:
    """One sentence: the red criteria that fired, the blue ones that all held, or what keeps it from blue."""
    if colour is None:
        return t("risk.not_motor")
    names = "、".join(t(f"risk.criterion.{c}") for c in criteria) or "—"
    return t(f"risk.why.{colour}", criteria=names)


def render_risk_summary(f: DetailFacts) -> None:
    """Under the case's figures: its badge, why, and the rule version it was classified by."""
    if f.risk_colour is None:
        if f.business_line == "motor":
            st.caption(t("risk.not_motor"))
        return
    left, right = st.columns([1, 6], vertical_alignment="center")
    with left:
        st.badge(badge_text(f.risk_colour), color=_BADGE_COLOURS[f.risk_colour])
    right.markdown(plain(why(f.risk_colour, f.risk_criteria)))
    if f.risk_rule_version:
        right.caption(t("risk.rule_version", version=f.risk_rule_version))


def render_risk_form(actor: Actor, f: DetailFacts) -> None:
    """The rule's facts, editable by who surveys or runs the claim; the colour follows at once."""
    if f.business_line != "motor":
        return
    editable = actor.may("case.risk_facts")
    # What the person typed into a save refused because a colleague changed the case meanwhile:
    # drawn again in the fields of the case as it is now, so nothing typed is lost (issue 18).
    typed = st.session_state.pop(_carry_key(f.id), {})
    shown = {name: typed.get(name, value) for name, value in (
        ("vehicle_damage", typed_number(f.vehicle_damage)), ("property_damage", typed_number(f.property_damage)),
        ("loss_ratio_pct", typed_number(f.loss_ratio_pct)),
        ("claim_count", typed_number(f.claim_count)),
        ("accident_handling", f.accident_handling), ("surveyor_doubts", list(f.surveyor_doubts)),
        ("doubt_reason", f.doubt_reason or ""))}
    with st.expander(t("risk.form.title"), expanded=bool(typed)):
        show_outcome(SLOT)
        key = f"risk_{f.id}_{f.version}"  # a case that moved gets fresh fields with its new facts
        with st.form(f"risk_form_{f.id}"):
            c1, c2, c3, c4 = st.columns(4)
            c1.text_input(t("cases.field.vehicle_damage"), value=shown["vehicle_damage"],
                          key=f"{key}_vehicle_damage", disabled=not editable)
            c2.text_input(t("cases.field.property_damage"), value=shown["property_damage"],
                          key=f"{key}_property_damage", disabled=not editable)
            c3.text_input(t("cases.field.loss_ratio_pct"), value=shown["loss_ratio_pct"],
                          key=f"{key}_loss_ratio_pct", disabled=not editable)
            c4.text_input(t("cases.field.claim_count"), value=shown["claim_count"],
                          key=f"{key}_claim_count", disabled=not editable)
            handling = shown["accident_handling"]
            st.selectbox(t("cases.field.accident_handling"), HANDLINGS,
                         index=HANDLINGS.index(handling) if handling in HANDLINGS else None,
                         format_func=lambda h: t(f"risk.handling.{h}"), placeholder=t("risk.form.unknown"),
                         key=f"{key}_accident_handling", disabled=not editable)
            st.multiselect(t("cases.field.surveyor_doubts"), DOUBTS,
                           default=[d for d in shown["surveyor_doubts"] or [] if d in DOUBTS],
                           format_func=lambda d: t(f"risk.doubt.{d}"), placeholder=t("risk.form.no_doubt"),
                           key=f"{key}_surveyor_doubts", disabled=not editable)
            long_text(t("cases.field.doubt_reason"), value=shown["doubt_reason"] or "", limit=DOUBT_REASON_MAX_CHARS,
                      key=f"{key}_doubt_reason", disabled=not editable, height=80)
            st.form_submit_button(t("risk.form.save"), type="primary", disabled=not editable, on_click=_save,
                                  args=(actor, f.id, f.version, key))


_FIELDS = ("vehicle_damage", "property_damage", "loss_ratio_pct", "claim_count", "accident_handling",
           "surveyor_doubts", "doubt_reason")


def _message(change: RiskChange) -> tuple[str, str]:
    if not change.changed:
        return "info", t("risk.form.unchanged", case_no=change.case_no)
    return "success", t("risk.form.saved", case_no=change.case_no, badge=badge_text(change.colour))


def _carry_key(case_id: int) -> str:
    return f"risk_typed_{case_id}"


def _save(actor: Actor, case_id: int, version: int, key: str) -> None:
    data = {name: st.session_state.get(f"{key}_{name}") for name in _FIELDS}
    run_write(lambda s: update_risk_facts(s, actor, case_id, data, expected_version=version), _message, slot=SLOT,
              on_stale=lambda: st.session_state.update({_carry_key(case_id): data}))
