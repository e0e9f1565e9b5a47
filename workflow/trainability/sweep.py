"""The batched trainer: one gradient-descent run per pixel of a hyperparameter window.

Pixels are independent, so a window is cut into *blocks* of pixels whose state (weights,
streamed measure) is held pixel-major in host memory. Each block is advanced in *segments* of
``segment`` steps; a segment runs the whole step loop inside one compiled region (`lax.scan`)
over cache-sized *chunks* of ``chunk`` pixels, chunks running side by side on ``threads``
threads. Between segments the block is compacted: retired (diverged) pixels drop out, and the
live ones are packed into fewer chunks (the last padded with copies), so diverging regions of
the image cost only the steps they survive (`trainability.measure` proves this exact).

Per pixel and step t (papers.md §1.1), with W0 ← W0 + c first in ``offset_vs_lr`` /
``every_step`` mode:  ℓ_t = ℓ(W; X, Y) on the full batch, g = ∇ℓ on the full batch or on
minibatch t, W_i ← W_i − η_i·g_i. Engines: ``fused`` (hand-written gradient, fast) and
``autodiff`` (`jax.grad` of the reference loss, for validation). The result does not depend on
block, thread or tile sizes: every pixel's arithmetic is the same wherever it sits. The chunk
size is part of the numerical definition, like the dtype: XLA chooses its matrix kernels by
operand size, so another chunk size changes results in the last bits (and the labels of a few
chaotic boundary pixels). It is recorded in each result's metadata.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from trainability.condition import Condition
from trainability.grid import Window
from trainability.measure import RETIRE_FACTOR, Tally, tally_start, tally_step, tally_values
from trainability.model import (
    Problem,
    forward,
    fused_loss,
    fused_loss_and_grads,
    init_problem,
    perturb_weights,
    reference_loss,
)

ENGINES = ("fused", "autodiff")
DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Engine:
    """How a sweep is computed (never what): engine, precision and work decomposition."""

    name: str = "fused"
    dtype: str = "float64"
    chunk: int = 128
    segment: int = 25
    block: int = 8192
    threads: int = 1
    early_exit: bool = True

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {self.name!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; got {self.dtype!r}")
        for name in ("chunk", "segment", "block", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def default_chunk() -> int:
    """Pixels per compiled chunk: cache-sized on a CPU (larger chunks fall out of cache and run
    ~2x slower), large enough to fill an accelerator otherwise."""
    return 128 if jax.default_backend() == "cpu" else 16384


@dataclass(frozen=True)
class Grid:
    """A computed window (or tile of one): the npz result contract of design.md."""

    values: np.ndarray  # (ny, nx) float64, negative = converged
    converged: np.ndarray  # (ny, nx) bool
    x: np.ndarray  # (nx,) hyperparameter values
    y: np.ndarray  # (ny,)
    diverged_at: np.ndarray  # (ny, nx) int, step of early exit, −1 if never retired
    probe: np.ndarray | None = None  # (ny, nx) network output at the probe input (readout probe)
    meta: dict = field(default_factory=dict)


def sweep(
    cond: Condition,
    window: Window,
    engine: Engine = Engine(),
    tile: tuple[int, int] | None = None,
    tiles: tuple[int, int] = (1, 1),
    progress: bool = False,
) -> Grid:
    """Train one network per pixel of ``window`` (or of its tile (i, j) of ``tiles``)."""
    x_all, y_all = window.axes()
    rows, cols = window.tile(*tile, tiles) if tile is not None else (slice(None), slice(None))
    x, y = x_all[cols], y_all[rows]
    row_index = np.arange(window.ny)[rows]
    col_index = np.arange(window.nx)[cols]
    pixel_index = (row_index[:, None] * window.nx + col_index[None, :]).ravel()
    xs = np.broadcast_to(x[None, :], (len(y), len(x))).ravel()
    ys = np.broadcast_to(y[:, None], (len(y), len(x))).ravel()

    problem = init_problem(cond)
    runner = _Runner(cond, problem, engine)
    n = xs.size
    values = np.empty(n)
    converged = np.empty(n, bool)
    diverged_at = np.empty(n, np.int32)
    probe = np.empty(n) if cond.readout == "probe" else None

    bar = _progress_bar(n, cond.steps, progress)
    start = time.perf_counter()
    with ThreadPoolExecutor(engine.threads) as pool:
        for a in range(0, n, engine.block):
            b = min(a + engine.block, n)
            out = runner.run_block(xs[a:b], ys[a:b], pixel_index[a:b], pool)
            values[a:b], converged[a:b], diverged_at[a:b] = out[:3]
            if probe is not None:
                probe[a:b] = out[3]
            if bar is not None:
                bar.update(b - a)
                rate = (b * cond.steps) / (time.perf_counter() - start)
                bar.set_postfix_str(f"{rate:,.0f} px-steps/s")
    if bar is not None:
        bar.close()

    shape = (len(y), len(x))
    return Grid(
        values=values.reshape(shape),
        converged=converged.reshape(shape),
        x=x,
        y=y,
        diverged_at=diverged_at.reshape(shape),
        probe=None if probe is None else probe.reshape(shape),
        meta=sweep_meta(cond, window, engine, tile, tiles),
    )


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
        "chunk": engine.chunk,
        "early_exit": engine.early_exit,
        "versions": {
            "trainability": trainability.__version__,
            "jax": jax.__version__,
            "jaxlib": jax.lib.__version__ if hasattr(jax.lib, "__version__") else jax.__version__,
            "numpy": np.__version__,
        },
    }


class _Runner:
    """Advances blocks of pixels through training with one compiled segment function."""

    def __init__(self, cond: Condition, problem: Problem, engine: Engine):
        self.cond = cond
        self.engine = engine
        dtype = np.dtype(engine.dtype)
        self.dtype = dtype
        self.weights0 = tuple(w.astype(dtype) for w in problem.weights)
        self.data = (
            jnp.asarray(problem.X, dtype),
            jnp.asarray(problem.Y, dtype),
            None if problem.minibatches is None else jnp.asarray(problem.minibatches),
            jnp.asarray(problem.x_probe, dtype),
        )
        self.segment_fn = jax.jit(
            partial(
                _segment,
                cond=cond,
                engine_name=engine.name,
                length=engine.segment,
                retire_factor=_retire_factor(engine, cond),
            )
        )

    def run_block(self, xs, ys, pixel_index, pool):
        cond, engine = self.cond, self.engine
        n = xs.size
        lrs, offsets = _hyperparameters(cond, xs, ys, self.dtype)
        if cond.epsilon > 0:
            weights = [
                np.array(w, self.dtype)
                for w in perturb_weights(self.weights0, cond.epsilon, cond.seed, pixel_index)
            ]
        else:
            weights = [np.repeat(w[None], n, axis=0) for w in self.weights0]
        if cond.phase_space == "offset_vs_lr" and cond.offset_mode == "init":
            weights[0] = weights[0] + offsets[:, None, None]
        tally = [np.array(a) for a in tally_start(n, self.dtype)]
        probe = np.full(n, np.nan, self.dtype)

        live = np.arange(n)
        for t0 in range(0, cond.steps, engine.segment):
            if live.size == 0:
                break
            chunks = [live[i : i + engine.chunk] for i in range(0, live.size, engine.chunk)]

            def advance(idx, t0=t0):
                padded = np.resize(idx, engine.chunk)  # pad the last chunk with copies
                state = (
                    tuple(w[padded] for w in weights),
                    Tally(*(a[padded] for a in tally)),
                    probe[padded],
                )
                out = self.segment_fn(state, lrs[padded], offsets[padded], t0, self.data)
                return idx, jax.device_get(out)

            for idx, (w_new, tally_new, probe_new) in pool.map(advance, chunks):
                k = idx.size
                for w, w_n in zip(weights, w_new, strict=True):
                    w[idx] = w_n[:k]
                for a, a_n in zip(tally, tally_new, strict=True):
                    a[idx] = a_n[:k]
                probe[idx] = probe_new[:k]
            live = live[tally[4][live]]

        values, converged = tally_values(Tally(*tally), cond.steps)
        return values, converged, tally[5], probe.astype(np.float64)


def _retire_factor(engine: Engine, cond: Condition) -> float | None:
    """Early-exit rule (`trainability.measure`): none, non-finite losses only (the probe readout
    needs the final weights of every finite run), or the default threshold."""
    if not engine.early_exit:
        return None
    return RETIRE_FACTOR if cond.readout == "loss" else math.inf


def _hyperparameters(cond: Condition, xs, ys, dtype):
    """Per-pixel learning rate of each layer (P × depth) and input-weight offset (P,)."""
    if cond.phase_space == "lr_vs_lr":
        lrs = np.stack([xs if i % 2 == 0 else ys for i in range(cond.depth)], axis=1)
        offsets = np.zeros_like(xs)
    else:
        lrs = np.repeat(ys[:, None], cond.depth, axis=1)
        offsets = xs
    return lrs.astype(dtype), offsets.astype(dtype)


def _segment(state, lrs, offsets, t0, data, *, cond, engine_name, length, retire_factor):
    """``length`` training steps of one chunk, from step t0, inside one `lax.scan`."""
    X, Y, minibatches, x_probe = data
    every_step_offset = cond.phase_space == "offset_vs_lr" and cond.offset_mode == "every_step"

    if engine_name == "fused":
        loss_fn = partial(fused_loss, activation=cond.activation)
        grad_fn = partial(fused_loss_and_grads, activation=cond.activation)
    else:
        one = jax.value_and_grad(partial(reference_loss, activation=cond.activation))
        grad_fn = jax.vmap(one, in_axes=(0, None, None))
        loss_fn = jax.vmap(
            partial(reference_loss, activation=cond.activation), in_axes=(0, None, None)
        )

    def step(carry, s):
        weights, tally, probe = carry
        t = t0 + s
        if every_step_offset:
            weights = (weights[0] + offsets[:, None, None],) + tuple(weights[1:])
        if minibatches is None:
            loss, grads = grad_fn(weights, X, Y)
        else:
            idx = minibatches[jnp.minimum(t, cond.steps - 1)]
            loss = loss_fn(weights, X, Y)
            grads = grad_fn(weights, X[idx], Y[idx])[1]
        if cond.readout == "probe":
            out = jax.vmap(forward, in_axes=(0, None, None))(weights, x_probe, cond.activation)
            out = jnp.where(jnp.isfinite(out[:, 0, 0]), out[:, 0, 0], 1e6)
            probe = jnp.where(t == cond.steps - 1, out, probe)
        tally = tally_step(tally, loss, t, cond.steps, retire_factor)
        weights = tuple(
            w - lrs[:, i, None, None] * g
            for i, (w, g) in enumerate(zip(weights, grads, strict=True))
        )
        return (weights, tally, probe), None

    carry, _ = jax.lax.scan(step, state, jnp.arange(length))
    return carry


def _progress_bar(n_pixels: int, steps: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=n_pixels, unit="px", delay=2.0, desc=f"sweep ({steps} steps)")
