"""Capacity of one app process: slider reruns per second at saturation, and the p95 rerun time of 30
users moving a slider every ~3 s — cxdash's tiers page against the pandas peer app, in the same run.

A real browser records the messages a slider move sends (Streamlit's BackMsg: the widget states and, for
cxdash, the fragment to rerun); then light websocket clients replay them, each as its own Streamlit
session, and time each move from sending to the server's `script_finished`. No browser is in the loop
while timing, so the figures are the server's (PERFORMANCE.md: "server-side rerun times from a websocket
client"). `python -m benchmarks.capacity --db sqlite:///data/bench-large.db`.
"""

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from playwright.sync_api import Page, sync_playwright
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

from benchmarks.page_redraw import DRAWN, IDLE, PAGES, _new_page, _serve, _sign_in, _timed


@dataclass(frozen=True)
class Recording:
    """What a browser sent: the page's full run, then a slider move right and one back left."""

    base: str
    cookie: str
    page_run: bytes
    moves: tuple[bytes, bytes]


def _reruns(sent: list[bytes]) -> list[bytes]:
    """The rerun requests among the frames sent, without the browser's cache list (a new client has none)."""
    reruns = []
    for payload in sent:
        message = BackMsg.FromString(payload)
        if message.WhichOneof("type") == "rerun_script":
            del message.rerun_script.cached_message_hashes[:]
            reruns.append(message.SerializeToString())
    return reruns


def _listen(page: Page) -> list[bytes]:
    """Every frame the page will send on its websockets (listen before the page opens one)."""
    sent: list[bytes] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framesent", lambda p: sent.append(p if isinstance(p, bytes) else p.encode())),
    )
    return sent


def _record(page: Page, sent: list[bytes], base: str, open_page: Callable[[], None]) -> Recording:
    open_page()
    page_run = _reruns(sent)[-1]
    thumb = page.get_by_role("slider").first
    thumb.focus()
    moves = []
    for key in ("ArrowRight", "ArrowLeft"):
        mark = len(sent)
        _timed(page, lambda key=key: page.keyboard.press(key))
        moves.append(_reruns(sent[mark:])[-1])
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    return Recording(base, cookie, page_run, (moves[0], moves[1]))


async def _session(recording: Recording) -> object:
    """A websocket session that has run the page once (so the slider's fragment exists)."""
    uri = recording.base.replace("http", "ws", 1) + "_stcore/stream"
    socket = await connect(
        uri,
        subprotocols=["streamlit"],
        additional_headers={"Cookie": recording.cookie, "Origin": recording.base.rstrip("/")},
        max_size=None,
    )
    await _rerun(socket, recording.page_run)
    return socket


async def _rerun(socket: object, message: bytes) -> float:
    """Send one rerun request; seconds until the server says the script (or fragment) finished."""
    started = time.perf_counter()
    await socket.send(message)
    while True:
        reply = ForwardMsg.FromString(await socket.recv())
        if reply.WhichOneof("type") == "script_finished":
            return time.perf_counter() - started


async def _saturate(recording: Recording, clients: int, seconds: float) -> float:
    """Reruns per second with `clients` sessions moving the slider back and forth without pause."""
    sockets = [await _session(recording) for _ in range(clients)]
    deadline = time.perf_counter() + seconds
    done = 0

    async def user(socket: object) -> None:
        nonlocal done
        move = 0
        while time.perf_counter() < deadline:
            await _rerun(socket, recording.moves[move % 2])
            move += 1
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(user(s) for s in sockets))
    elapsed = time.perf_counter() - started
    for socket in sockets:
        await socket.close()
    return done / elapsed


async def _users(recording: Recording, users: int, think_s: float, seconds: float) -> list[float]:
    """Rerun times of `users` sessions each moving the slider after a think time of about `think_s`."""
    sockets = [await _session(recording) for _ in range(users)]
    deadline = time.perf_counter() + seconds
    times: list[float] = []

    async def user(socket: object, seed: int) -> None:
        rng = random.Random(seed)
        await asyncio.sleep(rng.uniform(0, think_s))  # users do not move in lock step
        move = 0
        while time.perf_counter() < deadline:
            times.append(await _rerun(socket, recording.moves[move % 2]))
            move += 1
            await asyncio.sleep(rng.uniform(0.5 * think_s, 1.5 * think_s))

    await asyncio.gather(*(user(s, i) for i, s in enumerate(sockets)))
    for socket in sockets:
        await socket.close()
    return times


async def _hold_sessions(recording: Recording, sessions: int, measure: Callable[[], object]) -> object:
    """Open `sessions` sessions that have each run the recorded page, measure, then close them."""
    sockets = [await _session(recording) for _ in range(sessions)]
    try:
        return measure()
    finally:
        for socket in sockets:
            await socket.close()


def with_sessions(
    base: str, cookie: str, page_run: bytes, sessions: int, measure: Callable[[], object]
) -> object:
    """`measure()` while `sessions` more sessions of the same user have run the page `page_run` asked for."""
    recording = Recording(base, cookie, page_run, (page_run, page_run))
    return _in_own_loop(_hold_sessions(recording, sessions, measure))


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def _in_own_loop(work: Coroutine) -> object:
    """Run a coroutine on a thread of its own: Playwright's sync API holds this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def _load(recording: Recording, *, clients: int, users: int, think_s: float, seconds: float) -> dict:
    per_second = _in_own_loop(_saturate(recording, clients, seconds))
    times = _in_own_loop(_users(recording, users, think_s, seconds))
    return {
        "reruns_per_s": per_second,
        "users": users,
        "moves": len(times),
        "p50_s": statistics.median(times),
        "p95_s": _p95(times),
    }


def _recorded(browser: object, base: str, app: str) -> Recording:
    """Open the tiers page in a browser (cxdash: as the demo manager) and record a slider move each way."""
    page = _new_page(browser)
    sent = _listen(page)
    if app == "cxdash":
        _sign_in(page, base)
        link = PAGES["loyalty"][0]
        recording = _record(
            page, sent, base, lambda: _timed(page, lambda: page.get_by_role("link", name=link).click())
        )
    else:

        def open_peer() -> None:
            page.goto(base)
            page.wait_for_selector(IDLE, timeout=600_000)
            page.wait_for_function(DRAWN, timeout=600_000)

        recording = _record(page, sent, base, open_peer)
    page.context.close()
    return recording


APPS = {"cxdash": "app.py", "pandas": "benchmarks/pandas_tiers_app.py"}


def measure_capacity(
    url: str,
    *,
    port: int,
    chromium: str,
    clients: int = 10,
    users: int = 30,
    think_s: float = 3.0,
    seconds: float = 30.0,
    say: Callable[[str], None] = print,
) -> dict:
    """cxdash's tiers page and the pandas peer app, one process each, under the same replayed load."""
    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for offset, (app, script) in enumerate(APPS.items()):
            server = _serve(url, port + offset, script)
            try:
                recording = _recorded(browser, f"http://127.0.0.1:{port + offset}/", app)
                say(f"{app}: {clients} sessions at full speed, then {users} users every ~{think_s:g} s")
                results[app] = _load(
                    recording, clients=clients, users=users, think_s=think_s, seconds=seconds
                )
            finally:
                server.terminate()
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, default=8621)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    for name, figures in measure_capacity(
        args.db, port=args.port, chromium=args.chromium, seconds=args.seconds
    ).items():
        print(name, {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()})


if __name__ == "__main__":
    main()
