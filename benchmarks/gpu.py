"""The sweep engine on a GPU: chunk and segment picked by a short sweep, then pixel-steps per
second in both regimes at 1024² × 1000 steps, and label agreement with the CPU engine.

Run by ``benchmarks/gpu.sh`` (which installs the CUDA build of the pinned JAX first):

    python benchmarks/gpu.py [--resolution 1024] [--steps 1000] [--check-resolution 64]

1. *Pick*: each (chunk, segment) candidate sweeps the deep window at ``--pick-resolution``² for
   ``--pick-steps`` steps (compiled beforehand); the fastest wins. The chunk is part of the
   numerical definition (XLA picks kernels by operand size), the segment is not (tests check
   that segments, blocks, threads and tiles change no bit).
2. *Throughput*: the overview (the paper's 9 decades, many pixels retire early) and the deep
   window (the tanh panel of ``config/config.yaml``, nothing retires) at ``--resolution``² ×
   ``--steps`` steps with the picked chunk and segment.
3. *Agreement*: both windows at ``--check-resolution``² × ``--steps`` steps on the GPU and, in a
   subprocess, with the CPU engine (its own chunk of 128): the fraction of equal labels. Chaotic
   pixels at the boundary may differ (another chunk or device changes the last bits).

Without a GPU it stops with one line and exit status 2, unless ``--allow-cpu`` (for testing
this script's logic with tiny sizes).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "workflow"))

from throughput import regime_bounds  # noqa: E402

from trainability.core.condition import Condition  # noqa: E402
from trainability.core.engine import available_cores  # noqa: E402
from trainability.core.grid import load_grid  # noqa: E402
from trainability.core.window import Window  # noqa: E402
from trainability.numerics.jax64 import jax  # noqa: E402
from trainability.train.sweep import Engine, sweep  # noqa: E402

REGIMES = ("overview", "deep")


def timed_sweep(cond: Condition, window: Window, engine: Engine) -> tuple[object, float]:
    """(grid, seconds) of a sweep compiled beforehand on a tiny window of the same condition."""
    sweep(cond, Window.square(window.bounds, 2), engine)
    start = time.perf_counter()
    grid = sweep(cond, window, engine)
    return grid, time.perf_counter() - start


def pick_engine(args, cond: Condition) -> Engine:
    """The fastest (chunk, segment) on a short sweep of the deep window."""
    window = Window.square(regime_bounds("deep"), args.pick_resolution)
    short = cond.replace(steps=args.pick_steps)
    best = None
    for chunk in args.chunks:
        for segment in args.segments:
            engine = Engine(chunk=chunk, segment=segment, threads=args.threads)
            _, seconds = timed_sweep(short, window, engine)
            rate = window.nx * window.ny * short.steps / seconds
            print(f"  pick: chunk {chunk:>7}, segment {segment:>4}: {rate:>14,.0f} px-steps/s")
            if best is None or rate > best[0]:
                best = (rate, engine)
    return best[1]


def cpu_labels(args, regime: str, out: Path) -> np.ndarray:
    """Labels of the CPU engine (default chunk, every core) in a subprocess."""
    x0, x1, y0, y1 = regime_bounds(regime)
    cmd = [
        sys.executable, "-m", "trainability", "sweep", "--quiet",
        "--window", str(x0), str(x1), str(y0), str(y1),
        "--resolution", str(args.check_resolution), "--steps", str(args.steps),
        "--threads", str(available_cores()), "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT / "workflow")}
    subprocess.run(cmd, env=env, check=True)
    return load_grid(out).converged


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--resolution", type=int, default=1024)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--check-resolution", type=int, default=64)
    p.add_argument("--pick-resolution", type=int, default=512)
    p.add_argument("--pick-steps", type=int, default=50)
    p.add_argument("--chunks", type=int, nargs="+", default=[16384, 65536, 262144])
    p.add_argument("--segments", type=int, nargs="+", default=[25, 100])
    p.add_argument("--threads", type=int, default=2, help="chunks in flight (host/device overlap)")
    p.add_argument("--allow-cpu", action="store_true", help="run without a GPU (tests only)")
    args = p.parse_args()

    backend = jax.default_backend()
    if backend != "gpu" and not args.allow_cpu:
        print(f"benchmarks/gpu.py: JAX sees no GPU (backend {backend!r}); nothing measured")
        return 2
    device = jax.devices()[0]
    cond = Condition(steps=args.steps)  # the paper's tanh network, full batch
    print(f"jax {jax.__version__} on {backend}: {device.device_kind}; float64")

    start = time.perf_counter()
    engine = pick_engine(args, cond)
    picked = time.perf_counter() - start
    print(f"picked chunk {engine.chunk}, segment {engine.segment} ({picked:.0f} s)")

    n = args.resolution
    print("| regime | grid | px-steps/s | trained | seconds |")
    print("|---|---|---|---|---|")
    for regime in REGIMES:
        window = Window.square(regime_bounds(regime), n)
        grid, seconds = timed_sweep(cond, window, engine)
        r = grid.diverged_at
        trained = np.where(r >= 0, r + 1, args.steps).sum() / (r.size * args.steps)
        print(
            f"| {regime} | {n}² × {args.steps} | {n * n * args.steps / seconds:,.0f} | "
            f"{trained:.0%} | {seconds:.1f} |"
        )

    with tempfile.TemporaryDirectory() as tmp:
        for regime in REGIMES:
            window = Window.square(regime_bounds(regime), args.check_resolution)
            gpu = sweep(cond, window, engine).converged
            cpu = cpu_labels(args, regime, Path(tmp) / f"{regime}.npz")
            print(
                f"label agreement with the CPU engine, {regime} "
                f"{args.check_resolution}² × {args.steps}: {np.mean(gpu == cpu):.4%}"
            )
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
