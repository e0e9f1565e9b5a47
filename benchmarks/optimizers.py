"""Throughput of the fused engine with gradient descent, heavy-ball momentum and Adam, measured
in one run on the same grid.

    python benchmarks/optimizers.py [--resolution 64] [--steps 300] [--threads 1]

Every optimizer trains the same lr_vs_lr window (the paper's tanh condition) with early exit off,
so each does exactly resolution² × steps pixel-steps and the ratios compare the cost of one step.
A second table runs with early exit on (the default of a sweep): there the optimizers also
differ in how many pixels diverge and how soon (Adam's bounded steps rarely reach the retirement
threshold), so it shows end-to-end time rather than per-step cost. Absolute numbers drift on
shared machines; compare the ratios, which are measured side by side. The CPU-time ratio (process
time, all threads) is the steadier one when other jobs share the cores.
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

from trainability.core.condition import Condition
from trainability.core.window import Window
from trainability.train.sweep import Engine, default_chunk, sweep

OPTIMIZERS = {
    "gd": {},
    "momentum (mu 0.9)": {"optimizer": "momentum", "momentum": 0.9},
    "adam": {"optimizer": "adam"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--activation", default="tanh")
    parser.add_argument("--repeats", type=int, default=1, help="best of this many timings")
    args = parser.parse_args()

    base = Condition(activation=args.activation, steps=args.steps)
    window = Window.square((-3, 6, -3, 6), args.resolution)
    small = Window.square((-3, 6, -3, 6), 4)
    pixel_steps = args.resolution**2 * args.steps
    print(
        f"grid {args.resolution}x{args.resolution}, {args.steps} steps, {args.activation}, "
        f"fused engine, float64, threads {args.threads}, jax {jax.__version__} on "
        f"{jax.devices()[0].platform}"
    )
    for early_exit in (False, True):
        engine = Engine(chunk=default_chunk(), threads=args.threads, early_exit=early_exit)
        rows = []
        for name, changes in OPTIMIZERS.items():
            cond = base.replace(**changes)
            sweep(cond, small, engine)  # compile outside the timed region
            wall, cpu = [], []
            for _ in range(args.repeats):
                start, start_cpu = time.perf_counter(), time.process_time()
                grid = sweep(cond, window, engine)
                wall.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            rows.append((name, min(wall), min(cpu), grid))
        print(f"\nearly exit {'on' if early_exit else 'off'}")
        print(
            f"| {'optimizer':<18} | {'px-steps/s':>12} | {'wall vs gd':>10} | "
            f"{'cpu vs gd':>9} | {'converged':>9} | {'retired':>7} |"
        )
        print(f"|{'-' * 20}|{'-' * 14}|{'-' * 12}|{'-' * 11}|{'-' * 11}|{'-' * 9}|")
        gd_wall, gd_cpu = rows[0][1], rows[0][2]
        for name, wall_s, cpu_s, grid in rows:
            print(
                f"| {name:<18} | {pixel_steps / wall_s:>12,.0f} | {wall_s / gd_wall:>9.2f}x"
                f" | {cpu_s / gd_cpu:>8.2f}x | {np.mean(grid.converged):>9.1%}"
                f" | {np.mean(grid.diverged_at >= 0):>7.1%} |"
            )


if __name__ == "__main__":
    main()
