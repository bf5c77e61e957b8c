"""The menu names a person's roles, and for a first responsible person the post they hold: two
people of one sub-branch (its claims head and its head) decide different approval levels and must
not both read as just 第一责任人."""
import pytest

from dashboard.i18n import set_language
from dashboard.services.actor import Actor, Assignment
from dashboard.ui.app_shell import roles_text


@pytest.fixture(autouse=True)
def chinese():
    set_language("zh")
    yield
    set_language("zh")


def _actor(*assignments: tuple[str, str | None]) -> Actor:
    return Actor(person_id=1, username="u", full_name="张伟", assignments=tuple(
        Assignment(role=role, unit_id=5, unit_level="sub_branch", branch_id=2, position=position)
        for role, position in assignments))


def test_a_first_responsible_person_reads_with_the_post_held():
    assert roles_text(_actor(("first_responsible", "sub_claims_head"))) == "第一责任人（三级机构理赔负责人）"
    assert roles_text(_actor(("first_responsible", "sub_head"))) == "第一责任人（三级机构负责人）"
    assert roles_text(_actor(("first_responsible", "branch_line_head"))) == "第一责任人（分公司车险/非车险管理部负责人）"


def test_roles_without_a_post_read_as_before_and_each_name_once():
    assert roles_text(_actor(("branch_manager", None), ("branch_manager", None))) == "分公司分级案件管理责任人"
    both = roles_text(_actor(("surveyor", None), ("first_responsible", "sub_head")))
    assert both.split("、") == sorted(["直接责任人（查勘员）", "第一责任人（三级机构负责人）"])


def test_in_english_the_post_is_in_plain_brackets():
    set_language("en")
    assert roles_text(_actor(("first_responsible", "branch_gm"))) == "First responsible person (Branch general manager)"
