"""The sign-in gate and role-based navigation, through the real app script."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from dashboard.ui.navigation import PAGES
from dashboard.ui.tones import AMBER, FILLS
from tests.app.helpers import cell_fills, new_app, sign_in, signed_in_app

# One demo person per role of docs/DOMAIN.md §1.
ROLE_USERS = {
    "hq_admin": "admin", "hq_reviewer": "reviewer", "exec_supervisor": "supervisor",
    "call_center": "callcenter", "branch_manager": "gd_manager", "branch_tracker": "gd_tracker",
    "first_responsible": "gz_claims", "surveyor": "gz_surveyor1", "executive": "executive",
}


def _expected_pages(role: str) -> list[str]:
    return [p.key for p in PAGES if role in p.roles]


def test_signed_out_visitor_sees_only_the_sign_in_form(db_url, org):
    at = new_app()
    at.run()
    assert not at.exception
    assert at.session_state["nav_pages"] == []
    assert at.text_input(key="sign_in_username") is not None


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_each_role_sees_exactly_its_pages(db_url, org, role):
    at = signed_in_app(db_url, ROLE_USERS[role])
    assert not at.exception
    assert at.session_state["nav_pages"] == _expected_pages(role)
    assert "home" in at.session_state["nav_pages"]


def test_wrong_password_is_refused_with_a_message(db_url, org):
    at = sign_in(new_app(), "admin", "not-the-password")
    assert at.session_state["nav_pages"] == []
    assert any("用户名或密码错误" in e.value for e in at.error)


def test_the_sixth_attempt_after_five_failures_is_locked_even_with_the_right_password(db_url, org):
    at = new_app()
    for _ in range(5):
        sign_in(at, "gz_claims", "not-the-password")
        assert any("用户名或密码错误" in e.value for e in at.error)
    sign_in(at, "gz_claims")  # the right password, too late
    assert at.session_state["nav_pages"] == []
    assert any("已暂时锁定" in e.value and "分钟后再试" in e.value for e in at.error), [e.value for e in at.error]


def test_signed_out_visitor_cannot_open_a_page_by_path(db_url, org):
    at = new_app()
    at.run()
    # Signed out, the navigation registers the sign-in page alone: no page script can be reached.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/home.py")
    assert at.session_state["nav_pages"] == []


def test_sign_out_forgets_the_person_and_the_open_page_refuses(db_url, org):
    at = signed_in_app(db_url, "admin")
    at.button(key="sign_out").click()
    at.run()
    assert "auth" not in at.session_state
    # AppTest re-runs the open page script itself: its own role check refuses a signed-out visitor.
    assert [w.value for w in at.warning] == ["请先登录后再打开此页面。"]
    assert not at.title


def test_sign_out_ends_the_session_in_the_database_for_every_tab(db_url, org, session):
    from db.models import WebSession

    at = signed_in_app(db_url, "admin")
    session_id = at.session_state["auth"]["web_session_id"]
    at.button(key="sign_out").click()
    at.run()
    row = session.get(WebSession, session_id)
    assert row.person_id == org.person("admin") and row.ended_at is not None and row.end_reason == "signed_out"


def test_idle_session_expires(db_url, org):
    import time_machine

    from dashboard import clock
    from dashboard.settings import DEFAULT_RULE_SETTINGS

    at = signed_in_app(db_url, "admin")
    idle = timedelta(minutes=DEFAULT_RULE_SETTINGS["session.idle_minutes"])
    with time_machine.travel(clock.now() + idle + timedelta(minutes=1), tick=True):
        at.run()
    assert "auth" not in at.session_state
    assert at.session_state["auth_notice"] == "auth.expired"
    assert [w.value for w in at.warning] == ["请先登录后再打开此页面。"]


def test_a_tab_opened_from_the_cookie_is_signed_out_when_another_tab_signs_out(db_url, org, session, monkeypatch):
    """A reload or a new tab finds the session from the browser's cookie (the browser test walks the
    cookie itself); a sign-out in one tab ends it in the other at its next action."""
    from dashboard.services.web_sessions import establish

    first = signed_in_app(db_url, "gd_manager")
    token = establish(session, first.session_state["auth"]["ticket"])  # what the browser's frame does
    monkeypatch.setattr("dashboard.ui.session._session_cookie", lambda: token)
    second = new_app()
    second.run()
    assert any("您好" in m.value for m in second.title)  # signed in without the form
    assert second.session_state["auth"]["web_session_id"] == first.session_state["auth"]["web_session_id"]
    first.button(key="sign_out").click()
    first.run()
    second.run()
    assert "auth" not in second.session_state
    assert second.session_state["auth_notice"] == "auth.ended_elsewhere"


def _texts(node) -> list[str]:
    """Every text the page shows, however deeply nested."""
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        return [text for child in children.values() for text in _texts(child)]
    proto = getattr(node, "proto", None)
    return [str(proto)] if proto is not None else []


def test_an_unexpected_error_shows_a_reference_never_a_traceback_and_logs_both(db_url, org, monkeypatch, caplog):
    import logging

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail of the failure")

    at = new_app()
    at.run()
    monkeypatch.setattr("dashboard.services.figures.home.unit_names", broken)
    with caplog.at_level(logging.ERROR, logger="dashboard.unexpected_error"):
        # Signing in reruns (st.rerun, control flow, not an error) into the landing page, which fails.
        sign_in(at, "gd_manager")
    assert not at.exception
    [message] = [e.value for e in at.error]
    reference = re.search(r"错误编号 (E\d{8}-[0-9A-F]{6})", message).group(1)
    assert "页面出现意外错误" in message
    shown = " ".join(_texts(at.main))
    assert "secret detail" not in shown and "Traceback" not in shown
    [record] = [r for r in caplog.records if r.name == "dashboard.unexpected_error"]
    logged = caplog.text
    assert reference in record.getMessage() and "secret detail of the failure" in logged and "Traceback" in logged


def test_the_sign_in_page_offers_english_and_the_choice_carries_into_the_session(db_url, org):
    at = new_app()
    at.run()
    at.selectbox(key="sign_in_lang").set_value("en")
    at.run()
    assert [m.value for m in at.title] == ["Sign in to tiered claim case management"]
    assert at.text_input(key="sign_in_username").label == "User name"
    sign_in(at, "admin")
    assert any("Hello" in m.value for m in at.title)


def test_the_language_box_writes_the_session_only_for_a_new_language(db_url, org, session, monkeypatch):
    """Streamlit can call the box's on_change with no change, when a click lands during a run
    (streamlit#10102); CI saw it write the unchanged language beside a sign-out click. Called as
    Streamlit calls it, with the tab's state, the language in use writes nothing and another is kept."""
    from dashboard.ui import session as ui_session
    from db.models import WebSession

    at = signed_in_app(db_url, "admin")
    web_session_id = at.session_state["auth"]["web_session_id"]
    tab = {"lang": "zh", "auth": {"web_session_id": web_session_id}}
    monkeypatch.setattr(ui_session.st, "session_state", tab)
    writes = []
    write = ui_session.set_session_language
    monkeypatch.setattr(ui_session, "set_session_language",
                        lambda s, wid, language: (writes.append(language), write(s, wid, language)))

    ui_session.remember_language("zh")
    assert writes == []
    ui_session.remember_language("en")
    assert writes == ["en"] and tab["lang"] == "en"
    session.expire_all()
    assert session.get(WebSession, web_session_id).language == "en"
    ui_session.remember_language("en")
    assert writes == ["en"]


def test_pages_follow_the_chosen_language(db_url, org):
    at = signed_in_app(db_url, "admin")
    assert any("您好" in m.value for m in at.title)
    at.session_state["lang"] = "en"  # what the sidebar language box stores
    at.run()
    assert any("Hello" in m.value for m in at.title)


def test_app_refuses_an_out_of_date_schema_and_names_the_command(db_url, org):
    from db.schema import alembic_config
    from alembic import command

    command.downgrade(alembic_config(db_url), "0001")
    at = new_app()
    at.run()
    assert at.session_state["nav_pages"] == []
    assert any("python3.11 -m dashboard.launcher migrate" in e.value for e in at.error)


def test_home_lists_the_persons_own_open_deadlines(db_url, org, session, actor_for):
    from dashboard.services.dispatching.dispatch import record_estimate
    from tests.factories import make_case

    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, "86000")
    at = signed_in_app(db_url, "gz_claims")
    table = at.dataframe(key="home_tasks").value
    assert list(table["报案号"]) == [case.case_no, case.case_no]
    assert list(table["时效类型"]) == ["D2 第一责任人到场及人车合影（24小时）", "D3 调查报告上传（72小时）"]
    # D2 falls due within the 24 h due-soon window (amber), D3 in 72 h (neutral).
    assert cell_fills(at.dataframe(key="home_tasks"), "剩余/超时") == [FILLS[AMBER], FILLS[None]]
    other = signed_in_app(db_url, "hz_claims")
    assert any("没有未完成的时效任务" in s.value for s in other.success)


def test_case_detail_without_a_case_offers_the_persons_open_deadlines(db_url, org, session, actor_for):
    from dashboard.services.dispatching.dispatch import record_estimate
    from tests.factories import make_case

    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, "86000")
    at = signed_in_app(db_url, "gz_claims", "case_detail")
    assert list(at.dataframe(key="detail_tasks").value["报案号"]) == [case.case_no, case.case_no]


def test_every_date_field_reads_year_month_day_with_dashes(db_url, org):
    """One date style everywhere (2026-12-02, as the lists and exports print dates), not the
    intake and the overview in Streamlit's default 2026/12/02 beside the filters' 2026-12-02."""
    at = signed_in_app(db_url, "admin")
    seen = 0
    for key in at.session_state["nav_pages"]:
        at.switch_page(f"pages/{key}.py")
        at.run()
        assert not at.exception, (key, at.exception)
        for field in at.date_input:
            seen += 1
            assert field.proto.format == "YYYY-MM-DD", (key, field.label, field.proto.format)
    assert seen >= 5  # dispatch board (2), tracker (2), overview (1); intake reads its times as text (issue 26)
