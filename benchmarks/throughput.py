"""Throughput of the sweep engines against the reference-style loop, measured in one run.

The baseline is the way the original notebook computes an image: a Python loop over steps that
calls a jitted, vmapped autodiff training step on every pixel and stacks the per-step losses,
then applies the convergence measure to the stacked trajectories. It runs in a subprocess with
XLA's default threading (all cores, as the notebook runs); ``autodiff`` and ``fused`` are this
library's engines (one compiled segment loop over cache-sized chunks, early exit) on
``--threads`` threads.

    python benchmarks/throughput.py [--resolution 128] [--steps 500] [--threads 1]

Prints pixel-steps per second for each, the speed-up over the baseline, and the fraction of
pixel labels on which each engine agrees with the baseline. Absolute numbers drift on shared
machines; compare the ratios, which are measured side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np

from trainability.condition import Condition
from trainability.measure import measure_trajectory
from trainability.model import init_problem, reference_loss
from trainability.sweep import Engine, sweep
from trainability.window import Window


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


def baseline_in_subprocess(args) -> tuple[np.ndarray, float]:
    """Run the baseline with XLA's default (multi-threaded) CPU settings; (labels, seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "labels.npy")
        cmd = [
            sys.executable,
            __file__,
            "--only-baseline",
            out,
            "--resolution",
            str(args.resolution),
            "--steps",
            str(args.steps),
            "--activation",
            args.activation,
        ]
        env = {**os.environ, "XLA_FLAGS": ""}
        done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        return np.load(out), json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=128)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--activation", default="tanh")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--only-baseline", metavar="LABELS.npy", help=argparse.SUPPRESS)
    args = parser.parse_args()

    cond = Condition(activation=args.activation, steps=args.steps)
    window = Window.square((-3, 6, -3, 6), args.resolution)
    pixel_steps = args.resolution**2 * args.steps
    small = Window.square((-3, 6, -3, 6), 4)  # compile outside the timed region
    if args.only_baseline:
        baseline(cond.replace(steps=2), small)
        (_, labels), seconds = timed(lambda: baseline(cond, window))
        np.save(args.only_baseline, labels)
        print(json.dumps({"seconds": seconds}))
        return
    rows = []
    reference = None
    if not args.skip_baseline:
        reference, seconds = baseline_in_subprocess(args)
        rows.append(("baseline (reference loop)", seconds, reference))
    for name in ("autodiff", "fused"):
        engine = Engine(name=name, threads=args.threads)
        sweep(cond, small, engine)
        grid, seconds = timed(lambda engine=engine: sweep(cond, window, engine))
        rows.append((name, seconds, grid.converged))
    if reference is None:
        reference = rows[0][2]

    base_seconds = rows[0][1]
    print(
        f"grid {args.resolution}x{args.resolution}, {args.steps} steps, {args.activation}, "
        f"float64, engines on {args.threads} thread(s), baseline with XLA's default threading, "
        f"jax {jax.__version__} on {jax.devices()[0].platform} ({os.cpu_count()} cores)"
    )
    header = ("implementation", "px-steps/s", "speed-up", "label agreement")
    print(f"| {header[0]:<26} | {header[1]:>12} | {header[2]:>8} | {header[3]:>15} |")
    print(f"|{'-' * 28}|{'-' * 14}|{'-' * 10}|{'-' * 17}|")
    for name, seconds, labels in rows:
        print(
            f"| {name:<26} | {pixel_steps / seconds:>12,.0f} | {base_seconds / seconds:>7.1f}x"
            f" | {np.mean(labels == reference):>14.4%} |"
        )


if __name__ == "__main__":
    main()
