"""Label-only refinement against the full sweep: wall time, computed share and label agreement,
measured side by side in one run.

Each condition's panel window of ``config/config.yaml`` (the paper's published windows) is swept
in full and with ``Engine(refine=S)`` at the same resolution, steps and threads, the full sweep
first; both are compiled beforehand on a 2×2 grid, so the timings hold training only.

    python benchmarks/refine.py [--conditions identity_fullbatch tanh_fullbatch]
        [--resolution 64] [--steps N] [--stride 4] [--threads N]

Prints per condition the share of pixels the refined sweep computed, the wall-time and
CPU-time ratios full / refined (the saving), the label agreement and the mislabelled pixels,
with the load average. Compare the ratios: absolute times drift on shared machines, and on a
loaded one the CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

import yaml

from trainability.core.engine import available_cores
from trainability.core.window import Window
from trainability.study.config import load_study
from trainability.train.sweep import Engine, sweep

ROOT = Path(__file__).resolve().parents[1]


def timed(cond, window, engine):
    """The grid, its wall time and its CPU time (this process, every thread)."""
    wall, cpu = time.perf_counter(), time.process_time()
    grid = sweep(cond, window, engine)
    return grid, time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--conditions", nargs="+", default=["identity_fullbatch", "tanh_fullbatch"])
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--steps", type=int, default=None, help="default: the condition's")
    p.add_argument("--stride", type=int, default=4)
    p.add_argument("--threads", type=int, default=available_cores())
    args = p.parse_args(argv)
    raw = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    _, study = load_study(raw, ROOT / "workflow" / "schemas" / "config.schema.yaml")
    rows = []
    for name in args.conditions:
        sc = study[name]
        cond = sc.condition if args.steps is None else replace(sc.condition, steps=args.steps)
        bounds = sc.panel.bounds
        window = Window(*bounds, nx=args.resolution, ny=args.resolution)
        full_engine = Engine(threads=args.threads)
        fine_engine = Engine(threads=args.threads, refine=args.stride)
        sweep(cond, Window(*bounds, nx=2, ny=2), full_engine)  # compile
        full, t_full, cpu_full = timed(cond, window, full_engine)
        fine, t_fine, cpu_fine = timed(cond, window, fine_engine)
        wrong = int((fine.converged != full.converged).sum())
        row = {
            "condition": name,
            "resolution": args.resolution,
            "steps": cond.steps,
            "stride": args.stride,
            "computed": round(float(fine.computed.mean()), 4),
            "full_s": round(t_full, 2),
            "refined_s": round(t_fine, 2),
            "saving": round(t_full / t_fine, 2),
            "full_cpu_s": round(cpu_full, 2),
            "refined_cpu_s": round(cpu_fine, 2),
            "cpu_saving": round(cpu_full / cpu_fine, 2),
            "agreement": float(1 - wrong / full.converged.size),
            "wrong": wrong,
            "load": os.getloadavg(),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    main()
