"""Delivery on the pages (issue 22): a person chooses how messages reach them on 我的消息 (a bad
address named and kept as typed, a second tab's older form refused with what it held kept), sees
which messages wait for working hours or went in a digest; HQ admin sees failed deliveries on 消息发送
and sends one again; nobody else can open that page."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from dashboard.services.outbox import queue_notification
from db.models import Notification, Person
from tests.app.helpers import signed_in_app
from tests.factories import T0


@pytest.fixture(autouse=True)
def _no_channels_configured(monkeypatch):
    for name in ("SMTP_HOST", "NOTIFY_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)


def _said(at) -> str:
    return " ".join([e.value for e in at.error] + [s.value for s in at.success] + [i.value for i in at.info])


def _save(at) -> None:
    next(b for b in at.button if b.label == "保存接收方式").click()
    at.run()
    assert not at.exception, at.exception


def _person(session, username: str) -> Person:
    session.expire_all()
    return session.scalars(select(Person).where(Person.username == username)).one()


def test_a_person_chooses_email_a_bad_address_is_named_and_kept_then_saved(db_url, session, org):
    at = signed_in_app(db_url, "gz_claims", "messages")
    assert not at.exception, at.exception
    version = _person(session, "gz_claims").version
    at.radio(key=f"np_channel_{version}").set_value("email")
    at.text_input(key=f"np_email_{version}").input("zhangsan@example")
    _save(at)
    # (Markdown: the typed "@" is shown with a word joiner before it, so it is no mail link; format.plain)
    assert any("电子邮件地址：“zhangsan\u2060@example”不是有效的电子邮件地址" in e.value for e in at.error), _said(at)
    assert at.text_input(key=f"np_email_{version}").value == "zhangsan@example"  # what was typed stays
    assert at.radio(key=f"np_channel_{version}").value == "email"
    assert _person(session, "gz_claims").notify_channel == "outbox"  # nothing saved

    at.text_input(key=f"np_email_{version}").input("zhangsan@example.com")
    _save(at)
    assert any("已保存" in s.value for s in at.success), _said(at)
    person = _person(session, "gz_claims")
    assert (person.notify_channel, person.email, person.version) == ("email", "zhangsan@example.com", version + 1)
    # No mail server on this machine: the person is told their messages stay on this page.
    assert any("尚未配置邮件服务器" in i.value for i in at.info), _said(at)
    assert at.text_input(key=f"np_email_{version + 1}").value == "zhangsan@example.com"


def test_e_mail_without_an_address_is_refused_naming_the_field(db_url, session, org):
    at = signed_in_app(db_url, "gz_claims", "messages")
    version = _person(session, "gz_claims").version
    at.radio(key=f"np_channel_{version}").set_value("email")
    _save(at)
    assert any("电子邮件地址" in e.value and "必须填写" in e.value for e in at.error), _said(at)


def test_a_second_tabs_older_form_is_refused_and_keeps_what_it_held(db_url, session, org):
    first = signed_in_app(db_url, "gz_claims", "messages")
    second = signed_in_app(db_url, "gz_claims", "messages")
    version = _person(session, "gz_claims").version
    first.radio(key=f"np_channel_{version}").set_value("webhook")
    _save(first)
    assert any("已保存" in s.value for s in first.success), _said(first)
    second.radio(key=f"np_channel_{version}").set_value("email")
    second.text_input(key=f"np_email_{version}").input("gz@example.com")
    _save(second)
    assert any("已被他人修改" in e.value for e in second.error), _said(second)
    assert _person(session, "gz_claims").notify_channel == "webhook"
    assert second.radio(key=f"np_channel_{version + 1}").value == "email"  # the fresh form holds what was typed
    assert second.text_input(key=f"np_email_{version + 1}").value == "gz@example.com"


def test_messages_say_they_wait_for_working_hours_or_went_in_a_digest(db_url, session, owner_session, org):
    person = org.person("gz_claims")
    for n in range(3):
        queue_notification(session, case_id=None, recipient_id=person, kind="deadline_warning", body=f"消息 {n}",
                           dedupe_key=f"app:{n}", now=T0)
    session.commit()
    first, second, third = session.scalars(select(Notification.id).order_by(Notification.id)).all()
    owner_session.execute(update(Notification).where(Notification.id == first).values(state="sent", channel="email"))
    owner_session.execute(update(Notification).where(Notification.id == second).values(state="held"))
    owner_session.execute(update(Notification).where(Notification.id == third)
                          .values(state="digested", digest_id=first))
    owner_session.commit()
    at = signed_in_app(db_url, "gz_claims", "messages")
    table = next(d for d in at.dataframe if d.key == "msg_table").value
    assert list(table["发送"]) == [f"已并入汇总（第 {first} 号）", "待工作时间汇总发送", "已发送（电子邮件）"]


def _failed(session, owner_session, org) -> int:
    queue_notification(session, case_id=None, recipient_id=org.person("gz_claims"), kind="deadline_warning",
                       body="消息", dedupe_key="app:failed", now=T0)
    session.commit()
    nid = session.scalar(select(Notification.id))
    owner_session.execute(update(Notification).where(Notification.id == nid).values(
        state="failed", attempts=6, channel="email", last_error="SMTP: ConnectionRefusedError: [Errno 111]"))
    owner_session.commit()
    return nid


def test_hq_admin_sees_a_failed_delivery_and_sends_it_again(db_url, session, owner_session, org):
    nid = _failed(session, owner_session, org)
    at = signed_in_app(db_url, "admin", "deliveries")
    assert not at.exception, at.exception
    assert at.title[0].value == "消息发送"
    assert sum("未配置" in m.value for m in at.markdown) == 2  # neither e-mail nor the robot here
    troubled = next(d for d in at.dataframe if "最近一次错误" in d.value.columns).value
    assert list(troubled["编号"]) == [nid] and list(troubled["状态"]) == ["发送失败"]
    assert list(troubled["已尝试次数"]) == [6] and "ConnectionRefused" in troubled["最近一次错误"][0]
    assert list(troubled["发送方式"]) == ["电子邮件"] and list(troubled["下次尝试"]) == ["—（等待重新发送）"]
    counts = next(d for d in at.dataframe if "合计" in d.value.columns).value
    assert list(counts.loc[counts["状态"] == "发送失败", "合计"]) == [1]

    other = signed_in_app(db_url, "admin", "deliveries")  # a colleague with the same list open
    at.button(key=f"dl_retry_{nid}").click()
    at.run()
    assert any(f"第 {nid} 号消息" in s.value and "已重新排队" in s.value for s in at.success), _said(at)
    session.expire_all()
    row = session.get(Notification, nid)
    assert (row.state, row.attempts, row.last_error is not None) == ("queued", 6, True)
    assert list(next(d for d in at.dataframe if "最近一次错误" in d.value.columns).value["状态"]) == ["重试中"]
    other.button(key=f"dl_retry_{nid}").click()
    other.run()
    assert any("已不在“发送失败”状态" in i.value for i in other.info), _said(other)


def test_only_hq_admin_may_open_the_delivery_page(db_url, org):
    manager = signed_in_app(db_url, "gd_manager")
    assert "deliveries" not in manager.session_state["nav_pages"]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        manager.switch_page("pages/deliveries.py")
    assert "deliveries" in signed_in_app(db_url, "admin").session_state["nav_pages"]
