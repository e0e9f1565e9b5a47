"""The batched trainer: one training run per pixel of a hyperparameter window.

Pixels are independent, so a window is cut into *blocks* of pixels whose state (weights,
optimizer state, streamed measure) is held pixel-major in host memory. Each block is advanced in
*segments* of ``segment`` steps; a segment runs the whole step loop inside one compiled region
(`lax.scan`) over cache-sized *chunks* of ``chunk`` pixels, chunks running side by side on
``threads`` threads. Between segments the block is compacted: retired (diverged) pixels drop
out, and the live ones are packed into fewer chunks (the last padded with copies), so diverging
regions of the image cost only the steps they survive (`trainability.train.measure` proves this
exact).

Each step is the engine's arithmetic's (`trainability.train.arithmetics`: float64, double-double
or perturbation, behind one interface; the first two take `trainability.train.step.train_step`,
the one training step every consumer shares); the pixels' hyperparameters and initial weights
come from `trainability.train.pixels`, the knobs from `trainability.core.engine.Engine`, the
dtype and arithmetic from the precision policy (`trainability.core.precision`). The result does
not depend on block, thread or tile sizes: every pixel's arithmetic is the same wherever it
sits. The chunk size is part of the numerical definition, like the dtype: XLA chooses its matrix
kernels by operand size, so another chunk size changes results in the last bits (and the labels
of a few chaotic boundary pixels). It is recorded in each result's metadata. With
``engine.refine`` (off by default) only the pixels that label-only refinement asks for are
trained, in a few rounds (`trainability.train.refine`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial

import numpy as np

from trainability.core.condition import Condition
from trainability.core.engine import DTYPES, ENGINES, Engine
from trainability.core.grid import NOT_COMPUTED, Grid
from trainability.core.precision import FLOAT64X2, resolve
from trainability.core.window import Window
from trainability.models.mlp import Problem, draw_per_pixel, draws_per_pixel
from trainability.models.networks import LOSSES, init_problem
from trainability.numerics.jax64 import jax, jnp
from trainability.train import arithmetics
from trainability.train.measure import RETIRE_FACTOR, TAIL, Tally, threshold
from trainability.train.pixels import axis_values, window_pixels
from trainability.train.refine import refine

__all__ = ["DTYPES", "ENGINES", "Engine", "axis_values", "default_chunk", "sweep", "sweep_meta"]


_DEFAULT_ENGINE = Engine()


class SweepCancelled(Exception):
    """`sweep` stopped because its ``cancel`` callback asked it to."""


def default_chunk() -> int:
    """Pixels per compiled chunk: cache-sized on a CPU (larger chunks fall out of cache and run
    ~2x slower), large enough to fill an accelerator otherwise."""
    return 128 if jax.default_backend() == "cpu" else 16384


def sweep(
    cond: Condition,
    window: Window,
    engine: Engine = _DEFAULT_ENGINE,
    tile: tuple[int, int] | None = None,
    tiles: tuple[int, int] = (1, 1),
    progress: bool = False,
    cancel: Callable[[], bool] | None = None,
) -> Grid:
    """Train one network per pixel of ``window`` (or of its tile (i, j) of ``tiles``).

    ``cancel`` is asked before every chunk of every segment; once it returns True the sweep
    raises `SweepCancelled` (chunks already running finish first, nothing is returned).
    """
    engine = resolve(engine, cond, window)
    arithmetics.of(engine, cond)  # refuses an engine the condition's path lacks, before work
    x, y, xs, ys, pixel_index = window_pixels(cond, window, tile, tiles, engine.dtype)
    shape = (len(y), len(x))
    runner = _Runner(cond, init_problem(cond), engine, cancel, window)
    with ThreadPoolExecutor(engine.threads) as pool:
        if engine.refine:
            out = _refined(runner, xs, ys, pixel_index, shape, pool, progress)
        else:
            out = _train(runner, xs, ys, pixel_index, pool, progress)
    values, converged, diverged_at, blowup_at, probe, computed = out
    meta = sweep_meta(cond, window, engine, tile, tiles)
    if runner.prepared is not None:  # perturbation: its reference and fallback count
        meta["reference"] = runner.prepared.meta()
        meta["fallback_pixels"] = runner.fallback_pixels
    return Grid(
        values=values.reshape(shape),
        converged=converged.reshape(shape),
        x=x if x.ndim == 1 else x[:, 0],  # float64x2: the leading doubles
        y=y if y.ndim == 1 else y[:, 0],
        diverged_at=diverged_at.reshape(shape),
        probe=None if probe is None else probe.reshape(shape),
        blowup_at=blowup_at.reshape(shape),
        computed=computed,
        meta=meta,
    )


def _train(runner, xs, ys, pixel_index, pool, progress: bool):
    """Train the pixels (xs, ys) of the window (``pixel_index``: their indices in it), block by
    block: (values, converged, diverged_at, blowup_at, probe or None, None), all of shape (n,)."""
    cond, engine = runner.cond, runner.engine
    n = len(xs)
    values = np.empty(n)
    converged = np.empty(n, bool)
    diverged_at = np.empty(n, np.int32)
    blowup_at = np.empty(n, np.int32)
    probe = np.empty(n) if cond.readout == "probe" else None

    bar = _progress_bar(n, cond.steps, progress)
    start = time.perf_counter()
    for a in range(0, n, engine.block):
        b = min(a + engine.block, n)
        out = runner.run_block(xs[a:b], ys[a:b], pixel_index[a:b], pool)
        values[a:b], converged[a:b], diverged_at[a:b], blowup_at[a:b] = out[:4]
        if probe is not None:
            probe[a:b] = out[4]
        if bar is not None:
            bar.update(b - a)
            rate = (b * cond.steps) / (time.perf_counter() - start)
            bar.set_postfix_str(f"{rate:,.0f} px-steps/s")
    if bar is not None:
        bar.close()
    return values, converged, diverged_at, blowup_at, probe, None


def _refined(runner, xs, ys, pixel_index, shape, pool, progress: bool):
    """Label-only refinement (`trainability.train.refine`, stride ``engine.refine``): the pixels it
    asks for are trained by `_train` exactly as in a full sweep; the others get an inferred
    label, value NaN, diverged_at and blowup_at ``NOT_COMPUTED`` and ``computed`` False."""
    n = len(xs)
    values = np.full(n, np.nan)
    diverged_at = np.full(n, NOT_COMPUTED, np.int32)
    blowup_at = np.full(n, NOT_COMPUTED, np.int32)
    probe = np.full(n, np.nan) if runner.cond.readout == "probe" else None

    def compute(rows, cols):
        k = rows * shape[1] + cols
        out = _train(runner, xs[k], ys[k], pixel_index[k], pool, progress)
        values[k], diverged_at[k], blowup_at[k] = out[0], out[2], out[3]
        if probe is not None:
            probe[k] = out[4]
        return out[0], out[1]

    result = refine(compute, shape, runner.engine.refine)
    return values, result.converged.ravel(), diverged_at, blowup_at, probe, result.computed


def sweep_meta(cond, window, engine, tile, tiles) -> dict:
    """Everything needed to recompute a grid: condition, window, tile, engine, versions."""
    import trainability

    return {
        "condition": cond.to_dict(),
        "window": window.to_dict(),
        "tile": None if tile is None else list(tile),
        "tiles": list(tiles),
        "steps": cond.steps,
        "seed": cond.seed,
        "engine": engine.name,
        "dtype": engine.dtype,
        "arithmetic": engine.arithmetic if engine.dtype == FLOAT64X2 else None,
        "chunk": engine.chunk,
        "early_exit": engine.early_exit,
        "network": network_meta(cond),
        **({"refine": engine.refine} if engine.refine else {}),  # absent: every pixel computed
        "versions": {
            "trainability": trainability.__version__,
            "jax": jax.__version__,
            "jaxlib": jax.lib.__version__ if hasattr(jax.lib, "__version__") else jax.__version__,
            "numpy": np.__version__,
        },
    }


def network_meta(cond: Condition) -> dict:
    """What the grid's metadata says of the network: model, data, loss, optimizer, and each
    parameter group with its size and where its learning rate comes from (an axis, or the
    field ``lr``; the mlp's per layer)."""
    sources = cond.lr_sources()
    groups = {name: {"parameters": size} for name, size in cond.group_sizes.items()}
    if cond.model != "mlp":
        for name, source in zip(groups, sources, strict=True):
            groups[name]["lr"] = source
    return {
        "model": cond.model,
        "data": cond.data,
        "loss": LOSSES[cond.objective],
        "converged": f"mean of the last {TAIL} normalised losses < {threshold(cond):g}",
        "optimizer": cond.optimizer,
        "groups": groups,
        "lr_sources": list(sources),
        "path": "generic" if cond.generic else "mlp",
    }


class _Runner:
    """Advances blocks of pixels through training with one compiled segment function, in the
    arithmetic the engine names (`trainability.train.arithmetics`)."""

    def __init__(self, cond: Condition, problem: Problem, engine: Engine, cancel=None, window=None):
        self.cond = cond
        self.problem = problem
        self.engine = engine
        self.cancel = cancel
        self.arithmetic = arithmetics.of(engine, cond)
        dtype = np.dtype(np.float32 if engine.dtype == "float32" else np.float64)
        self.dtype = dtype
        self.weights0 = tuple(w.astype(dtype) for w in problem.weights)
        self.data = (
            jnp.asarray(problem.X, dtype),
            jnp.asarray(problem.Y, dtype),
            None if problem.minibatches is None else jnp.asarray(problem.minibatches),
            None if problem.x_probe is None else jnp.asarray(problem.x_probe, dtype),
        )
        self.fallback_pixels = 0
        self.prepared = self.arithmetic.prepare(cond, window, self.data, self.weights0)
        if self.prepared is not None:  # e.g. perturbation's reference run
            self.data = (*self.data[:3], self.prepared.segment_data())
        self.segment_fn = _compiled_segment(
            cond, engine.name, engine.segment, _retire_factor(engine, cond), self.arithmetic.name
        )

    def run_block(self, xs, ys, pixel_index, pool):
        cond, engine = self.cond, self.engine
        n = len(xs)
        start = self.arithmetic.start(
            cond, xs, ys, pixel_index, self.weights0, self.dtype, self.prepared
        )
        weights, opt_state, hp = start.weights, start.opt_state, start.hp
        tally = [np.array(a) for a in start.tally]
        probe = np.full(n, np.nan, self.dtype)
        own_data = None  # per-pixel data (seed_mode per_pixel): each pixel's X and Y
        if draws_per_pixel(cond, "data"):
            drawn = draw_per_pixel(cond, pixel_index, "data")
            own_data = [np.asarray(a, self.dtype) for a in drawn]

        live = np.arange(n)
        for t0 in range(0, cond.steps, engine.segment):
            if live.size == 0:
                break
            chunks = [live[i : i + engine.chunk] for i in range(0, live.size, engine.chunk)]

            def advance(idx, t0=t0):
                if self.cancel is not None and self.cancel():
                    raise SweepCancelled("the sweep was cancelled")
                padded = np.resize(idx, engine.chunk)  # pad the last chunk with copies
                state = (
                    tuple(w[padded] for w in weights),
                    tuple(s[padded] for s in opt_state),
                    Tally(*(a[padded] for a in tally)),
                    probe[padded],
                )
                chunk_hp = {k: v[padded] for k, v in hp.items()}
                data = self.data
                if own_data is not None:
                    data = (own_data[0][padded], own_data[1][padded], *self.data[2:])
                out = self.segment_fn(state, chunk_hp, t0, data)
                return idx, jax.device_get(out)

            for idx, (w_new, s_new, tally_new, probe_new) in pool.map(advance, chunks):
                k = idx.size
                for w, w_n in zip(weights, w_new, strict=True):
                    w[idx] = w_n[:k]
                for a, a_n in zip(opt_state, s_new, strict=True):
                    a[idx] = a_n[:k]
                for a, a_n in zip(tally, tally_new, strict=True):
                    a[idx] = a_n[:k]
                probe[idx] = probe_new[:k]
            live = live[tally[4][live]]

        values, converged = self.arithmetic.finish(Tally(*tally), cond.steps, threshold(cond))
        out = (values, converged, tally[5], tally[6], probe.astype(np.float64))
        self._fall_back(out, self.arithmetic.flagged(opt_state), xs, ys, pixel_index, pool)
        return out

    def _fall_back(self, out, flagged, xs, ys, pixel_index, pool) -> None:
        """Compute the pixels the arithmetic flagged again with its fallback engine, into
        ``out`` (perturbation: double-double on chunks of a fixed size, so tiles stay the
        whole)."""
        if flagged.size == 0:
            return
        engine = self.arithmetic.fallback(self.engine)
        runner = _Runner(self.cond, self.problem, engine, self.cancel)
        again = runner.run_block(xs[flagged], ys[flagged], pixel_index[flagged], pool)
        for array, new in zip(out, again, strict=True):
            array[flagged] = new
        self.fallback_pixels += int(flagged.size)


@lru_cache(maxsize=16)
def _compiled_segment(
    cond: Condition, engine_name: str, length: int, retire_factor, arithmetic: str
):
    """The jitted segment function of a condition, kept for later sweeps of the same condition
    (tiles, keyframes, tests) so that each compiles once per process. A cache of pure
    functions: what it returns depends on the arguments only."""
    return jax.jit(
        partial(
            _segment,
            cond=cond,
            engine_name=engine_name,
            length=length,
            retire_factor=retire_factor,
            arithmetic=arithmetic,
        )
    )


def forget_compiled() -> None:
    """Drop every compiled function of this process (ours and JAX's), so that the next sweep
    compiles afresh as a new job would: what the calibration and its test time."""
    _compiled_segment.cache_clear()
    jax.clear_caches()


def _retire_factor(engine: Engine, cond: Condition) -> float | None:
    """Early-exit rule (`trainability.train.measure`): none, non-finite losses only (the probe
    readout needs the final weights of every finite run), or the default threshold."""
    if not engine.early_exit:
        return None
    return RETIRE_FACTOR if cond.readout == "loss" else math.inf


def _segment(state, hp, t0, data, *, cond, engine_name, length, retire_factor, arithmetic):
    """``length`` training steps of one chunk, from step t0, inside one `lax.scan`, each the
    named arithmetic's step (`trainability.train.arithmetics`)."""
    chosen = arithmetics.ARITHMETICS[arithmetic]

    def step(carry, s):
        carry = chosen.step(
            carry, t0 + s, hp, data, cond=cond, engine_name=engine_name,
            retire_factor=retire_factor,
        )  # fmt: skip
        return carry, None

    carry, _ = jax.lax.scan(step, chosen.enter(state), jnp.arange(length))
    return chosen.leave(carry)


def _progress_bar(n_pixels: int, steps: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=n_pixels, unit="px", delay=2.0, desc=f"sweep ({steps} steps)")
