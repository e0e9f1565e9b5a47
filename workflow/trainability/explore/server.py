"""The explorer's web application (Starlette) and server (uvicorn, on 127.0.0.1 only).

Routes:

- ``GET /``: the page (``static/index.html``; ``/static/…`` its script and style);
- ``GET /api/study``: the conditions, the default one, the tile size, the view's detail and
  the colour table (`trainability.figures.heatmap`'s Spectral map, 256 entries);
- ``GET /api/view?condition=…&window=…&steps=…&mode=…``: a validated view
  (`trainability.explore.view`): its exact window, axes and ticks, depth, the pyramid's root,
  the coarse and the finest level with the tiles that meet the view (nearest its centre
  first; their x, y as decimal text, which stays exact past 2^53), the arithmetic of the
  centre tile, the zoom target's config lines;
- ``GET /api/tile?condition=…&steps=…&mode=…&z=…&x=…&y=…[&rank=k]``: tile (z, x, y) of the
  condition's pyramid (`trainability.explore.pyramid`, `trainability.explore.tiles`), from the
  cache or computed now. The body is binary, little-endian, row 0 = lowest y: ``values``
  (n² float64; NaN where label-only mode inferred the label), ``diverged_at`` (n² int32),
  ``converged`` (n² uint8), ``computed`` (n² uint8); the ``X-Tile`` header holds JSON (n,
  z, x and y as decimal text, source: ``cache``, ``workflow`` or ``computed``, compute
  seconds, ``arithmetic``: what drew it, e.g. ``float64x2 (perturbation)``, the share of
  pixels trained). A tile whose pixels
  leave an axis's interval answers an empty body and ``"empty": <why>``. Queued tiles are
  computed lowest ``rank`` first (the page's order: nearest the view's centre). A client that
  disconnects before the tile is ready withdraws its request (`trainability.explore.worker`);
- ``GET /api/tile.npz``: a stored tile as the project's ``.npz``
  (`trainability.core.grid.save_grid`);
- ``GET /api/status``: what the compute thread has done, and the jobs still wanted.

A bad query gets status 400 and ``{"error": "<one sentence>"}``; the page shows the sentence.
Requests naming another host than 127.0.0.1 or localhost are refused (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
from collections import deque
from collections.abc import Mapping
from pathlib import Path

import matplotlib
import numpy as np
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from trainability.core.coordinates import exact, text
from trainability.core.grid import Grid, load_grid
from trainability.explore.cache import GridCache
from trainability.explore.pyramid import MAX_LEVEL
from trainability.explore.tiles import OutsideError, TilePlan, plan
from trainability.explore.view import (
    Limits,
    View,
    ViewError,
    axis_info,
    centre_tile,
    depth,
    parse_int,
    parse_view,
    zoom_target,
)
from trainability.explore.worker import Worker
from trainability.figures.heatmap import BUFFER, CMAP, rgb_to_uint8
from trainability.study.config import StudyCondition
from trainability.train.sweep import Engine

STATIC = Path(__file__).parent / "static"
LOOPBACK_NAMES = ["127.0.0.1", "localhost"]


class Explorer:
    """The study, the default condition, the limits, the engine, the cache and the worker."""

    def __init__(
        self,
        study: Mapping[str, StudyCondition],
        default: str,
        limits: Limits,
        engine: Engine,
        cache: GridCache,
    ):
        if default not in study:
            raise ValueError(f"unknown condition {default!r}; the study has {', '.join(study)}")
        self.study = study
        self.default = default
        self.limits = limits
        self.engine = engine
        self.cache = cache
        self.worker = Worker(engine, cache)
        self.requests: deque = deque(maxlen=10_000)  # (steps, mode, z, x, y) of the tiles asked

    def parse(self, request: Request, extra: tuple[str, ...] = ()):
        return parse_view(
            request.query_params.multi_items(),
            self.study,
            self.default,
            self.limits,
            extra,
            engine=self.engine,
        )

    def tile_plan(self, params) -> tuple[TilePlan, int]:
        """The plan of the tile a query names (condition, steps, mode, z, x, y) and the
        request's rank (``rank``: lower is computed first; 0 when absent)."""
        view, extra = parse_view(
            params, self.study, self.default, self.limits, ("z", "x", "y", "rank"),
            keys=("condition", "steps", "mode"), check=False,
        )  # fmt: skip
        for key in ("z", "x", "y"):
            if key not in extra:
                raise ViewError(f"{key} (the tile's address: level z, column x, row y) is required")
        z = parse_int("z", extra["z"], 0, MAX_LEVEL)
        x = parse_int("x", extra["x"], 0, 2**z - 1)
        y = parse_int("y", extra["y"], 0, 2**z - 1)
        pyramid = view.pyramid(self.limits.tile)
        rank = parse_int("rank", extra["rank"], 0, 10**6) if "rank" in extra else 0
        return plan(pyramid, view.condition, self.engine, z, x, y, view.mode,
                    self.limits.arithmetic), rank  # fmt: skip

    # ------------------------------------------------------------------------------ routes
    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def study_info(self, request: Request) -> Response:
        conditions = [
            {
                "name": name,
                "title": entry.title,
                "window": [text(exact(b)) for b in entry.window.bounds],
                "steps": entry.condition.steps,
            }
            for name, entry in self.study.items()
        ]
        return JSONResponse(
            {
                "default": self.default,
                "conditions": conditions,
                "tile": self.limits.tile,
                "detail": self.limits.detail,
                "colours": COLOURS,
                "buffer": BUFFER,
            }
        )

    async def view_info(self, request: Request) -> Response:
        view, _ = await asyncio.to_thread(self.parse, request)
        entry = self.study[view.name]
        info = await asyncio.to_thread(self._view_info, view, entry)
        return JSONResponse(info)

    def _view_info(self, view: View, entry: StudyCondition) -> dict:
        pyramid = view.pyramid(self.limits.tile)
        fine = pyramid.level_for(view.bounds, self.limits.detail)
        coarse = max(0, fine - round(math.log2(self.limits.detail / self.limits.tile)))
        i, j = centre_tile(pyramid, view.bounds, fine)
        try:
            arithmetic = plan(pyramid, view.condition, self.engine, fine, i, j, view.mode,
                              self.limits.arithmetic).arithmetic  # fmt: skip
        except OutsideError:  # parse's check_view refused every other reason
            arithmetic = None  # the centre lies outside an axis's interval
        return {
            "condition": view.name,
            "title": entry.title,
            "window": view.window_text(),
            "steps": view.condition.steps,
            "mode": view.mode,
            "query": view.query(),
            "start": {
                "window": [text(exact(b)) for b in entry.window.bounds],
                "steps": entry.condition.steps,
            },  # fmt: skip
            "root": [text(b) for b in pyramid.root],
            "tile": self.limits.tile,
            "axes": axis_info(view),
            "depth": depth(view, entry.window),
            "arithmetic": arithmetic,
            "levels": {"coarse": coarse, "fine": fine},
            # tile indices as decimal text: past 2^53 a JSON number would round
            "tiles": {
                "coarse": [[str(i), str(j)] for i, j in pyramid.covering(view.bounds, coarse)],
                "fine": [[str(i), str(j)] for i, j in pyramid.covering(view.bounds, fine)],
            },
            "zoom": zoom_target(view, view.name, entry.window, entry.condition.steps),
        }

    async def tile(self, request: Request) -> Response:
        items = request.query_params.multi_items()
        tile_plan = await asyncio.to_thread(self._plan_or_empty, items)
        if isinstance(tile_plan, str):  # outside an axis's interval: nothing to draw
            header = {"n": self.limits.tile, "empty": tile_plan}
            return Response(b"", headers={"X-Tile": json.dumps(header), **NO_STORE})
        p, rank = tile_plan
        self.requests.append((p.cond.steps, p.mode, p.z, p.i, p.j))
        key = p.key
        grid, source = await asyncio.to_thread(self._stored, key)
        seconds = None
        if grid is None:
            job = self.worker.request(key, p.compute, rank)
            result = asyncio.wrap_future(job.future)
            result.add_done_callback(_retrieve)
            gone = asyncio.ensure_future(_disconnect(request.receive))
            try:
                await asyncio.wait({result, gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                gone.cancel()
                if not result.done():  # the client left (or the server stops): withdraw
                    self.worker.leave(job)
            if not result.done():
                return Response(status_code=499)  # nobody reads it: the client is gone
            if result.exception() is not None:
                raise ViewError(f"tile ({p.z}, {p.i}, {p.j}) failed: {result.exception()}")
            grid, source, seconds = result.result(), "computed", job.seconds
        body = await asyncio.to_thread(encode_tile, grid)
        computed = 1.0 if grid.computed is None else float(np.mean(grid.computed))
        header = {"n": grid.values.shape[1], "z": p.z, "x": str(p.i), "y": str(p.j),
                  "source": source, "seconds": seconds, "arithmetic": p.arithmetic,
                  "mode": p.mode, "computed": computed}  # fmt: skip
        return Response(
            body,
            media_type="application/octet-stream",
            headers={"X-Tile": json.dumps(header), **NO_STORE},
        )

    def _plan_or_empty(self, items) -> tuple[TilePlan, int] | str:
        try:
            return self.tile_plan(items)
        except OutsideError as err:
            return str(err)
        except ViewError:
            raise
        except ValueError as err:  # the pyramid's and the precision's sentences
            raise ViewError(str(err)) from None

    async def download_npz(self, request: Request) -> Response:
        p = await asyncio.to_thread(self._plan_or_empty, request.query_params.multi_items())
        p = p if isinstance(p, str) else p[0]
        path = None if isinstance(p, str) else self.cache.file(*p.key)
        if path is None:
            raise ViewError(_NOT_STORED)
        name = f"{p.cond.steps}steps_z{p.z}_x{p.i}_y{p.j}.npz"
        return FileResponse(path, media_type="application/octet-stream", filename=name)

    async def status(self, request: Request) -> Response:
        stats = self.worker.stats
        last = stats.last
        return JSONResponse(
            {
                "busy": self.worker.busy(),
                "jobs": self.worker.jobs(),
                "computed": stats.computed,
                "cancelled": stats.cancelled,
                "chunks": stats.chunks,
                "requests": len(self.requests),
                "last": None
                if last is None
                else {
                    "chunks": last.chunks,
                    "stopped": last.stopped_at is not None,
                    "seconds_after_stop": None
                    if last.stopped_at is None
                    else last.ended_at - last.stopped_at,
                },
            }
        )

    def _stored(self, key) -> tuple[Grid | None, str | None]:
        """The stored grid of ``key`` and where it was found (our cache or the workflow's)."""
        path = self.cache.file(*key)
        try:
            grid = None if path is None else load_grid(path)
        except ValueError:  # evicted or replaced while being read: compute it again
            grid = None
        if grid is None:
            return None, None
        return grid, "cache" if path.parent == self.cache.root else "workflow"

    def app(self) -> Starlette:
        routes = [
            Route("/", self.page),
            Route("/api/study", self.study_info),
            Route("/api/view", self.view_info),
            Route("/api/tile", self.tile),
            Route("/api/tile.npz", self.download_npz),
            Route("/api/status", self.status),
            Mount("/static", StaticFiles(directory=STATIC)),
        ]
        return Starlette(
            routes=routes,
            # only this machine's names: a page elsewhere cannot reach the server by rebinding
            middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_NAMES)],
            exception_handlers={ViewError: _bad_query, HTTPException: _http_error},
        )


_NOT_STORED = (
    "this tile is not computed (or no longer in the cache); wait for its picture, then download"
)
NO_STORE = {"Cache-Control": "no-store"}
COLOURS = [
    "#" + bytes(rgb_to_uint8(np.asarray(c[:3]))).hex()
    for c in matplotlib.colormaps[CMAP](np.linspace(0, 1, 256))
]


def encode_tile(grid: Grid) -> bytes:
    """The binary body of ``/api/tile`` (module docstring)."""
    computed = np.ones(grid.values.shape, np.uint8) if grid.computed is None else grid.computed
    return b"".join(
        (
            np.ascontiguousarray(grid.values, "<f8").tobytes(),
            np.ascontiguousarray(grid.diverged_at, "<i4").tobytes(),
            np.ascontiguousarray(grid.converged, np.uint8).tobytes(),
            np.ascontiguousarray(computed, np.uint8).tobytes(),
        )
    )


async def _disconnect(receive) -> None:
    """Return when the client has gone (ASGI ``http.disconnect``)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _retrieve(future) -> None:
    """Mark a withdrawn job's outcome as seen (a cancelled sweep is not an error)."""
    if not future.cancelled():
        future.exception()


async def _bad_query(request: Request, exc: ViewError) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=400)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    messages = {404: f"no such page: {request.url.path}", 405: "only GET is served here"}
    message = messages.get(exc.status_code, str(exc.detail))
    return JSONResponse({"error": message}, status_code=exc.status_code)


def bind(port: int) -> socket.socket:
    """A socket bound to 127.0.0.1:``port``, or to a free port if that one is taken (or 0)."""
    for candidate in dict.fromkeys((port, 0)):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", candidate))
        except OSError:
            sock.close()
            continue
        return sock
    raise OSError("no free port on 127.0.0.1")


def server(explorer: Explorer, log_level: str = "warning"):
    """The uvicorn server of the explorer (call ``.run(sockets=[bind(port)])``)."""
    import uvicorn

    config = uvicorn.Config(
        explorer.app(),
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)
