"""Throughput of the sweep's generic path (the cnn and the transformer on digits) beside a plain
``jax.vmap`` optax loop over all pixels, in one run.

    python benchmarks/real_networks.py [--resolution 12] [--steps 100] [--threads 1]

For each network, on its default learning-rate window (`trainability.core.window.LR_WINDOWS`)
at the condition's defaults (tanh, cross-entropy, gradient descent; ``--activation`` and
``--loss`` change them):

- **sweep**: `trainability.train.sweep.sweep` as the command line runs it (chunks of the
  default size, segments, early exit of retired pixels): pixel-steps per second of the window
  (resolution² × steps over the wall time), and the share of those pixel-steps it actually
  trained (the rest were retired pixels' steps, skipped exactly);
- **plain vmap**: every pixel's network trained by one ``jax.jit(jax.vmap(...))`` of a
  ``lax.scan`` over all steps (optax's ``sgd`` per group through ``multi_transform``; the
  network's one-pixel loss, ``jax.value_and_grad``; no chunks, no early exit), the loop a
  reader would write first.

Both are timed after a compilation outside the timed region, best of ``--repeats``. The load
average is printed with the numbers: on a shared machine the absolute rates drift, the ratio
measured side by side is the steadier figure.

    python benchmarks/real_networks.py --plan [--resolution 32] [--steps 50] [--dataset-size 40]

checks the cost plan instead (`trainability.study.plan`, docs/cost.md): for the mlp, the cnn
(relu) and the transformer on digits, one overview grid swept as a tile job sweeps it (one
thread, after a compilation), its CPU time (the process's, every thread) against the plan's
training time of the same grid from this machine's calibration; the ratio should lie within a
factor 2 of 1. The plan's `GENERIC_FACTORS` were set from this measurement.
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import trainability.numerics.jax64  # noqa: F401  (float64 before any array, as the sweep)
from trainability.core.condition import MODEL_GROUPS, Condition
from trainability.core.window import LR_WINDOWS, Window
from trainability.models.networks import init_problem, loss, network
from trainability.train.pixels import pixel_table
from trainability.train.sweep import Engine, default_chunk, sweep


def plain_vmap(cond: Condition, window: Window):
    """A function training every pixel of ``window`` at once (module docstring), returning
    the losses (pixels × steps)."""
    net, problem = network(cond), init_problem(cond)
    x, y = window.axes()
    xs, ys = np.meshgrid(x, y)
    rates = pixel_table(cond, xs.ravel(), ys.ravel())["lr"]  # (P, groups)
    one_loss = loss(cond)
    X, Y = jnp.asarray(problem.X), jnp.asarray(problem.Y)
    groups = list(range(len(MODEL_GROUPS[cond.model])))

    def train(rate):
        tx = optax.multi_transform({g: optax.sgd(rate[g]) for g in groups}, list(net.units))
        params = [jnp.asarray(a) for a in net.leaves]

        def body(carry, _):
            p, s = carry
            ell, g = jax.value_and_grad(one_loss)(p, X, Y)
            u, s = tx.update(g, s, p)
            return (optax.apply_updates(p, u), s), ell

        return jax.lax.scan(body, (params, tx.init(params)), None, length=cond.steps)[1]

    run = jax.jit(jax.vmap(train))
    return lambda: jax.block_until_ready(run(jnp.asarray(rates)))


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def check_plan(resolution: int, steps: int, dataset_size: int | None) -> None:
    """The plan's training time of one overview grid against its measured CPU time (module
    docstring)."""
    from pathlib import Path

    from trainability.study.calibration import load_calibration
    from trainability.study.config import load_study
    from trainability.study.plan import GENERIC_FACTORS, estimate

    schema = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
    print(f"plan against measurement: {resolution}^2 x {steps} steps, one thread, CPU seconds")
    print("| network | N | N x MACs | factor | plan s | measured s | measured/plan | load avg |")
    print("|---|---|---|---|---|---|---|---|")
    for model, activation in (("mlp", "tanh"), ("cnn", "relu"), ("transformer", "tanh")):
        entry = {"model": model, "data": "digits", "activation": activation, "steps": steps,
                 "resolution": resolution, "dataset_size": dataset_size}  # fmt: skip
        config, study = load_study({"conditions": {"x": entry}}, schema)
        calibration, source = load_calibration(config["engine"])
        plan = estimate(config, study, calibration, source)
        (work,) = [w for w in plan.works if w.kind == "overview"]
        cond, window = study["x"].condition, study["x"].window
        engine = Engine(chunk=default_chunk(), threads=1)
        sweep(cond, Window.square(window.bounds, 2), engine)  # compile outside the timing
        start = time.process_time()
        sweep(cond, window, engine)
        measured = time.process_time() - start
        predicted = plan.train_seconds(work)
        print(
            f"| {model} | {cond.n_data} | {work.size:,} | {GENERIC_FACTORS[model]} | "
            f"{predicted:.1f} | {measured:.1f} | {measured / predicted:.2f} | "
            f"{os.getloadavg()[0]:.1f} |"
        )
    print(f"calibration: {source}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=12)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--activation", default="tanh")
    parser.add_argument("--loss", default=None)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--plan", action="store_true", help="check the cost plan instead")
    parser.add_argument("--dataset-size", type=int, default=None, help="with --plan: N")
    args = parser.parse_args()
    if args.plan:
        check_plan(args.resolution, args.steps, args.dataset_size)
        return
    n = args.resolution
    pixel_steps = n * n * args.steps
    print(
        f"grid {n}x{n}, {args.steps} steps, {args.activation}, loss {args.loss or 'default'}, "
        f"float64, chunk {default_chunk()}, threads {args.threads}, jax {jax.__version__} on "
        f"{jax.devices()[0].platform}, {os.cpu_count()} cpus"
    )
    print("| network | N | params | sweep px-steps/s | share trained | plain vmap px-steps/s |"
          " sweep/vmap | load avg |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for model in ("cnn", "transformer"):
        cond = Condition(
            model=model, data="digits", steps=args.steps, activation=args.activation,
            loss=args.loss,
        )  # fmt: skip
        window = Window.square(LR_WINDOWS[model], n)
        engine = Engine(chunk=default_chunk(), threads=args.threads)
        sweep(cond, Window.square(LR_WINDOWS[model], 2), engine)  # compile
        grid = None

        def run_sweep(cond=cond, window=window, engine=engine):
            nonlocal grid
            grid = sweep(cond, window, engine)

        t_sweep = best(run_sweep, args.repeats)
        trained = np.where(grid.diverged_at >= 0, grid.diverged_at + 1, args.steps).sum()
        plain = plain_vmap(cond, window)
        plain()  # compile
        t_plain = best(plain, args.repeats)
        load = os.getloadavg()[0]
        print(
            f"| {model} | {cond.n_data} | {cond.n_params} | {pixel_steps / t_sweep:,.0f} | "
            f"{trained / pixel_steps:.2f} | {pixel_steps / t_plain:,.0f} | "
            f"{t_plain / t_sweep:.2f} | {load:.1f} |"
        )


if __name__ == "__main__":
    main()
