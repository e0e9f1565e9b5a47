"""The zoom explorer: its grids are `sweep`'s byte for byte, a left view stops computing, the
cache, the one-sentence errors, the zoom target's config lines, and the page in a real browser
(Debian's chromium driven by Playwright, as tests/test_report.py does)."""

import json
import math
import os
import socket
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import yaml
from conftest import CHROMIUM, CHROMIUM_ARGS, REPO, playwright_or_skip

from trainability.cli import main
from trainability.core.condition import Condition
from trainability.core.grid import Grid, load_grid, merge_tiles, save_grid
from trainability.core.precision import min_width
from trainability.core.window import Window
from trainability.explore.cache import GridCache, grid_key
from trainability.explore.server import Explorer, bind, server
from trainability.explore.view import (
    Limits,
    View,
    ViewError,
    check_view,
    headroom,
    tick_labels,
    zoom_target,
)
from trainability.figures.heatmap import format_edge_ticks
from trainability.study.config import load_study
from trainability.train.sweep import Engine, SweepCancelled, default_chunk, sweep, sweep_meta
from trainability.zoom.paths import fixed_path

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
CONFIG = {
    "defaults": {"width": 8, "steps": 20, "window": [-1, 4, 0, 4], "resolution": 24},
    "conditions": {
        "tiny": {"title": "tanh, width 8"},
        "mom": {
            "optimizer": "momentum",
            "phase_space": "custom",
            "x_axis": "lr",
            "y_axis": "momentum",
            "y_scale": "linear",
            "window": [0, 3, 0, 0.99],
        },
    },
}
LIMITS = Limits(coarse=16, max_resolution=32)


@pytest.fixture(scope="module")
def study():
    return load_study(CONFIG, SCHEMA)[1]


@pytest.fixture(scope="module")
def live(study, tmp_path_factory):
    """A running explorer of the tiny study on a free loopback port: (base url, Explorer)."""
    engine = Engine(chunk=default_chunk(), threads=2)
    cache = GridCache(tmp_path_factory.mktemp("explore") / "cache", 64 * 2**20)
    explorer = Explorer(study, "tiny", LIMITS, engine, cache)
    explorer.worker.warm_up(study["tiny"].condition, study["tiny"].window.bounds).result()
    sock = bind(0)
    uvicorn_server = server(explorer)
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for _ in range(200):
        if uvicorn_server.started:
            break
        time.sleep(0.05)
    yield base, explorer
    uvicorn_server.should_exit = True
    thread.join(10)
    explorer.worker.shutdown()


def _get(url: str):
    """(status, headers, body) of a GET, 4xx included."""
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def _decode(body: bytes, n: int):
    values = np.frombuffer(body, "<f8", n)
    diverged_at = np.frombuffer(body, "<i4", n, 8 * n)
    converged = np.frombuffer(body, np.uint8, n, 12 * n)
    return values, diverged_at, converged


# ------------------------------------------------------------------------------ the library


def test_sweep_cancel_stops_between_chunks(study):
    cond = study["tiny"].condition
    window = Window(-1.0, 4.0, 0.0, 4.0, 16, 16)  # 256 pixels: two chunks of 128
    engine = Engine(chunk=128, threads=1)
    asked = []

    def cancel_second():
        asked.append(1)
        return len(asked) >= 2

    with pytest.raises(SweepCancelled):
        sweep(cond, window, engine, cancel=cancel_second)
    assert len(asked) == 2  # the second chunk never started
    plain = sweep(cond, window, engine)
    polled = sweep(cond, window, engine, cancel=lambda: False)
    assert plain.values.tobytes() == polled.values.tobytes()


def test_tick_labels_agree_with_the_figures_edge_labels():
    rng = np.random.default_rng(0)
    for _ in range(200):
        lo = float(rng.uniform(-8, 8))
        width = float(10.0 ** rng.uniform(-13, 1))
        scale = str(rng.choice(["log", "linear"]))
        labels, _ = tick_labels(lo, lo + width, scale, count=2)
        assert labels == list(format_edge_ticks(lo, lo + width, scale))
        five, digits = tick_labels(lo, lo + width, scale, count=5)
        assert len(set(five)) == 5, five  # neighbours told apart
        assert five[0] == format_edge_ticks(lo, lo + width, scale)[0] or digits > 3


def test_headroom_counts_the_decades_left_before_float64s_limit(study):
    cond = study["tiny"].condition
    n = LIMITS.max_resolution
    # around 10^0.3 the relative spacing of 10^x, not the ulp of x, sets the limit
    limit = min_width(0.3, 0.3, n)

    def view(width):
        return View("tiny", cond, (0.3 - width / 2, 0.3 + width / 2, 0.3 - width, 0.3 + width))

    assert headroom(view(0.1), n) == pytest.approx(math.log10(0.1 / limit), rel=1e-9)
    # three decades deeper, three decades less headroom
    assert headroom(view(1e-4), n) == pytest.approx(headroom(view(0.1), n) - 3, abs=1e-9)
    check_view(view(2 * limit), n)
    with pytest.raises(ViewError, match=r"^the view is .* on the x axis, .*; zoom out$"):
        check_view(view(limit / 2), n)


def test_cache_key_is_shared_with_the_workflows_files(study, tmp_path):
    cond = study["tiny"].condition
    window = Window(-1.0, 4.0, 0.0, 4.0, 4, 4)
    engine = Engine(chunk=default_chunk())
    tiles = [sweep(cond, window, engine, tile=(i, 0), tiles=(2, 1)) for i in range(2)]
    save_grid(tmp_path / "results" / "tiny" / "overview.npz", merge_tiles(tiles))  # as the rules
    save_grid(tmp_path / "results" / "tiny" / "tiles" / "overview" / "0_0.npz", tiles[0])
    (tmp_path / "results" / "junk.npz").write_bytes(b"not a grid")
    cache = GridCache(tmp_path / "results" / "explore" / "cache", 2**20)
    assert cache.index(tmp_path / "results") == 1  # the tile and the junk are not grids
    explorer = Explorer(study, "tiny", LIMITS, Engine(chunk=default_chunk(), threads=2), cache)
    key = explorer.key(View("tiny", cond, window.bounds), 4)
    assert cache.file(*key) == tmp_path / "results" / "tiny" / "overview.npz"
    assert cache.resolutions(key[0]) == [4]
    # anything that changes bits changes the key; what does not, does not
    other = [
        sweep_meta(cond.replace(steps=21), window, engine, None, (1, 1)),
        sweep_meta(cond, Window(-1.0, 4.0, 0.0, 4.5, 4, 4), engine, None, (1, 1)),
        sweep_meta(cond, window, Engine(chunk=64), None, (1, 1)),
        sweep_meta(cond, window, Engine(dtype="float32", chunk=128), None, (1, 1)),
    ]
    assert len({grid_key(m) for m in other} | {key}) == 5
    assert grid_key(sweep_meta(cond, window, Engine(chunk=128, threads=3), None, (1, 1))) == key


def test_the_cache_key_tells_arithmetics_and_exact_bounds_apart():
    """float64x2 grids of one window in two arithmetics, and two windows whose exact bounds
    round to the same doubles, are different grids: they must never share a cache entry."""
    cond = Condition(width=2, steps=5)
    deep = Window("0.1", "0.1000000000000000000001", "1", "1.0000000000000000000001", 4, 4)
    deeper = Window("0.1", "0.1000000000000000000002", "1", "1.0000000000000000000001", 4, 4)
    assert [float(b) for b in deep.bounds] == [float(b) for b in deeper.bounds]
    metas = [
        sweep_meta(cond, deep, Engine(dtype="float64x2", arithmetic=a, chunk=128), None, (1, 1))
        for a in ("doubledouble", "perturbation")
    ]
    metas.append(
        sweep_meta(cond, deeper, Engine(dtype="float64x2", chunk=128), None, (1, 1))
    )
    assert len({grid_key(m) for m in metas}) == 3


def test_cache_is_bounded_and_evicts_the_least_recently_used(study, tmp_path):
    cond = study["tiny"].condition

    def fake(k: int) -> Grid:
        window = Window(0.0, 1.0 + k, 0.0, 1.0, 8, 8)
        values = np.random.default_rng(k).normal(size=(8, 8))  # incompressible
        meta = sweep_meta(cond, window, Engine(chunk=128), None, (1, 1))
        return Grid(
            values, values < 0, np.arange(8.0), np.arange(8.0), np.full((8, 8), -1), meta=meta
        )

    cache = GridCache(tmp_path / "cache", 2**30)
    paths = [cache.put(fake(k)) for k in range(3)]
    for k, path in enumerate(paths):  # 0 oldest ... 2 newest
        os.utime(path, ns=(10**18 + k * 10**9,) * 2)
    size = max(path.stat().st_size for path in paths)
    assert cache.file(*grid_key(fake(0).meta)) == paths[0]  # a hit: 0 is now the newest
    cache.max_bytes = int(2.5 * size)
    assert cache.evict() == [paths[1]]
    newest = cache.put(fake(3))
    assert not paths[2].exists() and paths[0].exists() and newest.exists()
    assert sum(p.stat().st_size for p in cache.root.glob("*.npz")) <= cache.max_bytes
    assert load_grid(paths[0]).values.tobytes() == fake(0).values.tobytes()


def test_zoom_target_lines_make_the_workflow_zoom_into_the_view(study):
    entry = study["tiny"]  # window [-1, 4] x [0, 4]: the outer width is 4 decades
    for bounds in [(1.0, 1.5, 2.0, 2.7), (0.25, 0.2500001, 1.0, 1.0000003), (0.0, 2.0, 1.0, 3.0)]:
        view = View("tiny", entry.condition.replace(steps=30), bounds)
        target = zoom_target(view, "tiny", entry.window, entry.condition.steps)
        lines = yaml.safe_load(target["text"])
        config = {**CONFIG, "conditions": {**CONFIG["conditions"]}}
        config["conditions"]["tiny"] = {
            **CONFIG["conditions"]["tiny"],
            **lines["conditions"]["tiny"],
        }
        zoomed = load_study(config, SCHEMA)[1]["tiny"]
        assert zoomed.condition.steps == 30
        path = fixed_path(zoomed.zoom.target, zoomed.zoom.outer_width, zoomed.zoom.levels)
        last = path.window(zoomed.zoom.levels - 1, 16)
        x0, x1, y0, y1 = bounds
        assert x0 <= last.x_min and last.x_max <= x1 and y0 <= last.y_min and last.y_max <= y1
        assert last.x_max - last.x_min > min(x1 - x0, y1 - y0) / 2  # the widest that fits
    assert zoomed.zoom.levels == 2  # a view exactly 2x narrower: one doubling, not two
    wide = View("tiny", entry.condition, (-2.0, 5.0, -1.0, 5.0))
    assert zoom_target(wide, "tiny", entry.window, 20)["text"] is None


def test_the_command_refuses_bad_flags_in_one_line(tmp_path, capsys):
    assert main(["explore", "--config", str(tmp_path / "missing.yaml")]) == 2
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    assert main(["explore", "--config", str(config), "--condition", "nope"]) == 2
    args = ["explore", "--config", str(config), "--coarse", "64", "--max-resolution", "32"]
    assert main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    assert "--config" in lines[0] and "missing.yaml" in lines[0]
    assert "--condition" in lines[1] and "'nope'" in lines[1] and "tiny, mom" in lines[1]
    assert "--coarse" in lines[2]


def test_the_server_binds_loopback_and_moves_off_a_taken_port():
    first = bind(0)
    try:
        host, port = first.getsockname()
        assert host == "127.0.0.1"
        first.listen()
        second = bind(port)  # taken: another free port
        assert second.getsockname()[0] == "127.0.0.1" and second.getsockname()[1] != port
        second.close()
    finally:
        first.close()


# ------------------------------------------------------------------------------ the server


def test_a_view_is_the_sweep_byte_for_byte_and_a_revisit_is_a_cache_hit(live, study):
    base, explorer = live
    window = (0.5, 2.5, 1.0, 3.5)
    query = f"condition=tiny&window={','.join(map(repr, window))}&steps=20&res=16"
    status, headers, body = _get(f"{base}/api/grid?{query}")
    assert status == 200 and json.loads(headers["X-Grid"])["source"] == "computed"
    expected = sweep(
        study["tiny"].condition, Window(*window, 16, 16), Engine(chunk=default_chunk())
    )
    values, diverged_at, converged = _decode(body, 256)
    assert values.tobytes() == expected.values.reshape(-1).tobytes()
    assert diverged_at.tobytes() == expected.diverged_at.astype("<i4").reshape(-1).tobytes()
    assert converged.tobytes() == expected.converged.astype(np.uint8).reshape(-1).tobytes()

    computed = explorer.worker.stats.computed
    status, headers, again = _get(f"{base}/api/grid?{query}")
    assert status == 200 and json.loads(headers["X-Grid"])["source"] == "cache"
    assert again == body and explorer.worker.stats.computed == computed  # nothing computed

    status, _, npz = _get(f"{base}/api/grid.npz?{query}")
    assert status == 200
    path = explorer.cache.file(*explorer.key(View("tiny", study["tiny"].condition, window), 16))
    assert npz == path.read_bytes()
    assert load_grid(path).values.tobytes() == expected.values.tobytes()
    status, headers, png = _get(f"{base}/api/grid.png?{query}")
    assert status == 200 and headers["Content-Type"] == "image/png" and png[:4] == b"\x89PNG"


def _open_request(base: str, query: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"GET /api/grid?{query} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    return sock


def _wait(predicate, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_a_left_view_stops_at_the_next_chunk_and_the_server_carries_on(live):
    base, explorer = live
    stats = explorer.worker.stats
    # 32² pixels, 2000 steps: 8 chunks x 80 segments, far longer than this test waits
    query = "condition=tiny&window=0.0,1.0,1.0,2.0&steps=2000&res=32"
    first, second = _open_request(base, query), _open_request(base, query)
    _wait(lambda: explorer.worker.busy() and stats.chunks > 0)
    before = stats.chunks
    first.close()  # one of two clients leaves: the job goes on for the other
    _wait(lambda: stats.chunks > before + 4, timeout=20)
    assert explorer.worker.busy()
    cancelled = stats.cancelled
    second.close()  # the last one leaves: the job stops at the next chunk
    _wait(lambda: stats.cancelled == cancelled + 1, timeout=10)
    last = stats.last
    # no chunk starts after the stop but those already past the check as it came, one a thread
    assert last.stopped_at is not None and last.ended_at is not None
    assert last.chunks - last.chunks_at_stop <= explorer.engine.threads
    assert last.chunks < 8 * 80 / 4  # most of the grid was never computed
    chunks = stats.chunks
    time.sleep(0.3)
    assert stats.chunks == chunks and not explorer.worker.busy()
    status, headers, _ = _get(f"{base}/api/grid?condition=tiny&window=0,1,1,2&res=16")
    assert status == 200  # the server carries on


BAD_QUERIES = [
    ("/api/view?condition=nope", "unknown condition 'nope'; the study has tiny, mom"),
    ("/api/view?window=4,1,0,4", "window needs x_min < x_max"),
    ("/api/view?window=1,2,3", "window must be four comma-separated numbers"),
    ("/api/view?window=0,1,0,nan", "window y_max must be finite"),
    ("/api/view?condition=mom&window=0,3,0.5,1.5", "(momentum) must stay inside [0, 1)"),
    ("/api/view?window=0.5,0.50000000000001,0,1", "narrower than float64 can tell apart"),
    ("/api/view?steps=0", "steps must be an integer from 1 to 100000"),
    ("/api/view?zoom=2", "unknown query parameter 'zoom'"),
    ("/api/view?steps=3&steps=4", "'steps' is given twice"),
    ("/api/grid?window=0,1,0,1", "res (pixels per side) is required"),
    ("/api/grid?res=100000", "res must be an integer from 2 to 32"),
    ("/api/grid?res=1", "res must be an integer from 2 to 32"),
    ("/api/grid.npz?window=0,1,0,1.25&res=8", "this grid is not computed"),
    ("/nowhere", "no such page: /nowhere"),
]


def test_a_custom_phase_space_on_linear_axes_is_described(live):
    base, _ = live
    status, _, body = _get(f"{base}/api/view?condition=mom&window=0.5,1.5,0.2,0.6")
    info = json.loads(body)
    assert status == 200 and info["axes"]["y"]["scale"] == "linear"
    assert info["axes"]["y"]["name"] == "momentum" and info["axes"]["y"]["high_open"]
    assert info["axes"]["y"]["ticks"] == ["0.2", "0.3", "0.4", "0.5", "0.6"]
    assert info["axes"]["x"]["ticks"][0] == "3.16"  # 10^0.5: log x axis, the lr itself
    assert "window units" in info["zoom"]["text"]


def test_requests_for_other_hosts_are_refused(live):
    base, _ = live
    request = urllib.request.Request(f"{base}/api/study", headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=30)
    assert err.value.code == 400


@pytest.mark.parametrize(("path", "message"), BAD_QUERIES)
def test_every_bad_query_gets_a_4xx_and_one_sentence(live, path, message):
    base, explorer = live
    computed = explorer.worker.stats.computed
    status, headers, body = _get(base + path)
    assert 400 <= status < 500
    error = json.loads(body)["error"]
    assert message in error and "\n" not in error
    assert explorer.worker.stats.computed == computed


# ------------------------------------------------------------------------------ the browser




def _window(url: str) -> list[float]:
    from urllib.parse import parse_qs, urlparse

    return [float(v) for v in parse_qs(urlparse(url).query)["window"][0].split(",")]


def _final(page, window_text: str | None = None) -> None:
    """Wait for the last pass of the page's view (of ``window_text`` when given)."""
    page.wait_for_function(
        "w => document.body.dataset.final === 'true' && (w === null || "
        "document.body.dataset.view.includes('window=' + w + '&'))",
        arg=window_text,
        timeout=60_000,
    )


def test_the_page_in_a_real_browser(live):
    sync_playwright = playwright_or_skip()
    base, _ = live
    errors, external = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: None if r.url.startswith((base, "data:")) else external.append(r.url),
            )
            page.goto(base + "/")
            page.wait_for_function("document.body.dataset.pass === '16'", timeout=60_000)
            _final(page)
            start = _window(page.url)
            assert start == [-1.0, 4.0, 0.0, 4.0] and page.locator("#error").is_hidden()
            assert page.evaluate("document.body.dataset.pass") == "32"
            box = page.locator("#stage").bounding_box()

            def at(u, v):
                return box["x"] + u * box["width"], box["y"] + v * box["height"]

            # drag a box: the window narrows to it, and the refined picture arrives
            page.mouse.move(*at(0.2, 0.3))
            page.mouse.down()
            page.mouse.move(*at(0.4, 0.5), steps=4)
            page.mouse.move(*at(0.6, 0.7), steps=4)
            page.mouse.up()
            page.wait_for_function(f"!location.search.includes('window={start[0]},')")
            dragged = _window(page.url)
            pixel = (start[1] - start[0]) / box["width"]
            expected = [-1.0 + 0.2 * 5, -1.0 + 0.6 * 5, 4.0 - 0.7 * 4, 4.0 - 0.3 * 4]
            assert dragged == pytest.approx(expected, abs=1.5 * pixel)
            _final(page, ",".join(map(repr, dragged)))
            assert page.evaluate("document.body.dataset.pass") == "32"

            # the readout under the cursor
            page.mouse.move(*at(0.5, 0.5))
            assert page.locator("#read-label").inner_text() in ("converged", "diverged") or (
                page.locator("#read-label").inner_text().startswith("diverged (retired")
            )

            # scroll to zoom about the cursor: the point under it stays put
            px, py = (round(c) for c in at(0.7, 0.35))  # whole pixels: what the events carry
            u, v = (px - box["x"]) / box["width"], (py - box["y"]) / box["height"]
            page.mouse.move(px, py)
            page.mouse.wheel(0, -400)
            page.wait_for_function(f"!location.search.includes('window={dragged[0]!r},')")
            zoomed = _window(page.url)
            d, z = dragged, zoomed
            before = (d[0] + u * (d[1] - d[0]), d[3] - v * (d[3] - d[2]))
            after = (z[0] + u * (z[1] - z[0]), z[3] - v * (z[3] - z[2]))
            assert z[1] - z[0] < (d[1] - d[0]) / 1.5 and z[3] - z[2] < (d[3] - d[2]) / 1.5
            assert after == pytest.approx(before, abs=1e-12)
            _final(page, ",".join(map(repr, zoomed)))

            # back restores the previous window
            page.go_back()
            page.wait_for_function(f"location.search.includes('window={dragged[0]!r},')")
            assert _window(page.url) == dragged
            _final(page, ",".join(map(repr, dragged)))

            # the zoom target's lines
            page.click("#use-target")
            text = page.locator("#target-text").inner_text()
            assert yaml.safe_load(text)["conditions"]["tiny"]["zoom"]["target"] == pytest.approx(
                [(dragged[0] + dragged[1]) / 2, (dragged[2] + dragged[3]) / 2]
            )
            assert errors == [] and external == []

            # a bad address: one sentence on the page, no picture
            page.goto(base + "/?window=4,1,0,4")
            page.wait_for_selector("#error:not([hidden])")
            assert "window needs x_min < x_max" in page.locator("#error").inner_text()
        finally:
            browser.close()
    assert all("status of 400" in e for e in errors), errors  # the browser logs the 400
