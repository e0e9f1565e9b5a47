"""The one thread that computes the explorer's tiles, and how a computation is stopped.

Tiles are computed one at a time, lowest priority first and then in the order asked, by
`trainability.train.sweep.sweep` on one background thread (the sweep itself runs its chunks on
``engine.threads`` threads). A request joins an equal job already queued or running (same cache
key) instead of starting another; each job counts the requests waiting for it, and when the last
one leaves (the page moved on and the tile left the view, or the client disconnected) the job's
stop flag is set. The sweep asks ``cancel`` before every chunk of every segment
(`sweep(..., cancel=...)`), so a running job stops after the chunks already in flight (one per
thread, tens of milliseconds) and a queued one never starts: no stale tile runs behind a new
view.

Each finished grid is written to the cache before the job completes, so whoever asks next
finds it there. `Stats` counts what the thread did (grids computed and cancelled, chunks
started) for the status endpoint and the tests.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from trainability.core.condition import Condition
from trainability.core.grid import Grid
from trainability.core.window import Window
from trainability.explore.cache import GridCache
from trainability.train.sweep import Engine, SweepCancelled, sweep

Compute = Callable[[Callable[[], bool]], Grid]  # cancel → the grid (raises SweepCancelled)


@dataclass
class Job:
    """One grid to compute and the requests waiting for it."""

    key: tuple[str, int, int]
    stop: threading.Event = field(default_factory=threading.Event)
    future: Future | None = None
    waiters: int = 1
    chunks: int = 0  # chunks started
    stopped_at: float | None = None  # time.monotonic() when the last waiter left
    chunks_at_stop: int | None = None  # chunks started by then
    ended_at: float | None = None  # when the job's thread let go of it
    seconds: float | None = None  # compute time of a finished grid


@dataclass
class Stats:
    computed: int = 0
    cancelled: int = 0
    chunks: int = 0
    last: Job | None = None  # the job that ended last


class Worker:
    """Computes grids on one background thread; see the module docstring."""

    def __init__(self, engine: Engine, cache: GridCache):
        self.engine = engine
        self.cache = cache
        self.stats = Stats()
        self._jobs: dict[tuple[str, int, int], Job] = {}
        self._running: Job | None = None
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="explore-sweep")
        self._queue: list = []  # (priority, arrival, job, compute): a heap
        self._arrival = itertools.count()

    def request(self, key: tuple[str, int, int], compute: Compute, priority: int = 0) -> Job:
        """Join the live job for ``key`` or queue ``compute``; pair with `leave` or the result.
        Queued jobs start lowest ``priority`` first, then in the order asked (the page gives
        each tile its rank by distance to the view's centre: requests sent side by side may
        arrive in any order)."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and not job.stop.is_set():
                job.waiters += 1
                return job
            job = Job(key)
            job.future = Future()
            self._jobs[key] = job
            heapq.heappush(self._queue, (priority, next(self._arrival), job, compute))
        self._pool.submit(self._next)  # one task per job: each runs the best job queued
        return job

    def _next(self) -> None:
        with self._lock:
            _, _, job, compute = heapq.heappop(self._queue)
        try:
            job.future.set_result(self._run(job, compute))
        except BaseException as err:  # SweepCancelled included: the waiters read it
            job.future.set_exception(err)

    def leave(self, job: Job) -> None:
        """A request stops waiting; the last one out stops the job."""
        with self._lock:
            job.waiters -= 1
            if job.waiters == 0 and not job.future.done():
                job.stopped_at = time.monotonic()
                job.chunks_at_stop = job.chunks
                job.stop.set()
                if self._jobs.get(job.key) is job:
                    del self._jobs[job.key]

    def warm_up(self, cond: Condition, bounds: tuple[float, float, float, float]) -> Future:
        """Compile the condition's step function now (a 2×2 grid of ``bounds``), so that the
        first view does not wait for the compiler."""
        return self._pool.submit(sweep, cond, Window(*bounds, nx=2, ny=2), self.engine)

    def busy(self) -> bool:
        """Whether the thread is computing a grid now."""
        return self._running is not None

    def shutdown(self) -> None:
        with self._lock:
            for job in self._jobs.values():
                job.stop.set()
        self._pool.shutdown(wait=True)  # queued jobs see their stop flag and end at once

    def jobs(self) -> int:
        """Jobs queued or running that some request still waits for."""
        with self._lock:
            return len(self._jobs)

    def _run(self, job: Job, compute: Compute) -> Grid:
        def cancel() -> bool:
            if job.stop.is_set():
                return True
            with self._lock:
                job.chunks += 1
                self.stats.chunks += 1
            return False

        start = time.perf_counter()
        self._running = job
        try:
            if job.stop.is_set():
                raise SweepCancelled("stopped before it started")
            grid = compute(cancel)
            job.seconds = time.perf_counter() - start
            self.cache.put(grid)
            self.stats.computed += 1
            return grid
        except SweepCancelled:
            self.stats.cancelled += 1
            raise
        finally:
            self._running = None
            with self._lock:
                job.ended_at = time.monotonic()
                self.stats.last = job
                if self._jobs.get(job.key) is job:
                    del self._jobs[job.key]
