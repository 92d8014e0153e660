"""The Data page in a real browser: an analyst uploads a ticket export, maps a column the suggestions
missed, sees the per-row errors of a bad file and the preview of a good one, imports it, and cannot
import the same file twice; zh/en screenshots."""

import sqlite3

from tests.e2e.conftest import login, settle, shoot

HEADER = "工单号,客户邮箱,渠道,录入日期,解决时间,优先级,满意度,主题\n"
GOOD = (
    "W0001,zhang@example.com,电话,2026-11-10 09:00,2026-11-10 11:00,高,5,发票抬头错误\n"
    'W0002,li@example.com,在线客服,2026/11/11 10:30,,普通,,=HYPERLINK("http://x")\n'
)
BAD_LAST = "W0003,wang@example.com,电话,2026-02-30 08:00,,低,无,日期不存在\n"
MAPPING = "kind: flat_tickets\ndefaults:\n  team_id: T01\n"


def open_import(page, server, tmp_path, csv_text: str, name: str):
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / name).write_bytes(csv_text.encode("gb18030"))  # as Excel on Chinese Windows saves it
    page.goto(f"{server}/data")
    settle(page)
    uploads = page.locator("[data-testid=stFileUploaderDropzoneInput]")
    uploads.nth(0).set_input_files(str(tmp_path / "mapping.yaml"))
    settle(page)
    uploads.nth(1).set_input_files(str(tmp_path / name))
    settle(page)


def map_created_at(page):
    """Choose the file column 录入日期 for created_at in the columns editor (a canvas grid)."""
    grid = page.locator("[data-testid=stDataFrame]").first
    box = grid.bounding_box()
    row_height, top = 35, box["y"] + 35  # header row, then one row per field
    column_x = box["x"] + box["width"] * 0.76  # the "File column" column (fifth of six)
    created_row = 4  # ticket_id, customer_id, order_id, channel, created_at
    page.mouse.click(column_x, top + row_height * created_row + row_height / 2)
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")  # opens the cell's select
    page.wait_for_timeout(500)
    page.keyboard.type("录入日期")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    page.mouse.click(box["x"] + 5, box["y"] - 20)  # leave the grid: the edit is sent
    settle(page)


def test_upload_map_errors_preview_import_and_not_twice(server, e2e_db, page, tmp_path):
    login(page, server, "analyst")
    open_import(page, server, tmp_path, HEADER + GOOD + BAD_LAST, "bad.csv")
    map_created_at(page)  # no header suggests it: chosen in the columns editor
    page.get_by_role("button", name="检查文件").click()
    settle(page)
    alert = page.locator("[data-testid=stAlert]").filter(has_text="个问题")
    assert "1 行中有 2 个问题" in alert.inner_text()  # only the bad last row: its date and its rating
    assert page.get_by_role("button", name="导入", exact=False).filter(has_text="行").count() == 0
    shoot(page, "data_import_errors_zh")
    button = (
        page.locator("[data-testid=stDownloadButton]:visible").filter(has_text="CSV").last
    )  # the per-row errors
    with page.expect_download(timeout=60_000) as download_info:
        button.click()
    target = tmp_path / "errors.csv"
    download_info.value.save_as(target)
    lines = target.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[1:] == [
        "4,录入日期,2026-02-30 08:00,不是日期时间,{}".format(lines[1].split(",", 4)[4]),
        "4,满意度,无,不是整数,a whole number",
    ]
    settle(page)
    with sqlite3.connect(e2e_db.removeprefix("sqlite:///")) as conn:  # nothing of the file was written
        assert conn.execute("SELECT count(*) FROM tickets WHERE ticket_id LIKE 'W000%'").fetchone() == (0,)

    open_import(page, server, tmp_path, HEADER + GOOD, "good.csv")
    map_created_at(page)
    page.get_by_role("button", name="检查文件").click()
    settle(page)
    assert page.get_by_text("本次导入将写入").is_visible()
    shoot(page, "data_import_preview_zh")
    page.get_by_role("button", name="导入 ", exact=False).filter(has_text="行").click()
    settle(page)
    assert page.locator("[data-testid=stAlert]").filter(has_text="已作为批次").count() == 1
    with sqlite3.connect(e2e_db.removeprefix("sqlite:///")) as conn:
        rows = dict(
            conn.execute("SELECT ticket_id, subject FROM tickets WHERE ticket_id LIKE 'W000%'").fetchall()
        )
    assert rows == {"W0001": "发票抬头错误", "W0002": '=HYPERLINK("http://x")'}  # stored verbatim

    open_import(page, server, tmp_path, HEADER + GOOD, "good.csv")
    map_created_at(page)
    page.get_by_role("button", name="检查文件").click()
    settle(page)
    assert page.locator("[data-testid=stAlert]").filter(has_text="已于").count() == 1  # already imported
