"""Case detail and executive overview pages through the real app script (AppTest)."""
from __future__ import annotations

from datetime import datetime, timedelta

from dashboard.services.dispatching.dispatch import record_estimate
from tests.app.helpers import signed_in_app
from tests.factories import T0, make_case


def _tiered_case(session, org, actor_for, sub="gz", amount="200000"):
    case = make_case(session, org, sub)
    record_estimate(session, actor_for("callcenter"), case.id, amount, now=T0 + timedelta(hours=1))
    session.refresh(case)
    return case


def state_picker(at):
    """The case detail's 「变更为」 picker (its key names the case version it was drawn for)."""
    return next(s for s in at.selectbox if s.label == "变更为")


def _open_detail(db_url, username, case_id):
    at = signed_in_app(db_url, username)
    at.session_state["case_id"] = case_id
    at.switch_page("pages/case_detail.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_branch_manager_opens_a_case_of_the_branch_and_sees_its_timeline(db_url, session, org, actor_for):
    case = _tiered_case(session, org, actor_for)
    at = _open_detail(db_url, "gd_manager", case.id)
    assert any(case.case_no in s.value for s in at.subheader)
    assert not at.error
    timeline = next(d.value for d in at.dataframe if "事项" in d.value.columns)
    what = " ".join(timeline["事项"])
    assert "录入整案估损 ¥200,000.00" in what and "调度第一责任人" in what
    assert "报案受理" in what


def test_a_case_opened_from_a_list_puts_its_number_in_the_address_and_a_search_moves_it(db_url, session, org,
                                                                                        actor_for):
    """A case opened by clicking a list row (session state only) must still be bookmarkable and
    shareable: the address says ?case_no= of the case shown, and follows a search to another case."""
    case = _tiered_case(session, org, actor_for)
    other = _tiered_case(session, org, actor_for, "sz", "150000")
    at = _open_detail(db_url, "gd_manager", case.id)
    assert at.query_params["case_no"] == case.case_no
    at.text_input(key="detail_case_no").input(other.case_no)
    next(b for b in at.button if b.label == "查询").click()
    at.run()
    assert any(other.case_no in s.value for s in at.subheader)
    assert at.query_params["case_no"] == other.case_no
    at.run()  # the address now names the case shown: a rerun does not reopen anything else
    assert any(other.case_no in s.value for s in at.subheader)


def test_another_branchs_manager_is_told_not_found_and_sees_nothing_of_the_case(db_url, session, org, actor_for):
    case = _tiered_case(session, org, actor_for)
    at = _open_detail(db_url, "zj_manager", case.id)
    assert any("未找到该记录或无权查看" in e.value for e in at.error)
    assert not any(case.case_no in s.value for s in at.subheader)
    assert len(at.dataframe) == 0


def test_case_number_search_and_query_parameter_open_the_case(db_url, session, org, actor_for):
    case = _tiered_case(session, org, actor_for)
    at = signed_in_app(db_url, "executive", "case_detail")
    assert any("输入报案号" in i.value for i in at.info)
    at.text_input(key="detail_case_no").input(case.case_no)
    next(b for b in at.button if b.label == "查询").click()
    at.run()
    assert any(case.case_no in s.value for s in at.subheader)

    fresh = signed_in_app(db_url, "executive")
    fresh.query_params["case_no"] = case.case_no
    fresh.switch_page("pages/case_detail.py")
    fresh.run()
    assert any(case.case_no in s.value for s in fresh.subheader)


def test_branch_manager_advances_the_case_from_the_page(db_url, session, org, actor_for):
    case = _tiered_case(session, org, actor_for)
    at = _open_detail(db_url, "gd_manager", case.id)
    state_picker(at).select("investigating")
    next(b for b in at.button if b.label == "确认变更").click()
    at.run()
    assert any("调查中" in s.value for s in at.success)
    session.expire_all()
    session.refresh(case)
    assert case.state == "investigating"


def test_marking_a_case_paid_records_the_amount_and_names_the_field_when_missing(db_url, session, org, actor_for):
    case = _tiered_case(session, org, actor_for)
    at = _open_detail(db_url, "gd_manager", case.id)
    state_picker(at).select("paid")
    next(b for b in at.button if b.label == "确认变更").click()
    at.run()
    assert any("赔款金额" in e.value and "必填" in e.value for e in at.error), [e.value for e in at.error]
    session.expire_all()
    session.refresh(case)
    assert case.state != "paid"
    state_picker(at).select("paid")
    next(b for b in at.text_input if b.label.startswith("赔款金额")).input("186,000")
    next(b for b in at.button if b.label == "确认变更").click()
    at.run()
    assert any("赔款支付" in s.value for s in at.success), [e.value for e in at.error]
    session.expire_all()
    session.refresh(case)
    assert (case.state, case.paid_amount) == ("paid", 186000)


def test_executive_sees_the_overview_and_can_drill_into_a_branch(db_url, session, org, actor_for):
    _tiered_case(session, org, actor_for, "gz", "200000")
    _tiered_case(session, org, actor_for, "hz", "80000")
    at = signed_in_app(db_url, "executive", "overview")
    assert not at.exception and not at.error
    period = at.date_input(key="ov_period")
    period.set_value((T0.date() - timedelta(days=1), T0.date() + timedelta(days=1)))
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["分级案件报案数"] == "2" and metrics["未决分级案件"] == "2"
    at.selectbox(key="ov_branch").select(org.branch("gd").id)
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["分级案件报案数"] == "1" and metrics["未决估损金额"] == "20.0万元"
    cases = next(d.value for d in at.dataframe if "报案号" in d.value.columns)
    assert len(cases) == 1


def test_branch_people_do_not_get_the_overview(db_url, org):
    at = signed_in_app(db_url, "gd_manager")
    assert "overview" not in at.session_state["nav_pages"]
    assert "case_detail" in at.session_state["nav_pages"]


def test_overview_exports_figures_and_lists_as_one_workbook_of_several_sheets(db_url, session, org, actor_for):
    import io

    from openpyxl import load_workbook

    _tiered_case(session, org, actor_for, "gz", "200000")
    at = signed_in_app(db_url, "executive", "overview")
    at.date_input(key="ov_period").set_value((T0.date() - timedelta(days=1), T0.date() + timedelta(days=1)))
    at.run()
    at.button(key="ov_export_prepare").click()
    at.run()
    assert not at.exception
    workbook = load_workbook(io.BytesIO(at.session_state["ov_workbook"][1]))
    assert workbook.sheetnames == ["说明", "指标", "违规按类型", "未决按机构", "违规趋势", "时效排名", "账龄", "案件清单"]
    about = dict(workbook["说明"].iter_rows(min_row=2, values_only=True))  # a forwarded file says its scope
    assert about["分公司"] == "全国" and about["案件清单"] == "未决" and about["导出人"]
    assert about["报案日期"] == f"{T0.date() - timedelta(days=1)} – {T0.date() + timedelta(days=1)}"
    assert isinstance(about["导出时间"], datetime)
    figures = {row[0]: row[1] for row in workbook["指标"].iter_rows(min_row=2, values_only=True)}
    assert figures["分级案件报案数"] == 1 and figures["未决估损金额"] == 200000  # a number, in yuan (issue 26)
    assert workbook["案件清单"].max_row == 2  # header + the one case
    assert_finance_ready(workbook)
    cases = workbook["案件清单"]
    heads = [c.value for c in cases[1]]
    amount, reported = cases.cell(2, heads.index("估损金额（元）") + 1), cases.cell(2, heads.index("报案时间") + 1)
    assert amount.value == 200000 and "¥" in amount.number_format
    assert isinstance(reported.value, datetime) and reported.is_date
    assert cases.cell(2, heads.index("分级") + 1).value.startswith("二级")  # a label, not T2


def assert_finance_ready(workbook) -> None:
    """Every sheet: headers in Chinese (no raw `unit, tier, cases, amount`), no raw codes (T4, D1)
    in text cells, amounts and counts as numbers."""
    import re

    for sheet in workbook.worksheets:
        heads = [c.value for c in sheet[1]]
        assert heads and all(re.search(r"[\u4e00-\u9fff]", str(h)) for h in heads), (sheet.title, heads)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    assert not re.fullmatch(r"[TD]\d", cell.value), (sheet.title, cell.coordinate, cell.value)
                    assert not cell.value.startswith("="), (sheet.title, cell.coordinate)
                head = heads[cell.column - 1]
                if cell.value is not None and any(w in head for w in ("金额", "案件数", "违规数", "件数")):
                    assert isinstance(cell.value, (int, float)), (sheet.title, head, cell.value)


def test_overview_figures_are_kept_a_minute_say_when_and_refresh_on_request(db_url, session, org, actor_for):
    """Clicks rerun the page: the aggregates are served from the per-person cache (a case added
    meanwhile is not counted yet) until the person presses 刷新, which reads them again."""
    _tiered_case(session, org, actor_for, "gz", "200000")
    at = signed_in_app(db_url, "executive", "overview")
    at.date_input(key="ov_period").set_value((T0.date() - timedelta(days=1), T0.date() + timedelta(days=1)))
    at.run()
    assert {m.label: m.value for m in at.metric}["分级案件报案数"] == "1"
    assert any("统计数据读取于" in c.value for c in at.caption)

    _tiered_case(session, org, actor_for, "hz", "80000")
    at.run()
    assert {m.label: m.value for m in at.metric}["分级案件报案数"] == "1"  # same minute: the cached read
    at.button(key="ov_refresh").click()
    at.run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["分级案件报案数"] == "2"


def test_cached_figures_are_never_shared_between_people(db_url, session, org, actor_for):
    """Same page, same filters: a branch-scoped person's landing figures are their own, not the
    figures an HQ person read a moment before."""
    _tiered_case(session, org, actor_for, "gz", "200000")
    _tiered_case(session, org, actor_for, "hz", "80000")
    national = {m.label: m.value for m in signed_in_app(db_url, "executive", "home").metric}
    branch = {m.label: m.value for m in signed_in_app(db_url, "gd_manager", "home").metric}
    label = next(k for k in national if "未决分级" in k)
    assert (national[label], branch[label]) == ("2", "1")


def test_the_clocks_table_colours_lateness_and_due_soon_not_every_open_clock(db_url, session, org, actor_for):
    """A new tiered case: D2 falls due within the 24 h window (its time left amber), D3 in 72 h
    (neutral); both are 进行中, which stays neutral (a label's colour is its text's)."""
    from dashboard.ui.tones import AMBER, FILLS
    from tests.app.helpers import cell_fills, shown_frame

    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, "200000")  # now: D2 in 24 h, D3 in 72 h
    at = _open_detail(db_url, "gd_manager", case.id)
    table = next(d for d in at.dataframe if "剩余/超时" in d.value.columns)
    frame = shown_frame(table)
    fills = dict(zip(frame["时效"], zip(frame["状态"], cell_fills(table, "状态"), cell_fills(table, "剩余/超时"))))
    d2 = next(v for k, v in fills.items() if k.startswith("D2"))
    d3 = next(v for k, v in fills.items() if k.startswith("D3"))
    assert d2 == ("进行中", FILLS[None], FILLS[AMBER])
    assert d3 == ("进行中", FILLS[None], FILLS[None])


def test_the_clocks_table_puts_status_time_left_and_due_first_for_a_phone(db_url, session, org, actor_for):
    """A phone shows the first columns of a table: the clock, its status, the time left and the due
    time come before who is responsible and when it started."""
    case = _tiered_case(session, org, actor_for)
    at = _open_detail(db_url, "gd_manager", case.id)
    table = next(d.value for d in at.dataframe if "剩余/超时" in d.value.columns)
    assert list(table.columns[:4]) == ["时效", "状态", "剩余/超时", "到期时间"]


def _overview_with_cases(db_url, session, org, actor_for):
    """Tiered cases of two branches, one HQ opinion and the violation job run: the overview has
    figures, violation rows and bars to open."""
    from dashboard.services.review.opinions import post_review_opinion
    from dashboard.services.review.queue import queue_tiered_cases
    from dashboard.services.clocks.violations import record_violations

    cases = [_tiered_case(session, org, actor_for, sub, amount)
             for sub, amount in (("gz", "200000"), ("gz", "80000"), ("sz", "600000"), ("hz", "90000"))]
    queue_tiered_cases(session, T0 + timedelta(hours=2))
    post_review_opinion(session, actor_for("reviewer"), cases[0].id, ["核实驾驶员身份", "调取监控"],
                        now=T0 + timedelta(hours=3))
    record_violations(session, T0 + timedelta(days=5))
    session.commit()
    at = signed_in_app(db_url, "executive", "overview")
    at.date_input(key="ov_period").set_value((T0.date() - timedelta(days=1), T0.date() + timedelta(days=1)))
    at.run()
    return at


def _listed_rows(at) -> int:
    """The rows of the list; an empty list is a note in Chinese, not a grid reading "empty"."""
    frame = next((d.value for d in at.dataframe if "报案号" in d.value.columns), None)
    if frame is None:
        assert any(c.value == "没有符合条件的记录。" for c in at.caption)
        return 0
    return len(frame)


def test_every_figure_violation_row_and_bar_opens_a_list_of_as_many_rows(db_url, session, org, actor_for):
    import re

    at = _overview_with_cases(db_url, session, org, actor_for)
    keys = [b.key for b in at.button if b.key and b.key.startswith("ov_open_")]
    # Four tiles, five rates and counts, and one row per violation type.
    assert {"ov_open_reported_", "ov_open_pending_", "ov_open_closed_", "ov_open_pending_amount_",
            "ov_open_dispatch_", "ov_open_d2_", "ov_open_d3_", "ov_open_open_points_",
            "ov_open_avg_answer_"} <= set(keys), keys
    assert any(k.startswith("ov_open_violations_D") for k in keys), keys
    for key in keys:
        button = at.button(key=key)
        n = int(re.search(r"（([\d,]+)）", button.label).group(1).replace(",", ""))
        button.click().run()
        assert not at.exception, (key, at.exception)
        assert _listed_rows(at) == n, (key, button.label)
        if not key.startswith(("ov_open_reported", "ov_open_pending", "ov_open_closed")):
            assert any(m.value.startswith("**当前清单：") for m in at.markdown), key
    # The menus under the ageing and ranking charts do what a click on a bar does.
    # (AppTest chooses a formatted option by its value: the bucket codes and unit ids, in the menus' order)
    from dashboard.services.figures.overview import PENDING_AGE_BUCKETS, OverviewFilter, overview_figures

    flt = OverviewFilter(report_from=T0.date() - timedelta(days=1), report_to=T0.date() + timedelta(days=1))
    ranking = overview_figures(session, actor_for("executive"), flt).on_time_by_unit
    values = {"ov_pick_ageing": [code for code, _ in PENDING_AGE_BUCKETS],
              "ov_pick_unit": [r["unit_id"] for r in ranking if r["rate"] is not None]}
    for menu in ("ov_pick_ageing", "ov_pick_unit"):
        options = _menu(at, menu).options
        assert options and len(options) == len(values[menu]), (menu, options)
        for value, option in zip(values[menu], options):
            n = int(re.search(r"（([\d,]+)）", option).group(1).replace(",", ""))
            _menu(at, menu).set_value(value).run()
            assert not at.exception
            assert _listed_rows(at) == n, (menu, option)
            assert _menu(at, menu).value is None  # the menu empties for the next pick
    at.button(key="ov_list_back").click().run()
    assert not any(b.key == "ov_list_back" for b in at.button)


def _menu(at, menu: str):
    """The menu under a chart as drawn now (it is drawn anew, under the next key, after each pick)."""
    return next(s for s in at.selectbox if s.key and s.key.startswith(f"{menu}_"))


def _with_stale_state(at, stale) -> None:
    """The next run also carries `stale`: a widget's value as a browser that has not yet drawn the
    last run sends it back with the next click."""
    tree = at._tree
    fresh = tree.get_widget_states

    def states():
        sent = fresh()
        sent.widgets.append(stale)
        return sent
    tree.get_widget_states = states


def _list_title(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**当前清单：")]


def test_a_pick_made_before_the_emptied_menu_is_drawn_is_not_undone_by_the_last_one(db_url, session, org,
                                                                                   actor_for):
    """Picked from the ageing menu, then from the unit menu before the browser had drawn the emptied
    ageing menu: the browser sent the ageing choice again with the unit's, the emptied menu took it
    for a new pick, and the ageing list was reopened over the unit's (seen in a loaded browser run)."""
    from dashboard.services.figures.overview import OverviewFilter, overview_figures

    at = _overview_with_cases(db_url, session, org, actor_for)
    ageing = _menu(at, "ov_pick_ageing")
    ageing.set_value("d0_7")
    stale = ageing._widget_state  # the ageing menu as the browser still holds it
    at.run()
    assert _list_title(at)[0].startswith("**当前清单：未决案件账龄：7天以内"), _list_title(at)
    flt = OverviewFilter(report_from=T0.date() - timedelta(days=1), report_to=T0.date() + timedelta(days=1))
    unit_id, name = next((r["unit_id"], r["unit"]) for r in overview_figures(session, actor_for("executive"), flt)
                         .on_time_by_unit if r["rate"] is not None)
    _with_stale_state(at, stale)
    _menu(at, "ov_pick_unit").set_value(unit_id).run()
    assert not at.exception
    assert _list_title(at)[0].startswith(f"**当前清单：时效达成率：{name}"), _list_title(at)
    assert _menu(at, "ov_pick_ageing").value is None and _menu(at, "ov_pick_unit").value is None
    # Another choice the browser sends in the old menu than the one it opened is a person's new pick.
    ageing.set_value("d8_30")
    _with_stale_state(at, ageing._widget_state)
    at.run()
    assert not at.exception
    assert _list_title(at)[0].startswith("**当前清单：未决案件账龄：8–30天"), _list_title(at)


def test_clicking_the_chosen_status_again_keeps_it_and_the_export_says_the_same(db_url, session, org, actor_for):
    """Clicking 「全部」 when it is chosen deselected it: the list fell back to 未决 while the
    control showed nothing, and the export held fewer cases than 全部 said."""
    at = _overview_with_cases(db_url, session, org, actor_for)
    at.button(key="ov_open_reported_").click().run()
    assert at.session_state["ov_status"] == "all"
    everything = _listed_rows(at)
    at.session_state["ov_status"] = None  # what a click on the chosen segment sends
    at.run()
    assert not at.exception
    assert at.session_state["ov_status"] == "all" and _listed_rows(at) == everything
    at.button(key="ov_export_prepare").click().run()
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(at.session_state["ov_workbook"][1]))
    assert book["案件清单"].max_row == everything + 1
    assert_finance_ready(book)


def test_english_headline_amounts_read_as_english_readers_count(db_url, session, org, actor_for):
    from dashboard.i18n import set_language
    from dashboard.ui.format import wan

    at = _overview_with_cases(db_url, session, org, actor_for)
    assert {m.label: m.value for m in at.metric}["未决估损金额"] == "97.0万元"
    try:
        set_language("en")
        assert (wan(352_300_000), wan(970_000), wan(999_960), wan(12_000), wan(800)) == \
            ("¥352.3M", "¥970.0K", "¥1.0M", "¥12.0K", "¥800")
    finally:
        set_language("zh")
