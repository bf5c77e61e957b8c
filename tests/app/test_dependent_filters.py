"""A sub-branch filter follows the branch chosen above it: choosing another branch goes back to
全部, never to Streamlit's blank "Choose an option" (seen on the dispatch board)."""
from __future__ import annotations

import pytest

from tests.app.helpers import signed_in_app


@pytest.mark.parametrize("user, page, branch_key, sub_key", [
    ("callcenter", "dispatch_board", "bd_branch", "bd_sub"),
    ("reviewer", "overdue", "ov_branch", "ov_sub"),
    ("executive", "overview", "ov_branch", "ov_sub"),
])
def test_changing_the_branch_resets_the_sub_branch_to_all(db_url, org, user, page, branch_key, sub_key):
    at = signed_in_app(db_url, user, page)
    assert not at.exception, at.exception
    at.selectbox(key=branch_key).set_value(org.branch("gd").id).run()
    at.selectbox(key=sub_key).set_value(org.sub_branch("sz").id).run()
    assert at.selectbox(key=sub_key).value == org.sub_branch("sz").id
    at.selectbox(key=branch_key).set_value(org.branch("zj").id).run()
    assert not at.exception, at.exception
    sub = at.selectbox(key=sub_key)
    assert sub.value is None  # 全部
    # The browser is not told to show "nothing chosen" (set_value without a value), which it draws
    # as a blank box reading "Choose an option": the widget starts again at its first option.
    assert not sub.proto.set_value and sub.proto.default == 0
    assert set(sub.options) == {"全部"} | {s.name for s in org.sub_branches["zj"]}
