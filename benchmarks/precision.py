"""Cost of the float64x2 (double-double) engine relative to float64, measured in one run.

Both engines sweep the same window of the same condition (the paper's tanh network by default)
with early exit off, so every pixel trains all its steps; each is compiled first on the same
chunk size, so the timings hold training only. The window is one float64 resolves, so the
label agreement between the two is printed as well (the chaos floor).

    python benchmarks/precision.py [--resolution 16] [--steps 50] [--chunk 128]

Prints pixel-steps per second for each and the ratio. Absolute numbers drift on shared
machines; the ratio is measured side by side.
"""

from __future__ import annotations

import argparse
import json
import time

from trainability.condition import Condition
from trainability.sweep import Engine, sweep
from trainability.window import Window


def timed(cond: Condition, window: Window, engine: Engine):
    small = Window(window.x_min, window.x_max, window.y_min, window.y_max, 2, 2)
    sweep(cond, small, engine)  # compile
    start = time.perf_counter()
    grid = sweep(cond, window, engine)
    seconds = time.perf_counter() - start
    return grid, window.nx * window.ny * cond.steps / seconds


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--resolution", type=int, default=16)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--chunk", type=int, default=128)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--window", type=float, nargs=4, default=(-1.0, 1.5, -1.0, 1.5))
    args = p.parse_args(argv)
    cond = Condition(width=args.width, steps=args.steps)
    window = Window(*args.window, nx=args.resolution, ny=args.resolution)
    out = {"resolution": args.resolution, "steps": args.steps, "n_data": cond.n_data}
    grids = {}
    for dtype in ("float64", "float64x2"):
        engine = Engine(dtype=dtype, chunk=args.chunk, early_exit=False)
        grids[dtype], out[f"{dtype}_px_steps_per_s"] = timed(cond, window, engine)
    out["slowdown"] = out["float64_px_steps_per_s"] / out["float64x2_px_steps_per_s"]
    out["label_agreement"] = float(
        (grids["float64"].converged == grids["float64x2"].converged).mean()
    )
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
