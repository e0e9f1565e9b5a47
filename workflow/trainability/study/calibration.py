"""This machine's throughput for the cost estimate (`trainability.study.plan`): measured once,
cached, or a built-in fallback.

A grid of P pixels trained for T steps, of a network with work s = N_eff·p per pixel-step
(N_eff = N data points, or N + B with minibatches of B: the tracked loss stays full-batch;
p parameters), costs on one core

    seconds = P · T · live(regime, T) · factor · r(s) / rate(regime)

- rate(regime): live pixel-steps per second of the paper's network (tanh, width 16, N = 272,
  s = 73,984), measured per *regime*. ``overview``: a window at least one decade wide
  (`trainability.study.plan.REGIME_WIDTH`) on its narrower log axis; a fraction f of its pixels
  diverge and retire early, at mean step t̄ (rounded up to the engine's segments), so
  live(T) = 1 − f + f·min(t̄, T)/T — pixels that had not retired by the calibration's last
  step are taken never to retire. ``deep``: a narrower window, at the boundary, where nothing
  retires: live = 1.
- r(s): the time of a pixel-step of network work s relative to the paper's network,
  interpolated linearly between three measured networks (widths 2, 8 and 16); flat below the
  smallest (the fixed work of a step dominates), extrapolated along the last segment above
  the largest (the products dominate).
- factor: pixel-step equivalents per pixel-step: 1 for a sweep; for the Lyapunov grid
  `trainability.study.plan.LYAPUNOV_FACTOR` (its sweep, twin run and tangent run; measured once,
  not per machine).

Toy sweeps (Liu) count (learning rate × coordinate)-steps at their own measured rate. Every
job pays a start-up (a Python process importing the library, measured), every sweeping job
one compilation per condition it sweeps (measured). Not modelled: the optimizer's and the
schedule's share of a step, the probe readout, rendering, videos and box counting (their jobs
count their start-up only).

The calibration is cached in ``$TRAINABILITY_CALIBRATION`` (default
``~/.cache/trainability/calibration.json``), one entry per machine, JAX version, backend and
engine. `load_calibration` never measures: it returns the cached entry or `FALLBACK` and says
which, so a Snakemake start costs no measurement. Times are CPU times (what core-hours
count; other work on the machine disturbs them less than wall-clock times), on one thread, as
a tile job runs.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from trainability.core.condition import Condition
from trainability.core.window import Window
from trainability.numerics import compile_cache

if TYPE_CHECKING:
    from trainability.study.plan import Work

OVERVIEW_WINDOW = (-3.0, 6.0, -3.0, 6.0)  # the paper's 9-decade window
DEEP_WINDOW = (1.1228, 1.1248, 2.3008, 2.3028)  # 0.002 decades at the paper's tanh boundary
CONVERGED_WINDOW = (-3.0, -1.0, -3.0, -1.0)  # small rates: every pixel trains to the end
CALIBRATION_STEPS = 200
REFERENCE = Condition(steps=CALIBRATION_STEPS)  # the paper's network
SIZE_NETWORKS = (  # (condition, pixels per side) whose step times give r(s)
    (Condition(width=2, dataset_size=1, steps=CALIBRATION_STEPS), 32),
    (Condition(width=8, steps=CALIBRATION_STEPS), 24),
    (REFERENCE, 16),
)


def network_size(cond: Condition) -> int:
    """Work of one pixel-step: N_eff x the multiply-accumulates of one forward pass
    (`Condition.forward_macs`: the parameters for the mlp, several times them for the cnn's
    convolutions and the transformer's tokens; N_eff = N, or N + B with minibatches)."""
    n_eff = cond.n_data + (cond.batch_size or 0)
    return n_eff * cond.forward_macs


@dataclass(frozen=True)
class Calibration:
    """Throughput of one machine, JAX version, backend and engine (module docstring)."""

    rates: dict  # regime -> live pixel-steps/s of the paper's network; "toy" -> toy steps/s
    retired: float  # overview: fraction of pixels that retire early ...
    retire_step: float  # ... and the mean step at which they do
    sizes: tuple  # ((network work, seconds per live pixel-step), ...), ascending
    compile_s: float  # one compilation of a sweep's segment
    startup_s: float  # a job process importing the library
    baseline_bytes: int  # resident size of a job after one compilation
    chunk: int  # pixels per compiled chunk: a job's pixels are padded to whole chunks
    measured: str  # when and where, or "built-in fallback"

    def live(self, regime: str, steps: int) -> float:
        """Fraction of a grid's pixel-steps that are trained (the rest retired early)."""
        if regime != "overview" or steps <= 0:
            return 1.0
        return 1.0 - self.retired + self.retired * min(self.retire_step, steps) / steps

    def relative_step(self, size: int) -> float:
        """r(s): time of a pixel-step of network work s over the paper network's."""
        s, t = np.array(self.sizes, dtype=float).T
        size = as_float(size)
        if size <= s[-1]:
            value = np.interp(size, s, t)
        else:
            value = t[-1] + (size - s[-1]) * (t[-1] - t[-2]) / (s[-1] - s[-2])
        return float(value / np.interp(network_size(REFERENCE), s, t))

    def seconds(self, work: Work) -> float:
        """CPU seconds of a work's training (no start-up or compilation)."""
        if work.regime == "none" or work.pixel_steps == 0:
            return 0.0
        if work.regime == "toy":
            return as_float(work.pixel_steps) / self.rates["toy"]
        per_job = work.job_pixels or work.pixels
        padding = as_float(-(-per_job // self.chunk) * self.chunk) / as_float(per_job)
        live = self.live(work.regime, work.steps)
        steps = as_float(work.pixel_steps) * padding * live * work.factor
        return steps * self.relative_step(work.size) / self.rates[work.regime]


# `calibrate` on the 2-core development machine on 2026-11-29 while four other sessions kept it
# busy (load ~8): slower than an idle machine (the README's idle figures are 2-4x higher), so a
# study without a calibration is refused sooner rather than later.
FALLBACK = Calibration(
    rates={"overview": 24000.0, "deep": 24500.0, "toy": 1.0e7},
    retired=0.375,
    retire_step=75.5,
    sizes=((6, 1.0e-6), (5184, 5.1e-6), (73984, 4.3e-5)),
    compile_s=3.7,
    startup_s=1.75,
    baseline_bytes=400 * 2**20,
    chunk=128,
    measured="built-in fallback",
)


def as_float(n) -> float:
    """A (possibly astronomically large) integer as a float, inf past float's range."""
    try:
        return float(n)
    except OverflowError:
        return math.inf


def cache_path() -> Path:
    default = Path.home() / ".cache" / "trainability" / "calibration.json"
    return Path(os.environ.get("TRAINABILITY_CALIBRATION") or default)


def calibration_key(engine: dict, backend: str) -> str:
    """Machine, JAX version, backend and engine: what the throughput depends on."""
    import jax

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    chunk = engine.get("chunk") or "default"
    return (
        f"{platform.node()} | {cpu} x{os.cpu_count()} | jax {jax.__version__} | {backend} | "
        f"{engine.get('name', 'fused')} {engine.get('dtype', 'float64')} chunk {chunk}"
    )


def load_calibration(engine: dict, backend: str = "cpu") -> tuple[Calibration, str]:
    """The cached calibration for this machine and engine, else `FALLBACK`; and a phrase
    saying which. A GPU figure may come from another machine (GPU nodes are not where
    Snakemake starts); without one, the CPU figures are used and the phrase says so."""
    key = calibration_key(engine, backend)
    try:
        entries = json.loads(cache_path().read_text())
        entries = entries if isinstance(entries, dict) else {}
    except (OSError, ValueError):
        entries = {}
    suffix = key.split(" | ", 2)[2]  # jax version, backend, engine
    candidates = [key] if backend == "cpu" else [key, *(k for k in entries if k.endswith(suffix))]
    for name in candidates:
        try:
            entry = entries[name]
            cal = Calibration(**{**entry, "sizes": tuple(map(tuple, entry["sizes"]))})
        except (KeyError, TypeError):
            continue  # none, or an entry of an older format: measure again
        return cal, f"measured {cal.measured}"
    if backend != "cpu":
        cpu, how = load_calibration(engine, "cpu")
        return cpu, f"no {backend.upper()} figure measured, CPU figures used: {how}"
    return FALLBACK, "built-in fallback figures, not measured on this machine"


def save_calibration(engine: dict, backend: str, cal: Calibration) -> None:
    from trainability.core.atomic import atomic_path

    path = cache_path()
    try:
        entries = json.loads(path.read_text())
        if not isinstance(entries, dict):
            entries = {}
    except (OSError, ValueError):
        entries = {}
    entries[calibration_key(engine, backend)] = asdict(cal)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(entries, indent=1))


def calibrate(engine: dict) -> Calibration:
    """Measure this machine (about ten seconds when idle): a job process's start-up; then, in
    this process, on one thread as a tile job runs, the first sweep of the paper's network
    (compilation and drawing the problem), short sweeps of each regime and of three network
    sizes, and a toy sweep. Times are CPU times (what core-hours count), so other work on the
    machine disturbs them less than it would wall-clock times."""
    import resource

    from trainability.toys.losses import ToyLoss, sweep_lr
    from trainability.train.sweep import Engine, default_chunk, forget_compiled, sweep

    # double-double is priced by a fixed factor of float64 (trainability.study.plan)
    eng = Engine.from_config(
        engine, default_chunk, dtype=_timed_dtype(engine.get("dtype", "float64"))
    )
    startup_s = _measure_startup()
    forget_compiled()  # a process that swept before (a test session, the explorer) compiles anew
    with compile_cache.suspended():  # a real compilation, not a load from the disk cache
        start = time.process_time()
        sweep(REFERENCE, Window.square(OVERVIEW_WINDOW, 2), eng)
        first = time.process_time() - start
    rates, retired, retire_step = {}, 0.0, 0.0
    for regime, window in (
        ("overview", Window(*OVERVIEW_WINDOW, nx=24, ny=16)),
        ("deep", Window(*DEEP_WINDOW, nx=16, ny=16)),
    ):
        computed, seconds, r = _timed_sweep(REFERENCE, window, eng)
        rates[regime] = computed / seconds
        if regime == "overview":
            ends = _retire_ends(r, CALIBRATION_STEPS, eng.segment)
            retired = float(np.mean(r >= 0))
            retire_step = float(ends[r >= 0].mean()) if retired else 0.0
    one_chunk = eng.chunk * CALIBRATION_STEPS / rates["deep"]
    sizes = []
    for cond, side in SIZE_NETWORKS:
        computed, seconds, _ = _timed_sweep(cond, Window.square(CONVERGED_WINDOW, side), eng)
        sizes.append((network_size(cond), seconds / computed))
    loss = ToyLoss("multiplicative", 0.2, 0.1)
    sweep_lr(loss, 1.0, levels=10, steps=1000)  # compile
    start = time.process_time()
    sweep_lr(loss, 1.0, levels=13, steps=1000)
    rates["toy"] = (2**13 + 1) * 1001 / (time.process_time() - start)
    return Calibration(
        rates=rates,
        retired=retired,
        retire_step=retire_step,
        sizes=tuple(sizes),
        compile_s=max(first - one_chunk, 0.0),
        startup_s=startup_s,
        baseline_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        chunk=eng.chunk,
        measured=f"{time.strftime('%Y-%m-%d %H:%M')} on {platform.node()}",
    )


def _timed_dtype(dtype: str) -> str:
    """The dtype the calibration times: float64 for double-double (``float64x2`` or ``auto``),
    which `trainability.study.plan` prices as a fixed factor of float64."""
    return "float64" if dtype in ("float64x2", "auto") else dtype


def _timed_sweep(cond: Condition, window: Window, engine) -> tuple[int, float, np.ndarray]:
    """(computed pixel-steps, seconds, step of divergence per pixel) of one sweep, compiled
    beforehand. Computed pixel-steps count the copies that pad each segment's last chunk."""
    from trainability.train.sweep import sweep

    sweep(cond, Window.square(window.bounds, 2), engine)  # compile
    start = time.process_time()
    grid = sweep(cond, window, engine)
    seconds = time.process_time() - start
    r = grid.diverged_at.ravel()
    ends = _retire_ends(r, cond.steps, engine.segment)
    computed = 0
    for t0 in range(0, cond.steps, engine.segment):
        live = int(np.sum(ends > t0))
        length = min(engine.segment, cond.steps - t0)
        computed += -(-live // engine.chunk) * engine.chunk * length
    return computed, seconds, r


def _retire_ends(diverged_at: np.ndarray, steps: int, segment: int) -> np.ndarray:
    """Steps each pixel is trained: to the end of the segment it retired in, or all."""
    ends = np.minimum((diverged_at // segment + 1) * segment, steps)
    return np.where(diverged_at >= 0, ends, steps)


def _measure_startup() -> float:
    """CPU seconds a fresh Python process takes to import what a sweep job imports."""
    import resource

    import trainability

    package = str(Path(trainability.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": package + (os.pathsep + path if path else "")}
    code = "import snakemake.script, trainability.train.sweep"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"calibration: a job process cannot start: {out.stderr[-300:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
