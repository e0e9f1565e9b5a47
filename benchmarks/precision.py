"""Cost of float64x2 relative to float64, both arithmetics, measured side by side in one run.

float64, float64x2 by perturbation and float64x2 in double-double sweep the same window of the
same condition (the paper's tanh network by default) with early exit off, so every pixel trains
all its steps; each is compiled first on the same chunk size, so the timings hold training
only. Perturbation's time includes its reference run (one double-double run of T steps per
window, more if the centre blows up: `trainability.train.arithmetics.perturbation`); its time
without it is
printed too (``perturbation_pixels``), the per-pixel cost a large window approaches. The window
is one float64 resolves, so the label agreement with float64 is printed as well (the chaos
floor), and the pixels perturbation computed again in double-double.

    python benchmarks/precision.py [--resolution 16] [--steps 50] [--chunk 128] [--no-dd]

Prints pixel-steps per second (wall and CPU time of this process) for each, the slowdowns
relative to float64 and the load average (absolute numbers drift on shared machines; the ratios
are measured side by side, CPU time being the steadier under load).
"""

from __future__ import annotations

import argparse
import json
import os
import time

from trainability.core.condition import Condition
from trainability.core.window import Window
from trainability.models.mlp import init_problem
from trainability.numerics.jax64 import jnp
from trainability.train.arithmetics.perturbation import reference
from trainability.train.sweep import Engine, sweep


def timed(cond: Condition, window: Window, engine: Engine):
    """(grid, wall seconds, CPU seconds of this process) of one sweep, compiled first."""
    small = Window(window.x_min, window.x_max, window.y_min, window.y_max, 2, 2)
    sweep(cond, small, engine)  # compile
    start, cpu = time.perf_counter(), time.process_time()
    grid = sweep(cond, window, engine)
    return grid, time.perf_counter() - start, time.process_time() - cpu


def reference_seconds(cond: Condition, window: Window) -> tuple[float, float]:
    """(wall, CPU) seconds of the perturbation's reference choice and run alone."""
    problem = init_problem(cond)
    weights = tuple(w[None] for w in problem.weights)
    data = (jnp.asarray(problem.X), jnp.asarray(problem.Y), problem.minibatches)
    reference(cond, window, weights, *data)  # compiled for these argument types
    start, cpu = time.perf_counter(), time.process_time()
    reference(cond, window, weights, *data)
    return time.perf_counter() - start, time.process_time() - cpu


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--resolution", type=int, default=16)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--chunk", type=int, default=128)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--activation", default="tanh")
    p.add_argument("--window", type=float, nargs=4, default=(-1.0, 1.5, -1.0, 1.5))
    p.add_argument("--no-dd", action="store_true", help="skip double-double (slow)")
    args = p.parse_args(argv)
    cond = Condition(width=args.width, steps=args.steps, activation=args.activation)
    window = Window(*args.window, nx=args.resolution, ny=args.resolution)
    px_steps = window.nx * window.ny * cond.steps
    out = {"resolution": args.resolution, "steps": args.steps, "n_data": cond.n_data,
           "activation": args.activation, "load_before": os.getloadavg()[0]}  # fmt: skip
    engines = {
        "float64": Engine(dtype="float64"),
        "perturbation": Engine(dtype="float64x2", arithmetic="perturbation"),
        "doubledouble": Engine(dtype="float64x2", arithmetic="doubledouble"),
    }
    if args.no_dd:
        del engines["doubledouble"]
    grids = {}
    for name, engine in engines.items():
        engine = Engine(
            dtype=engine.dtype, arithmetic=engine.arithmetic, chunk=args.chunk, early_exit=False
        )
        grids[name], seconds, cpu = timed(cond, window, engine)
        out[f"{name}_px_steps_per_s"] = px_steps / seconds
        out[f"{name}_px_steps_per_cpu_s"] = px_steps / cpu
        if name == "perturbation":
            ref, ref_cpu = reference_seconds(cond, window)
            out["perturbation_reference_s"] = ref
            out["perturbation_reference_cpu_s"] = ref_cpu
            out["perturbation_pixels_px_steps_per_s"] = px_steps / (seconds - ref)
            out["perturbation_pixels_px_steps_per_cpu_s"] = px_steps / (cpu - ref_cpu)
            out["perturbation_fallback_pixels"] = grids[name].meta["fallback_pixels"]
            out["perturbation_reference"] = grids[name].meta["reference"]
    for name in ("perturbation", "perturbation_pixels", "doubledouble"):
        for per in ("s", "cpu_s"):
            if f"{name}_px_steps_per_{per}" in out:
                rate = out[f"{name}_px_steps_per_{per}"]
                out[f"{name}_slowdown_{per}"] = out[f"float64_px_steps_per_{per}"] / rate
    for name in grids:
        agree = (grids["float64"].converged == grids[name].converged).mean()
        out[f"{name}_labels_equal_float64"] = float(agree)
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
