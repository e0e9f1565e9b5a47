"""The zoom explorer: its tiles are `sweep`'s byte for byte and a level's tiles merge into the
level's sweep, a left tile stops computing, the cache, float64x2 past float64, the
one-sentence errors, the server under pressure, the zoom target's config lines, and the page in
a real browser (Debian's chromium driven by Playwright, as tests/test_report.py does)."""

import io
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
from trainability.core.coordinates import exact, text
from trainability.core.grid import Grid, load_grid, merge_tiles, save_grid
from trainability.core.precision import min_width
from trainability.core.window import Window
from trainability.explore.cache import GridCache, grid_key
from trainability.explore.command import prefetch
from trainability.explore.pyramid import Pyramid, PyramidError
from trainability.explore.server import Explorer, bind, encode_tile, server
from trainability.explore.tiles import headroom, plan
from trainability.explore.view import (
    Limits,
    View,
    ViewError,
    check_view,
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
LIMITS = Limits(tile=16, detail=32)
ROOT = (-1.0, 4.0, 0.0, 4.0)  # the tiny condition's window: the pyramid's root


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


def test_headroom_counts_the_decades_left_before_float64s_limit_then_float64x2_takes_over(study):
    cond = study["tiny"].condition
    n = 32
    # around 10^0.3 the relative spacing of 10^x, not the ulp of x, sets the limit
    limit = min_width(0.3, 0.3, n)

    def bounds(width):
        return (0.3 - width / 2, 0.3 + width / 2, 0.3 - width, 0.3 + width)

    scales = ("log", "log")
    assert headroom(bounds(0.1), scales, n) == pytest.approx(math.log10(0.1 / limit), rel=1e-9)
    # three decades deeper, three decades less headroom
    assert headroom(bounds(1e-4), scales, n) == pytest.approx(
        headroom(bounds(0.1), scales, n) - 3, abs=1e-9
    )
    # past float64's limit a view is no longer refused: float64x2 draws it
    view = View("tiny", cond, bounds(limit / 2), ROOT)
    check_view(view, Limits(tile=16, detail=32))
    with pytest.raises(ViewError, match=r"^the view is deeper than the explorer's \d+ levels"):
        deep = (exact("0.3"), exact("0.3") + exact("1e-40"), exact("1"), exact("1.000001"))
        check_view(View("tiny", cond, deep, ROOT), LIMITS)


def test_cache_key_is_shared_with_the_workflows_files(study, tmp_path):
    """A workflow grid that is a tile (here level 0: the pyramid's root at n pixels, computed
    in two tiles and merged as the rules do) is found under the tile's key and served as it."""
    cond = study["tiny"].condition
    engine = Engine(chunk=default_chunk())
    pyramid = Pyramid.of(ROOT, 4)
    window = pyramid.tile_window(0, 0, 0)
    tiles = [sweep(cond, window, engine, tile=(i, 0), tiles=(2, 1)) for i in range(2)]
    save_grid(tmp_path / "results" / "tiny" / "overview.npz", merge_tiles(tiles))  # as the rules
    save_grid(tmp_path / "results" / "tiny" / "tiles" / "overview" / "0_0.npz", tiles[0])
    (tmp_path / "results" / "junk.npz").write_bytes(b"not a grid")
    cache = GridCache(tmp_path / "results" / "explore" / "cache", 2**20)
    assert cache.index(tmp_path / "results") == 1  # the tile and the junk are not grids
    key = plan(pyramid, cond, Engine(chunk=default_chunk(), threads=2), 0, 0, 0).key
    assert cache.file(*key) == tmp_path / "results" / "tiny" / "overview.npz"
    # anything that changes bits changes the key; what does not, does not
    other = [
        sweep_meta(cond.replace(steps=21), window, engine, None, (1, 1)),
        sweep_meta(cond, Window(-1.0, 4.0, 0.0, 4.5, 4, 4), engine, None, (1, 1)),
        sweep_meta(cond, window, Engine(chunk=64), None, (1, 1)),
        sweep_meta(cond, window, Engine(dtype="float32", chunk=128), None, (1, 1)),
        sweep_meta(cond, window, Engine(chunk=128, refine=4), None, (1, 1)),
        sweep_meta(cond, window, engine, (0, 0), (2, 1)),
    ]
    assert len({grid_key(m, tiles=True) for m in other} | {key}) == 7
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
        view = View("tiny", entry.condition.replace(steps=30), bounds, ROOT)
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
    wide = View("tiny", entry.condition, (-2.0, 5.0, -1.0, 5.0), ROOT)
    assert zoom_target(wide, "tiny", entry.window, 20)["text"] is None


def test_prefetch_computes_levels_ahead_and_the_server_serves_them(study, tmp_path):
    cache = GridCache(tmp_path / "cache", 2**26)
    engine = Engine(chunk=default_chunk(), threads=2)
    explorer = Explorer(study, "tiny", Limits(tile=8, detail=16), engine, cache)
    lines = []
    assert prefetch(explorer, "tiny", 1, log=lambda *a, **k: lines.append(a[0])) == {
        "computed": 5, "stored": 0, "outside": 0
    }  # fmt: skip
    assert len(lines) == 2 and "level 1" in lines[1]
    again = prefetch(explorer, "tiny", 1, log=lambda *a, **k: None)
    assert again == {"computed": 0, "stored": 5, "outside": 0}
    p = plan(Pyramid.of(ROOT, 8), study["tiny"].condition, engine, 1, 1, 0)
    assert load_grid(cache.file(*p.key)).values.tobytes() == p.compute().values.tobytes()
    # pixels sit at cell centres inside the root: a linear momentum axis from 0 to 0.99 (the
    # interval [0, 1)) has no tile outside it
    counts = prefetch(explorer, "mom", 1, log=lambda *a, **k: None)
    assert counts == {"computed": 5, "stored": 0, "outside": 0}
    explorer.worker.shutdown()


def test_the_command_refuses_bad_flags_in_one_line(tmp_path, capsys):
    assert main(["explore", "--config", str(tmp_path / "missing.yaml")]) == 2
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    assert main(["explore", "--config", str(config), "--condition", "nope"]) == 2
    args = ["explore", "--config", str(config), "--tile", "64", "--detail", "32"]
    assert main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    assert "--config" in lines[0] and "missing.yaml" in lines[0]
    assert "--condition" in lines[1] and "'nope'" in lines[1] and "tiny, mom" in lines[1]
    assert "--tile" in lines[2]


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


def _tile_url(base, z, x, y, extra=""):
    return f"{base}/api/tile?condition=tiny&z={z}&x={x}&y={y}{extra}"


def test_a_tile_is_the_sweep_byte_for_byte_and_a_revisit_is_a_cache_hit(live, study):
    base, explorer = live
    status, headers, body = _get(_tile_url(base, 2, 1, 2))
    header = json.loads(headers["X-Tile"])
    assert status == 200 and header["source"] == "computed"
    assert header["arithmetic"] == "float64" and header["computed"] == 1.0
    # level 2 of a 16-pixel pyramid: the tile (2, 1) of a 4 x 4 split of the level's window
    level = Pyramid.of(ROOT, 16).level_window(2)
    assert level.bounds == (-1 + 5 / 128, 4 - 5 / 128, 4 / 128, 4 - 4 / 128)
    expected = sweep(
        study["tiny"].condition, level, Engine(chunk=default_chunk()), tile=(2, 1), tiles=(4, 4)
    )
    values, diverged_at, converged = _decode(body, 256)
    assert values.tobytes() == expected.values.reshape(-1).tobytes()
    assert diverged_at.tobytes() == expected.diverged_at.astype("<i4").reshape(-1).tobytes()
    assert converged.tobytes() == expected.converged.astype(np.uint8).reshape(-1).tobytes()
    assert body == encode_tile(expected)

    computed = explorer.worker.stats.computed
    status, headers, again = _get(_tile_url(base, 2, 1, 2))
    assert status == 200 and json.loads(headers["X-Tile"])["source"] == "cache"
    assert again == body and explorer.worker.stats.computed == computed  # nothing computed

    status, _, npz = _get(_tile_url(base, 2, 1, 2).replace("/api/tile?", "/api/tile.npz?"))
    assert status == 200
    assert load_grid(io.BytesIO(npz)).values.tobytes() == expected.values.tobytes()


def test_label_only_mode_trains_the_cells_that_may_hold_boundary_and_says_so(live):
    base, _ = live
    # tile (1, 0, 1): its lattice cells agree over 40 % of it, so those pixels are inferred (a
    # tile the boundary crosses, (1, 1, 0), trains every pixel at this size and tests nothing)
    full = _get(_tile_url(base, 1, 0, 1))
    status, headers, body = _get(_tile_url(base, 1, 0, 1, "&mode=labels"))
    header = json.loads(headers["X-Tile"])
    assert status == 200 and header["mode"] == "labels" and 0 < header["computed"] < 1
    values, _, converged = _decode(body, 256)
    computed = np.frombuffer(body, np.uint8, 256, 13 * 256).astype(bool)
    full_values, _, full_converged = _decode(full[2], 256)
    assert np.isnan(values[~computed]).all()  # inferred: no value
    assert values[computed].tobytes() == full_values[computed].tobytes()  # trained: the same
    assert (~computed).any() and (converged == full_converged).all()  # inferred right
    status, _, body = _get(f"{base}/api/view?condition=tiny&mode=labels")
    assert status == 200 and json.loads(body)["query"].endswith("&mode=labels")


def test_the_tiles_of_a_level_merge_into_the_sweep_of_their_union(study):
    """Byte for byte, at a level computed as the engine's tiles of its whole window, and the
    tiles' cells are the exact quadrants of their parents'."""
    cond = study["tiny"].condition
    engine = Engine(chunk=default_chunk(), threads=2)
    pyramid = Pyramid.of(ROOT, 8)
    for z in (1, 2):
        plans = [plan(pyramid, cond, engine, z, i, j) for i in range(2**z) for j in range(2**z)]
        merged = merge_tiles([p.compute() for p in plans])
        whole = sweep(cond, pyramid.level_window(z), engine)
        for key in ("values", "converged", "diverged_at", "blowup_at", "x", "y"):
            assert getattr(merged, key).tobytes() == getattr(whole, key).tobytes(), (z, key)
    # the pixels of tile (z, i, j) are its cells' centres; its children are its quadrants
    x0, x1, y0, y1 = pyramid.extent(3, 5, 2)
    children = [pyramid.extent(4, 10 + a, 4 + b) for a in (0, 1) for b in (0, 1)]
    assert min(c[0] for c in children) == x0 and max(c[1] for c in children) == x1
    assert min(c[2] for c in children) == y0 and max(c[3] for c in children) == y1
    own = pyramid.tile_window(3, 5, 2)
    assert (own.x_min, own.x_max) == (x0 + (x1 - x0) / 16, x1 - (x1 - x0) / 16)
    # deep levels are exact decimals too: 80 levels down, 24 decades
    deep = pyramid.tile_window(80, 3 * 2**78, 2**79)
    assert text(deep.x_min).startswith("2.75") and len(text(deep.x_min)) > 80
    assert exact(text(deep.x_min)) == deep.x_min  # exact decimal text, not rounded
    with pytest.raises(PyramidError, match="x must be an integer from 0 to 2"):
        pyramid.extent(2, 4, 0)


def test_a_view_asks_for_its_tiles_nearest_the_centre_and_a_pan_only_for_new_ones(live):
    base, _ = live

    def tiles(window):
        status, _, body = _get(f"{base}/api/view?condition=tiny&window={window}")
        info = json.loads(body)
        assert status == 200, info
        fine = info["levels"]["fine"]
        return fine, [tuple(int(c) for c in t) for t in info["tiles"]["fine"]]

    z, first = tiles("0.5,1.75,1,2")  # 1/4 of the root's width: level 3 at 32 pixels across
    assert z == 3 and set(first) == {(i, j) for i in (2, 3, 4) for j in (2, 3)}
    assert first[0] == (3, 2) or first[0] == (3, 3)  # the centre's tile first
    z2, panned = tiles("1.125,2.375,1,2")  # half a view to the right
    assert z2 == 3
    new = [t for t in panned if t not in first]
    assert set(new) == {(5, 2), (5, 3)}  # the page asks only for these (the browser test)
    assert len(new) * 256 <= len(panned) * 256 / 2  # at most half of the pixels


def test_a_20_decade_view_is_drawn_in_float64x2_and_says_so(live, study):
    base, explorer = live
    window = "0.3,0.30000000000000000000001,1,1.00000000000000000000001"
    status, _, body = _get(f"{base}/api/view?condition=tiny&window={window}")
    info = json.loads(body)
    assert status == 200 and info["arithmetic"] == "float64x2 (perturbation)"
    assert info["window"][1] == "0.30000000000000000000001"  # the address stays exact
    assert 23 < info["depth"] < 24.5
    assert len(set(info["axes"]["x"]["ticks"])) == 5  # ticks told apart 1e-22 decades apart
    z = info["levels"]["fine"]
    i, j = (int(c) for c in info["tiles"]["fine"][0])
    status, headers, body = _get(_tile_url(base, z, i, j, "&steps=5"))
    header = json.loads(headers["X-Tile"])
    assert status == 200 and header["arithmetic"] == "float64x2 (perturbation)"
    grid = load_grid(explorer.cache.file(*plan(
        Pyramid.of(ROOT, 16), study["tiny"].condition.replace(steps=5), explorer.engine, z, i, j
    ).key))  # fmt: skip
    assert grid.meta["dtype"] == "float64x2" and grid.meta["arithmetic"] == "perturbation"
    assert len(set(grid.x.tolist())) < 16  # the doubles alone could not tell the pixels apart


def _open_request(base: str, path: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    return sock


def _wait(predicate, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_a_tile_that_left_the_view_stops_at_the_next_chunk_and_the_server_carries_on(live):
    base, explorer = live
    stats = explorer.worker.stats
    # 16² pixels, 2000 steps: 2 chunks x 80 segments, far longer than this test waits
    path = "/api/tile?condition=tiny&steps=2000&z=1&x=0&y=0"
    queued = "/api/tile?condition=tiny&steps=2000&z=1&x=1&y=0"
    first, second = _open_request(base, path), _open_request(base, path)
    _wait(lambda: explorer.worker.busy() and stats.chunks > 0)
    third = _open_request(base, queued)  # queued behind the first tile
    _wait(lambda: explorer.worker.jobs() == 2)
    cancelled = stats.cancelled
    third.close()  # it left the view before it started: it never starts
    _wait(lambda: explorer.worker.jobs() == 1, timeout=10)
    before = stats.chunks
    first.close()  # one of two clients leaves: the job goes on for the other
    _wait(lambda: stats.chunks > before + 4, timeout=20)
    assert explorer.worker.busy() and stats.cancelled == cancelled
    second.close()  # the last one leaves: the job stops at the next chunk
    _wait(lambda: stats.cancelled == cancelled + 2, timeout=10)  # the queued one, then this
    _wait(lambda: not explorer.worker.busy(), timeout=10)
    last = stats.last
    assert last.stopped_at is not None and last.ended_at is not None
    assert last.chunks == 0 or last.chunks - last.chunks_at_stop <= explorer.engine.threads
    chunks = stats.chunks
    time.sleep(0.3)
    assert stats.chunks == chunks and not explorer.worker.busy()
    assert explorer.worker.jobs() == 0  # no job leaked
    status, headers, _ = _get(_tile_url(base, 0, 0, 0))
    assert status == 200  # the server carries on


def test_queued_tiles_start_nearest_the_centre_first(tmp_path):
    """Requests sent side by side arrive in any order: the worker starts the lowest rank."""
    from trainability.explore.worker import Worker

    worker = Worker(Engine(), GridCache(tmp_path, 2**20))
    gate, order = threading.Event(), []

    def job(name, wait=False):
        def compute(cancel):
            if wait:
                gate.wait(30)
            order.append(name)
            raise SweepCancelled("nothing to store")

        return compute

    jobs = [worker.request(("busy", 1, 1), job("busy", wait=True), 0)]
    queued = (("far", 5), ("second", 1), ("centre", 0), ("third", 1))
    jobs += [worker.request((name, 1, 1), job(name), rank) for name, rank in queued]
    gate.set()
    for j in jobs:
        j.future.exception(30)
    assert order == ["busy", "centre", "second", "third", "far"]
    assert worker.jobs() == 0
    worker.shutdown()


def test_the_server_under_pressure(live):
    """Several clients asking for different tiles at once, malformed HTTP, a client that
    disconnects mid-response: the others are answered, no job leaks."""
    base, explorer = live
    host, port = base.removeprefix("http://").split(":")
    results = {}

    def ask(z, x, y):
        results[(z, x, y)] = _get(_tile_url(base, z, x, y, "&steps=7"))

    threads = [threading.Thread(target=ask, args=t) for t in [(1, 0, 0), (1, 1, 1), (2, 3, 0),
               (2, 0, 3), (0, 0, 0), (1, 0, 0)]]  # fmt: skip
    # meanwhile: garbage, a request line that never ends, and one that leaves mid-response
    for junk in (b"\x00\xffGARBAGE\r\n\r\n", b"GET /api/study HTTP/9.9\r\n\r\n"):
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(junk)
            sock.settimeout(30)
            assert sock.recv(100).startswith(b"HTTP/1.1 4")  # h11 answers, the server stays
    for t in threads:
        t.start()
    leaver = _open_request(base, "/api/tile?condition=tiny&steps=7&z=2&x=1&y=1")
    leaver.recv(1)  # the first byte of the answer, then gone
    leaver.close()
    for t in threads:
        t.join(120)
    for (z, x, y), (status, headers, body) in results.items():
        header = json.loads(headers["X-Tile"])
        assert status == 200 and (header["z"], header["x"], header["y"]) == (z, str(x), str(y))
        assert len(body) == 14 * 256
    assert results[(1, 0, 0)][2] == _get(_tile_url(base, 1, 0, 0, "&steps=7"))[2]
    _wait(lambda: explorer.worker.jobs() == 0 and not explorer.worker.busy(), timeout=60)
    assert _get(f"{base}/api/study")[0] == 200


BAD_QUERIES = [
    ("/api/view?condition=nope", "unknown condition 'nope'; the study has tiny, mom"),
    ("/api/view?window=4,1,0,4", "window needs x_min < x_max"),
    ("/api/view?window=1,2,3", "window must be four comma-separated decimal numbers"),
    ("/api/view?window=0,1,0,nan", "window y_max must be a finite decimal number"),
    ("/api/view?window=0,1e999,0,1", "window x_max must be a finite decimal number"),
    ("/api/view?window=0,1" + "0" * 200 + ",0,1", "of at most 120 characters each"),
    ("/api/view?condition=mom&window=0,3,0.5,1.5", "(momentum) must stay inside [0, 1)"),
    ("/api/view?window=0,500,0,1", "must stay inside [0, inf), but its log10 bounds give"),
    ("/api/view?window=0.5,0.5" + "0" * 40 + "1,0,1", "deeper than the explorer's 110 levels"),
    ("/api/view?steps=0", "steps must be an integer from 1 to 100000"),
    ("/api/view?steps=1e999", "steps must be an integer from 1 to 100000, got '1e999'"),
    ("/api/view?mode=fast", "mode must be one of full, labels"),
    ("/api/view?zoom=2", "unknown query parameter 'zoom'"),
    ("/api/view?steps=3&steps=4", "'steps' is given twice"),
    ("/api/tile?z=1&x=0", "y (the tile's address: level z, column x, row y) is required"),
    ("/api/tile?z=2&x=4&y=0", "x must be an integer from 0 to 3, got '4'"),
    ("/api/tile?z=2&x=0&y=-1", "y must be an integer from 0 to 3, got '-1'"),
    ("/api/tile?z=111&x=0&y=0", "z must be an integer from 0 to 110"),
    ("/api/tile?z=1e999&x=0&y=0", "z must be an integer from 0 to 110, got '1e999'"),
    ("/api/tile?z=3&x=" + "9" * 400 + "&y=0", "x must be an integer from 0 to 7, got '999"),
    ("/api/tile?z=3&x=1.5&y=0", "x must be an integer from 0 to 7, got '1.5'"),
    ("/api/tile?z=0&x=0&y=0&window=0,1,0,1", "unknown query parameter 'window'"),
    ("/api/tile.npz?z=3&x=1&y=1&steps=3", "this tile is not computed"),
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


def _final(page, window_text: str | None = None, timeout: float = 90_000) -> None:
    """Wait until every tile of the page's view's finest level is drawn (of ``window_text``
    when given)."""
    page.wait_for_function(
        "w => document.body.dataset.final === 'true' && (w === null || "
        "document.body.dataset.view.includes('window=' + w + '&'))",
        arg=window_text,
        timeout=timeout,
    )


def _asked(explorer, since: int) -> list[tuple]:
    """The tiles (steps, mode, z, x, y) asked of the server since request number ``since``."""
    return list(explorer.requests)[since:]


def test_the_page_in_a_real_browser(live):
    sync_playwright = playwright_or_skip()
    base, explorer = live
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
            _final(page)
            start = _window(page.evaluate("location.href"))
            assert start == [-1.0, 4.0, 0.0, 4.0] and page.locator("#error").is_hidden()
            assert page.evaluate("document.body.dataset.level") == "1"
            # every tile is drawn where its cells are: the page's extents are the pyramid's
            extents = page.evaluate(
                "visibleTiles(state.current.view).map(([t, e]) => "
                "[t.z, String(t.i), String(t.j), e.map((c) => formatDec(c, 30))])"
            )
            pyramid = Pyramid.of(ROOT, 16)
            assert {(z, i, j) for z, i, j, _ in extents} >= {(1, str(a), str(b)) for a in (0, 1)
                                                             for b in (0, 1)}  # fmt: skip
            for z, i, j, e in extents:
                assert [exact(c) for c in e] == list(pyramid.extent(z, int(i), int(j)))
            box = page.locator("#stage").bounding_box()

            def at(u, v):
                return box["x"] + u * box["width"], box["y"] + v * box["height"]

            # drag a box: the window narrows to it; the first picture is the parent tiles
            page.mouse.move(*at(0.2, 0.3))
            page.mouse.down()
            page.mouse.move(*at(0.4, 0.5), steps=4)
            page.mouse.move(*at(0.6, 0.7), steps=4)
            page.mouse.up()
            page.wait_for_function(f"!location.search.includes('window={start[0]},')")
            dragged = _window(page.evaluate("location.href"))
            pixel = (start[1] - start[0]) / box["width"]
            expected = [-1.0 + 0.2 * 5, -1.0 + 0.6 * 5, 4.0 - 0.7 * 4, 4.0 - 0.3 * 4]
            assert dragged == pytest.approx(expected, abs=1.5 * pixel)
            first = page.evaluate("document.body.dataset.firstDrawn")
            level = int(page.evaluate("document.body.dataset.level"))
            assert first and all(int(z) < level for z in first.split(","))  # parents, at once
            text_ = page.evaluate("document.body.dataset.view").split("window=")[1].split("&")[0]
            _final(page, text_)

            # the readout under the cursor
            page.mouse.move(*at(0.5, 0.5))
            assert page.locator("#read-label").inner_text().startswith(("converged", "diverged"))
            assert page.locator("#read-arithmetic").inner_text().startswith("float64")

            # a pan by a quarter (the arrow key): only the tiles not yet had are asked for
            since = len(explorer.requests)
            had = {t[2:] for t in explorer.requests}
            page.keyboard.press("ArrowRight")
            page.wait_for_function(f"!location.search.includes('window={text_}&')")
            panned = page.evaluate("document.body.dataset.view").split("window=")[1].split("&")[0]
            _final(page, panned)
            asked = [t[2:] for t in _asked(explorer, since)]
            assert asked and not set(asked) & had and len(asked) == len(set(asked))

            # scroll to zoom about the cursor: the point under it stays put
            before_scroll = _window(page.evaluate("location.href"))
            px, py = (round(c) for c in at(0.7, 0.35))  # whole pixels: what the events carry
            u, v = (px - box["x"]) / box["width"], (py - box["y"]) / box["height"]
            page.mouse.move(px, py)
            page.mouse.wheel(0, -400)
            page.wait_for_function(f"!location.search.includes('window={panned}&')")
            zoomed = _window(page.evaluate("location.href"))
            d, z = before_scroll, zoomed
            before = (d[0] + u * (d[1] - d[0]), d[3] - v * (d[3] - d[2]))
            after = (z[0] + u * (z[1] - z[0]), z[3] - v * (z[3] - z[2]))
            assert z[1] - z[0] < (d[1] - d[0]) / 1.5 and z[3] - z[2] < (d[3] - d[2]) / 1.5
            assert after == pytest.approx(before, abs=1e-12)
            _final(page)

            # back restores the previous window; its tiles are all had: nothing is asked
            since = len(explorer.requests)
            page.go_back()
            page.wait_for_function(f"location.search.includes('window={panned}&')")
            _final(page, panned)
            assert _asked(explorer, since) == []

            # the zoom target's lines
            page.click("#use-target")
            target = page.locator("#target-text").inner_text()
            assert yaml.safe_load(target)["conditions"]["tiny"]["zoom"]["target"] == pytest.approx(
                [(d[0] + d[1]) / 2, (d[2] + d[3]) / 2]
            )

            # a view 22 decades down: float64x2 draws it, and the page says so
            deep = "0.3,0.30000000000000000000001,1,1.00000000000000000000001"
            page.goto(f"{base}/?condition=tiny&window={deep}&steps=5")
            page.wait_for_function(
                "(document.body.dataset.view || '').includes('0.30000000000000000000001,')"
            )
            deep = page.evaluate("document.body.dataset.view").split("window=")[1].split("&")[0]
            _final(page, deep, timeout=180_000)
            assert "float64x2 (perturbation)" in page.locator("#arithmetic").inner_text()
            assert page.locator("#error").is_hidden(), page.locator("#error").inner_text()
            # and a scroll there keeps exact decimals in the address
            page.mouse.move(*at(0.5, 0.5))
            page.mouse.wheel(0, -200)
            page.wait_for_function(f"!location.search.includes('window={deep}&')")
            deeper = page.evaluate("document.body.dataset.view").split("window=")[1].split("&")[0]
            lo, hi = (exact(b) for b in deeper.split(",")[:2])
            assert exact("0.3") < lo < hi < exact("0.30000000000000000000001")
            assert errors == [] and external == []

            # a bad address: one sentence on the page, no picture
            page.goto(base + "/?window=4,1,0,4")
            page.wait_for_selector("#error:not([hidden])")
            assert "window needs x_min < x_max" in page.locator("#error").inner_text()
        finally:
            browser.close()
    assert all("status of 400" in e for e in errors), errors  # the browser logs the 400
