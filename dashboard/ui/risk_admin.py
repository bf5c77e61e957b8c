"""The rules page's red / yellow / blue tab (HQ admin): the thresholds in force, a form for a new
version, and every version published.

The publish names the version the form was drawn from (a button callback), so a colleague's
publish in between is refused with who and when and the values typed stay on the form."""
from __future__ import annotations

from dataclasses import fields

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.rules.risk_colour import RiskThresholds
from dashboard.services.actor import Actor
from dashboard.services.admin.risk_rules import RANGES, RiskRuleVersion, publish_risk_rules, risk_rule_versions
from dashboard.ui.db import db_session
from dashboard.ui.format import local_time, typed_number
from dashboard.ui.forms import run_write, show_outcome

SLOT = "admin_risk"
TYPED = "admin_risk_typed"
_GROUPS = (
    ("night_from_hour", "night_to_hour", "day_from_hour", "day_to_hour"),
    ("new_policy_days", "late_report_hours", "immediate_report_hours", "old_vehicle_years"),
    ("luxury_sum_insured", "red_vehicle_damage", "blue_vehicle_damage", "blue_property_damage"),
    ("red_loss_ratio_pct", "red_claim_count", "blue_loss_ratio_pct", "blue_claim_count"),
)


def _field_key(version: int, name: str) -> str:
    return f"risk_{version}_{name}"


def render_risk_rules(actor: Actor) -> None:
    with db_session() as session:
        versions = risk_rule_versions(session, actor)
    active = next(v for v in versions if v.status == "active")
    st.caption(t("admin.risk.caption"))
    st.info(t("admin.risk.active", version=active.version, who=active.created_by or "—",
              at=local_time(active.created_at)))
    show_outcome(SLOT)
    editable = actor.may("rules.admin")
    # What an admin typed into a publish refused because a colleague published meanwhile: drawn
    # again in the form of the version now in force, so nothing typed is lost.
    typed = st.session_state.pop(TYPED, {})
    with st.form("admin_risk_form"):
        for group in _GROUPS:
            for column, name in zip(st.columns(len(group)), group):
                low, high = RANGES[name][1], RANGES[name][2]
                column.text_input(t(f"admin.setting.risk.{name}"),
                                  value=typed.get(name, typed_number(getattr(active.thresholds, name))),
                                  key=_field_key(active.version, name), disabled=not editable,
                                  help=t("admin.risk.range", low=f"{low:,.0f}", high=f"{high:,.0f}"))
        st.text_input(t("admin.risk.note"), value=typed.get("note") or "", key=f"risk_{active.version}_note",
                      max_chars=200, disabled=not editable)
        st.form_submit_button(t("admin.risk.publish"), type="primary", disabled=not editable, on_click=_publish,
                              args=(actor, active.version))
    st.subheader(t("admin.risk.history"))
    st.dataframe(_history(versions), hide_index=True, width="stretch")


def _history(versions: list[RiskRuleVersion]) -> pd.DataFrame:
    rows = []
    for v in versions:
        row = {t("admin.risk.col.version"): v.version, t("admin.risk.col.status"): t(f"admin.risk.status.{v.status}"),
               t("admin.risk.col.by"): v.created_by or "—", t("admin.risk.col.at"): local_time(v.created_at),
               t("admin.risk.col.note"): v.note or "—"}
        row.update({t(f"admin.setting.risk.{f.name}"): typed_number(getattr(v.thresholds, f.name))
                    for f in fields(RiskThresholds)})
        rows.append(row)
    return pd.DataFrame(rows)


def _publish(actor: Actor, version: int) -> None:
    """The version the form was drawn from, bound when it was drawn."""
    values = {f.name: st.session_state.get(_field_key(version, f.name)) for f in fields(RiskThresholds)}
    note = st.session_state.get(f"risk_{version}_note")
    run_write(lambda s: publish_risk_rules(s, actor, values, expected_version=version, note=note),
              lambda published: t("admin.risk.published", version=published.version), slot=SLOT,
              heading_key="admin.risk.not_saved",
              on_stale=lambda: st.session_state.update({TYPED: {**values, "note": note}}))
