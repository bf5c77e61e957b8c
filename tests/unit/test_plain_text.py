"""Typed text reads as typed wherever Streamlit draws Markdown (issue 18): format.plain."""
from __future__ import annotations

import re

import pytest

from dashboard.ui.format import plain
from dashboard.ui.forms import error_text, toast_text
from dashboard.services.errors import FieldError, UserError, ValidationFailed

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"
LINK = "[点我](http://evil.example)"
JOINER = "\u2060"


def _no_tag(text: str) -> bool:
    return "<" not in text and ">" not in text


def _read(markdown: str) -> str:
    """What a reader sees of plain's output: entities and backslash escapes read, joiners unseen."""
    text = re.sub(r"\\(.)", r"\1", markdown).replace(JOINER, "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@pytest.mark.parametrize("attack", [SCRIPT, IMAGE, LINK])
def test_the_three_attacks_come_out_with_no_tag_and_no_active_link(attack):
    shown = plain(attack)
    assert _no_tag(shown)
    assert "&lt;" in shown or "\\[" in shown
    # No link syntax left: the brackets are escaped, and the address is cut where GitHub's Markdown
    # would link it on its own.
    assert not re.search(r"(?<!\\)\[", shown) and not re.search(r"(?<!\\)\]", shown)
    assert "http://" not in shown
    assert _read(shown) == attack


def test_normal_chinese_is_unchanged():
    for text in ("核实驾驶员是否酒驾，补充交警事故认定书。", "已调取酒精检测记录：驾驶员未饮酒（见附件）。",
                 "事故认定书已上传，对方全责；估损 12.5万元，报案号 GZ-2026-000123，时间 2026-11-24 17:00",
                 "第一行\n第二行"):
        assert plain(text) == text


def test_markdown_signs_are_escaped_and_line_breaks_stay():
    shown = plain("第一行\n# 标题\n1. 列表\n  - 项\n---\n**粗** _斜_ `代码` ~~删~~ a|b $x$ :smile: www.evil.example a@b.cn")
    lines = shown.split("\n")
    assert len(lines) == 6  # a line break is still a line break
    assert lines[1] == "\\# 标题" and lines[2] == "1\\. 列表" and lines[3] == "\\- 项" and lines[4] == "\\---"
    for sign in ("\\*\\*粗\\*\\*", "\\_斜\\_", "\\`代码\\`", "\\~\\~删\\~\\~", "a\\|b", "\\$x\\$"):
        assert sign in lines[5]
    assert ":smile:" not in shown and "www." not in shown and "a@" not in shown
    assert _read(shown) == "第一行\n# 标题\n1. 列表\n- 项\n---\n**粗** _斜_ `代码` ~~删~~ a|b $x$ :smile: www.evil.example a@b.cn"
    assert plain(None) == ""
    assert plain("C:\\文件\\x00") == "C:\\文件\\x00"  # a backslash Markdown would not read stays as it is
    assert _read(plain("\\*不是斜体*\\")) == "\\*不是斜体*\\"  # one it would read is itself escaped
    assert plain("A&amp;B") == "A&amp;amp;B"  # reads "A&amp;B", as typed


def test_refusals_echo_what_was_typed_as_text():
    err = ValidationFailed([FieldError("address", "cases.error.bad_time", {"value": IMAGE})])
    shown = error_text(err)
    assert shown.split("\n")[2].startswith("- ")  # the list is ours
    assert _no_tag(shown.split("\n", 1)[1])
    assert _no_tag(error_text(UserError("cases.error.bad_date", value=SCRIPT)))


def test_a_cut_toast_never_ends_inside_an_escape():
    assert toast_text("甲" * 38 + plain("<b>")) == "甲" * 38 + "…"
    assert toast_text("甲" * 38 + plain("*粗*")) == "甲" * 38 + "…"
