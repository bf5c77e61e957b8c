"""Strings of signing in and of signed-in sessions kept across reloads (ui/session, web/auth routes)."""
from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "auth.ended_elsewhere": ("此登录已结束（已在其他窗口退出，或在本浏览器重新登录），请重新登录。",
                             "This session has ended (signed out in another window, or signed in again in "
                             "this browser): sign in again."),
    "auth.language_name.zh": ("简体中文", "简体中文"),
    "auth.language_name.en": ("English", "English"),
    "error.unexpected": ("页面出现意外错误，请刷新后重试。如问题仍在，请将错误编号 {reference} 告知系统管理员。",
                         "Something went wrong on this page: reload it and try again. If it happens again, "
                         "give the administrator the error reference {reference}."),
}
