"""The sign-in gate and role-based navigation, through the real app script."""
from __future__ import annotations

import pytest

from dashboard.ui.navigation import PAGES
from dashboard.ui.tones import AMBER, FILLS
from tests.app.helpers import cell_fills, new_app, sign_in, signed_in_app

# One demo person per role of SPEC §1.
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


def test_idle_session_expires(db_url, org):
    at = signed_in_app(db_url, "admin")
    at.session_state["auth"] = {**at.session_state["auth"], "last_seen": 0}
    at.run()
    assert "auth" not in at.session_state
    assert at.session_state["auth_notice"] == "auth.expired"
    assert [w.value for w in at.warning] == ["请先登录后再打开此页面。"]


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
    from dashboard.services.dispatch import record_estimate
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
    from dashboard.services.dispatch import record_estimate
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
    assert seen >= 6  # intake (3), dispatch board (2), tracker (2), overview (1)
