"""Loss trajectories of a real network over a learning-rate window: the measurements behind the
default windows and the classification convergence rule (docs/real_networks.md).

    python benchmarks/real_windows.py --model cnn --activation relu --resolution 16 --steps 200 \
        [--window -2 4 -2 4] [--x-axis lr_conv2 --y-axis lr_dense] [--optimizer adam] [--loss mse]

Every pixel's full-batch loss ℓ_t, t = 0 … T−1, is recorded by the generic path's own start and
update (`trainability.train.arithmetics.generic`: the sweep's step, without its tally), and the
script prints, over the window:

- the paper's rule: the share of pixels whose mean of the last 20 v_t = ℓ_t/ℓ_0 is below 1,
  and the share below ½ (the cross-entropy's rule, `trainability.train.measure.threshold`);
- the stability label: the share that blew up (ℓ_t non-finite or > 10⁶ ℓ_0 at some step);
- quantiles of the final mean loss ℓ̄ (mean of the last 20 ℓ_t, non-finite as +∞) and of v̄, and
  the shares of pixels with ℓ̄ below fractions of ℓ_0 and of log 10 (the cross-entropy of a
  network that has learnt nothing), to choose a rule from;
- the converged share (the condition's rule) along each row and column of the window, so one
  sees whether the
  window holds both phases and where the boundary crosses it.

``--out`` keeps ℓ̄, v̄, ℓ_0 and the blow-up step per pixel in an .npz for later reading.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from trainability.core.condition import Condition
from trainability.core.window import Window, default_bounds
from trainability.models.networks import init_problem
from trainability.numerics.jax64 import jax, jnp
from trainability.train.arithmetics import generic
from trainability.train.measure import BLOWUP_FACTOR, CROSS_ENTROPY_THRESHOLD, TAIL
from trainability.train.pixels import window_pixels


def trajectories(cond: Condition, window: Window, chunk: int = 128) -> np.ndarray:
    """ℓ_t of every pixel of ``window`` (pixels in row-major order × steps)."""
    problem = init_problem(cond)
    _, _, xs, ys, pixel_index = window_pixels(cond, window)
    _, value_and_grad = generic._gradient(cond)

    @jax.jit
    def run(weights, opt_state, hp):
        def body(carry, t):
            w, s = carry
            ell, g = value_and_grad(w, problem.X, problem.Y)
            w, s = jax.vmap(lambda *a: generic._update(*a, t=t, cond=cond))(w, g, s, hp)
            return (w, s), ell

        return jax.lax.scan(body, (weights, opt_state), jnp.arange(cond.steps))[1].T

    out = []
    for lo in range(0, len(xs), chunk):
        sl = slice(lo, lo + chunk)
        s = generic.start(cond, xs[sl], ys[sl], pixel_index[sl], problem.weights, np.float64)
        hp = {k: jnp.asarray(v) for k, v in s.hp.items()}
        w = tuple(jnp.asarray(a) for a in s.weights)
        o = tuple(jnp.asarray(a) for a in s.opt_state)
        out.append(np.asarray(run(w, o, hp)))
    return np.concatenate(out)


def summary(cond: Condition, window: Window, losses: np.ndarray) -> dict:
    ell0 = losses[:, 0]
    finite = np.where(np.isfinite(losses), losses, np.inf)
    tail = finite[:, -TAIL:].mean(axis=1)
    v = np.minimum(np.where(np.isfinite(losses), losses, 1e6) / ell0[:, None], 1e6)
    vbar = v[:, -TAIL:].mean(axis=1)
    blown = (~np.isfinite(losses) | (losses > BLOWUP_FACTOR * ell0[:, None])).any(axis=1)
    shape = (window.ny, window.nx)
    converged = (vbar < 1).reshape(shape)
    q = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1]
    print(f"  l0 median {np.median(ell0):.3g}; log 10 = {np.log(10):.3f}")
    half = (vbar < CROSS_ENTROPY_THRESHOLD).reshape(shape)
    print(
        f"  paper rule (mean last-20 v < 1): converged {converged.mean():.3f}; rule v < 1/2: "
        f"{half.mean():.3f}; blew up {blown.mean():.3f}"
    )
    print("  quantiles of final mean loss:", " ".join(f"{x:.3g}" for x in np.quantile(tail, q)))
    print("  quantiles of final mean v:   ", " ".join(f"{x:.3g}" for x in np.quantile(vbar, q)))
    for frac in (0.5, 0.25, 0.1, 0.01):
        print(
            f"  share with final loss < {frac} l0: {(tail < frac * ell0).mean():.3f};"
            f" < {frac} log10: {(tail < frac * np.log(10)).mean():.3f}"
        )
    rule = half if cond.objective == "cross_entropy" else converged
    print("  converged share per column (x):", " ".join(f"{c:.2f}" for c in rule.mean(0)))
    print("  converged share per row (y):   ", " ".join(f"{c:.2f}" for c in rule.mean(1)))
    return {
        "tail": tail.reshape(shape),
        "vbar": vbar.reshape(shape),
        "loss0": ell0,
        "blown": blown.reshape(shape),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="cnn")
    p.add_argument("--data", default="digits")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--loss", default=None)
    p.add_argument("--optimizer", default="gd")
    p.add_argument("--x-axis", default=None)
    p.add_argument("--y-axis", default=None)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--dataset-size", type=int, default=None)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--resolution", type=int, default=16)
    p.add_argument("--window", type=float, nargs=4, default=None)
    p.add_argument("--out", default=None)
    a = p.parse_args()
    custom = {"phase_space": "custom", "x_axis": a.x_axis, "y_axis": a.y_axis} if a.x_axis else {}
    cond = Condition(
        model=a.model,
        data=a.data,
        activation=a.activation,
        loss=a.loss,
        optimizer=a.optimizer,
        steps=a.steps,
        lr=a.lr,
        dataset_size=a.dataset_size,
        **custom,
    )
    window = Window(*(a.window or default_bounds(cond)), nx=a.resolution, ny=a.resolution)
    print(
        f"{a.model} {a.activation} {cond.objective} {a.optimizer} axes {cond.axis_names} "
        f"window {window.bounds} {a.resolution}^2 x {a.steps} steps; load {os.getloadavg()}"
    )
    start = time.perf_counter()
    losses = trajectories(cond, window)
    print(f"  {time.perf_counter() - start:.1f} s")
    out = summary(cond, window, losses)
    if a.out:
        np.savez(a.out, **out)


if __name__ == "__main__":
    main()
