"""Throughput of the sweep engines against the reference-style loop, in two regimes, one run.

The baseline is the way the original notebook computes an image: a Python loop over steps that
calls a jitted, vmapped autodiff training step on every pixel and stacks the per-step losses,
then applies the convergence measure to the stacked trajectories. It runs in a subprocess with
XLA's default threading (all cores, as the notebook runs); ``autodiff`` and ``fused`` are this
library's engines (one compiled segment loop over cache-sized chunks, early exit) on
``--threads`` threads (default: every core this process may use).

Two regimes, measured side by side: the *overview* (the paper's 9-decade window, where many
pixels diverge within a few steps and retire early) and the *deep* window (the tanh panel of
``config/config.yaml``, 2e-6 decades at the boundary, where almost nothing retires and every
pixel trains to the end — where the paper's pictures live).

    python benchmarks/throughput.py [--resolution 128] [--steps 500] [--threads N]
        [--engines fused autodiff] [--regimes overview deep] [--skip-baseline]

Prints pixel-steps per second for each implementation and regime, the speed-up over the
baseline in the same regime, the share of pixel-steps the engine actually trained (the rest
retired early), and the fraction of labels on which each engine agrees with the baseline.
Absolute numbers drift on shared machines (the load average is printed); compare the ratios,
which are measured side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import yaml

from trainability.core.condition import Condition
from trainability.core.engine import available_cores
from trainability.core.window import Window
from trainability.models.mlp import init_problem, reference_loss
from trainability.study.config import load_study
from trainability.train.measure import measure_trajectory
from trainability.train.sweep import Engine, sweep

ROOT = Path(__file__).resolve().parents[1]
OVERVIEW = (-3.0, 6.0, -3.0, 6.0)  # the paper's 9-decade window (log10 learning rates)
DEEP_CONDITION = "tanh_fullbatch"  # its panel in config/config.yaml is the deep window


def regime_bounds(regime: str) -> tuple[float, float, float, float]:
    """log10 bounds of a regime's window: the overview, or the tanh condition's panel."""
    if regime == "overview":
        return OVERVIEW
    raw = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    _, study = load_study(raw, ROOT / "workflow" / "schemas" / "config.schema.yaml")
    return study[DEEP_CONDITION].panel.bounds


def baseline(cond: Condition, window: Window):
    """Reference-style sweep: per-step Python loop, whole-grid vmap, stacked losses."""
    problem = init_problem(cond)
    x, y = window.axes()
    lr_in, lr_out = (a.ravel() for a in np.meshgrid(x, y))
    lrs = jnp.stack([lr_in, lr_out], axis=1)

    def train_step(weights, lr, X, Y):
        loss, grads = jax.value_and_grad(reference_loss)(weights, X, Y, cond.activation)
        rates = [lr[i % 2] for i in range(len(weights))]
        return [w - r * g for w, g, r in zip(weights, grads, rates, strict=True)], loss

    step = jax.jit(jax.vmap(train_step, in_axes=(0, 0, None, None)))
    weights = [jnp.tile(w, (lrs.shape[0], 1, 1)) for w in problem.weights]
    losses = []
    for _ in range(cond.steps):
        weights, loss = step(weights, lrs, problem.X, problem.Y)
        losses.append(loss)
    values, converged = measure_trajectory(np.stack(losses, axis=-1))
    return values.reshape(window.shape), converged.reshape(window.shape)


def baseline_in_subprocess(args, regime: str) -> tuple[np.ndarray, float]:
    """Run the baseline with XLA's default (multi-threaded) CPU settings; (labels, seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "labels.npy")
        cmd = [sys.executable, __file__, "--only-baseline", out, "--regimes", regime]
        for flag in ("resolution", "steps", "activation"):
            cmd += [f"--{flag}", str(getattr(args, flag))]
        env = {**os.environ, "XLA_FLAGS": ""}
        done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        return np.load(out), json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def trained_share(diverged_at: np.ndarray, steps: int) -> float:
    """Share of the grid's pixel-steps a pixel was still training (retired ones stop)."""
    trained = np.where(diverged_at >= 0, diverged_at + 1, steps)
    return float(trained.sum() / (diverged_at.size * steps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=128)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--threads", type=int, default=available_cores())
    parser.add_argument("--activation", default="tanh")
    parser.add_argument(
        "--engines", nargs="+", default=["autodiff", "fused"], choices=["autodiff", "fused"]
    )
    parser.add_argument(
        "--regimes", nargs="+", default=["overview", "deep"], choices=["overview", "deep"]
    )
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--only-baseline", metavar="LABELS.npy", help=argparse.SUPPRESS)
    args = parser.parse_args()

    cond = Condition(activation=args.activation, steps=args.steps)
    pixel_steps = args.resolution**2 * args.steps
    if args.only_baseline:
        window = Window.square(regime_bounds(args.regimes[0]), args.resolution)
        baseline(cond.replace(steps=2), Window.square(window.bounds, 4))  # compile
        (_, labels), seconds = timed(lambda: baseline(cond, window))
        np.save(args.only_baseline, labels)
        print(json.dumps({"seconds": seconds}))
        return

    load_before = os.getloadavg()
    rows = []  # (regime, implementation, seconds, labels, trained share)
    for regime in args.regimes:
        window = Window.square(regime_bounds(regime), args.resolution)
        reference = None
        if not args.skip_baseline:
            reference, seconds = baseline_in_subprocess(args, regime)
            rows.append((regime, "baseline (reference loop)", seconds, reference, 1.0))
        for name in args.engines:
            engine = Engine(name=name, threads=args.threads)
            sweep(cond, Window.square(window.bounds, 4), engine)  # compile outside the timing
            grid, seconds = timed(lambda engine=engine, window=window: sweep(cond, window, engine))
            share = trained_share(grid.diverged_at, args.steps)
            label = f"{name} ({args.threads} threads)"
            rows.append((regime, label, seconds, grid.converged, share))
            if reference is None:
                reference = grid.converged
        rows = [(*r[:3], r[3] == reference, r[4]) if r[0] == regime else r for r in rows]

    print(
        f"grid {args.resolution}x{args.resolution}, {args.steps} steps, {args.activation}, "
        f"float64; engines on {args.threads} thread(s), baseline with XLA's default threading; "
        f"jax {jax.__version__} on {jax.devices()[0].platform}, {available_cores()} cores; "
        f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    header = ("regime", "implementation", "px-steps/s", "speed-up", "trained", "label agreement")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for regime in args.regimes:
        mine = [r for r in rows if r[0] == regime]
        base_seconds = mine[0][2]
        for _, name, seconds, agree, share in mine:
            print(
                f"| {regime} | {name} | {pixel_steps / seconds:,.0f} | "
                f"{base_seconds / seconds:.1f}x | {share:.0%} | {np.mean(agree):.2%} |"
            )


if __name__ == "__main__":
    main()
