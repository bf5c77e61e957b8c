"""The SMS templates of 第二章 一.5/6 rendered from case facts."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from dashboard.rules.notifications import NoticeFacts, render_copy, render_dispatch

FACTS = NoticeFacts("C1", "王伟", "粤A12345", "广东省", "广州市", "天河路100号",
                  datetime(2026, 11, 24, 6, 30, tzinfo=timezone.utc), "collision", Decimal("186000"))


def test_dispatch_message_follows_the_source_template_in_shanghai_time():
    text = render_dispatch(FACTS, 24, 72)
    assert text == ("领导，王伟被保险人粤A12345车在广东省广州市天河路100号于2026年11月24日14时发生了碰撞事故，"
                    "造成标的车受损，预计损失18.6万元。请领导24小时内赶赴现场并在72小时内做出调查报告"
                    "并由当地客服经理协助上传系统。")


def test_copy_message_names_the_dispatched_leaders():
    text = render_copy(FACTS, ["李强", "陈静"])
    assert text.endswith("该案件已经调度李强、陈静领导赴现场调查，请领导给予支持。")
    assert "预计损失18.6万元" in text
