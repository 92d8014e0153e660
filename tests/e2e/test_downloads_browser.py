"""Downloads are made at the click, served once to that session and audited; markup from data is never
rendered in the browser. Plus the one-shot storage and the refused download without a browser."""

import json
import shutil

import polars as pl
import pytest
import sqlalchemy as sa

from cxdash.auth import store
from cxdash.db.engine import make_engine
from cxdash.ui import widgets
from cxdash.ui.widgets import MediaFileKind, MediaFileStorageError
from tests.e2e.conftest import login, settle, start_server

EVIL = "evil.test"
TEAM_PAYLOAD = f"![x](http://{EVIL}/team.png) [l](javascript:alert(1)) :red[T] <img src=http://{EVIL}/i.png>"
ANNOTATION_PAYLOADS = [
    f"![x](http://{EVIL}/a.png)",
    f'<a href="http://{EVIL}">x</a>',
    f"<img src=http://{EVIL}/h.png onerror=alert(1)>",
    "**b** $$x$$",
]


def _copy(small_db: str, folder, name: str) -> str:
    target = folder / name
    shutil.copy(small_db.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def test_a_download_is_served_once_to_its_session_and_audited(small_db, tmp_path, browser, page):
    url = _copy(small_db, tmp_path, "downloads.db")
    server = start_server(url)
    base = next(server)
    try:
        media: list[str] = []
        page.on("request", lambda request: media.append(request.url) if "/media/" in request.url else None)
        login(page, base)
        page.get_by_text("查看数据表").first.click()
        settle(page)
        button = page.locator("[data-testid=stExpander]").first.get_by_role(
            "button", name="下载 CSV"
        )  # the trend's
        with page.expect_download(timeout=60_000) as download_info:
            button.click()
        saved = tmp_path / "first.csv"
        download_info.value.save_as(saved)
        assert saved.read_bytes().decode("utf-8-sig").startswith("周期,")
        settle(page)
        assert media, "no /media request seen"
        file_url = media[-1]
        stranger = browser.new_context()  # no cookies, no session
        assert stranger.request.get(file_url).status == 404
        stranger.close()
        assert page.request.get(file_url).status == 404  # the same session: not a second time
        with make_engine(url).connect() as conn:
            exports = store.read_audit(conn, action="export", username="manager")
        assert len(exports) == 1
        assert json.loads(exports[0]["detail"])["view"] == "overview.trend.csat_pct"
        page.goto("about:blank")
    finally:
        next(server, None)


def test_no_markup_from_data_is_rendered(small_db, tmp_path, page):
    url = _copy(small_db, tmp_path, "markup.db")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE teams SET name = :n WHERE team_id = 'T01'"), {"n": TEAM_PAYLOAD})
        ids = [row[0] for row in conn.execute(sa.text("SELECT annotation_id FROM annotations ORDER BY 1"))]
        for i, annotation_id in enumerate(ids):
            conn.execute(
                sa.text("UPDATE annotations SET label = :l WHERE annotation_id = :i"),
                {"l": ANNOTATION_PAYLOADS[i % len(ANNOTATION_PAYLOADS)], "i": annotation_id},
            )
    engine.dispose()
    server = start_server(url)
    base = next(server)
    try:
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        login(page, base)
        page.goto(f"{base}/?team=T01")
        settle(page)
        page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=60_000)
        for point in page.locator("[data-testid=stPlotlyChart] .scatterlayer .point").all()[:40]:
            point.hover(force=True)  # hovers draw their text
        captions = page.locator("[data-testid=stCaptionContainer]").all_inner_texts()
        assert any(TEAM_PAYLOAD in text.replace("\u2060", "") for text in captions), captions  # as text
        assert not [u for u in requested if EVIL in u]
        assert page.locator(f"img[src*='{EVIL}'], image[href*='{EVIL}']").count() == 0
        links = page.locator(f"a[href*='{EVIL}'], a[href^='javascript']")
        assert links.count() == 0, [
            link.evaluate("e => e.parentElement.parentElement.outerHTML.slice(0, 300)")
            for link in links.all()
        ]
        page.goto("about:blank")
    finally:
        next(server, None)


def test_the_one_shot_storage_serves_a_made_file_twice_then_never(monkeypatch):
    storage = widgets.MemoryMediaFileStorage("/media")
    storage._tickets, storage._ticket_lock = {}, __import__("threading").Lock()
    storage.__class__ = widgets.OneShotDownloads
    monkeypatch.setattr(widgets, "_session_is_live", lambda session_id: session_id == "s1")
    widgets._made_here.session_id = "s1"
    file_id = storage.load_and_get_id(b"a,b\n", "text/csv", MediaFileKind.DOWNLOADABLE, "x.csv")
    assert storage.load_and_get_id(b"a,b\n", "text/csv", MediaFileKind.DOWNLOADABLE, "x.csv") != file_id
    name = storage.get_url(file_id).removeprefix("/media/")
    assert storage.get_file(name).content == b"a,b\n"  # the frontend's check
    assert storage.get_file(name).content == b"a,b\n"  # the download
    with pytest.raises(MediaFileStorageError):
        storage.get_file(name)
    widgets._made_here.session_id = "gone"
    other = storage.load_and_get_id(b"c\n", "text/csv", MediaFileKind.DOWNLOADABLE, "y.csv")
    with pytest.raises(MediaFileStorageError):  # its session is no longer connected
        storage.get_file(storage.get_url(other).removeprefix("/media/"))
    monkeypatch.setattr(widgets, "DOWNLOAD_TTL_S", -1)
    widgets._made_here.session_id = "s1"
    late = storage.load_and_get_id(b"d\n", "text/csv", MediaFileKind.DOWNLOADABLE, "z.csv")
    with pytest.raises(MediaFileStorageError):  # past its deadline
        storage.get_file(f"{late}.csv")


def test_a_download_whose_audit_record_fails_makes_no_file_and_tells_the_session(tmp_path):
    broken = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no app_audit table
    told = []
    record = widgets.ExportRecord(url="", username="manager", client="c", view="v", filters={})
    job = widgets.DeferredCsv(broken, record, "x.csv", pl.DataFrame({"a": [1]}), "s1", lambda: told.append(1))
    with pytest.raises(Exception):  # noqa: B017 - Streamlit turns any error into "no file"
        job()
    assert told == [1]
    assert getattr(widgets._made_here, "session_id", None) is None
