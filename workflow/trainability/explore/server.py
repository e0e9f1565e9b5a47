"""The explorer's web application (Starlette) and server (uvicorn, on 127.0.0.1 only).

Routes (every ``/api`` route takes the view's query, `trainability.explore.view`):

- ``GET /``: the page (``static/index.html``; ``/static/…`` its script and style);
- ``GET /api/study``: the conditions, the default one, the pass resolutions;
- ``GET /api/view``: a validated view: axes and ticks, depth, float64 headroom, the passes to
  show (starting at the finest already stored), the zoom target's config lines;
- ``GET /api/grid?…&res=N``: the grid of the view at N² pixels, from the cache or computed now.
  The body is binary, little-endian, row 0 = lowest y: ``values`` (N² float64), ``diverged_at``
  (N² int32), ``converged`` (N² uint8), then the picture as RGBA (N²·4 uint8, top row first,
  `trainability.figures.heatmap`'s rank stretch and colours); the ``X-Grid`` header holds JSON
  (size,
  source: ``cache``, ``workflow`` or ``computed``, compute seconds). A client that disconnects
  before the grid is ready withdraws its request (`trainability.explore.worker`);
- ``GET /api/grid.npz``, ``/api/grid.png``: a stored grid as the project's ``.npz``
  (`trainability.core.grid.save_grid`) and as the paper-style heatmap
  (`trainability.figures.heatmap`);
- ``GET /api/status``: what the compute thread has done.

A bad query gets status 400 and ``{"error": "<one sentence>"}``; the page shows the sentence.
Requests naming another host than 127.0.0.1 or localhost are refused (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from trainability.core.grid import Grid, load_grid
from trainability.explore.cache import GridCache, grid_key
from trainability.explore.view import (
    Limits,
    View,
    ViewError,
    axis_info,
    depth,
    headroom,
    parse_int,
    parse_view,
    zoom_target,
)
from trainability.explore.worker import Worker
from trainability.figures.heatmap import axis_labels, colorize, heatmap_figure, rank_stretch
from trainability.study.config import StudyCondition
from trainability.train.sweep import Engine, sweep_meta

STATIC = Path(__file__).parent / "static"
LOOPBACK_NAMES = ["127.0.0.1", "localhost"]


class Explorer:
    """The study, the default condition, the pass resolutions, the cache and the worker."""

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

    def key(self, view: View, resolution: int) -> tuple[str, int, int]:
        """The cache key of the view's grid at ``resolution`` (`trainability.explore.cache`)."""
        meta = sweep_meta(view.condition, view.window(resolution), self.engine, None, (1, 1))
        return grid_key(meta)

    def parse(self, request: Request, extra: tuple[str, ...] = ()):
        return parse_view(
            request.query_params.multi_items(), self.study, self.default, self.limits, extra
        )

    def passes(self, view: View) -> tuple[list[int], list[int]]:
        """(resolutions to show, resolutions already stored): the ladder from the finest stored
        resolution up, so a stored grid is the first picture."""
        top = self.limits.max_resolution
        stored = [r for r in self.cache.resolutions(self.key(view, top)[0]) if r <= top]
        ladder = self.limits.ladder()
        if not stored:
            return ladder, stored
        return sorted({stored[-1], *(r for r in ladder if r > stored[-1])}), stored

    # ------------------------------------------------------------------------------ routes
    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def study_info(self, request: Request) -> Response:
        conditions = [
            {
                "name": name,
                "title": entry.title,
                "window": list(entry.window.bounds),
                "steps": entry.condition.steps,
            }
            for name, entry in self.study.items()
        ]
        return JSONResponse(
            {
                "default": self.default,
                "conditions": conditions,
                "passes": self.limits.ladder(),
            }
        )

    async def view_info(self, request: Request) -> Response:
        view, _ = self.parse(request)
        entry = self.study[view.name]
        top = self.limits.max_resolution
        passes, stored = await asyncio.to_thread(self.passes, view)
        return JSONResponse(
            {
                "condition": view.name,
                "title": entry.title,
                "window": list(view.bounds),
                "steps": view.condition.steps,
                "query": view.query(),
                "start": {"window": list(entry.window.bounds), "steps": entry.condition.steps},
                "axes": axis_info(view),
                "depth": depth(view, entry.window),
                "headroom": headroom(view, top),
                "max_resolution": top,
                "passes": passes,
                "stored": stored,
                "zoom": zoom_target(view, view.name, entry.window, entry.condition.steps),
            }
        )

    async def grid(self, request: Request) -> Response:
        view, extra = self.parse(request, extra=("res",))
        res = self._resolution(extra)
        key = self.key(view, res)
        grid, source = await asyncio.to_thread(self._stored, key)
        seconds = None
        if grid is None:
            job = self.worker.request(key, view.condition, view.window(res))
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
            grid, source, seconds = result.result(), "computed", job.seconds
        body = await asyncio.to_thread(encode_grid, grid)
        header = {"nx": grid.values.shape[1], "ny": grid.values.shape[0], "source": source}
        header["seconds"] = seconds
        return Response(
            body,
            media_type="application/octet-stream",
            headers={"X-Grid": json.dumps(header), "Cache-Control": "no-store"},
        )

    async def download_npz(self, request: Request) -> Response:
        view, extra = self.parse(request, extra=("res",))
        res = self._resolution(extra)
        path = self.cache.file(*self.key(view, res))
        if path is None:
            raise ViewError(_NOT_STORED)
        return FileResponse(
            path, media_type="application/octet-stream", filename=f"{view.name}_{res}.npz"
        )

    async def download_png(self, request: Request) -> Response:
        view, extra = self.parse(request, extra=("res",))
        res = self._resolution(extra)
        grid, _ = await asyncio.to_thread(self._stored, self.key(view, res))
        if grid is None:
            raise ViewError(_NOT_STORED)
        title = f"{self.study[view.name].title}, {view.condition.steps} steps"
        png = await asyncio.to_thread(heatmap_png, grid, view, title)
        return Response(
            png,
            media_type="image/png",
            headers={"Content-Disposition": f'attachment; filename="{view.name}_{res}.png"'},
        )

    async def status(self, request: Request) -> Response:
        stats = self.worker.stats
        last = stats.last
        return JSONResponse(
            {
                "busy": self.worker.busy(),
                "computed": stats.computed,
                "cancelled": stats.cancelled,
                "chunks": stats.chunks,
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

    def _resolution(self, extra: dict) -> int:
        if "res" not in extra:
            raise ViewError("res (pixels per side) is required")
        return parse_int("res", extra["res"], 2, self.limits.max_resolution)

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
            Route("/api/grid", self.grid),
            Route("/api/grid.npz", self.download_npz),
            Route("/api/grid.png", self.download_png),
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
    "this grid is not computed (or no longer in the cache); wait for its picture, then download"
)


def encode_grid(grid: Grid) -> bytes:
    """The binary body of ``/api/grid`` (module docstring)."""
    rgb = colorize(rank_stretch(grid.values))  # top row first
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=2)
    return b"".join(
        (
            np.ascontiguousarray(grid.values, "<f8").tobytes(),
            np.ascontiguousarray(grid.diverged_at, "<i4").tobytes(),
            np.ascontiguousarray(grid.converged, np.uint8).tobytes(),
            rgba.tobytes(),
        )
    )


def heatmap_png(grid: Grid, view: View, title: str) -> bytes:
    """The paper-style heatmap of a grid, as `python -m trainability render` draws it."""
    fig = heatmap_figure(
        grid.values, view.bounds, title=title, **axis_labels(grid.meta["condition"])
    )
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


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
