"""Saving and label agreement of label-only refinement (`trainability.train.refine`), measured on
grids
already computed in full.

The lattice is a subset of a grid's pixels, so what the rule computes and infers on a grid is a
function of the full grid alone: this script runs the rule against the grid itself (`oracle`) and
compares the inferred labels with the true ones. Each grid is also measured at 1/2 and 1/4 of
its resolution (every 2nd or 4th pixel: a grid of the same window, coarser), to see how the
computed share scales with resolution; the boundary part of it falls like n^(D−2).

    python benchmarks/refine_rule.py GRID.npz [GRID.npz ...] [--strides 4 8 16] [--guard 1]
        [--roughness 0.03] [--extrapolate 512]

Prints one Markdown row per grid, resolution and stride: computed share, saving (pixels /
computed), pixel-step saving (the steps the full sweep trained / those of the computed pixels:
early exit makes far-diverged pixels cheap, so skipping them saves less than their number),
label agreement, mislabelled pixels, compute rounds; then, per grid and stride, the
power law through the two finest measured resolutions whose share is below 0.95 and its value
at ``--extrapolate`` (an extrapolation, marked as such).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from trainability.core.grid import load_grid
from trainability.train.refine import GUARD, ROUGHNESS, lattice, oracle, refine

SATURATED = 0.95  # a share this close to 1 no longer follows the power law (every cell computed)


def measure(values, converged, cost, stride: int, guard: int, roughness: float) -> dict:
    """The rule on one full grid; ``cost``: each pixel's trained steps (early exit)."""
    r = refine(oracle(values, converged), converged.shape, stride, guard, roughness)
    wrong = int((r.converged != converged).sum())
    lattice_share = (
        len(lattice(converged.shape[0], stride))
        * len(lattice(converged.shape[1], stride))
        / converged.size
    )
    return {
        "n": converged.shape[0],
        "computed": r.fraction,
        "lattice": lattice_share,
        "saving": 1 / r.fraction,
        "step_saving": float(cost.sum() / cost[r.computed].sum()),
        "agreement": 1 - wrong / converged.size,
        "wrong": wrong,
        "passes": r.passes,
    }


def power_law(ns, shares, target: int) -> tuple[float, float]:
    """Exponent k of share ∝ n^k through the points (least squares in log–log) and the share
    at ``target``; k = D − 2 when the share counts boundary cells."""
    k, c = np.polyfit(np.log(ns), np.log(shares), 1)
    return float(k), float(math.exp(c) * target**k)


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("grids", nargs="+", type=Path)
    p.add_argument("--strides", type=int, nargs="+", default=[4, 8, 16])
    p.add_argument("--guard", type=int, default=GUARD)
    p.add_argument("--roughness", type=float, default=ROUGHNESS, help="inf: labels only")
    p.add_argument("--subsample", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--extrapolate", type=int, default=512)
    args = p.parse_args(argv)
    rows = []
    print(
        "| grid | n | stride | computed | saving | pixel-step saving | agreement | wrong | rounds |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for path in args.grids:
        grid = load_grid(path)
        name = f"{path.parent.name}/{path.stem}"
        for sub in args.subsample:
            v, c = grid.values[::sub, ::sub], grid.converged[::sub, ::sub]
            retired = grid.diverged_at[::sub, ::sub]
            cost = np.where(retired >= 0, retired + 1, grid.meta["steps"])
            for stride in args.strides:
                row = {
                    "grid": name,
                    "stride": stride,
                    **measure(v, c, cost, stride, args.guard, args.roughness),
                }
                rows.append(row)
                print(
                    f"| {name} | {row['n']} | {stride} | {row['computed']:.3f} | "
                    f"{row['saving']:.2f}x | {row['step_saving']:.2f}x | "
                    f"{100 * row['agreement']:.3f} % | {row['wrong']} | "
                    f"{row['passes']} |"
                )
    print(f"\nExtrapolation to {args.extrapolate}² (power law of the boundary share, fitted):")
    for name in dict.fromkeys(r["grid"] for r in rows):
        for stride in args.strides:
            pts = [r for r in rows if r["grid"] == name and r["stride"] == stride]
            pts = [r for r in pts if r["lattice"] < r["computed"] < SATURATED]
            pts = sorted(pts, key=lambda r: -r["n"])[:2]  # the two finest resolutions
            if len(pts) < 2:
                continue
            ns = [r["n"] for r in pts]
            lattice_share = len(lattice(args.extrapolate, stride)) ** 2 / args.extrapolate**2
            k, share = power_law(ns, [r["computed"] - r["lattice"] for r in pts], args.extrapolate)
            total = min(1.0, share + lattice_share)
            steps = [1 / r["step_saving"] - r["lattice"] for r in pts]
            k_steps, step_share = power_law(ns, steps, args.extrapolate)
            step_total = min(1.0, step_share + lattice_share)
            print(
                f"  {name} stride {stride}: boundary share ∝ n^{k:+.2f} (D ≈ {2 + k:.2f}, from "
                f"n = {', '.join(map(str, ns))}); extrapolated computed {total:.3f}, "
                f"saving {1 / total:.2f}x; pixel-steps ∝ n^{k_steps:+.2f}, saving "
                f"{1 / step_total:.2f}x"
            )
    return rows


if __name__ == "__main__":
    main()
