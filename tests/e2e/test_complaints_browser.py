"""The Complaints page in a real browser: the Pareto drawn, a bar click drills down and the tickets on
the path download, the workflow funnel drawn, a team lead sees only their teams' complaints."""

import json

from cxdash.auth import store
from cxdash.db.engine import make_engine
from tests.e2e.conftest import login, settle, shoot


def open_complaints(page, server, username="manager"):
    login(page, server, username)
    page.get_by_role("link", name="投诉与根因").click()
    settle(page)
    page.wait_for_selector("[data-testid=stMetric]", timeout=60_000)
    settle(page)


def click_first_bar(page):
    bar = page.locator("[data-testid=stPlotlyChart]").first.locator("g.point path").first.bounding_box()
    page.mouse.click(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)  # Plotly's drag layer on top
    settle(page)


def test_the_pareto_drills_down_to_tickets_that_download(server, page, tmp_path, e2e_db):
    open_complaints(page, server)
    page.get_by_role("tab", name="根因分析").click()
    settle(page)
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=30_000)
    assert page.get_by_text("全部投诉").first.is_visible()
    shoot(page, "complaints_pareto_zh")
    click_first_bar(page)
    page.get_by_role("button", name="返回上一层").wait_for(state="visible", timeout=30_000)
    caption = page.get_by_text("条投诉中最新的")
    assert caption.is_visible()
    button = page.locator("[data-testid=stDownloadButton]:visible").filter(has_text="CSV").last
    with page.expect_download(timeout=60_000) as download_info:
        button.click()
    target = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines()[0].startswith("工单,登记时间,")
    settle(page)
    with make_engine(e2e_db).connect() as conn:
        record = store.read_audit(conn, action="export", username="manager")[0]
    assert json.loads(record["detail"])["view"] == "complaints.tickets"
    page.get_by_role("button", name="返回上一层").click()
    settle(page)
    assert page.get_by_role("button", name="返回上一层").count() == 0


def test_the_workflow_funnel_is_drawn(server, page):
    open_complaints(page, server)
    page.get_by_role("tab", name="处理流程").click()
    settle(page)
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=30_000)
    funnel = page.locator("[data-testid=stPlotlyChart]").filter(has_text="投诉处理走到了哪一步")
    assert funnel.locator(".main-svg").count() >= 1
    assert page.get_by_text("当前在环节中停留最久的投诉").is_visible()
    shoot(page, "complaints_workflow_zh")


def test_a_team_lead_sees_only_their_teams(server, page, tmp_path):
    open_complaints(page, server, "lead_t01")
    page.get_by_role("tab", name="根因分析").click()
    settle(page)
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=30_000)
    # the grid draws on a canvas: read the downloaded table of the complaints on the path
    button = page.locator("[data-testid=stDownloadButton]:visible").filter(has_text="CSV").last
    with page.expect_download(timeout=60_000) as download_info:
        button.click()
    target = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(target)
    lines = target.read_bytes().decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    teams = {line.split(",")[header.index("团队")] for line in lines[1:]}
    assert teams == {"T01"}
    settle(page)
