"""人员与账号 (issue 18): the HQ admin finds a person and disables the account; the person, signed
in elsewhere, is signed out at their next click with the reason; two admins at once: the later is
refused naming the first; a role that calls nobody sees phone numbers masked on the case page."""
from __future__ import annotations

from sqlalchemy import select

from db.models import Person, RoleAssignment
from tests.app.helpers import new_app, sign_in, signed_in_app
from tests.factories import make_case


def _find(at, text: str) -> None:
    at.text_input(key="pp_search").input(text)
    at.run()
    assert not at.exception, at.exception


def _pick(at, session, username: str) -> None:
    person_id = session.scalar(select(Person.id).where(Person.username == username))
    at.selectbox(key="pp_person").set_value(person_id)
    at.run()
    assert not at.exception, at.exception


def _disable(at, person_id: int) -> None:
    at.checkbox(key=f"pp_confirm_{person_id}").check()
    at.run()
    at.button(key=f"pp_disable_{person_id}").click()
    at.run()
    assert not at.exception, at.exception


def _said(at) -> str:
    return " ".join([e.value for e in at.error] + [s.value for s in at.success] + [i.value for i in at.info])


def test_the_admin_disables_a_person_who_is_signed_out_at_their_next_click(db_url, session, org):
    tracker = signed_in_app(db_url, "gd_tracker", "weekly_summary")
    admin = signed_in_app(db_url, "admin", "people")
    assert admin.title[0].value == "人员与账号"
    _find(admin, "gd_tracker")
    assert list(admin.dataframe[0].value["用户名"]) == ["gd_tracker"]
    _pick(admin, session, "gd_tracker")
    target = org.person("gd_tracker")
    assert admin.button(key=f"pp_disable_{target}").disabled  # not until the admin confirms
    _disable(admin, target)
    name = session.scalar(select(Person.full_name).where(Person.id == target))
    assert any(name in s.value and "已停用" in s.value and "1 个登录会话" in s.value for s in admin.success), _said(admin)
    assert list(admin.dataframe[0].value["状态"]) == ["已停用"]
    assert admin.button(key=f"pp_enable_{target}") is not None

    tracker.run()  # the tracker's next click
    assert "auth" not in tracker.session_state
    again = sign_in(new_app(), "gd_tracker")
    assert any("该账号已停用" in e.value for e in again.error), _said(again)
    assert again.session_state["nav_pages"] == []


def test_an_admin_cannot_disable_their_own_account_from_the_page(db_url, session, org):
    admin = signed_in_app(db_url, "admin", "people")
    _find(admin, "admin")
    _pick(admin, session, "admin")
    assert not [b for b in admin.button if b.key and b.key.startswith("pp_disable_")]
    assert any("不能停用自己的账号" in i.value for i in admin.info)


def test_two_admins_at_once_the_later_is_refused_naming_the_first(db_url, session, owner_session, org):
    hq = owner_session.scalar(select(RoleAssignment.unit_id).where(RoleAssignment.person_id == org.person("admin")))
    owner_session.add(RoleAssignment(person_id=org.person("reviewer2"), role="hq_admin", unit_id=hq))
    owner_session.commit()
    first = signed_in_app(db_url, "admin", "people")
    second = signed_in_app(db_url, "reviewer2", "people")
    target = org.person("gd_tracker")
    for at in (first, second):
        _find(at, "gd_tracker")
        _pick(at, session, "gd_tracker")
    second.checkbox(key=f"pp_confirm_{target}").check()
    second.run()  # the second admin's screen: the account active, confirmed, drawn before the first's change
    _disable(first, target)
    second.button(key=f"pp_disable_{target}").click()
    second.run()
    first_name = session.scalar(select(Person.full_name).where(Person.id == org.person("admin")))
    assert any("已被他人修改" in e.value and first_name in e.value for e in second.error), _said(second)
    assert not second.success


def test_phone_numbers_are_masked_on_the_case_page_for_a_role_that_calls_nobody(db_url, session, org):
    case = make_case(session, org, "gz", reporter_phone="13912345678")
    for username, shown in (("executive", "139****5678"), ("callcenter", "13912345678")):
        at = signed_in_app(db_url, username)
        at.session_state["case_id"] = case.id
        at.switch_page("pages/case_detail.py")
        at.run()
        assert not at.exception, at.exception
        facts = at.dataframe[0].value
        row = dict(zip(facts.iloc[:, 0], facts.iloc[:, 1]))
        assert row["报案人电话"] == shown, username


# ---------------------------------------------------------------- a list read with its total (ui/tables.paged)


def test_a_long_list_reads_its_page_with_its_total_and_a_shrunk_list_shows_its_last_page(db_url, owner_session, org,
                                                                                         demo_password_hash):
    """The list's total rides in its page's statement (no count sent first); on page 2 of 60
    people, 30 of them gone (another admin's cleanup) leave one page: the page shows it, the box
    says 1, not an empty page 2."""
    from sqlalchemy import delete, event
    from sqlalchemy.engine import Engine

    owner_session.add_all([Person(username=f"bulk{i:03d}", full_name=f"批量{i:03d}", password_hash=demo_password_hash)
                           for i in range(60)])
    owner_session.commit()
    admin = signed_in_app(db_url, "admin", "people")
    _find(admin, "bulk")
    assert len(admin.dataframe[0].value) == 50
    assert any("共 60 条" in c.value and "第 1 / 2 页" in c.value for c in admin.caption), [c.value for c in admin.caption]

    sent: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        sent.append(statement)
    event.listen(Engine, "before_cursor_execute", capture)
    try:
        admin.number_input[0].set_value(2).run()
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
    assert not admin.exception, admin.exception
    assert list(admin.dataframe[0].value["用户名"]) == [f"bulk{i:03d}" for i in range(50, 60)]
    listed = [s for s in sent if "FROM person" in s and "LIMIT" in s and "list_total" in s]
    counted_apart = [s for s in sent if s.lstrip().startswith("SELECT count(*)") and "FROM person" in s]
    assert len(listed) == 1 and not counted_apart, sent

    owner_session.execute(delete(Person).where(Person.username.in_([f"bulk{i:03d}" for i in range(30, 60)])))
    owner_session.commit()
    admin.run()
    assert not admin.exception, admin.exception
    assert admin.number_input[0].value == 1
    assert list(admin.dataframe[0].value["用户名"]) == [f"bulk{i:03d}" for i in range(30)]
    assert any("共 30 条" in c.value and "第 1 / 1 页" in c.value for c in admin.caption), [c.value for c in admin.caption]
