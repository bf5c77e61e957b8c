"""Red / yellow / blue on the pages (issue 19): the badge and why on the case page, the facts form
recolouring the case, the badge and the colour filter on the dispatch board, the review queue and
the overdue tracker, the admin's thresholds tab; major cases on their page."""
from __future__ import annotations

from datetime import timedelta

from dashboard import clock
from dashboard.services.cases.intake import register_case
from sqlalchemy import select

from db.models import CatastropheEvent, ClaimCase
from tests.app.helpers import shown_frame, signed_in_app
from tests.integration.test_intake import NOW, good_input

BLUE_FACTS = dict(vehicle_damage="3000", property_damage="500", loss_ratio_pct="20", claim_count="1",
                  accident_handling="police")


def _register(session, actor_for, case_no: str, estimate: str | None = None, **overrides) -> ClaimCase:
    result = register_case(session, actor_for("callcenter"), good_input(case_no=case_no, initial_estimate=estimate,
                                                                       **overrides), now=NOW)
    session.expire_all()
    return session.get(ClaimCase, result.case_id)


def _open_case(at, case_id: int) -> None:
    at.session_state["case_id"] = case_id
    at.switch_page("pages/case_detail.py")
    at.run()
    assert not at.exception, at.exception


def test_the_case_page_shows_the_colour_and_why_and_the_facts_form_recolours_it(db_url, session, org, actor_for):
    case = _register(session, actor_for, "RPTCOLOUR001", **BLUE_FACTS)
    at = signed_in_app(db_url, "gz_surveyor1")
    _open_case(at, case.id)
    assert any("蓝区" in m.value and "第一现场报保险公司或交警处理" in m.value for m in at.markdown)
    key = f"risk_{case.id}_{case.version}"
    at.multiselect(key=f"{key}_surveyor_doubts").set_value(["driver_swapped"])
    at.text_area(key=f"{key}_doubt_reason").input("监控中驾驶员为女性，报案驾驶员为男性")
    next(b for b in at.button if b.label == "保存并重新分类").click()
    at.run()
    assert not at.exception, at.exception
    assert any("RPTCOLOUR001" in s.value and "红·严查" in s.value for s in at.success), [e.value for e in at.error]
    assert any("红区依据" in m.value and "查勘员提出疑点" in m.value for m in at.markdown)
    session.expire_all()
    assert session.get(ClaimCase, case.id).risk_colour == "red"
    timeline = " ".join(next(d for d in at.dataframe if "事项" in d.value).value["事项"])
    assert "蓝·快赔 → 红·严查" in timeline


def test_a_doubt_without_a_reason_keeps_what_was_typed_and_names_the_field(db_url, session, org, actor_for):
    case = _register(session, actor_for, "RPTCOLOUR002", **BLUE_FACTS)
    at = signed_in_app(db_url, "gz_surveyor1")
    _open_case(at, case.id)
    key = f"risk_{case.id}_{case.version}"
    at.text_input(key=f"{key}_vehicle_damage").input("4500")
    at.multiselect(key=f"{key}_surveyor_doubts").set_value(["old_damage"])
    next(b for b in at.button if b.label == "保存并重新分类").click()
    at.run()
    assert any("疑点说明" in e.value for e in at.error)
    assert at.text_input(key=f"{key}_vehicle_damage").value == "4500"  # nothing typed is lost
    session.expire_all()
    assert session.get(ClaimCase, case.id).risk_colour == "blue"


def test_the_board_puts_red_first_shows_the_badge_and_filters_by_colour(db_url, session, org, actor_for):
    _register(session, actor_for, "RPTBLUE0001", "80000", **BLUE_FACTS)
    _register(session, actor_for, "RPTRED00001", "80000", accident_time="2026-11-20 02:30",
              report_time="2026-11-20 03:00")
    at = signed_in_app(db_url, "callcenter", "dispatch_board")
    shown = shown_frame(at.dataframe[0])
    rows = list(zip(shown["报案号"], shown["红黄蓝"]))
    labels = dict(rows)
    assert labels["RPTRED00001"] == "红·严查" and labels["RPTBLUE0001"] == "蓝·快赔"
    order = [no for no, _ in rows]
    assert order.index("RPTRED00001") < order.index("RPTBLUE0001")  # red first, though reported earlier
    at.selectbox(key="bd_colour").set_value("blue")
    at.run()
    assert list(at.dataframe[0].value["报案号"]) == ["RPTBLUE0001"]


def test_the_tracker_filters_by_colour(db_url, session, org, actor_for):
    _register(session, actor_for, "RPTBLUE0002", "80000", **BLUE_FACTS)
    _register(session, actor_for, "RPTRED00002", "80000", accident_time="2026-11-20 02:30",
              report_time="2026-11-20 03:00")
    at = signed_in_app(db_url, "reviewer", "overdue")
    before = set(at.dataframe[0].value["报案号"])
    assert {"RPTBLUE0002", "RPTRED00002"} <= before  # their clocks are due within the day
    at.selectbox(key="ov_colour").set_value("red")
    at.run()
    assert not at.exception, at.exception
    shown = shown_frame(at.dataframe[0])
    assert "RPTRED00002" in set(shown["报案号"]) and "RPTBLUE0002" not in set(shown["报案号"])
    assert set(shown["红黄蓝"]) == {"红·严查"}


def test_the_admin_publishes_new_thresholds_from_the_rules_page(db_url, session, org, actor_for):
    at = signed_in_app(db_url, "admin", "admin_rules")
    assert any("红黄蓝规则" in tab.label for tab in at.tabs)
    at.text_input(key="risk_1_old_vehicle_years").input("8")
    at.text_input(key="risk_1_note").input("老旧车型标准调整为8年")
    next(b for b in at.button if b.label == "发布红黄蓝规则新版本").click()
    at.run()
    assert not at.exception, at.exception
    assert any("第 2 版" in s.value for s in at.success), [e.value for e in at.error]
    at.text_input(key="risk_2_night_from_hour").input("25")
    next(b for b in at.button if b.label == "发布红黄蓝规则新版本").click()
    at.run()
    assert any("夜间开始（时）" in e.value for e in at.error)


def test_the_major_cases_page_lists_a_case_over_authority(db_url, session, org, actor_for):
    case = _register(session, actor_for, "RPTMAJOR001", "600000")
    assert case.is_major
    at = signed_in_app(db_url, "reviewer", "major_cases")
    assert at.title[0].value == "重大案件"
    frame = at.dataframe[0].value
    assert list(frame["报案号"]) == ["RPTMAJOR001"] and list(frame["重大原因"]) == ["超分公司核损权限"]


def test_the_intake_form_takes_the_facts_and_says_the_colour(db_url, session, org, actor_for):
    from tests.app.test_intake_pages import fill_case, submit

    at = signed_in_app(db_url, "gz_surveyor1", "intake")
    fill_case(at, org, "APP-RED-01")
    # Yesterday in daylight, whatever the hour the suite runs at (the form's default is now, which
    # at night adds the night-accident criterion).
    day = (clock.business_now() - timedelta(days=1)).strftime("%Y-%m-%d")
    at.text_input(key="in_accident_time").input(f"{day} 10:00")
    at.text_input(key="in_report_time").input(f"{day} 11:00")
    at.text_input(key="in_vehicle_damage").input("62000")
    at.selectbox(key="in_handling").set_value("private")
    at.multiselect(key="in_doubts").set_value(["marks_mismatch"])
    at.text_input(key="in_doubt_reason").input("右后门划痕高度与对方车不符")
    submit(at, "登记案件")
    assert not at.exception, at.exception
    assert any("红黄蓝分类：红·严查" in i.value for i in at.info), [e.value for e in at.error]
    case = session.scalars(select(ClaimCase).where(ClaimCase.case_no == "APP-RED-01")).one()
    assert case.risk_colour == "red"
    assert set(case.risk_criteria) == {"large_vehicle_damage", "settled_privately", "surveyor_doubt"}
    assert (case.vehicle_damage, case.accident_handling, case.doubt_reason) == (62000, "private", "右后门划痕高度与对方车不符")


def test_the_overview_list_filters_by_colour_and_counts_what_it_lists(db_url, session, org, actor_for):
    _register(session, actor_for, "RPTOVBLUE01", "80000", **BLUE_FACTS)
    _register(session, actor_for, "RPTOVRED001", "80000", accident_time="2026-11-20 02:30",
              report_time="2026-11-20 03:00")
    at = signed_in_app(db_url, "executive", "overview")
    at.date_input(key="ov_period").set_value((NOW.date().replace(day=1), NOW.date()))  # whatever today is
    at.run()
    listed = shown_frame(next(d for d in at.dataframe if "红黄蓝" in d.value))
    assert {"RPTOVBLUE01", "RPTOVRED001"} <= set(listed["报案号"])
    at.selectbox(key="ov_list_colour").set_value("blue")
    at.run()
    assert not at.exception, at.exception
    listed = shown_frame(next(d for d in at.dataframe if "红黄蓝" in d.value))
    assert list(listed["报案号"]) == ["RPTOVBLUE01"] and list(listed["红黄蓝"]) == ["蓝·快赔"]


def test_the_branch_register_supervision_and_major_lists_filter_by_colour(db_url, session, org, actor_for):
    _register(session, actor_for, "RPTMJBLUE01", "600000", **BLUE_FACTS)
    _register(session, actor_for, "RPTMJRED001", "600000", accident_time="2026-11-20 02:30",
              report_time="2026-11-20 03:00")
    # The tracker's page opens on the register (a tracker's work); the supervisor follows 广东.
    for username, page, key in (("gd_tracker", "branch_feedback", "fb_reg_colour"),
                                ("supervisor", "supervision", "sup_colour"), ("reviewer", "major_cases", "mj_colour")):
        at = signed_in_app(db_url, username, page)
        before = shown_frame(next(d for d in at.dataframe if "红黄蓝" in d.value))
        assert {"RPTMJBLUE01", "RPTMJRED001"} <= set(before["报案号"]), (page, list(before["报案号"]))
        at.selectbox(key=key).set_value("red")
        at.run()
        assert not at.exception, at.exception
        after = shown_frame(next(d for d in at.dataframe if "红黄蓝" in d.value))
        assert list(after["报案号"]) == ["RPTMJRED001"] and list(after["红黄蓝"]) == ["红·严查"], page


def test_the_case_page_flags_a_case_major_from_its_panel_read_only_once_opened(db_url, session, org, actor_for):
    """The flag form's owners and catastrophes are read only once its panel is opened (the panel
    reruns the page as it opens); flagged from there, the case is major with the owner chosen."""
    case = _register(session, actor_for, "RPTMAJOR002", "80000", **BLUE_FACTS)
    assert not case.is_major
    at = signed_in_app(db_url, "reviewer")
    _open_case(at, case.id)
    assert any(e.label == "列为重大案件" for e in at.expander)
    key = f"major_{case.id}_{case.version}"
    assert not [s for s in at.selectbox if s.key == f"{key}_owner"]  # closed: no form drawn
    at.session_state[f"major_open_{case.id}"] = True  # what opening the panel in the browser sets
    at.run()
    assert not at.exception, at.exception
    owners = at.selectbox(key=f"{key}_owner")
    owner = org.person("gd_claims")  # the case is in 广东 (sub-branch gz)
    assert len(owners.options) > 1  # the branch's heads and claims people, then HQ's
    assert at.radio(key=f"{key}_reason").value is None  # no reason chosen for the person
    owners.set_value(owner)
    next(b for b in at.button if b.label == "列为重大案件").click()
    at.run()
    assert any("请选择列为重大案件的原因" in e.value for e in at.error), [e.value for e in at.error]
    session.expire_all()
    assert not session.get(ClaimCase, case.id).is_major
    assert not [s for s in at.selectbox if s.key == f"{key}_event"]  # no catastrophe asked for yet
    at.radio(key=f"{key}_reason").set_value("catastrophe").run()
    assert [s for s in at.selectbox if s.key == f"{key}_event"]  # asked for a catastrophe's reason
    at.radio(key=f"{key}_reason").set_value("social_impact").run()
    assert not [s for s in at.selectbox if s.key == f"{key}_event"]  # and only for it
    at.selectbox(key=f"{key}_owner").set_value(owner)
    next(b for b in at.button if b.label == "列为重大案件").click()
    at.run()
    assert not at.exception, at.exception
    assert any("RPTMAJOR002 已列为重大案件" in s.value for s in at.success), [e.value for e in at.error]
    session.expire_all()
    flagged = session.get(ClaimCase, case.id)
    assert (flagged.is_major, flagged.major_reason, flagged.major_owner_id) == (True, "social_impact", owner)


def test_a_reviewer_registers_a_named_typhoon_and_tags_a_case_to_it(db_url, session, org, actor_for):
    """The name as typed (台风“海燕”, as the form's hint shows) stands in the outcome once, without a
    second pair of quotes around it, and the case tagged to it is listed under it."""
    case = _register(session, actor_for, "RPTMJTYPH01", "600000")
    at = signed_in_app(db_url, "reviewer", "major_cases")
    at.text_input(key="mj_ev_name").input("2026年第18号台风“海燕”")
    at.date_input(key="mj_ev_on").set_value(NOW.date() - timedelta(days=2))
    at.selectbox(key="mj_ev_kind").set_value("flood")
    at.text_input(key="mj_ev_region").input("广东沿海")
    next(b for b in at.button if b.label == "登记事件").click()
    at.run()
    assert not at.exception, at.exception
    said = [s.value for s in at.success]
    assert "已登记灾害事件：2026年第18号台风“海燕”。" in said, (said, [e.value for e in at.error])
    # The form is empty again for the next event: no name, kind, date or region left from this one.
    assert (at.text_input(key="mj_ev_name").value, at.date_input(key="mj_ev_on").value,
            at.selectbox(key="mj_ev_kind").index, at.text_input(key="mj_ev_region").value) == ("", None, 0, "")
    event_id = session.scalar(select(CatastropheEvent.id).where(CatastropheEvent.name == "2026年第18号台风“海燕”"))
    at.selectbox(key="mj_tag_event").set_value(event_id)
    at.text_area(key="mj_tag_numbers").input(case.case_no)
    next(b for b in at.button if b.label == "关联并列为重大案件").click()
    at.run()
    said = " ".join(s.value for s in at.success)
    assert "已将 1 件案件列为重大案件，关联灾害事件：2026年第18号台风“海燕”。" in said and "““" not in said, said
    assert "此前已关联" not in said, said  # none was, and "0 件此前已关联" said nothing
    at.text_area(key="mj_tag_numbers").input(case.case_no)
    next(b for b in at.button if b.label == "关联并列为重大案件").click()
    at.run()
    said = " ".join([s.value for s in at.info] + [s.value for s in at.success])
    assert "另有 1 件此前已关联" in said, said
